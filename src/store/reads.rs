//! Read-only queries (no write lock).

use super::rows::{AccountRow, TransferRow, ACCOUNT_COLUMNS, TRANSFER_COLUMNS};
use super::{dispatch, Pool, Store};
use crate::error::AppResult;
use crate::model::{Account, Transfer};
use sqlx::Row;

#[derive(Debug, Default, Clone)]
pub(crate) struct AccountFilter {
    pub(crate) status: Option<String>,
    pub(crate) account_type: Option<String>,
    pub(crate) currency: Option<String>,
    pub(crate) holder: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub(crate) struct TransferFilter {
    pub(crate) account: Option<String>,
    pub(crate) from_us: Option<i64>,
    pub(crate) to_us: Option<i64>,
    pub(crate) status: Option<String>,
    pub(crate) kind: Option<String>,
    pub(crate) currency: Option<String>,
    /// Per currency, the smallest amount in minor units a listed transfer may have; a
    /// currency not named here is left out. `None`: any amount.
    pub(crate) min_amount_minor: Option<Vec<(String, i64)>>,
    pub(crate) limit: i64,
}

/// Where the next page of a newest-first transfer list starts: strictly older than this
/// (`at_us`, `id`) pair (keyset paging, no OFFSET to rescan).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TransferCursor {
    pub(crate) at_us: i64,
    pub(crate) id: i64,
}

#[derive(Debug, Clone)]
pub struct StatementLine {
    pub transfer_id: i64,
    pub entry_minor: i64,
    pub at_us: i64,
    pub kind: String,
    pub counterparty: String,
    pub reference: String,
    pub description: String,
}

#[derive(Debug, Clone)]
pub(crate) struct TrialBalanceRow {
    pub(crate) number: String,
    pub(crate) holder: String,
    pub(crate) account_type: String,
    pub(crate) currency: String,
    /// Sum of this account's entries (+ debit, − credit).
    pub(crate) entry_sum_minor: i64,
}

/// Where a clause is appended, the next `$N` to use.
struct Clauses {
    sql: String,
    values: Vec<BindValue>,
    has_where: bool,
}

enum BindValue {
    Text(String),
    Integer(i64),
}

impl Clauses {
    fn new(base: String) -> Clauses {
        Clauses {
            sql: base,
            values: Vec::new(),
            has_where: false,
        }
    }

    fn and(&mut self, template: &str, value: BindValue) {
        self.values.push(value);
        let placeholder = format!("${}", self.values.len());
        self.sql
            .push_str(if self.has_where { " AND " } else { " WHERE " });
        self.has_where = true;
        self.sql.push_str(&template.replace("{}", &placeholder));
    }
}

/// `base` with the WHERE clauses of `filter` (its limit aside).
fn transfer_clauses(base: String, filter: &TransferFilter) -> Clauses {
    let mut clauses = Clauses::new(base);
    if let Some(account) = &filter.account {
        clauses.values.push(BindValue::Text(account.clone()));
        let placeholder = clauses.values.len();
        clauses.sql.push_str(&format!(
            " WHERE (from_account = ${placeholder} OR to_account = ${placeholder})"
        ));
        clauses.has_where = true;
    }
    if let Some(from_us) = filter.from_us {
        clauses.and("at_us >= {}", BindValue::Integer(from_us));
    }
    if let Some(to_us) = filter.to_us {
        clauses.and("at_us <= {}", BindValue::Integer(to_us));
    }
    if let Some(status) = &filter.status {
        clauses.and("status = {}", BindValue::Text(status.clone()));
    }
    if let Some(kind) = &filter.kind {
        clauses.and("kind = {}", BindValue::Text(kind.clone()));
    }
    if let Some(currency) = &filter.currency {
        clauses.and("currency = {}", BindValue::Text(currency.clone()));
    }
    if let Some(thresholds) = &filter.min_amount_minor {
        let mut alternatives = Vec::new();
        for (currency, minor) in thresholds {
            clauses.values.push(BindValue::Text(currency.clone()));
            clauses.values.push(BindValue::Integer(*minor));
            let count = clauses.values.len();
            alternatives.push(format!(
                "(currency = ${} AND amount_minor >= ${count})",
                count - 1
            ));
        }
        let condition = if alternatives.is_empty() {
            "1 = 0".to_string()
        } else {
            format!("({})", alternatives.join(" OR "))
        };
        clauses.sql.push_str(if clauses.has_where {
            " AND "
        } else {
            " WHERE "
        });
        clauses.has_where = true;
        clauses.sql.push_str(&condition);
    }
    clauses
}

