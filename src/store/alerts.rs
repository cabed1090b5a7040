//! Reads that `alerts check` measures its rules with, and the stored alert state (read and
//! written inside the check's write transaction, beside the transitions' audit events).

use super::write::{TxInner, WriteTx};
use super::{dispatch, Pool, Store};
use crate::error::AppResult;
use sqlx::Row;

/// Transfers whose time falls in a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TransferCounts {
    pub(crate) attempted: i64,
    pub(crate) rejected: i64,
    pub(crate) risk_rejected: i64,
}

/// The stored state of one alert rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredAlert {
    pub(crate) rule: String,
    pub(crate) firing: bool,
    pub(crate) since_us: i64,
}

/// A transition to store.
#[derive(Debug, Clone)]
pub(crate) struct AlertTransition<'a> {
    pub(crate) rule: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) severity: &'a str,
    pub(crate) firing: bool,
    pub(crate) value: i64,
    pub(crate) unit: &'a str,
    pub(crate) message: &'a str,
}

impl Store {
    /// Transfers with `after_us < at_us <= until_us`: all, rejected, rejected by risk.
    #[tracing::instrument(target = "fincore", name = "fincore.store.transfers.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn transfer_counts_between(
        &self,
        after_us: i64,
        until_us: i64,
    ) -> AppResult<TransferCounts> {
        let counts = dispatch!(Pool, &self.pool, pool => {
            let row = sqlx::query(
                "SELECT COUNT(*), \
                 CAST(COALESCE(SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(CASE WHEN error_code = 'risk_rejected' THEN 1 ELSE 0 END), 0) AS BIGINT) \
                 FROM transfers WHERE at_us > $1 AND at_us <= $2",
            )
            .bind(after_us)
            .bind(until_us)
            .fetch_one(pool)
            .await?;
            TransferCounts { attempted: row.try_get(0)?, rejected: row.try_get(1)?, risk_rejected: row.try_get(2)? }
        });
        Ok(counts)
    }

    /// The details of the `transfer.imported` events committed in `after_us < at_us <= until_us`.
    #[tracing::instrument(target = "fincore", name = "fincore.store.audit.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn import_details_between(
        &self,
        after_us: i64,
        until_us: i64,
    ) -> AppResult<Vec<String>> {
        let details = dispatch!(Pool, &self.pool, pool => {
            sqlx::query_scalar(
                "SELECT details FROM audit_events WHERE action = $1 AND at_us > $2 AND at_us <= $3 ORDER BY seq",
            )
            .bind(crate::audit::IMPORT_ACTION)
            .bind(after_us)
            .bind(until_us)
            .fetch_all(pool)
            .await?
        });
        Ok(details)
    }

    /// Whether an active reconciliation run of `account` covers `day` (YYYY-MM-DD).
    #[tracing::instrument(target = "fincore", name = "fincore.store.reconcile.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn reconciled_on(&self, account: &str, day: &str) -> AppResult<bool> {
        let found: Option<i64> = dispatch!(Pool, &self.pool, pool => {
            sqlx::query_scalar(
                "SELECT id FROM reconcile_runs WHERE account = $1 AND superseded_by IS NULL \
                 AND COALESCE(period_from, run_date) <= $2 AND COALESCE(period_to, run_date) >= $2 LIMIT 1",
            )
            .bind(account)
            .bind(day)
            .fetch_optional(pool)
            .await?
        });
        Ok(found.is_some())
    }

    /// Open breaks of active runs created at or before `created_until_us` (of one account, or
    /// of all when `account` is empty).
    #[tracing::instrument(target = "fincore", name = "fincore.store.reconcile.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn unresolved_breaks_until(
        &self,
        account: &str,
        created_until_us: i64,
    ) -> AppResult<i64> {
        let count = dispatch!(Pool, &self.pool, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM reconcile_items i JOIN reconcile_runs r ON r.id = i.run_id \
                 WHERE r.superseded_by IS NULL AND i.resolution IS NULL AND r.created_at_us <= $1 \
                 AND ($2 = '' OR r.account = $2)",
            )
            .bind(created_until_us)
            .bind(account)
            .fetch_one(pool)
            .await?
        });
        Ok(count)
    }
}

impl WriteTx {
    /// Every stored alert state, read under the write lock (so two checks cannot both fire).
    pub(crate) async fn alert_states(&mut self) -> AppResult<Vec<StoredAlert>> {
        let rows = dispatch!(TxInner, &mut self.inner, tx => {
            sqlx::query("SELECT rule, firing, since_us FROM alert_states ORDER BY rule")
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(|row| -> Result<StoredAlert, sqlx::Error> {
                    Ok(StoredAlert {
                        rule: row.try_get(0)?,
                        firing: row.try_get::<i64, _>(1)? == 1,
                        since_us: row.try_get(2)?,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }

    /// Store a transition: a rule starts firing (since now) or is resolved (now).
    pub(crate) async fn set_alert_state(
        &mut self,
        transition: &AlertTransition<'_>,
    ) -> AppResult<()> {
        let now_us = self.actor.now_us;
        let resolved_at_us = (!transition.firing).then_some(now_us);
        dispatch!(TxInner, &mut self.inner, tx => {
            sqlx::query(
                "INSERT INTO alert_states (rule, kind, severity, firing, since_us, resolved_at_us, value, unit, message, updated_at_us) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (rule) DO UPDATE SET kind = excluded.kind, severity = excluded.severity, \
                 firing = excluded.firing, \
                 since_us = CASE WHEN excluded.firing = 1 THEN excluded.since_us ELSE alert_states.since_us END, \
                 resolved_at_us = excluded.resolved_at_us, value = excluded.value, unit = excluded.unit, \
                 message = excluded.message, updated_at_us = excluded.updated_at_us",
            )
            .bind(transition.rule)
            .bind(transition.kind)
            .bind(transition.severity)
            .bind(i64::from(transition.firing))
            .bind(now_us)
            .bind(resolved_at_us)
            .bind(transition.value)
            .bind(transition.unit)
            .bind(transition.message)
            .bind(now_us)
            .execute(&mut **tx)
            .await?;
        });
        Ok(())
    }
}
