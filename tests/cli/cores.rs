//! The core count changes only the speed: every parallel path under `../shared/tools/with-cpus`
//! (the process believes it has N CPUs) exits and prints as with the machine's own count.

use crate::support::Ledger;
use serde_json::Value;
use std::path::PathBuf;

fn with_cpus_tool() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/with-cpus")
}

/// `fincore ARGS` believing it has `cpus` CPUs: (exit code, JSON without trace ids).
fn json_on_cpus(ledger: &Ledger, cpus: usize, args: &[&str]) -> (i32, Value) {
    let program = env!("CARGO_BIN_EXE_fincore");
    let mut command = std::process::Command::new(with_cpus_tool());
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("FINCORE_DATABASE_URL", &ledger.url)
        .env("FINCORE_NOW", crate::support::NOW)
        .env("FINCORE_OPERATOR", "tester")
        .current_dir(ledger.dir.path())
        .arg(cpus.to_string())
        .arg(program)
        .args(["--format", "json"])
        .args(args);
    let output = command.output().expect("run with-cpus");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut json: Value = serde_json::from_str(&stdout).unwrap_or_else(|error| {
        panic!(
            "{cpus} CPUs, {args:?}: not JSON ({error}): {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    strip_trace_ids(&mut json);
    (output.status.code().unwrap_or(-1), json)
}

fn strip_trace_ids(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("trace_id");
            map.values_mut().for_each(strip_trace_ids);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_trace_ids),
        _ => {}
    }
}

#[test]
fn demo_and_rescoring_run_alike_on_1_to_64_cpus() {
    assert!(
        with_cpus_tool().exists(),
        "{} is missing: ../shared must sit beside the checkout",
        with_cpus_tool().display()
    );
    let mut results = Vec::new();
    for cpus in [2, 1, 8, 64] {
        // Each core count on a fresh ledger: rescoring stores what it found.
        let ledger = Ledger::sqlite();
        let (code, demo) = json_on_cpus(&ledger, cpus, &["demo", "--dir", "demo"]);
        assert_eq!(code, 0, "demo on {cpus} CPUs: {demo}");
        let demo_ledger = Ledger {
            url: format!("sqlite://{}", ledger.path("demo").join("demo.db").display()),
            ..ledger
        };
        let (code, rescore) = json_on_cpus(&demo_ledger, cpus, &["risk", "rescore", "--all"]);
        assert_eq!(code, 0, "rescore on {cpus} CPUs: {rescore}");
        results.push((cpus, demo, rescore));
    }
    let (_, demo_on_two, rescore_on_two) = &results[0];
    for (cpus, demo, rescore) in &results[1..] {
        assert_eq!(demo, demo_on_two, "demo on {cpus} CPUs differs from 2");
        assert_eq!(
            rescore, rescore_on_two,
            "rescore on {cpus} CPUs differs from 2"
        );
    }
}
