//! `fincore reconcile …`: run a statement against a settlement account, list and show runs,
//! resolve break items.

use super::present::{transfer_json, transfers_section};
use super::{account_argument, Context, Output};
use crate::clock::{self, format_instant};
use crate::error::{AppError, AppResult};
use crate::money::Currency;
use crate::output::Format;
use crate::output::{Section, View};
use crate::reconcile::record::{ItemRecord, RunRecord};
use crate::reconcile::{BreakKind, CsvOptions, InputFormat};
use crate::service::reconcile::{self as reconcile_run, ResolveAction, RunOutcome, RunRequest};
use crate::store::RunFilter;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Default `--date-window` in days: two banking days of clearing either way.
pub const DATE_WINDOW_DEFAULT_DAYS: i64 = 2;
const LIST_LIMIT_DEFAULT: i64 = 100;
const LIST_LIMIT_MAX: i64 = 100_000;

#[derive(Debug, Subcommand)]
pub enum ReconcileCommand {
    /// Match a bank statement against a settlement account's ledger movements of one day
    Run(RunArgs),
    /// List reconciliation runs, newest first
    List(ListArgs),
    /// Show one run with its break items
    Show { run_id: i64 },
    /// Resolve a break item: post its difference to an account, or accept it
    Resolve(ResolveArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The settlement account the statement is for
    #[arg(long)]
    account: String,
    /// The statement's day, YYYY-MM-DD
    #[arg(long)]
    date: String,
    /// The bank statement file
    #[arg(long)]
    statement: PathBuf,
    /// Statement format; auto detects by content
    #[arg(long = "input-format", default_value = "auto", value_parser = ["auto", "csv", "camt053", "mt940"])]
    input_format: String,
    /// Largest amount difference still matched, in the account's currency (default 0)
    #[arg(long = "amount-tolerance", allow_hyphen_values = true)]
    amount_tolerance: Option<String>,
    /// Days either side of the run date a movement may be dated and still match by amount
    #[arg(long = "date-window", default_value_t = DATE_WINDOW_DEFAULT_DAYS, allow_hyphen_values = true)]
    date_window: i64,
    /// CSV: column names, internal=external,… (date, reference, amount, currency, counterparty, description)
    #[arg(long)]
    map: Option<String>,
    /// CSV: chrono format of the date column, e.g. %d.%m.%Y
    #[arg(long = "date-format", default_value = "%Y-%m-%d")]
    date_format: String,
    /// CSV: decimal separator of amounts, '.' or ','
    #[arg(long = "decimal-separator", default_value = ".")]
    decimal_separator: String,
    /// CSV: field delimiter: ',' ';' '|' or 'tab'
    #[arg(long, default_value = ",")]
    delimiter: String,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only runs of this settlement account
    #[arg(long)]
    account: Option<String>,
    /// Only runs of this date
    #[arg(long)]
    date: Option<String>,
    #[arg(long, default_value_t = LIST_LIMIT_DEFAULT)]
    limit: i64,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("action").required(true).args(["post_to", "accept"])))]
pub struct ResolveArgs {
    item_id: i64,
    /// Post the item's difference between the settlement account and this account
    #[arg(long = "post-to")]
    post_to: Option<String>,
    /// Accept the item as it is
    #[arg(long)]
    accept: bool,
    /// Why (required; recorded on the item and in the audit chain)
    #[arg(long)]
    note: String,
}

impl ReconcileCommand {
    pub fn name(&self) -> &'static str {
        match self {
            ReconcileCommand::Run(_) => "run",
            ReconcileCommand::List(_) => "list",
            ReconcileCommand::Show { .. } => "show",
            ReconcileCommand::Resolve(_) => "resolve",
        }
    }

    pub async fn run(self, context: &Context) -> AppResult<Output> {
        match self {
            ReconcileCommand::Run(arguments) => run(context, arguments).await,
            ReconcileCommand::List(arguments) => list(context, arguments).await,
            ReconcileCommand::Show { run_id } => show(context, run_id).await,
            ReconcileCommand::Resolve(arguments) => resolve(context, arguments).await,
        }
    }
}

