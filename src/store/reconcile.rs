//! Reconciliation: the settlement account's movements, stored runs and break items.

use super::columns::Value;
use super::rows::{corrupt_value, StoredRow};
use super::write::{multi_row_insert, TxInner, WriteTx};
use super::{backend, dispatch, Pool, Store, INSERT_ROWS_MAX};
use crate::clock::MICROS_PER_DAY;
use crate::error::{AppError, AppResult};
use crate::money::Currency;
use crate::reconcile::record::{BalanceCheck, ItemRecord, Resolution, ResolutionKind, RunRecord};
use crate::reconcile::{BreakKind, InternalMovement};
use chrono::NaiveDate;
use sqlx::Row;

/// The settlement account's movements in `[from_us, to_us)`, without reconciliation
/// adjustments (they never appear on a bank statement) and reversals of them. Streamed: only
/// the movements are kept, never the rows.
const MOVEMENTS_SQL: &str = "SELECT e.transfer_id, e.at_us, e.amount_minor, t.reference \
     FROM entries e JOIN transfers t ON t.id = e.transfer_id \
     WHERE e.account = $1 AND e.at_us >= $2 AND e.at_us < $3 AND t.kind <> 'adjustment' \
     AND (t.reverses_id IS NULL OR NOT EXISTS \
     (SELECT 1 FROM transfers a WHERE a.id = t.reverses_id AND a.kind = 'adjustment'))";

const RUN_COLUMNS: &str = "id, account, run_date, superseded_by, supersedes, currency, \
     statement_file, input_format, statement_account, amount_tolerance_minor, date_window_days, \
     statement_lines, internal_entries, matched, matched_fuzzy, missing_internal, \
     missing_external, amount_mismatch, duplicate_external, ambiguous, currency_mismatch, \
     balance_currency, balance_date, statement_opening_minor, statement_closing_minor, \
     ledger_closing_minor, operator, trace_id, created_at_us, period_from, period_to, \
     date_given, lines_outside_run, lines_already_reconciled, matched_grouped, grouped_entries, \
     balance_mismatch";
const RUN_COLUMN_COUNT: usize = 37;

/// The break counts of `RUN_COLUMNS` in `BreakKind::ALL` order, with their column positions
/// (the six of the first migration, then `balance_mismatch`, added with periods).
const BREAK_COLUMNS: [(&str, usize); BreakKind::ALL.len()] = [
    ("missing_internal", 15),
    ("missing_external", 16),
    ("amount_mismatch", 17),
    ("duplicate_external", 18),
    ("ambiguous", 19),
    ("currency_mismatch", 20),
    ("balance_mismatch", 36),
];

const ITEM_COLUMNS: &str = "id, run_id, kind, reference, currency, internal_currency, \
     internal_amount_minor, external_amount_minor, difference_minor, transfer_id, \
     statement_line, resolution, resolution_note, resolution_transfer_id, resolved_by, \
     resolved_at_us, resolved_in_item, booked_on";
const ITEM_COLUMN_COUNT: usize = 18;

#[derive(Debug, Default, Clone)]
pub(crate) struct RunFilter {
    pub(crate) account: Option<String>,
    pub(crate) date: Option<NaiveDate>,
    pub(crate) limit: i64,
}

/// Active runs of an account whose periods overlap `$2..=$3`.
const OVERLAPPING_RUNS_SQL: &str = "SELECT id, period_from, period_to FROM reconcile_runs \
     WHERE account = $1 AND period_from <= $3 AND period_to >= $2 \
     AND superseded_by IS NULL ORDER BY period_from, id";

type PeriodRow = (i64, String, String);

fn periods(rows: Vec<PeriodRow>) -> AppResult<Vec<(i64, NaiveDate, NaiveDate)>> {
    rows.into_iter()
        .map(|(id, from, to)| Ok((id, parse_date(&from)?, parse_date(&to)?)))
        .collect()
}

