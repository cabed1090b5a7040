//! `fincore reconcile …`: run a statement against a settlement account, list and show runs,
//! resolve break items.

use super::present::TransferView;
use super::{account_argument, Context, Output};
use crate::clock::{self, format_instant};
use crate::error::{AppError, AppResult};
use crate::money::Currency;
use crate::output::Format;
use crate::output::{to_json, Column, Record, Section, View};
use crate::reconcile::record::{ItemRecord, RunRecord};
use crate::reconcile::{BreakKind, CsvOptions, InputFormat, SkippedPart};
use crate::service::reconcile::{
    self as reconcile_run, ResolveAction, ResolveOutcome, RunOutcome, RunRequest,
};
use crate::service::reconcile_bulk;
use crate::service::reconcile_rules::{load_rules_file, RuleOutcome};
use crate::store::RunFilter;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Default `--date-window` in days: two banking days of clearing either way.
pub(crate) const DATE_WINDOW_DEFAULT_DAYS: i64 = 2;
const LIST_LIMIT_DEFAULT: i64 = 100;
const LIST_LIMIT_MAX: i64 = 100_000;

#[derive(Debug, Subcommand)]
pub(crate) enum ReconcileCommand {
    /// Match a bank statement against a settlement account's ledger movements over its period (or one day)
    Run(RunArgs),
    /// List reconciliation runs, newest first
    List(ListArgs),
    /// Show one run with its break items
    Show {
        /// The run's id (from `reconcile run` or `reconcile list`)
        run_id: i64,
    },
    /// Resolve a break item: post its difference to an account, or accept it
    Resolve(ResolveArgs),
    /// Print what the statement reader understood (accounts, periods, balances, every line); touches no ledger
    Inspect(InspectArgs),
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The settlement account the statement is for
    #[arg(long)]
    account: String,
    /// Only the lines booked on this day, YYYY-MM-DD, today, yesterday or -Nd (default: the statement's whole period)
    #[arg(long, value_name = "DATE", value_parser = super::options::When, allow_hyphen_values = true)]
    date: Option<String>,
    /// The bank statement file
    #[arg(long)]
    statement: PathBuf,
    /// Largest amount difference still matched, in the account's currency (default 0)
    #[arg(long = "amount-tolerance", allow_hyphen_values = true)]
    amount_tolerance: Option<String>,
    /// Days either side of the run's days a movement may be dated and still match by amount
    #[arg(long = "date-window", default_value_t = DATE_WINDOW_DEFAULT_DAYS, allow_hyphen_values = true)]
    date_window: i64,
    /// Rules for recurring differences (TOML): fitting breaks are posted or accepted as the run is stored
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    #[command(flatten)]
    reading: ReadingArgs,
}

/// How to read a statement file: its format, and for CSV its layout.
#[derive(Debug, Args)]
pub(crate) struct ReadingArgs {
    /// Statement format; auto detects by content
    #[arg(long = "input-format", default_value = "auto", value_parser = ["auto", "csv", "camt053", "mt940"])]
    input_format: String,
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
pub(crate) struct InspectArgs {
    /// The bank statement file
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) reading: ReadingArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Only runs of this settlement account
    #[arg(long)]
    account: Option<String>,
    /// Only runs whose days include this one (YYYY-MM-DD, today, yesterday, -Nd)
    #[arg(long, value_name = "DATE", value_parser = super::options::When, allow_hyphen_values = true)]
    date: Option<String>,
    /// Show at most N runs, newest first
    #[arg(long, value_name = "N", default_value_t = LIST_LIMIT_DEFAULT)]
    limit: i64,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("action").args(["post_to", "accept"])))]
pub(crate) struct ResolveArgs {
    /// The break item's id (from `reconcile run` or `reconcile show`)
    #[arg(required_unless_present = "file", requires = "action")]
    item_id: Option<i64>,
    /// Post the item's difference between the settlement account and this account
    #[arg(long = "post-to")]
    post_to: Option<String>,
    /// Accept the item as it is
    #[arg(long)]
    accept: bool,
    /// Why (required; recorded on the item and in the audit chain)
    #[arg(long, required_unless_present = "file")]
    note: Option<String>,
    /// Resolve many items in one transaction, all or nothing: a CSV of item_id,decision,account,note (decision post|accept)
    #[arg(long, value_name = "DECISIONS.csv", conflicts_with_all = ["item_id", "post_to", "accept", "note"])]
    file: Option<PathBuf>,
}