macro_rules! bind_all {
    ($query:expr, $values:expr) => {{
        let mut query = $query;
        for value in $values {
            query = match value {
                BindValue::Text(text) => query.bind(text.clone()),
                BindValue::Integer(number) => query.bind(*number),
            };
        }
        query
    }};
}

impl Store {
    #[tracing::instrument(target = "fincore", name = "fincore.store.accounts.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn account(&self, number: &str) -> AppResult<Option<Account>> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE number = $1");
        let row: Option<AccountRow> = dispatch!(Pool, &self.pool, pool => {
            sqlx::query_as(&sql).bind(number).fetch_optional(pool).await?
        });
        row.map(AccountRow::into_account).transpose()
    }

    #[tracing::instrument(target = "fincore", name = "fincore.store.accounts.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn list_accounts(&self, filter: &AccountFilter) -> AppResult<Vec<Account>> {
        let mut clauses = Clauses::new(format!("SELECT {ACCOUNT_COLUMNS} FROM accounts"));
        if let Some(status) = &filter.status {
            clauses.and("status = {}", BindValue::Text(status.clone()));
        }
        if let Some(account_type) = &filter.account_type {
            clauses.and("account_type = {}", BindValue::Text(account_type.clone()));
        }
        if let Some(currency) = &filter.currency {
            clauses.and("currency = {}", BindValue::Text(currency.clone()));
        }
        if let Some(holder) = &filter.holder {
            let pattern = format!("%{}%", holder.to_lowercase());
            clauses.and("LOWER(holder) LIKE {}", BindValue::Text(pattern));
        }
        clauses.sql.push_str(" ORDER BY number");
        let rows: Vec<AccountRow> = dispatch!(Pool, &self.pool, pool => {
            bind_all!(sqlx::query_as(&clauses.sql), &clauses.values).fetch_all(pool).await?
        });
        rows.into_iter().map(AccountRow::into_account).collect()
    }

    #[tracing::instrument(target = "fincore", name = "fincore.store.transfers.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn transfer(&self, id: i64) -> AppResult<Option<Transfer>> {
        let sql = format!("SELECT {TRANSFER_COLUMNS} FROM transfers WHERE id = $1");
        let row: Option<TransferRow> = dispatch!(Pool, &self.pool, pool => {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
        });
        row.map(TransferRow::into_transfer).transpose()
    }

    #[tracing::instrument(target = "fincore", name = "fincore.store.transfers.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn transfer_by_key(&self, key: &str) -> AppResult<Option<Transfer>> {
        let sql = format!("SELECT {TRANSFER_COLUMNS} FROM transfers WHERE idempotency_key = $1");
        let row: Option<TransferRow> = dispatch!(Pool, &self.pool, pool => {
            sqlx::query_as(&sql).bind(key).fetch_optional(pool).await?
        });
        row.map(TransferRow::into_transfer).transpose()
    }

    /// Transfers with `first_id <= id <= last_id` in id order, page by page.
    #[tracing::instrument(target = "fincore", name = "fincore.store.transfers.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn for_each_transfer_between(
        &self,
        first_id: i64,
        last_id: i64,
        mut visit: impl FnMut(&Transfer),
    ) -> AppResult<()> {
        const PAGE_ROWS: i64 = 10_000;
        let sql = format!(
            "SELECT {TRANSFER_COLUMNS} FROM transfers WHERE id >= $1 AND id <= $2 ORDER BY id LIMIT $3"
        );
        let mut from_id = first_id;
        loop {
            let rows: Vec<TransferRow> = dispatch!(Pool, &self.pool, pool => {
                sqlx::query_as(&sql)
                    .bind(from_id)
                    .bind(last_id)
                    .bind(PAGE_ROWS)
                    .fetch_all(pool)
                    .await?
            });
            let Some(last) = rows.last().map(|row| row.id()) else {
                return Ok(());
            };
            for row in rows {
                visit(&row.into_transfer()?);
            }
            from_id = last + 1;
        }
    }

    /// Transfers matching `filter`, newest first (`at_us`, then `id`, descending), at most
    /// `filter.limit`, strictly older than `after` when given (the next page).
    #[tracing::instrument(target = "fincore", name = "fincore.store.transfers.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn list_transfers(
        &self,
        filter: &TransferFilter,
        after: Option<TransferCursor>,
    ) -> AppResult<Vec<Transfer>> {
        let mut clauses =
            transfer_clauses(format!("SELECT {TRANSFER_COLUMNS} FROM transfers"), filter);
        if let Some(cursor) = after {
            clauses.and("(at_us < {}", BindValue::Integer(cursor.at_us));
            clauses.values.push(BindValue::Integer(cursor.at_us));
            clauses.values.push(BindValue::Integer(cursor.id));
            let (at, id) = (clauses.values.len() - 1, clauses.values.len());
            clauses
                .sql
                .push_str(&format!(" OR (at_us = ${at} AND id < ${id}))"));
        }
        clauses.values.push(BindValue::Integer(filter.limit));
        clauses.sql.push_str(&format!(
            " ORDER BY at_us DESC, id DESC LIMIT ${}",
            clauses.values.len()
        ));
        let rows: Vec<TransferRow> = dispatch!(Pool, &self.pool, pool => {
            bind_all!(sqlx::query_as(&clauses.sql), &clauses.values).fetch_all(pool).await?
        });
        rows.into_iter().map(TransferRow::into_transfer).collect()
    }

    /// How many transfers match `filter` (its limit aside): the "showing N of M" footer.
    #[tracing::instrument(target = "fincore", name = "fincore.store.transfers.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn count_transfers(&self, filter: &TransferFilter) -> AppResult<i64> {
        let clauses = transfer_clauses(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM transfers".to_string(),
            filter,
        );
        let count: i64 = dispatch!(Pool, &self.pool, pool => {
            bind_all!(sqlx::query_scalar(&clauses.sql), &clauses.values).fetch_one(pool).await?
        });
        Ok(count)
    }

    /// For each of `ids` that was reversed, (its id, the reversal's id).
    #[tracing::instrument(target = "fincore", name = "fincore.store.transfers.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn reversals_of(&self, ids: &[i64]) -> AppResult<Vec<(i64, i64)>> {
        let (Some(first), Some(last)) = (ids.iter().min(), ids.iter().max()) else {
            return Ok(Vec::new());
        };
        // One range read on the partial unique index; ids outside the list are dropped below.
        let pairs: Vec<(i64, i64)> = dispatch!(Pool, &self.pool, pool => {
            sqlx::query_as(
                "SELECT reverses_id, id FROM transfers \
                 WHERE reverses_id IS NOT NULL AND reverses_id >= $1 AND reverses_id <= $2",
            )
            .bind(*first)
            .bind(*last)
            .fetch_all(pool)
            .await?
        });
        Ok(pairs
            .into_iter()
            .filter(|(original, _)| ids.contains(original))
            .collect())
    }

    /// The currencies of the accounts (a transfer is in its accounts' currency).
    #[tracing::instrument(target = "fincore", name = "fincore.store.accounts.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn account_currencies(&self) -> AppResult<Vec<String>> {
        let currencies: Vec<String> = dispatch!(Pool, &self.pool, pool => {
            sqlx::query_scalar("SELECT DISTINCT currency FROM accounts ORDER BY currency")
                .fetch_all(pool)
                .await?
        });
        Ok(currencies)
    }

    /// Sum of an account's entries strictly before `before_us` (+ debit, − credit).
    pub(crate) async fn entry_sum_before(&self, account: &str, before_us: i64) -> AppResult<i64> {
        self.entry_sum_between(account, i64::MIN, before_us).await
    }

    /// Sum of an account's entries at `from_us` or later and strictly before `to_us`.
    #[tracing::instrument(target = "fincore", name = "fincore.store.entries.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn entry_sum_between(
        &self,
        account: &str,
        from_us: i64,
        to_us: i64,
    ) -> AppResult<i64> {
        let total: i64 = dispatch!(Pool, &self.pool, pool => {
            sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM entries WHERE account = $1 AND at_us >= $2 AND at_us < $3",
            )
            .bind(account)
            .bind(from_us)
            .bind(to_us)
            .fetch_one(pool)
            .await?
        });
        Ok(total)
    }

    #[tracing::instrument(target = "fincore", name = "fincore.store.entries.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn statement_lines(
        &self,
        account: &str,
        from_us: i64,
        to_us: i64,
    ) -> AppResult<Vec<StatementLine>> {
        let rows = dispatch!(Pool, &self.pool, pool => {
            sqlx::query(
                "SELECT e.transfer_id, e.amount_minor, e.at_us, t.kind, \
                 CASE WHEN t.from_account = $1 THEN t.to_account ELSE t.from_account END, \
                 t.reference, t.description \
                 FROM entries e JOIN transfers t ON t.id = e.transfer_id \
                 WHERE e.account = $1 AND e.at_us >= $2 AND e.at_us <= $3 \
                 ORDER BY e.at_us, e.transfer_id",
            )
            .bind(account)
            .bind(from_us)
            .bind(to_us)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| -> Result<StatementLine, sqlx::Error> {
                Ok(StatementLine {
                    transfer_id: row.try_get(0)?,
                    entry_minor: row.try_get(1)?,
                    at_us: row.try_get(2)?,
                    kind: row.try_get(3)?,
                    counterparty: row.try_get(4)?,
                    reference: row.try_get(5)?,
                    description: row.try_get(6)?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }

    /// Per account, the sum of its entries, from stored balances or (with `as_of_us`) from the
    /// entries up to that instant.
    #[tracing::instrument(target = "fincore", name = "fincore.store.balances.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn trial_balance(
        &self,
        as_of_us: Option<i64>,
        currency: Option<&str>,
        account: Option<&str>,
    ) -> AppResult<Vec<TrialBalanceRow>> {
        let debit_normal = "CASE WHEN a.account_type = 'settlement' THEN a.balance_minor ELSE -a.balance_minor END";
        let mut clauses = match as_of_us {
            None => Clauses::new(format!(
                "SELECT a.number, a.holder, a.account_type, a.currency, {debit_normal} FROM accounts a"
            )),
            Some(as_of_us) => {
                let mut clauses = Clauses::new(String::new());
                clauses.values.push(BindValue::Integer(as_of_us));
                clauses.sql = "SELECT a.number, a.holder, a.account_type, a.currency, \
                     CAST(COALESCE(s.total, 0) AS BIGINT) FROM accounts a LEFT JOIN \
                     (SELECT account, SUM(amount_minor) AS total FROM entries WHERE at_us <= $1 GROUP BY account) s \
                     ON s.account = a.number"
                    .to_string();
                clauses
            }
        };
        if let Some(currency) = currency {
            clauses.and("a.currency = {}", BindValue::Text(currency.to_string()));
        }
        if let Some(account) = account {
            clauses.and("a.number = {}", BindValue::Text(account.to_string()));
        }
        clauses.sql.push_str(" ORDER BY a.currency, a.number");
        let rows = dispatch!(Pool, &self.pool, pool => {
            bind_all!(sqlx::query(&clauses.sql), &clauses.values)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|row| -> Result<TrialBalanceRow, sqlx::Error> {
                    Ok(TrialBalanceRow {
                        number: row.try_get(0)?,
                        holder: row.try_get(1)?,
                        account_type: row.try_get(2)?,
                        currency: row.try_get(3)?,
                        entry_sum_minor: row.try_get(4)?,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }
}