/// Time slices the movements are read in, each on its own pooled connection and thread at
/// once: per row, SQLite looks the transfer up for its reference, and a million lookups on one
/// core were most of a run's time. A fixed number, like the risk scan's id ranges (every slice
/// holds a connection for the whole read). Slices are read in index order and come back in
/// time order, so the movements are in the order one read of the whole window gives.
const MOVEMENT_SLICES: i64 = 4;
const _: () = assert!(MOVEMENT_SLICES as u32 <= super::sqlite::CONNECTIONS_MAX);
const _: () = assert!(MOVEMENT_SLICES as u32 <= super::postgres::CONNECTIONS_MAX);

/// `[from_us, to_us)` cut into `MOVEMENT_SLICES` consecutive slices of equal length that
/// together cover exactly it (one slice when it is empty).
fn movement_slices(from_us: i64, to_us: i64) -> Vec<(i64, i64)> {
    if to_us <= from_us {
        return vec![(from_us, to_us)];
    }
    let length = i128::from(to_us) - i128::from(from_us);
    let bound = |index: i64| {
        let offset = length * i128::from(index) / i128::from(MOVEMENT_SLICES);
        i64::try_from(i128::from(from_us) + offset).unwrap_or(to_us)
    };
    (0..MOVEMENT_SLICES)
        .map(|index| (bound(index), bound(index + 1)))
        .collect()
}

/// Turns `at_us` into UTC dates, remembering the last day (movements come in runs of one day).
struct DayCache {
    day: i64,
    date: NaiveDate,
}

impl DayCache {
    fn date(&mut self, at_us: i64) -> AppResult<NaiveDate> {
        let day = at_us.div_euclid(MICROS_PER_DAY);
        if day != self.day {
            self.date = crate::clock::to_datetime(at_us).date_naive();
            self.day = day;
        }
        Ok(self.date)
    }
}

impl Store {
    #[tracing::instrument(name = "store.reconcile_movements", skip_all, fields(rows))]
    pub(crate) async fn reconcile_movements(
        &self,
        account: &str,
        currency: Currency,
        from_us: i64,
        to_us: i64,
    ) -> AppResult<Vec<InternalMovement>> {
        let jobs = movement_slices(from_us, to_us)
            .into_iter()
            .map(|(start_us, end_us)| {
                let parameters = vec![
                    Value::text(account),
                    Value::Integer(start_us),
                    Value::Integer(end_us),
                ];
                let days = DayCache {
                    day: i64::MIN,
                    date: NaiveDate::MIN,
                };
                (parameters, (days, Vec::new()))
            })
            .collect();
        let visit = |(days, movements): &mut (DayCache, Vec<InternalMovement>),
                     row: &dyn StoredRow| {
            movements.push(InternalMovement {
                transfer_id: row.integer(0)?,
                date: days.date(row.integer(1)?)?,
                amount_minor: row.integer(2)?,
                reference: row.text(3)?.to_string(),
                currency,
            });
            Ok(())
        };
        let parts = backend::scan_parallel(&self.pool, MOVEMENTS_SQL, jobs, &visit).await?;
        let mut movements = Vec::with_capacity(parts.iter().map(|(_, part)| part.len()).sum());
        for (_, mut part) in parts {
            movements.append(&mut part);
        }
        tracing::Span::current().record("rows", movements.len());
        Ok(movements)
    }

    /// `WriteTx::active_reconcile_runs`, read before the write transaction (the run checks
    /// them again inside it).
    pub(crate) async fn read_reconcile_runs_overlapping(
        &self,
        account: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> AppResult<Vec<(i64, NaiveDate, NaiveDate)>> {
        let rows: Vec<PeriodRow> = dispatch!(Pool, &self.pool, pool => {
            sqlx::query_as(OVERLAPPING_RUNS_SQL)
                .bind(account)
                .bind(from.to_string())
                .bind(to.to_string())
                .fetch_all(pool)
                .await?
        });
        periods(rows)
    }

    pub(crate) async fn reconcile_run(&self, id: i64) -> AppResult<Option<RunRecord>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM reconcile_runs WHERE id = $1");
        let row = dispatch!(Pool, &self.pool, pool => {
            sqlx::query(&sql)
                .bind(id)
                .fetch_optional(pool)
                .await?
                .map(|row| run_from_row(&row))
        });
        row.transpose()
    }

