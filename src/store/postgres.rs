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

use super::rows::{AccountRow, TransferRow, ACCOUNT_COLUMNS, TRANSFER_COLUMNS};
use super::{lock_timeout, redact_url, OpenOptions};
use crate::audit::AuditEvent;
use crate::error::{AppError, AppResult};
use crate::model::{Entry, Transfer};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgConnection;
use std::str::FromStr;
use std::sync::LazyLock;
use std::time::Duration;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

pub(super) const CONNECTIONS_MAX: u32 = 4;

/// Longest wait for a released connection to come back (see `settle`).
const SETTLE_MAX: Duration = Duration::from_millis(20);

/// Rows per balance-update statement: bounds the size of one protocol message.
const BULK_ROWS_MAX: usize = 50_000;

/// `COPY` data goes out in messages of this size.
const COPY_CHUNK_BYTES: usize = 1 << 20;

/// Opens every write transaction. `SET LOCAL` takes no snapshot, so under SERIALIZABLE the
/// snapshot is still taken by the lock statement that follows.
pub fn begin_write() -> String {
    format!(
        "BEGIN; SET LOCAL lock_timeout = '{}s'",
        lock_timeout().as_secs()
    )
}

pub const LOCK_HEAD: &str =
    "SELECT audit_seq, audit_hash, transfer_seq FROM ledger_head WHERE id = 1 FOR UPDATE";

static TRANSFERS_BY_KEYS: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {TRANSFER_COLUMNS} FROM transfers WHERE idempotency_key = ANY($1)")
});

static ACCOUNTS_BY_NUMBERS: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE number = ANY($1)"));

/// A small batch's transfers, entries and balances in one statement (data-modifying CTEs run
/// exactly once, whether or not the outer statement reads them).
static WRITE_POSTINGS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH new_transfers AS (\
           INSERT INTO transfers ({TRANSFER_COLUMNS}) SELECT * FROM UNNEST(\
           $1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], $6::TEXT[], $7::BIGINT[], \
           $8::TEXT[], $9::TEXT[], $10::TEXT[], $11::TEXT[], $12::TEXT[], $13::TEXT[], $14::BIGINT[], \
           $15::BIGINT[], $16::BIGINT[], $17::TEXT[], $18::TEXT[], $19::TEXT[], $20::BIGINT[], \
           $21::TEXT[], $22::TEXT[])), \
         new_entries AS (\
           INSERT INTO entries (transfer_id, account, amount_minor, at_us) \
           SELECT * FROM UNNEST($23::BIGINT[], $24::TEXT[], $25::BIGINT[], $26::BIGINT[])) \
         UPDATE accounts SET updated_at_us = $27, balance_minor = v.balance_minor \
         FROM UNNEST($28::TEXT[], $29::BIGINT[]) AS v(number, balance_minor) \
         WHERE accounts.number = v.number"
    )
});

/// A small transaction's audit events and the new ledger head in one statement.
const APPEND_AUDIT_AND_SET_HEAD: &str = "WITH new_events AS (\
      INSERT INTO audit_events (seq, at_us, operator, action, entity, details, trace_id, prev_hash, hash) \
      SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], \
      $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::TEXT[])) \
    UPDATE ledger_head SET audit_seq = $10, audit_hash = $11, transfer_seq = $12 WHERE id = 1";

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
        APPEND_AUDIT_AND_SET_HEAD,
    ] {
        (&mut *connection).prepare(sql).await?;
    }
    Ok(())
}

