//! Reads behind `report compliance`: posted transfers of a period (with look-back), accounts,
//! and the audit summary counts.

use super::rows::corrupt_value;
use super::{dispatch, Pool, Store};
use crate::error::{AppError, AppResult};
use crate::model::{AccountType, TransferKind};
use crate::money::Currency;
use crate::report::compliance::{AccountFact, TransferFact};
use sqlx::Row;
use std::collections::HashMap;

/// Counts for the audit summary of a period.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub(crate) struct AuditSummary {
    pub(crate) events_by_action: std::collections::BTreeMap<String, i64>,
    pub(crate) rejected_transfers_by_code: std::collections::BTreeMap<String, i64>,
    pub(crate) freezes: i64,
    /// Break items of the active (not superseded) reconciliation runs dated in the period.
    pub(crate) reconciliation_breaks_by_kind: std::collections::BTreeMap<String, i64>,
}

#[derive(sqlx::FromRow)]
struct TransferFactRow {
    id: i64,
    kind: String,
    from_account: String,
    to_account: String,
    amount_minor: i64,
    currency: String,
    at_us: i64,
}

impl Store {
    /// Every account, as compliance sees it (risk level filled in by the caller).
    pub(crate) async fn account_facts(&self) -> AppResult<Vec<AccountFact>> {
        let rows = dispatch!(Pool, &self.pool, pool => {
            sqlx::query("SELECT number, holder, account_type, currency, created_at_us FROM accounts ORDER BY number")
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|row| -> Result<(String, String, String, String, i64), sqlx::Error> {
                    Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?))
                })
                .collect::<Result<Vec<_>, _>>()?
        });
        rows.into_iter()
            .map(|(number, holder, account_type, currency, created_at_us)| {
                Ok(AccountFact {
                    account_type: account_type.parse().map_err(|error: AppError| {
                        corrupt_value("accounts", "account_type", &number, error.message)
                    })?,
                    currency: Currency::parse(&currency).map_err(|error| {
                        corrupt_value("accounts", "currency", &number, error.message)
                    })?,
                    number,
                    holder,
                    created_at_us,
                    risk_level: None,
                })
            })
            .collect()
    }

    /// Posted transfers with `from_us <= at_us <= to_us`. A transfer out of a settlement
    /// account is cash-in (a deposit) and into one is cash-out, whatever command posted it.
    pub(crate) async fn transfer_facts(
        &self,
        from_us: i64,
        to_us: i64,
        account_types: &HashMap<String, AccountType>,
    ) -> AppResult<Vec<TransferFact>> {
        let rows: Vec<TransferFactRow> = dispatch!(Pool, &self.pool, pool => {
            sqlx::query_as(
                "SELECT id, kind, from_account, to_account, amount_minor, currency, at_us FROM transfers \
                 WHERE status = 'posted' AND at_us >= $1 AND at_us <= $2 ORDER BY at_us, id",
            )
            .bind(from_us)
            .bind(to_us)
            .fetch_all(pool)
            .await?
        });
        let is_settlement =
            |number: &str| account_types.get(number) == Some(&AccountType::Settlement);
        let mut currencies: HashMap<String, Currency> = HashMap::new();
        let mut facts = Vec::with_capacity(rows.len());
        for TransferFactRow {
            id,
            kind,
            from_account: from,
            to_account: to,
            amount_minor,
            currency,
            at_us,
        } in rows
        {
            let currency = match currencies.get(&currency) {
                Some(parsed) => *parsed,
                None => {
                    let parsed = Currency::parse(&currency).map_err(|error| {
                        corrupt_value("transfers", "currency", id, error.message)
                    })?;
                    currencies.insert(currency, parsed);
                    parsed
                }
            };
            let stored: TransferKind = kind
                .parse()
                .map_err(|error: AppError| corrupt_value("transfers", "kind", id, error.message))?;
            let kind = match stored {
                TransferKind::Transfer if is_settlement(&from) => TransferKind::Deposit,
                TransferKind::Transfer if is_settlement(&to) => TransferKind::Withdrawal,
                other => other,
            };
            facts.push(TransferFact {
                id,
                kind,
                from,
                to,
                amount_minor,
                currency,
                at_us,
            });
        }
        Ok(facts)
    }

    pub(crate) async fn audit_summary(&self, from_us: i64, to_us: i64) -> AppResult<AuditSummary> {
        let from_date = crate::clock::date_of_us(from_us).to_string();
        let to_date = crate::clock::date_of_us(to_us).to_string();
        let (actions, codes, breaks) = dispatch!(Pool, &self.pool, pool => {
            let actions: Vec<(String, i64)> = sqlx::query_as(
                "SELECT action, COUNT(*) FROM audit_events WHERE at_us >= $1 AND at_us <= $2 GROUP BY action ORDER BY action",
            )
            .bind(from_us)
            .bind(to_us)
            .fetch_all(pool)
            .await?;
            let codes: Vec<(String, i64)> = sqlx::query_as(
                "SELECT COALESCE(error_code, 'unknown'), COUNT(*) FROM transfers WHERE status = 'rejected' \
                 AND at_us >= $1 AND at_us <= $2 GROUP BY error_code ORDER BY 1",
            )
            .bind(from_us)
            .bind(to_us)
            .fetch_all(pool)
            .await?;
            let breaks: Vec<(String, i64)> = sqlx::query_as(
                "SELECT i.kind, COUNT(*) FROM reconcile_items i JOIN reconcile_runs r ON r.id = i.run_id \
                 WHERE r.superseded_by IS NULL AND r.run_date >= $1 AND r.run_date <= $2 GROUP BY i.kind ORDER BY i.kind",
            )
            .bind(&from_date)
            .bind(&to_date)
            .fetch_all(pool)
            .await?;
            (actions, codes, breaks)
        });
        let freezes = actions
            .iter()
            .filter(|(action, _)| action == "account.frozen")
            .map(|(_, count)| count)
            .sum();
        Ok(AuditSummary {
            events_by_action: actions.into_iter().collect(),
            rejected_transfers_by_code: codes.into_iter().collect(),
            freezes,
            reconciliation_breaks_by_kind: breaks.into_iter().collect(),
        })
    }
}