fn csv_options(arguments: &RunArgs) -> AppResult<CsvOptions> {
    let mut options = CsvOptions {
        date_format: arguments.date_format.clone(),
        ..CsvOptions::default()
    };
    if let Some(map) = &arguments.map {
        options.columns = CsvOptions::parse_map(map)?;
    }
    let mut separator = arguments.decimal_separator.chars();
    options.decimal_separator = match (separator.next(), separator.next()) {
        (Some(character), None) => character,
        _ => {
            return Err(AppError::invalid_input(format!(
                "--decimal-separator '{}' is not '.' or ','",
                arguments.decimal_separator
            )))
        }
    };
    options.delimiter = match arguments.delimiter.as_str() {
        "tab" | "\\t" | "\t" => b'\t',
        text if text.len() == 1 => text.as_bytes()[0],
        text => {
            return Err(AppError::invalid_input(format!(
                "--delimiter '{text}' is not one of , ; | tab"
            )))
        }
    };
    Ok(options)
}

fn progress_bar(context: &Context, total_bytes: u64) -> ProgressBar {
    if !context.progress_enabled() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} reading statement {bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("valid progress template"),
    );
    bar
}

async fn run(context: &Context, arguments: RunArgs) -> AppResult<Output> {
    let request = RunRequest {
        account: account_argument("--account", &arguments.account)?,
        date: clock::parse_date(&arguments.date).map_err(|error| error.context("--date"))?,
        statement: arguments.statement.clone(),
        format: arguments.input_format.parse::<InputFormat>()?,
        csv: csv_options(&arguments)?,
        amount_tolerance: arguments.amount_tolerance.clone(),
        date_window_days: arguments.date_window,
    };
    run_request(context, request).await
}

async fn run_request(context: &Context, request: RunRequest) -> AppResult<Output> {
    let total_bytes = std::fs::metadata(&request.statement).map_or(0, |meta| meta.len());
    let store = context.store().await?;
    let bar = progress_bar(context, total_bytes);
    let reporter = bar.clone();
    let outcome = reconcile_run::run(
        store,
        &context.actor,
        request,
        Box::new(move |bytes| reporter.set_position(bytes)),
    )
    .await;
    bar.finish_and_clear();
    let RunOutcome { run, items } = outcome?;
    let exit_code = if items.is_empty() { 0 } else { 1 };
    Ok(Output::view(run_view(context, &run, &items)).with_exit_code(exit_code))
}

/// The demo's reconciliation step: the spec CSV with the given tolerance and window.
pub(super) async fn run_for_demo(
    context: &Context,
    account: &str,
    date: &str,
    statement: &Path,
    amount_tolerance: &str,
) -> AppResult<Output> {
    let request = RunRequest {
        account: account.to_string(),
        date: clock::parse_date(date)?,
        statement: statement.to_path_buf(),
        format: InputFormat::Auto,
        csv: CsvOptions::default(),
        amount_tolerance: Some(amount_tolerance.to_string()),
        date_window_days: DATE_WINDOW_DEFAULT_DAYS,
    };
    run_request(context, request).await
}

async fn show(context: &Context, run_id: i64) -> AppResult<Output> {
    let store = context.store().await?;
    let run = store.reconcile_run(run_id).await?.ok_or_else(|| {
        AppError::not_found(format!("reconciliation run {run_id} does not exist"))
    })?;
    let items = store.reconcile_items(run_id).await?;
    Ok(Output::view(run_view(context, &run, &items)))
}

async fn list(context: &Context, arguments: ListArgs) -> AppResult<Output> {
    if !(1..=LIST_LIMIT_MAX).contains(&arguments.limit) {
        return Err(AppError::usage(format!(
            "--limit must be 1–{LIST_LIMIT_MAX}"
        )));
    }
    let filter = RunFilter {
        account: arguments
            .account
            .as_deref()
            .map(|number| account_argument("--account", number))
            .transpose()?,
        date: arguments
            .date
            .as_deref()
            .map(clock::parse_date)
            .transpose()
            .map_err(|error| error.context("--date"))?,
        limit: arguments.limit,
    };
    let store = context.store().await?;
    let runs = store.reconcile_runs(&filter).await?;
    let ids: Vec<i64> = runs.iter().map(|run| run.id).collect();
    let open = store.reconcile_open_items(&ids).await?;
    let open_of = |id: i64| {
        open.iter()
            .find(|(run_id, _)| *run_id == id)
            .map_or(0, |(_, count)| *count)
    };
    let mut section = Section::new(&[
        "run_id",
        "account",
        "date",
        "status",
        "format",
        "statement_lines",
        "matched",
        "matched_fuzzy",
        "breaks",
        "unresolved",
        "created_at",
        "operator",
    ]);
    let mut documents = Vec::with_capacity(runs.len());
    for run in &runs {
        let unresolved = open_of(run.id);
        section.push(vec![
            run.id.to_string(),
            run.account.clone(),
            run.date.to_string(),
            status(run),
            run.input_format.to_string(),
            run.statement_lines.to_string(),
            run.matched.to_string(),
            run.matched_fuzzy.to_string(),
            run.total_breaks().to_string(),
            unresolved.to_string(),
            format_instant(run.created_at_us),
            run.operator.clone(),
        ]);
        let mut document = run_summary_json(run);
        document["unresolved"] = json!(unresolved);
        documents.push(document);
    }
    Ok(Output::view(View::new(json!(documents), vec![section])))
}

