//! The options every command takes (`--db`, `--format`, `--operator`, …), flattened into the
//! root of the command line by `cli.rs`.

use crate::output::Format;
use clap::ValueEnum;

/// The database when neither `--db` nor `FINCORE_DATABASE_URL` names one.
pub(crate) const DATABASE_URL_DEFAULT: &str = "sqlite://fincore.db";

#[derive(Debug, Clone, clap::Args)]
pub(crate) struct GlobalOptions {
    /// Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB
    #[arg(
        long = "db",
        env = "FINCORE_DATABASE_URL",
        default_value = DATABASE_URL_DEFAULT,
        global = true,
        hide_env_values = true
    )]
    pub(crate) database_url: String,
    /// Output format
    #[arg(long, env = "FINCORE_FORMAT", hide_env_values = true, value_enum, default_value_t = Format::Table, global = true)]
    pub(crate) format: Format,
    /// Who acts; recorded on every audit event (default: the login user)
    #[arg(long, env = "FINCORE_OPERATOR", hide_env_values = true, global = true)]
    pub(crate) operator: Option<String>,
    /// Seconds to wait for the database connection before exit 7
    #[arg(
        long = "db-timeout",
        env = "FINCORE_DB_TIMEOUT",
        hide_env_values = true,
        default_value_t = 5,
        global = true
    )]
    pub(crate) db_timeout_seconds: u64,
    /// Seconds a writer waits for another writer's lock (SQLite busy timeout, PostgreSQL lock_timeout) before exit 7
    #[arg(
        long = "lock-timeout",
        env = "FINCORE_LOCK_TIMEOUT",
        hide_env_values = true,
        default_value_t = crate::store::LOCK_TIMEOUT.as_secs(),
        global = true
    )]
    pub(crate) lock_timeout_seconds: u64,
    /// Print nothing but results and errors
    #[arg(long, short = 'q', global = true)]
    pub(crate) quiet: bool,
    /// Tables on a terminal: every column, not just the ones that fit 80 columns (pipes, CSV and JSON always have all)
    #[arg(long, global = true)]
    pub(crate) wide: bool,
    /// Never draw progress bars
    #[arg(long, global = true)]
    pub(crate) no_progress: bool,
    /// More log output on stderr (-v info, -vv debug)
    #[arg(short = 'v', action = clap::ArgAction::Count, global = true)]
    pub(crate) verbose: u8,
    /// Log line format on stderr
    #[arg(long = "log-format", env = "FINCORE_LOG_FORMAT", hide_env_values = true, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub(crate) log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    Text,
    Json,
}
