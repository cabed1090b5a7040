//! Risk: every built-in rule exactly at and just past its threshold (posts and imports, the
//! clock set with FINCORE_NOW and --at), each decision's effect on the transfer, rule sets
//! from files and the database, bad rules files, the blacklist, and batch rescoring with
//! stored history and --apply.

use crate::both_backends;
use crate::support::{fixture, Ledger, Run};
use serde_json::Value;

both_backends! {
    large_single_transfer_threshold => large_single_transfer_threshold;
    daily_outgoing_total_threshold => daily_outgoing_total_threshold;
    hourly_velocity_threshold => hourly_velocity_threshold;
    failed_attempts_threshold => failed_attempts_threshold;
    blacklisted_counterparty_blocks => blacklisted_counterparty_blocks;
    decisions_shape_the_transfer => decisions_shape_the_transfer;
    import_assesses_every_row_in_memory => import_assesses_every_row_in_memory;
    rule_sets_from_file_and_database => rule_sets_from_file_and_database;
    rescore_explains_and_stores_history => rescore_explains_and_stores_history;
    rescore_apply_freezes_critical_accounts => rescore_apply_freezes_critical_accounts;
    concurrent_posts_see_each_other => concurrent_posts_see_each_other;
}

/// `transfer post` with `--format json`, not asserting the exit code.
fn post(ledger: &Ledger, from: &str, to: &str, amount: &str, at: &str, key: &str) -> Run {
    ledger.run(&[
        "--format",
        "json",
        "transfer",
        "post",
        "--from",
        from,
        "--to",
        to,
        "--amount",
        amount,
        "--currency",
        "USD",
        "--at",
        at,
        "--key",
        key,
    ])
}

/// Post that must succeed; returns (score, decision).
fn posted(
    ledger: &Ledger,
    from: &str,
    to: &str,
    amount: &str,
    at: &str,
    key: &str,
) -> (u64, String) {
    let run = post(ledger, from, to, amount, at, key);
    assert_eq!(run.code, 0, "post {key} {amount} at {at}: {}", run.stderr);
    let transfer = run.json();
    assert_eq!(transfer["status"], "posted");
    risk_of(&transfer)
}

fn risk_of(transfer: &Value) -> (u64, String) {
    (
        transfer["risk"]["score"].as_u64().expect("score"),
        transfer["risk"]["decision"]
            .as_str()
            .expect("decision")
            .to_string(),
    )
}

fn approve() -> (u64, String) {
    (0, "approve".to_string())
}

/// Settlement, a customer funded with `amount` and an empty receiver.
fn three_accounts(ledger: &Ledger, amount: &str) -> (String, String, String) {
    let (settlement, payer) = ledger.funded("USD", amount);
    let receiver = ledger.open("Receiver", "checking", "USD", &[]);
    (settlement, payer, receiver)
}

fn large_single_transfer_threshold(ledger: &Ledger) {
    let (_, payer, receiver) = three_accounts(ledger, "200000.00");
    // Exactly 50,000: not over. One cent more: +30, medium, review, posted.
    assert_eq!(
        posted(
            ledger,
            &payer,
            &receiver,
            "50000.00",
            "2026-11-20T09:00:00Z",
            "l1"
        ),
        approve()
    );
    assert_eq!(
        posted(
            ledger,
            &payer,
            &receiver,
            "50000.01",
            "2026-11-20T09:00:01Z",
            "l2"
        ),
        (30, "review".to_string())
    );
    assert_eq!(ledger.balance(&receiver), "100000.01");
}

fn daily_outgoing_total_threshold(ledger: &Ledger) {
    let (_, payer, receiver) = three_accounts(ledger, "300000.00");
    // Four times 50,000.00 on 2026-11-19: the fourth brings today's total to exactly 200,000.
    for (index, time) in ["01:00", "02:00", "03:00", "04:00"].iter().enumerate() {
        let at = format!("2026-11-19T{time}:00Z");
        assert_eq!(
            posted(
                ledger,
                &payer,
                &receiver,
                "50000.00",
                &at,
                &format!("d{index}")
            ),
            approve(),
            "total after {index} posts is not over 200,000"
        );
    }
    // 0.01 more the same day: 200,000.01 > 200,000 (+20: low, approve but scored).
    assert_eq!(
        posted(
            ledger,
            &payer,
            &receiver,
            "0.01",
            "2026-11-19T23:59:59Z",
            "d4"
        ),
        (20, "approve".to_string())
    );
    // Midnight UTC starts a new "today".
    assert_eq!(
        posted(
            ledger,
            &payer,
            &receiver,
            "0.01",
            "2026-11-20T00:00:00Z",
            "d5"
        ),
        approve()
    );
}

