//! A settlement account's bank identifiers (`account open --iban/--bank-account`,
//! `account update`) and the runs that pick that account's part of a statement file holding
//! several accounts (`fixtures/reconcile/two_accounts*.{camt053.xml,mt940}`), on both backends.

use crate::both_backends;
use crate::support::{fixture, Ledger, Run};
use serde_json::{json, Value};

both_backends! {
    identifiers_are_recorded_updated_and_cleared => identifiers_are_recorded_updated_and_cleared;
    identifiers_that_cannot_be_recorded_change_nothing => identifiers_that_cannot_be_recorded_change_nothing;
    a_two_account_camt_file_reconciles_each_account_in_turn => a_two_account_camt_file_reconciles_each_account_in_turn;
    a_two_account_mt940_file_reconciles_each_account_in_turn => a_two_account_mt940_file_reconciles_each_account_in_turn;
    a_file_without_the_accounts_part_is_refused => a_file_without_the_accounts_part_is_refused;
    an_account_without_identifiers_takes_one_account_files_only => an_account_without_identifiers_takes_one_account_files_only;
}

const IBAN_A: &str = "DE89370400440532013000";
/// Account A's number is its IBAN, as in the other reconciliation tests; B's is not.
const ACCOUNT_A: &str = IBAN_A;
const ACCOUNT_B: &str = "BANKB0001";
const BANK_ACCOUNT_B: &str = "0000202051";
const CLEARING: &str = "CLEARINGEUR";
const OTHER_IBAN: &str = "GB29NWBK60161331926819";

fn open(ledger: &Ledger, number: &str, account_type: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "--format",
        "json",
        "account",
        "open",
        "--holder",
        "Bank",
        "--type",
        account_type,
        "--currency",
        "EUR",
        "--number",
        number,
    ];
    args.extend_from_slice(extra);
    ledger.run(&args)
}

fn update(ledger: &Ledger, number: &str, extra: &[&str]) -> Run {
    let mut args = vec!["--format", "json", "account", "update", number];
    args.extend_from_slice(extra);
    ledger.run(&args)
}

fn ok(run: Run) -> Value {
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.stdout);
    run.json()
}

fn audit_events(ledger: &Ledger, action: &str) -> Vec<Value> {
    let events = ledger.json(&["audit", "list", "--limit", "100000"]);
    events
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["action"] == action)
        .cloned()
        .collect()
}