    pub(crate) async fn reconcile_runs(&self, filter: &RunFilter) -> AppResult<Vec<RunRecord>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM reconcile_runs \
             WHERE ($1 = '' OR account = $1) \
             AND ($2 = '' OR (period_from <= $2 AND period_to >= $2)) \
             ORDER BY id DESC LIMIT $3"
        );
        let account = filter.account.clone().unwrap_or_default();
        let date = filter.date.map(|date| date.to_string()).unwrap_or_default();
        dispatch!(Pool, &self.pool, pool => {
            sqlx::query(&sql)
                .bind(&account)
                .bind(&date)
                .bind(filter.limit)
                .fetch_all(pool)
                .await?
                .iter()
                .map(run_from_row)
                .collect()
        })
    }

    /// Open (unresolved) items per run, for listings.
    pub(crate) async fn reconcile_open_items(&self, run_ids: &[i64]) -> AppResult<Vec<(i64, i64)>> {
        if run_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT run_id, COUNT(*) FROM reconcile_items WHERE resolution IS NULL AND run_id IN ({}) GROUP BY run_id",
            super::write::placeholders(self.system, 1, run_ids.len())
        );
        let rows = dispatch!(Pool, &self.pool, pool => {
            let mut query = sqlx::query(&sql);
            for id in run_ids {
                query = query.bind(*id);
            }
            query
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
                .collect::<Result<Vec<(i64, i64)>, sqlx::Error>>()?
        });
        Ok(rows)
    }

    pub(crate) async fn reconcile_items(&self, run_id: i64) -> AppResult<Vec<ItemRecord>> {
        let sql =
            format!("SELECT {ITEM_COLUMNS} FROM reconcile_items WHERE run_id = $1 ORDER BY id");
        dispatch!(Pool, &self.pool, pool => {
            sqlx::query(&sql)
                .bind(run_id)
                .fetch_all(pool)
                .await?
                .iter()
                .map(item_from_row)
                .collect()
        })
    }
}