async fn resolve(context: &Context, arguments: ResolveArgs) -> AppResult<Output> {
    let action = match (&arguments.post_to, arguments.accept) {
        (Some(account), false) => ResolveAction::PostTo(account_argument("--post-to", account)?),
        (None, true) => ResolveAction::Accept,
        _ => {
            return Err(AppError::usage(
                "give exactly one of --post-to ACCOUNT or --accept",
            ))
        }
    };
    let store = context.store().await?;
    let outcome = reconcile_run::resolve(
        store,
        &context.actor,
        arguments.item_id,
        &action,
        &arguments.note,
    )
    .await?;
    let mut document = item_json(&outcome.item);
    document["run_id"] = json!(outcome.run.id);
    document["account"] = json!(outcome.run.account);
    document["date"] = json!(outcome.run.date.to_string());
    document["transfer"] = outcome
        .transfer
        .as_ref()
        .map_or(Value::Null, |transfer| transfer_json(transfer, false));
    document["trace_id"] = json!(context.actor.trace_id);
    let mut sections = vec![items_section(std::slice::from_ref(&outcome.item)).titled("resolved")];
    if let Some(transfer) = &outcome.transfer {
        sections.push(transfers_section(std::slice::from_ref(transfer)).titled("adjustment"));
    }
    Ok(Output::view(View::new(document, sections)))
}

fn status(run: &RunRecord) -> String {
    match run.superseded_by {
        None => "active".to_string(),
        Some(newer) => format!("superseded by {newer}"),
    }
}

fn optional_amount(currency: Option<Currency>, minor: Option<i64>) -> Value {
    match (currency, minor) {
        (Some(currency), Some(minor)) => json!(currency.format(minor)),
        _ => Value::Null,
    }
}

fn breaks_json(run: &RunRecord) -> Value {
    let breaks: serde_json::Map<String, Value> = BreakKind::ALL
        .iter()
        .map(|kind| (kind.as_str().to_string(), json!(run.break_count(*kind))))
        .collect();
    Value::Object(breaks)
}

fn balance_json(run: &RunRecord) -> Value {
    let Some(balance) = &run.balance else {
        return Value::Null;
    };
    let statement_currency = balance.currency;
    json!({
        "currency": statement_currency.code(),
        "date": balance.date.to_string(),
        "statement_opening": statement_currency.format(balance.statement_opening_minor),
        "statement_closing": statement_currency.format(balance.statement_closing_minor),
        "ledger_closing": run.currency.format(balance.ledger_closing_minor),
        "difference": balance
            .difference_minor(run.currency)
            .map(|minor| run.currency.format(minor)),
    })
}

/// A run without its items (`reconcile list`).
fn run_summary_json(run: &RunRecord) -> Value {
    json!({
        "run_id": run.id,
        "account": run.account,
        "date": run.date.to_string(),
        "status": if run.is_active() { "active" } else { "superseded" },
        "superseded_by": run.superseded_by,
        "supersedes": run.supersedes,
        "currency": run.currency.code(),
        "statement": {
            "file": run.statement_file,
            "format": run.input_format.as_str(),
            "account": run.statement_account,
        },
        "amount_tolerance": run.currency.format(run.amount_tolerance_minor),
        "date_window": run.date_window_days,
        "statement_lines": run.statement_lines,
        "internal_entries": run.internal_entries,
        "matched": run.matched,
        "matched_fuzzy": run.matched_fuzzy,
        "breaks": breaks_json(run),
        "balance": balance_json(run),
        "operator": run.operator,
        "created_at": format_instant(run.created_at_us),
        "trace_id": run.trace_id,
    })
}

fn item_json(item: &ItemRecord) -> Value {
    let resolution = item.resolution.as_ref().map_or(Value::Null, |resolution| {
        json!({
            "status": resolution.kind.as_str(),
            "note": resolution.note,
            "transfer_id": resolution.transfer_id,
            "by": resolution.by,
            "at": format_instant(resolution.at_us),
            "resolved_in_item": resolution.resolved_in_item,
        })
    });
    json!({
        "id": item.id,
        "kind": item.kind.as_str(),
        "reference": item.reference,
        "internal_amount": optional_amount(item.internal_currency, item.internal_amount_minor),
        "external_amount": optional_amount(Some(item.currency), item.external_amount_minor),
        "difference": optional_amount(Some(item.currency), item.difference_minor),
        "transfer_id": item.transfer_id,
        "statement_line": item.statement_line,
        "currency": item.currency.code(),
        "internal_currency": item.internal_currency.map(|currency| currency.code().to_string()),
        "resolution": resolution,
    })
}

