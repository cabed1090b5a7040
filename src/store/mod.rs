//! Persistence. One implementation of every query serves both backends: the SQL is written in
//! the subset SQLite and PostgreSQL share (`$N` placeholders, `ON CONFLICT`, `UPDATE … FROM
//! (VALUES …)`), and `dispatch!` expands each body once per concrete sqlx driver. What truly
//! differs (connecting, migrations, taking the write lock, bulk writes and reads, error
//! classes) is chosen in one place, `backend.rs`, and implemented in `sqlite.rs` (its raw
//! fast paths in `sqlite_raw.rs`, the only module allowed `unsafe`) and `postgres.rs`.
//! Every writer of a bulk table takes its columns from `columns.rs`.

mod accounts;
mod alerts;
mod audit;
mod backend;
mod columns;
mod compliance;
mod errors;
mod events;
mod evidence;
mod postgres;
mod reads;
mod reconcile;
mod risk;
mod rows;
mod sqlite;
mod sqlite_bulk;
mod sqlite_raw;
mod transfers;
mod write;

pub(crate) use crate::model::{Actor, TransferIds};
pub(crate) use alerts::AlertTransition;
pub(crate) use audit::AuditFilter;
pub(crate) use compliance::AuditSummary;
pub(crate) use errors::is_unique_violation;
pub(crate) use evidence::{digest_of, transfer_binding, transfer_digest, EvidenceScan};
pub(crate) use reads::{AccountFilter, TransferCursor, TransferFilter};
pub(crate) use reconcile::RunFilter;
pub(crate) use risk::{BlacklistEntry, LatestRisk, NewAssessment, NewRun, StoredRuleSet};
pub(crate) use sqlite_bulk::{Checkpointer, Part};
pub(crate) use sqlite_raw::configure_library as configure_sqlite;
pub(crate) use write::WriteTx;

use crate::error::{AppError, AppResult};
use std::time::Duration;

/// Rows per multi-row INSERT; keeps bind variables under SQLite's 32,766 limit.
pub(crate) const INSERT_ROWS_MAX: usize = 1_000;

/// How many times a transaction that lost a serialization race (PostgreSQL 40001/40P01, or the
/// distributed engines that surface every conflict that way) is run in all.
pub(crate) const TRANSACTION_ATTEMPTS_MAX: u32 = 10;

/// Backoff before retry number n is drawn from [d/2, d] with d = min(BASE · 2^(n−1), CAP):
/// at most about 2.5 s of waiting over all attempts.
const RETRY_BACKOFF_BASE: Duration = Duration::from_millis(5);
const RETRY_BACKOFF_CAP: Duration = Duration::from_millis(500);

/// A writer waits this long for another writer's lock before giving up with exit 7 (SQLite's
/// busy timeout, PostgreSQL's `lock_timeout` inside write transactions), unless
/// `--lock-timeout` / `FINCORE_LOCK_TIMEOUT` says otherwise (`set_lock_timeout`).
pub(crate) const LOCK_TIMEOUT: Duration = Duration::from_secs(60);

static LOCK_TIMEOUT_SET: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();

/// The process's lock timeout, set once at start-up from the command line.
/// At least a second: PostgreSQL reads a `lock_timeout` of 0 as "wait for ever".
pub(crate) fn set_lock_timeout(timeout: Duration) {
    let _ = LOCK_TIMEOUT_SET.set(timeout.max(Duration::from_secs(1)));
}

/// How long a writer waits for another writer's lock.
pub(crate) fn lock_timeout() -> Duration {
    LOCK_TIMEOUT_SET.get().copied().unwrap_or(LOCK_TIMEOUT)
}

/// The database the process opened last, as shown to the operator (a SQLite file's absolute
/// path, a PostgreSQL URL without its password): storage errors raised far from the open
/// (a lock timeout, a read-only file) name it.
static DATABASE_SHOWN: std::sync::RwLock<String> = std::sync::RwLock::new(String::new());

fn remember_database(shown: &str) {
    if let Ok(mut current) = DATABASE_SHOWN.write() {
        *current = shown.to_string();
    }
}

fn database_shown() -> String {
    let shown = DATABASE_SHOWN
        .read()
        .map(|shown| shown.clone())
        .unwrap_or_default();
    if shown.is_empty() {
        "the database".to_string()
    } else {
        format!("database '{shown}'")
    }
}