fn identifiers_are_recorded_updated_and_cleared(ledger: &Ledger) {
    // The paper form is stored in electronic form.
    let opened = ok(open(
        ledger,
        ACCOUNT_A,
        "settlement",
        &["--iban", "de89 3704 0044 0532 0130 00"],
    ));
    assert_eq!(opened["iban"], IBAN_A);
    assert!(opened.get("bank_account").is_none(), "{opened}");
    assert_eq!(
        audit_events(ledger, "account.opened")[0]["details"]["iban"],
        IBAN_A
    );
    // Accounts without identifiers print exactly the keys they printed before.
    let plain = ok(open(ledger, CLEARING, "internal", &[]));
    let keys: Vec<&str> = plain
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "balance",
            "created_at",
            "currency",
            "holder",
            "number",
            "overdraft_limit",
            "status",
            "type",
            "updated_at"
        ]
    );

    let updated = ok(update(
        ledger,
        ACCOUNT_A,
        &["--bank-account", " 37040044/0532013000 "],
    ));
    assert_eq!(updated["updated"], true);
    assert_eq!(updated["iban"], IBAN_A);
    assert_eq!(updated["bank_account"], "37040044/0532013000");
    let events = audit_events(ledger, "account.updated");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["entity"], ACCOUNT_A);
    let mut details = events[0]["details"].clone();
    let rows = details.as_object_mut().unwrap().remove("rows").unwrap();
    assert_eq!(
        rows[0]["table"], "accounts",
        "the account's state after the update"
    );
    assert_eq!(rows[0]["key"], ACCOUNT_A);
    assert_eq!(rows[0]["values"][8], "37040044/0532013000");
    assert_eq!(
        details,
        json!({
            "number": ACCOUNT_A,
            "before": {"iban": IBAN_A},
            "after": {"iban": IBAN_A, "bank_account": "37040044/0532013000"},
        })
    );

    // The same value again writes nothing and says so.
    let before = ledger.snapshot();
    let again = ok(update(
        ledger,
        ACCOUNT_A,
        &["--iban", IBAN_A, "--bank-account", "37040044/0532013000"],
    ));
    assert_eq!(again["updated"], false);
    assert_eq!(ledger.snapshot(), before);
    let table = ledger.run(&["account", "update", ACCOUNT_A, "--iban", IBAN_A]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table
            .stdout
            .contains("already has these identifiers; nothing was written"),
        "{}",
        table.stdout
    );

    // show and list carry them; the show table has them as columns.
    let shown = ledger.json(&["account", "show", ACCOUNT_A]);
    assert_eq!(shown["bank_account"], "37040044/0532013000");
    let listed = ledger.json(&["account", "list", "--type", "settlement"]);
    assert_eq!(listed[0]["iban"], IBAN_A);
    let table = ledger.run(&["account", "show", ACCOUNT_A]);
    for text in ["iban", "bank_account", IBAN_A, "37040044/0532013000"] {
        assert!(table.stdout.contains(text), "{text}: {}", table.stdout);
    }
    let list_table = ledger.run(&["account", "list"]);
    assert!(!list_table.stdout.contains("iban"), "{}", list_table.stdout);

    // Clearing removes the key.
    let cleared = ok(update(ledger, ACCOUNT_A, &["--clear-iban"]));
    assert_eq!(cleared["updated"], true);
    assert!(cleared.get("iban").is_none(), "{cleared}");
    let cleared = ok(update(ledger, ACCOUNT_A, &["--clear-bank-account"]));
    assert!(cleared.get("bank_account").is_none(), "{cleared}");
    let events = audit_events(ledger, "account.updated");
    assert_eq!(events.len(), 3);
    let mut details = events[2]["details"].clone();
    let rows = details.as_object_mut().unwrap().remove("rows").unwrap();
    assert_eq!(
        rows[0]["values"][7],
        serde_json::Value::Null,
        "no IBAN left"
    );
    assert_eq!(
        rows[0]["values"][8],
        serde_json::Value::Null,
        "no bank account left"
    );
    assert_eq!(
        details,
        json!({"number": ACCOUNT_A, "before": {"bank_account": "37040044/0532013000"}, "after": {}})
    );
    // Once cleared, another account may take the IBAN.
    ok(open(ledger, ACCOUNT_B, "settlement", &["--iban", IBAN_A]));
    ledger.assert_verified();
}

