//! PostgreSQL specifics: connecting (fast, clear failures, no password in any message), the
//! write transaction's start, and the bulk statements.
//!
//! Locking: every writer's first statement is `SELECT … FROM ledger_head WHERE id = 1 FOR
//! UPDATE`. The audit hash chain needs a total order of writers anyway, and a single lock that
//! every writer takes first, before touching any other row, cannot deadlock. Under the default
//! READ COMMITTED each later statement sees what the previous lock holder committed. Under
//! SERIALIZABLE (or on an engine that only offers it) a writer that waited for the lock fails
//! with SQLSTATE 40001 instead; `store::with_retry` runs the whole transaction again, a bounded
//! number of times with jittered backoff.
//!
//! Round trips: the lock is held from that statement to COMMIT, so the statements in between
//! are few and cheap. They are parsed before the lock is taken; a small batch (a single post)
//! writes its transfers, entries and balances in one statement and its audit events plus the
//! new ledger head in another, both over typed arrays (`UNNEST`). Large batches (`transfer
//! import`) send transfer, entry and audit rows with `COPY … FROM STDIN`. SQLite keeps its
//! multi-row `VALUES` path.

use super::columns::{self, Column, Names, SqlType, Value};
use super::rows::{AccountRow, StoredRow, TransferRow, ACCOUNT_COLUMNS, TRANSFER_COLUMNS};
use super::write::LedgerHead;
use super::{lock_timeout, redact_url, OpenOptions};
use crate::audit::AuditEvent;
use crate::error::{AppError, AppResult};
use crate::model::{Entry, Transfer};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgConnection;
use std::str::FromStr;
use std::sync::LazyLock;
use std::time::Duration;

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

pub(super) const CONNECTIONS_MAX: u32 = 4;

/// Longest wait for a released connection to come back (see `settle`).
const SETTLE_MAX: Duration = Duration::from_millis(20);

/// Rows per balance-update statement: bounds the size of one protocol message.
const BULK_ROWS_MAX: usize = 50_000;

/// `COPY` data goes out in messages of this size.
const COPY_CHUNK_BYTES: usize = 1 << 20;

/// Opens every write transaction. `SET LOCAL` takes no snapshot, so under SERIALIZABLE the
/// snapshot is still taken by the lock statement that follows.
pub(crate) fn begin_write() -> String {
    format!(
        "BEGIN; SET LOCAL lock_timeout = '{}s'",
        lock_timeout().as_secs()
    )
}

pub(crate) const LOCK_HEAD: &str =
    "SELECT audit_seq, audit_hash, transfer_seq FROM ledger_head WHERE id = 1 FOR UPDATE";

static TRANSFERS_BY_KEYS: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {TRANSFER_COLUMNS} FROM transfers WHERE idempotency_key = ANY($1)")
});

static ACCOUNTS_BY_NUMBERS: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE number = ANY($1)"));

/// A small batch's transfers, entries and balances in one statement (data-modifying CTEs run
/// exactly once, whether or not the outer statement reads them). Parameters: one array per
/// transfer column, one per entry column, then the time and the balances.
static WRITE_POSTINGS: LazyLock<String> = LazyLock::new(|| {
    let transfers = unnest_insert("transfers", &columns::TRANSFER, 1);
    let next = 1 + columns::TRANSFER.len();
    let entries = unnest_insert("entries", &columns::ENTRY, next);
    let now = next + columns::ENTRY.len();
    format!(
        "WITH new_transfers AS ({transfers}), new_entries AS ({entries}) \
         UPDATE accounts SET updated_at_us = ${now}, balance_minor = v.balance_minor \
         FROM UNNEST(${}::TEXT[], ${}::BIGINT[]) AS v(number, balance_minor) \
         WHERE accounts.number = v.number",
        now + 1,
        now + 2
    )
});

/// A small transaction's audit events and the new ledger head in one statement.
static APPEND_AUDIT_AND_SET_HEAD: LazyLock<String> = LazyLock::new(|| {
    let events = unnest_insert("audit_events", &columns::AUDIT_EVENT, 1);
    let head = 1 + columns::AUDIT_EVENT.len();
    format!(
        "WITH new_events AS ({events}) UPDATE ledger_head SET audit_seq = ${head}, \
         audit_hash = ${}, transfer_seq = ${} WHERE id = 1",
        head + 1,
        head + 2
    )
});

