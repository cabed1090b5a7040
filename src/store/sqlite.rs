//! SQLite specifics: WAL, a busy timeout long enough that concurrent fincore processes queue
//! rather than fail, and `BEGIN IMMEDIATE` so a writer takes the lock before it reads. Its
//! writes are multi-row `VALUES` statements bound from `columns.rs`; its bulk reads step
//! statements straight on the connection (`sqlite_raw.rs`). Chosen by `backend.rs`.

use super::columns::{self, Column, Names, Value};
use super::rows::StoredRow;
use super::sqlite_raw::RawConnection;
use super::write::{multi_row_insert, placeholders, LedgerHead};
use super::{DbSystem, OpenOptions, INSERT_ROWS_MAX};
use crate::audit::AuditEvent;
use crate::error::{AppError, AppResult};
use crate::model::{Entry, Transfer};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqliteConnection};
use std::str::FromStr;
use std::time::Duration;

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// The longest wait for a pooled connection (the wait for another writer's lock is
/// `store::lock_timeout()`, SQLite's busy timeout).
pub(crate) const BUSY_TIMEOUT: Duration = super::LOCK_TIMEOUT;

pub(super) const CONNECTIONS_MAX: u32 = 4;
/// Page cache per connection, in KiB.
pub(crate) const CACHE_SIZE_KIB: i64 = 65536;
const ROW_CHANNEL_ROWS: usize = 8_192;
/// A commit that leaves the WAL longer than this copies it back into the database file.
pub(crate) const WAL_AUTOCHECKPOINT_PAGES: u32 = 16_384;

/// Open the pool; also returns the database as shown to the operator (the file's absolute
/// path). A missing file is created only when `options.create_if_missing` (commands that
/// write): a read on a missing file would otherwise leave an empty ledger behind and report
/// an empty bank.
pub(crate) async fn connect(options: &OpenOptions) -> AppResult<(sqlx::SqlitePool, String)> {
    if path_of(&options.url).is_empty() {
        return Err(AppError::usage(format!(
            "--db '{}' names no file: expected sqlite://PATH, e.g. sqlite://fincore.db",
            options.url
        )));
    }
    let connect_options = SqliteConnectOptions::from_str(&options.url)
        .map_err(|error| AppError::usage(format!("--db '{}': {error}", options.url)))?;
    let file = connect_options.get_filename().to_path_buf();
    let shown = std::path::absolute(&file)
        .unwrap_or_else(|_| file.clone())
        .display()
        .to_string();
    let in_memory = options.url.contains(":memory:") || options.url.contains("mode=memory");
    if !options.create_if_missing && !in_memory && !file.exists() {
        return Err(AppError::storage(format!(
            "database '{shown}' does not exist, and a command that only reads does not create \
             it: check --db / FINCORE_DATABASE_URL, or create the ledger with a command that \
             writes (e.g. `fincore db migrate`)"
        )));
    }
    let connect_options = connect_options
        .create_if_missing(options.create_if_missing)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(super::lock_timeout())
        .pragma("cache_size", format!("-{CACHE_SIZE_KIB}"))
        .pragma("temp_store", "memory")
        .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string())
        // Rows cross from the SQLite worker thread through this channel; a deep buffer lets
        // bulk reads (reconciliation, rescoring, reports) stream without a thread handoff per row.
        .row_buffer_size(ROW_CHANNEL_ROWS);
    let pool = SqlitePoolOptions::new()
        .max_connections(CONNECTIONS_MAX)
        .acquire_timeout(BUSY_TIMEOUT)
        .after_release(|connection, _| Box::pin(restore_autocheckpoint(connection)))
        .connect_with(connect_options)
        .await
        .map_err(|error| {
            let named = format!("database '{shown}'");
            match &error {
                sqlx::Error::Database(db) => match describe_error(db.as_ref(), &named) {
                    Some(described) => AppError::storage(format!("{described} ({error})")),
                    None => AppError::storage(format!("cannot open {named}: {error}")),
                },
                _ => AppError::storage(format!("cannot open {named}: {error}")),
            }
        })?;
    Ok((pool, shown))
}

