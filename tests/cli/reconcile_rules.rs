//! `reconcile run --rules FILE` and `reconcile resolve --file DECISIONS.csv` on both backends,
//! with exact expected items. The story: a statement of two bank fees, a credit interest line,
//! a matched invoice and one real break (an unbooked wire); `fixtures/reconcile/rules.toml`
//! posts the fees to the fee account and accepts the interest.

use crate::both_backends;
use crate::support::{fixture, Ledger, Run};
use serde_json::{json, Value};

both_backends! {
    rules_post_fees_accept_interest_and_leave_the_real_break => rules_post_fees_accept_interest_and_leave_the_real_break;
    bulk_resolve_is_all_or_nothing => bulk_resolve_is_all_or_nothing;
    every_break_resolved_by_rule_exits_0 => every_break_resolved_by_rule_exits_0;
    bad_rule_files_store_nothing => bad_rule_files_store_nothing;
    refused_rule_postings_store_nothing => refused_rule_postings_store_nothing;
    rule_postings_settle_the_closing_balance => rule_postings_settle_the_closing_balance;
}

const SETTLEMENT: &str = "DE89370400440532013000";
const CLEARING: &str = "CLEARINGEUR";
const FEES: &str = "FEESEUR";
const SUSPENSE: &str = "SUSPENSEEUR";
/// Closed by the tests that need a refused posting (adjustments may reach a frozen account,
/// as operator corrections, but never a closed one).
const OLD: &str = "OLDFEESEUR";
const DATE: &str = "2026-11-20";

/// Accounts, and one booked invoice payment (100.00 in).
fn ledger_with_invoice(ledger: &Ledger) {
    let accounts = ledger.write(
        "accounts.csv",
        &format!(
            "number,holder,type,currency,overdraft_limit\n\
             {SETTLEMENT},Bank EUR,settlement,EUR,\n\
             {CLEARING},Clearing EUR,internal,EUR,\n\
             {FEES},Bank fees EUR,internal,EUR,\n\
             {SUSPENSE},Suspense EUR,internal,EUR,\n\
             {OLD},Old fees EUR,internal,EUR,\n"
        ),
    );
    ledger.json(&["account", "import", accounts.to_str().unwrap()]);
    let movements = ledger.write(
        "movements.csv",
        &format!(
            "key,from,to,amount,currency,at,reference,description\n\
             inv1,{SETTLEMENT},{CLEARING},100.00,EUR,{DATE}T12:00:00Z,INV-1,\n"
        ),
    );
    let summary = ledger.json(&["transfer", "import", movements.to_str().unwrap()]);
    assert_eq!(summary["rejected"], 0, "{summary}");
}

/// Lines: (reference, amount, counterparty, description).
fn statement(ledger: &Ledger, name: &str, lines: &[(&str, &str, &str, &str)]) -> String {
    let mut text = String::from("date,reference,amount,currency,counterparty,description\n");
    for (reference, amount, counterparty, description) in lines {
        text.push_str(&format!(
            "{DATE},{reference},{amount},EUR,{counterparty},{description}\n"
        ));
    }
    ledger.write(name, &text).to_str().unwrap().to_string()
}

/// The story's statement: lines 2 and 3 are fees, 4 interest, 5 the real break.
fn story_statement(ledger: &Ledger) -> String {
    statement(
        ledger,
        "statement.csv",
        &[
            ("INV-1", "100.00", "Acme GmbH", "Invoice 1"),
            ("FEE-CARD-11", "-2.50", "", "Card fee November"),
            ("FEE-ACCT-11", "-7.00", "", "Account maintenance fee"),
            ("INT-2026-11", "0.37", "", "Credit interest November"),
            ("WIRE-77", "250.00", "Omega Ltd", "Payment"),
        ],
    )
}

fn rules_fixture() -> String {
    fixture("reconcile/rules.toml")
        .to_str()
        .unwrap()
        .to_string()
}

fn reconcile(ledger: &Ledger, statement: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "--format",
        "json",
        "reconcile",
        "run",
        "--account",
        SETTLEMENT,
        "--date",
        DATE,
        "--statement",
        statement,
    ];
    args.extend_from_slice(extra);
    ledger.run(&args)
}

