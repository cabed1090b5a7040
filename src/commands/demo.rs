//! `fincore demo`: build a SQLite ledger from the fixtures compiled into the binary and run
//! the daily jobs on it, printing each step.

use super::{Context, Output};
use crate::error::{AppError, AppResult};
use crate::output::View;
use std::path::{Path, PathBuf};

pub const DEMO_ACCOUNTS_CSV: &str = include_str!("../../fixtures/demo/accounts.csv");
pub const DEMO_TRANSFERS_CSV: &str = include_str!("../../fixtures/demo/transfers.csv");
/// Compliance put this account (Erin Walsh) on the blacklist after the day's import.
pub const DEMO_BLACKLISTED: &str = "4000000000000051";
/// The fixtures' transfers all happen on 2026-11-20: rescoring looks at that day.
pub const DEMO_RESCORE_AS_OF: &str = "2026-11-20T23:59:59Z";

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
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
    pub async fn run(self, context: &Context) -> AppResult<Output> {
        let dir = self.dir.unwrap_or_else(|| {
            std::env::temp_dir().join(format!("fincore-demo-{}", std::process::id()))
        });
        let demo = prepare(&dir, context)?;
        let mut steps = Vec::new();
        steps.push(step(
            "accounts imported",
            super::account::import_for_demo(&demo, &dir.join("accounts.csv")).await,
        )?);
        steps.push(step(
            "transfers imported",
            super::transfer::import_for_demo(
                &demo,
                &dir.join("transfers.csv"),
                &dir.join("rejects.csv"),
            )
            .await,
        )?);
        steps.push(step(
            "trial balance",
            super::report::balances_for_demo(&demo).await,
        )?);
        steps.push(step(
            "blacklist",
            super::risk::blacklist_for_demo(
                &demo,
                DEMO_BLACKLISTED,
                "demo: sanctions screening hit",
            )
            .await,
        )?);
        steps.push(step(
            "risk rescoring",
            super::risk::rescore_for_demo(&demo, DEMO_RESCORE_AS_OF).await,
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
    for (name, text) in [
        ("accounts.csv", DEMO_ACCOUNTS_CSV),
        ("transfers.csv", DEMO_TRANSFERS_CSV),
    ] {
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
    demo.actor.now_us = context.actor.now_us;
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

/// Table output shows each step under its name; JSON is one document keyed by step.
fn combine(dir: &Path, steps: Vec<Step>) -> Output {
    let mut json = serde_json::Map::new();
    json.insert("dir".into(), serde_json::json!(dir.display().to_string()));
    let mut sections = Vec::new();
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
    let mut view = View::new(serde_json::Value::Object(json), sections);
    view.notes = notes;
    // The demo's own findings (rejected rows, breaks) are its point, not a failure.
    let _ = steps.iter().map(|s| s.exit_code).max();
    Output::view(view)
}
