use crate::both_backends;
use crate::support::Ledger;

both_backends! {
    chain_verifies_and_detects_edits => chain_verifies_and_detects_edits;
    chain_detects_deleted_tail => chain_detects_deleted_tail;
    verify_detects_balance_tampering => verify_detects_balance_tampering;
}

fn busy_ledger(ledger: &Ledger) {
    let (_, alice) = ledger.funded("USD", "100.00");
    let bob = ledger.open("Bob", "checking", "USD", &[]);
    for amount in ["1.00", "2.00", "3.00"] {
        ledger.json(&[
            "transfer",
            "post",
            "--from",
            &alice,
            "--to",
            &bob,
            "--amount",
            amount,
            "--currency",
            "USD",
        ]);
    }
    ledger.json(&["account", "freeze", &bob, "--reason", "check"]);
}

fn chain_verifies_and_detects_edits(ledger: &Ledger) {
    busy_ledger(ledger);
    let ok = ledger.json(&["audit", "verify"]);
    assert_eq!(ok["ok"], true);
    let events = ledger.json(&["audit", "list"]);
    let events = events.as_array().unwrap();
    assert!(events.len() >= 7);
    for event in events {
        assert_eq!(event["operator"], "tester");
        assert_eq!(event["trace_id"].as_str().unwrap().len(), 32);
        for key in [
            "seq",
            "at",
            "operator",
            "action",
            "entity",
            "details",
            "trace_id",
            "prev_hash",
            "hash",
        ] {
            assert!(event.get(key).is_some(), "missing {key}");
        }
    }
    for pair in events.windows(2) {
        assert_eq!(pair[1]["prev_hash"], pair[0]["hash"]);
    }
    ledger.execute_sql(
        "UPDATE audit_events SET details = REPLACE(details, '2.00', '2000.00') WHERE seq = 6",
    );
    let broken = ledger.run(&["--format", "json", "audit", "verify"]);
    assert_eq!(broken.code, 1);
    assert_eq!(broken.json()["first_broken_seq"], 6);
    assert!(broken.stderr.contains("seq 6"), "{}", broken.stderr);
    let verify = ledger.run(&["ledger", "verify"]);
    assert_eq!(verify.code, 1);
    assert!(verify.stdout.contains("audit_chain"), "{}", verify.stdout);
}

fn chain_detects_deleted_tail(ledger: &Ledger) {
    busy_ledger(ledger);
    ledger.execute_sql("DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)");
    let run = ledger.run(&["audit", "verify"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
}

fn verify_detects_balance_tampering(ledger: &Ledger) {
    busy_ledger(ledger);
    ledger.assert_verified();
    ledger.execute_sql(
        "UPDATE accounts SET balance_minor = balance_minor + 1 WHERE account_type = 'checking'",
    );
    let run = ledger.run(&["--format", "json", "ledger", "verify"]);
    assert_eq!(run.code, 1);
    let checks: Vec<String> = run.json()["discrepancies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["check"].as_str().unwrap().to_string())
        .collect();
    assert!(
        checks.iter().all(|c| c == "balance_matches_entries"),
        "{checks:?}"
    );
    assert_eq!(checks.len(), 2);
    ledger
        .execute_sql("UPDATE entries SET amount_minor = amount_minor + 5 WHERE amount_minor = 100");
    let run = ledger.run(&["--format", "json", "ledger", "verify"]);
    let checks = run.json()["discrepancies"].to_string();
    assert!(checks.contains("transfer_balanced"), "{checks}");
}