/// The path part of a `sqlite:` URL (`sqlite://PATH?…`, `sqlite:PATH`), empty when none.
fn path_of(url: &str) -> &str {
    let rest = url.strip_prefix("sqlite:").unwrap_or(url);
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    rest.split('?').next().unwrap_or("")
}

/// SQLite's primary result codes fincore explains (extended codes keep them in the low byte).
const SQLITE_BUSY: i64 = 5;
const SQLITE_READONLY: i64 = 8;
const SQLITE_CANTOPEN: i64 = 14;

/// What to tell the operator about a SQLite error that is not a bug: a lock held past the
/// timeout, a file or directory that cannot be written. `database` names it
/// (`database '/path/ledger.db'`). None for other errors and other backends.
pub(crate) fn describe_error(
    error: &dyn sqlx::error::DatabaseError,
    database: &str,
) -> Option<String> {
    error.try_downcast_ref::<sqlx::sqlite::SqliteError>()?;
    let code: i64 = error.code()?.parse().ok()?;
    match code & 0xff {
        SQLITE_BUSY => Some(format!(
            "{database} is locked: another process or connection held its write lock for more \
             than {} s (which one is not known: another fincore command, a backup, an open \
             sqlite3 shell; `fuser` on the file lists who has it open); let it finish and run \
             the command again, or wait longer with --lock-timeout SECONDS",
            super::lock_timeout().as_secs()
        )),
        SQLITE_READONLY => Some(format!(
            "{database} is read-only: fincore writes the file and creates its -wal and -shm \
             files beside it, so the file and its directory must be writable by this user"
        )),
        SQLITE_CANTOPEN => Some(format!(
            "cannot open {database}: its directory must exist, and the file and its directory \
             must be readable and writable by this user"
        )),
        _ => None,
    }
}

/// An import batch turns its connection's automatic checkpoints off (`store::sqlite_bulk`);
/// every connection gets them back on its way into the pool, so no later user of the pool
/// inherits a WAL that never shrinks. Done on release because the batch's connection leaves
/// the import inside sqlx's commit, and counting the pool's connections afterwards races
/// with that connection's return (seen on CI). One PRAGMA per release, about 10 µs.
async fn restore_autocheckpoint(
    connection: &mut sqlx::SqliteConnection,
) -> Result<bool, sqlx::Error> {
    let restore = format!("PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}");
    sqlx::query(&restore).execute(connection).await?;
    Ok(true)
}

pub(crate) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// A pool that looks at the database without changing its file (`transfer import --dry-run`):
/// no file is created, the journal mode is left as it is, and one connection is enough (the
/// dry run reads one batch at a time).
///
/// Closing the last connection to a WAL database normally checkpoints the WAL into the file and
/// deletes it. When there is no WAL yet, that is what we want: our empty WAL and its
/// shared-memory file go away and the file is not written. When a WAL is there already (left
/// by a process that exited without checkpointing), that checkpoint would rewrite the file
/// with changes that are not ours: each connection is then told not to checkpoint on close,
/// and the WAL stays as it was.
pub(crate) async fn connect_as_is(options: &OpenOptions) -> AppResult<(sqlx::SqlitePool, String)> {
    let connect_options = SqliteConnectOptions::from_str(&options.url)
        .map_err(|error| AppError::usage(format!("--db '{}': {error}", options.url)))?;
    let file = connect_options.get_filename().to_path_buf();
    let shown = std::path::absolute(&file)
        .unwrap_or_else(|_| file.clone())
        .display()
        .to_string();
    if path_of(&options.url).is_empty() || !file.exists() {
        return Err(AppError::storage(format!(
            "database '{shown}' does not exist; a command that changes nothing does not create it \
             (check --db / FINCORE_DATABASE_URL)"
        )));
    }
    let connect_options = connect_options
        .create_if_missing(false)
        .busy_timeout(super::lock_timeout())
        .pragma("cache_size", format!("-{CACHE_SIZE_KIB}"))
        .row_buffer_size(ROW_CHANNEL_ROWS);
    let mut wal = file.into_os_string();
    wal.push("-wal");
    let keep_wal = std::path::Path::new(&wal).exists();
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(BUSY_TIMEOUT)
        .after_connect(move |connection, _| {
            Box::pin(async move {
                if keep_wal {
                    super::sqlite_raw::no_checkpoint_on_close(connection).await?;
                }
                Ok(())
            })
        })
        .connect_with(connect_options)
        .await
        .map_err(|error| AppError::storage(format!("cannot open database '{shown}': {error}")))?;
    Ok((pool, shown))
}

