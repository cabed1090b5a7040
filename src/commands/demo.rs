//! `fincore demo`: build a SQLite ledger from the fixtures compiled into the binary and run
//! the daily jobs on it, printing each step.

use super::{Context, Output};
use crate::error::{AppError, AppResult};
use crate::output::View;
use std::path::{Path, PathBuf};

const DEMO_NOW: &str = "2026-11-21T06:00:00Z";
pub(crate) const DEMO_ACCOUNTS_CSV: &str = include_str!("../../fixtures/demo/accounts.csv");
pub(crate) const DEMO_TRANSFERS_CSV: &str = include_str!("../../fixtures/demo/transfers.csv");
/// Transfers booked later on 2026-11-20 that trip every built-in risk rule.
pub(crate) const DEMO_RISK_TRANSFERS_CSV: &str =
    include_str!("../../fixtures/demo/risk_transfers.csv");
pub(crate) const DEMO_COMPLIANCE_ACCOUNTS_CSV: &str =
    include_str!("../../fixtures/demo/compliance_accounts.csv");
pub(crate) const DEMO_COMPLIANCE_TRANSFERS_CSV: &str =
    include_str!("../../fixtures/demo/compliance_transfers.csv");
pub(crate) const DEMO_SANCTIONS_CSV: &str = include_str!("../../fixtures/compliance/sanctions.csv");
/// The bank's statement of the USD settlement account for 2026-11-20: one break of each kind
/// against the demo ledger (see `fixtures/demo/README.md`).
pub(crate) const DEMO_STATEMENT_CSV: &str = include_str!("../../fixtures/demo/statement.csv");
const DEMO_SETTLEMENT: &str = "9000000000000001";
const DEMO_DATE: &str = "2026-11-20";
/// Compliance put this account (Erin Walsh) on the blacklist after the day's import.
pub(crate) const DEMO_BLACKLISTED: &str = "4000000000000051";
/// The fixtures' transfers all happen on 2026-11-20: rescoring looks at that day.
pub(crate) const DEMO_RESCORE_AS_OF: &str = "2026-11-20T23:59:59Z";

#[derive(Debug, clap::Args)]
pub(crate) struct DemoArgs {
    /// Where to build the demo ledger (default: a new folder under the system temp dir)
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// One titled step of the demo.
struct Step {
    name: &'static str,
    view: View,
    exit_code: u8,
}

impl DemoArgs {
    pub(crate) async fn run(self, context: &Context) -> AppResult<Output> {
        let dir = self.dir.unwrap_or_else(|| {
            std::env::temp_dir().join(format!("fincore-demo-{}", std::process::id()))
        });
        let demo = prepare(&dir, context)?;
        let file = |name: &str| dir.join(name);
        let mut steps = Vec::new();
        let imported = super::account::import_for_demo(&demo, &file("accounts.csv")).await;
        steps.push(step("accounts imported", imported)?);
        let imported =
            super::transfer::import_for_demo(&demo, &file("transfers.csv"), &file("rejects.csv"))
                .await;
        steps.push(step("transfers imported", imported)?);
        steps.push(step(
            "trial balance",
            super::report::balances_for_demo(&demo).await,
        )?);
        // The bank's statement covers 2026-11-20 as the ledger stood after that day's import.
        let reconciled = super::reconcile::run_for_demo(
            &demo,
            DEMO_SETTLEMENT,
            DEMO_DATE,
            &file("statement.csv"),
            "0.00",
        )
        .await;
        steps.push(step("reconciliation", reconciled)?);
        let imported = super::transfer::import_for_demo(
            &demo,
            &file("risk_transfers.csv"),
            &file("risk_rejects.csv"),
        )
        .await;
        steps.push(step("late transfers imported", imported)?);
        let listed = super::risk::blacklist_for_demo(
            &demo,
            DEMO_BLACKLISTED,
            "demo: sanctions screening hit",
        )
        .await;
        steps.push(step("blacklist", listed)?);
        steps.push(step(
            "risk rescoring",
            super::risk::rescore_for_demo(&demo, DEMO_RESCORE_AS_OF).await,
        )?);
        let imported =
            super::account::import_for_demo(&demo, &file("compliance_accounts.csv")).await;
        steps.push(step("more accounts imported", imported)?);
        let imported = super::transfer::import_for_demo(
            &demo,
            &file("compliance_transfers.csv"),
            &file("more_rejects.csv"),
        )
        .await;
        steps.push(step("week of cash activity imported", imported)?);
        let report = super::compliance::ComplianceArgs::for_demo(
            "2026-11-14",
            "2026-11-21",
            &file("sanctions.csv"),
        );
        steps.push(step(
            "compliance report",
            super::compliance::run(&demo, report).await,
        )?);
        demo.close().await;
        Ok(combine(&dir, steps))
    }
}

fn prepare(dir: &Path, context: &Context) -> AppResult<Context> {
    std::fs::create_dir_all(dir)
        .map_err(|e| AppError::invalid_input(format!("--dir {}: {e}", dir.display())))?;
    let database = dir.join("demo.db");
    for stale in ["demo.db", "demo.db-wal", "demo.db-shm"] {
        let _ = std::fs::remove_file(dir.join(stale));
    }
    let files = [
        ("accounts.csv", DEMO_ACCOUNTS_CSV),
        ("transfers.csv", DEMO_TRANSFERS_CSV),
        ("compliance_accounts.csv", DEMO_COMPLIANCE_ACCOUNTS_CSV),
        ("compliance_transfers.csv", DEMO_COMPLIANCE_TRANSFERS_CSV),
        ("sanctions.csv", DEMO_SANCTIONS_CSV),
        ("statement.csv", DEMO_STATEMENT_CSV),
        ("risk_transfers.csv", DEMO_RISK_TRANSFERS_CSV),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text)
            .map_err(|e| AppError::invalid_input(format!("--dir {}: {e}", dir.display())))?;
    }
    let mut global = context.global.clone();
    global.database_url = format!("sqlite://{}", database.display());
    let mut demo = Context::new(
        global,
        context.actor.operator.clone(),
        context.actor.trace_id.clone(),
    )?;
    demo.creates_database = true;
    // The fixtures describe the week of 2026-11-14; the demo's clock stands just after it so every
    // run prints the same report (FINCORE_NOW still wins).
    if std::env::var_os("FINCORE_NOW").is_none() {
        demo.actor.now_us = crate::clock::parse_instant(DEMO_NOW)?;
    }
    Ok(demo)
}