fn hourly_velocity_threshold(ledger: &Ledger) {
    let (_, payer, receiver) = three_accounts(ledger, "1000.00");
    // Ten outgoing between 10:00 and 10:09: the tenth is "10 in the last hour", not more.
    for minute in 0..10 {
        let at = format!("2026-11-20T10:{minute:02}:00Z");
        assert_eq!(
            posted(
                ledger,
                &payer,
                &receiver,
                "1.00",
                &at,
                &format!("v{minute}")
            ),
            approve(),
            "transfer {} within the hour",
            minute + 1
        );
    }
    // At 11:00:00 the 10:00 transfer is exactly one hour old: outside (9 + this = 10).
    assert_eq!(
        posted(
            ledger,
            &payer,
            &receiver,
            "1.00",
            "2026-11-20T11:00:00Z",
            "v10"
        ),
        approve()
    );
    // At 10:59:59 all ten are inside, plus 11:00 is later (outside): 10 + this = 11 > 10.
    assert_eq!(
        posted(
            ledger,
            &payer,
            &receiver,
            "1.00",
            "2026-11-20T10:59:59Z",
            "v11"
        ),
        (30, "review".to_string())
    );
    // At 11:00:30: 10:01…10:09, 10:59:59, 11:00 and this one = 12.
    assert_eq!(
        posted(
            ledger,
            &payer,
            &receiver,
            "1.00",
            "2026-11-20T11:00:30Z",
            "v12"
        ),
        (30, "review".to_string())
    );
}

fn failed_attempts_threshold(ledger: &Ledger) {
    let (_, payer, receiver) = three_accounts(ledger, "100.00");
    let fail = |at: &str, key: &str| {
        post(ledger, &payer, &receiver, "1000.00", at, key).assert_error(3, "insufficient_funds");
    };
    fail("2026-11-20T12:00:00Z", "f1");
    fail("2026-11-20T12:01:00Z", "f2");
    // Two failed attempts in the last 5 minutes: below 3.
    assert_eq!(
        posted(
            ledger,
            &payer,
            &receiver,
            "1.00",
            "2026-11-20T12:02:00Z",
            "ok1"
        ),
        approve()
    );
    fail("2026-11-20T12:03:00Z", "f3");
    // Three in (11:59, 12:04]: +20.
    assert_eq!(
        posted(
            ledger,
            &payer,
            &receiver,
            "1.00",
            "2026-11-20T12:04:00Z",
            "ok2"
        ),
        (20, "approve".to_string())
    );
    // At 12:05:00 the 12:00:00 attempt is exactly 5 minutes old: outside, 2 remain.
    assert_eq!(
        posted(
            ledger,
            &payer,
            &receiver,
            "1.00",
            "2026-11-20T12:05:00Z",
            "ok3"
        ),
        approve()
    );
}