impl WriteTx {
    /// The active runs of an account whose periods overlap `from..=to`: (id, from, to).
    pub(crate) async fn active_reconcile_runs(
        &mut self,
        account: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> AppResult<Vec<(i64, NaiveDate, NaiveDate)>> {
        let rows: Vec<PeriodRow> = dispatch!(TxInner, &mut self.inner, tx => {
            sqlx::query_as(OVERLAPPING_RUNS_SQL)
                .bind(account)
                .bind(from.to_string())
                .bind(to.to_string())
                .fetch_all(&mut **tx)
                .await?
        });
        periods(rows)
    }

    /// The next free run id and item id. Ids are taken under the write lock, so no other
    /// writer can take them meanwhile.
    pub(crate) async fn next_reconcile_ids(&mut self) -> AppResult<(i64, i64)> {
        let ids: (i64, i64) = dispatch!(TxInner, &mut self.inner, tx => {
            let row = sqlx::query(
                "SELECT CAST(COALESCE((SELECT MAX(id) FROM reconcile_runs), 0) AS BIGINT), \
                 CAST(COALESCE((SELECT MAX(id) FROM reconcile_items), 0) AS BIGINT)",
            )
            .fetch_one(&mut **tx)
            .await?;
            (row.try_get(0)?, row.try_get(1)?)
        });
        Ok((ids.0 + 1, ids.1 + 1))
    }

    pub(crate) async fn supersede_reconcile_run(&mut self, old: i64, new: i64) -> AppResult<()> {
        dispatch!(TxInner, &mut self.inner, tx => {
            sqlx::query("UPDATE reconcile_runs SET superseded_by = $1 WHERE id = $2")
                .bind(new)
                .bind(old)
                .execute(&mut **tx)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    pub(crate) async fn insert_reconcile_run(&mut self, run: &RunRecord) -> AppResult<()> {
        let sql = multi_row_insert(
            self.system,
            &format!("INSERT INTO reconcile_runs ({RUN_COLUMNS}) VALUES "),
            RUN_COLUMN_COUNT,
            1,
            1,
        );
        let balance = run.balance.as_ref();
        let count = |value: u64| value as i64;
        dispatch!(TxInner, &mut self.inner, tx => {
            let mut query = sqlx::query(&sql)
                .bind(run.id)
                .bind(&run.account)
                .bind(run.date.unwrap_or(run.period_to).to_string())
                .bind(run.superseded_by)
                .bind(run.supersedes)
                .bind(run.currency.code())
                .bind(&run.statement_file)
                .bind(run.input_format.as_str())
                .bind(run.statement_account.as_deref())
                .bind(run.amount_tolerance_minor)
                .bind(run.date_window_days)
                .bind(count(run.statement_lines))
                .bind(count(run.internal_entries))
                .bind(count(run.matched))
                .bind(count(run.matched_fuzzy));
            for breaks in &run.breaks[..6] {
                query = query.bind(count(*breaks));
            }
            query
                .bind(balance.map(|balance| balance.currency.code()))
                .bind(balance.map(|balance| balance.date.to_string()))
                .bind(balance.map(|balance| balance.statement_opening_minor))
                .bind(balance.map(|balance| balance.statement_closing_minor))
                .bind(balance.map(|balance| balance.ledger_closing_minor))
                .bind(&run.operator)
                .bind(&run.trace_id)
                .bind(run.created_at_us)
                .bind(run.period_from.to_string())
                .bind(run.period_to.to_string())
                .bind(i64::from(run.date.is_some()))
                .bind(count(run.lines_outside_run))
                .bind(count(run.lines_already_reconciled))
                .bind(count(run.matched_grouped))
                .bind(count(run.grouped_entries))
                .bind(count(run.break_count(BreakKind::BalanceMismatch)))
                .execute(&mut **tx)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    /// Multi-row INSERTs of `INSERT_ROWS_MAX` items.
    pub(crate) async fn insert_reconcile_items(&mut self, items: &[ItemRecord]) -> AppResult<()> {
        let mut full_chunk_sql = None;
        for chunk in items.chunks(INSERT_ROWS_MAX) {
            let build = |rows| {
                multi_row_insert(
                    self.system,
                    &format!("INSERT INTO reconcile_items ({ITEM_COLUMNS}) VALUES "),
                    ITEM_COLUMN_COUNT,
                    rows,
                    1,
                )
            };
            let sql = if chunk.len() == INSERT_ROWS_MAX {
                full_chunk_sql
                    .get_or_insert_with(|| build(INSERT_ROWS_MAX))
                    .clone()
            } else {
                build(chunk.len())
            };
            dispatch!(TxInner, &mut self.inner, tx => {
                let mut query = sqlx::query(&sql);
                for item in chunk {
                    let resolution = item.resolution.as_ref();
                    query = query
                        .bind(item.id)
                        .bind(item.run_id)
                        .bind(item.kind.as_str())
                        .bind(&item.reference)
                        .bind(item.currency.code())
                        .bind(item.internal_currency.map(|currency| currency.code().to_string()))
                        .bind(item.internal_amount_minor)
                        .bind(item.external_amount_minor)
                        .bind(item.difference_minor)
                        .bind(item.transfer_id)
                        .bind(item.statement_line.map(|line| line as i64))
                        .bind(resolution.map(|resolution| resolution.kind.as_str()))
                        .bind(resolution.map(|resolution| resolution.note.clone()))
                        .bind(resolution.and_then(|resolution| resolution.transfer_id))
                        .bind(resolution.map(|resolution| resolution.by.clone()))
                        .bind(resolution.map(|resolution| resolution.at_us))
                        .bind(resolution.and_then(|resolution| resolution.resolved_in_item))
                        .bind(item.date.map(|date| date.to_string()));
                }
                query.execute(&mut **tx).await?.rows_affected()
            });
        }
        Ok(())
    }

    /// Items of a run that carry a resolution.
    pub(crate) async fn resolved_reconcile_items(
        &mut self,
        run_id: i64,
    ) -> AppResult<Vec<ItemRecord>> {
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM reconcile_items WHERE run_id = $1 AND resolution IS NOT NULL ORDER BY id"
        );
        dispatch!(TxInner, &mut self.inner, tx => {
            sqlx::query(&sql)
                .bind(run_id)
                .fetch_all(&mut **tx)
                .await?
                .iter()
                .map(item_from_row)
                .collect()
        })
    }

    pub(crate) async fn reconcile_item(&mut self, id: i64) -> AppResult<Option<ItemRecord>> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM reconcile_items WHERE id = $1");
        let row = dispatch!(TxInner, &mut self.inner, tx => {
            sqlx::query(&sql)
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
                .map(|row| item_from_row(&row))
        });
        row.transpose()
    }

    pub(crate) async fn reconcile_run_in_tx(&mut self, id: i64) -> AppResult<Option<RunRecord>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM reconcile_runs WHERE id = $1");
        let row = dispatch!(TxInner, &mut self.inner, tx => {
            sqlx::query(&sql)
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
                .map(|row| run_from_row(&row))
        });
        row.transpose()
    }

    pub(crate) async fn resolve_reconcile_item(
        &mut self,
        id: i64,
        resolution: &Resolution,
    ) -> AppResult<()> {
        dispatch!(TxInner, &mut self.inner, tx => {
            sqlx::query(
                "UPDATE reconcile_items SET resolution = $1, resolution_note = $2, \
                 resolution_transfer_id = $3, resolved_by = $4, resolved_at_us = $5, \
                 resolved_in_item = $6 WHERE id = $7 AND resolution IS NULL",
            )
            .bind(resolution.kind.as_str())
            .bind(&resolution.note)
            .bind(resolution.transfer_id)
            .bind(&resolution.by)
            .bind(resolution.at_us)
            .bind(resolution.resolved_in_item)
            .bind(id)
            .execute(&mut **tx)
            .await?
            .rows_affected()
        });
        Ok(())
    }
}

fn corrupt(what: &str, detail: impl std::fmt::Display) -> AppError {
    AppError::storage(format!("stored {what} is not valid: {detail}"))
}

fn parse_date(text: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|error| corrupt("date", error))
}

fn parse_currency(text: &str) -> AppResult<Currency> {
    Currency::parse(text).map_err(|error| corrupt("currency", error.message))
}

/// A stored count of table `table`'s row `id`: never negative as written.
fn count(table: &str, column: &str, id: i64, value: i64) -> AppResult<u64> {
    u64::try_from(value).map_err(|_| corrupt_value(table, column, id, value))
}

/// A column that is NULL where the row's other columns say fincore wrote a value.
fn required<T>(value: Option<T>, table: &str, column: &str, id: i64) -> AppResult<T> {
    value.ok_or_else(|| corrupt_value(table, column, id, "NULL"))
}

fn run_from_row<R>(row: &R) -> AppResult<RunRecord>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let text = |index: usize| -> Result<String, sqlx::Error> { row.try_get(index) };
    let optional_text =
        |index: usize| -> Result<Option<String>, sqlx::Error> { row.try_get(index) };
    let integer = |index: usize| -> Result<i64, sqlx::Error> { row.try_get(index) };
    let optional_integer =
        |index: usize| -> Result<Option<i64>, sqlx::Error> { row.try_get(index) };
    let id = integer(0)?;
    let run_count = |column: &str, index: usize| -> AppResult<u64> {
        count("reconcile_runs", column, id, integer(index)?)
    };
    let mut breaks = [0; BreakKind::ALL.len()];
    for (slot, (column, index)) in breaks.iter_mut().zip(BREAK_COLUMNS) {
        *slot = run_count(column, index)?;
    }
    let balance_value = |column: &str, index: usize| -> AppResult<i64> {
        required(optional_integer(index)?, "reconcile_runs", column, id)
    };
    let balance = match (optional_text(21)?, optional_text(22)?) {
        (Some(currency), Some(date)) => Some(BalanceCheck {
            currency: parse_currency(&currency)?,
            date: parse_date(&date)?,
            statement_opening_minor: balance_value("statement_opening_minor", 23)?,
            statement_closing_minor: balance_value("statement_closing_minor", 24)?,
            ledger_closing_minor: balance_value("ledger_closing_minor", 25)?,
        }),
        _ => None,
    };
    let date = parse_date(&text(2)?)?;
    let period_date = |index: usize, column: &str| -> AppResult<NaiveDate> {
        parse_date(&required(
            optional_text(index)?,
            "reconcile_runs",
            column,
            id,
        )?)
    };
    Ok(RunRecord {
        id,
        account: text(1)?,
        date: (integer(31)? != 0).then_some(date),
        period_from: period_date(29, "period_from")?,
        period_to: period_date(30, "period_to")?,
        lines_outside_run: run_count("lines_outside_run", 32)?,
        lines_already_reconciled: run_count("lines_already_reconciled", 33)?,
        matched_grouped: run_count("matched_grouped", 34)?,
        grouped_entries: run_count("grouped_entries", 35)?,
        superseded_by: optional_integer(3)?,
        supersedes: optional_integer(4)?,
        currency: parse_currency(&text(5)?)?,
        statement_file: text(6)?,
        input_format: text(7)?
            .parse()
            .map_err(|error: AppError| corrupt("input format", error.message))?,
        statement_account: optional_text(8)?,
        amount_tolerance_minor: integer(9)?,
        date_window_days: integer(10)?,
        statement_lines: run_count("statement_lines", 11)?,
        internal_entries: run_count("internal_entries", 12)?,
        matched: run_count("matched", 13)?,
        matched_fuzzy: run_count("matched_fuzzy", 14)?,
        breaks,
        balance,
        operator: text(26)?,
        trace_id: text(27)?,
        created_at_us: integer(28)?,
    })
}

fn item_from_row<R>(row: &R) -> AppResult<ItemRecord>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let text = |index: usize| -> Result<String, sqlx::Error> { row.try_get(index) };
    let optional_text =
        |index: usize| -> Result<Option<String>, sqlx::Error> { row.try_get(index) };
    let integer = |index: usize| -> Result<i64, sqlx::Error> { row.try_get(index) };
    let optional_integer =
        |index: usize| -> Result<Option<i64>, sqlx::Error> { row.try_get(index) };
    let id = integer(0)?;
    // A resolution is written whole (`resolve_reconcile_item`): a part missing is corruption.
    let resolution = match optional_text(11)? {
        Some(kind) => Some(Resolution {
            kind: kind
                .parse::<ResolutionKind>()
                .map_err(|error| corrupt("resolution", error.message))?,
            note: required(optional_text(12)?, "reconcile_items", "resolution_note", id)?,
            transfer_id: optional_integer(13)?,
            by: required(optional_text(14)?, "reconcile_items", "resolved_by", id)?,
            at_us: required(
                optional_integer(15)?,
                "reconcile_items",
                "resolved_at_us",
                id,
            )?,
            resolved_in_item: optional_integer(16)?,
        }),
        None => None,
    };
    let statement_line = optional_integer(10)?
        .map(|line| count("reconcile_items", "statement_line", id, line))
        .transpose()?;
    Ok(ItemRecord {
        id,
        run_id: integer(1)?,
        kind: text(2)?
            .parse::<BreakKind>()
            .map_err(|error| corrupt("break kind", error.message))?,
        reference: text(3)?,
        currency: parse_currency(&text(4)?)?,
        internal_currency: optional_text(5)?
            .map(|code| parse_currency(&code))
            .transpose()?,
        internal_amount_minor: optional_integer(6)?,
        external_amount_minor: optional_integer(7)?,
        difference_minor: optional_integer(8)?,
        transfer_id: optional_integer(9)?,
        statement_line,
        date: optional_text(17)?
            .map(|date| parse_date(&date))
            .transpose()?,
        resolution,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One stored item, its resolution columns as given (SQL literals).
    async fn decode_item(resolution: &str) -> AppResult<ItemRecord> {
        let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
        let sql = format!(
            "SELECT 4 AS id, 1 AS run_id, 'missing_internal' AS kind, 'REF' AS reference, \
             'EUR' AS currency, NULL AS internal_currency, NULL AS internal_amount_minor, \
             100 AS external_amount_minor, NULL AS difference_minor, NULL AS transfer_id, \
             3 AS statement_line, {resolution}, NULL AS booked_on"
        );
        let row = sqlx::query(&sql).fetch_one(&pool).await.unwrap();
        item_from_row(&row)
    }

    #[tokio::test]
    async fn a_resolution_missing_a_part_is_a_storage_error() {
        let whole = "'accepted', 'fine', NULL, 'ops', 5, NULL";
        assert!(decode_item(whole).await.is_ok());
        let no_note = "'accepted', NULL, NULL, 'ops', 5, NULL";
        let error = decode_item(no_note).await.unwrap_err();
        assert_eq!(error.exit_code(), 7);
        assert_eq!(
            error.message,
            "stored row is not valid: reconcile_items.resolution_note of row 4: NULL"
        );
        let no_time = "'accepted', 'fine', NULL, 'ops', NULL, NULL";
        let error = decode_item(no_time).await.unwrap_err();
        assert!(error
            .message
            .contains("reconcile_items.resolved_at_us of row 4"));
    }

    #[test]
    fn a_negative_stored_count_is_a_storage_error() {
        let error = count("reconcile_items", "statement_line", 9, -2).unwrap_err();
        assert_eq!(error.exit_code(), 7);
        assert_eq!(
            error.message,
            "stored row is not valid: reconcile_items.statement_line of row 9: -2"
        );
    }

    #[test]
    fn movement_slices_cover_the_window_exactly_in_order() {
        let day = MICROS_PER_DAY;
        let slices = movement_slices(-2 * day, 3 * day);
        assert_eq!(slices.len(), MOVEMENT_SLICES as usize);
        assert_eq!(slices.first().map(|slice| slice.0), Some(-2 * day));
        assert_eq!(slices.last().map(|slice| slice.1), Some(3 * day));
        assert!(slices.windows(2).all(|pair| pair[0].1 == pair[1].0));
        assert!(slices.iter().all(|(start, end)| start < end));
        // Windows too short to share out, empty ones and the widest still cover exactly.
        assert_eq!(movement_slices(5, 5), vec![(5, 5)]);
        assert_eq!(movement_slices(7, 3), vec![(7, 3)]);
        let tiny = movement_slices(0, 2);
        assert_eq!((tiny[0].0, tiny[tiny.len() - 1].1), (0, 2));
        assert!(tiny.windows(2).all(|pair| pair[0].1 == pair[1].0));
        let widest = movement_slices(i64::MIN, i64::MAX);
        assert_eq!((widest[0].0, widest[3].1), (i64::MIN, i64::MAX));
        assert!(widest
            .windows(2)
            .all(|pair| pair[0].1 == pair[1].0 && pair[0].0 < pair[0].1));
    }
}