fn run_list(ledger: &Ledger) -> Value {
    ledger.json(&["reconcile", "list"])
}

/// Each item as (kind, reference, difference, resolution status, note), in item order.
fn item_outcomes(document: &Value) -> Vec<(String, String, String, String, String)> {
    document["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let text = |value: &Value| value.as_str().unwrap_or("").to_string();
            (
                text(&item["kind"]),
                text(&item["reference"]),
                text(&item["difference"]),
                text(&item["resolution"]["status"]),
                text(&item["resolution"]["note"]),
            )
        })
        .collect()
}

fn outcome(
    kind: &str,
    reference: &str,
    difference: &str,
    status: &str,
    note: &str,
) -> (String, String, String, String, String) {
    (
        kind.to_string(),
        reference.to_string(),
        difference.to_string(),
        status.to_string(),
        note.to_string(),
    )
}

fn item<'a>(document: &'a Value, reference: &str) -> &'a Value {
    document["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["reference"] == reference)
        .unwrap_or_else(|| panic!("no item {reference}: {document}"))
}

fn item_id(document: &Value, reference: &str) -> i64 {
    item(document, reference)["id"].as_i64().unwrap()
}

/// The first run of the story, with the fixture rules: exit 1, the wire left open.
fn first_run(ledger: &Ledger) -> Value {
    ledger_with_invoice(ledger);
    let file = story_statement(ledger);
    let run = reconcile(ledger, &file, &["--rules", &rules_fixture()]);
    assert_eq!(
        run.code, 1,
        "the wire is open:\n{}\n{}",
        run.stderr, run.stdout
    );
    run.json()
}