fn identifiers_that_cannot_be_recorded_change_nothing(ledger: &Ledger) {
    ok(open(ledger, ACCOUNT_A, "settlement", &["--iban", IBAN_A]));
    ok(open(
        ledger,
        ACCOUNT_B,
        "settlement",
        &["--bank-account", BANK_ACCOUNT_B],
    ));
    ok(open(ledger, CLEARING, "internal", &[]));
    let before = ledger.snapshot();
    let check = |run: Run, exit_code: i32, code: &str, mentions: &[&str]| {
        run.assert_error(exit_code, code);
        for text in mentions {
            assert!(run.stderr.contains(text), "{text}: {}", run.stderr);
        }
        assert_eq!(run.json()["error"]["code"], code);
    };
    // Invalid values: exit 4 naming the flag.
    check(
        open(
            ledger,
            "SETT3",
            "settlement",
            &["--iban", "DE88370400440532013000"],
        ),
        4,
        "invalid_input",
        &["--iban", "mod-97"],
    );
    check(
        update(ledger, ACCOUNT_B, &["--iban", "DE5137040044053201300"]),
        4,
        "invalid_input",
        &["--iban", "length"],
    );
    check(
        update(ledger, ACCOUNT_B, &["--bank-account", &"1".repeat(36)]),
        4,
        "invalid_input",
        &["--bank-account", "35 characters"],
    );
    // Only settlement accounts carry them: exit 3.
    check(
        open(ledger, "CHECK1", "checking", &["--iban", OTHER_IBAN]),
        3,
        "invalid_state",
        &["only settlement accounts"],
    );
    check(
        update(ledger, CLEARING, &["--bank-account", "123"]),
        3,
        "invalid_state",
        &[CLEARING, "only settlement accounts", "internal"],
    );
    // One identifier, one account, whichever column holds it: exit 6.
    check(
        open(ledger, "SETT3", "settlement", &["--iban", IBAN_A]),
        6,
        "account_exists",
        &[IBAN_A, ACCOUNT_A],
    );
    check(
        update(ledger, ACCOUNT_A, &["--bank-account", BANK_ACCOUNT_B]),
        6,
        "account_exists",
        &[BANK_ACCOUNT_B, ACCOUNT_B],
    );
    check(
        update(ledger, ACCOUNT_B, &["--bank-account", IBAN_A]),
        6,
        "account_exists",
        &[IBAN_A, ACCOUNT_A],
    );
    check(
        update(ledger, "NOSUCH1", &["--iban", OTHER_IBAN]),
        5,
        "account_not_found",
        &["NOSUCH1"],
    );
    // No change asked for, or both setting and clearing one: usage errors.
    assert_eq!(update(ledger, ACCOUNT_A, &[]).code, 2);
    assert_eq!(
        update(ledger, ACCOUNT_A, &["--iban", OTHER_IBAN, "--clear-iban"]).code,
        2
    );
    assert_eq!(ledger.snapshot(), before);
    // account import is unchanged: a row for an account with identifiers is still "the same".
    let file = ledger.write(
        "accounts.csv",
        &format!("number,holder,type,currency,overdraft_limit\n{ACCOUNT_A},Bank,settlement,EUR,\n"),
    );
    let imported = ledger.json(&["account", "import", file.to_str().unwrap()]);
    assert_eq!(imported["unchanged"], 1);
    assert_eq!(ledger.json(&["account", "show", ACCOUNT_A])["iban"], IBAN_A);
    // A closed account's identifiers can be cleared (for another account to take), not set.
    ledger.json(&["account", "close", ACCOUNT_A]);
    check(
        update(ledger, ACCOUNT_A, &["--bank-account", "555"]),
        3,
        "account_closed",
        &[ACCOUNT_A, "closed"],
    );
    let cleared = ok(update(ledger, ACCOUNT_A, &["--clear-iban"]));
    assert!(cleared.get("iban").is_none(), "{cleared}");
}

/// Settlement accounts A (IBAN) and B (bank account string) and the movements their
/// statements list, so each account's part reconciles to exit 0 with its balances met:
/// A 10,000.00 + 1,250.00 − 300.00 = 10,950.00; B 500.00 + 400.00 = 900.00.
fn two_banks(ledger: &Ledger, with_inv_1002: bool) {
    ok(open(ledger, ACCOUNT_A, "settlement", &["--iban", IBAN_A]));
    ok(open(
        ledger,
        ACCOUNT_B,
        "settlement",
        &["--bank-account", BANK_ACCOUNT_B],
    ));
    ok(open(ledger, CLEARING, "internal", &[]));
    post(
        ledger,
        ACCOUNT_A,
        CLEARING,
        "10000.00",
        "OPENING-A",
        "2026-11-01",
    );
    post(
        ledger,
        ACCOUNT_A,
        CLEARING,
        "1250.00",
        "INV-1001",
        "2026-11-20",
    );
    if with_inv_1002 {
        post(
            ledger,
            CLEARING,
            ACCOUNT_A,
            "300.00",
            "INV-1002",
            "2026-11-20",
        );
    }
    post(
        ledger,
        ACCOUNT_B,
        CLEARING,
        "500.00",
        "OPENING-B",
        "2026-11-01",
    );
    post(
        ledger,
        ACCOUNT_B,
        CLEARING,
        "400.00",
        "INV-2001",
        "2026-11-20",
    );
}