/// `INSERT INTO table (columns) SELECT * FROM UNNEST($first::TYPE[], …)`: one typed array
/// parameter per column of the map, numbered from `first`.
fn unnest_insert<T>(table: &str, columns: &[Column<T>], first: usize) -> String {
    let arrays: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(index, column)| format!("${}::{}", first + index, column.sql_type.pg_array()))
        .collect();
    format!(
        "INSERT INTO {table} ({}) SELECT * FROM UNNEST({})",
        Names(columns),
        arrays.join(", ")
    )
}

/// The rows' values column by column (what `bind_arrays` binds).
fn column_values<'r, T>(columns: &[Column<T>], rows: &'r [T]) -> Vec<Vec<Value<'r>>> {
    columns
        .iter()
        .map(|column| rows.iter().map(|row| (column.value)(row)).collect())
        .collect()
}

/// Bind one typed array per column (`unnest_insert`'s parameters, in order).
fn bind_arrays<'q, T>(
    mut query: PgQuery<'q>,
    columns: &[Column<T>],
    values: &'q [Vec<Value<'q>>],
) -> PgQuery<'q> {
    for (column, values) in columns.iter().zip(values) {
        query = match column.sql_type {
            SqlType::Integer => {
                query.bind(values.iter().map(Value::as_integer).collect::<Vec<_>>())
            }
            SqlType::Text => query.bind(values.iter().map(Value::as_text).collect::<Vec<_>>()),
        };
    }
    query
}

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

const SET_HEAD: &str =
    "UPDATE ledger_head SET audit_seq = $1, audit_hash = $2, transfer_seq = $3 WHERE id = 1";

/// Batches from this many transfers (or audit events) up go through `COPY`; below, the
/// prepared one-statement writes above.
const COPY_ROWS_MIN: usize = 500;

/// Parse the statements of a write transaction before it takes the ledger lock: on a new
/// connection each statement otherwise costs two round trips (parse, execute) while every
/// other writer waits. Statements already prepared on this connection cost nothing.
pub(super) async fn prepare_write_statements(
    connection: &mut PgConnection,
) -> Result<(), sqlx::Error> {
    use sqlx::Executor;
    for sql in [
        LOCK_HEAD,
        TRANSFERS_BY_KEYS.as_str(),
        ACCOUNTS_BY_NUMBERS.as_str(),
        WRITE_POSTINGS.as_str(),
        APPEND_AUDIT_AND_SET_HEAD.as_str(),
    ] {
        (&mut *connection).prepare(sql).await?;
    }
    Ok(())
}

pub(crate) async fn connect(options: &OpenOptions) -> AppResult<sqlx::PgPool> {
    let shown = redact_url(&options.url);
    let connect_options = PgConnectOptions::from_str(&options.url)
        .map_err(|_| AppError::usage(format!("--db '{shown}' is not a valid PostgreSQL URL")))?
        .application_name("fincore");
    let fail =
        |problem: String| AppError::storage(format!("cannot connect to '{shown}': {problem}"));
    let bound = options.connect_timeout;
    let connect = PgPoolOptions::new()
        .max_connections(CONNECTIONS_MAX)
        .acquire_timeout(bound)
        .connect_with(connect_options.clone());
    // The pool keeps retrying a refused connection until its deadline (it assumes a server
    // that is starting up). A plain TCP connect beside it reports an unreachable server at once.
    let probe = probe(&connect_options, bound);
    tokio::pin!(probe);
    let connect = tokio::time::timeout(bound, connect);
    tokio::pin!(connect);
    tokio::select! {
        outcome = &mut connect => match outcome {
            Ok(Ok(pool)) => Ok(pool),
            Ok(Err(sqlx::Error::PoolTimedOut)) | Err(_) => Err(fail(no_answer(bound))),
            Ok(Err(error)) => Err(fail(super::scrub(&describe(&error)))),
        },
        Err(problem) = &mut probe => Err(fail(super::scrub(&problem))),
    }
}

fn no_answer(bound: Duration) -> String {
    format!("no answer within {} s (--db-timeout)", bound.as_secs())
}

