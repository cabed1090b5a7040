//! Stored reconciliation runs and break items, as plain records (the store reads and writes
//! them; `run` builds them; the commands render them).

use super::{BreakItem, BreakKind, InputFormat};
use crate::error::{AppError, AppResult};
use crate::money::Currency;
use chrono::NaiveDate;
use std::fmt;
use std::str::FromStr;

/// The statement's booked balances against ours at the end of the closing date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BalanceCheck {
    /// The statement's balance currency.
    pub(crate) currency: Currency,
    /// The statement's closing date (else the run date).
    pub(crate) date: NaiveDate,
    pub(crate) statement_opening_minor: i64,
    pub(crate) statement_closing_minor: i64,
    /// Our settlement account's balance at the end of `date` (entries before next midnight).
    pub(crate) ledger_closing_minor: i64,
}

impl BalanceCheck {
    /// Statement closing − our closing, in one currency; `None` when the statement is in
    /// another currency than the account.
    pub(crate) fn difference_minor(&self, account_currency: Currency) -> Option<i64> {
        (self.currency == account_currency).then(|| {
            self.statement_closing_minor
                .saturating_sub(self.ledger_closing_minor)
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RunRecord {
    pub(crate) id: i64,
    pub(crate) account: String,
    /// The run's `--date`; `None` for a run over the statement's whole period.
    pub(crate) date: Option<NaiveDate>,
    /// The days the run reconciles (`date` to `date` when it has one).
    pub(crate) period_from: NaiveDate,
    pub(crate) period_to: NaiveDate,
    /// The run that replaced this one; `None` while it is the account and period's active run.
    pub(crate) superseded_by: Option<i64>,
    /// The run this one replaced.
    pub(crate) supersedes: Option<i64>,
    /// The settlement account's currency.
    pub(crate) currency: Currency,
    pub(crate) statement_file: String,
    pub(crate) input_format: InputFormat,
    /// The bank's account identifier from the statement (IBAN, MT940 `:25:`), when present.
    pub(crate) statement_account: Option<String>,
    pub(crate) amount_tolerance_minor: i64,
    pub(crate) date_window_days: i64,
    /// Statement lines that took part (booked on the run's days).
    pub(crate) statement_lines: u64,
    /// Lines of the file booked on other days than the run's (`--date`), not matched.
    pub(crate) lines_outside_run: u64,
    /// Lines booked on days another active run already reconciled, not matched again.
    pub(crate) lines_already_reconciled: u64,
    pub(crate) internal_entries: u64,
    pub(crate) matched: u64,
    pub(crate) matched_fuzzy: u64,
    /// Statement lines matched in groups, and the ledger movements those groups settle.
    pub(crate) matched_grouped: u64,
    pub(crate) grouped_entries: u64,
    /// Per break kind, in `BreakKind::ALL` order.
    pub(crate) breaks: [u64; BreakKind::ALL.len()],
    pub(crate) balance: Option<BalanceCheck>,
    pub(crate) operator: String,
    pub(crate) trace_id: String,
    pub(crate) created_at_us: i64,
}

impl RunRecord {
    pub(crate) fn break_count(&self, kind: BreakKind) -> u64 {
        let index = BreakKind::ALL
            .iter()
            .position(|known| *known == kind)
            .expect("every kind is in ALL");
        self.breaks[index]
    }

    pub(crate) fn is_active(&self) -> bool {
        self.superseded_by.is_none()
    }

    /// The last day of the run: its date, or the end of its period.
    pub(crate) fn last_day(&self) -> NaiveDate {
        self.period_to
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResolutionKind {
    /// The difference was posted as an adjustment transfer.
    Posted,
    /// Accepted as is, with a note.
    Accepted,
}

impl ResolutionKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ResolutionKind::Posted => "posted",
            ResolutionKind::Accepted => "accepted",
        }
    }
}

impl fmt::Display for ResolutionKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for ResolutionKind {
    type Err = AppError;
    fn from_str(text: &str) -> AppResult<ResolutionKind> {
        match text {
            "posted" => Ok(ResolutionKind::Posted),
            "accepted" => Ok(ResolutionKind::Accepted),
            _ => Err(AppError::invalid_input(format!(
                "'{text}' is not a resolution"
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolution {
    pub(crate) kind: ResolutionKind,
    pub(crate) note: String,
    /// The adjustment transfer, for `Posted`.
    pub(crate) transfer_id: Option<i64>,
    pub(crate) by: String,
    pub(crate) at_us: i64,
    /// Where the resolution was made, when this item carries it over from an earlier run.
    pub(crate) resolved_in_item: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ItemRecord {
    pub(crate) id: i64,
    pub(crate) run_id: i64,
    pub(crate) kind: BreakKind,
    pub(crate) reference: String,
    /// The statement line's currency; the movement's for `missing_external`.
    pub(crate) currency: Currency,
    pub(crate) internal_currency: Option<Currency>,
    pub(crate) internal_amount_minor: Option<i64>,
    pub(crate) external_amount_minor: Option<i64>,
    pub(crate) difference_minor: Option<i64>,
    pub(crate) transfer_id: Option<i64>,
    pub(crate) statement_line: Option<u64>,
    /// The day of the break (`BreakItem::date`); `None` in runs stored before periods.
    pub(crate) date: Option<NaiveDate>,
    pub(crate) resolution: Option<Resolution>,
}

impl ItemRecord {
    pub(crate) fn from_break(id: i64, run_id: i64, item: &BreakItem) -> ItemRecord {
        ItemRecord {
            id,
            run_id,
            kind: item.kind,
            reference: item.reference.clone(),
            currency: item.currency,
            internal_currency: item.internal_currency,
            internal_amount_minor: item.internal_amount_minor,
            external_amount_minor: item.external_amount_minor,
            difference_minor: item.difference_minor,
            transfer_id: item.transfer_id,
            statement_line: item.statement_line,
            date: Some(item.date),
            resolution: None,
        }
    }

    /// What makes two items of runs of the same account "the same break", so a re-run
    /// carries an earlier resolution over. The statement line's number is left out: a weekly
    /// file numbers the lines of a day's file differently.
    pub(crate) fn identity(&self) -> ItemIdentity<'_> {
        ItemIdentity {
            kind: self.kind,
            reference: &self.reference,
            currency: self.currency,
            internal_currency: self.internal_currency,
            internal_amount_minor: self.internal_amount_minor,
            external_amount_minor: self.external_amount_minor,
            transfer_id: self.transfer_id,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ItemIdentity<'a> {
    kind: BreakKind,
    reference: &'a str,
    currency: Currency,
    internal_currency: Option<Currency>,
    internal_amount_minor: Option<i64>,
    external_amount_minor: Option<i64>,
    transfer_id: Option<i64>,
}