fn step(name: &'static str, outcome: AppResult<Output>) -> AppResult<Step> {
    let output = outcome.map_err(|error| error.context(format!("demo step '{name}'")))?;
    let view = output
        .view
        .unwrap_or_else(|| View::new(serde_json::Value::Null, Vec::new()));
    Ok(Step {
        name,
        view,
        exit_code: output.exit_code,
    })
}

/// The lines that carry on with the demo ledger in this shell, each runnable as printed (a
/// test runs them through `sh`).
fn continue_with(database_url: &str) -> Vec<String> {
    let mut lines = vec![
        "continue with this ledger:".to_string(),
        format!(
            "  export FINCORE_DATABASE_URL={}",
            shell_quoted(database_url)
        ),
    ];
    lines.extend(
        DEMO_NEXT_COMMANDS
            .iter()
            .map(|command| format!("  {command}")),
    );
    lines
}

/// What an operator looks at next in the demo ledger.
const DEMO_NEXT_COMMANDS: [&str; 4] = [
    "fincore reconcile show 1",
    "fincore transfer list --status rejected",
    "fincore risk show 4000000000000051",
    "fincore report compliance --from 2026-11-14 --to 2026-11-21 --kind ctr,structuring,audit",
];

/// `text` as one POSIX shell word: as it is when it holds only characters the shell leaves
/// alone, else single-quoted.
fn shell_quoted(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// Table output shows each step under its name; JSON is one document keyed by step.
fn combine(dir: &Path, steps: Vec<Step>) -> Output {
    let mut json = serde_json::Map::new();
    json.insert("dir".into(), serde_json::json!(dir.display().to_string()));
    let mut sections = Vec::new();
    let database_url = format!("sqlite://{}", dir.join("demo.db").display());
    json.insert("database_url".into(), serde_json::json!(database_url));
    let mut notes = vec![format!("demo ledger: {}", dir.join("demo.db").display())];
    for step in &steps {
        json.insert(step.name.replace(' ', "_"), step.view.json.clone());
        for (index, section) in step.view.sections.iter().enumerate() {
            let mut section = section.clone();
            let title = section.title.take().unwrap_or_default();
            section.title = Some(if index == 0 {
                format!("== {} == {title}", step.name)
            } else {
                title
            });
            sections.push(section);
        }
        notes.extend(step.view.notes.iter().cloned());
    }
    notes.extend(continue_with(&database_url));
    let mut view = View::new(serde_json::Value::Object(json), sections);
    view.notes = notes;
    // The demo's own findings (rejected rows, breaks) are its point, not a failure.
    let _ = steps.iter().map(|s| s.exit_code).max();
    Output::view(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(
            shell_quoted("sqlite:///tmp/d/demo.db"),
            "sqlite:///tmp/d/demo.db"
        );
        assert_eq!(
            shell_quoted("sqlite:///tmp/my demo/x.db"),
            "'sqlite:///tmp/my demo/x.db'"
        );
        assert_eq!(shell_quoted("it's"), "'it'\\''s'");
        assert_eq!(shell_quoted(""), "''");
    }

    #[test]
    fn the_next_commands_name_the_demo_blacklisted_account() {
        assert!(DEMO_NEXT_COMMANDS[2].ends_with(DEMO_BLACKLISTED));
    }
}
