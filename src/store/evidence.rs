//! Rows as evidence: every bound table read as text cells (`CAST(… AS TEXT)`, the same text on
//! both backends), for the bindings a write transaction records in its audit event and for
//! `ledger verify`, which reads every table back.

use super::columns::{Column, Value};
use super::rows::StoredRow;
use super::write::{TxInner, WriteTx};
use super::{dispatch, Pool, Store};
use crate::error::AppResult;
use crate::evidence::{BatchDigest, Binding, RowDigest, TableEvidence};
use sqlx::Row;

/// A row's evidence cells in column order.
pub(crate) type Cells = Vec<Option<String>>;

/// `SELECT CAST(c1 AS TEXT), … FROM table` (then a WHERE/ORDER BY of the caller's).
fn select_cells(table: &TableEvidence) -> String {
    select_columns(table, true)
}

/// The table's evidence columns, cast to text or as stored (the raw SQLite reader converts).
fn select_columns(table: &TableEvidence, cast: bool) -> String {
    let cells: Vec<String> = table
        .columns
        .iter()
        .map(|column| match cast {
            true => format!("CAST({column} AS TEXT)"),
            false => column.to_string(),
        })
        .collect();
    format!("SELECT {} FROM {}", cells.join(", "), table.name)
}

/// A scan of a bound table in key order, each row's cells lent to `visit`.
fn table_job<'a>(
    table: &'static TableEvidence,
    cast: bool,
    keys: Option<(i64, i64)>,
    mut visit: RowVisitor<'a>,
) -> super::backend::ScanJob<'a> {
    let within = keys.map_or(String::new(), |(first, last)| {
        format!(
            " WHERE {key} >= {first} AND {key} <= {last}",
            key = table.key
        )
    });
    // Qualified: PostgreSQL would otherwise order by the output column, the key cast to text.
    let sql = format!(
        "{}{within} ORDER BY {}.{}",
        select_columns(table, cast),
        table.name,
        table.key
    );
    let count = table.columns.len();
    assert!(
        count <= STREAM_CELLS_MAX,
        "a bound table has at most {STREAM_CELLS_MAX} columns"
    );
    let visitor = move |row: &dyn StoredRow| {
        let mut buffers = [[0u8; 20]; STREAM_CELLS_MAX];
        let mut cells: [Option<&str>; STREAM_CELLS_MAX] = [None; STREAM_CELLS_MAX];
        for (index, (cell, buffer)) in cells
            .iter_mut()
            .zip(buffers.iter_mut())
            .take(count)
            .enumerate()
        {
            *cell = row.cell(index, buffer)?;
        }
        visit(&cells[..count]);
        Ok(())
    };
    (sql, Box::new(visitor))
}

/// A row's cells from an sqlx row of `select_cells`.
fn cells_of<R: Row>(row: &R, count: usize) -> Result<Cells, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    (0..count).map(|index| row.try_get(index)).collect()
}

/// The digest of a record as its column map writes it (integers in decimal, NULL as NULL):
/// equal to the digest of the row read back as text.
pub(crate) fn record_digest<T>(columns: &[Column<T>], record: &T) -> [u8; 32] {
    let mut digest = RowDigest::default();
    for column in columns {
        match (column.value)(record) {
            Value::Integer(value) => digest.integer(Some(value)),
            Value::Text(text) => digest.cell(Some(&text)),
            Value::Null => digest.cell(None),
        }
    }
    digest.finish()
}

/// The cells of a record as its column map writes it.
pub(crate) fn record_cells<T>(columns: &[Column<T>], record: &T) -> Cells {
    columns
        .iter()
        .map(|column| match (column.value)(record) {
            Value::Integer(value) => Some(value.to_string()),
            Value::Text(text) => Some(text.into_owned()),
            Value::Null => None,
        })
        .collect()
}

