//! A reconciliation run against the store, and the resolution of its breaks. The engine
//! (reading, matching) stays pure; this module gathers its inputs from the ledger and stores
//! what it found, each in one write transaction with its audit event.
//!
//! Decisions (see also the README's Reconciliation section):
//! - A run reconciles days: its `--date`, else the statement's period (`reconcile::statement_period`).
//!   Lines booked on other days are counted as outside the run; lines on days an active run
//!   that this one does not contain already reconciled are counted as already reconciled.
//!   Active runs whose period lies within the new run's are superseded by it.
//! - Internal movements are the settlement account's entries dated within the days ± window,
//!   without adjustment transfers (a reconciliation adjustment never appears on a bank
//!   statement) and reversals of them.
//! - A re-run of an account and date supersedes the active run in the same transaction that
//!   stores the new one. An item identical to a resolved item of the superseded run (same kind,
//!   reference, amounts, currencies, transfer and statement line) carries its resolution over.
//! - `resolve --post-to` posts the difference (external − internal) as an `adjustment`
//!   between the settlement account and the given account, dated the end of the break's day (or
//!   now, if earlier), so the balance check of that day sees it; `--accept` only records.

use crate::clock::{date_start_us, MICROS_PER_DAY};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::evidence::{Binding, RECONCILE_ITEMS, RECONCILE_RUNS};
use crate::ledger::Outcome;
use crate::model::{Account, AccountType, Transfer, TransferKind};
use crate::model::{TransferRequest, TEXT_LENGTH_MAX};
use crate::reconcile::record::{BalanceCheck, ItemRecord, Resolution, ResolutionKind, RunRecord};
use crate::reconcile::rules::RuleSet;
use crate::reconcile::{
    closing_balances, match_statement, read_statement_with, select_account, statement_period_with,
    BreakItem, BreakKind, CsvOptions, InputFormat, LineDetails, MatchOptions, RunDays, Selection,
    SkippedPart, StatementBalances, StatementLine,
};
use crate::service::post::post_in;
use crate::service::reconcile_rules::{apply_rules, line_texts, RuleOutcome};
use crate::service::write_batch;
use crate::store::{with_retry, Actor, Store, WriteTx};
use chrono::{NaiveDate, TimeDelta};
use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;

/// Widest `--date-window` accepted, in days.
pub(crate) const DATE_WINDOW_MAX_DAYS: i64 = 31;
/// Longest period a run reconciles at once, in days (a quarter and then some).
pub(crate) const PERIOD_DAYS_MAX: i64 = 400;
/// Longest `--note`, in characters.
pub(crate) const NOTE_LENGTH_MAX: usize = TEXT_LENGTH_MAX;

#[derive(Debug, Clone)]
pub(crate) struct RunRequest {
    pub(crate) account: String,
    /// Only the lines booked this day; `None`: the statement's whole period.
    pub(crate) date: Option<NaiveDate>,
    pub(crate) statement: PathBuf,
    pub(crate) format: InputFormat,
    pub(crate) csv: CsvOptions,
    /// As typed; parsed in the account's currency.
    pub(crate) amount_tolerance: Option<String>,
    pub(crate) date_window_days: i64,
    /// `--rules FILE`, parsed: applied to the run's new open items as it is stored.
    pub(crate) rules: Option<RuleSet>,
}