pub(crate) enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// Expand `$body` once per backend with `$name` bound to the concrete pool or transaction.
macro_rules! dispatch {
    ($kind:ident, $target:expr, $name:pat => $body:expr) => {
        match $target {
            $kind::Sqlite($name) => $body,
            $kind::Postgres($name) => $body,
        }
    };
}
pub(crate) use dispatch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DbSystem {
    Sqlite,
    Postgresql,
}

impl DbSystem {
    /// The OpenTelemetry `db.system` value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DbSystem::Sqlite => "sqlite",
            DbSystem::Postgresql => "postgresql",
        }
    }

    pub(crate) fn from_url(url: &str) -> AppResult<DbSystem> {
        if url.starts_with("sqlite:") {
            Ok(DbSystem::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DbSystem::Postgresql)
        } else {
            Err(AppError::usage(format!(
                "--db '{}': expected sqlite://PATH or postgres://…",
                redact_url(url)
            )))
        }
    }
}

pub(crate) struct Store {
    pub(crate) pool: Pool,
    pub(crate) system: DbSystem,
    /// The database as shown to the operator: a SQLite file's absolute path, a PostgreSQL URL
    /// with its password replaced by `***`.
    pub(crate) database: String,
    /// The operator's audit key: new events get a MAC, `audit verify` checks them.
    pub(crate) audit_key: Option<crate::audit::AuditKey>,
}

#[derive(Debug, Clone)]
pub(crate) struct OpenOptions {
    pub(crate) url: String,
    pub(crate) connect_timeout: Duration,
    pub(crate) migrate: bool,
    /// Create a missing SQLite file (commands that write); otherwise a missing file is exit 7.
    pub(crate) create_if_missing: bool,
    /// The operator's audit key, if any (see `Store::audit_key`).
    pub(crate) audit_key: Option<crate::audit::AuditKey>,
}

#[derive(Debug, Clone)]
pub(crate) struct SchemaStatus {
    /// Which database was opened (see `Store::database`).
    pub(crate) database: String,
    pub(crate) backend: &'static str,
    pub(crate) applied_version: i64,
    pub(crate) binary_version: i64,
    pub(crate) pending: usize,
}

impl Store {
    #[tracing::instrument(target = "fincore", name = "fincore.store.open", skip_all, fields(db.system = DbSystem::from_url(&options.url).map_or("other_sql", DbSystem::as_str)))]
    pub(crate) async fn open(options: &OpenOptions) -> AppResult<Store> {
        let system = DbSystem::from_url(&options.url)?;
        let (pool, database) = backend::connect(options, false).await?;
        remember_database(&database);
        let store = Store {
            pool,
            system,
            database,
            audit_key: options.audit_key.clone(),
        };
        if options.migrate {
            store.migrate().await?;
        }
        backend::settle(&store.pool).await;
        Ok(store)
    }

    /// Open the database exactly as it is, for a command that must change nothing (`transfer
    /// import --dry-run`): no migration; SQLite: no new file and no checkpoint of a WAL that
    /// is not ours (`sqlite::connect_as_is`).
    pub(crate) async fn open_as_is(options: &OpenOptions) -> AppResult<Store> {
        let system = DbSystem::from_url(&options.url)?;
        let (pool, database) = backend::connect(options, true).await?;
        remember_database(&database);
        Ok(Store {
            pool,
            system,
            database,
            audit_key: options.audit_key.clone(),
        })
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self.system {
            DbSystem::Sqlite => &sqlite::MIGRATOR,
            DbSystem::Postgresql => &postgres::MIGRATOR,
        }
    }

