//! Persistence. One implementation of every query serves both backends: the SQL is written in
//! the subset SQLite and PostgreSQL share (`$N` placeholders, `ON CONFLICT`, `UPDATE … FROM
//! (VALUES …)`), and `dispatch!` expands each body once per concrete sqlx driver. What truly
//! differs (connecting, migrations, taking the write lock, error classes) lives in
//! `sqlite.rs` and `postgres.rs`.

mod accounts;
mod audit;
mod compliance;
mod postgres;
mod reads;
mod reconcile;
mod risk;
mod rows;
mod sqlite;
mod transfers;
mod write;

pub use audit::AuditFilter;
pub use compliance::AuditSummary;
pub use reads::{AccountFilter, StatementLine, TransferFilter, TrialBalanceRow};
pub use reconcile::RunFilter;
pub use risk::{
    BlacklistEntry, LatestRisk, NewAssessment, NewRun, StoredAssessment, StoredRuleSet,
};
pub use sqlite::configure_library as configure_sqlite;
pub use write::{TransferIds, WriteTx};

use crate::error::{AppError, AppResult, ErrorCode};
use std::time::Duration;

/// Rows per multi-row INSERT; keeps bind variables under SQLite's 32,766 limit.
pub const INSERT_ROWS_MAX: usize = 1_000;

/// How often a transaction that lost a serialization race (PostgreSQL 40001/40P01, or the
/// distributed engines that surface every conflict that way) is tried again.
pub const TRANSACTION_ATTEMPTS_MAX: u32 = 5;

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
pub enum DbSystem {
    Sqlite,
    Postgresql,
}

impl DbSystem {
    /// The OpenTelemetry `db.system` value.
    pub fn as_str(self) -> &'static str {
        match self {
            DbSystem::Sqlite => "sqlite",
            DbSystem::Postgresql => "postgresql",
        }
    }

    pub fn from_url(url: &str) -> AppResult<DbSystem> {
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

pub struct Store {
    pub(crate) pool: Pool,
    pub system: DbSystem,
}

#[derive(Debug, Clone)]
pub struct OpenOptions {
    pub url: String,
    pub connect_timeout: Duration,
    pub migrate: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SchemaStatus {
    pub backend: &'static str,
    pub applied_version: i64,
    pub binary_version: i64,
    pub pending: usize,
}

impl Store {
    #[tracing::instrument(target = "fincore", name = "fincore.store.open", skip_all, fields(db.system = DbSystem::from_url(&options.url).map_or("other_sql", DbSystem::as_str)))]
    pub async fn open(options: &OpenOptions) -> AppResult<Store> {
        let system = DbSystem::from_url(&options.url)?;
        let pool = match system {
            DbSystem::Sqlite => Pool::Sqlite(sqlite::connect(options).await?),
            DbSystem::Postgresql => Pool::Postgres(postgres::connect(options).await?),
        };
        let store = Store { pool, system };
        if options.migrate {
            store.migrate().await?;
        }
        Ok(store)
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self.system {
            DbSystem::Sqlite => &sqlite::MIGRATOR,
            DbSystem::Postgresql => &postgres::MIGRATOR,
        }
    }

    #[tracing::instrument(target = "fincore", name = "fincore.store.schema", skip_all, fields(db.system = self.system.as_str()))]
    pub async fn schema_status(&self) -> AppResult<SchemaStatus> {
        let migrator = self.migrator();
        let binary_version = migrator.iter().map(|m| m.version).max().unwrap_or(0);
        let applied: Vec<i64> = dispatch!(Pool, &self.pool, pool => {
            let exists: Option<i64> = sqlx::query_scalar(sqlite_or_pg(
                self.system,
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
                "SELECT 1::BIGINT FROM pg_tables WHERE tablename = '_sqlx_migrations' AND schemaname = current_schema()",
            ))
            .fetch_optional(pool)
            .await?;
            if exists.is_none() {
                Vec::new()
            } else {
                sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
                    .fetch_all(pool)
                    .await?
            }
        });
        let applied_version = applied.iter().copied().max().unwrap_or(0);
        let pending = migrator
            .iter()
            .filter(|migration| !applied.contains(&migration.version))
            .count();
        Ok(SchemaStatus {
            backend: self.system.as_str(),
            applied_version,
            binary_version,
            pending,
        })
    }

    /// Bring the schema up to this binary's version. A schema newer than the binary is refused
    /// (exit 7) rather than touched.
    #[tracing::instrument(target = "fincore", name = "fincore.store.migrate", skip_all, fields(db.system = self.system.as_str()))]
    pub async fn migrate(&self) -> AppResult<SchemaStatus> {
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

    pub async fn begin_write(&self, actor: &Actor) -> AppResult<WriteTx> {
        Ok(WriteTx::begin(self, actor.clone()).await?)
    }

    pub async fn close(self) {
        dispatch!(Pool, self.pool, pool => pool.close().await)
    }
}

/// Who acts and under which trace: recorded on every audit event and transfer.
#[derive(Debug, Clone)]
pub struct Actor {
    pub operator: String,
    pub trace_id: String,
    pub now_us: i64,
}

pub(crate) fn sqlite_or_pg(
    system: DbSystem,
    sqlite: &'static str,
    pg: &'static str,
) -> &'static str {
    match system {
        DbSystem::Sqlite => sqlite,
        DbSystem::Postgresql => pg,
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

static SECRETS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// Remember the password of the database URL so no message ever prints it.
pub fn register_secret_from_url(url: &str) {
    let secret = url
        .split_once("://")
        .and_then(|(_, rest)| rest.rsplit_once('@'))
        .and_then(|(credentials, _)| credentials.split_once(':'))
        .map(|(_, password)| password.to_string())
        .filter(|password| !password.is_empty());
    let _ = SECRETS.set(secret.into_iter().collect());
}

pub fn scrub(message: &str) -> String {
    let mut clean = message.to_string();
    for secret in SECRETS.get().into_iter().flatten() {
        clean = clean.replace(secret.as_str(), "***");
    }
    clean
}

/// Map a driver error to the program's error codes. Callers that expect a specific constraint
/// violation (duplicate number, reused key) check for it before this.
pub fn classify_error(error: sqlx::Error) -> AppError {
    let message = scrub(&error.to_string());
    match &error {
        sqlx::Error::RowNotFound => AppError::not_found(message),
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            AppError::storage(format!("stored data could not be read: {message}"))
        }
        _ => {
            let mut classified = AppError::new(ErrorCode::StorageUnavailable, message);
            classified.retryable = is_retryable(&error);
            classified
        }
    }
}

pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Serialization failure or deadlock: the transaction may simply be tried again.
pub fn is_retryable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("40001") | Some("40P01")),
        _ => false,
    }
}

/// Run a whole transaction again when it lost a serialization race, with jittered backoff.
pub async fn with_retry<T, F, Fut>(mut attempt: F) -> AppResult<T>
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
pub async fn should_retry(error: &AppError, tries: u32) -> bool {
    if !error.retryable || tries >= TRANSACTION_ATTEMPTS_MAX {
        return false;
    }
    let jitter_ms = fastrand::u64(0..20);
    tokio::time::sleep(Duration::from_millis(u64::from(tries) * 10 + jitter_ms)).await;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/ledger"),
            "postgres://app:***@db:5432/ledger"
        );
        assert_eq!(redact_url("sqlite://fincore.db"), "sqlite://fincore.db");
    }
}
