//! A reconciliation run against the store, and the resolution of its breaks. The engine
//! (reading, matching) stays pure; this module gathers its inputs from the ledger and stores
//! what it found, each in one write transaction with its audit event.
//!
//! Decisions (see also the README's Reconciliation section):
//! - Internal movements are the settlement account's entries dated within run date ± window,
//!   without adjustment transfers (a reconciliation adjustment never appears on a bank
//!   statement) and reversals of them.
//! - A re-run of an account and date supersedes the active run in the same transaction that
//!   stores the new one. An item identical to a resolved item of the superseded run (same kind,
//!   reference, amounts, currencies, transfer and statement line) carries its resolution over.
//! - `resolve --post-to` posts the difference (external − internal) as an `adjustment`
//!   between the settlement account and the given account, dated the end of the run date (or
//!   now, if earlier), so the balance check of that day sees it; `--accept` only records.

use crate::clock::{date_start_us, MICROS_PER_DAY};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::ledger::Outcome;
use crate::model::{Account, AccountType, Transfer, TransferKind};
use crate::model::{TransferRequest, TEXT_LENGTH_MAX};
use crate::reconcile::record::{BalanceCheck, ItemRecord, Resolution, ResolutionKind, RunRecord};
use crate::reconcile::{
    match_statement, read_statement_with, BreakKind, CsvOptions, InputFormat, LineDetails,
    MatchOptions,
};
use crate::service::post::post_in;
use crate::service::write_batch;
use crate::store::{with_retry, Actor, Store, WriteTx};
use chrono::{NaiveDate, TimeDelta};
use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;

/// Widest `--date-window` accepted, in days.
pub(crate) const DATE_WINDOW_MAX_DAYS: i64 = 31;
/// Longest `--note`, in characters.
pub(crate) const NOTE_LENGTH_MAX: usize = TEXT_LENGTH_MAX;