fn rules_post_fees_accept_interest_and_leave_the_real_break(ledger: &Ledger) {
    let document = first_run(ledger);
    assert_eq!(document["matched"], 1);
    assert_eq!(document["breaks"]["missing_internal"], 4);
    assert_eq!(document["unresolved"], 1);
    assert_eq!(
        item_outcomes(&document),
        [
            outcome(
                "missing_internal",
                "FEE-ACCT-11",
                "-7.00",
                "posted",
                "rule bank_fees: bank fee"
            ),
            outcome(
                "missing_internal",
                "FEE-CARD-11",
                "-2.50",
                "posted",
                "rule bank_fees: bank fee"
            ),
            outcome(
                "missing_internal",
                "INT-2026-11",
                "0.37",
                "accepted",
                "rule credit_interest: interest booked monthly by treasury"
            ),
            outcome("missing_internal", "WIRE-77", "250.00", "", ""),
        ]
    );
    let (acct, card, interest) = (
        item_id(&document, "FEE-ACCT-11"),
        item_id(&document, "FEE-CARD-11"),
        item_id(&document, "INT-2026-11"),
    );
    assert_eq!(
        document["rules"],
        json!([
            {"name": "bank_fees", "items": [acct, card], "amount": "-9.50", "currency": "EUR"},
            {"name": "credit_interest", "items": [interest], "amount": "0.37", "currency": "EUR"},
        ])
    );
    // Each fee is one adjustment of exactly its amount, from the fee account to the bank.
    for (reference, amount) in [("FEE-ACCT-11", "7.00"), ("FEE-CARD-11", "2.50")] {
        let resolution = &item(&document, reference)["resolution"];
        assert_eq!(resolution["by"], "tester");
        assert_eq!(resolution["resolved_in_item"], Value::Null);
        let transfer = ledger.json(&["transfer", "show", &resolution["transfer_id"].to_string()]);
        assert!(
            transfer["description"]
                .as_str()
                .unwrap()
                .starts_with("reconciliation item "),
            "{transfer}"
        );
        assert_eq!(transfer["from"], FEES);
        assert_eq!(transfer["to"], SETTLEMENT);
        assert_eq!(transfer["amount"], amount);
        assert_eq!(transfer["reference"], reference);
    }
    assert_eq!(
        item(&document, "INT-2026-11")["resolution"]["transfer_id"],
        Value::Null
    );
    assert_eq!(ledger.balance(SETTLEMENT), "90.50");
    assert_eq!(ledger.balance(FEES), "-9.50");
    assert_eq!(ledger.balance(SUSPENSE), "0.00");

    // One audited resolution per item, naming its rule; the run's event first.
    let events = ledger.json(&["audit", "list", "--limit", "100000"]);
    let events = events.as_array().unwrap();
    let resolved: Vec<(String, String)> = events
        .iter()
        .filter(|event| event["action"] == "reconcile.resolved")
        .map(|event| {
            (
                event["details"]["reference"].as_str().unwrap().to_string(),
                event["details"]["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        resolved,
        [
            ("FEE-ACCT-11".to_string(), "bank_fees".to_string()),
            ("FEE-CARD-11".to_string(), "bank_fees".to_string()),
            ("INT-2026-11".to_string(), "credit_interest".to_string()),
        ]
    );
    // `show` gives the same items and resolutions (without the per-rule summary).
    let shown = ledger.json(&["reconcile", "show", &document["run_id"].to_string()]);
    assert_eq!(shown["items"], document["items"]);
    assert_eq!(shown.get("rules"), None);

    // A table: one line per rule.
    let table = ledger.run(&[
        "reconcile",
        "run",
        "--account",
        SETTLEMENT,
        "--date",
        DATE,
        "--statement",
        &story_statement(ledger),
        "--rules",
        &rules_fixture(),
    ]);
    assert_eq!(table.code, 1, "{}", table.stderr);
    // The re-run carried every resolution: the rules resolved nothing new.
    assert!(table.stdout.contains("\nrules\n"), "{}", table.stdout);
    assert!(!table.stdout.contains("bank_fees"), "{}", table.stdout);
    ledger.assert_verified();

    // A run without --rules keeps the JSON of before: no "rules" key.
    let plain = reconcile(ledger, &story_statement(ledger), &[]);
    assert_eq!(plain.code, 1);
    assert_eq!(plain.json().get("rules"), None);
    assert_eq!(ledger.balance(FEES), "-9.50", "no fee posted twice");
}

fn every_break_resolved_by_rule_exits_0(ledger: &Ledger) {
    ledger_with_invoice(ledger);
    let file = statement(
        ledger,
        "fees_only.csv",
        &[
            ("INV-1", "100.00", "Acme GmbH", "Invoice 1"),
            ("FEE-CARD-11", "-2.50", "", "Card fee November"),
        ],
    );
    let run = reconcile(ledger, &file, &["--rules", &rules_fixture()]);
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.stdout);
    let document = run.json();
    assert_eq!(document["unresolved"], 0);
    assert_eq!(document["breaks"]["missing_internal"], 1);
    assert_eq!(
        item_outcomes(&document),
        [outcome(
            "missing_internal",
            "FEE-CARD-11",
            "-2.50",
            "posted",
            "rule bank_fees: bank fee"
        )]
    );
    // Table: the rule's line and the note.
    let table = ledger.run(&[
        "reconcile",
        "run",
        "--account",
        SETTLEMENT,
        "--date",
        DATE,
        "--statement",
        &file,
    ]);
    assert_eq!(table.code, 0, "carried over: {}", table.stderr);
    assert!(
        table
            .stdout
            .contains("fully reconciled: all 1 breaks are resolved"),
        "{}",
        table.stdout
    );
    let with_rules = ledger.run(&[
        "reconcile",
        "run",
        "--account",
        SETTLEMENT,
        "--date",
        DATE,
        "--statement",
        &file,
        "--rules",
        &rules_fixture(),
    ]);
    assert_eq!(with_rules.code, 0);
    assert_eq!(ledger.balance(FEES), "-2.50");
    // Interest outside the rule's range (above 10.00) is left open: exit 1.
    let large = statement(
        ledger,
        "large_interest.csv",
        &[
            ("INV-1", "100.00", "Acme GmbH", "Invoice 1"),
            ("INT-2026-12", "10.01", "", "Credit interest December"),
        ],
    );
    let run = reconcile(ledger, &large, &["--rules", &rules_fixture()]);
    assert_eq!(run.code, 1);
    let document = run.json();
    assert_eq!(
        item_outcomes(&document),
        [outcome("missing_internal", "INT-2026-12", "10.01", "", "")]
    );
    assert_eq!(document["rules"], json!([]));
}

fn decisions(ledger: &Ledger, name: &str, rows: &str) -> String {
    ledger
        .write(name, &format!("item_id,decision,account,note\n{rows}"))
        .to_str()
        .unwrap()
        .to_string()
}

fn resolve_file(ledger: &Ledger, file: &str) -> Run {
    ledger.run(&["--format", "json", "reconcile", "resolve", "--file", file])
}

fn bulk_resolve_is_all_or_nothing(ledger: &Ledger) {
    let first = first_run(ledger);
    let wire = item_id(&first, "WIRE-77");
    let fee = item_id(&first, "FEE-CARD-11");
    let before = ledger.snapshot();

    // Every bad row refuses the whole file, naming its line and field, with its own code.
    let refusals: Vec<(String, i32, &str, String)> = vec![
        (
            "99999,accept,,gone\n".to_string(),
            5,
            "not_found",
            "line 3: field 'item_id': reconciliation item 99999 does not exist".to_string(),
        ),
        (
            format!("{fee},accept,,again\n"),
            3,
            "invalid_state",
            format!("line 3: field 'item_id': item {fee} is already resolved"),
        ),
        (
            "x,accept,,n\n".to_string(),
            4,
            "invalid_input",
            "line 3: field 'item_id': 'x' is not an item id".to_string(),
        ),
        (
            format!("{wire},reject,,n\n"),
            4,
            "invalid_input",
            "line 3: field 'decision': 'reject' is not 'post' or 'accept'".to_string(),
        ),
        (
            format!("{wire},accept,, \n"),
            4,
            "invalid_input",
            "line 3: field 'note': required".to_string(),
        ),
        (
            format!("{wire},post,,n\n"),
            4,
            "invalid_input",
            "line 3: field 'account': required for decision 'post'".to_string(),
        ),
        (
            format!("{wire},accept,{SUSPENSE},n\n"),
            4,
            "invalid_input",
            "line 3: field 'account': must be empty".to_string(),
        ),
        (
            format!("{wire},accept,,n,extra\n"),
            4,
            "invalid_input",
            "line 3: 5 fields, but the header has 4".to_string(),
        ),
    ];
    for (index, (bad_row, exit, code, message)) in refusals.iter().enumerate() {
        // A good row before the bad one, and one after: neither is written.
        let file = decisions(
            ledger,
            &format!("bad{index}.csv"),
            &format!("{wire},accept,,looks fine\n{bad_row}{wire},accept,,never read\n"),
        );
        let run = resolve_file(ledger, &file);
        run.assert_error(*exit, code);
        assert!(
            run.stderr.contains(&format!("{file}: {message}")),
            "{message}:\n{}",
            run.stderr
        );
        assert_eq!(ledger.snapshot(), before, "{message}: nothing written");
    }
    // The same item twice: the second row finds it resolved.
    let twice = decisions(
        ledger,
        "twice.csv",
        &format!("{wire},accept,,one\n{wire},accept,,two\n"),
    );
    resolve_file(ledger, &twice).assert_error(3, "invalid_state");
    // Postings the ledger refuses (the only open item is the wire: the bad row comes first).
    ledger.json(&["account", "close", OLD]);
    let before = ledger.snapshot();
    for (account, exit, code) in [
        (OLD, 3, "account_closed"),
        ("NOPE0001", 5, "account_not_found"),
        (SETTLEMENT, 3, "accounts_must_be_different"),
    ] {
        let file = decisions(
            ledger,
            &format!("refused-{account}.csv"),
            &format!("{wire},post,{account},n\n{wire},accept,,never read\n"),
        );
        let run = resolve_file(ledger, &file);
        run.assert_error(exit, code);
        assert!(
            run.stderr
                .contains(&format!("{file}: line 2: field 'account': ")),
            "{}",
            run.stderr
        );
        assert_eq!(ledger.snapshot(), before, "{account}");
    }
    // Whole-file faults: a missing column, no rows, a missing file.
    let no_note = ledger.write(
        "no_note.csv",
        &format!("item_id,decision,account\n{wire},accept,\n"),
    );
    let run = resolve_file(ledger, no_note.to_str().unwrap());
    run.assert_error(4, "invalid_input");
    assert!(
        run.stderr.contains("header: missing column 'note'"),
        "{}",
        run.stderr
    );
    resolve_file(ledger, &decisions(ledger, "empty.csv", "")).assert_error(4, "invalid_input");
    resolve_file(ledger, "no-such-file.csv").assert_error(4, "invalid_input");
    assert_eq!(run_list(ledger).as_array().unwrap()[0]["unresolved"], 1);

    // The good file: the wire was a customer deposit we had not booked yet.
    let good = decisions(
        ledger,
        "decisions.csv",
        &format!("{wire},post,{SUSPENSE},\"unbooked deposit, Omega Ltd\"\n"),
    );
    let run = resolve_file(ledger, &good);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let resolved = run.json();
    let resolved = resolved.as_array().unwrap();
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0]["id"], wire);
    assert_eq!(resolved[0]["run_id"], first["run_id"]);
    assert_eq!(resolved[0]["resolution"]["status"], "posted");
    assert_eq!(
        resolved[0]["resolution"]["note"],
        "unbooked deposit, Omega Ltd"
    );
    assert_eq!(resolved[0]["transfer"]["from"], SETTLEMENT);
    assert_eq!(resolved[0]["transfer"]["to"], SUSPENSE);
    assert_eq!(resolved[0]["transfer"]["amount"], "250.00");
    assert_eq!(ledger.balance(SUSPENSE), "250.00");
    assert_eq!(ledger.balance(SETTLEMENT), "340.50");
    // The hand resolution's audit event names no rule.
    let events = ledger.json(&["audit", "list", "--limit", "100000"]);
    let last = events
        .as_array()
        .unwrap()
        .iter()
        .rfind(|event| event["action"] == "reconcile.resolved")
        .unwrap()
        .clone();
    assert_eq!(last["details"]["item_id"], wire);
    assert_eq!(last["details"].get("rule"), None);

    // A re-run: every break comes back resolved (carried over), exit 0, no money moves.
    let run = reconcile(
        ledger,
        &story_statement(ledger),
        &["--rules", &rules_fixture()],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.stdout);
    let second = run.json();
    assert_eq!(second["supersedes"], first["run_id"]);
    assert_eq!(second["unresolved"], 0);
    assert_eq!(second["rules"], json!([]));
    assert_eq!(
        item_outcomes(&second),
        [
            outcome(
                "missing_internal",
                "FEE-ACCT-11",
                "-7.00",
                "posted",
                "rule bank_fees: bank fee"
            ),
            outcome(
                "missing_internal",
                "FEE-CARD-11",
                "-2.50",
                "posted",
                "rule bank_fees: bank fee"
            ),
            outcome(
                "missing_internal",
                "INT-2026-11",
                "0.37",
                "accepted",
                "rule credit_interest: interest booked monthly by treasury"
            ),
            outcome(
                "missing_internal",
                "WIRE-77",
                "250.00",
                "posted",
                "unbooked deposit, Omega Ltd"
            ),
        ]
    );
    for reference in ["FEE-ACCT-11", "FEE-CARD-11", "INT-2026-11", "WIRE-77"] {
        assert_eq!(
            item(&second, reference)["resolution"]["resolved_in_item"],
            item_id(&first, reference),
            "{reference}"
        );
    }
    assert_eq!(ledger.balance(FEES), "-9.50");
    assert_eq!(ledger.balance(SETTLEMENT), "340.50");
    // Items of the superseded run can no longer be resolved in bulk either.
    let stale = decisions(
        ledger,
        "stale.csv",
        &format!("{},accept,,n\n", item_id(&first, "WIRE-77")),
    );
    resolve_file(ledger, &stale).assert_error(3, "invalid_state");
    // Without --rules too: every break is resolved, exit 0.
    let run3 = reconcile(ledger, &story_statement(ledger), &[]);
    assert_eq!(run3.code, 0);
    ledger.assert_verified();
}

