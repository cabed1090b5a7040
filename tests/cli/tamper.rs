//! The tamper suite (issue 14, acceptance criterion 1), the judge of `ledger verify` and
//! `audit verify`. On each backend it builds one ledger through the CLI (`build`), then applies
//! each edit to a fresh copy of it with direct SQL (`cases`): the named consistent
//! rewrites, and for one row per table — chosen by a seeded generator — every single-cell
//! edit, the row's delete and its duplicate insert. Tables and columns come from the database
//! catalogue at run time, so a table or column added later is covered without a change here.
//!
//! A case is detected when either verify exits 1, and named when one of the JSON findings
//! carries the `table` and `id` of a row the case changed. An edit the database refuses is not
//! a case. The detection table goes to stderr (`--nocapture`) and to a file; every case must be
//! detected and named.
//!
//! `FINCORE_TAMPER_SEED` picks other rows (default `TAMPER_SEED`); `FINCORE_TAMPER_THREADS`
//! sets how many cases run at once.

mod build;
mod cases;
mod copies;
mod database;
mod mutate;
mod named;
mod verdict;

use crate::both_backends;
use crate::support::{Backend, Ledger};
use build::Built;
use cases::Case;
use copies::{Source, Workspace};
use database::Database;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;
use verdict::{Finding, Outcome};

both_backends! {
    tamper_suite => tamper_suite;
}

/// What verify said is cut to this on stderr; the file has all of it.
const SAID_ON_STDERR_CHARS: usize = 240;

/// The documented seed: which row of each table the cell, delete and insert cases edit.
pub const TAMPER_SEED: u64 = 0x1414_2026_1120;

fn seed() -> u64 {
    match std::env::var("FINCORE_TAMPER_SEED") {
        Ok(text) => {
            let text = text.trim();
            match text.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => text.parse(),
            }
            .unwrap_or_else(|error| panic!("FINCORE_TAMPER_SEED={text}: {error}"))
        }
        Err(_) => TAMPER_SEED,
    }
}

fn threads() -> usize {
    std::env::var("FINCORE_TAMPER_THREADS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map_or(2, |count| count.get())
                .clamp(2, 4)
        })
        .max(1)
}

fn tamper_suite(ledger: &Ledger) {
    let started = Instant::now();
    let built = build::build(ledger);
    let built_in = started.elapsed();
    let mut database = Database::connect(ledger.backend, &ledger.url);
    let tables = database.catalogue();
    database.close();
    let source = Source::of(ledger.backend, &ledger.url, ledger.dir.path(), &tables);
    let seed = seed();
    let cases = cases::all(&tables, &built, seed, ledger.backend);
    let findings = run_all(&cases, &source, ledger.backend, &built);
    eprintln!(
        "{}",
        report(
            ledger.backend,
            seed,
            &cases,
            &findings,
            Some(SAID_ON_STDERR_CHARS)
        )
    );
    let report = report(ledger.backend, seed, &cases, &findings, None);
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("tamper")
        .join(format!("detection-{}.txt", backend_name(ledger.backend)));
    std::fs::create_dir_all(path.parent().expect("folder")).expect("report folder");
    std::fs::write(&path, &report).expect("write the detection table");
    let failed = findings.iter().filter(|f| !f.outcome.passes()).count();
    eprintln!(
        "tamper suite ({}): seed {seed:#x}, {} cases, built in {:.1?}, all in {:.1?}; table in {}",
        backend_name(ledger.backend),
        cases.len(),
        built_in,
        started.elapsed(),
        path.display()
    );
    assert_eq!(
        failed,
        0,
        "{failed} of {} tamper cases are not detected and named ({}); the table: {}",
        cases.len(),
        backend_name(ledger.backend),
        path.display()
    );
}

/// A copy no case edited must verify, before a worker's first case and after its last
/// (PostgreSQL resets its database between cases: this shows the reset restores the ledger).
fn control(source: &Source, workspace: &Workspace, worker: usize, backend: Backend, when: &str) {
    let index = usize::MAX - worker;
    let copy = Ledger {
        dir: tempfile::TempDir::new().expect("temp dir"),
        url: source.fresh(workspace, index),
        backend,
    };
    for command in ["ledger", "audit"] {
        let run = build::verify(&copy, command, None);
        assert_eq!(
            run.code, 0,
            "an untouched copy passes {command} verify {when}:\n{}\n{}",
            run.stdout, run.stderr
        );
    }
    source.finish(index);
}

/// Every case, on worker threads taking the next case in turn; findings in case order.
fn run_all(cases: &[Case], source: &Source, backend: Backend, built: &Built) -> Vec<Finding> {
    let next = AtomicUsize::new(0);
    let findings: Mutex<Vec<Option<Finding>>> =
        Mutex::new((0..cases.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for worker in 0..threads() {
            let (next, findings) = (&next, &findings);
            scope.spawn(move || {
                let workspace = source.workspace(worker);
                control(source, &workspace, worker, backend, "before the cases");
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(case) = cases.get(index) else {
                        break;
                    };
                    let finding =
                        verdict::run_case(case, index, source, &workspace, backend, built);
                    findings.lock().expect("findings")[index] = Some(finding);
                }
                control(source, &workspace, worker, backend, "after the cases");
                source.close(workspace);
            });
        }
    });
    findings
        .into_inner()
        .expect("findings")
        .into_iter()
        .map(|finding| finding.expect("every case ran"))
        .collect()
}

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

/// The detection table, a count per outcome, and the failing cases by table and column.
fn report(
    backend: Backend,
    seed: u64,
    cases: &[Case],
    findings: &[Finding],
    said_chars: Option<usize>,
) -> String {
    let name = backend_name(backend);
    let mut text = format!(
        "tamper suite detection table — backend {name}, seed {seed:#x}, {} cases\n\
         {:>4}  {:<24} {:<44} {:<42} {:<30} {}\n",
        cases.len(),
        "#",
        "result",
        "case",
        "table / column of row",
        "change",
        "what verify said"
    );
    for (index, (case, finding)) in cases.iter().zip(findings).enumerate() {
        text.push_str(&format!(
            "{index:>4}  {:<24} {:<44} {:<42} {:<30} {}\n",
            finding.outcome.label(),
            case.kind,
            format!("{} / {}", case.table, case.target),
            case.change,
            match &finding.outcome {
                Outcome::Refused(why)
                | Outcome::VerifyFailed(why)
                | Outcome::Uncovered(why)
                | Outcome::NotEvidence(why) => why.clone(),
                _ => match said_chars {
                    Some(limit) if finding.said.chars().count() > limit =>
                        format!("{}…", finding.said.chars().take(limit).collect::<String>()),
                    _ => finding.said.clone(),
                },
            }
        ));
    }
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for finding in findings {
        let label = finding.outcome.label();
        match counts.iter_mut().find(|(seen, _)| *seen == label) {
            Some((_, count)) => *count += 1,
            None => counts.push((label, 1)),
        }
    }
    text.push_str(&format!("\n{name}: "));
    text.push_str(
        &counts
            .iter()
            .map(|(label, count)| format!("{count} {label}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    text.push('\n');
    let failing: Vec<String> = cases
        .iter()
        .zip(findings)
        .filter(|(_, finding)| !finding.outcome.passes())
        .map(|(case, finding)| {
            format!(
                "  {} — {} {}: {}",
                finding.outcome.label(),
                case.table,
                case.column.as_deref().unwrap_or(&case.kind),
                case.change
            )
        })
        .collect();
    if !failing.is_empty() {
        text.push_str(&format!(
            "{name}: not detected and named:\n{}\n",
            failing.join("\n")
        ));
    }
    text
}