impl ReadingArgs {
    pub(crate) fn input_format(&self) -> AppResult<InputFormat> {
        self.input_format.parse::<InputFormat>()
    }
}

impl ReconcileCommand {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            ReconcileCommand::Run(_) => "run",
            ReconcileCommand::List(_) => "list",
            ReconcileCommand::Show { .. } => "show",
            ReconcileCommand::Resolve(_) => "resolve",
            ReconcileCommand::Inspect(_) => "inspect",
        }
    }

    pub(crate) async fn run(self, context: &Context) -> AppResult<Output> {
        match self {
            ReconcileCommand::Run(arguments) => run(context, arguments).await,
            ReconcileCommand::List(arguments) => list(context, arguments).await,
            ReconcileCommand::Show { run_id } => show(context, run_id).await,
            ReconcileCommand::Resolve(arguments) => resolve(context, arguments).await,
            ReconcileCommand::Inspect(arguments) => {
                super::statement_inspect::inspect(arguments).await
            }
        }
    }
}

pub(crate) fn csv_options(arguments: &ReadingArgs) -> AppResult<CsvOptions> {
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
            "{spinner} reading statement {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("valid progress template"),
    );
    bar
}

async fn run(context: &Context, arguments: RunArgs) -> AppResult<Output> {
    let request = RunRequest {
        account: account_argument("--account", &arguments.account)?,
        date: arguments
            .date
            .as_deref()
            .map(clock::parse_date)
            .transpose()
            .map_err(|error| error.context("--date"))?,
        statement: arguments.statement.clone(),
        format: arguments.reading.input_format.parse::<InputFormat>()?,
        csv: csv_options(&arguments.reading)?,
        amount_tolerance: arguments.amount_tolerance.clone(),
        date_window_days: arguments.date_window,
        rules: arguments
            .rules
            .as_deref()
            .map(load_rules_file)
            .transpose()?,
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
    let RunOutcome {
        run,
        items,
        warnings,
        rules,
        skipped_parts,
    } = outcome?;
    if !context.global.quiet {
        for warning in &warnings {
            crate::stderr_line!("warning: {warning}");
        }
    }
    // Every break resolved (carried over from a superseded run, or by a rule) is reconciled.
    let unresolved = items.iter().any(|item| item.resolution.is_none());
    let exit_code = u8::from(unresolved);
    let mut view = run_view(context, &run, &items, rules.as_deref());
    add_skipped_parts(&mut view, &skipped_parts);
    Ok(Output::view(view).with_exit_code(exit_code))
}

/// A part of the statement file that belongs to another account.
#[derive(Serialize)]
struct SkippedPartView {
    /// Its account id as the file writes it (null: the part names none).
    account: Option<String>,
    lines: u64,
}

/// `skipped_parts` in the Run JSON of `reconcile run`, only when parts of other accounts were
/// left out (so one-account runs print what they printed before; stderr says it in any
/// format, as the run's warnings).
fn add_skipped_parts(view: &mut View, skipped: &[SkippedPart]) {
    let Some(document) = view.json.as_object_mut().filter(|_| !skipped.is_empty()) else {
        return;
    };
    let parts: Vec<SkippedPartView> = skipped
        .iter()
        .map(|part| SkippedPartView {
            account: part.account.clone(),
            lines: part.lines,
        })
        .collect();
    document.insert("skipped_parts".to_string(), to_json(&parts));
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
        date: Some(clock::parse_date(date)?),
        statement: statement.to_path_buf(),
        format: InputFormat::Auto,
        csv: CsvOptions::default(),
        amount_tolerance: Some(amount_tolerance.to_string()),
        date_window_days: DATE_WINDOW_DEFAULT_DAYS,
        rules: None,
    };
    run_request(context, request).await
}

async fn show(context: &Context, run_id: i64) -> AppResult<Output> {
    let store = context.store().await?;
    let run = store.reconcile_run(run_id).await?.ok_or_else(|| {
        AppError::not_found(format!("reconciliation run {run_id} does not exist"))
    })?;
    let items = store.reconcile_items(run_id).await?;
    Ok(Output::view(run_view(context, &run, &items, None)))
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
    let runs: Vec<RunSummaryView> = runs
        .iter()
        .map(|run| RunSummaryView::new(run, open_of(run.id)))
        .collect();
    Ok(Output::view(View::of_records(&runs, context.global.format)))
}