/// The Run JSON of SPEC.md plus the stored run's details; the same for `run` and `show`.
pub fn run_json(run: &RunRecord, items: &[ItemRecord]) -> Value {
    let mut document = run_summary_json(run);
    let unresolved = items
        .iter()
        .filter(|item| item.resolution.is_none())
        .count();
    document["unresolved"] = json!(unresolved);
    document["items"] = Value::Array(items.iter().map(item_json).collect());
    document
}

fn items_section(items: &[ItemRecord]) -> Section {
    let mut section = Section::new(&[
        "item",
        "kind",
        "reference",
        "internal_amount",
        "external_amount",
        "difference",
        "currency",
        "transfer_id",
        "line",
        "resolution",
    ]);
    let text = |value: Value| match value {
        Value::String(text) => text,
        Value::Null => String::new(),
        other => other.to_string(),
    };
    for item in items {
        section.push(vec![
            item.id.to_string(),
            item.kind.to_string(),
            item.reference.clone(),
            match item.internal_currency {
                // Say so when the sides are in different currencies.
                Some(currency) if currency != item.currency => item
                    .internal_amount_minor
                    .map(|minor| format!("{} {currency}", currency.format(minor)))
                    .unwrap_or_default(),
                _ => text(optional_amount(
                    item.internal_currency,
                    item.internal_amount_minor,
                )),
            },
            text(optional_amount(
                Some(item.currency),
                item.external_amount_minor,
            )),
            text(optional_amount(Some(item.currency), item.difference_minor)),
            item.currency.to_string(),
            item.transfer_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            item.statement_line
                .map(|line| line.to_string())
                .unwrap_or_default(),
            item.resolution
                .as_ref()
                .map_or(String::new(), |resolution| match resolution.transfer_id {
                    Some(transfer_id) => format!("posted (transfer {transfer_id})"),
                    None => resolution.kind.to_string(),
                }),
        ]);
    }
    section
}

/// A run as JSON, or as a summary and the break items for tables and CSV (only the format asked
/// for is built: a million-line statement has tens of thousands of items).
fn run_view(context: &Context, run: &RunRecord, items: &[ItemRecord]) -> View {
    if context.global.format == Format::Json {
        return View::new(run_json(run, items), Vec::new());
    }
    let mut fields = vec![
        ("run_id", run.id.to_string()),
        ("account", run.account.clone()),
        ("date", run.date.to_string()),
        ("status", status(run)),
        (
            "statement",
            format!("{} ({})", run.statement_file, run.input_format),
        ),
        ("statement_lines", run.statement_lines.to_string()),
        ("internal_entries", run.internal_entries.to_string()),
        ("matched", run.matched.to_string()),
        ("matched_fuzzy", run.matched_fuzzy.to_string()),
    ];
    for kind in BreakKind::ALL {
        fields.push((kind.as_str(), run.break_count(kind).to_string()));
    }
    if let Some(balance) = &run.balance {
        fields.push((
            "statement_closing",
            format!(
                "{} {} on {}",
                balance.currency.format(balance.statement_closing_minor),
                balance.currency,
                balance.date
            ),
        ));
        fields.push((
            "ledger_closing",
            format!(
                "{} {}",
                run.currency.format(balance.ledger_closing_minor),
                run.currency
            ),
        ));
        fields.push((
            "balance_difference",
            balance
                .difference_minor(run.currency)
                .map_or("n/a (other currency)".to_string(), |minor| {
                    run.currency.format(minor)
                }),
        ));
    }
    fields.push(("trace_id", run.trace_id.clone()));
    let summary = Section::record(&fields).titled(format!("reconciliation run {}", run.id));
    let mut sections = vec![summary];
    if !items.is_empty() {
        sections.push(items_section(items).titled("breaks"));
    }
    let note = if items.is_empty() {
        "fully reconciled".to_string()
    } else {
        format!(
            "{} breaks; resolve with: fincore reconcile resolve ITEM (--post-to ACCOUNT | --accept) --note TEXT",
            items.len()
        )
    };
    View::new(Value::Null, sections).with_note(note)
}