fn blacklisted_counterparty_blocks(ledger: &Ledger) {
    let (settlement, payer, receiver) = three_accounts(ledger, "500.00");
    let added = ledger.json(&[
        "risk",
        "blacklist",
        "add",
        &receiver,
        "--reason",
        "sanctions hit",
    ]);
    assert_eq!(added["number"], receiver.as_str());
    assert_eq!(added["added"], true);
    // Adding again changes nothing.
    let again = ledger.json(&["risk", "blacklist", "add", &receiver]);
    assert_eq!(again["added"], false);
    assert_eq!(again["reason"], "sanctions hit");
    let listed = ledger.json(&["risk", "blacklist", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);

    let before = ledger.snapshot();
    let run = post(
        ledger,
        &payer,
        &receiver,
        "1.00",
        "2026-11-20T12:00:00Z",
        "to-listed",
    );
    run.assert_error(3, "risk_rejected");
    assert!(
        run.stderr.contains("blacklisted_counterparty (+100)") && run.stderr.contains("block"),
        "reasons in the message: {}",
        run.stderr
    );
    let after = ledger.snapshot();
    assert_eq!(after.balances, before.balances, "nothing moved");
    assert_eq!(
        after.audit_events,
        before.audit_events + 1,
        "the rejection is audited"
    );
    let recorded = ledger.json(&["transfer", "show", "to-listed"]);
    assert_eq!(recorded["status"], "rejected");
    assert_eq!(risk_of(&recorded), (100, "block".to_string()));
    assert_eq!(recorded["risk"]["level"], "critical");
    // A listed sender is blocked too, and so is a deposit to a listed account.
    ledger
        .run(&[
            "transfer",
            "post",
            "--from",
            &receiver,
            "--to",
            &payer,
            "--amount",
            "1.00",
            "--currency",
            "USD",
        ])
        .assert_error(3, "risk_rejected");
    ledger
        .run(&[
            "transfer",
            "deposit",
            "--to",
            &receiver,
            "--amount",
            "1.00",
            "--via",
            &settlement,
        ])
        .assert_error(3, "risk_rejected");
    // Off the list: the same payment goes through.
    let removed = ledger.json(&["risk", "blacklist", "remove", &receiver]);
    assert_eq!(removed["removed"], true);
    ledger
        .run(&["risk", "blacklist", "remove", &receiver])
        .assert_error(5, "not_found");
    assert_eq!(
        posted(
            ledger,
            &payer,
            &receiver,
            "1.00",
            "2026-11-20T12:10:00Z",
            "after-removal"
        ),
        approve()
    );
    let actions: Vec<String> = ledger
        .json(&["audit", "list", "--entity", &receiver])
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["action"].as_str().unwrap().to_string())
        .collect();
    assert!(
        actions.contains(&"risk.blacklist.added".to_string()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"risk.blacklist.removed".to_string()),
        "{actions:?}"
    );
    ledger.assert_verified();
}

fn decisions_shape_the_transfer(ledger: &Ledger) {
    let (_, payer, receiver) = three_accounts(ledger, "200000.00");
    // approve: posted, score 0.
    assert_eq!(
        posted(
            ledger,
            &payer,
            &receiver,
            "10.00",
            "2026-11-20T08:00:00Z",
            "a0"
        ),
        approve()
    );
    // review: posted and flagged.
    let review = post(
        ledger,
        &payer,
        &receiver,
        "60000.00",
        "2026-11-20T08:01:00Z",
        "r0",
    );
    assert_eq!(review.code, 0, "{}", review.stderr);
    let review = review.json();
    assert_eq!(review["status"], "posted");
    assert_eq!(review["risk"]["level"], "medium");
    assert_eq!(risk_of(&review), (30, "review".to_string()));
    // Nine more small ones: ten outgoing so far this hour.
    for index in 1..9 {
        let at = format!("2026-11-20T08:{:02}:00Z", index + 1);
        posted(ledger, &payer, &receiver, "1.00", &at, &format!("a{index}"));
    }
    let balances = ledger.json(&["report", "balances"])["accounts"].clone();
    // reject: large (+30) and the 11th in an hour (+30) = 60, high.
    let reject = post(
        ledger,
        &payer,
        &receiver,
        "50000.01",
        "2026-11-20T08:30:00Z",
        "x1",
    );
    reject.assert_error(3, "risk_rejected");
    assert!(
        reject.stderr.contains("large_single_transfer (+30)")
            && reject.stderr.contains("hourly_outgoing_velocity (+30)")
            && reject.stderr.contains("→ reject"),
        "{}",
        reject.stderr
    );
    assert_eq!(reject.json()["error"]["code"], "risk_rejected");
    let recorded = ledger.json(&["transfer", "show", "x1"]);
    assert_eq!(recorded["status"], "rejected");
    assert_eq!(risk_of(&recorded), (60, "reject".to_string()));
    assert_eq!(recorded["risk"]["level"], "high");
    // The key stays bound to its rejection.
    post(
        ledger,
        &payer,
        &receiver,
        "50000.01",
        "2026-11-20T08:30:00Z",
        "x1",
    )
    .assert_error(3, "risk_rejected");
    assert_eq!(ledger.json(&["report", "balances"])["accounts"], balances);
    // Rejected attempts count as failed attempts: after 3 of them, +20 (30 + 30 + 20 = 80,
    // critical, block).
    post(
        ledger,
        &payer,
        &receiver,
        "50000.01",
        "2026-11-20T08:31:00Z",
        "x2",
    )
    .assert_error(3, "risk_rejected");
    post(
        ledger,
        &payer,
        &receiver,
        "50000.01",
        "2026-11-20T08:32:00Z",
        "x3",
    )
    .assert_error(3, "risk_rejected");
    let block = post(
        ledger,
        &payer,
        &receiver,
        "50000.01",
        "2026-11-20T08:33:00Z",
        "x4",
    );
    block.assert_error(3, "risk_rejected");
    assert!(
        block.stderr.contains("repeated_failed_attempts (+20)"),
        "{}",
        block.stderr
    );
    let blocked = ledger.json(&["transfer", "show", "x4"]);
    assert_eq!(risk_of(&blocked), (80, "block".to_string()));
    assert_eq!(blocked["risk"]["level"], "critical");
    assert_eq!(blocked["status"], "rejected");
    assert_eq!(blocked["error_code"], "risk_rejected");
    let table = ledger.run(&["transfer", "show", "x4"]);
    assert!(table.stdout.contains("risk_rejected"), "{}", table.stdout);
    ledger.assert_verified();
}

