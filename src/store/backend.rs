//! The one place where the backends part ways. Each function here matches the pool or the
//! transaction once and calls that backend's own implementation (`sqlite.rs` with its raw
//! fast paths in `sqlite_raw.rs`, or `postgres.rs`); the domain files call these and never
//! look at the backend themselves. A new backend difference is a function here plus one per
//! backend module. (SQL both backends share runs through `dispatch!` in the domain files.)

use super::columns::Value;
use super::rows::{AccountRow, StoredRow, TransferRow, ACCOUNT_COLUMNS, TRANSFER_COLUMNS};
use super::write::{LedgerHead, TxInner, WriteTx};
use super::{postgres, redact_url, sqlite, DbSystem, OpenOptions, Pool};
use crate::audit::AuditEvent;
use crate::error::AppResult;
use crate::model::{Entry, Transfer};

/// Open the pool; also the database as shown to the operator. `as_is`: change nothing in a
/// SQLite file (`Store::open_as_is`).
pub(super) async fn connect(options: &OpenOptions, as_is: bool) -> AppResult<(Pool, String)> {
    match DbSystem::from_url(&options.url)? {
        DbSystem::Sqlite if as_is => {
            let (pool, path) = sqlite::connect_as_is(options).await?;
            Ok((Pool::Sqlite(pool), path))
        }
        DbSystem::Sqlite => {
            let (pool, path) = sqlite::connect(options).await?;
            Ok((Pool::Sqlite(pool), path))
        }
        DbSystem::Postgresql => Ok((
            Pool::Postgres(postgres::connect(options).await?),
            redact_url(&options.url),
        )),
    }
}

/// PostgreSQL: wait until every connection is idle again (see `postgres::settle`).
pub(super) async fn settle(pool: &Pool) {
    if let Pool::Postgres(pool) = pool {
        postgres::settle(pool).await;
    }
}

pub(super) async fn applied_migrations(pool: &Pool) -> AppResult<Vec<i64>> {
    Ok(match pool {
        Pool::Sqlite(pool) => sqlite::applied_migrations(pool).await?,
        Pool::Postgres(pool) => postgres::applied_migrations(pool).await?,
    })
}

/// Take the ledger's write lock and read its head.
pub(super) async fn begin(pool: &Pool) -> Result<(TxInner, LedgerHead), sqlx::Error> {
    Ok(match pool {
        Pool::Sqlite(pool) => {
            let (tx, head) = sqlite::begin(pool).await?;
            (TxInner::Sqlite(tx), head)
        }
        Pool::Postgres(pool) => {
            let (tx, head) = postgres::begin(pool).await?;
            (TxInner::Postgres(tx), head)
        }
    })
}

/// Write the transaction's audit events and new ledger head, and commit.
pub(super) async fn commit(
    inner: TxInner,
    events: &[AuditEvent],
    head: (i64, &str, i64),
) -> Result<(), sqlx::Error> {
    match inner {
        TxInner::Sqlite(mut tx) => {
            sqlite::append_audit_and_set_head(&mut tx, events, head).await?;
            tx.commit().await
        }
        TxInner::Postgres(mut tx) => {
            postgres::append_audit_and_set_head(&mut tx, events, head).await?;
            tx.commit().await
        }
    }
}

/// Transfers with any of these idempotency keys (SQLite: `IN` lists; PostgreSQL: one array).
pub(super) async fn transfers_by_keys(
    inner: &mut TxInner,
    keys: &[&str],
) -> AppResult<Vec<TransferRow>> {
    Ok(match inner {
        TxInner::Sqlite(tx) => {
            let select = format!("SELECT {TRANSFER_COLUMNS} FROM transfers WHERE idempotency_key");
            sqlite::rows_by_keys(tx, &select, keys).await?
        }
        TxInner::Postgres(tx) => postgres::transfers_by_keys(tx, keys).await?,
    })
}

/// Accounts with any of these numbers.
pub(super) async fn accounts(inner: &mut TxInner, numbers: &[&str]) -> AppResult<Vec<AccountRow>> {
    Ok(match inner {
        TxInner::Sqlite(tx) => {
            let select = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE number");
            sqlite::rows_by_keys(tx, &select, numbers).await?
        }
        TxInner::Postgres(tx) => postgres::accounts(tx, numbers).await?,
    })
}

/// PostgreSQL: a small batch in one statement. SQLite: three, each through its `WriteTx`
/// method so each keeps its span (`fincore.store.transfers.write`, …).
pub(super) async fn write_postings(
    tx: &mut WriteTx,
    transfers: &[Transfer],
    entries: &[Entry],
    balances: &[(String, i64)],
    now_us: i64,
) -> AppResult<()> {
    if let TxInner::Postgres(pg) = &mut tx.inner {
        return Ok(postgres::write_postings(pg, transfers, entries, balances, now_us).await?);
    }
    tx.insert_transfers(transfers).await?;
    tx.insert_entries(entries).await?;
    tx.set_balances(balances, now_us).await
}

pub(super) async fn insert_transfers(inner: &mut TxInner, transfers: &[Transfer]) -> AppResult<()> {
    let outcome = match inner {
        TxInner::Sqlite(tx) => sqlite::insert_transfers(tx, transfers).await,
        TxInner::Postgres(tx) => postgres::insert_transfers(tx, transfers).await,
    };
    Ok(outcome?)
}

pub(super) async fn insert_entries(inner: &mut TxInner, entries: &[Entry]) -> AppResult<()> {
    let outcome = match inner {
        TxInner::Sqlite(tx) => sqlite::insert_entries(tx, entries).await,
        TxInner::Postgres(tx) => postgres::insert_entries(tx, entries).await,
    };
    Ok(outcome?)
}

pub(super) async fn set_balances(
    inner: &mut TxInner,
    balances: &[(String, i64)],
    now_us: i64,
) -> AppResult<()> {
    let outcome = match inner {
        TxInner::Sqlite(tx) => sqlite::set_balances(tx, balances, now_us).await,
        TxInner::Postgres(tx) => postgres::set_balances(tx, balances, now_us).await,
    };
    Ok(outcome?)
}

/// A statement and the visitor of its rows.
pub(crate) type ScanJob<'a> = (
    String,
    Box<dyn FnMut(&dyn StoredRow) -> AppResult<()> + Send + 'a>,
);

/// Statements at once, each on its own pooled connection (SQLite: its own thread), each job's
/// rows to its own visitor.
pub(super) async fn scan_each(pool: &Pool, jobs: Vec<ScanJob<'_>>) -> AppResult<()> {
    match pool {
        Pool::Sqlite(pool) => sqlite::scan_each(pool, jobs).await,
        Pool::Postgres(pool) => postgres::scan_each(pool, jobs).await,
    }
}

/// Bulk reads at once, one per job (its parameters and the state its rows go to), each on its
/// own pooled connection. The states come back in the jobs' order.
pub(super) async fn scan_parallel<S: Send>(
    pool: &Pool,
    sql: &str,
    jobs: Vec<(Vec<Value<'_>>, S)>,
    visit: &(dyn Fn(&mut S, &dyn StoredRow) -> AppResult<()> + Sync),
) -> AppResult<Vec<S>> {
    match pool {
        Pool::Sqlite(pool) => sqlite::scan_parallel(pool, sql, jobs, visit).await,
        Pool::Postgres(pool) => postgres::scan_parallel(pool, sql, jobs, visit).await,
    }
}