pub async fn connect(options: &OpenOptions) -> AppResult<sqlx::PgPool> {
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
    let column = |f: &dyn Fn(&Transfer) -> &str| transfers.iter().map(f).collect::<Vec<&str>>();
    let factors: Vec<String> = transfers
        .iter()
        .map(|t| serde_json::to_string(&t.risk.factors).expect("risk factors serialise"))
        .collect();
    sqlx::query(&WRITE_POSTINGS)
        .bind(transfers.iter().map(|t| t.id).collect::<Vec<i64>>())
        .bind(
            transfers
                .iter()
                .map(|t| t.key.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(column(&|t| &t.payload_hash))
        .bind(column(&|t| t.kind.as_str()))
        .bind(column(&|t| &t.from))
        .bind(column(&|t| &t.to))
        .bind(
            transfers
                .iter()
                .map(|t| t.amount_minor)
                .collect::<Vec<i64>>(),
        )
        .bind(column(&|t| t.currency.code()))
        .bind(column(&|t| t.status.as_str()))
        .bind(
            transfers
                .iter()
                .map(|t| t.error_code.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            transfers
                .iter()
                .map(|t| t.error_message.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(column(&|t| &t.reference))
        .bind(column(&|t| &t.description))
        .bind(transfers.iter().map(|t| t.at_us).collect::<Vec<i64>>())
        .bind(
            transfers
                .iter()
                .map(|t| t.created_at_us)
                .collect::<Vec<i64>>(),
        )
        .bind(
            transfers
                .iter()
                .map(|t| i64::from(t.risk.score))
                .collect::<Vec<i64>>(),
        )
        .bind(column(&|t| t.risk.level.as_str()))
        .bind(column(&|t| t.risk.decision.as_str()))
        .bind(factors)
        .bind(
            transfers
                .iter()
                .map(|t| t.reverses_id)
                .collect::<Vec<Option<i64>>>(),
        )
        .bind(column(&|t| &t.operator))
        .bind(column(&|t| &t.trace_id))
        .bind(entries.iter().map(|e| e.transfer_id).collect::<Vec<i64>>())
        .bind(
            entries
                .iter()
                .map(|e| e.account.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(entries.iter().map(|e| e.amount_minor).collect::<Vec<i64>>())
        .bind(entries.iter().map(|e| e.at_us).collect::<Vec<i64>>())
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
    let column = |f: &dyn Fn(&AuditEvent) -> &str| events.iter().map(f).collect::<Vec<&str>>();
    sqlx::query(APPEND_AUDIT_AND_SET_HEAD)
        .bind(events.iter().map(|e| e.seq).collect::<Vec<i64>>())
        .bind(events.iter().map(|e| e.at_us).collect::<Vec<i64>>())
        .bind(column(&|e| &e.operator))
        .bind(column(&|e| &e.action))
        .bind(column(&|e| &e.entity))
        .bind(column(&|e| &e.details))
        .bind(column(&|e| &e.trace_id))
        .bind(column(&|e| &e.prev_hash))
        .bind(column(&|e| &e.hash))
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
    let mut copy = CopyText::with_capacity(transfers.len(), 256);
    for t in transfers {
        copy.int(t.id);
        copy.optional_text(t.key.as_deref());
        copy.text(&t.payload_hash);
        copy.text(t.kind.as_str());
        copy.text(&t.from);
        copy.text(&t.to);
        copy.int(t.amount_minor);
        copy.text(t.currency.code());
        copy.text(t.status.as_str());
        copy.optional_text(t.error_code.as_deref());
        copy.optional_text(t.error_message.as_deref());
        copy.text(&t.reference);
        copy.text(&t.description);
        copy.int(t.at_us);
        copy.int(t.created_at_us);
        copy.int(i64::from(t.risk.score));
        copy.text(t.risk.level.as_str());
        copy.text(t.risk.decision.as_str());
        copy.text(&serde_json::to_string(&t.risk.factors).expect("risk factors serialise"));
        copy.optional_int(t.reverses_id);
        copy.text(&t.operator);
        copy.text(&t.trace_id);
        copy.end_row();
    }
    copy.send(
        connection,
        &format!("COPY transfers ({TRANSFER_COLUMNS}) FROM STDIN"),
    )
    .await
}

pub(super) async fn insert_entries(
    connection: &mut PgConnection,
    entries: &[Entry],
) -> Result<(), sqlx::Error> {
    let mut copy = CopyText::with_capacity(entries.len(), 48);
    for e in entries {
        copy.int(e.transfer_id);
        copy.text(&e.account);
        copy.int(e.amount_minor);
        copy.int(e.at_us);
        copy.end_row();
    }
    copy.send(
        connection,
        "COPY entries (transfer_id, account, amount_minor, at_us) FROM STDIN",
    )
    .await
}

pub(super) async fn insert_audit_events(
    connection: &mut PgConnection,
    events: &[AuditEvent],
) -> Result<(), sqlx::Error> {
    let mut copy = CopyText::with_capacity(events.len(), 384);
    for e in events {
        copy.int(e.seq);
        copy.int(e.at_us);
        for field in [
            &e.operator,
            &e.action,
            &e.entity,
            &e.details,
            &e.trace_id,
            &e.prev_hash,
            &e.hash,
        ] {
            copy.text(field);
        }
        copy.end_row();
    }
    copy.send(
        connection,
        "COPY audit_events (seq, at_us, operator, action, entity, details, trace_id, prev_hash, hash) FROM STDIN",
    )
    .await
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

    fn optional_text(&mut self, value: Option<&str>) {
        match value {
            Some(value) => self.text(value),
            None => self.null(),
        }
    }

    fn int(&mut self, value: i64) {
        use std::fmt::Write;
        self.separate();
        let _ = write!(self.buffer, "{value}");
    }

    fn optional_int(&mut self, value: Option<i64>) {
        match value {
            Some(value) => self.int(value),
            None => self.null(),
        }
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