/// Wait (briefly) until every open connection is idle again.
///
/// sqlx pings a released connection before it becomes idle; an acquire in the meantime opens
/// another server connection, which costs PostgreSQL a new backend process and its catalog
/// caches. Without this, every fincore command opened two connections.
pub(super) async fn settle(pool: &sqlx::PgPool) {
    let deadline = std::time::Instant::now() + SETTLE_MAX;
    let mut spins = 0;
    while pool.num_idle() < pool.size() as usize && std::time::Instant::now() < deadline {
        if spins < 50 {
            spins += 1;
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// Fails fast when nothing listens at the server's address; otherwise never completes (the
/// real connection attempt decides). Sends no bytes, so the server logs nothing.
async fn probe(options: &PgConnectOptions, bound: Duration) -> Result<(), String> {
    if options.get_socket().is_none() {
        let host = options.get_host().to_string();
        let port = options.get_port();
        match tokio::time::timeout(bound, tokio::net::TcpStream::connect((host.as_str(), port)))
            .await
        {
            Ok(Ok(_stream)) => {}
            Ok(Err(error)) if error.kind() == std::io::ErrorKind::ConnectionRefused => {
                return Err(format!(
                    "connection refused: no PostgreSQL server listens on {host}:{port}"
                ));
            }
            Ok(Err(error)) => return Err(format!("{host}:{port}: {error}")),
            Err(_) => {}
        }
    }
    std::future::pending().await
}

/// One line naming the problem: authentication, missing database, refused, TLS.
fn describe(error: &sqlx::Error) -> String {
    let text = match error {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01") | Some("28000") => format!("authentication failed ({})", db.message()),
            Some("3D000") => format!("database does not exist ({})", db.message()),
            Some(code) => format!("{} (SQLSTATE {code})", db.message()),
            None => db.message().to_string(),
        },
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused".to_string()
        }
        sqlx::Error::Io(io) => format!("network error: {io}"),
        sqlx::Error::Tls(tls) => format!("TLS error: {tls}"),
        other => other.to_string(),
    };
    text.replace(['\n', '\r'], " ")
}

/// Versions of the applied migrations; none on a fresh database. One statement: every fincore
/// command starts with it on a brand-new server connection.
pub(super) async fn applied_migrations(pool: &sqlx::PgPool) -> Result<Vec<i64>, sqlx::Error> {
    let applied =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(pool)
            .await;
    match applied {
        Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("42P01") => {
            Ok(Vec::new())
        }
        other => other,
    }
}

/// Transfers with any of these idempotency keys: one statement, one array parameter.
pub(super) async fn transfers_by_keys(
    connection: &mut PgConnection,
    keys: &[&str],
) -> Result<Vec<TransferRow>, sqlx::Error> {
    sqlx::query_as(&TRANSFERS_BY_KEYS)
        .bind(keys)
        .fetch_all(connection)
        .await
}

pub(super) async fn accounts(
    connection: &mut PgConnection,
    numbers: &[&str],
) -> Result<Vec<AccountRow>, sqlx::Error> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE number = ANY($1)");
    sqlx::query_as(&sql)
        .bind(numbers)
        .fetch_all(connection)
        .await
}

