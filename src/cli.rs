//! Command-line grammar: global options and the command tree. Each command's flags live in its
//! own module under `commands/`.

use crate::commands::{self, GlobalOptions};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "fincore",
    version,
    about = "Ledger, reconciliation, risk and compliance for a small bank",
    disable_help_subcommand = true
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalOptions,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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
    /// Alert checks for cron and monitoring agents (exit 0 OK, 1 warning, 2 critical)
    #[command(subcommand)]
    Alerts(commands::alerts::AlertsCommand),
    /// The change feed: every change since a cursor as CloudEvents
    #[command(subcommand)]
    Events(commands::events::EventsCommand),
    /// Schema migrations
    #[command(subcommand)]
    Db(commands::db::DbCommand),
    /// Print a shell completion script
    Completions(commands::completions::CompletionsArgs),
    /// Build a demo ledger from fixtures/ and run the daily jobs on it
    Demo(commands::demo::DemoArgs),
    /// Write the man pages (fincore.1 and one per command)
    Man(commands::man::ManArgs),
    /// Help on a command (`fincore help transfer list`) or on the global options (`fincore help global`)
    Help(commands::help::HelpArgs),
}

impl Command {
    /// Whether the command changes the ledger. The one place that knows it: only these create
    /// a missing SQLite file (a read on a missing file is exit 7, never a fresh empty ledger),
    /// and when their output cannot be written the operator is told the change was committed.
    /// The match is exhaustive on purpose: a new command must be placed here to compile.
    /// `report compliance --unmask` records an audit event but reads the ledger: a missing
    /// database has nothing to report.
    pub(crate) fn writes(&self) -> bool {
        use commands::account::AccountCommand as A;
        use commands::audit::AuditCommand as Au;
        use commands::db::DbCommand as D;
        use commands::ledger::LedgerCommand as L;
        use commands::reconcile::ReconcileCommand as Rc;
        use commands::report::ReportCommand as Rp;
        use commands::risk::{BlacklistCommand as B, RiskCommand as R, RulesCommand as Ru};
        use commands::transfer::TransferCommand as T;
        match self {
            // A dry run reads the ledger and writes nothing (nor creates a missing database).
            Command::Transfer(T::Import(arguments)) if arguments.is_dry_run() => false,
            Command::Account(A::Open(_) | A::Freeze(_) | A::Unfreeze(_))
            | Command::Account(A::Close { .. } | A::Import { .. } | A::Update(_))
            | Command::Transfer(T::Post(_) | T::Deposit { .. } | T::Withdraw { .. })
            | Command::Transfer(T::Import(_) | T::Reverse { .. })
            | Command::Reconcile(Rc::Run(_) | Rc::Resolve(_))
            | Command::Risk(R::Rescore(_) | R::Rules(Ru::Import { .. }))
            | Command::Risk(R::Blacklist(B::Add { .. } | B::Remove { .. }))
            | Command::Db(D::Migrate)
            | Command::Demo(_) => true,
            Command::Account(A::Show { .. } | A::List(_) | A::Statement(_))
            | Command::Transfer(T::Show { .. } | T::List(_))
            | Command::Report(Rp::Balances(_) | Rp::Compliance(_))
            | Command::Reconcile(Rc::List(_) | Rc::Show { .. } | Rc::Inspect(_))
            | Command::Ledger(L::Verify)
            | Command::Audit(Au::List(_) | Au::Verify(_) | Au::Anchor(_))
            | Command::Risk(R::Show(_) | R::Rules(Ru::Show { .. }))
            | Command::Risk(R::Blacklist(B::List))
            | Command::Db(D::Status)
            | Command::Events(_)
            | Command::Alerts(_)
            | Command::Completions(_)
            | Command::Man(_)
            | Command::Help(_) => false,
        }
    }

    /// Dotted command path used for the root span name (`transfer.post`).
    pub(crate) fn path(&self) -> String {
        let (group, leaf) = match self {
            Command::Account(command) => ("account", command.name()),
            Command::Transfer(command) => ("transfer", command.name()),
            Command::Report(command) => ("report", command.name()),
            Command::Reconcile(command) => ("reconcile", command.name()),
            Command::Ledger(command) => ("ledger", command.name()),
            Command::Audit(command) => ("audit", command.name()),
            Command::Risk(command) => ("risk", command.name()),
            Command::Alerts(command) => ("alerts", command.name()),
            Command::Events(command) => ("events", command.name()),
            Command::Db(command) => ("db", command.name()),
            Command::Completions(_) => ("completions", ""),
            Command::Demo(_) => ("demo", ""),
            Command::Man(_) => ("man", ""),
            Command::Help(_) => ("help", ""),
        };
        if leaf.is_empty() {
            group.to_string()
        } else {
            format!("{group}.{leaf}")
        }
    }
}

impl Cli {
    /// Parse the process's arguments with the documented grammar (`commands::help`).
    pub(crate) fn parse_documented() -> Result<Cli, clap::Error> {
        let mut matches = commands::help::documented(Cli::command()).try_get_matches()?;
        Cli::from_arg_matches_mut(&mut matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command and flag of the documented grammar, with its path.
    fn walk(command: &clap::Command, path: &str, visit: &mut dyn FnMut(&str, &clap::Command)) {
        visit(path, command);
        for subcommand in command.get_subcommands() {
            let path = format!("{path} {}", subcommand.get_name());
            walk(subcommand, path.trim_start(), visit);
        }
    }

    #[test]
    fn every_flag_and_argument_says_what_it_is() {
        let mut missing = Vec::new();
        walk(
            &commands::help::documented(Cli::command()),
            "",
            &mut |path, command| {
                for argument in command.get_arguments() {
                    let id = argument.get_id().as_str();
                    let described = argument
                        .get_help()
                        .is_some_and(|h| !h.to_string().is_empty());
                    if !described && !argument.is_hide_set() && id != "help" && id != "version" {
                        missing.push(format!("fincore {path} {id}"));
                    }
                }
            },
        );
        assert!(missing.is_empty(), "no description: {missing:#?}");
    }

    #[test]
    fn every_command_has_examples() {
        let mut missing = Vec::new();
        walk(&Cli::command(), "", &mut |path, _| {
            if commands::help::examples_of(path).is_none() && path != "help" {
                missing.push(format!("fincore {path}"));
            }
        });
        assert!(missing.is_empty(), "no EXAMPLES: {missing:#?}");
    }
}