async fn resolve(context: &Context, arguments: ResolveArgs) -> AppResult<Output> {
    if let Some(file) = &arguments.file {
        return resolve_file(context, file).await;
    }
    let (Some(item_id), Some(note)) = (arguments.item_id, &arguments.note) else {
        return Err(AppError::usage(
            "give ITEM_ID with --post-to ACCOUNT or --accept and --note TEXT, or --file DECISIONS.csv",
        ));
    };
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
    let outcome = reconcile_run::resolve(store, &context.actor, item_id, &action, note).await?;
    let view = resolved_item_view(context, &outcome);
    let mut sections = vec![Section::of_record(&view.item).titled("resolved")];
    if let Some(transfer) = &view.transfer {
        sections.push(Section::of_record(transfer).titled("adjustment"));
    }
    Ok(Output::view(View::new(to_json(&view), sections)))
}

/// `reconcile resolve --file`: every decision of the file, in one transaction.
async fn resolve_file(context: &Context, file: &Path) -> AppResult<Output> {
    let decisions = reconcile_bulk::read_decisions(file)?;
    let store = context.store().await?;
    let outcomes = reconcile_bulk::resolve_all(
        store,
        &context.actor,
        &file.display().to_string(),
        &decisions,
    )
    .await?;
    if context.global.format == Format::Json {
        let views: Vec<ResolvedItemView> = outcomes
            .iter()
            .map(|outcome| resolved_item_view(context, outcome))
            .collect();
        return Ok(Output::view(View::new(to_json(&views), Vec::new())));
    }
    let items: Vec<ItemView> = outcomes
        .iter()
        .map(|outcome| ItemView::from(&outcome.item))
        .collect();
    let transfers: Vec<TransferView> = outcomes
        .iter()
        .filter_map(|outcome| outcome.transfer.as_ref())
        .map(|transfer| TransferView::new(transfer, false))
        .collect();
    let mut sections = vec![Section::of_records(&items).titled("resolved")];
    if !transfers.is_empty() {
        sections.push(Section::of_records(&transfers).titled("adjustments"));
    }
    Ok(Output::view(
        View::new(Value::Null, sections).with_note(format!("{} items resolved", items.len())),
    ))
}

/// One resolved item, as `resolve ITEM_ID` and `resolve --file` show it.
fn resolved_item_view(context: &Context, outcome: &ResolveOutcome) -> ResolvedItemView {
    ResolvedItemView {
        item: ItemView::from(&outcome.item),
        run_id: outcome.run.id,
        account: outcome.run.account.clone(),
        date: outcome
            .item
            .date
            .unwrap_or(outcome.run.last_day())
            .to_string(),
        transfer: outcome
            .transfer
            .as_ref()
            .map(|transfer| TransferView::new(transfer, false)),
        trace_id: context.actor.trace_id.clone(),
    }
}

/// ` --db URL` for a hint the operator copies, when this run's database is not the default
/// (the demo's, or one given with `--db`): without it the hinted command would create and use
/// an empty `fincore.db` in the current directory. A PostgreSQL URL is not repeated (it may
/// hold a password): the hint says `--db URL`.
fn database_flag(context: &Context) -> String {
    let url = &context.global.database_url;
    if url == super::options::DATABASE_URL_DEFAULT {
        String::new()
    } else if url.starts_with("sqlite:") && !url.contains(['\'', ' ']) {
        format!(" --db {url}")
    } else if url.starts_with("sqlite:") && !url.contains('\'') {
        format!(" --db '{url}'")
    } else {
        " --db URL".to_string()
    }
}

/// A run's days in tables: one date, or `from to to`.
fn period_text(period: &PeriodView) -> String {
    if period.from == period.to {
        period.from.clone()
    } else {
        format!("{} to {}", period.from, period.to)
    }
}

/// A run's status in tables: `active`, or which run superseded it.
fn status_text(superseded_by: Option<i64>) -> String {
    match superseded_by {
        None => "active".to_string(),
        Some(newer) => format!("superseded by {newer}"),
    }
}

fn optional_amount(currency: Option<Currency>, minor: Option<i64>) -> Option<String> {
    match (currency, minor) {
        (Some(currency), Some(minor)) => Some(currency.format(minor)),
        _ => None,
    }
}

/// A count as JSON writes it; a length beyond `i64` cannot occur in memory.
fn count(length: usize) -> i64 {
    i64::try_from(length).unwrap_or(i64::MAX)
}