fn bad_rule_files_store_nothing(ledger: &Ledger) {
    ledger_with_invoice(ledger);
    let file = story_statement(ledger);
    let before = ledger.snapshot();
    let cases: [(&str, &str, &str); 9] = [
        ("[[rule]]\nname = \"r\"\nreference = \"x\"\naccept = true\ncolour = \"red\"\n", "invalid_input", "rule 1 'r': field 'colour': unknown field"),
        ("[[rule]]\nname = \"r\"\nreference = \"FEE-(\"\naccept = true\n", "invalid_input", "rule 1 'r': field 'reference': 'FEE-(' is not a valid pattern"),
        ("[[rule]]\nname = \"r\"\naccept = true\n", "invalid_input", "rule 1 'r': no condition"),
        ("[[rule]]\nname = \"r\"\nreference = \"x\"\naccept = true\npost_to = \"FEESEUR\"\n", "invalid_input", "rule 1 'r': field 'accept': give exactly one action"),
        ("[[rule]]\nname = \"r\"\nreference = \"x\"\n", "invalid_input", "rule 1 'r': field 'post_to': no action"),
        ("[[rule]]\nname = \"r\"\namount_min = \"-1.00\"\namount_max = \"-2.00\"\naccept = true\n", "invalid_input", "rule 1 'r': field 'amount_min': -1.00 is greater than amount_max -2.00"),
        ("[[rule]]\nname = \"ok\"\nreference = \"x\"\naccept = true\n[[rule]]\nname = \"r\"\nreference = \"y\"\nkinds = [\"fee\"]\naccept = true\n", "invalid_input", "rule 2 'r': field 'kinds': 'fee' is not a break kind"),
        ("[[rule]\n", "invalid_input", "rules file is not valid TOML: line 1"),
        // Only the account's currency says this bound is too fine for EUR.
        ("[[rule]]\nname = \"r\"\namount_max = \"-0.001\"\naccept = true\n", "amount_precision_exceeded", "rule 1 'r': field 'amount_max': "),
    ];
    for (index, (text, code, message)) in cases.iter().enumerate() {
        let rules = ledger.write(&format!("rules{index}.toml"), text);
        let run = reconcile(ledger, &file, &["--rules", rules.to_str().unwrap()]);
        run.assert_error(4, code);
        assert!(run.stderr.contains(message), "{message}:\n{}", run.stderr);
        assert_eq!(ledger.snapshot(), before, "{message}");
    }
    reconcile(ledger, &file, &["--rules", "no-such-rules.toml"]).assert_error(4, "invalid_input");
    assert_eq!(run_list(ledger), json!([]), "no run stored");
}