pub(super) async fn write_postings(
    connection: &mut PgConnection,
    transfers: &[Transfer],
    entries: &[Entry],
    balances: &[(String, i64)],
    now_us: i64,
) -> Result<(), sqlx::Error> {
    if transfers.len() >= COPY_ROWS_MIN || balances.len() >= BULK_ROWS_MAX {
        insert_transfers(connection, transfers).await?;
        insert_entries(connection, entries).await?;
        return set_balances(connection, balances, now_us).await;
    }
    let transfer_values = column_values(&columns::TRANSFER, transfers);
    let entry_values = column_values(&columns::ENTRY, entries);
    let query = sqlx::query(&WRITE_POSTINGS);
    let query = bind_arrays(query, &columns::TRANSFER, &transfer_values);
    bind_arrays(query, &columns::ENTRY, &entry_values)
        .bind(now_us)
        .bind(
            balances
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(balances.iter().map(|(_, b)| *b).collect::<Vec<i64>>())
        .execute(connection)
        .await?;
    Ok(())
}

/// The transaction's audit events, then the new ledger head (audit chain tip, last transfer id).
pub(super) async fn append_audit_and_set_head(
    connection: &mut PgConnection,
    events: &[AuditEvent],
    (audit_seq, audit_hash, transfer_seq): (i64, &str, i64),
) -> Result<(), sqlx::Error> {
    if events.len() >= COPY_ROWS_MIN {
        insert_audit_events(connection, events).await?;
        sqlx::query(SET_HEAD)
            .bind(audit_seq)
            .bind(audit_hash)
            .bind(transfer_seq)
            .execute(connection)
            .await?;
        return Ok(());
    }
    let values = column_values(&columns::AUDIT_EVENT, events);
    bind_arrays(
        sqlx::query(&APPEND_AUDIT_AND_SET_HEAD),
        &columns::AUDIT_EVENT,
        &values,
    )
    .bind(audit_seq)
    .bind(audit_hash)
    .bind(transfer_seq)
    .execute(connection)
    .await?;
    Ok(())
}

pub(super) async fn insert_transfers(
    connection: &mut PgConnection,
    transfers: &[Transfer],
) -> Result<(), sqlx::Error> {
    copy_rows(connection, "transfers", &columns::TRANSFER, transfers, 256).await
}

pub(super) async fn insert_entries(
    connection: &mut PgConnection,
    entries: &[Entry],
) -> Result<(), sqlx::Error> {
    copy_rows(connection, "entries", &columns::ENTRY, entries, 48).await
}

pub(super) async fn insert_audit_events(
    connection: &mut PgConnection,
    events: &[AuditEvent],
) -> Result<(), sqlx::Error> {
    copy_rows(
        connection,
        "audit_events",
        &columns::AUDIT_EVENT,
        events,
        384,
    )
    .await
}

/// `rows` of `table` in one `COPY … FROM STDIN`, every value taken through the column map.
async fn copy_rows<T>(
    connection: &mut PgConnection,
    table: &str,
    columns: &[Column<T>],
    rows: &[T],
    bytes_per_row: usize,
) -> Result<(), sqlx::Error> {
    let mut copy = CopyText::with_capacity(rows.len(), bytes_per_row);
    for row in rows {
        for column in columns {
            copy.value(&(column.value)(row));
        }
        copy.end_row();
    }
    let statement = format!("COPY {table} ({}) FROM STDIN", Names(columns));
    copy.send(connection, &statement).await
}

/// Rows in `COPY … FROM STDIN` text format: tab-separated, `\N` for NULL, backslash escapes.
struct CopyText {
    buffer: String,
    rows: usize,
    fields_in_row: usize,
}

impl CopyText {
    fn with_capacity(rows: usize, bytes_per_row: usize) -> CopyText {
        CopyText {
            buffer: String::with_capacity(rows * bytes_per_row),
            rows: 0,
            fields_in_row: 0,
        }
    }

    fn separate(&mut self) {
        if self.fields_in_row > 0 {
            self.buffer.push('\t');
        }
        self.fields_in_row += 1;
    }

    fn text(&mut self, value: &str) {
        self.separate();
        if !value
            .bytes()
            .any(|b| matches!(b, b'\\' | b'\n' | b'\r' | b'\t'))
        {
            self.buffer.push_str(value);
            return;
        }
        for c in value.chars() {
            match c {
                '\\' => self.buffer.push_str("\\\\"),
                '\n' => self.buffer.push_str("\\n"),
                '\r' => self.buffer.push_str("\\r"),
                '\t' => self.buffer.push_str("\\t"),
                c => self.buffer.push(c),
            }
        }
    }

    fn value(&mut self, value: &Value<'_>) {
        match value {
            Value::Integer(value) => self.int(*value),
            Value::Text(text) => self.text(text),
            Value::Null => self.null(),
        }
    }

    fn int(&mut self, value: i64) {
        use std::fmt::Write;
        self.separate();
        let _ = write!(self.buffer, "{value}");
    }

    fn null(&mut self) {
        self.separate();
        self.buffer.push_str("\\N");
    }

    fn end_row(&mut self) {
        self.buffer.push('\n');
        self.rows += 1;
        self.fields_in_row = 0;
    }

    /// One `COPY` statement for all rows; nothing is sent for none.
    async fn send(self, connection: &mut PgConnection, statement: &str) -> Result<(), sqlx::Error> {
        if self.rows == 0 {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let mut copy = connection.copy_in_raw(statement).await?;
        for chunk in self.buffer.as_bytes().chunks(COPY_CHUNK_BYTES) {
            if let Err(error) = copy.send(chunk).await {
                let _ = copy.abort("fincore: sending rows failed").await;
                return Err(error);
            }
        }
        copy.finish().await?;
        tracing::debug!(
            target: "fincore",
            rows = self.rows,
            bytes = self.buffer.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "{statement}"
        );
        Ok(())
    }
}

/// New absolute balances for the accounts a batch touched.
pub(super) async fn set_balances(
    connection: &mut PgConnection,
    balances: &[(String, i64)],
    now_us: i64,
) -> Result<(), sqlx::Error> {
    for chunk in balances.chunks(BULK_ROWS_MAX) {
        sqlx::query(
            "UPDATE accounts SET updated_at_us = $1, balance_minor = v.balance_minor \
             FROM UNNEST($2::TEXT[], $3::BIGINT[]) AS v(number, balance_minor) \
             WHERE accounts.number = v.number",
        )
        .bind(now_us)
        .bind(chunk.iter().map(|(n, _)| n.as_str()).collect::<Vec<&str>>())
        .bind(chunk.iter().map(|(_, b)| *b).collect::<Vec<i64>>())
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

/// Take the ledger lock (`ledger_head … FOR UPDATE`) with the write statements parsed first,
/// and read the ledger head.
pub(super) async fn begin(
    pool: &sqlx::PgPool,
) -> Result<(sqlx::Transaction<'static, sqlx::Postgres>, LedgerHead), sqlx::Error> {
    use sqlx::Row;
    settle(pool).await;
    let mut tx = pool.begin_with(begin_write()).await?;
    prepare_write_statements(&mut tx).await?;
    let row = sqlx::query(LOCK_HEAD).fetch_one(&mut *tx).await?;
    let head = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    Ok((tx, head))
}

impl StoredRow for sqlx::postgres::PgRow {
    fn integer(&self, index: usize) -> AppResult<i64> {
        Ok(sqlx::Row::try_get(self, index)?)
    }

    fn text(&self, index: usize) -> AppResult<&str> {
        Ok(sqlx::Row::try_get(self, index)?)
    }

    /// PostgreSQL reads cells cast to text in the query (`CAST(… AS TEXT)`).
    fn cell<'b>(&'b self, index: usize, _: &'b mut [u8; 20]) -> AppResult<Option<&'b str>> {
        Ok(sqlx::Row::try_get(self, index)?)
    }
}

fn bind_values<'q>(mut query: PgQuery<'q>, parameters: &'q [Value<'q>]) -> PgQuery<'q> {
    for parameter in parameters {
        query = match parameter {
            Value::Integer(value) => query.bind(*value),
            Value::Text(text) => query.bind(text.as_ref()),
            Value::Null => query.bind(None::<i64>),
        };
    }
    query
}

/// Statements at once on as many pooled connections, each job's rows to its own visitor.
pub(super) async fn scan_each(
    pool: &sqlx::PgPool,
    jobs: Vec<super::backend::ScanJob<'_>>,
) -> AppResult<()> {
    use futures_util::TryStreamExt;
    let reads = jobs.into_iter().map(|(sql, mut visit)| async move {
        let mut rows = sqlx::query(&sql).fetch(pool);
        while let Some(row) = rows.try_next().await? {
            visit(&row)?;
        }
        AppResult::Ok(())
    });
    futures_util::future::join_all(reads)
        .await
        .into_iter()
        .collect()
}

/// One statement per job, all at once on as many pooled connections; each job's rows go to
/// `visit` with the job's state.
pub(super) async fn scan_parallel<S: Send>(
    pool: &sqlx::PgPool,
    sql: &str,
    jobs: Vec<(Vec<Value<'_>>, S)>,
    visit: &(dyn Fn(&mut S, &dyn StoredRow) -> AppResult<()> + Sync),
) -> AppResult<Vec<S>> {
    use futures_util::TryStreamExt;
    let reads = jobs.into_iter().map(|(parameters, mut state)| async move {
        let mut rows = bind_values(sqlx::query(sql), &parameters).fetch(pool);
        while let Some(row) = rows.try_next().await? {
            visit(&mut state, &row)?;
        }
        drop(rows);
        Ok(state)
    });
    futures_util::future::join_all(reads)
        .await
        .into_iter()
        .collect()
}
