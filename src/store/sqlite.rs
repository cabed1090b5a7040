//! SQLite specifics: WAL, a busy timeout long enough that concurrent fincore processes queue
//! rather than fail, and `BEGIN IMMEDIATE` so a writer takes the lock before it reads.

use super::OpenOptions;
use crate::error::{AppError, AppResult};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// Writers wait this long for the file lock before giving up with exit 7.
pub const BUSY_TIMEOUT: Duration = super::LOCK_TIMEOUT;

const CONNECTIONS_MAX: u32 = 4;
const ROW_CHANNEL_ROWS: usize = 8_192;

pub async fn connect(options: &OpenOptions) -> AppResult<sqlx::SqlitePool> {
    let connect_options = SqliteConnectOptions::from_str(&options.url)
        .map_err(|error| AppError::usage(format!("--db '{}': {error}", options.url)))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(BUSY_TIMEOUT)
        .pragma("cache_size", "-65536")
        .pragma("temp_store", "memory")
        .pragma("wal_autocheckpoint", "16384")
        // Rows cross from the SQLite worker thread through this channel; a deep buffer lets
        // bulk reads (reconciliation, rescoring, reports) stream without a thread handoff per row.
        .row_buffer_size(ROW_CHANNEL_ROWS);
    SqlitePoolOptions::new()
        .max_connections(CONNECTIONS_MAX)
        .acquire_timeout(BUSY_TIMEOUT)
        .connect_with(connect_options)
        .await
        .map_err(|error| {
            AppError::storage(format!("cannot open database '{}': {error}", options.url))
        })
}

pub const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";