#[derive(Debug, Clone)]
pub(crate) struct RunRequest {
    pub(crate) account: String,
    pub(crate) date: NaiveDate,
    pub(crate) statement: PathBuf,
    pub(crate) format: InputFormat,
    pub(crate) csv: CsvOptions,
    /// As typed; parsed in the account's currency.
    pub(crate) amount_tolerance: Option<String>,
    pub(crate) date_window_days: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct RunOutcome {
    pub(crate) run: RunRecord,
    pub(crate) items: Vec<ItemRecord>,
}

/// The account to reconcile: it must exist (exit 5) and be a settlement account (exit 3).
pub(crate) async fn settlement_account(store: &Store, number: &str) -> AppResult<Account> {
    let account = store.account(number).await?.ok_or_else(|| {
        AppError::new(
            ErrorCode::AccountNotFound,
            format!("account {number} does not exist"),
        )
    })?;
    if account.account_type != AccountType::Settlement {
        return Err(AppError::new(
            ErrorCode::InvalidState,
            format!(
                "account {number} is a {} account; only settlement accounts are reconciled",
                account.account_type
            ),
        ));
    }
    Ok(account)
}

/// Read the statement, match it against the ledger and store the run. `on_progress` receives
/// the statement bytes read so far. Nothing is written unless the statement was read whole.
pub(crate) async fn run(
    store: &Store,
    actor: &Actor,
    request: RunRequest,
    on_progress: Box<dyn FnMut(u64) + Send>,
) -> AppResult<RunOutcome> {
    let account = settlement_account(store, &request.account).await?;
    let currency = account.currency;
    let tolerance_minor = match &request.amount_tolerance {
        Some(text) => currency
            .parse_non_negative(text)
            .map_err(|error| error.context("--amount-tolerance"))?,
        None => 0,
    };
    if !(0..=DATE_WINDOW_MAX_DAYS).contains(&request.date_window_days) {
        return Err(AppError::invalid_input(format!(
            "--date-window: must be 0–{DATE_WINDOW_MAX_DAYS} days"
        )));
    }
    let window = TimeDelta::days(request.date_window_days);
    let first_day = request.date - window;
    let after_last_day = request.date + window + TimeDelta::days(1);
    let day_end_us = date_start_us(request.date) + MICROS_PER_DAY;

    // The statement is parsed on a blocking thread while the ledger is read.
    let statement_path = request.statement.clone();
    let (format, csv) = (request.format, request.csv.clone());
    // The blocking thread does not inherit the command's span: enter it, so the reading span
    // is a child of the command's root span.
    let span = tracing::Span::current();
    let reading = tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        let mut on_progress = on_progress;
        read_statement_with(
            &statement_path,
            format,
            &csv,
            LineDetails::Skip,
            &mut *on_progress,
        )
    });
    let started = std::time::Instant::now();
    let elapsed_ms = || started.elapsed().as_millis() as u64;
    let movements = store
        .reconcile_movements(
            &account.number,
            currency,
            date_start_us(first_day),
            date_start_us(after_last_day),
        )
        .await;
    tracing::info!(elapsed_ms = elapsed_ms(), "movements loaded");
    let ledger_closing = store.entry_sum_before(&account.number, day_end_us).await;
    // A panic while reading is a bug, not an unreadable statement: let it surface as one.
    let statement = reading
        .await
        .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()))?;
    tracing::info!(elapsed_ms = elapsed_ms(), "statement read");
    // A file may hold the statements of several accounts; until a run takes the part of its
    // own account, such a file is refused as before (one account per file).
    let accounts = statement.part_accounts();
    if accounts.len() > 1 {
        return Err(AppError::invalid_input(format!(
            "statement covers several accounts ({}); reconcile one account per file",
            accounts.join(", ")
        ))
        .context(request.statement.display()));
    }
    let movements = movements?;
    let mut ledger_closing_minor = ledger_closing?;

    let options = MatchOptions {
        run_date: request.date,
        amount_tolerance_minor: tolerance_minor,
        date_window_days: request.date_window_days,
    };
    let result = match_statement(&statement.lines, &movements, &options);
    tracing::info!(elapsed_ms = elapsed_ms(), "matched");
    let balance = match statement.balances {
        Some(balances) => {
            let date = balances.closing_date.unwrap_or(request.date);
            if date != request.date {
                let end_us = date_start_us(date) + MICROS_PER_DAY;
                ledger_closing_minor = store.entry_sum_before(&account.number, end_us).await?;
            }
            Some(BalanceCheck {
                currency: balances.currency,
                date,
                statement_opening_minor: balances.opening_minor,
                statement_closing_minor: balances.closing_minor,
                ledger_closing_minor,
            })
        }
        None => None,
    };
    let template = RunRecord {
        id: 0,
        account: account.number.clone(),
        date: request.date,
        superseded_by: None,
        supersedes: None,
        currency,
        statement_file: request.statement.display().to_string(),
        input_format: statement.format,
        statement_account: statement.account.clone(),
        amount_tolerance_minor: tolerance_minor,
        date_window_days: request.date_window_days,
        statement_lines: result.statement_lines,
        internal_entries: result.internal_entries,
        matched: result.matched,
        matched_fuzzy: result.matched_fuzzy,
        breaks: result.break_counts().map(|(_, count)| count),
        balance,
        operator: actor.operator.clone(),
        trace_id: actor.trace_id.clone(),
        created_at_us: actor.now_us,
    };
    // Millions of small allocations: freed on another thread while the run is stored.
    // (If no thread can be started, the closure and its data are dropped right here.)
    let _ = std::thread::Builder::new()
        .name("reconcile-free".to_string())
        .spawn(move || drop((statement, movements)));
    let outcome = with_retry(|| async {
        let mut tx = store.begin_write(actor).await?;
        let outcome = store_run(&mut tx, &template, &result.items).await?;
        tx.commit().await?;
        Ok(outcome)
    })
    .await;
    tracing::info!(elapsed_ms = elapsed_ms(), "run stored");
    outcome
}