#[derive(Debug, Clone)]
pub(crate) struct RunOutcome {
    pub(crate) run: RunRecord,
    pub(crate) items: Vec<ItemRecord>,
    /// What the operator should know about the run that is not a break (a day without lines).
    pub(crate) warnings: Vec<String>,
    /// With `--rules`: what each rule resolved (rules that resolved nothing are left out).
    pub(crate) rules: Option<Vec<RuleOutcome>>,
    /// Parts of the statement file that belong to other accounts (reported, not stored).
    pub(crate) skipped_parts: Vec<SkippedPart>,
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

/// What a run decided before it is stored: its days, the match, the balance checks.
struct Plan {
    period: (NaiveDate, NaiveDate),
    /// The active runs the run's period overlaps, as they were when the days were chosen.
    overlapping: Vec<(i64, NaiveDate, NaiveDate)>,
    template: RunRecord,
    breaks: Vec<BreakItem>,
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
    let tolerance_minor = match &request.amount_tolerance {
        Some(text) => account
            .currency
            .parse_non_negative(text)
            .map_err(|error| error.context("--amount-tolerance"))?,
        None => 0,
    };
    if !(0..=DATE_WINDOW_MAX_DAYS).contains(&request.date_window_days) {
        return Err(AppError::invalid_input(format!(
            "--date-window: must be 0–{DATE_WINDOW_MAX_DAYS} days"
        )));
    }
    if let Some(rules) = &request.rules {
        rules.check_for(account.currency)?;
    }
    let started = std::time::Instant::now();
    let elapsed_ms = || started.elapsed().as_millis() as u64;
    let window = TimeDelta::days(request.date_window_days);
    let load_movements = |period: (NaiveDate, NaiveDate)| {
        store.reconcile_movements(
            &account.number,
            account.currency,
            date_start_us(period.0 - window),
            date_start_us(period.1 + window + TimeDelta::days(1)),
        )
    };
    // With --date the days are known before the statement is read: read both at once. Without,
    // the period comes from the statement.
    let (statement, preloaded) = match request.date {
        Some(date) => {
            let (statement, movements) = tokio::join!(
                read(&request, &account, on_progress),
                load_movements((date, date))
            );
            (statement?, Some(movements?))
        }
        None => (read(&request, &account, on_progress).await?, None),
    };
    tracing::info!(elapsed_ms = elapsed_ms(), "statement read");
    let period = run_period(&request, &statement)?;
    let overlapping = store
        .read_reconcile_runs_overlapping(&account.number, period.0, period.1)
        .await?;
    let run_days = RunDays {
        from: period.0,
        to: period.1,
        covered_elsewhere: covered_elsewhere(period, &overlapping),
    };
    let (lines, outside_run, already_reconciled) = lines_of_run(statement.lines, &run_days);
    let movements = match preloaded {
        Some(movements) => movements,
        None => load_movements(period).await?,
    };
    tracing::info!(elapsed_ms = elapsed_ms(), "movements loaded");
    let options = MatchOptions {
        run_days,
        amount_tolerance_minor: tolerance_minor,
        date_window_days: request.date_window_days,
    };
    let result = match_statement(&lines, &movements, &options);
    tracing::info!(elapsed_ms = elapsed_ms(), "matched");
    let texts = match line_details(&request) {
        LineDetails::Keep => line_texts(&lines, &result.items),
        LineDetails::Skip => HashMap::new(),
    };
    let (checks, balance_breaks) =
        check_closing_balances(store, &account, &statement.closings, &options.run_days).await?;
    let mut breaks = result.items;
    breaks.extend(balance_breaks);
    let mut template = RunRecord {
        id: 0,
        account: account.number.clone(),
        date: request.date,
        period_from: period.0,
        period_to: period.1,
        superseded_by: None,
        supersedes: None,
        currency: account.currency,
        statement_file: request.statement.display().to_string(),
        input_format: statement.format,
        statement_account: statement.account,
        amount_tolerance_minor: tolerance_minor,
        date_window_days: request.date_window_days,
        statement_lines: result.statement_lines,
        lines_outside_run: outside_run,
        lines_already_reconciled: already_reconciled,
        internal_entries: result.internal_entries,
        matched: result.matched,
        matched_fuzzy: result.matched_fuzzy,
        matched_grouped: result.matched_grouped,
        grouped_entries: result.grouped_entries,
        breaks: [0; BreakKind::ALL.len()],
        balance: checks.last().copied(),
        operator: actor.operator.clone(),
        trace_id: actor.trace_id.clone(),
        created_at_us: actor.now_us,
    };
    for (slot, kind) in template.breaks.iter_mut().zip(BreakKind::ALL) {
        *slot = breaks.iter().filter(|item| item.kind == kind).count() as u64;
    }
    let mut warnings = run_warnings(&template, &overlapping);
    warnings.extend(skipped_warning(&statement.skipped));
    // Millions of small allocations: freed on another thread while the run is stored.
    // (If no thread can be started, the closure and its data are dropped right here.)
    let _ = std::thread::Builder::new()
        .name("reconcile-free".to_string())
        .spawn(move || drop((lines, movements)));
    let plan = Plan {
        period,
        overlapping,
        template,
        breaks,
    };
    let outcome = with_retry(|| async {
        let mut tx = store.begin_write(actor).await?;
        let (run, mut items) = store_run(&mut tx, &plan).await?;
        let mut rules = None;
        if let Some(rule_set) = &request.rules {
            match apply_rules(&mut tx, rule_set, &texts, &run, &mut items).await {
                Ok(applied) => rules = Some(applied),
                Err(error) => {
                    tx.rollback().await?;
                    return Err(error);
                }
            }
        }
        tx.commit().await?;
        Ok((run, items, rules))
    })
    .await;
    tracing::info!(elapsed_ms = elapsed_ms(), "run stored");
    outcome.map(|(run, items, rules)| RunOutcome {
        run,
        items,
        warnings,
        rules,
        skipped_parts: statement.skipped,
    })
}

/// Rules that search descriptions need the lines' texts, which a run otherwise skips.
fn line_details(request: &RunRequest) -> LineDetails {
    match &request.rules {
        Some(rules) if rules.needs_line_text() => LineDetails::Keep,
        _ => LineDetails::Skip,
    }
}

/// The statement as the run needs it: its lines, and each day's stated closing balance.
struct ReadStatement {
    format: InputFormat,
    account: Option<String>,
    lines: Vec<StatementLine>,
    period: Option<(NaiveDate, NaiveDate)>,
    closings: Vec<(NaiveDate, StatementBalances)>,
    /// Parts of other accounts the run left out.
    skipped: Vec<SkippedPart>,
}

/// Parse the statement on a blocking thread (it may be a million lines) and take the part of
/// the run's account.
async fn read(
    request: &RunRequest,
    account: &Account,
    on_progress: Box<dyn FnMut(u64) + Send>,
) -> AppResult<ReadStatement> {
    let statement_path = request.statement.clone();
    let (format, csv) = (request.format, request.csv.clone());
    let details = line_details(request);
    // The blocking thread does not inherit the command's span: enter it, so the reading span
    // is a child of the command's root span.
    let span = tracing::Span::current();
    let reading = tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        let mut on_progress = on_progress;
        read_statement_with(&statement_path, format, &csv, details, &mut *on_progress)
    });
    // A panic while reading is a bug, not an unreadable statement: let it surface as one.
    let statement = reading
        .await
        .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()))?;
    // A file may hold the statements of several accounts: the run takes its account's parts.
    let file = request.statement.display().to_string();
    let Selection { statement, skipped } =
        select_account(statement, &account.number, &account.identifiers, &file)?;
    let closings = closing_balances(&statement);
    let period = statement_period_with(&statement, &closings);
    Ok(ReadStatement {
        format: statement.format,
        account: statement.account,
        lines: statement.lines,
        period,
        closings,
        skipped,
    })
}

