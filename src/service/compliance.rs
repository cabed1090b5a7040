//! `report compliance`: the ledger's facts for a period read once, every asked-for pattern
//! analysed on the CPU pool, the audit summary read, and an unmasked report recorded in the
//! audit chain before it is shown.

use crate::clock::{self, MICROS_PER_DAY};
use crate::error::AppResult;
use crate::model::{AccountType, Actor};
use crate::report::compliance::{
    analyse, analysis_tasks, ComplianceFindings, ComplianceKinds, ComplianceParams, SanctionsList,
};
use crate::store::{AuditSummary, Store};
use serde_json::json;
use std::collections::HashMap;

/// One report: the period (whole UTC days), its kinds and thresholds.
pub(crate) struct ComplianceRequest {
    pub(crate) from: chrono::NaiveDate,
    pub(crate) to: chrono::NaiveDate,
    pub(crate) kinds: Vec<&'static str>,
    pub(crate) params: ComplianceParams,
    pub(crate) sanctions: Option<SanctionsList>,
    /// Full account numbers instead of masked ones; audited.
    pub(crate) unmask: bool,
}

/// Findings, masked unless the request unmasks them, and the audit summary when asked for.
pub(crate) struct ComplianceReport {
    pub(crate) findings: ComplianceFindings,
    pub(crate) audit: Option<AuditSummary>,
}

pub(crate) async fn gather(
    store: &Store,
    actor: &Actor,
    request: &ComplianceRequest,
) -> AppResult<ComplianceReport> {
    let from_us = clock::date_start_us(request.from);
    let to_us = clock::date_start_us(request.to) + MICROS_PER_DAY - 1;
    let accounts = store.account_facts().await?;
    let types: HashMap<String, AccountType> = accounts
        .iter()
        .map(|a| (a.number.clone(), a.account_type))
        .collect();
    // Dormancy and rapid in-and-out look back before the period.
    let look_back_us = request.params.suspicious.dormant_gap_us
        + request.params.suspicious.rapid_window_us
        + MICROS_PER_DAY;
    let transfers = store
        .transfer_facts(from_us - look_back_us, to_us, &types)
        .await?;
    let kinds = ComplianceKinds {
        ctr: request.kinds.contains(&"ctr"),
        structuring: request.kinds.contains(&"structuring"),
        sanctions: request.kinds.contains(&"sanctions"),
        suspicious: request.kinds.contains(&"suspicious"),
    };
    let tasks = analysis_tasks(transfers.len(), accounts.len());
    let findings = crate::cpu_pool::run(tasks, || {
        analyse(
            &transfers,
            &accounts,
            &request.params,
            kinds,
            request.sanctions.as_ref(),
            request.from,
            request.to,
        )
    })?;
    let audit = if request.kinds.contains(&"audit") {
        Some(store.audit_summary(from_us, to_us).await?)
    } else {
        None
    };
    if request.unmask {
        record_unmask(store, actor, request).await?;
    }
    Ok(ComplianceReport {
        findings: findings.masked(request.unmask),
        audit,
    })
}

async fn record_unmask(store: &Store, actor: &Actor, request: &ComplianceRequest) -> AppResult<()> {
    let mut tx = store.begin_write(actor).await?;
    tx.audit(
        "report.unmasked",
        "report:compliance",
        json!({ "from": request.from.to_string(), "to": request.to.to_string(), "kinds": request.kinds }),
    );
    tx.commit().await?;
    Ok(())
}