#[tracing::instrument(name = "reconcile.store_run", skip_all, fields(items = breaks.len()))]
async fn store_run(
    tx: &mut WriteTx,
    template: &RunRecord,
    breaks: &[crate::reconcile::BreakItem],
) -> AppResult<RunOutcome> {
    let previous = tx
        .active_reconcile_run(&template.account, template.date)
        .await?;
    let (run_id, first_item_id) = tx.next_reconcile_ids().await?;
    let carried = match previous {
        Some(previous) => tx.resolved_reconcile_items(previous).await?,
        None => Vec::new(),
    };
    let resolutions: HashMap<_, _> = carried
        .iter()
        .filter_map(|item| Some((item.identity(), (item.id, item.resolution.as_ref()?))))
        .collect();
    let items: Vec<ItemRecord> = breaks
        .iter()
        .enumerate()
        .map(|(index, found)| {
            let mut item = ItemRecord::from_break(first_item_id + index as i64, run_id, found);
            if let Some((earlier_id, resolution)) = resolutions.get(&item.identity()) {
                item.resolution = Some(Resolution {
                    resolved_in_item: resolution.resolved_in_item.or(Some(*earlier_id)),
                    ..(*resolution).clone()
                });
            }
            item
        })
        .collect();
    let run = RunRecord {
        id: run_id,
        supersedes: previous,
        ..template.clone()
    };
    if let Some(previous) = previous {
        tx.supersede_reconcile_run(previous, run_id).await?;
    }
    tx.insert_reconcile_run(&run).await?;
    tx.insert_reconcile_items(&items).await?;
    let mut tally = crate::metrics::Tally::default();
    for found in breaks {
        tally.reconciliation_break(found.kind.as_str());
    }
    tx.tally(tally);
    let breaks: serde_json::Map<String, serde_json::Value> = BreakKind::ALL
        .iter()
        .map(|kind| (kind.as_str().to_string(), json!(run.break_count(*kind))))
        .collect();
    tx.audit(
        "reconcile.run",
        &format!("reconcile_run:{run_id}"),
        json!({
            "run_id": run_id,
            "account": run.account,
            "date": run.date.to_string(),
            "supersedes": previous,
            "statement_file": run.statement_file,
            "input_format": run.input_format.as_str(),
            "statement_lines": run.statement_lines,
            "internal_entries": run.internal_entries,
            "matched": run.matched,
            "matched_fuzzy": run.matched_fuzzy,
            "breaks": breaks,
            "balance_difference": run
                .balance
                .and_then(|balance| balance.difference_minor(run.currency))
                .map(|minor| run.currency.format(minor)),
        }),
    );
    Ok(RunOutcome { run, items })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResolveAction {
    /// Post the difference between the settlement account and this account.
    PostTo(String),
    Accept,
}

#[derive(Debug, Clone)]
pub(crate) struct ResolveOutcome {
    pub(crate) run: RunRecord,
    pub(crate) item: ItemRecord,
    pub(crate) transfer: Option<Transfer>,
}

/// Resolve an open item of an active run: post its difference or accept it, with a note,
/// audited, in one transaction. A resolved item cannot be resolved again (`invalid_state`).
pub(crate) async fn resolve(
    store: &Store,
    actor: &Actor,
    item_id: i64,
    action: &ResolveAction,
    note: &str,
) -> AppResult<ResolveOutcome> {
    let note = note.trim();
    if note.is_empty() {
        return Err(AppError::usage("--note must not be empty"));
    }
    if note.chars().count() > NOTE_LENGTH_MAX {
        return Err(AppError::invalid_input(format!(
            "--note: longer than {NOTE_LENGTH_MAX} characters"
        )));
    }
    with_retry(|| async {
        let mut tx = store.begin_write(actor).await?;
        let outcome = resolve_in(&mut tx, item_id, action, note).await;
        match outcome {
            Ok(outcome) => {
                tx.commit().await?;
                Ok(outcome)
            }
            Err(error) => {
                tx.rollback().await?;
                Err(error)
            }
        }
    })
    .await
}

async fn resolve_in(
    tx: &mut WriteTx,
    item_id: i64,
    action: &ResolveAction,
    note: &str,
) -> AppResult<ResolveOutcome> {
    let mut item = tx.reconcile_item(item_id).await?.ok_or_else(|| {
        AppError::not_found(format!("reconciliation item {item_id} does not exist"))
    })?;
    let run = tx.reconcile_run_in_tx(item.run_id).await?.ok_or_else(|| {
        AppError::storage(format!("run {} of item {item_id} is missing", item.run_id))
    })?;
    if let Some(resolution) = &item.resolution {
        let how = match resolution.transfer_id {
            Some(transfer_id) => format!("posted as transfer {transfer_id}"),
            None => "accepted".to_string(),
        };
        return Err(AppError::new(
            ErrorCode::InvalidState,
            format!(
                "item {item_id} is already resolved ({how} by {} at {})",
                resolution.by,
                crate::clock::format_instant(resolution.at_us)
            ),
        ));
    }
    if run.superseded_by.is_some() {
        let active = tx
            .active_reconcile_run(&run.account, run.date)
            .await?
            .map_or_else(|| "none".to_string(), |id| id.to_string());
        return Err(AppError::new(
            ErrorCode::InvalidState,
            format!(
                "item {item_id} belongs to run {}, which a re-run superseded; resolve the items of the active run of {} on {} (run {active})",
                run.id, run.account, run.date
            ),
        ));
    }
    let now_us = tx.actor.now_us;
    let mut resolution = Resolution {
        kind: ResolutionKind::Accepted,
        note: note.to_string(),
        transfer_id: None,
        by: tx.actor.operator.clone(),
        at_us: now_us,
        resolved_in_item: None,
    };
    let transfer = match action {
        ResolveAction::Accept => None,
        ResolveAction::PostTo(counter_account) => {
            let transfer = post_difference(tx, &run, &item, counter_account).await?;
            resolution.kind = ResolutionKind::Posted;
            resolution.transfer_id = Some(transfer.id);
            Some(transfer)
        }
    };
    tx.resolve_reconcile_item(item_id, &resolution).await?;
    tx.audit(
        "reconcile.resolved",
        &format!("reconcile_item:{item_id}"),
        json!({
            "item_id": item_id,
            "run_id": run.id,
            "account": run.account,
            "date": run.date.to_string(),
            "kind": item.kind.as_str(),
            "reference": item.reference,
            "resolution": resolution.kind.as_str(),
            "note": note,
            "transfer_id": resolution.transfer_id,
            "difference": item.difference_minor.map(|minor| item.currency.format(minor)),
            "currency": item.currency.code(),
        }),
    );
    item.resolution = Some(resolution);
    Ok(ResolveOutcome {
        run,
        item,
        transfer,
    })
}

/// The adjustment for an item's difference: a positive difference (more money at the bank)
/// debits the settlement account and credits `counter_account`; a negative one the reverse.
async fn post_difference(
    tx: &mut WriteTx,
    run: &RunRecord,
    item: &ItemRecord,
    counter_account: &str,
) -> AppResult<Transfer> {
    let invalid_state = |message: String| AppError::new(ErrorCode::InvalidState, message);
    let difference = item.difference_minor.ok_or_else(|| {
        invalid_state(format!(
            "item {} ({}) has no difference in one currency; resolve it with --accept",
            item.id, item.kind
        ))
    })?;
    if item.currency != run.currency {
        return Err(invalid_state(format!(
            "item {} is in {}, settlement account {} in {}; resolve it with --accept",
            item.id, item.currency, run.account, run.currency
        )));
    }
    if difference == 0 {
        return Err(invalid_state(format!(
            "item {} has no difference to post; resolve it with --accept",
            item.id
        )));
    }
    let (from, to) = if difference > 0 {
        (run.account.clone(), counter_account.to_string())
    } else {
        (counter_account.to_string(), run.account.clone())
    };
    let reference = if item.reference.is_empty() || item.reference.chars().count() > TEXT_LENGTH_MAX
    {
        format!("RECON-ITEM-{}", item.id)
    } else {
        item.reference.clone()
    };
    let end_of_run_date = date_start_us(run.date) + MICROS_PER_DAY - 1;
    let request = TransferRequest {
        kind: TransferKind::Adjustment,
        key: None,
        from,
        to,
        amount_minor: difference.checked_abs().ok_or_else(|| {
            AppError::new(ErrorCode::AmountOutOfRange, "difference is out of range")
        })?,
        currency: run.currency,
        reference,
        description: format!(
            "reconciliation item {} ({}) of run {}",
            item.id, item.kind, run.id
        ),
        at_us: Some(end_of_run_date.min(tx.actor.now_us)),
        reverses_id: None,
    };
    let (outcome, book, batch) = post_in(
        tx,
        &request,
        &crate::service::risk_rules::RiskOptions::default(),
    )
    .await?;
    // A refused adjustment is not recorded (the transaction rolls back): the item stays open
    // and the operator may try another account.
    let transfer = match outcome {
        Outcome::Posted(transfer) => transfer,
        Outcome::Rejected(refused) | Outcome::Replayed(refused) => {
            let code = refused
                .error_code
                .as_deref()
                .and_then(ErrorCode::parse)
                .unwrap_or(ErrorCode::InvalidState);
            let message = refused.error_message.unwrap_or_default();
            return Err(AppError::new(
                code,
                format!("the adjustment cannot be posted: {message}"),
            ));
        }
        Outcome::Invalid(error) => return Err(error),
    };
    write_batch(tx, &book, batch).await?;
    Ok(transfer)
}