/// `skipped N part(s) of other accounts: ID (L lines), …`, when parts were skipped.
fn skipped_warning(skipped: &[SkippedPart]) -> Option<String> {
    if skipped.is_empty() {
        return None;
    }
    let parts: Vec<String> = skipped
        .iter()
        .map(|part| {
            let account = part.account.as_deref().unwrap_or("no account id");
            let plural = if part.lines == 1 { "" } else { "s" };
            format!("{account} ({} line{plural})", part.lines)
        })
        .collect();
    Some(format!(
        "skipped {} part(s) of other accounts: {}",
        skipped.len(),
        parts.join(", ")
    ))
}

/// The run's days: `--date`, else the statement's period (exit 4 when it names no day).
fn run_period(
    request: &RunRequest,
    statement: &ReadStatement,
) -> AppResult<(NaiveDate, NaiveDate)> {
    match (request.date, statement.period) {
        (Some(date), _) => Ok((date, date)),
        (None, Some(period)) => {
            let days = (period.1 - period.0).num_days() + 1;
            if days > PERIOD_DAYS_MAX {
                return Err(AppError::invalid_input(format!(
                    "statement covers {days} days ({} to {}), more than {PERIOD_DAYS_MAX}; reconcile it with --date, one day at a time",
                    period.0, period.1
                ))
                .context(request.statement.display()));
            }
            Ok(period)
        }
        (None, None) => Err(AppError::invalid_input(
            "statement has no lines, period or balance date to reconcile; give --date",
        )
        .context(request.statement.display())),
    }
}

