//! Command-line grammar: global options and the command tree. Each command's flags live in its
//! own module under `commands/`.

use crate::commands;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "fincore",
    version,
    about = "Ledger, reconciliation, risk and compliance for a small bank"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, clap::Args)]
pub struct GlobalOptions {
    /// Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB
    #[arg(
        long = "db",
        env = "FINCORE_DATABASE_URL",
        default_value = "sqlite://fincore.db",
        global = true,
        hide_env_values = true
    )]
    pub database_url: String,
    /// Output format
    #[arg(long, env = "FINCORE_FORMAT", value_enum, default_value_t = Format::Table, global = true)]
    pub format: Format,
    /// Who acts; recorded on every audit event (default: the login user)
    #[arg(long, env = "FINCORE_OPERATOR", global = true)]
    pub operator: Option<String>,
    /// Seconds to wait for the database connection before exit 7
    #[arg(
        long = "db-timeout",
        env = "FINCORE_DB_TIMEOUT",
        default_value_t = 5,
        global = true
    )]
    pub db_timeout_seconds: u64,
    /// Print nothing but results and errors
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// Never draw progress bars
    #[arg(long, global = true)]
    pub no_progress: bool,
    /// More log output on stderr (-v info, -vv debug)
    #[arg(short = 'v', action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Log line format on stderr
    #[arg(long = "log-format", env = "FINCORE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open, inspect, freeze and close accounts
    #[command(subcommand)]
    Account(commands::account::AccountCommand),
    /// Post, import, show, list and reverse transfers
    #[command(subcommand)]
    Transfer(commands::transfer::TransferCommand),
    /// Trial balance and compliance reports
    #[command(subcommand)]
    Report(commands::report::ReportCommand),
    /// Reconcile a bank statement against a settlement account; list, show, resolve breaks
    #[command(subcommand)]
    Reconcile(commands::reconcile::ReconcileCommand),
    /// Ledger integrity checks
    #[command(subcommand)]
    Ledger(commands::ledger::LedgerCommand),
    /// The tamper-evident audit chain
    #[command(subcommand)]
    Audit(commands::audit::AuditCommand),
    /// Risk: batch rescoring, assessments, rule sets and the blacklist
    #[command(subcommand)]
    Risk(commands::risk::RiskCommand),
    /// Schema migrations
    #[command(subcommand)]
    Db(commands::db::DbCommand),
    /// Print a shell completion script
    Completions(commands::completions::CompletionsArgs),
    /// Build a demo ledger from fixtures/ and run the daily jobs on it
    Demo(commands::demo::DemoArgs),
}

impl Command {
    /// Dotted command path used for the root span name (`transfer.post`).
    pub fn path(&self) -> String {
        let (group, leaf) = match self {
            Command::Account(command) => ("account", command.name()),
            Command::Transfer(command) => ("transfer", command.name()),
            Command::Report(command) => ("report", command.name()),
            Command::Reconcile(command) => ("reconcile", command.name()),
            Command::Ledger(command) => ("ledger", command.name()),
            Command::Audit(command) => ("audit", command.name()),
            Command::Risk(command) => ("risk", command.name()),
            Command::Db(command) => ("db", command.name()),
            Command::Completions(_) => ("completions", ""),
            Command::Demo(_) => ("demo", ""),
        };
        if leaf.is_empty() {
            group.to_string()
        } else {
            format!("{group}.{leaf}")
        }
    }
}