fn import_assesses_every_row_in_memory(ledger: &Ledger) {
    let (_, payer, receiver) = three_accounts(ledger, "200000.00");
    let (_, other) = ledger.funded("USD", "100.00");
    let listed = ledger.open("Listed", "checking", "USD", &[]);
    ledger.json(&["risk", "blacklist", "add", &listed]);
    let mut csv = String::from("key,from,to,amount,currency,at,reference,description\n");
    // Rows 1-11: eleven in an hour from the payer (the 11th is flagged).
    for minute in 0..11 {
        csv.push_str(&format!(
            "v{minute},{payer},{receiver},1.00,USD,2026-11-20T10:{minute:02}:00Z,,\n"
        ));
    }
    // Large: exactly 50,000 and one cent more.
    csv.push_str(&format!(
        "l0,{payer},{receiver},50000.00,USD,2026-11-20T13:00:00Z,,\n"
    ));
    csv.push_str(&format!(
        "l1,{payer},{receiver},50000.01,USD,2026-11-20T13:01:00Z,,\n"
    ));
    // Blacklisted receiver: rejected by risk.
    csv.push_str(&format!(
        "b0,{payer},{listed},1.00,USD,2026-11-20T13:02:00Z,,\n"
    ));
    // Three failed attempts in 5 minutes, then a small one (+20).
    for index in 0..3 {
        csv.push_str(&format!(
            "f{index},{other},{receiver},500.00,USD,2026-11-20T14:0{index}:00Z,,\n"
        ));
    }
    csv.push_str(&format!(
        "f3,{other},{receiver},1.00,USD,2026-11-20T14:03:00Z,,\n"
    ));
    let file = ledger.write("risky.csv", &csv);
    let rejects = ledger.path("rejects.csv");
    // Batches of 3 rows: windows must carry across batches exactly as within one.
    let run = ledger.run(&[
        "--format",
        "json",
        "transfer",
        "import",
        file.to_str().unwrap(),
        "--rejects",
        rejects.to_str().unwrap(),
        "--batch-rows",
        "3",
    ]);
    assert_eq!(run.code, 1, "rejected rows: {}", run.stderr);
    let summary = run.json();
    assert_eq!(summary["posted"], 14);
    assert_eq!(summary["rejected"], 4);
    let rejected = std::fs::read_to_string(&rejects).unwrap();
    assert!(
        rejected.contains("risk_rejected") && rejected.contains("blacklisted_counterparty"),
        "{rejected}"
    );
    assert_eq!(
        rejected.matches("insufficient_funds").count(),
        3,
        "{rejected}"
    );
    let risk = |key: &str| risk_of(&ledger.json(&["transfer", "show", key]));
    for minute in 0..10 {
        assert_eq!(risk(&format!("v{minute}")), approve(), "row v{minute}");
    }
    assert_eq!(risk("v10"), (30, "review".to_string()));
    assert_eq!(risk("l0"), approve());
    assert_eq!(risk("l1"), (30, "review".to_string()));
    assert_eq!(risk("b0"), (100, "block".to_string()));
    assert_eq!(risk("f3"), (20, "approve".to_string()));
    // A single post afterwards sees the imported history (11 in the hour already).
    assert_eq!(
        posted(
            ledger,
            &payer,
            &receiver,
            "1.00",
            "2026-11-20T10:30:00Z",
            "after"
        ),
        (30, "review".to_string())
    );
    ledger.assert_verified();
}