/// Days of `period` that active runs reconcile which this run will not supersede (runs whose
/// period lies within this one's are superseded, and their days are this run's again).
fn covered_elsewhere(
    period: (NaiveDate, NaiveDate),
    overlapping: &[(i64, NaiveDate, NaiveDate)],
) -> Vec<(NaiveDate, NaiveDate)> {
    overlapping
        .iter()
        .filter(|(_, from, to)| !(period.0 <= *from && *to <= period.1))
        .map(|(_, from, to)| (*from.max(&period.0), *to.min(&period.1)))
        .collect()
}

/// The lines booked on the run's days, with the count of lines outside its period and of lines
/// on days another run already reconciled. Filtered in place: no copy of a million lines.
fn lines_of_run(mut lines: Vec<StatementLine>, days: &RunDays) -> (Vec<StatementLine>, u64, u64) {
    let total = lines.len() as u64;
    let (mut outside, mut elsewhere) = (0_u64, 0_u64);
    lines.retain(|line| {
        let in_period = (days.from..=days.to).contains(&line.date);
        let covered = in_period && days.is_covered_elsewhere(line.date);
        outside += u64::from(!in_period);
        elsewhere += u64::from(covered);
        in_period && !covered
    });
    assert_eq!(
        lines.len() as u64 + outside + elsewhere,
        total,
        "every statement line is in the run, outside it, or another run's"
    );
    (lines, outside, elsewhere)
}

/// Compare each closing balance the statement states for one of the run's days with the
/// ledger's balance at the end of that day. A difference is a `balance_mismatch` break.
async fn check_closing_balances(
    store: &Store,
    account: &Account,
    closings: &[(NaiveDate, StatementBalances)],
    days: &RunDays,
) -> AppResult<(Vec<BalanceCheck>, Vec<BreakItem>)> {
    let mut checks = Vec::new();
    let mut breaks = Vec::new();
    // Closings come in date order: the ledger is summed once up to the first day's end, then
    // only each next day's slice (a month of daily MT940 messages is not 31 sums from the start).
    let (mut summed_to_us, mut ledger_minor) = (i64::MIN, 0_i64);
    for (date, balances) in closings.iter().filter(|(date, _)| days.contains(*date)) {
        let day_end_us = date_start_us(*date) + MICROS_PER_DAY;
        assert!(
            day_end_us > summed_to_us,
            "closing balances are in date order"
        );
        ledger_minor = ledger_minor
            .checked_add(
                store
                    .entry_sum_between(&account.number, summed_to_us, day_end_us)
                    .await?,
            )
            .ok_or_else(|| AppError::storage("the settlement account's balance overflows"))?;
        summed_to_us = day_end_us;
        let check = BalanceCheck {
            currency: balances.currency,
            date: *date,
            statement_opening_minor: balances.opening_minor,
            statement_closing_minor: balances.closing_minor,
            ledger_closing_minor: ledger_minor,
        };
        checks.push(check);
        let Some(difference_minor) = check.difference_minor(account.currency) else {
            continue;
        };
        if difference_minor != 0 {
            breaks.push(BreakItem {
                kind: BreakKind::BalanceMismatch,
                reference: format!("closing balance {date}"),
                internal_amount_minor: Some(check.ledger_closing_minor),
                external_amount_minor: Some(check.statement_closing_minor),
                difference_minor: Some(difference_minor),
                transfer_id: None,
                statement_line: None,
                currency: check.currency,
                internal_currency: Some(account.currency),
                date: *date,
            });
        }
    }
    Ok((checks, breaks))
}

/// A day without lines, or lines another run already reconciled, is not a break but the
/// operator should hear of it.
fn run_warnings(run: &RunRecord, overlapping: &[(i64, NaiveDate, NaiveDate)]) -> Vec<String> {
    let mut warnings = Vec::new();
    if let (Some(date), 0) = (run.date, run.statement_lines) {
        if run.lines_already_reconciled == 0 {
            warnings.push(format!("the statement has no line booked on {date}"));
        }
    }
    if run.lines_already_reconciled > 0 {
        let runs: Vec<String> = overlapping
            .iter()
            .filter(|(_, from, to)| !(run.period_from <= *from && *to <= run.period_to))
            .map(|(id, from, to)| format!("run {id} ({from} to {to})"))
            .collect();
        warnings.push(format!(
            "{} statement lines were already reconciled by {}; re-run a statement covering its whole period to reconcile them again",
            run.lines_already_reconciled,
            runs.join(", ")
        ));
    }
    warnings
}

