//! Risk tables: rule sets (versioned, one active), the blacklist, rescoring runs and stored
//! assessments, and the lean transfer reads the risk engine needs (no reference, description,
//! operator or trace: only what windows and profiles look at).

use super::columns::Value;
use super::rows::{stored_score, StoredRow};
use super::write::{multi_row_insert, placeholder, placeholders, TxInner, WriteTx};
use super::{backend, dispatch, DbSystem, Pool, Store, INSERT_ROWS_MAX};
use crate::error::{AppError, AppResult};
use crate::model::{RiskDecision, RiskLevel, RiskResult, Transfer, TransferKind, TransferStatus};
use crate::money::Currency;
use crate::risk::Movements;
use sqlx::Row;
use std::collections::{HashMap, HashSet};

/// The columns of a lean transfer read, in `LeanDecoder` order.
const LEAN_COLUMNS: &str =
    "id, kind, from_account, to_account, amount_minor, currency, status, at_us";

/// Account numbers per `IN (…)` list.
const IN_LIST_MAX: usize = INSERT_ROWS_MAX;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredRuleSet {
    pub(crate) version: i64,
    pub(crate) fingerprint: String,
    pub(crate) rules_toml: String,
    pub(crate) source: String,
    pub(crate) imported_at_us: i64,
    pub(crate) operator: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlacklistEntry {
    pub(crate) number: String,
    pub(crate) reason: String,
    pub(crate) added_at_us: i64,
    pub(crate) operator: String,
}

/// The current (latest `as_of`) assessment of an account, as kept in `risk_latest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LatestRisk {
    pub(crate) assessment_id: i64,
    pub(crate) as_of_us: i64,
    pub(crate) score: u32,
    pub(crate) level: RiskLevel,
    pub(crate) decision: RiskDecision,
}

/// One stored assessment with its explanation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredAssessment {
    pub(crate) id: i64,
    pub(crate) run_id: i64,
    pub(crate) account: String,
    pub(crate) as_of_us: i64,
    pub(crate) result: RiskResult,
    pub(crate) profile: serde_json::Value,
}

/// What a rescoring run writes for one account.
#[derive(Debug, Clone)]
pub(crate) struct NewAssessment<'a> {
    pub(crate) account: &'a str,
    pub(crate) as_of_us: i64,
    pub(crate) result: &'a RiskResult,
    /// JSON text.
    pub(crate) profile: String,
}

#[derive(Debug, Clone)]
pub(crate) struct NewRun<'a> {
    pub(crate) as_of_us: i64,
    pub(crate) rules_fingerprint: &'a str,
    pub(crate) accounts: i64,
    pub(crate) changed: i64,
    pub(crate) frozen: i64,
}

/// Turns lean rows into `Transfer`s; currencies are parsed once per distinct code.
#[derive(Default)]
struct LeanDecoder {
    currencies: Vec<(String, Currency)>,
}

impl LeanDecoder {
    #[allow(clippy::too_many_arguments)]
    fn transfer(
        &mut self,
        id: i64,
        kind: &str,
        from: &str,
        to: &str,
        amount_minor: i64,
        currency: &str,
        status: &str,
        at_us: i64,
    ) -> AppResult<Transfer> {
        let currency = self.currency(currency)?;
        let kind = TransferKind::ALL
            .iter()
            .copied()
            .find(|known| known.as_str() == kind)
            .ok_or_else(|| corrupt(format!("transfer {id}: kind '{kind}'")))?;
        let status = match status {
            "posted" => TransferStatus::Posted,
            "rejected" => TransferStatus::Rejected,
            other => return Err(corrupt(format!("transfer {id}: status '{other}'"))),
        };
        Ok(Transfer {
            id,
            key: None,
            payload_hash: String::new(),
            kind,
            from: from.to_string(),
            to: to.to_string(),
            amount_minor,
            currency,
            status,
            error_code: None,
            error_message: None,
            reference: String::new(),
            description: String::new(),
            at_us,
            created_at_us: at_us,
            risk: RiskResult::approve(),
            reverses_id: None,
            operator: String::new(),
            trace_id: String::new(),
        })
    }

    fn currency(&mut self, code: &str) -> AppResult<Currency> {
        if let Some((_, currency)) = self.currencies.iter().find(|(known, _)| known == code) {
            return Ok(*currency);
        }
        let currency = Currency::parse(code).map_err(|error| corrupt(error.message))?;
        self.currencies.push((code.to_string(), currency));
        Ok(currency)
    }
}

