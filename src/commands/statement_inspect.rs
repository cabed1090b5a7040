//! `fincore reconcile inspect FILE`: what the statement reader understood — format, accounts,
//! periods, balances and every line — without opening a ledger. How an operator onboards a
//! new bank: read its file here before the first `reconcile run`.

use super::reconcile::{csv_options, InspectArgs};
use super::Output;
use crate::error::{AppError, AppResult};
use crate::output::{to_json, Column, Record, Section, View};
use crate::reconcile::{
    read_statement, Statement, StatementBalances, StatementLine, StatementPart,
};
use serde::Serialize;

pub(crate) async fn inspect(arguments: InspectArgs) -> AppResult<Output> {
    let format = arguments.reading.input_format()?;
    let options = csv_options(&arguments.reading)?;
    let path = arguments.file.clone();
    // Reading a large statement is seconds of CPU: off the async workers.
    let statement =
        tokio::task::spawn_blocking(move || read_statement(&path, format, &options, &mut |_| {}))
            .await
            .map_err(|error| {
                AppError::storage(format!("reading the statement failed: {error}"))
            })??;
    let inspected = InspectView::new(&arguments.file.display().to_string(), &statement);
    let sections = vec![
        Section::of_fields(&inspected).titled("Statement"),
        Section::of_records(&inspected.parts).titled("Parts"),
        Section::of_records(&inspected.lines).titled("Lines"),
    ];
    Ok(Output::view(View::new(to_json(&inspected), sections)))
}

/// The whole file as read.
#[derive(Serialize)]
struct InspectView {
    file: String,
    format: &'static str,
    /// Every bank account the file holds, in file order.
    accounts: Vec<String>,
    /// The days `reconcile run` without `--date` reconciles (see `reconcile::statement_period`).
    period: Option<PeriodView>,
    lines_read: usize,
    /// Entries not booked (pending, information): counted, not lines.
    pending_entries: u64,
    parts: Vec<PartView>,
    lines: Vec<LineView>,
}

#[derive(Serialize)]
struct PeriodView {
    from: String,
    to: String,
}

/// One statement block (a camt `Stmt`/`Rpt`/`Ntfctn`, an MT940 message).
#[derive(Serialize)]
struct PartView {
    part: usize,
    account: Option<String>,
    period_from: Option<String>,
    period_to: Option<String>,
    currency: Option<String>,
    opening_balance: Option<String>,
    closing_balance: Option<String>,
    closing_date: Option<String>,
    first_line: Option<u64>,
    last_line: Option<u64>,
    lines: usize,
    pending_entries: u64,
}

/// One statement line: signed amount (money in positive), its direction spelled out.
#[derive(Serialize)]
struct LineView {
    line: u64,
    source_line: u64,
    date: String,
    amount: String,
    direction: &'static str,
    currency: String,
    reference: String,
    counterparty: String,
    description: String,
    group: Option<u64>,
}

impl InspectView {
    fn new(file: &str, statement: &Statement) -> InspectView {
        let mut parts: Vec<PartView> = statement
            .parts
            .iter()
            .enumerate()
            .map(|(index, part)| PartView::new(index + 1, part, &statement.lines))
            .collect();
        if parts.is_empty() {
            // A format without blocks (CSV): the whole file is one part.
            let whole = StatementPart {
                account: statement.account.clone(),
                balances: statement.balances,
                period: None,
                lines: 0..statement.lines.len(),
                pending_entries: statement.pending_entries,
            };
            parts.push(PartView::new(1, &whole, &statement.lines));
        }
        let mut accounts: Vec<String> = statement
            .part_accounts()
            .into_iter()
            .map(str::to_string)
            .collect();
        if accounts.is_empty() {
            accounts.extend(statement.account.clone());
        }
        InspectView {
            file: file.to_string(),
            format: statement.format.as_str(),
            accounts,
            period: crate::reconcile::statement_period(statement).map(|(from, to)| PeriodView {
                from: from.to_string(),
                to: to.to_string(),
            }),
            lines_read: statement.lines.len(),
            pending_entries: statement.pending_entries,
            parts,
            lines: statement.lines.iter().map(LineView::from).collect(),
        }
    }
}

impl PartView {
    fn new(number: usize, part: &StatementPart, lines: &[StatementLine]) -> PartView {
        let own = lines.get(part.lines.clone()).unwrap_or(&[]);
        let balance = |pick: fn(&StatementBalances) -> i64| {
            part.balances
                .as_ref()
                .map(|balances| balances.currency.format(pick(balances)))
        };
        PartView {
            part: number,
            account: part.account.clone(),
            period_from: part.period.map(|(from, _)| from.to_string()),
            period_to: part.period.map(|(_, to)| to.to_string()),
            currency: part
                .balances
                .as_ref()
                .map(|balances| balances.currency.code().to_string()),
            opening_balance: balance(|balances| balances.opening_minor),
            closing_balance: balance(|balances| balances.closing_minor),
            closing_date: part
                .balances
                .as_ref()
                .and_then(|balances| balances.closing_date)
                .map(|date| date.to_string()),
            first_line: own.first().map(|line| line.line),
            last_line: own.last().map(|line| line.line),
            lines: own.len(),
            pending_entries: part.pending_entries,
        }
    }
}

impl From<&StatementLine> for LineView {
    fn from(line: &StatementLine) -> LineView {
        LineView {
            line: line.line,
            source_line: line.source_line,
            date: line.date.to_string(),
            amount: line.currency.format(line.amount_minor),
            direction: if line.amount_minor < 0 {
                "debit"
            } else {
                "credit"
            },
            currency: line.currency.code().to_string(),
            reference: line.reference.clone(),
            counterparty: line.counterparty.clone(),
            description: line.description.clone(),
            group: line.group,
        }
    }
}

impl Record for InspectView {
    const COLUMNS: &'static [Column<InspectView>] = &[
        Column::field("file"),
        Column::field("format"),
        Column::text("accounts", |view| view.accounts.join(", ")),
        Column::optional_text("period", |view| {
            view.period
                .as_ref()
                .map(|period| format!("{} to {}", period.from, period.to))
        }),
        Column::field("lines_read"),
        Column::field("pending_entries"),
    ];
}

impl Record for PartView {
    const COLUMNS: &'static [Column<PartView>] = &[
        Column::field("part"),
        Column::field("account"),
        Column::field("period_from"),
        Column::field("period_to"),
        Column::field("currency"),
        Column::field("opening_balance"),
        Column::field("closing_balance"),
        Column::field("lines"),
        Column::field("pending_entries"),
    ];
}

impl Record for LineView {
    const COLUMNS: &'static [Column<LineView>] = &[
        Column::field("line"),
        Column::field("date"),
        Column::field("amount"),
        Column::field("currency"),
        Column::field("reference"),
        Column::field("counterparty"),
        Column::field("description"),
        Column::field("group"),
    ];
}