/// Versions of the applied migrations; none on a fresh database.
pub(super) async fn applied_migrations(pool: &sqlx::SqlitePool) -> Result<Vec<i64>, sqlx::Error> {
    let exists: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_optional(pool)
    .await?;
    if exists.is_none() {
        return Ok(Vec::new());
    }
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(pool)
        .await
}

/// Take the write lock (`BEGIN IMMEDIATE`) and read the ledger head.
pub(super) async fn begin(
    pool: &sqlx::SqlitePool,
) -> Result<(sqlx::Transaction<'static, sqlx::Sqlite>, LedgerHead), sqlx::Error> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let row =
        sqlx::query("SELECT audit_seq, audit_hash, transfer_seq FROM ledger_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
    let head = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    Ok((tx, head))
}

/// The transaction's audit events (multi-row `VALUES`), then the new ledger head.
pub(super) async fn append_audit_and_set_head(
    connection: &mut SqliteConnection,
    events: &[AuditEvent],
    (audit_seq, audit_hash, transfer_seq): (i64, &str, i64),
) -> Result<(), sqlx::Error> {
    insert_rows(
        connection,
        "audit_events",
        &columns::AUDIT_EVENT,
        events,
        INSERT_ROWS_MAX,
    )
    .await?;
    sqlx::query(
        "UPDATE ledger_head SET audit_seq = $1, audit_hash = $2, transfer_seq = $3 WHERE id = 1",
    )
    .bind(audit_seq)
    .bind(audit_hash)
    .bind(transfer_seq)
    .execute(connection)
    .await?;
    Ok(())
}

/// `rows` of `table` in multi-row `VALUES` statements of at most `rows_per_statement` rows,
/// every value bound from the table's column map.
async fn insert_rows<T>(
    connection: &mut SqliteConnection,
    table: &str,
    columns: &[Column<T>],
    rows: &[T],
    rows_per_statement: usize,
) -> Result<(), sqlx::Error> {
    let prefix = format!("INSERT INTO {table} ({}) VALUES ", Names(columns));
    for chunk in rows.chunks(rows_per_statement) {
        let sql = multi_row_insert(DbSystem::Sqlite, &prefix, columns.len(), chunk.len(), 1);
        let values: Vec<Value<'_>> = chunk
            .iter()
            .flat_map(|row| columns.iter().map(move |column| (column.value)(row)))
            .collect();
        let mut query = sqlx::query(&sql);
        for value in &values {
            query = match value {
                Value::Integer(integer) => query.bind(*integer),
                Value::Text(text) => query.bind(text.as_ref()),
                Value::Null => query.bind(None::<i64>),
            };
        }
        query.execute(&mut *connection).await?;
    }
    Ok(())
}

pub(super) async fn insert_transfers(
    connection: &mut SqliteConnection,
    transfers: &[Transfer],
) -> Result<(), sqlx::Error> {
    insert_rows(
        connection,
        "transfers",
        &columns::TRANSFER,
        transfers,
        INSERT_ROWS_MAX,
    )
    .await
}

pub(super) async fn insert_entries(
    connection: &mut SqliteConnection,
    entries: &[Entry],
) -> Result<(), sqlx::Error> {
    insert_rows(
        connection,
        "entries",
        &columns::ENTRY,
        entries,
        INSERT_ROWS_MAX * 2,
    )
    .await
}

/// New absolute balances, one `UPDATE … FROM (VALUES …)` per chunk.
pub(super) async fn set_balances(
    connection: &mut SqliteConnection,
    balances: &[(String, i64)],
    now_us: i64,
) -> Result<(), sqlx::Error> {
    for chunk in balances.chunks(INSERT_ROWS_MAX) {
        let values = multi_row_insert(DbSystem::Sqlite, "", 2, chunk.len(), 2);
        let sql = format!(
            "UPDATE accounts SET updated_at_us = ?, balance_minor = v.column2 \
             FROM (VALUES {values}) AS v WHERE accounts.number = v.column1"
        );
        let mut query = sqlx::query(&sql).bind(now_us);
        for (number, balance_minor) in chunk {
            query = query.bind(number).bind(*balance_minor);
        }
        query.execute(&mut *connection).await?;
    }
    Ok(())
}

/// Rows of `SELECT {columns} FROM {table} WHERE {key} IN (…)`, in `IN` lists of at most
/// `INSERT_ROWS_MAX` keys.
pub(super) async fn rows_by_keys<R>(
    connection: &mut SqliteConnection,
    select: &str,
    keys: &[&str],
) -> Result<Vec<R>, sqlx::Error>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin,
{
    let mut found = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(INSERT_ROWS_MAX) {
        let sql = format!(
            "{select} IN ({})",
            placeholders(DbSystem::Sqlite, 1, chunk.len())
        );
        let mut query = sqlx::query_as(&sql);
        for key in chunk {
            query = query.bind(*key);
        }
        found.extend(query.fetch_all(&mut *connection).await?);
    }
    Ok(found)
}

/// Page cache of a connection while it scans, in KiB: a scan reads each page once, so a small
/// cache saves allocating and faulting in the pool's large one (a fifth of the CPU of a read;
/// the operating system caches the file anyway).
const SCAN_CACHE_KIB: i64 = 2048;

/// Run `scan` with the connection's page cache small, and give it its cache back after.
fn with_scan_cache(
    connection: &RawConnection<'_>,
    scan: impl FnOnce() -> AppResult<()>,
) -> AppResult<()> {
    connection.execute(&format!("PRAGMA cache_size = -{SCAN_CACHE_KIB}"))?;
    let outcome = scan();
    let restored = connection.execute(&format!("PRAGMA cache_size = -{CACHE_SIZE_KIB}"));
    outcome.and(restored)
}

/// Statements at once, each on its own pooled connection and thread, straight from SQLite;
/// each job's rows go to its own visitor.
pub(super) async fn scan_each(
    pool: &sqlx::SqlitePool,
    jobs: Vec<super::backend::ScanJob<'_>>,
) -> AppResult<()> {
    let mut connections = Vec::with_capacity(jobs.len());
    for _ in &jobs {
        connections.push(pool.acquire().await?);
    }
    let mut locked = Vec::with_capacity(connections.len());
    for connection in connections.iter_mut() {
        locked.push(connection.lock_handle().await?);
    }
    let raws: Vec<RawConnection<'_>> = locked.iter_mut().map(RawConnection::new).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = raws
            .into_iter()
            .zip(jobs)
            .map(|(raw, (sql, mut visit))| {
                scope.spawn(move || {
                    with_scan_cache(&raw, || raw.for_each_row(&sql, &[], |row| visit(row)))
                })
            })
            .collect();
        workers
            .into_iter()
            .try_for_each(|worker| worker.join().expect("a reading thread panicked"))
    })
}

/// One statement per job, each on its own pooled connection and thread at once, straight from
/// SQLite; each job's rows go to `visit` with the job's state.
pub(super) async fn scan_parallel<S: Send>(
    pool: &sqlx::SqlitePool,
    sql: &str,
    jobs: Vec<(Vec<Value<'_>>, S)>,
    visit: &(dyn Fn(&mut S, &dyn StoredRow) -> AppResult<()> + Sync),
) -> AppResult<Vec<S>> {
    let mut connections = Vec::with_capacity(jobs.len());
    for _ in &jobs {
        connections.push(pool.acquire().await?);
    }
    let mut locked = Vec::with_capacity(connections.len());
    for connection in connections.iter_mut() {
        locked.push(connection.lock_handle().await?);
    }
    let raws: Vec<RawConnection<'_>> = locked.iter_mut().map(RawConnection::new).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = raws
            .into_iter()
            .zip(jobs)
            .map(|(raw, (parameters, mut state))| {
                scope.spawn(move || {
                    with_scan_cache(&raw, || {
                        raw.for_each_row(sql, &parameters, |row| visit(&mut state, row))
                    })?;
                    Ok(state)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("a reading thread panicked"))
            .collect()
    })
}
