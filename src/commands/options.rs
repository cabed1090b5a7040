//! The options every command takes (`--db`, `--format`, `--operator`, …), flattened into the
//! root of the command line by `cli.rs`.

use crate::output::Format;
use clap::ValueEnum;

/// The database when neither `--db` nor `FINCORE_DATABASE_URL` names one.
pub(crate) const DATABASE_URL_DEFAULT: &str = "sqlite://fincore.db";

#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Global options")]
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

/// A flag's closed set of values, listed in help and offered by shell completions, read
/// from the model's own names so neither can drift from what the ledger stores. The value is
/// still checked by the model's parser (exit 4 `invalid_input`, as SPEC.md has it, never
/// clap's exit 2; case and surrounding spaces do not matter there).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Listed(&'static [&'static str]);

impl clap::builder::TypedValueParser for Listed {
    type Value = String;

    fn parse_ref(
        &self,
        command: &clap::Command,
        argument: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(command, argument, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            self.0
                .iter()
                .map(|name| clap::builder::PossibleValue::new(*name)),
        ))
    }
}

pub(crate) fn listed(names: &'static [&'static str]) -> Listed {
    Listed(names)
}

pub(crate) fn account_types() -> Listed {
    Listed(crate::model::AccountType::NAMES)
}

pub(crate) fn account_statuses() -> Listed {
    Listed(crate::model::AccountStatus::NAMES)
}

pub(crate) fn transfer_kinds() -> Listed {
    Listed(crate::model::TransferKind::NAMES)
}

pub(crate) fn transfer_statuses() -> Listed {
    Listed(crate::model::TransferStatus::NAMES)
}

/// A date flag's value with a relative date (`today`, `yesterday`, `-7d`; see
/// `clock::relative_date`) replaced by the calendar date it names, as `YYYY-MM-DD`, against
/// `FINCORE_NOW` or the system clock (UTC). Read here, at the edge, so every command and the
/// business logic beneath only ever see absolute dates. Any other text passes unchanged to
/// the flag's own reader, which reports mistakes (exit 4).
#[derive(Debug, Clone, Copy)]
pub(crate) struct When;

impl clap::builder::TypedValueParser for When {
    type Value = String;

    fn parse_ref(
        &self,
        command: &clap::Command,
        argument: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        let text = clap::builder::StringValueParser::new().parse_ref(command, argument, value)?;
        // An unreadable FINCORE_NOW is reported once, by the command's context (exit 4).
        let Ok(now_us) = crate::clock::now_us() else {
            return Ok(text);
        };
        Ok(
            match crate::clock::relative_date(&text, crate::clock::date_of_us(now_us)) {
                Some(date) => date.format("%Y-%m-%d").to_string(),
                None => text,
            },
        )
    }
}