    #[tracing::instrument(target = "fincore", name = "fincore.store.schema", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn schema_status(&self) -> AppResult<SchemaStatus> {
        let migrator = self.migrator();
        let binary_version = migrator.iter().map(|m| m.version).max().unwrap_or(0);
        let applied = backend::applied_migrations(&self.pool).await?;
        let applied_version = applied.iter().copied().max().unwrap_or(0);
        let pending = migrator
            .iter()
            .filter(|migration| !applied.contains(&migration.version))
            .count();
        Ok(SchemaStatus {
            database: self.database.clone(),
            backend: self.system.as_str(),
            applied_version,
            binary_version,
            pending,
        })
    }

    /// Bring the schema up to this binary's version. A schema newer than the binary is refused
    /// (exit 7) rather than touched.
    #[tracing::instrument(target = "fincore", name = "fincore.store.migrate", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn migrate(&self) -> AppResult<SchemaStatus> {
        let status = self.schema_status().await?;
        if status.applied_version > status.binary_version {
            return Err(AppError::storage(format!(
                "database schema version {} is newer than this fincore binary's schema version {}; upgrade fincore",
                status.applied_version, status.binary_version
            )));
        }
        if status.pending == 0 {
            return Ok(status);
        }
        let outcome = dispatch!(Pool, &self.pool, pool => self.migrator().run(pool).await);
        if let Err(error) = outcome {
            // Two processes racing to create a fresh database: the loser sees the winner's
            // tables. Re-check before failing.
            let again = self.schema_status().await?;
            if again.pending != 0 {
                return Err(AppError::storage(format!(
                    "migrating the schema failed: {error}"
                )));
            }
        }
        self.schema_status().await
    }

    pub(crate) async fn begin_write(&self, actor: &Actor) -> AppResult<WriteTx> {
        Ok(WriteTx::begin(self, actor.clone()).await?)
    }

    pub(crate) async fn close(self) {
        dispatch!(Pool, self.pool, pool => pool.close().await)
    }
}

/// `postgres://user:secret@host/db?password=x` → `postgres://user:***@host/db?password=***`.
pub(crate) fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut shown = match base.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((credentials, host)) => match credentials.split_once(':') {
                Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
                None => base.to_string(),
            },
            None => base.to_string(),
        },
        None => base.to_string(),
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if is_password_key(key) => format!("{key}=***"),
                _ => pair.to_string(),
            })
            .collect();
        shown.push('?');
        shown.push_str(&pairs.join("&"));
    }
    shown
}

fn is_password_key(key: &str) -> bool {
    let key = percent_decode(key).to_ascii_lowercase();
    key == "password" || key.contains("password")
}