#[tracing::instrument(name = "reconcile.store_run", skip_all, fields(items = plan.breaks.len()))]
async fn store_run(tx: &mut WriteTx, plan: &Plan) -> AppResult<(RunRecord, Vec<ItemRecord>)> {
    let template = &plan.template;
    let (from, to) = plan.period;
    let overlapping = tx
        .active_reconcile_runs(&template.account, from, to)
        .await?;
    if overlapping != plan.overlapping {
        return Err(AppError::new(
            ErrorCode::InvalidState,
            format!(
                "another reconciliation of account {} over {from} to {to} was stored while this run was matching; run it again",
                template.account
            ),
        ));
    }
    let superseded: Vec<i64> = overlapping
        .iter()
        .filter(|(_, run_from, run_to)| from <= *run_from && *run_to <= to)
        .map(|(id, _, _)| *id)
        .collect();
    let (run_id, first_item_id) = tx.next_reconcile_ids().await?;
    let mut earlier_items = Vec::new();
    for previous in &superseded {
        earlier_items.extend(tx.resolved_reconcile_items(*previous).await?);
    }
    let mut items: Vec<ItemRecord> = plan
        .breaks
        .iter()
        .enumerate()
        .map(|(index, found)| ItemRecord::from_break(first_item_id + index as i64, run_id, found))
        .collect();
    let carried = carried_resolutions(&earlier_items, &items);
    for (item, resolution) in items.iter_mut().zip(carried) {
        item.resolution = resolution;
    }
    let run = RunRecord {
        id: run_id,
        supersedes: superseded.last().copied(),
        ..template.clone()
    };
    for previous in &superseded {
        tx.supersede_reconcile_run(*previous, run_id).await?;
    }
    tx.insert_reconcile_run(&run).await?;
    tx.insert_reconcile_items(&items).await?;
    let mut tally = crate::metrics::Tally::default();
    for found in &plan.breaks {
        tally.reconciliation_break(found.kind.as_str());
    }
    tx.tally(tally);
    let rows = run_bindings(tx, &run, &superseded, &items).await?;
    tx.audit_rows(
        "reconcile.run",
        &format!("reconcile_run:{run_id}"),
        run_audit(&run, &superseded),
        rows,
    );
    Ok((run, items))
}

/// The rows a run wrote: itself, the runs it superseded (now pointing at it), its items.
async fn run_bindings(
    tx: &mut WriteTx,
    run: &RunRecord,
    superseded: &[i64],
    items: &[ItemRecord],
) -> AppResult<Vec<Binding>> {
    let mut rows = vec![tx.bind_row(&RECONCILE_RUNS, &run.id.to_string()).await?];
    for previous in superseded {
        rows.push(tx.bind_row(&RECONCILE_RUNS, &previous.to_string()).await?);
    }
    if let (Some(first), Some(last)) = (items.first(), items.last()) {
        rows.extend(tx.bind_batch(&RECONCILE_ITEMS, first.id, last.id).await?);
    }
    Ok(rows)
}

/// For each new item, the resolution of an identical item of a superseded run, each earlier
/// resolution carried over at most once (two identical breaks need two resolutions).
fn carried_resolutions(earlier: &[ItemRecord], items: &[ItemRecord]) -> Vec<Option<Resolution>> {
    let mut by_identity: HashMap<_, Vec<&ItemRecord>> = HashMap::new();
    for item in earlier.iter().rev() {
        if item.resolution.is_some() {
            by_identity.entry(item.identity()).or_default().push(item);
        }
    }
    items
        .iter()
        .map(|item| {
            let earlier = by_identity.get_mut(&item.identity())?.pop()?;
            let resolution = earlier.resolution.clone()?;
            Some(Resolution {
                resolved_in_item: resolution.resolved_in_item.or(Some(earlier.id)),
                ..resolution
            })
        })
        .collect()
}

