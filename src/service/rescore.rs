//! `risk rescore`: every account (or one) scored over its history as of an instant, the run
//! and its assessments stored, and with `apply` the critical accounts frozen, all in one
//! transaction with their audit events.

use super::risk_rules::{rules_for_read, ChosenRules, RiskOptions};
use super::Progress;
use crate::clock::format_instant;
use crate::error::{AppError, AppResult};
use crate::evidence;
use crate::ledger::account_not_found;
use crate::model::{Account, AccountStatus, Actor, RiskLevel, RiskResult};
use crate::risk::rules::is_bank_side;
use crate::risk::{rescore_movements, rescore_tasks, Movements, Profile};
use crate::store::{with_retry, AccountFilter, LatestRisk, NewAssessment, NewRun, Store};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use tracing::Instrument;

/// What to rescore.
pub(crate) struct RescoreRequest {
    /// One account, or every account when `None`.
    pub(crate) only: Option<String>,
    pub(crate) as_of_us: i64,
    /// Freeze the active accounts that score critical.
    pub(crate) apply: bool,
}

/// A stored rescoring run: the rules used, every account's outcome, what changed and froze.
pub(crate) struct RescoreOutcome {
    pub(crate) chosen: ChosenRules,
    pub(crate) rescored: Vec<RescoredAccount>,
    pub(crate) stored: StoredRun,
}

/// Load, score on the CPU pool, store. Scoring runs beside the async runtime
/// (`spawn_blocking`): it is seconds of CPU on a large ledger.
pub(crate) async fn rescore(
    store: &Store,
    actor: &Actor,
    options: &RiskOptions,
    request: &RescoreRequest,
    progress: &dyn Progress,
) -> AppResult<RescoreOutcome> {
    let as_of_us = request.as_of_us;
    let chosen = rules_for_read(store, options).await?;
    let (accounts, transfers) =
        load_for_rescore(store, request.only.as_deref(), as_of_us, progress)
            .instrument(tracing::info_span!(target: "fincore", "fincore.risk.load"))
            .await?;
    let blacklist: HashSet<String> = store
        .blacklist()
        .await?
        .into_iter()
        .map(|entry| entry.number)
        .collect();
    progress.stage("scoring accounts");
    progress.position(accounts.len() as u64);
    let rules = chosen.rules.clone();
    let span =
        tracing::info_span!(target: "fincore", "fincore.risk.score", accounts = accounts.len());
    let rescored = tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        let tasks = rescore_tasks(accounts.len(), transfers.len());
        let results = crate::cpu_pool::run(tasks, || {
            rescore_movements(&accounts, &transfers, as_of_us, &rules, &blacklist)
        });
        pair_by_number(accounts, results)
    })
    .await
    .map_err(|error| AppError::storage(format!("rescoring failed: {error}")))??;
    progress.stage("storing");
    let stored = store_rescore(store, actor, &chosen, as_of_us, request.apply, &rescored)
        .instrument(tracing::info_span!(target: "fincore", "fincore.risk.store"))
        .await?;
    Ok(RescoreOutcome {
        chosen,
        rescored,
        stored,
    })
}

/// One account's outcome in a rescoring run.
pub(crate) struct RescoredAccount {
    pub(crate) account: Account,
    pub(crate) profile: Profile,
    pub(crate) result: RiskResult,
}