/// A run without its items (`reconcile list`, and the head of `run` and `show`).
#[derive(Serialize)]
struct RunSummaryView {
    run_id: i64,
    account: String,
    /// The run's `--date`; null for a run over the statement's whole period.
    date: Option<String>,
    period: PeriodView,
    /// `active` or `superseded`.
    status: &'static str,
    superseded_by: Option<i64>,
    supersedes: Option<i64>,
    currency: String,
    statement: StatementFileView,
    amount_tolerance: String,
    date_window: i64,
    statement_lines: u64,
    /// Lines booked on other days than the run's (`--date`).
    lines_outside_run: u64,
    /// Lines on days another active run reconciled.
    lines_already_reconciled: u64,
    internal_entries: u64,
    matched: u64,
    matched_fuzzy: u64,
    /// Statement lines matched in groups, and the ledger movements they settle.
    matched_grouped: u64,
    grouped_entries: u64,
    /// Every break kind with its count.
    breaks: BTreeMap<&'static str, u64>,
    balance: Option<BalanceView>,
    operator: String,
    created_at: String,
    trace_id: String,
    /// Break items not yet resolved.
    unresolved: i64,
}

#[derive(Serialize)]
struct PeriodView {
    from: String,
    to: String,
}

#[derive(Serialize)]
struct StatementFileView {
    file: String,
    format: &'static str,
    /// The bank's account identifier from the statement, when it has one.
    account: Option<String>,
}

/// The statement's balances against the ledger's; `difference` is null when the statement is
/// in another currency than the account.
#[derive(Serialize)]
struct BalanceView {
    currency: String,
    date: String,
    statement_opening: String,
    statement_closing: String,
    ledger_closing: String,
    difference: Option<String>,
}

impl RunSummaryView {
    fn new(run: &RunRecord, unresolved: i64) -> RunSummaryView {
        RunSummaryView {
            run_id: run.id,
            account: run.account.clone(),
            date: run.date.map(|date| date.to_string()),
            period: PeriodView {
                from: run.period_from.to_string(),
                to: run.period_to.to_string(),
            },
            status: if run.is_active() {
                "active"
            } else {
                "superseded"
            },
            superseded_by: run.superseded_by,
            supersedes: run.supersedes,
            currency: run.currency.code().to_string(),
            statement: StatementFileView {
                file: run.statement_file.clone(),
                format: run.input_format.as_str(),
                account: run.statement_account.clone(),
            },
            amount_tolerance: run.currency.format(run.amount_tolerance_minor),
            date_window: run.date_window_days,
            statement_lines: run.statement_lines,
            lines_outside_run: run.lines_outside_run,
            lines_already_reconciled: run.lines_already_reconciled,
            internal_entries: run.internal_entries,
            matched: run.matched,
            matched_fuzzy: run.matched_fuzzy,
            matched_grouped: run.matched_grouped,
            grouped_entries: run.grouped_entries,
            breaks: BreakKind::ALL
                .iter()
                .map(|kind| (kind.as_str(), run.break_count(*kind)))
                .collect(),
            balance: run.balance.as_ref().map(|balance| BalanceView {
                currency: balance.currency.code().to_string(),
                date: balance.date.to_string(),
                statement_opening: balance.currency.format(balance.statement_opening_minor),
                statement_closing: balance.currency.format(balance.statement_closing_minor),
                ledger_closing: run.currency.format(balance.ledger_closing_minor),
                difference: balance
                    .difference_minor(run.currency)
                    .map(|minor| run.currency.format(minor)),
            }),
            operator: run.operator.clone(),
            created_at: format_instant(run.created_at_us),
            trace_id: run.trace_id.clone(),
            unresolved,
        }
    }
}

impl Record for RunSummaryView {
    const COLUMNS: &'static [Column<RunSummaryView>] = &[
        Column::field("run_id"),
        Column::field("account"),
        Column::text("days", |run| period_text(&run.period)),
        Column::text("status", |run| status_text(run.superseded_by)),
        Column::field_at("format", "statement.format"),
        Column::field("statement_lines"),
        Column::field("matched"),
        Column::field("matched_fuzzy").wide(),
        Column::text("breaks", |run| run.breaks.values().sum::<u64>().to_string()),
        Column::field("unresolved"),
        Column::field("created_at").wide(),
        Column::field("operator").wide(),
    ];
}

/// The same run summary as the field/value grid `reconcile run` and `show` print above the
/// break items.
#[derive(Serialize)]
#[serde(transparent)]
struct RunDetailView(RunSummaryView);