fn run_audit(run: &RunRecord, superseded: &[i64]) -> serde_json::Value {
    let breaks: serde_json::Map<String, serde_json::Value> = BreakKind::ALL
        .iter()
        .map(|kind| (kind.as_str().to_string(), json!(run.break_count(*kind))))
        .collect();
    json!({
        "run_id": run.id,
        "account": run.account,
        "date": run.date.map(|date| date.to_string()),
        "period": {"from": run.period_from.to_string(), "to": run.period_to.to_string()},
        "supersedes": superseded,
        "statement_file": run.statement_file,
        "input_format": run.input_format.as_str(),
        "statement_lines": run.statement_lines,
        "lines_outside_run": run.lines_outside_run,
        "lines_already_reconciled": run.lines_already_reconciled,
        "internal_entries": run.internal_entries,
        "matched": run.matched,
        "matched_fuzzy": run.matched_fuzzy,
        "matched_grouped": run.matched_grouped,
        "grouped_entries": run.grouped_entries,
        "breaks": breaks,
        "balance_difference": run
            .balance
            .and_then(|balance| balance.difference_minor(run.currency))
            .map(|minor| run.currency.format(minor)),
    })
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
    let (run, item) = open_item(tx, item_id).await?;
    let (item, transfer) = resolve_open_item(tx, &run, item, action, note, None).await?;
    Ok(ResolveOutcome {
        run,
        item,
        transfer,
    })
}

/// An item that can be resolved, with its run: it exists (`not_found`), is open and belongs
/// to an active run (`invalid_state`).
pub(super) async fn open_item(
    tx: &mut WriteTx,
    item_id: i64,
) -> AppResult<(RunRecord, ItemRecord)> {
    let item = tx.reconcile_item(item_id).await?.ok_or_else(|| {
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
    if let Some(newer) = run.superseded_by {
        return Err(AppError::new(
            ErrorCode::InvalidState,
            format!(
                "item {item_id} belongs to run {}, which run {newer} superseded; resolve the items of the active run of {} (reconcile list --account {})",
                run.id, run.account, run.account
            ),
        ));
    }
    Ok((run, item))
}

/// Resolve an open item of `run` (see `open_item`): post or accept, record, audit. `rule`
/// names the rule that resolved it, in the audit event, when a rule did.
pub(super) async fn resolve_open_item(
    tx: &mut WriteTx,
    run: &RunRecord,
    mut item: ItemRecord,
    action: &ResolveAction,
    note: &str,
    rule: Option<&str>,
) -> AppResult<(ItemRecord, Option<Transfer>)> {
    let item_id = item.id;
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
            let transfer = post_difference(tx, run, &item, counter_account).await?;
            resolution.kind = ResolutionKind::Posted;
            resolution.transfer_id = Some(transfer.id);
            Some(transfer)
        }
    };
    // The item was written with its run's batch: its digest then keeps that batch provable.
    let before = tx
        .evidence_row(&RECONCILE_ITEMS, &item_id.to_string())
        .await?;
    tx.resolve_reconcile_item(item_id, &resolution).await?;
    let row = tx
        .bind_row(&RECONCILE_ITEMS, &item_id.to_string())
        .await?
        .with_previous(before.as_deref().map(crate::store::digest_of));
    let mut details = json!({
        "item_id": item_id,
        "run_id": run.id,
        "account": run.account,
        "date": item.date.unwrap_or(run.last_day()).to_string(),
        "kind": item.kind.as_str(),
        "reference": item.reference,
        "resolution": resolution.kind.as_str(),
        "note": note,
        "transfer_id": resolution.transfer_id,
        "difference": item.difference_minor.map(|minor| item.currency.format(minor)),
        "currency": item.currency.code(),
    });
    if let Some(rule) = rule {
        details["rule"] = json!(rule);
    }
    tx.audit_rows(
        "reconcile.resolved",
        &format!("reconcile_item:{item_id}"),
        details,
        vec![row],
    );
    item.resolution = Some(resolution);
    Ok((item, transfer))
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
    // Dated the end of the break's day, so that day's balance check sees it.
    let end_of_day = date_start_us(item.date.unwrap_or(run.last_day())) + MICROS_PER_DAY - 1;
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
        at_us: Some(end_of_day.min(tx.actor.now_us)),
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
