use crate::support::{fixture, Ledger};

#[test]
fn committed_completions_are_current() {
    let ledger = Ledger::sqlite();
    for (shell, file) in [
        ("bash", "fincore.bash"),
        ("zsh", "_fincore"),
        ("fish", "fincore.fish"),
        ("powershell", "_fincore.ps1"),
        ("elvish", "fincore.elv"),
    ] {
        let run = ledger.run(&["completions", shell]);
        assert_eq!(run.code, 0);
        let committed = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("completions")
                .join(file),
        )
        .unwrap_or_else(|_| panic!("completions/{file} is committed"));
        assert_eq!(
            run.stdout, committed,
            "completions/{file} is stale: run scripts/completions.sh"
        );
    }
    ledger
        .run(&["completions", "tcsh"])
        .assert_error(2, "usage_error");
}

#[test]
fn demo_builds_a_balanced_ledger() {
    let ledger = Ledger::sqlite();
    let dir = ledger.path("demo");
    let run = ledger.run(&["--format", "json", "demo", "--dir", dir.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let document = run.json();
    assert_eq!(document["trial_balance"]["balanced"], true);
    assert_eq!(document["transfers_imported"]["rejected"], 7);
    // The rescoring step: every built-in rule fires at least once, critical accounts frozen.
    let rescoring = &document["risk_rescoring"];
    let mut fired: Vec<String> = rescoring["changes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|change| change["factors"].as_array().unwrap().clone())
        .map(|factor| factor["rule"].as_str().unwrap().to_string())
        .collect();
    fired.sort();
    fired.dedup();
    for rule in [
        "large_single_transfer",
        "daily_outgoing_total",
        "hourly_outgoing_velocity",
        "blacklisted_counterparty",
        "repeated_failed_attempts",
    ] {
        assert!(
            fired.contains(&rule.to_string()),
            "{rule} fires in the demo: {fired:?}"
        );
    }
    assert_eq!(rescoring["frozen"].as_array().unwrap().len(), 2);
    assert!(fixture("demo/accounts.csv").exists());
    let table = ledger.run(&["demo", "--dir", dir.to_str().unwrap()]);
    assert_eq!(table.code, 0);
    assert!(table.stdout.contains("trial balance"));
    assert!(table.stdout.contains("risk rescoring"));
}