impl WriteTx {
    /// One row of a bound table as this transaction sees it (None: no such row).
    pub(crate) async fn evidence_row(
        &mut self,
        table: &TableEvidence,
        key: &str,
    ) -> AppResult<Option<Cells>> {
        let sql = format!("{} WHERE {} = $1", select_cells(table), table.key);
        let count = table.columns.len();
        let integer_key = key_value(table, key);
        let cells = dispatch!(TxInner, &mut self.inner, tx => {
            let query = sqlx::query(&sql);
            let query = match integer_key {
                Some(value) => query.bind(value),
                None => query.bind(key),
            };
            match query.fetch_optional(&mut **tx).await? {
                Some(row) => Some(cells_of(&row, count)?),
                None => None,
            }
        });
        Ok(cells)
    }

    /// The binding of one row as it is now in this transaction (deleted when it is gone).
    pub(crate) async fn bind_row(
        &mut self,
        table: &TableEvidence,
        key: &str,
    ) -> AppResult<Binding> {
        let cells = self.evidence_row(table, key).await?;
        Ok(Binding::row(table, key, cells))
    }

    /// The binding of the rows with keys `first..=last`, as this transaction wrote them.
    pub(crate) async fn bind_batch(
        &mut self,
        table: &TableEvidence,
        first: i64,
        last: i64,
    ) -> AppResult<Option<Binding>> {
        let sql = format!(
            "{} WHERE {key} >= $1 AND {key} <= $2 ORDER BY {table}.{key}",
            select_cells(table),
            table = table.name,
            key = table.key
        );
        let count = table.columns.len();
        let key_index = key_index(table);
        let mut batch = BatchDigest::default();
        dispatch!(TxInner, &mut self.inner, tx => {
            use futures_util::TryStreamExt;
            let mut rows = sqlx::query(&sql).bind(first).bind(last).fetch(&mut **tx);
            while let Some(row) = rows.try_next().await? {
                let cells = cells_of(&row, count)?;
                batch.add(integer_key_of(&cells, key_index), &digest_of(&cells));
            }
        });
        Ok(batch.binding(table))
    }
}

/// The digest of a row's cells.
pub(crate) fn digest_of(cells: &[Option<String>]) -> [u8; 32] {
    RowDigest::of(cells.iter().map(Option::as_deref))
}

fn key_index(table: &TableEvidence) -> usize {
    table
        .columns
        .iter()
        .position(|column| *column == table.key)
        .expect("the key is an evidence column")
}

fn key_value(table: &TableEvidence, key: &str) -> Option<i64> {
    if table.integer_key {
        Some(key.parse().unwrap_or(i64::MIN))
    } else {
        None
    }
}

fn integer_key_of(cells: &[Option<String>], key_index: usize) -> i64 {
    cells[key_index]
        .as_deref()
        .and_then(|key| key.parse().ok())
        .unwrap_or(i64::MIN)
}

/// The digest of a transfer's row as written (its column map is the table's evidence).
pub(crate) fn transfer_digest(transfer: &crate::model::Transfer) -> [u8; 32] {
    record_digest(&super::columns::TRANSFER, transfer)
}

/// The binding of one transfer as written.
pub(crate) fn transfer_binding(transfer: &crate::model::Transfer) -> Binding {
    Binding::row(
        &crate::evidence::TRANSFERS,
        &transfer.id.to_string(),
        Some(record_cells(&super::columns::TRANSFER, transfer)),
    )
}

/// Most columns of a bound table (cells of a streamed row live on the stack).
const STREAM_CELLS_MAX: usize = 40;

/// One read `ledger verify` streams: a bound table's rows (cells in column order, key order),
/// or every entry (transfer id, account, amount, time; in no particular order).
pub(crate) enum EvidenceScan<'a> {
    Table(&'static TableEvidence, RowVisitor<'a>),
    /// The rows of an integer-keyed table with keys `first..=last`.
    TableKeys(&'static TableEvidence, i64, i64, RowVisitor<'a>),
    Entries(EntryVisitor<'a>),
}

