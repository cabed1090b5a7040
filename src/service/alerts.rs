//! `alerts check`: measure every rule (reads), then, under the write lock, compare with the
//! stored state and store each transition (firing, resolved) with its audit event in one
//! transaction. A check that changes no state writes nothing.

use crate::alerts::{self, AlertRule, AlertState, Condition, Evaluation, Measurement};
use crate::audit::ImportedTransfers;
use crate::error::AppResult;
use crate::model::Actor;
use crate::store::{AlertTransition, Store};
use serde_json::json;
use std::collections::HashMap;

const MICROS_PER_SECOND: i64 = 1_000_000;

pub(crate) struct CheckRequest {
    pub(crate) rules: Vec<AlertRule>,
    pub(crate) as_of_us: i64,
    /// Store transitions (a check at "now"); a check `--as-of` an earlier instant only reports.
    pub(crate) record: bool,
}

pub(crate) struct AlertOutcome {
    pub(crate) rule: AlertRule,
    pub(crate) evaluation: Evaluation,
    pub(crate) state: AlertState,
    /// When the alert started firing (active alerts).
    pub(crate) since_us: Option<i64>,
}

pub(crate) struct CheckReport {
    pub(crate) alerts: Vec<AlertOutcome>,
    pub(crate) exit_code: u8,
}

pub(crate) async fn check(
    store: &Store,
    actor: &Actor,
    request: CheckRequest,
) -> AppResult<CheckReport> {
    let mut evaluations = Vec::with_capacity(request.rules.len());
    for rule in &request.rules {
        let measurement = measure(store, rule, request.as_of_us).await?;
        evaluations.push(alerts::evaluate(rule, &measurement));
    }
    let mut tx = store.begin_write(actor).await?;
    let stored: HashMap<String, (bool, i64)> = tx
        .alert_states()
        .await?
        .into_iter()
        .map(|alert| (alert.rule, (alert.firing, alert.since_us)))
        .collect();
    let mut outcomes = Vec::with_capacity(evaluations.len());
    let mut transitions = 0;
    for (rule, evaluation) in request.rules.into_iter().zip(evaluations) {
        let (was_firing, since_us) = stored.get(&rule.name).copied().unwrap_or((false, 0));
        let state = AlertState::between(was_firing, evaluation.breached);
        if state.is_transition() && request.record {
            record_transition(&mut tx, &rule, &evaluation, state).await?;
            transitions += 1;
        }
        let since_us = match state {
            AlertState::Firing => Some(request.as_of_us),
            AlertState::Ongoing => Some(since_us),
            AlertState::Ok | AlertState::Resolved => None,
        };
        crate::metrics::record_alert(&crate::metrics::AlertMetric {
            rule: &rule.name,
            kind: rule.kind(),
            severity: rule.severity.as_str(),
            unit: evaluation.unit.as_str(),
            value: evaluation.value,
            active: state.is_active(),
        });
        outcomes.push(AlertOutcome {
            rule,
            evaluation,
            state,
            since_us,
        });
    }
    if transitions > 0 {
        tx.commit().await?;
    }
    let exit_code = alerts::exit_code(
        outcomes
            .iter()
            .filter(|outcome| outcome.state.is_active())
            .map(|outcome| outcome.rule.severity),
    );
    Ok(CheckReport {
        alerts: outcomes,
        exit_code,
    })
}

async fn record_transition(
    tx: &mut crate::store::WriteTx,
    rule: &AlertRule,
    evaluation: &Evaluation,
    state: AlertState,
) -> AppResult<()> {
    let transition = AlertTransition {
        rule: &rule.name,
        kind: rule.kind(),
        severity: rule.severity.as_str(),
        firing: state == AlertState::Firing,
        value: evaluation.value,
        unit: evaluation.unit.as_str(),
        message: &evaluation.message,
    };
    tx.set_alert_state(&transition).await?;
    let row = tx
        .bind_row(&crate::evidence::ALERT_STATES, &rule.name)
        .await?;
    tx.audit_rows(
        &format!("alert.{}", state.as_str()),
        &format!("alert:{}", rule.name),
        json!({
            "rule": rule.name,
            "kind": rule.kind(),
            "severity": rule.severity.as_str(),
            "state": state.as_str(),
            "value": evaluation.value,
            "unit": evaluation.unit.as_str(),
            "message": evaluation.message,
        }),
        vec![row],
    );
    Ok(())
}

/// What one rule looks at, read from the store.
async fn measure(store: &Store, rule: &AlertRule, as_of_us: i64) -> AppResult<Measurement> {
    let seconds = |seconds: i64| seconds.saturating_mul(MICROS_PER_SECOND);
    Ok(match &rule.condition {
        Condition::FailureRate { window_seconds, .. } => {
            let counts = store
                .transfer_counts_between(as_of_us - seconds(*window_seconds), as_of_us)
                .await?;
            Measurement::Ratio {
                failed: counts.rejected,
                total: counts.attempted,
            }
        }
        Condition::RiskBlockSpike {
            window_seconds,
            baseline_windows,
            ..
        } => {
            let window = seconds(*window_seconds);
            let start = as_of_us - window;
            let current = store.transfer_counts_between(start, as_of_us).await?;
            let baseline = store
                .transfer_counts_between(start - window.saturating_mul(*baseline_windows), start)
                .await?;
            Measurement::Spike {
                current: current.risk_rejected,
                baseline_total: baseline.risk_rejected,
            }
        }
        Condition::Balance { account, .. } => match store.account(account).await? {
            Some(found) => Measurement::Balance {
                balance_minor: found.balance_minor,
                minor_units: found.currency.minor_units(),
                currency: found.currency.code().to_string(),
            },
            None => Measurement::Missing(format!(
                "account {} does not exist",
                crate::model::account_number::mask(account)
            )),
        },
        Condition::ReconcileMissingRun {
            account,
            deadline_seconds,
        } => {
            let (into_day_seconds, yesterday) = alerts::day_position(as_of_us);
            Measurement::Run {
                past_deadline: into_day_seconds >= *deadline_seconds,
                covered: store.reconciled_on(account, &yesterday).await?,
                day: yesterday,
            }
        }
        Condition::UnresolvedBreaks {
            account,
            older_than_seconds,
            ..
        } => {
            let account = account.as_deref().unwrap_or("");
            let until = as_of_us - seconds(*older_than_seconds);
            Measurement::Count(store.unresolved_breaks_until(account, until).await?)
        }
        Condition::ImportRejectRate { window_seconds, .. } => {
            let details = store
                .import_details_between(as_of_us - seconds(*window_seconds), as_of_us)
                .await?;
            let (mut failed, mut total) = (0i64, 0i64);
            for text in details {
                if let Ok(batch) = serde_json::from_str::<ImportedTransfers>(&text) {
                    failed += i64::try_from(batch.rejected).unwrap_or(i64::MAX);
                    total += i64::try_from(batch.transfers).unwrap_or(i64::MAX);
                }
            }
            Measurement::Ratio { failed, total }
        }
    })
}