fn rule_sets_from_file_and_database(ledger: &Ledger) {
    let (_, payer, receiver) = three_accounts(ledger, "100000.00");
    let strict = fixture("risk/strict.toml");
    let strict = strict.to_str().unwrap();
    let shown = ledger.json(&["risk", "rules", "show"]);
    let builtin_fingerprint = shown["fingerprint"].clone();
    assert_eq!(shown["source"], "builtin");
    assert_eq!(shown["rules"].as_array().unwrap().len(), 5);
    assert_eq!(shown["levels"]["critical"], 80);
    assert_eq!(shown["decisions"]["high"], "reject");
    // --rules FILE applies to this post only: under strict.toml 20,000 ≥ 20,000 is +25 and
    // an account opened less than 7 days ago +15: 40, medium, review.
    let run = ledger.run(&[
        "--format",
        "json",
        "transfer",
        "post",
        "--from",
        &payer,
        "--to",
        &receiver,
        "--amount",
        "20000.00",
        "--currency",
        "USD",
        "--rules",
        strict,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(risk_of(&run.json()), (40, "review".to_string()));
    assert_eq!(
        posted(
            ledger,
            &payer,
            &receiver,
            "20000.00",
            "2026-11-20T12:00:00Z",
            "builtin"
        ),
        approve()
    );
    // Imported: version 1 becomes the active set for everyone.
    let imported = ledger.json(&["risk", "rules", "import", strict]);
    assert_eq!(imported["imported"], true);
    assert_eq!(imported["version"], 1);
    assert_eq!(imported["source"], "database");
    let audit_before = ledger.snapshot().audit_events;
    let again = ledger.json(&["risk", "rules", "import", strict]);
    assert_eq!(again["imported"], false, "the same set again is a no-op");
    assert_eq!(ledger.snapshot().audit_events, audit_before);
    assert_eq!(ledger.json(&["risk", "rules", "show"])["version"], 1);
    assert_eq!(
        posted(
            ledger,
            &payer,
            &receiver,
            "20000.00",
            "2026-11-20T12:01:00Z",
            "strict"
        ),
        (40, "review".to_string())
    );
    // A file given on the command line still wins over the database.
    let builtin = fixture("risk/builtin.toml");
    let shown = ledger.json(&[
        "risk",
        "rules",
        "show",
        "--rules",
        builtin.to_str().unwrap(),
    ]);
    assert_eq!(shown["source"], "file");
    assert_eq!(
        shown["fingerprint"], builtin_fingerprint,
        "builtin.toml is the built-in set"
    );
    let reimported = ledger.json(&["risk", "rules", "import", builtin.to_str().unwrap()]);
    assert_eq!(reimported["version"], 2);
    assert_eq!(
        posted(
            ledger,
            &payer,
            &receiver,
            "20000.00",
            "2026-11-20T12:02:00Z",
            "builtin-again"
        ),
        approve()
    );
    let events = ledger.json(&["audit", "list"]);
    let imports = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["action"] == "risk.rules.imported")
        .count();
    assert_eq!(imports, 2);
}

#[test]
fn bad_rules_files_exit_4_naming_rule_and_field() {
    let ledger = Ledger::sqlite();
    let (_, payer) = ledger.funded("USD", "10.00");
    let receiver = ledger.open("Receiver", "checking", "USD", &[]);
    let cases = [
        (
            "bad_unknown_feature.toml",
            "rule 2 'velocity': field 'feature'",
        ),
        (
            "bad_missing_threshold.toml",
            "rule 1 'large_single_transfer': field 'threshold': missing",
        ),
        (
            "bad_window.toml",
            "rule 1 'velocity_two_hours': field 'window'",
        ),
        (
            "bad_negative_points.toml",
            "rule 1 'trusted_small_amount': field 'points'",
        ),
        (
            "bad_comparison.toml",
            "rule 1 'repeated_failed_attempts': field 'comparison'",
        ),
        (
            "bad_money_threshold.toml",
            "rule 1 'large_single_transfer': field 'threshold'",
        ),
    ];
    let before = ledger.snapshot();
    for (file, expected) in cases {
        let path = fixture(&format!("risk/{file}"));
        let path = path.to_str().unwrap();
        let run = ledger.run(&["--format", "json", "risk", "rules", "import", path]);
        run.assert_error(4, "invalid_input");
        assert!(run.stderr.contains(expected), "{file}: {}", run.stderr);
        assert!(run.stderr.contains(file), "names the file: {}", run.stderr);
        assert!(run.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains(expected));
        ledger
            .run(&[
                "transfer",
                "post",
                "--from",
                &payer,
                "--to",
                &receiver,
                "--amount",
                "1.00",
                "--currency",
                "USD",
                "--rules",
                path,
            ])
            .assert_error(4, "invalid_input");
    }
    let syntax = ledger.write("syntax.toml", "[[rule]\nname = \"x\"\n");
    let run = ledger.run(&["risk", "rules", "import", syntax.to_str().unwrap()]);
    run.assert_error(4, "invalid_input");
    assert!(run.stderr.contains("line 1"), "{}", run.stderr);
    ledger
        .run(&["risk", "rules", "import", "/nonexistent/rules.toml"])
        .assert_error(4, "invalid_input");
    assert_eq!(ledger.snapshot(), before, "nothing written");
    assert_eq!(ledger.json(&["risk", "rules", "show"])["source"], "builtin");
}

/// Every change's factors add up to its score; returns the change of `account`.
fn change_of<'a>(rescore: &'a Value, account: &str) -> &'a Value {
    for change in rescore["changes"].as_array().unwrap() {
        let points: u64 = change["factors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|factor| factor["points"].as_u64().unwrap())
            .sum();
        assert_eq!(
            points,
            change["score"].as_u64().unwrap(),
            "factors add up: {change}"
        );
    }
    rescore["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|change| change["account"] == account)
        .unwrap_or_else(|| panic!("no change for {account}: {rescore}"))
}

fn rules_of(change: &Value) -> Vec<String> {
    change["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|factor| factor["rule"].as_str().unwrap().to_string())
        .collect()
}

fn rescore_explains_and_stores_history(ledger: &Ledger) {
    let (settlement, busy) = ledger.funded("USD", "300000.00");
    let quiet = ledger.open("Quiet", "checking", "USD", &[]);
    // Opened in January with a deposit, then nothing until November: dormant reactivation.
    let dormant = ledger
        .run_with(
            &[
                "--format",
                "json",
                "account",
                "open",
                "--holder",
                "Sleeper",
                "--type",
                "checking",
                "--currency",
                "USD",
                "--initial-deposit",
                "20000.00",
                "--via",
                &settlement,
            ],
            &[("FINCORE_NOW", "2026-01-05T12:00:00Z")],
        )
        .json()["number"]
        .as_str()
        .unwrap()
        .to_string();
    // Eleven at night within an hour (velocity, night activity), one large, the daily total.
    for minute in 0..11 {
        let at = format!("2026-11-18T02:{:02}:00Z", minute * 5);
        posted(ledger, &busy, &quiet, "1.00", &at, &format!("n{minute}"));
    }
    posted(
        ledger,
        &busy,
        &quiet,
        "150000.00",
        "2026-11-19T10:00:00Z",
        "big1",
    );
    posted(
        ledger,
        &busy,
        &quiet,
        "60000.00",
        "2026-11-19T11:00:00Z",
        "big2",
    );
    posted(
        ledger,
        &dormant,
        &quiet,
        "10000.00",
        "2026-11-19T12:00:00Z",
        "wake",
    );
    // Exactly ten in an hour from the quiet account: at the threshold, not past it.
    for minute in 0..10 {
        let at = format!("2026-11-19T15:{minute:02}:00Z");
        posted(ledger, &quiet, &dormant, "1.00", &at, &format!("q{minute}"));
    }
    let rescore = ledger.json(&[
        "risk",
        "rescore",
        "--all",
        "--as-of",
        "2026-11-20T00:00:00Z",
    ]);
    assert_eq!(rescore["as_of"], "2026-11-20T00:00:00Z");
    assert_eq!(rescore["accounts"], 4);
    assert_eq!(rescore["rules"]["source"], "builtin");
    let busy_change = change_of(&rescore, &busy);
    assert_eq!(
        rules_of(busy_change),
        [
            "large_single_transfer",
            "daily_outgoing_total",
            "hourly_outgoing_velocity",
            "night_activity"
        ]
    );
    assert_eq!(busy_change["score"], 90);
    assert_eq!(busy_change["level"], "critical");
    assert_eq!(busy_change["previous"], Value::Null);
    assert_eq!(
        rules_of(change_of(&rescore, &dormant)),
        ["dormant_reactivation"]
    );
    assert!(
        rescore["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["account"] != quiet.as_str()),
        "ten in an hour is not a factor: {rescore}"
    );
    assert!(
        rescore["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["account"] != settlement.as_str()),
        "bank-side accounts are not scored"
    );
    assert_eq!(
        rescore["frozen"],
        serde_json::json!([]),
        "no --apply, no freeze"
    );
    // Stored: `risk show` prints exactly the spec's Assessment JSON.
    let shown = ledger.json(&["risk", "show", &busy]);
    let mut keys: Vec<&str> = shown
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["account", "as_of", "decision", "factors", "level", "score"]
    );
    assert_eq!(shown["score"], 90);
    assert_eq!(shown["factors"][0]["rule"], "large_single_transfer");
    assert!(shown["factors"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("150000.00"));
    let table = ledger.run(&["risk", "show", &busy]);
    assert!(
        table.stdout.contains("night_activity") && table.stdout.contains("30d"),
        "{}",
        table.stdout
    );
    // The same rescore again: nothing changed.
    let again = ledger.json(&["risk", "rescore", "--as-of", "2026-11-20T00:00:00Z"]);
    assert_eq!(again["changed"], 0);
    assert_eq!(again["changes"], serde_json::json!([]));
    // A month later the windows are empty: the busy account drops to low (a change).
    let later = ledger.json(&["risk", "rescore", "--as-of", "2026-12-25T00:00:00Z"]);
    let dropped = change_of(&later, &busy);
    assert_eq!(dropped["score"], 0);
    assert_eq!(dropped["previous"]["score"], 90);
    assert_eq!(dropped["previous"]["level"], "critical");
    let history = ledger.json(&["risk", "show", &busy, "--history"]);
    let scores: Vec<u64> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["score"].as_u64().unwrap())
        .collect();
    assert_eq!(scores, [0, 90, 90], "newest as_of first");
    // One account by name, as of an earlier instant: stored in history, not current.
    let single = ledger.json(&[
        "risk",
        "rescore",
        "--account",
        &busy,
        "--as-of",
        "2026-11-19T10:30:00Z",
    ]);
    assert_eq!(single["accounts"], 1);
    assert_eq!(
        rules_of(change_of(&single, &busy)),
        [
            "large_single_transfer",
            "hourly_outgoing_velocity",
            "night_activity"
        ]
    );
    assert_eq!(
        ledger.json(&["risk", "show", &busy])["score"],
        0,
        "the latest as_of stays current"
    );
    let runs = ledger
        .json(&["audit", "list"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["action"] == "risk.rescored")
        .count();
    assert_eq!(runs, 4, "every run is audited");
    ledger
        .run(&["risk", "show", "4000000000000999"])
        .assert_error(5, "account_not_found");
    let fresh = ledger.open("Fresh", "checking", "USD", &[]);
    ledger
        .run(&["risk", "show", &fresh])
        .assert_error(5, "not_found");
    ledger
        .run(&["risk", "rescore", "--account", "4000000000000999"])
        .assert_error(5, "account_not_found");
    ledger.assert_verified();
}

fn rescore_apply_freezes_critical_accounts(ledger: &Ledger) {
    let (settlement, listed) = ledger.funded("USD", "1000.00");
    let partner = ledger.open("Partner", "checking", "USD", &[]);
    let bystander = ledger.open("Bystander", "checking", "USD", &[]);
    posted(
        ledger,
        &listed,
        &partner,
        "10.00",
        "2026-11-19T12:00:00Z",
        "p1",
    );
    posted(
        ledger,
        &listed,
        &bystander,
        "10.00",
        "2026-11-10T12:00:00Z",
        "old",
    );
    ledger.json(&[
        "risk",
        "blacklist",
        "add",
        &listed,
        "--reason",
        "fraud ring",
    ]);
    // Without --apply: critical, stored, not frozen.
    let dry = ledger.json(&["risk", "rescore", "--as-of", "2026-11-20T00:00:00Z"]);
    assert_eq!(change_of(&dry, &listed)["level"], "critical");
    assert_eq!(change_of(&dry, &partner)["level"], "critical");
    assert_eq!(
        ledger.json(&["account", "show", &partner])["status"],
        "active"
    );
    // The bystander's transfer was 10 days earlier: still within 30 days, so it is flagged too.
    assert_eq!(change_of(&dry, &bystander)["score"], 100);
    let applied = ledger.json(&[
        "risk",
        "rescore",
        "--as-of",
        "2026-11-20T00:00:00Z",
        "--apply",
    ]);
    let mut frozen: Vec<String> = applied["frozen"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    frozen.sort();
    let mut expected = vec![listed.clone(), partner.clone(), bystander.clone()];
    expected.sort();
    assert_eq!(frozen, expected);
    for number in &expected {
        assert_eq!(
            ledger.json(&["account", "show", number])["status"],
            "frozen"
        );
        let events = ledger.json(&["audit", "list", "--entity", number]);
        let freeze = events
            .as_array()
            .unwrap()
            .iter()
            .find(|event| event["action"] == "account.frozen")
            .unwrap_or_else(|| panic!("freeze of {number} is audited: {events}"));
        assert!(
            freeze["details"]["reason"]
                .as_str()
                .unwrap()
                .contains("critical risk"),
            "{freeze}"
        );
    }
    assert_eq!(
        ledger.json(&["account", "show", &settlement])["status"],
        "active"
    );
    // Already frozen accounts are not frozen again.
    let again = ledger.json(&[
        "risk",
        "rescore",
        "--as-of",
        "2026-11-20T00:00:00Z",
        "--apply",
    ]);
    assert_eq!(again["frozen"], serde_json::json!([]));
    post(
        ledger,
        &partner,
        &bystander,
        "1.00",
        "2026-11-20T12:00:00Z",
        "frozen",
    )
    .assert_error(3, "account_frozen");
    ledger.assert_verified();
    assert_eq!(ledger.run(&["audit", "verify"]).code, 0);
}

fn concurrent_posts_see_each_other(ledger: &Ledger) {
    let (_, payer, receiver) = three_accounts(ledger, "1000.00");
    let posts = 14;
    let handles: Vec<_> = (0..posts)
        .map(|index| {
            let (url, payer, receiver) = (ledger.url.clone(), payer.clone(), receiver.clone());
            std::thread::spawn(move || {
                let output = std::process::Command::new(env!("CARGO_BIN_EXE_fincore"))
                    .env("FINCORE_DATABASE_URL", &url)
                    .env("FINCORE_NOW", "2026-11-20T12:00:00Z")
                    .args([
                        "--format",
                        "json",
                        "transfer",
                        "post",
                        "--from",
                        &payer,
                        "--to",
                        &receiver,
                        "--amount",
                        "1.00",
                        "--currency",
                        "USD",
                        "--key",
                        &format!("c{index}"),
                    ])
                    .output()
                    .expect("run fincore");
                assert_eq!(
                    output.status.code(),
                    Some(0),
                    "{}",
                    String::from_utf8_lossy(&output.stderr)
                );
                let transfer: Value = serde_json::from_slice(&output.stdout).unwrap();
                transfer["risk"]["decision"].as_str().unwrap().to_string()
            })
        })
        .collect();
    let decisions: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    // All at the same instant: whatever the order, the 11th and later see 10 before them.
    let reviewed = decisions.iter().filter(|d| *d == "review").count();
    assert_eq!(reviewed, posts - 10, "{decisions:?}");
}

/// Imports apply a batch in parts while earlier parts are written: a key repeated within
/// the batch must still replay (or conflict) whichever part holds its first use.
#[test]
fn import_replays_keys_across_pipelined_parts() {
    let ledger = Ledger::sqlite();
    let (_, payer) = ledger.funded("USD", "100000.00");
    let receiver = ledger.open("Receiver", "checking", "USD", &[]);
    let mut csv = String::from("key,from,to,amount,currency,at,reference,description\n");
    let row = |key: &str, amount: &str, minute: usize| {
        format!(
            "{key},{payer},{receiver},{amount},USD,2026-11-{:02}T{:02}:{:02}:00Z,,\n",
            1 + minute / 1440,
            minute / 60 % 24,
            minute % 60
        )
    };
    for index in 0..2_500 {
        csv.push_str(&row(&format!("k{index}"), "1.00", index * 7));
    }
    // Same key and payload as row 10 (an earlier part): replayed.
    csv.push_str(&row("k10", "1.00", 70));
    // Key of row 1500 with another amount: conflict.
    csv.push_str(&row("k1500", "2.00", 1500 * 7));
    let file = ledger.write("many.csv", &csv);
    let run = ledger.run(&[
        "--format",
        "json",
        "transfer",
        "import",
        file.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let summary = run.json();
    assert_eq!(summary["posted"], 2_500);
    assert_eq!(summary["replayed"], 1);
    assert_eq!(summary["rejected"], 1);
    assert_eq!(ledger.balance(&receiver), "2500.00");
    let ids: Vec<i64> = ledger
        .json(&["transfer", "list", "--limit", "100000"])
        .as_array()
        .unwrap()
        .iter()
        .map(|transfer| transfer["id"].as_i64().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        2_501,
        "ids are unique (funding deposit included)"
    );
    assert_eq!(sorted.last(), Some(&2_501), "ids are consecutive");
    ledger.assert_verified();
    assert_eq!(ledger.run(&["audit", "verify"]).code, 0);
}