/// Takes a bound table's row: its cells in column order.
pub(crate) type RowVisitor<'a> = Box<dyn FnMut(&[Option<&str>]) + Send + 'a>;
/// Takes an entry: transfer id, account, amount, time.
pub(crate) type EntryVisitor<'a> = Box<dyn FnMut(i64, &str, i64, i64) + Send + 'a>;

impl Store {
    /// Run the scans at once, each on its own connection (SQLite: its own thread, straight from
    /// the library; integers come as integers and are written in decimal, as a cast would).
    #[tracing::instrument(target = "fincore", name = "fincore.store.evidence.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn scan_evidence(&self, scans: Vec<EvidenceScan<'_>>) -> AppResult<()> {
        let cast = self.system == super::DbSystem::Postgresql;
        let jobs = scans
            .into_iter()
            .map(|scan| match scan {
                EvidenceScan::Table(table, visit) => table_job(table, cast, None, visit),
                EvidenceScan::TableKeys(table, first, last, visit) => {
                    table_job(table, cast, Some((first, last)), visit)
                }
                EvidenceScan::Entries(mut visit) => {
                    // SQLite reads the entries in account order from its covering index
                    // (sums by account then need no lookup per entry); PostgreSQL as stored.
                    let sql = match cast {
                        true => "SELECT transfer_id, account, amount_minor, at_us FROM entries",
                        false => "SELECT transfer_id, account, amount_minor, at_us FROM entries ORDER BY account",
                    };
                    let visitor = move |row: &dyn StoredRow| {
                        visit(
                            row.integer(0)?,
                            row.text(1)?,
                            row.integer(2)?,
                            row.integer(3)?,
                        );
                        Ok(())
                    };
                    (sql.to_string(), Box::new(visitor) as _)
                }
            })
            .collect();
        super::backend::scan_each(&self.pool, jobs).await
    }

    /// Every account's number, type, currency and stored balance.
    pub(crate) async fn stored_balances(
        &self,
    ) -> AppResult<Vec<crate::evidence::derived::StoredBalance>> {
        let rows = dispatch!(Pool, &self.pool, pool => {
            sqlx::query("SELECT number, account_type, currency, balance_minor FROM accounts ORDER BY number")
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| -> Result<_, sqlx::Error> {
                    Ok(crate::evidence::derived::StoredBalance {
                        number: row.try_get(0)?,
                        settlement: row.try_get::<String, _>(1)? == "settlement",
                        currency: row.try_get(2)?,
                        balance_minor: row.try_get(3)?,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }

    /// Every `risk_latest` row.
    pub(crate) async fn stored_latest_risks(
        &self,
    ) -> AppResult<Vec<(String, crate::evidence::derived::LatestRisk)>> {
        let rows = dispatch!(Pool, &self.pool, pool => {
            sqlx::query("SELECT account, assessment_id, as_of_us, CAST(score AS TEXT), level, decision FROM risk_latest")
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| -> Result<_, sqlx::Error> {
                    Ok((row.try_get(0)?, crate::evidence::derived::LatestRisk {
                        assessment_id: row.try_get(1)?,
                        as_of_us: row.try_get(2)?,
                        score: row.try_get(3)?,
                        level: row.try_get(4)?,
                        decision: row.try_get(5)?,
                    }))
                })
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }

    /// The ledger head's last transfer id (None: the head row is gone).
    pub(crate) async fn head_transfer_seq(&self) -> AppResult<Option<i64>> {
        let seq = dispatch!(Pool, &self.pool, pool => {
            sqlx::query_scalar("SELECT transfer_seq FROM ledger_head WHERE id = 1")
                .fetch_optional(pool)
                .await?
        });
        Ok(seq)
    }
}

#[cfg(test)]
mod tests {
    use super::super::columns::{Names, TRANSFER};

    /// A transfer's digest from its column map must equal the digest of its row read back.
    #[test]
    fn the_transfer_column_map_is_the_transfers_evidence() {
        assert_eq!(
            Names(&TRANSFER).to_string(),
            crate::evidence::TRANSFERS.columns.join(", ")
        );
    }
}
