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
            "completions/{file} is stale: run scripts/regenerate-docs.sh"
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
    assert_eq!(document["transfers_imported"]["rejected"], 4);
    for kind in ["ctr", "structuring", "sanctions", "suspicious"] {
        assert!(
            !document["compliance_report"][kind]
                .as_array()
                .unwrap()
                .is_empty(),
            "demo finds {kind}"
        );
    }
    assert!(
        document["compliance_report"]["audit"]["events_by_action"]["transfer.imported"]
            .as_i64()
            .unwrap()
            > 0
    );
    assert_eq!(document["transfers_imported"]["posted"], 18);
    let breaks = &document["compliance_report"]["audit"]["reconciliation_breaks_by_kind"];
    assert_eq!(
        breaks.as_object().unwrap().len(),
        6,
        "the audit summary counts the demo's breaks: {breaks}"
    );
    // The reconciliation step finds one break of each kind and the demo still succeeds.
    let reconciliation = &document["reconciliation"];
    assert_eq!(reconciliation["statement_lines"], 9);
    assert_eq!(reconciliation["matched"], 3);
    assert_eq!(reconciliation["matched_fuzzy"], 1);
    // Every kind of a line or movement once; the demo's CSV statement states no balance.
    for (kind, count) in reconciliation["breaks"].as_object().unwrap() {
        let expected = if kind == "balance_mismatch" { 0 } else { 1 };
        assert_eq!(count, expected, "{kind}");
    }
    assert_eq!(reconciliation["breaks"].as_object().unwrap().len(), 7);
    assert_eq!(document["late_transfers_imported"]["rejected"], 3);
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
    assert!(table.stdout.contains("== reconciliation =="));
    assert!(table.stdout.contains("risk rescoring"));
}

/// Help shows which environment variable sets an option, never a value: clap printed
/// `[env: FINCORE_FORMAT=]` for an unset variable, which reads as "set to nothing".
#[test]
fn help_names_environment_variables_without_values() {
    let ledger = Ledger::sqlite();
    let help = ledger.run_with(&["--help"], &[("FINCORE_OPERATOR", "secret-operator")]);
    assert_eq!(help.code, 0);
    for name in [
        "FINCORE_DATABASE_URL",
        "FINCORE_FORMAT",
        "FINCORE_OPERATOR",
        "FINCORE_DB_TIMEOUT",
        "FINCORE_LOCK_TIMEOUT",
        "FINCORE_LOG_FORMAT",
    ] {
        assert!(
            help.stdout.contains(&format!("[env: {name}]")),
            "{name}: {}",
            help.stdout
        );
    }
    assert!(!help.stdout.contains("secret-operator"), "{}", help.stdout);
}

/// The demo's "resolve with" hint works where it is printed: it names the demo's database
/// (without `--db` it would create and use an empty `fincore.db` in the current directory).
#[test]
fn demo_hints_name_the_demo_database() {
    let ledger = Ledger::sqlite();
    let dir = ledger.path("demo");
    let run = ledger.run(&["demo", "--dir", dir.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let url = format!("sqlite://{}", dir.join("demo.db").display());
    let hint = format!("resolve with: fincore --db {url} reconcile resolve ITEM");
    assert!(run.stdout.contains(&hint), "{}", run.stdout);
    let breaks = ledger.run(&["--db", &url, "--format", "json", "reconcile", "list"]);
    assert_eq!(breaks.code, 0, "{}", breaks.stderr);
    assert_eq!(breaks.json().as_array().unwrap().len(), 1);
    assert!(
        !ledger.path("fincore.db").exists()
            || std::fs::metadata(ledger.path("fincore.db")).unwrap().len() == 0
    );
}
