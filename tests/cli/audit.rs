use crate::both_backends;
use crate::support::Ledger;

both_backends! {
    chain_verifies_and_detects_edits => chain_verifies_and_detects_edits;
    chain_detects_deleted_tail => chain_detects_deleted_tail;
    verify_detects_balance_tampering => verify_detects_balance_tampering;
    import_batches_are_audited_with_a_digest => import_batches_are_audited_with_a_digest;
    failed_import_write_leaves_nothing => failed_import_write_leaves_nothing;
    anchors_catch_cut_and_rewritten_history => anchors_catch_cut_and_rewritten_history;
    anchor_files_are_checked => anchor_files_are_checked;
    a_keyed_chain_needs_the_key_to_rewrite => a_keyed_chain_needs_the_key_to_rewrite;
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

/// BANK0001 (settlement), ACCT0001 holding 100.00 USD, ACCT0002 empty.
fn import_accounts(ledger: &Ledger) {
    let settlement = ledger.open("Bank", "settlement", "USD", &["--number", "BANK0001"]);
    let deposit = ["--initial-deposit", "100.00", "--via", &settlement];
    ledger.open(
        "A",
        "checking",
        "USD",
        &[&["--number", "ACCT0001"][..], &deposit].concat(),
    );
    ledger.open("B", "checking", "USD", &["--number", "ACCT0002"]);
}

/// An import appends one `transfer.imported` event per batch whose digest covers every
/// transfer it recorded; editing an imported transfer breaks the chain at that event.
fn import_batches_are_audited_with_a_digest(ledger: &Ledger) {
    import_accounts(ledger);
    let file = ledger.write(
        "transfers.csv",
        "key,from,to,amount,currency,at,reference,description\n\
         i1,ACCT0001,ACCT0002,10.00,USD,2026-11-20T09:00:00Z,R1,\n\
         i2,ACCT0001,ACCT0002,20.00,USD,2026-11-20T09:01:00Z,R2,\n\
         i3,ACCT0001,ACCT0002,500.00,USD,2026-11-20T09:02:00Z,R3,too much\n\
         i4,ACCT0002,ACCT0001,5.00,USD,2026-11-20T09:03:00Z,R4,\n\
         i5,ACCT0001,ACCT0002,1.00,USD,2026-11-20T09:04:00Z,R5,\n",
    );
    let events_before = ledger.json(&["audit", "list"]).as_array().unwrap().len();
    let run = ledger.run(&[
        "transfer",
        "import",
        file.to_str().unwrap(),
        "--batch-rows",
        "2",
    ]);
    assert_eq!(run.code, 1, "one row is rejected: {}", run.stderr);
    let events = ledger.json(&["audit", "list"]);
    let events = &events.as_array().unwrap()[events_before..];
    assert_eq!(events.len(), 3, "5 rows in batches of 2: {events:#?}");
    let mut recorded = (0, 0);
    for event in events {
        assert_eq!(event["action"], "transfer.imported");
        let details = &event["details"];
        let batch = &details["rows"][0];
        assert_eq!(batch["table"], "transfers");
        assert_eq!(batch["sha256"].as_str().unwrap().len(), 64);
        let count = batch["count"].as_u64().unwrap() as usize;
        assert_eq!(batch["tags"].as_str().unwrap().len(), 4 * count);
        recorded.0 += details["posted"].as_i64().unwrap();
        recorded.1 += details["rejected"].as_i64().unwrap();
    }
    assert_eq!(recorded, (4, 1), "posted and recorded-as-rejected rows");
    ledger.assert_verified();

    let third = ledger.json(&["transfer", "show", "i3"]);
    let third_id = third["id"].as_i64().unwrap();
    let covering = ledger.json(&["audit", "list", "--entity", &format!("transfer:{third_id}")]);
    let covering = covering.as_array().unwrap();
    assert_eq!(covering.len(), 1, "{covering:#?}");
    assert_eq!(covering[0]["seq"], events[1]["seq"]);
    let imported_for = |account: &str| -> Vec<serde_json::Value> {
        let listed = ledger.json(&["audit", "list", "--entity", account]);
        let listed = listed.as_array().unwrap();
        listed
            .iter()
            .filter(|event| event["action"] == "transfer.imported")
            .map(|event| event["seq"].clone())
            .collect()
    };
    let all_batches: Vec<serde_json::Value> = events.iter().map(|e| e["seq"].clone()).collect();
    assert_eq!(
        imported_for("ACCT0002"),
        all_batches,
        "every batch names ACCT0002"
    );
    assert!(
        imported_for("BANK0001").is_empty(),
        "no imported row names the bank"
    );

    ledger.execute_sql(&format!(
        "UPDATE transfers SET description = 'edited' WHERE id = {third_id}"
    ));
    let verify = ledger.run(&["--format", "json", "ledger", "verify"]);
    assert_eq!(verify.code, 1, "{}", verify.stdout);
    let found = &verify.json()["discrepancies"];
    assert_eq!(found.as_array().unwrap().len(), 1, "{found:#}");
    assert_eq!(found[0]["check"], "row_matches_audit");
    assert_eq!(found[0]["table"], "transfers");
    assert_eq!(found[0]["id"], third_id.to_string());
    assert_eq!(found[0]["seq"], events[1]["seq"], "the batch's event");
}

/// A row the database refuses while a batch is being written (here: a transfer id already
/// taken, after the ledger head was rewound behind fincore's back) fails the import with a
/// storage error naming the cause, and nothing of the batch is left behind.
fn failed_import_write_leaves_nothing(ledger: &Ledger) {
    import_accounts(ledger);
    let file = ledger.write(
        "transfers.csv",
        "key,from,to,amount,currency,at,reference,description\n\
         f1,ACCT0001,ACCT0002,10.00,USD,2026-11-20T09:00:00Z,R1,\n\
         f2,ACCT0001,ACCT0002,20.00,USD,2026-11-20T09:01:00Z,R2,\n",
    );
    ledger.execute_sql("UPDATE ledger_head SET transfer_seq = 0");
    let before = ledger.snapshot();
    let run = ledger.run(&["transfer", "import", file.to_str().unwrap()]);
    assert_eq!(run.code, 7, "{}", run.stderr);
    assert!(
        run.stderr.contains("error: storage_unavailable"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.to_lowercase().contains("unique") || run.stderr.contains("duplicate key"),
        "names the refused row's cause: {}",
        run.stderr
    );
    assert_eq!(ledger.snapshot(), before);
}

/// The chain hash as fincore computes it (`audit::chain_hash`), for an attacker who rewrites an
/// event and recomputes its hash: each field length-prefixed after prev_hash, seq and time.
fn forged_hash(event: &serde_json::Value, details: &str) -> String {
    use sha2::{Digest, Sha256};
    let at_us = chrono::DateTime::parse_from_rfc3339(event["at"].as_str().unwrap())
        .unwrap()
        .timestamp_micros();
    let mut hasher = Sha256::new();
    hasher.update(event["prev_hash"].as_str().unwrap().as_bytes());
    hasher.update(event["seq"].as_i64().unwrap().to_be_bytes());
    hasher.update(at_us.to_be_bytes());
    for field in [
        event["operator"].as_str().unwrap(),
        event["action"].as_str().unwrap(),
        event["entity"].as_str().unwrap(),
        details,
        event["trace_id"].as_str().unwrap(),
    ] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn anchors_catch_cut_and_rewritten_history(ledger: &Ledger) {
    busy_ledger(ledger);
    let early = ledger.path("early.json");
    let taken = ledger.run(&["audit", "anchor", "--out", early.to_str().unwrap()]);
    assert_eq!(taken.code, 0, "{}", taken.stderr);
    let early_anchor: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&early).unwrap()).unwrap();
    let early_seq = early_anchor["seq"].as_i64().unwrap();
    // An anchor file is never overwritten: an older anchor is evidence.
    ledger
        .run(&["audit", "anchor", "--out", early.to_str().unwrap()])
        .assert_error(4, "invalid_input");
    let (_, carol) = ledger.funded("USD", "10.00");
    ledger.json(&["account", "freeze", &carol, "--reason", "check"]);
    let late = ledger.run(&["audit", "anchor"]);
    assert_eq!(late.code, 0, "{}", late.stderr);
    let late_anchor = late.json();
    let late_file = ledger.write("late.json", &late.stdout);
    let (early, late_file) = (early.to_str().unwrap(), late_file.to_str().unwrap());
    let held = ledger.run(&["audit", "verify", "--anchor", early, "--anchor", late_file]);
    assert_eq!(held.code, 0, "{}", held.stderr);
    assert!(held.stdout.contains("2 anchors hold"), "{}", held.stdout);

    // Cut the newest events off and rewind the head: the chain alone still verifies.
    let events = ledger.json(&["audit", "list", "--limit", "100000"]);
    let events = events.as_array().unwrap();
    let kept = &events[early_seq as usize - 1];
    ledger.execute_sql(&format!(
        "DELETE FROM audit_events WHERE seq > {early_seq}; \
         UPDATE ledger_head SET audit_seq = {early_seq}, audit_hash = '{}' WHERE id = 1",
        kept["hash"].as_str().unwrap()
    ));
    assert_eq!(ledger.run(&["audit", "verify"]).code, 0, "the blind spot");
    let cut = ledger.run(&["--format", "json", "audit", "verify", "--anchor", late_file]);
    assert_eq!(cut.code, 1, "{}", cut.stdout);
    assert_eq!(cut.json()["first_broken_seq"], late_anchor["seq"]);
    assert!(cut.stderr.contains("events were removed"), "{}", cut.stderr);
    assert_eq!(ledger.run(&["audit", "verify", "--anchor", early]).code, 0);

    // Rewrite the (now) newest event and recompute its hash and the head: only the anchor
    // taken before the rewrite notices.
    let details = r#"{"forged":true}"#;
    let hash = forged_hash(kept, details);
    ledger.execute_sql(&format!(
        "UPDATE audit_events SET details = '{details}', hash = '{hash}' WHERE seq = {early_seq}; \
         UPDATE ledger_head SET audit_hash = '{hash}' WHERE id = 1"
    ));
    assert_eq!(ledger.run(&["audit", "verify"]).code, 0, "the blind spot");
    let rewritten = ledger.run(&["--format", "json", "audit", "verify", "--anchor", early]);
    assert_eq!(rewritten.code, 1, "{}", rewritten.stdout);
    assert_eq!(rewritten.json()["first_broken_seq"], early_seq);
    assert!(
        rewritten.stderr.contains("history was rewritten"),
        "{}",
        rewritten.stderr
    );
}

fn anchor_files_are_checked(ledger: &Ledger) {
    busy_ledger(ledger);
    let missing = ledger.path("missing.json");
    let run = ledger.run(&["audit", "verify", "--anchor", missing.to_str().unwrap()]);
    run.assert_error(4, "invalid_input");
    assert!(
        run.stderr.contains("missing.json: cannot read it"),
        "{}",
        run.stderr
    );
    let anchor = ledger.run(&["audit", "anchor"]).json();
    for (name, field, text) in [
        ("not-json.json", "expected", "seq=3".to_string()),
        (
            "format.json",
            "format:",
            anchor
                .to_string()
                .replace("fincore-audit-anchor/1", "other/1"),
        ),
        (
            "hash.json",
            "hash:",
            anchor
                .to_string()
                .replace(anchor["hash"].as_str().unwrap(), "abc"),
        ),
        (
            "extra.json",
            "unknown field",
            anchor.to_string().replace("{", r#"{"note":"x","#),
        ),
    ] {
        let file = ledger.write(name, &text);
        let run = ledger.run(&["audit", "verify", "--anchor", file.to_str().unwrap()]);
        run.assert_error(4, "invalid_input");
        assert!(run.stderr.contains(field), "{name}: {}", run.stderr);
    }
    // An anchor of a seq the chain never reached (another ledger's, or cut history).
    let ahead = anchor
        .to_string()
        .replace(&format!("\"seq\":{}", anchor["seq"]), "\"seq\":999");
    let file = ledger.write("ahead.json", &ahead);
    let run = ledger.run(&["audit", "verify", "--anchor", file.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
}

const KEY: &str = "correct horse battery staple, forty bytes";

fn a_keyed_chain_needs_the_key_to_rewrite(ledger: &Ledger) {
    let keyed = [("FINCORE_AUDIT_KEY", KEY)];
    let settlement = ledger.run_with(
        &[
            "account",
            "open",
            "--holder",
            "Bank",
            "--type",
            "settlement",
            "--currency",
            "USD",
        ],
        &keyed,
    );
    assert_eq!(settlement.code, 0, "{}", settlement.stderr);
    let holder = ledger.run_with(
        &[
            "account",
            "open",
            "--holder",
            "Ann",
            "--type",
            "checking",
            "--currency",
            "USD",
        ],
        &keyed,
    );
    assert_eq!(holder.code, 0, "{}", holder.stderr);
    let verify =
        |env: &[(&str, &str)]| ledger.run_with(&["--format", "json", "audit", "verify"], env);
    let held = verify(&keyed);
    assert_eq!(held.code, 0, "{}", held.stderr);
    assert_eq!(held.json()["macs_checked"], 2);
    // Without the key the chain verifies and says what it could not check.
    let unkeyed = ledger.run(&["audit", "verify"]);
    assert_eq!(unkeyed.code, 0);
    assert!(
        unkeyed.stdout.contains("2 events carry a MAC not checked"),
        "{}",
        unkeyed.stdout
    );
    // Another key is not the writer's.
    let other = verify(&[(
        "FINCORE_AUDIT_KEY",
        "another key, also at least thirty-two bytes",
    )]);
    assert_eq!(other.code, 1);
    assert_eq!(other.json()["first_broken_seq"], 1);
    // The same key from a file (one trailing newline is not part of it).
    let key_file = ledger.write("audit.key", &format!("{KEY}\n"));
    let from_file = verify(&[("FINCORE_AUDIT_KEY_FILE", key_file.to_str().unwrap())]);
    assert_eq!(from_file.code, 0, "{}", from_file.stderr);

    // Rewrite the newest event and recompute its hash and the head: without the key this
    // passes; with it, the MAC no longer matches.
    let events = ledger.json(&["audit", "list"]);
    let newest = events.as_array().unwrap().last().unwrap().clone();
    let seq = newest["seq"].as_i64().unwrap();
    let hash = forged_hash(&newest, r#"{"forged":true}"#);
    ledger.execute_sql(&format!(
        "UPDATE audit_events SET details = '{{\"forged\":true}}', hash = '{hash}' WHERE seq = {seq}; \
         UPDATE ledger_head SET audit_hash = '{hash}' WHERE id = 1"
    ));
    assert_eq!(ledger.run(&["audit", "verify"]).code, 0, "the blind spot");
    let caught = verify(&keyed);
    assert_eq!(caught.code, 1, "{}", caught.stdout);
    assert_eq!(caught.json()["first_broken_seq"], seq);
    assert!(
        caught.stderr.contains("MAC does not match"),
        "{}",
        caught.stderr
    );
    // Stripping every MAC does not make it an unkeyed chain.
    ledger.execute_sql("UPDATE audit_events SET mac = NULL");
    let stripped = verify(&keyed);
    assert_eq!(stripped.code, 1, "{}", stripped.stdout);
    assert!(
        stripped.stderr.contains("newest event has no MAC"),
        "{}",
        stripped.stderr
    );

    // Key configuration errors.
    ledger
        .run_with(&["audit", "verify"], &[("FINCORE_AUDIT_KEY", "short")])
        .assert_error(2, "usage_error");
    ledger
        .run_with(
            &["audit", "verify"],
            &[
                ("FINCORE_AUDIT_KEY", KEY),
                ("FINCORE_AUDIT_KEY_FILE", key_file.to_str().unwrap()),
            ],
        )
        .assert_error(2, "usage_error");
    let missing = ledger.path("no.key");
    ledger
        .run_with(
            &["audit", "verify"],
            &[("FINCORE_AUDIT_KEY_FILE", missing.to_str().unwrap())],
        )
        .assert_error(4, "invalid_input");
}