fn corrupt(message: String) -> AppError {
    AppError::storage(format!("stored row is not valid: {message}"))
}

const ACTIVE_RULE_SET_SQL: &str =
    "SELECT version, fingerprint, rules_toml, source, imported_at_us, operator \
     FROM risk_rule_sets WHERE active = 1";

macro_rules! stored_rule_set {
    ($row:expr) => {{
        let row = $row;
        Ok::<StoredRuleSet, sqlx::Error>(StoredRuleSet {
            version: row.try_get(0)?,
            fingerprint: row.try_get(1)?,
            rules_toml: row.try_get(2)?,
            source: row.try_get(3)?,
            imported_at_us: row.try_get(4)?,
            operator: row.try_get(5)?,
        })
    }};
}

/// `assessment_id, as_of_us, score, level, decision` from column `$first` on, of the
/// `risk_latest` row of account `$account`.
macro_rules! latest_risk {
    ($row:expr, $first:expr, $account:expr) => {{
        let row = $row;
        LatestRisk {
            assessment_id: row.try_get($first)?,
            as_of_us: row.try_get($first + 1)?,
            score: stored_score("risk_latest", "score", $account, row.try_get($first + 2)?)?,
            level: parse_level(row.try_get::<&str, _>($first + 3)?)?,
            decision: parse_decision(row.try_get::<&str, _>($first + 4)?)?,
        }
    }};
}

/// Decode one lean row (`LEAN_COLUMNS`) of either backend.
macro_rules! lean_row {
    ($decoder:expr, $row:expr) => {{
        let row = $row;
        $decoder.transfer(
            row.try_get::<i64, _>(0)?,
            row.try_get::<&str, _>(1)?,
            row.try_get::<&str, _>(2)?,
            row.try_get::<&str, _>(3)?,
            row.try_get::<i64, _>(4)?,
            row.try_get::<&str, _>(5)?,
            row.try_get::<&str, _>(6)?,
            row.try_get::<i64, _>(7)?,
        )
    }};
}

fn parse_level(text: &str) -> AppResult<RiskLevel> {
    RiskLevel::parse(text).ok_or_else(|| corrupt(format!("risk level '{text}'")))
}

fn parse_decision(text: &str) -> AppResult<RiskDecision> {
    RiskDecision::parse(text).ok_or_else(|| corrupt(format!("risk decision '{text}'")))
}

/// `IN (…)` lists of accounts plus the instant bound, SQL for both lean history reads.
fn history_sql(system: DbSystem, accounts: usize) -> (String, String) {
    let list = placeholders(system, 1, accounts);
    let since = placeholder(system, accounts + 1);
    let until = placeholder(system, accounts + 2);
    let movements = format!(
        "SELECT {LEAN_COLUMNS} FROM transfers WHERE id IN \
         (SELECT transfer_id FROM entries WHERE account IN ({list}) AND at_us > {since} AND at_us <= {until})"
    );
    let failed = format!(
        "SELECT {LEAN_COLUMNS} FROM transfers WHERE status = 'rejected' \
         AND from_account IN ({list}) AND at_us > {since} AND at_us <= {until}"
    );
    (movements, failed)
}

impl WriteTx {
    /// The transfers the risk windows of `accounts` need: posted movements in or out and
    /// rejected attempts from them, with `since_exclusive_us < at ≤ until_us`. Each once.
    pub(crate) async fn risk_history(
        &mut self,
        accounts: &[&str],
        since_exclusive_us: i64,
        until_us: i64,
    ) -> AppResult<Vec<Transfer>> {
        let mut decoder = LeanDecoder::default();
        let mut found = Vec::new();
        let mut seen: HashSet<i64> = HashSet::new();
        for chunk in accounts.chunks(IN_LIST_MAX) {
            let (movements, failed) = history_sql(self.system, chunk.len());
            for sql in [movements, failed] {
                let rows = dispatch!(TxInner, &mut self.inner, tx => {
                    let mut query = sqlx::query(&sql);
                    for number in chunk {
                        query = query.bind(*number);
                    }
                    let rows = query
                        .bind(since_exclusive_us)
                        .bind(until_us)
                        .fetch_all(&mut **tx)
                        .await?;
                    let mut decoded = Vec::with_capacity(rows.len());
                    for row in &rows {
                        decoded.push(lean_row!(decoder, row)?);
                    }
                    decoded
                });
                // A transfer between two accounts of different chunks comes back twice.
                found.extend(rows.into_iter().filter(|transfer| seen.insert(transfer.id)));
            }
        }
        Ok(found)
    }