fn post(ledger: &Ledger, from: &str, to: &str, amount: &str, reference: &str, day: &str) {
    let at = format!("{day}T12:00:00Z");
    ledger.json(&[
        "transfer",
        "post",
        "--from",
        from,
        "--to",
        to,
        "--amount",
        amount,
        "--currency",
        "EUR",
        "--reference",
        reference,
        "--at",
        &at,
    ]);
}

fn reconcile(ledger: &Ledger, account: &str, statement: &str, format: &str) -> Run {
    let path = fixture(&format!("reconcile/{statement}"));
    ledger.run(&[
        "--format",
        format,
        "reconcile",
        "run",
        "--account",
        account,
        "--date",
        "2026-11-20",
        "--statement",
        path.to_str().unwrap(),
    ])
}

/// A run expected to reconcile fully: its JSON.
fn reconciled(ledger: &Ledger, account: &str, statement: &str) -> Value {
    let run = reconcile(ledger, account, statement, "json");
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.stdout);
    run.json()
}

fn skipped(parts: &[(&str, u64)]) -> Value {
    parts
        .iter()
        .map(|(account, lines)| json!({"account": account, "lines": lines}))
        .collect()
}

fn a_two_account_camt_file_reconciles_each_account_in_turn(ledger: &Ledger) {
    two_banks(ledger, true);
    let statement = "two_accounts.camt053.xml";
    let run = reconciled(ledger, ACCOUNT_A, statement);
    assert_eq!(
        (run["statement_lines"].clone(), run["matched"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(run["statement"]["account"], IBAN_A);
    assert_eq!(run["balance"]["statement_opening"], "10000.00");
    assert_eq!(run["balance"]["statement_closing"], "10950.00");
    assert_eq!(run["balance"]["difference"], "0.00");
    assert_eq!(run["skipped_parts"], skipped(&[(BANK_ACCOUNT_B, 1)]));

    let run = reconciled(ledger, ACCOUNT_B, statement);
    assert_eq!(
        (run["statement_lines"].clone(), run["matched"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(run["statement"]["account"], BANK_ACCOUNT_B);
    assert_eq!(run["balance"]["statement_closing"], "900.00");
    assert_eq!(run["balance"]["difference"], "0.00");
    assert_eq!(run["skipped_parts"], skipped(&[(IBAN_A, 2)]));
    // `show` prints the stored run; the skipped parts belong to the run's output only.
    let run_id = run["run_id"].to_string();
    let shown = ledger.json(&["reconcile", "show", &run_id]);
    assert!(shown.get("skipped_parts").is_none(), "{shown}");

    // Tables say it on stderr.
    let table = reconcile(ledger, ACCOUNT_B, statement, "table");
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table.stderr.contains(&format!(
            "skipped 1 part(s) of other accounts: {IBAN_A} (2 lines)"
        )),
        "{}",
        table.stderr
    );
    ledger.assert_verified();
}

fn a_two_account_mt940_file_reconciles_each_account_in_turn(ledger: &Ledger) {
    // INV-1002 is not booked yet: its break names the line in the file (3), not in A's part.
    two_banks(ledger, false);
    let statement = "two_accounts_pages.mt940";
    let run = reconcile(ledger, ACCOUNT_A, statement, "json");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let run = run.json();
    let missing: Vec<(&Value, &Value)> = run["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["kind"] == "missing_internal")
        .map(|item| (&item["reference"], &item["statement_line"]))
        .collect();
    assert_eq!(missing, [(&json!("INV-1002"), &json!(3))]);
    assert_eq!(run["statement_lines"], 2);
    assert_eq!(run["matched"], 1);

    post(
        ledger,
        CLEARING,
        ACCOUNT_A,
        "300.00",
        "INV-1002",
        "2026-11-20",
    );
    let run = reconciled(ledger, ACCOUNT_A, statement);
    assert_eq!(
        (run["statement_lines"].clone(), run["matched"].clone()),
        (json!(2), json!(2))
    );
    // Two pages of A closing on one day: the last page holds the day's balance, met by the
    // ledger (exit 0, no balance_mismatch); B's part is no page of A.
    assert_eq!(run["balance"]["statement_opening"], "11250.00");
    assert_eq!(run["balance"]["statement_closing"], "10950.00");
    assert_eq!(run["balance"]["difference"], "0.00");
    assert_eq!(run["skipped_parts"], skipped(&[("12030000/0000202051", 1)]));

    // B's `:25:` is BLZ/ACCOUNT: the account after the slash is its bank account string.
    let run = reconciled(ledger, ACCOUNT_B, statement);
    assert_eq!(
        (run["statement_lines"].clone(), run["matched"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(run["statement"]["account"], "12030000/0000202051");
    assert_eq!(run["skipped_parts"], skipped(&[(IBAN_A, 1), (IBAN_A, 1)]));
    ledger.assert_verified();
}

fn a_file_without_the_accounts_part_is_refused(ledger: &Ledger) {
    two_banks(ledger, true);
    ok(open(
        ledger,
        "BANKC0001",
        "settlement",
        &["--iban", OTHER_IBAN, "--bank-account", "777"],
    ));
    let runs = ledger.json(&["reconcile", "list"]);
    let before = ledger.snapshot();
    for (statement, holds) in [
        (
            "two_accounts_pages.mt940",
            format!("it holds: {IBAN_A}, 12030000/0000202051"),
        ),
        (
            "two_accounts.camt053.xml",
            format!("it holds: {BANK_ACCOUNT_B}, {IBAN_A}"),
        ),
        // One account in the file, but another one.
        ("statement.mt940", format!("it holds: {IBAN_A}")),
    ] {
        let run = reconcile(ledger, "BANKC0001", statement, "json");
        run.assert_error(4, "invalid_input");
        let expected = format!(
            "has no part for account BANKC0001 (IBAN {OTHER_IBAN}, bank account 777); {holds}"
        );
        assert!(run.stderr.contains(&expected), "{expected}\n{}", run.stderr);
        assert!(run.stderr.contains(statement), "{}", run.stderr);
    }
    assert_eq!(ledger.json(&["reconcile", "list"]), runs);
    assert_eq!(ledger.snapshot(), before);
}

fn an_account_without_identifiers_takes_one_account_files_only(ledger: &Ledger) {
    two_banks(ledger, true);
    ok(update(ledger, ACCOUNT_A, &["--clear-iban"]));
    let runs = ledger.json(&["reconcile", "list"]);
    for statement in ["two_accounts.camt053.xml", "two_accounts_pages.mt940"] {
        let run = reconcile(ledger, ACCOUNT_A, statement, "json");
        run.assert_error(4, "invalid_input");
        for text in [
            "several accounts",
            IBAN_A,
            &format!("fincore account update {ACCOUNT_A} --iban"),
        ] {
            assert!(run.stderr.contains(text), "{text}: {}", run.stderr);
        }
    }
    assert_eq!(ledger.json(&["reconcile", "list"]), runs);
    // A one-account file is taken as it is, whatever account it names: as before.
    let path = fixture("reconcile/statement.mt940");
    let run = ledger.run(&[
        "--format",
        "json",
        "reconcile",
        "run",
        "--account",
        ACCOUNT_B,
        "--date",
        "2026-11-20",
        "--statement",
        path.to_str().unwrap(),
    ]);
    // B's identifiers do not match the file's account: refused. Without them, it reads.
    run.assert_error(4, "invalid_input");
    ok(update(ledger, ACCOUNT_B, &["--clear-bank-account"]));
    let run = ledger.run(&[
        "--format",
        "json",
        "reconcile",
        "run",
        "--account",
        ACCOUNT_B,
        "--date",
        "2026-11-20",
        "--statement",
        path.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let run = run.json();
    assert_eq!(run["statement_lines"], 11);
    assert_eq!(run["statement"]["account"], IBAN_A);
    assert!(run.get("skipped_parts").is_none(), "{run}");
    assert!(!ledger
        .run(&[
            "reconcile",
            "run",
            "--account",
            ACCOUNT_B,
            "--date",
            "2026-11-20",
            "--statement",
            path.to_str().unwrap()
        ])
        .stderr
        .contains("skipped"));
}