/// Each rescoring result with the account of its number. Checked in every build: a result
/// stored against the wrong account would freeze or clear the wrong customer.
fn pair_by_number(
    accounts: Vec<Account>,
    results: Vec<(String, Profile, RiskResult)>,
) -> AppResult<Vec<RescoredAccount>> {
    let loaded = accounts.len();
    let mut by_number: HashMap<String, Account> = accounts
        .into_iter()
        .map(|account| (account.number.clone(), account))
        .collect();
    let paired = results
        .into_iter()
        .map(|(number, profile, result)| {
            let account = by_number.remove(&number).ok_or_else(|| {
                AppError::storage(format!(
                    "rescoring returned account {} that was not loaded or came twice",
                    crate::model::account_number::mask(&number)
                ))
            })?;
            Ok(RescoredAccount {
                account,
                profile,
                result,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    if paired.len() != loaded {
        return Err(AppError::storage(format!(
            "rescoring scored {} of {loaded} accounts",
            paired.len()
        )));
    }
    Ok(paired)
}

/// Accounts and their transfers.
async fn load_for_rescore(
    store: &Store,
    only: Option<&str>,
    as_of_us: i64,
    progress: &dyn Progress,
) -> AppResult<(Vec<Account>, Movements)> {
    progress.stage("reading transfers");
    match only {
        Some(number) => {
            let account = store
                .account(number)
                .await?
                .ok_or_else(|| account_not_found(number).context("--account"))?;
            let transfers = store.risk_transfers_of(number, as_of_us).await?;
            progress.position(transfers.len() as u64);
            Ok((vec![account], Movements::of_transfers(&transfers)))
        }
        None => {
            let accounts = store.list_accounts(&AccountFilter::default()).await?;
            let report = |rows: u64| progress.position(rows);
            let transfers = store.risk_movements(as_of_us, &report).await?;
            Ok((accounts, transfers))
        }
    }
}

pub(crate) struct StoredRun {
    pub(crate) run_id: i64,
    /// Each account's assessment before this run, in the order of the rescored accounts.
    pub(crate) previous: Vec<Option<LatestRisk>>,
    pub(crate) changed: Vec<bool>,
    /// Accounts this run froze (critical and active, with `--apply`).
    pub(crate) frozen: Vec<String>,
}

/// A change: the level or score differs from the current assessment (none counts as 0, low).
fn is_change(previous: Option<&LatestRisk>, result: &RiskResult) -> bool {
    match previous {
        Some(previous) => {
            previous.score != result.score
                || previous.level != result.level
                || previous.decision != result.decision
        }
        None => result.score != 0,
    }
}

async fn store_rescore(
    store: &Store,
    actor: &Actor,
    chosen: &ChosenRules,
    as_of_us: i64,
    apply: bool,
    rescored: &[RescoredAccount],
) -> AppResult<StoredRun> {
    let profiles: Vec<String> = rescored
        .iter()
        .map(|item| item.profile.to_json().to_string())
        .collect();
    let fingerprint = chosen.rules.version();
    with_retry(|| async {
        let mut tx = store.begin_write(actor).await?;
        let latest = tx.latest_risks().await?;
        let previous: Vec<Option<LatestRisk>> = rescored
            .iter()
            .map(|item| latest.get(&item.account.number).cloned())
            .collect();
        let changed: Vec<bool> = rescored
            .iter()
            .zip(&previous)
            .map(|(item, previous)| is_change(previous.as_ref(), &item.result))
            .collect();
        let critical: Vec<&RescoredAccount> = rescored
            .iter()
            .filter(|item| item.result.level == RiskLevel::Critical)
            .filter(|item| !is_bank_side(item.account.account_type))
            .collect();
        let mut to_freeze: Vec<(String, u32)> = Vec::new();
        if apply && !critical.is_empty() {
            let numbers: Vec<&str> = critical
                .iter()
                .map(|item| item.account.number.as_str())
                .collect();
            // Statuses as they are now, under the write lock.
            let current = tx.accounts(&numbers).await?;
            for item in &critical {
                let active = current
                    .get(&item.account.number)
                    .is_some_and(|account| account.status == AccountStatus::Active);
                if active {
                    to_freeze.push((item.account.number.clone(), item.result.score));
                }
            }
        }
        let assessments: Vec<NewAssessment> = rescored
            .iter()
            .zip(&profiles)
            .map(|(item, profile)| NewAssessment {
                account: &item.account.number,
                as_of_us,
                result: &item.result,
                profile: profile.clone(),
            })
            .collect();
        let run = NewRun {
            as_of_us,
            rules_fingerprint: &fingerprint,
            accounts: rescored.len() as i64,
            changed: changed.iter().filter(|changed| **changed).count() as i64,
            frozen: to_freeze.len() as i64,
        };
        let (run_id, assessment_ids) = tx.insert_risk_run(&run, &assessments).await?;
        let mut rows = vec![
            tx.bind_row(&evidence::RISK_RUNS, &run_id.to_string())
                .await?,
        ];
        if !assessment_ids.is_empty() {
            let (first, last) = (assessment_ids.start, assessment_ids.end - 1);
            rows.extend(
                tx.bind_batch(&evidence::RISK_ASSESSMENTS, first, last)
                    .await?,
            );
        }
        let mut tally = crate::metrics::Tally::default();
        for item in rescored {
            tally.risk_assessment(item.result.level);
        }
        tx.tally(tally);
        tx.audit_rows(
            "risk.rescored",
            &format!("risk_run:{run_id}"),
            json!({
                "run_id": run_id,
                "as_of": format_instant(as_of_us),
                "accounts": run.accounts,
                "changed": run.changed,
                "frozen": run.frozen,
                "rules": chosen.source.describe(),
                "rules_fingerprint": fingerprint,
            }),
            rows,
        );
        let now_us = tx.actor.now_us;
        for (number, score) in &to_freeze {
            tx.set_account_status(number, AccountStatus::Frozen, now_us)
                .await?;
            let account = tx.bind_row(&evidence::ACCOUNTS, number).await?;
            tx.audit_rows(
                "account.frozen",
                number,
                json!({
                    "number": number,
                    "from": AccountStatus::Active.as_str(),
                    "to": AccountStatus::Frozen.as_str(),
                    "reason": format!("risk rescore run {run_id}: critical risk (score {score})"),
                    "run_id": run_id,
                }),
                vec![account],
            );
        }
        tx.commit().await?;
        Ok(StoredRun {
            run_id,
            previous,
            changed,
            frozen: to_freeze.into_iter().map(|(number, _)| number).collect(),
        })
    })
    .await
}