    /// The active rule set, if one was imported.
    pub(crate) async fn active_rule_set(&mut self) -> AppResult<Option<StoredRuleSet>> {
        let sql = ACTIVE_RULE_SET_SQL;
        let row = dispatch!(TxInner, &mut self.inner, tx => {
            sqlx::query(sql)
                .fetch_optional(&mut **tx)
                .await?
                .map(|row| stored_rule_set!(row))
                .transpose()?
        });
        Ok(row)
    }

    /// Store a new version and make it the active one. Returns its version number.
    pub(crate) async fn insert_rule_set(
        &mut self,
        fingerprint: &str,
        rules_toml: &str,
        source: &str,
    ) -> AppResult<i64> {
        let (now_us, operator) = (self.actor.now_us, self.actor.operator.clone());
        let version = dispatch!(TxInner, &mut self.inner, tx => {
            let version: i64 = sqlx::query_scalar(
                "SELECT CAST(COALESCE(MAX(version), 0) + 1 AS BIGINT) FROM risk_rule_sets",
            )
            .fetch_one(&mut **tx)
            .await?;
            sqlx::query("UPDATE risk_rule_sets SET active = 0 WHERE active = 1")
                .execute(&mut **tx)
                .await?;
            sqlx::query(
                "INSERT INTO risk_rule_sets (version, fingerprint, rules_toml, source, active, imported_at_us, operator) \
                 VALUES ($1, $2, $3, $4, 1, $5, $6)",
            )
            .bind(version)
            .bind(fingerprint)
            .bind(rules_toml)
            .bind(source)
            .bind(now_us)
            .bind(operator)
            .execute(&mut **tx)
            .await?;
            version
        });
        Ok(version)
    }

    /// Which of `numbers` are on the blacklist.
    pub(crate) async fn blacklisted_among(
        &mut self,
        numbers: &[&str],
    ) -> AppResult<HashSet<String>> {
        let mut listed = HashSet::new();
        for chunk in numbers.chunks(IN_LIST_MAX) {
            let sql = format!(
                "SELECT number FROM risk_blacklist WHERE number IN ({})",
                placeholders(self.system, 1, chunk.len())
            );
            let found: Vec<String> = dispatch!(TxInner, &mut self.inner, tx => {
                let mut query = sqlx::query_scalar(&sql);
                for number in chunk {
                    query = query.bind(*number);
                }
                query.fetch_all(&mut **tx).await?
            });
            listed.extend(found);
        }
        Ok(listed)
    }

    /// Every blacklisted number.
    pub(crate) async fn blacklist_numbers(&mut self) -> AppResult<HashSet<String>> {
        let found: Vec<String> = dispatch!(TxInner, &mut self.inner, tx => {
            sqlx::query_scalar("SELECT number FROM risk_blacklist")
                .fetch_all(&mut **tx)
                .await?
        });
        Ok(found.into_iter().collect())
    }

    /// False when the number was already listed (nothing written).
    pub(crate) async fn blacklist_add(&mut self, number: &str, reason: &str) -> AppResult<bool> {
        let (now_us, operator) = (self.actor.now_us, self.actor.operator.clone());
        let inserted = dispatch!(TxInner, &mut self.inner, tx => {
            sqlx::query(
                "INSERT INTO risk_blacklist (number, reason, added_at_us, operator) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (number) DO NOTHING",
            )
            .bind(number)
            .bind(reason)
            .bind(now_us)
            .bind(operator)
            .execute(&mut **tx)
            .await?
            .rows_affected()
        });
        Ok(inserted == 1)
    }

    /// The removed entry, or None when the number was not listed.
    pub(crate) async fn blacklist_remove(
        &mut self,
        number: &str,
    ) -> AppResult<Option<BlacklistEntry>> {
        let entry = dispatch!(TxInner, &mut self.inner, tx => {
            let entry = sqlx::query(
                "SELECT number, reason, added_at_us, operator FROM risk_blacklist WHERE number = $1",
            )
            .bind(number)
            .fetch_optional(&mut **tx)
            .await?
            .map(|row| -> Result<BlacklistEntry, sqlx::Error> {
                Ok(BlacklistEntry {
                    number: row.try_get(0)?,
                    reason: row.try_get(1)?,
                    added_at_us: row.try_get(2)?,
                    operator: row.try_get(3)?,
                })
            })
            .transpose()?;
            sqlx::query("DELETE FROM risk_blacklist WHERE number = $1")
                .bind(number)
                .execute(&mut **tx)
                .await?;
            entry
        });
        Ok(entry)
    }