/// `%XX` escapes decoded (what the driver sends and may echo); invalid escapes kept as they are.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escape = (bytes[index] == b'%')
            .then(|| text.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escape {
            Some(byte) => {
                decoded.push(byte);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// Every spelling of the passwords a database URL (or `PGPASSWORD`) carries: as written and
/// percent-decoded, from the user-info part and from `password=` query parameters.
pub(crate) fn secrets_in_url(url: &str) -> Vec<String> {
    let mut raw = Vec::new();
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    if let Some(password) = base
        .split_once("://")
        .and_then(|(_, rest)| rest.rsplit_once('@'))
        .and_then(|(credentials, _)| credentials.split_once(':'))
        .map(|(_, password)| password)
    {
        raw.push(password.to_string());
    }
    for pair in query.into_iter().flat_map(|query| query.split('&')) {
        if let Some((key, value)) = pair.split_once('=') {
            if is_password_key(key) {
                raw.push(value.to_string());
                raw.push(value.replace('+', " "));
            }
        }
    }
    let mut secrets: Vec<String> = raw
        .iter()
        .flat_map(|secret| [secret.clone(), percent_decode(secret)])
        .filter(|secret| !secret.is_empty())
        .collect();
    // Longest first, so a secret that contains another is replaced whole.
    secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
    secrets.dedup();
    secrets
}

static SECRETS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// Remember the passwords of the database URL (and `PGPASSWORD`, which the driver also reads)
/// so no message, log line or span ever prints them.
pub(crate) fn register_secret_from_url(url: &str) {
    let mut secrets = secrets_in_url(url);
    if let Ok(password) = std::env::var("PGPASSWORD") {
        if !password.is_empty() {
            secrets.push(password);
        }
    }
    secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
    secrets.dedup();
    let _ = SECRETS.set(secrets);
}

/// `message` with every registered password replaced by `***`.
pub(crate) fn scrub(message: &str) -> String {
    let mut clean = message.to_string();
    for secret in SECRETS.get().into_iter().flatten() {
        if clean.contains(secret.as_str()) {
            clean = clean.replace(secret.as_str(), "***");
        }
    }
    clean
}

/// Run blocking work (raw SQLite calls) from async code: on a multi-thread runtime the other
/// tasks move to another worker meanwhile; a current-thread runtime simply waits.
pub(crate) fn blocking<R>(work: impl FnOnce() -> R) -> R {
    if tokio::runtime::Handle::current().runtime_flavor()
        == tokio::runtime::RuntimeFlavor::MultiThread
    {
        tokio::task::block_in_place(work)
    } else {
        work()
    }
}

/// Run a whole transaction again when it lost a serialization race, with jittered backoff.
pub(crate) async fn with_retry<T, F, Fut>(mut attempt: F) -> AppResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = AppResult<T>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        match attempt().await {
            Err(error) if should_retry(&error, tries).await => {}
            outcome => return outcome,
        }
    }
}

/// After failed attempt number `tries`: wait a jittered moment and say whether to try again.
pub(crate) async fn should_retry(error: &AppError, tries: u32) -> bool {
    if !error.retryable || tries >= TRANSACTION_ATTEMPTS_MAX {
        return false;
    }
    let delay = retry_delay(tries);
    tracing::info!(
        target: "fincore",
        attempt = tries,
        attempts_max = TRANSACTION_ATTEMPTS_MAX,
        delay_ms = delay.as_millis() as u64,
        "transaction lost a serialization race ({}); running it again",
        error.message
    );
    tokio::time::sleep(delay).await;
    true
}

/// Exponential backoff with jitter before retry number `tries`.
pub(crate) fn retry_delay(tries: u32) -> Duration {
    let exponential = RETRY_BACKOFF_BASE.saturating_mul(1 << tries.saturating_sub(1).min(16));
    let ceiling = exponential.min(RETRY_BACKOFF_CAP).as_micros() as u64;
    Duration::from_micros(fastrand::u64(ceiling / 2..=ceiling))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/ledger"),
            "postgres://app:***@db:5432/ledger"
        );
        assert_eq!(
            redact_url("postgres://app:p%40ss@word@db/ledger?sslmode=require&password=two"),
            "postgres://app:***@db/ledger?sslmode=require&password=***"
        );
        assert_eq!(
            redact_url("postgres://app@db/ledger"),
            "postgres://app@db/ledger"
        );
        assert_eq!(redact_url("sqlite://fincore.db"), "sqlite://fincore.db");
    }

    #[test]
    fn secrets_cover_every_spelling() {
        let secrets = secrets_in_url("postgres://app:p%40ss%23w@db/ledger?password=a%2Bb+c");
        for expected in ["p%40ss%23w", "p@ss#w", "a%2Bb+c", "a+b c", "a+b+c"] {
            assert!(
                secrets.contains(&expected.to_string()),
                "{expected}: {secrets:?}"
            );
        }
        assert!(secrets_in_url("postgres://app@db/ledger").is_empty());
        assert!(secrets_in_url("sqlite://fincore.db").is_empty());
    }

    fn database_error(code: &'static str) -> AppError {
        errors::tests::database_error(code)
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime")
    }

    #[test]
    fn with_retry_runs_a_lost_race_again() {
        let attempts = AtomicU32::new(0);
        let outcome = runtime().block_on(with_retry(|| async {
            match attempts.fetch_add(1, Ordering::SeqCst) {
                0 => Err(database_error("40001")),
                1 => Err(database_error("40P01")),
                n => Ok(n),
            }
        }));
        assert_eq!(outcome, Ok(2));
        assert_eq!(attempts.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn with_retry_is_bounded() {
        let attempts = AtomicU32::new(0);
        let started = std::time::Instant::now();
        let outcome: AppResult<()> = runtime().block_on(with_retry(|| async {
            attempts.fetch_add(1, Ordering::SeqCst);
            Err(database_error("40001"))
        }));
        let error = outcome.expect_err("gives up");
        assert!(error.retryable);
        assert_eq!(error.exit_code(), 7);
        assert_eq!(attempts.load(Ordering::SeqCst), TRANSACTION_ATTEMPTS_MAX);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn with_retry_leaves_other_errors_alone() {
        let attempts = AtomicU32::new(0);
        let outcome: AppResult<()> = runtime().block_on(with_retry(|| async {
            attempts.fetch_add(1, Ordering::SeqCst);
            Err(AppError::new(ErrorCode::InsufficientFunds, "no"))
        }));
        assert_eq!(outcome.unwrap_err().code, ErrorCode::InsufficientFunds);
        assert_eq!(attempts.load(Ordering::SeqCst), 1);
        assert_eq!(database_error("23505").exit_code(), 7);
    }

    #[test]
    fn retry_backoff_grows_with_jitter_and_a_cap() {
        for tries in 1..=TRANSACTION_ATTEMPTS_MAX {
            let ceiling = RETRY_BACKOFF_BASE
                .saturating_mul(1 << (tries - 1))
                .min(RETRY_BACKOFF_CAP);
            let delay = retry_delay(tries);
            assert!(
                delay >= ceiling / 2 && delay <= ceiling,
                "{tries}: {delay:?}"
            );
        }
    }
}
