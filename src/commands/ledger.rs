//! `fincore ledger verify`

use super::{Context, Output};
use crate::error::AppResult;
use crate::output::{to_json, Column, Record, Section, View};
use crate::service::verify::{verify, Discrepancy, VerifyReport};
use clap::Subcommand;
use serde::Serialize;

#[derive(Debug, Subcommand)]
pub(crate) enum LedgerCommand {
    /// Every transfer balances, every balance equals its entries, the audit chain is intact
    Verify,
}

impl LedgerCommand {
    pub(crate) fn name(&self) -> &'static str {
        "verify"
    }

    pub(crate) async fn run(self, context: &Context) -> AppResult<Output> {
        let report = VerifyView::from(&verify(context.store().await?).await?);
        let summary = format!(
            "{} accounts, {} audit events checked: {} discrepancies",
            report.accounts_checked,
            report.audit_events_checked,
            report.discrepancies.len()
        );
        let exit_code = if report.ok { 0 } else { 1 };
        let sections = if report.ok {
            Vec::new()
        } else {
            vec![Section::of_records(&report.discrepancies)]
        };
        Ok(
            Output::view(View::new(to_json(&report), sections).with_note(summary))
                .with_exit_code(exit_code),
        )
    }
}

/// `ledger verify`: what was checked, and every discrepancy found (`ok` when there is none).
#[derive(Serialize)]
struct VerifyView {
    ok: bool,
    transfers_checked: bool,
    accounts_checked: usize,
    audit_events_checked: u64,
    discrepancies: Vec<DiscrepancyView>,
}

impl From<&VerifyReport> for VerifyView {
    fn from(report: &VerifyReport) -> VerifyView {
        VerifyView {
            ok: report.discrepancies.is_empty(),
            transfers_checked: report.transfers_checked,
            accounts_checked: report.accounts_checked,
            audit_events_checked: report.audit_events_checked,
            discrepancies: report
                .discrepancies
                .iter()
                .map(DiscrepancyView::from)
                .collect(),
        }
    }
}

/// One failed check: which check, on what, and what was wrong.
#[derive(Serialize)]
struct DiscrepancyView {
    check: &'static str,
    entity: String,
    detail: String,
}

impl From<&Discrepancy> for DiscrepancyView {
    fn from(discrepancy: &Discrepancy) -> DiscrepancyView {
        DiscrepancyView {
            check: discrepancy.check,
            entity: discrepancy.entity.clone(),
            detail: discrepancy.detail.clone(),
        }
    }
}

impl Record for DiscrepancyView {
    const COLUMNS: &'static [Column<DiscrepancyView>] = &[
        Column::field("check"),
        Column::field("entity"),
        Column::field("detail"),
    ];
}