impl Record for RunDetailView {
    const COLUMNS: &'static [Column<RunDetailView>] = &[
        Column::field("run_id"),
        Column::field("account"),
        Column::text("days", |run| period_text(&run.0.period)),
        Column::text("status", |run| status_text(run.0.superseded_by)),
        Column::text("statement", |run| {
            format!("{} ({})", run.0.statement.file, run.0.statement.format)
        }),
        Column::field("statement_lines"),
        Column::field("lines_outside_run"),
        Column::field("lines_already_reconciled"),
        Column::field("internal_entries"),
        Column::field("matched"),
        Column::field("matched_fuzzy"),
        Column::field("matched_grouped"),
        Column::field("grouped_entries"),
        // One row per break kind, in `BreakKind::ALL` order (a test holds them together).
        Column::field_at("missing_internal", "breaks.missing_internal"),
        Column::field_at("missing_external", "breaks.missing_external"),
        Column::field_at("amount_mismatch", "breaks.amount_mismatch"),
        Column::field_at("duplicate_external", "breaks.duplicate_external"),
        Column::field_at("ambiguous", "breaks.ambiguous"),
        Column::field_at("currency_mismatch", "breaks.currency_mismatch"),
        Column::field_at("balance_mismatch", "breaks.balance_mismatch"),
        Column::optional_text("statement_closing", |run| {
            run.0.balance.as_ref().map(|balance| {
                format!(
                    "{} {} on {}",
                    balance.statement_closing, balance.currency, balance.date
                )
            })
        }),
        Column::optional_text("ledger_closing", |run| {
            run.0
                .balance
                .as_ref()
                .map(|balance| format!("{} {}", balance.ledger_closing, run.0.currency))
        }),
        Column::optional_text("balance_difference", |run| {
            run.0.balance.as_ref().map(|balance| {
                balance
                    .difference
                    .clone()
                    .unwrap_or_else(|| "n/a (other currency)".to_string())
            })
        }),
        Column::field("trace_id"),
    ];
}

/// The Run JSON of SPEC.md plus the stored run's details; the same for `run` and `show`.
#[derive(Serialize)]
struct RunView {
    #[serde(flatten)]
    summary: RunSummaryView,
    /// Only with `run --rules`: what each rule resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    rules: Option<Vec<RuleView>>,
    items: Vec<ItemView>,
}

/// One rule that resolved items of a run.
#[derive(Serialize)]
struct RuleView {
    name: String,
    /// The ids of the items it resolved.
    items: Vec<i64>,
    /// The sum of their differences (signed from the bank's side).
    amount: String,
    currency: String,
}

impl From<&RuleOutcome> for RuleView {
    fn from(outcome: &RuleOutcome) -> RuleView {
        RuleView {
            name: outcome.name.clone(),
            items: outcome.items.clone(),
            amount: outcome.currency.format(outcome.amount_minor),
            currency: outcome.currency.code().to_string(),
        }
    }
}

impl Record for RuleView {
    const COLUMNS: &'static [Column<RuleView>] = &[
        Column::field_at("rule", "name"),
        Column::text("resolved", |rule| rule.items.len().to_string()),
        Column::field("amount"),
        Column::field("currency"),
        Column::text("items", |rule| {
            rule.items
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        }),
    ];
}

/// One break item.
#[derive(Serialize)]
struct ItemView {
    id: i64,
    kind: &'static str,
    reference: String,
    internal_amount: Option<String>,
    external_amount: Option<String>,
    difference: Option<String>,
    transfer_id: Option<i64>,
    statement_line: Option<u64>,
    /// The break's day: its line's booking date, its movement's date, or the balance's date.
    date: Option<String>,
    currency: String,
    internal_currency: Option<String>,
    resolution: Option<ResolutionView>,
}

#[derive(Serialize)]
struct ResolutionView {
    /// `posted` or `accepted`.
    status: &'static str,
    note: String,
    /// The adjustment transfer, when posted.
    transfer_id: Option<i64>,
    by: String,
    at: String,
    /// The item the resolution was made on, when carried over from an earlier run.
    resolved_in_item: Option<i64>,
}

