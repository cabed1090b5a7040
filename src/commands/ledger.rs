//! `fincore ledger verify`

use super::{Context, Output};
use crate::error::AppResult;
use crate::output::{Section, View};
use crate::service::verify::verify;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Every transfer balances, every balance equals its entries, the audit chain is intact
    Verify,
}

impl LedgerCommand {
    pub fn name(&self) -> &'static str {
        "verify"
    }

    pub async fn run(self, context: &Context) -> AppResult<Output> {
        let report = verify(context.store().await?).await?;
        let mut section = Section::new(&["check", "entity", "detail"]);
        for discrepancy in &report.discrepancies {
            section.push(vec![
                discrepancy.check.to_string(),
                discrepancy.entity.clone(),
                discrepancy.detail.clone(),
            ]);
        }
        let summary = format!(
            "{} accounts, {} audit events checked: {} discrepancies",
            report.accounts_checked,
            report.audit_events_checked,
            report.discrepancies.len()
        );
        let mut json = serde_json::to_value(&report).expect("report serialises");
        json["ok"] = serde_json::json!(report.discrepancies.is_empty());
        let exit_code = if report.discrepancies.is_empty() {
            0
        } else {
            1
        };
        let sections = if report.discrepancies.is_empty() {
            Vec::new()
        } else {
            vec![section]
        };
        Ok(Output::view(View::new(json, sections).with_note(summary)).with_exit_code(exit_code))
    }
}