fn refused_rule_postings_store_nothing(ledger: &Ledger) {
    ledger_with_invoice(ledger);
    let file = story_statement(ledger);
    // The fee account of the rule is closed: the run fails naming the rule and the item.
    ledger.json(&["account", "close", OLD]);
    let before = ledger.snapshot();
    for (account, exit, code) in [
        (OLD, 3, "account_closed"),
        ("NOPE0001", 5, "account_not_found"),
    ] {
        let rules = ledger.write(
            &format!("rules-{account}.toml"),
            &format!(
                "[[rule]]\nname = \"interest\"\ndescription = \"(?i)interest\"\naccept = true\n\
                 [[rule]]\nname = \"fees\"\nreference = \"^FEE-\"\npost_to = \"{account}\"\n"
            ),
        );
        let run = reconcile(ledger, &file, &["--rules", rules.to_str().unwrap()]);
        run.assert_error(exit, code);
        assert!(
            run.stderr.contains("rule 2 'fees' on item ") && run.stderr.contains("(FEE-ACCT-11)"),
            "{}",
            run.stderr
        );
        // Neither the run, nor the interest accepted before the refusal, nor any posting.
        assert_eq!(ledger.snapshot(), before, "{account}");
        assert_eq!(run_list(ledger), json!([]), "no run stored");
    }
    // A frozen account takes the adjustment, as `resolve --post-to` posts it (an operator
    // correction).
    // As a table: one line per rule, with its count, sum and items.
    ledger.json(&["account", "freeze", FEES, "--reason", "audit"]);
    let table = ledger.run(&[
        "reconcile",
        "run",
        "--account",
        SETTLEMENT,
        "--date",
        DATE,
        "--statement",
        &file,
        "--rules",
        &rules_fixture(),
    ]);
    assert_eq!(table.code, 1, "{}", table.stderr);
    let row = |name: &str| {
        let line = table
            .stdout
            .lines()
            .find(|line| line.contains(name))
            .unwrap_or_else(|| panic!("no {name} line:\n{}", table.stdout));
        line.split(['│', '┆'])
            .map(str::trim)
            .filter(|cell| !cell.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let run_id = ledger.json(&["reconcile", "list"])[0]["run_id"]
        .as_i64()
        .unwrap();
    let shown = ledger.json(&["reconcile", "show", &run_id.to_string()]);
    let (acct, card, interest) = (
        item_id(&shown, "FEE-ACCT-11"),
        item_id(&shown, "FEE-CARD-11"),
        item_id(&shown, "INT-2026-11"),
    );
    assert_eq!(
        row("bank_fees"),
        ["bank_fees", "2", "-9.50", "EUR", &format!("{acct} {card}")]
    );
    assert_eq!(
        row("credit_interest"),
        ["credit_interest", "1", "0.37", "EUR", &interest.to_string()]
    );
    assert_eq!(ledger.balance(FEES), "-9.50");
}

fn rule_postings_settle_the_closing_balance(ledger: &Ledger) {
    ledger_with_invoice(ledger);
    // The bank's closing balance is short of ours by the fee it charged: the fee rule's
    // posting explains the whole balance difference, so that break is accepted too.
    let file = ledger.write(
        "fee.mt940",
        ":20:STMT1\n:25:DE89370400440532013000\n:28C:1/1\n:60F:C261119EUR0,00\n\
         :61:2611201120C100,00NTRFINV-1\n:86:Invoice 1\n\
         :61:2611201120D2,50NCHGFEE-CARD-11\n:86:Card fee November\n\
         :62F:C261120EUR97,50\n-\n",
    );
    let file = file.to_str().unwrap();
    let run = reconcile(ledger, file, &["--rules", &rules_fixture()]);
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.stdout);
    let document = run.json();
    assert_eq!(
        item_outcomes(&document),
        [
            outcome(
                "missing_internal",
                "FEE-CARD-11",
                "-2.50",
                "posted",
                "rule bank_fees: bank fee"
            ),
            outcome(
                "balance_mismatch",
                "closing balance 2026-11-20",
                "-2.50",
                "accepted",
                "the closing balance agrees after the postings of rule bank_fees"
            ),
        ]
    );
    assert_eq!(ledger.balance(SETTLEMENT), "97.50");
    // A re-run sees the posting: no balance difference any more, the fee carried over.
    let again = reconcile(ledger, file, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        item_outcomes(&again.json()),
        [outcome(
            "missing_internal",
            "FEE-CARD-11",
            "-2.50",
            "posted",
            "rule bank_fees: bank fee"
        )]
    );

    // The next day: a fee and a wire we did not book. The fee explains only part of the
    // difference, so the balance break stays open (with the figures taken before the posting).
    let next = ledger.write(
        "wire.mt940",
        ":20:STMT2\n:25:DE89370400440532013000\n:28C:2/1\n:60F:C261120EUR97,50\n\
         :61:2611211121D7,00NCHGFEE-ACCT-11\n:86:Account maintenance fee\n\
         :61:2611211121C250,00NTRFWIRE-77\n:86:Payment\n\
         :62F:C261121EUR340,50\n-\n",
    );
    let next = next.to_str().unwrap();
    let run = ledger.run(&[
        "--format",
        "json",
        "reconcile",
        "run",
        "--account",
        SETTLEMENT,
        "--statement",
        next,
        "--rules",
        &rules_fixture(),
    ]);
    assert_eq!(run.code, 1, "{}\n{}", run.stderr, run.stdout);
    assert_eq!(
        item_outcomes(&run.json()),
        [
            outcome(
                "missing_internal",
                "FEE-ACCT-11",
                "-7.00",
                "posted",
                "rule bank_fees: bank fee"
            ),
            outcome("missing_internal", "WIRE-77", "250.00", "", ""),
            outcome(
                "balance_mismatch",
                "closing balance 2026-11-21",
                "243.00",
                "",
                ""
            ),
        ]
    );
    assert_eq!(ledger.balance(SETTLEMENT), "90.50");
}