impl From<&ItemRecord> for ItemView {
    fn from(item: &ItemRecord) -> ItemView {
        ItemView {
            id: item.id,
            kind: item.kind.as_str(),
            reference: item.reference.clone(),
            internal_amount: optional_amount(item.internal_currency, item.internal_amount_minor),
            external_amount: optional_amount(Some(item.currency), item.external_amount_minor),
            difference: optional_amount(Some(item.currency), item.difference_minor),
            transfer_id: item.transfer_id,
            statement_line: item.statement_line,
            date: item.date.map(|date| date.to_string()),
            currency: item.currency.code().to_string(),
            internal_currency: item
                .internal_currency
                .map(|currency| currency.code().to_string()),
            resolution: item.resolution.as_ref().map(|resolution| ResolutionView {
                status: resolution.kind.as_str(),
                note: resolution.note.clone(),
                transfer_id: resolution.transfer_id,
                by: resolution.by.clone(),
                at: format_instant(resolution.at_us),
                resolved_in_item: resolution.resolved_in_item,
            }),
        }
    }
}

impl Record for ItemView {
    const COLUMNS: &'static [Column<ItemView>] = &[
        Column::field_at("item", "id"),
        Column::field("kind"),
        Column::field("reference"),
        // Says so when the sides are in different currencies.
        Column::text("internal_amount", |item| {
            match (&item.internal_currency, &item.internal_amount) {
                (Some(currency), amount) if *currency != item.currency => amount
                    .as_ref()
                    .map(|amount| format!("{amount} {currency}"))
                    .unwrap_or_default(),
                (_, amount) => amount.clone().unwrap_or_default(),
            }
        }),
        Column::field("external_amount"),
        Column::field("difference").wide(),
        Column::field("currency"),
        Column::field("transfer_id").wide(),
        Column::field_at("line", "statement_line").wide(),
        Column::text("resolution", |item| {
            item.resolution
                .as_ref()
                .map_or(String::new(), |resolution| match resolution.transfer_id {
                    Some(transfer_id) => format!("posted (transfer {transfer_id})"),
                    None => resolution.status.to_string(),
                })
        }),
    ];
}

/// `reconcile resolve`: the item as resolved, where it belongs, and the adjustment posted.
#[derive(Serialize)]
struct ResolvedItemView {
    #[serde(flatten)]
    item: ItemView,
    run_id: i64,
    account: String,
    date: String,
    transfer: Option<TransferView>,
    trace_id: String,
}

/// A run as JSON, or as a summary and the break items for tables and CSV (only the format asked
/// for is built: a million-line statement has tens of thousands of items).
fn run_view(
    context: &Context,
    run: &RunRecord,
    items: &[ItemRecord],
    rules: Option<&[RuleOutcome]>,
) -> View {
    let unresolved = items
        .iter()
        .filter(|item| item.resolution.is_none())
        .count();
    let summary = RunSummaryView::new(run, count(unresolved));
    if context.global.format == Format::Json {
        return View::new(
            to_json(&RunView {
                summary,
                rules: rules.map(|rules| rules.iter().map(RuleView::from).collect()),
                items: items.iter().map(ItemView::from).collect(),
            }),
            Vec::new(),
        );
    }
    let summary = Section::of_fields(&RunDetailView(summary))
        .titled(format!("reconciliation run {}", run.id));
    let mut sections = vec![summary];
    if let Some(rules) = rules {
        let rules: Vec<RuleView> = rules.iter().map(RuleView::from).collect();
        sections.push(Section::of_records(&rules).titled("rules"));
    }
    if !items.is_empty() {
        let items: Vec<ItemView> = items.iter().map(ItemView::from).collect();
        sections.push(Section::of_records(&items).titled("breaks"));
    }
    let note = if items.is_empty() {
        "fully reconciled".to_string()
    } else if unresolved == 0 {
        format!("fully reconciled: all {} breaks are resolved", items.len())
    } else {
        format!(
            "{unresolved} of {} breaks unresolved; resolve with: fincore{} reconcile resolve ITEM (--post-to ACCOUNT | --accept) --note TEXT",
            items.len(),
            database_flag(context)
        )
    };
    View::new(Value::Null, sections).with_note(note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_grid_shows_every_break_kind_in_order() {
        let break_rows: Vec<&str> = RunDetailView::COLUMNS
            .iter()
            .map(|column| column.header)
            .skip_while(|header| *header != "grouped_entries")
            .skip(1)
            .take(BreakKind::ALL.len())
            .collect();
        let kinds: Vec<&str> = BreakKind::ALL.iter().map(|kind| kind.as_str()).collect();
        assert_eq!(break_rows, kinds);
    }
}
