//! PostgreSQL specifics. Writers serialise on the single `ledger_head` row (`FOR UPDATE`):
//! the audit hash chain needs a total order anyway, and one lock taken first by every writer
//! cannot deadlock. Serialization failures that a distributed engine may still raise are
//! retried by `store::with_retry`.

use super::{redact_url, OpenOptions};
use crate::error::{AppError, AppResult};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

const CONNECTIONS_MAX: u32 = 4;

pub async fn connect(options: &OpenOptions) -> AppResult<sqlx::PgPool> {
    let shown = redact_url(&options.url);
    let connect_options = PgConnectOptions::from_str(&options.url)
        .map_err(|_| AppError::usage(format!("--db '{shown}' is not a valid PostgreSQL URL")))?
        .application_name("fincore");
    let connect = PgPoolOptions::new()
        .max_connections(CONNECTIONS_MAX)
        .acquire_timeout(options.connect_timeout)
        .connect_with(connect_options);
    match tokio::time::timeout(options.connect_timeout, connect).await {
        Ok(Ok(pool)) => Ok(pool),
        Ok(Err(error)) => Err(AppError::storage(format!(
            "cannot connect to '{shown}': {}",
            super::scrub(&describe(&error))
        ))),
        Err(_) => Err(AppError::storage(format!(
            "cannot connect to '{shown}': no answer within {} ms (--db-timeout)",
            options.connect_timeout.as_millis()
        ))),
    }
}

fn describe(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01") | Some("28000") => format!("authentication failed ({})", db.message()),
            Some("3D000") => format!("database does not exist ({})", db.message()),
            _ => db.message().to_string(),
        },
        sqlx::Error::PoolTimedOut => "timed out".to_string(),
        other => other.to_string(),
    }
}

pub const LOCK_HEAD: &str =
    "SELECT audit_seq, audit_hash, transfer_seq FROM ledger_head WHERE id = 1 FOR UPDATE";
