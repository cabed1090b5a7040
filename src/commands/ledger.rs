//! `fincore ledger verify`

use super::{Context, Output};
use crate::error::AppResult;
use crate::evidence::proof::Finding;
use crate::output::{to_json, Column, Record, Section, View};
use crate::service::verify::{verify, VerifyReport};
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
        let report = VerifyView::from(&verify(context.store().await?, &context.actor).await?);
        let summary = format!(
            "{} transfers, {} accounts, {} rows, {} audit events checked: {} discrepancies",
            report.transfers,
            report.accounts_checked,
            report.rows_checked,
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
    transfers: u64,
    accounts_checked: usize,
    /// Rows of every table the audit chain binds.
    rows_checked: u64,
    /// Columns that are not evidence (verify neither checks nor trusts them), and why.
    not_evidence: Vec<NotEvidence>,
    audit_events_checked: u64,
    discrepancies: Vec<DiscrepancyView>,
}

impl From<&VerifyReport> for VerifyView {
    fn from(report: &VerifyReport) -> VerifyView {
        VerifyView {
            ok: report.discrepancies.is_empty(),
            transfers_checked: true,
            transfers: report.transfers_checked,
            accounts_checked: report.accounts_checked,
            rows_checked: report.rows_checked,
            not_evidence: crate::evidence::NOT_EVIDENCE
                .iter()
                .map(|(table, column, reason)| NotEvidence {
                    table,
                    column,
                    reason,
                })
                .collect(),
            audit_events_checked: report.audit_events_checked,
            discrepancies: report
                .discrepancies
                .iter()
                .map(DiscrepancyView::from)
                .collect(),
        }
    }
}

#[derive(Serialize)]
struct NotEvidence {
    table: &'static str,
    column: &'static str,
    reason: &'static str,
}

/// One failed check: which check, which row (table, key, the audit seq that recorded it),
/// and what is wrong, in words.
#[derive(Serialize)]
struct DiscrepancyView {
    check: &'static str,
    table: &'static str,
    id: String,
    seq: Option<i64>,
    /// `table:id`, as before tables and ids were separate fields.
    entity: String,
    detail: String,
}

impl From<&Finding> for DiscrepancyView {
    fn from(finding: &Finding) -> DiscrepancyView {
        DiscrepancyView {
            check: finding.check,
            table: finding.table,
            id: finding.id.clone(),
            seq: finding.seq,
            entity: format!("{}:{}", finding.table, finding.id),
            detail: finding.detail.clone(),
        }
    }
}

impl Record for DiscrepancyView {
    const COLUMNS: &'static [Column<DiscrepancyView>] = &[
        Column::field("check"),
        Column::field("table"),
        Column::field("id"),
        Column::field("seq"),
        Column::field("detail"),
    ];
}