    /// The current assessment of every account that has one.
    pub(crate) async fn latest_risks(&mut self) -> AppResult<HashMap<String, LatestRisk>> {
        let rows = dispatch!(TxInner, &mut self.inner, tx => {
            let rows = sqlx::query(
                "SELECT account, assessment_id, as_of_us, score, level, decision FROM risk_latest",
            )
            .fetch_all(&mut **tx)
            .await?;
            let mut decoded = HashMap::with_capacity(rows.len());
            for row in &rows {
                let account: String = row.try_get(0)?;
                let latest = latest_risk!(row, 1, &account);
                decoded.insert(account, latest);
            }
            decoded
        });
        Ok(rows)
    }

    /// Store a rescoring run and its assessments; each becomes its account's current one
    /// unless a stored assessment has a later `as_of`. Returns the run id and the ids its
    /// assessments got (`first..next`).
    pub(crate) async fn insert_risk_run(
        &mut self,
        run: &NewRun<'_>,
        assessments: &[NewAssessment<'_>],
    ) -> AppResult<(i64, std::ops::Range<i64>)> {
        let (now_us, operator, trace_id) = (
            self.actor.now_us,
            self.actor.operator.clone(),
            self.actor.trace_id.clone(),
        );
        let (run_id, first_id) = dispatch!(TxInner, &mut self.inner, tx => {
            let run_id: i64 = sqlx::query_scalar(
                "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM risk_runs",
            )
            .fetch_one(&mut **tx)
            .await?;
            let first_id: i64 = sqlx::query_scalar(
                "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM risk_assessments",
            )
            .fetch_one(&mut **tx)
            .await?;
            sqlx::query(
                "INSERT INTO risk_runs (id, as_of_us, created_at_us, operator, rules_fingerprint, accounts, changed, frozen, trace_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(run_id)
            .bind(run.as_of_us)
            .bind(now_us)
            .bind(operator)
            .bind(run.rules_fingerprint)
            .bind(run.accounts)
            .bind(run.changed)
            .bind(run.frozen)
            .bind(trace_id)
            .execute(&mut **tx)
            .await?;
            (run_id, first_id)
        });
        let mut next_id = first_id;
        for chunk in assessments.chunks(INSERT_ROWS_MAX) {
            let ids: Vec<i64> = (next_id..next_id + chunk.len() as i64).collect();
            next_id += chunk.len() as i64;
            self.insert_assessment_chunk(run_id, &ids, chunk).await?;
            self.upsert_latest_chunk(&ids, chunk).await?;
        }
        Ok((run_id, first_id..next_id))
    }

    async fn insert_assessment_chunk(
        &mut self,
        run_id: i64,
        ids: &[i64],
        chunk: &[NewAssessment<'_>],
    ) -> AppResult<()> {
        let sql = multi_row_insert(
            self.system,
            "INSERT INTO risk_assessments (id, run_id, account, as_of_us, score, level, decision, factors, profile) VALUES ",
            9,
            chunk.len(),
            1,
        );
        dispatch!(TxInner, &mut self.inner, tx => {
            let mut query = sqlx::query(&sql);
            for (id, assessment) in ids.iter().zip(chunk) {
                let factors = serde_json::to_string(&assessment.result.factors)
                    .expect("risk factors serialise");
                query = query
                    .bind(*id)
                    .bind(run_id)
                    .bind(assessment.account)
                    .bind(assessment.as_of_us)
                    .bind(i64::from(assessment.result.score))
                    .bind(assessment.result.level.as_str())
                    .bind(assessment.result.decision.as_str())
                    .bind(factors)
                    .bind(assessment.profile.as_str());
            }
            query.execute(&mut **tx).await?.rows_affected()
        });
        Ok(())
    }

    async fn upsert_latest_chunk(
        &mut self,
        ids: &[i64],
        chunk: &[NewAssessment<'_>],
    ) -> AppResult<()> {
        let values = multi_row_insert(
            self.system,
            "INSERT INTO risk_latest (account, assessment_id, as_of_us, score, level, decision) VALUES ",
            6,
            chunk.len(),
            1,
        );
        let sql = format!(
            "{values} ON CONFLICT (account) DO UPDATE SET assessment_id = excluded.assessment_id, \
             as_of_us = excluded.as_of_us, score = excluded.score, level = excluded.level, \
             decision = excluded.decision WHERE risk_latest.as_of_us <= excluded.as_of_us"
        );
        dispatch!(TxInner, &mut self.inner, tx => {
            let mut query = sqlx::query(&sql);
            for (id, assessment) in ids.iter().zip(chunk) {
                query = query
                    .bind(assessment.account)
                    .bind(*id)
                    .bind(assessment.as_of_us)
                    .bind(i64::from(assessment.result.score))
                    .bind(assessment.result.level.as_str())
                    .bind(assessment.result.decision.as_str());
            }
            query.execute(&mut **tx).await?.rows_affected()
        });
        Ok(())
    }
}

/// Id ranges a full scan of the transfers is read in, each on its own connection at once.
/// A fixed number, not the core count: every range holds a pooled connection for the whole
/// scan, so more ranges than the pool holds would wait for a connection that never comes
/// (seen on 8-core laptops: the pool timed out after 60 s). Four readers keep a disk and the
/// decoding busy; the CPU work after the scan is what scales with cores (rayon).
const SCAN_RANGES: usize = 4;
const _: () = assert!(SCAN_RANGES as u32 <= super::sqlite::CONNECTIONS_MAX);
const _: () = assert!(SCAN_RANGES as u32 <= super::postgres::CONNECTIONS_MAX);

/// Rows between two progress reports of a bulk read.
const PROGRESS_EVERY: u64 = 50_000;

/// The columns of a movement read, in `Movements::push` order (status before at).
const MOVEMENT_COLUMNS: &str = "id, from_account, to_account, amount_minor, status, at_us";

fn movement_posted(id: i64, status: &str) -> AppResult<bool> {
    match status {
        "posted" => Ok(true),
        "rejected" => Ok(false),
        other => Err(corrupt(format!("transfer {id}: status '{other}'"))),
    }
}

impl Store {
    pub(crate) async fn active_rule_set(&self) -> AppResult<Option<StoredRuleSet>> {
        let row = dispatch!(Pool, &self.pool, pool => {
            sqlx::query(ACTIVE_RULE_SET_SQL)
                .fetch_optional(pool)
                .await?
                .map(|row| stored_rule_set!(row))
                .transpose()?
        });
        Ok(row)
    }

    pub(crate) async fn blacklist(&self) -> AppResult<Vec<BlacklistEntry>> {
        let rows = dispatch!(Pool, &self.pool, pool => {
            sqlx::query(
                "SELECT number, reason, added_at_us, operator FROM risk_blacklist ORDER BY number",
            )
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| -> Result<BlacklistEntry, sqlx::Error> {
                Ok(BlacklistEntry {
                    number: row.try_get(0)?,
                    reason: row.try_get(1)?,
                    added_at_us: row.try_get(2)?,
                    operator: row.try_get(3)?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }

    /// Every transfer up to `as_of_us` touching `account` (posted either way, rejected either
    /// way), for rescoring one account.
    pub(crate) async fn risk_transfers_of(
        &self,
        account: &str,
        as_of_us: i64,
    ) -> AppResult<Vec<Transfer>> {
        let mut decoder = LeanDecoder::default();
        let sql = format!(
            "SELECT {LEAN_COLUMNS} FROM transfers WHERE at_us <= $2 AND (id IN \
             (SELECT transfer_id FROM entries WHERE account = $1 AND at_us <= $2) \
             OR (status = 'rejected' AND from_account = $1) OR (status = 'rejected' AND to_account = $1)) \
             ORDER BY at_us, id"
        );
        let transfers = dispatch!(Pool, &self.pool, pool => {
            let rows = sqlx::query(&sql).bind(account).bind(as_of_us).fetch_all(pool).await?;
            let mut decoded = Vec::with_capacity(rows.len());
            for row in &rows {
                decoded.push(lean_row!(decoder, row)?);
            }
            decoded
        });
        Ok(transfers)
    }

    /// Every transfer up to `as_of_us` as movements, read as `SCAN_RANGES` id ranges on as
    /// many connections at once. `progress` gets the number of rows read so far, now and then.
    pub(crate) async fn risk_movements(
        &self,
        as_of_us: i64,
        progress: &(dyn Fn(u64) + Sync),
    ) -> AppResult<Movements> {
        let (low, high) = dispatch!(Pool, &self.pool, pool => {
            let row = sqlx::query(
                "SELECT CAST(COALESCE(MIN(id), 0) AS BIGINT), CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM transfers",
            )
            .fetch_one(pool)
            .await?;
            (row.try_get::<i64, _>(0)?, row.try_get::<i64, _>(1)?)
        });
        let parts = SCAN_RANGES as i64;
        let span = (high - low + 1).max(0);
        let step = (span + parts - 1) / parts;
        let read = std::sync::atomic::AtomicU64::new(0);
        let ranges: Vec<(i64, i64)> = (0..parts)
            .map(|part| (low + part * step, (low + (part + 1) * step).min(high + 1)))
            .filter(|(start, end)| start < end)
            .collect();
        let sql = format!(
            "SELECT {MOVEMENT_COLUMNS} FROM transfers WHERE id >= $1 AND id < $2 AND at_us <= $3 ORDER BY id"
        );
        let jobs = ranges
            .iter()
            .map(|&(start, end)| {
                let parameters = vec![
                    Value::Integer(start),
                    Value::Integer(end),
                    Value::Integer(as_of_us),
                ];
                let capacity = usize::try_from((end - start).clamp(0, 1 << 24)).unwrap_or(0);
                (parameters, Movements::with_capacity(capacity))
            })
            .collect();
        let visit = |transfers: &mut Movements, row: &dyn StoredRow| {
            let id = row.integer(0)?;
            transfers.push(
                id,
                row.text(1)?,
                row.text(2)?,
                row.integer(3)?,
                row.integer(5)?,
                movement_posted(id, row.text(4)?)?,
            );
            if transfers.len() as u64 % PROGRESS_EVERY == 0 {
                let total = read.fetch_add(PROGRESS_EVERY, std::sync::atomic::Ordering::Relaxed);
                progress(total + PROGRESS_EVERY);
            }
            Ok(())
        };
        let parts = backend::scan_parallel(&self.pool, &sql, jobs, &visit)
            .await
            .map_err(|error| error.context("reading transfers"))?;
        let mut all = Movements::default();
        for part in parts {
            if all.is_empty() {
                all = part;
            } else {
                all.append(part);
            }
        }
        Ok(all)
    }

    pub(crate) async fn latest_risk(&self, account: &str) -> AppResult<Option<StoredAssessment>> {
        let rows = self.assessments_where(account, true, 1).await?;
        Ok(rows.into_iter().next())
    }

    /// Stored assessments of `account`, newest `as_of` first.
    pub(crate) async fn risk_history_of(
        &self,
        account: &str,
        limit: i64,
    ) -> AppResult<Vec<StoredAssessment>> {
        self.assessments_where(account, false, limit).await
    }

    async fn assessments_where(
        &self,
        account: &str,
        latest_only: bool,
        limit: i64,
    ) -> AppResult<Vec<StoredAssessment>> {
        let sql = if latest_only {
            "SELECT a.id, a.run_id, a.account, a.as_of_us, a.score, a.level, a.decision, a.factors, a.profile \
             FROM risk_latest l JOIN risk_assessments a ON a.id = l.assessment_id WHERE l.account = $1 LIMIT $2"
        } else {
            "SELECT id, run_id, account, as_of_us, score, level, decision, factors, profile \
             FROM risk_assessments WHERE account = $1 ORDER BY as_of_us DESC, id DESC LIMIT $2"
        };
        let rows = dispatch!(Pool, &self.pool, pool => {
            let rows = sqlx::query(sql).bind(account).bind(limit).fetch_all(pool).await?;
            let mut decoded = Vec::with_capacity(rows.len());
            for row in &rows {
                let factors: &str = row.try_get(7)?;
                let profile: &str = row.try_get(8)?;
                let level = parse_level(row.try_get::<&str, _>(5)?)?;
                decoded.push(StoredAssessment {
                    id: row.try_get(0)?,
                    run_id: row.try_get(1)?,
                    account: row.try_get(2)?,
                    as_of_us: row.try_get(3)?,
                    result: RiskResult {
                        score: stored_score(
                            "risk_assessments",
                            "score",
                            row.try_get::<i64, _>(0)?,
                            row.try_get(4)?,
                        )?,
                        level,
                        decision: parse_decision(row.try_get::<&str, _>(6)?)?,
                        factors: serde_json::from_str(factors)
                            .map_err(|error| corrupt(format!("risk factors: {error}")))?,
                    },
                    profile: serde_json::from_str(profile)
                        .map_err(|error| corrupt(format!("risk profile: {error}")))?,
                });
            }
            decoded
        });
        Ok(rows)
    }
}
