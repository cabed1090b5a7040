//! `reconcile run | list | show | resolve` on both backends. The ledger is built from
//! `fixtures/reconcile/internal.csv` by importing each movement as a transfer on the settlement
//! account of its currency (see `fixtures/reconcile/README.md` for the statement's story).

use crate::both_backends;
use crate::support::{fixture, Ledger, Run};
use serde_json::Value;
use std::collections::BTreeMap;

both_backends! {
    every_format_gives_the_same_result => every_format_gives_the_same_result;
    every_break_kind_with_its_amounts => every_break_kind_with_its_amounts;
    amount_tolerance_boundaries => amount_tolerance_boundaries;
    date_window_boundaries => date_window_boundaries;
    ambiguity_leaves_both_sides_open => ambiguity_leaves_both_sides_open;
    rerun_supersedes_and_gives_the_same_result => rerun_supersedes_and_gives_the_same_result;
    resolve_posts_or_accepts_once => resolve_posts_or_accepts_once;
    exit_codes => exit_codes;
    malformed_statements_store_nothing => malformed_statements_store_nothing;
}

pub(crate) const EUR_SETTLEMENT: &str = "DE89370400440532013000";
const EUR_CLEARING: &str = "CLEARINGEUR";
const USD_SETTLEMENT: &str = "US0000000000000001";
const USD_CLEARING: &str = "CLEARINGUSD";
const SUSPENSE: &str = "SUSPENSEEUR";
const CHECKING: &str = "CHECKINGEUR";
const DATE: &str = "2026-11-20";

/// The fixture options: tolerance 0.02, window 2 days.
const FIXTURE_OPTIONS: [&str; 4] = ["--amount-tolerance", "0.02", "--date-window", "2"];

pub(crate) fn accounts(ledger: &Ledger) {
    let file = ledger.write(
        "accounts.csv",
        &format!(
            "number,holder,type,currency,overdraft_limit\n\
             {EUR_SETTLEMENT},Bank EUR,settlement,EUR,\n\
             {EUR_CLEARING},Clearing EUR,internal,EUR,\n\
             {USD_SETTLEMENT},Bank USD,settlement,USD,\n\
             {USD_CLEARING},Clearing USD,internal,USD,\n\
             {SUSPENSE},Suspense EUR,internal,EUR,\n\
             {CHECKING},Customer EUR,checking,EUR,\n"
        ),
    );
    ledger.json(&["account", "import", file.to_str().unwrap()]);
}

/// Import movements `(key, date, reference, signed amount, currency)`: + debits the settlement
/// account of the currency (money in), − credits it. Booked at noon UTC.
pub(crate) fn post_movements(
    ledger: &Ledger,
    movements: &[(String, String, String, String, String)],
) {
    let mut text = String::from("key,from,to,amount,currency,at,reference,description\n");
    for (key, date, reference, amount, currency) in movements {
        let (settlement, clearing) = if currency == "USD" {
            (USD_SETTLEMENT, USD_CLEARING)
        } else {
            (EUR_SETTLEMENT, EUR_CLEARING)
        };
        let (from, to, amount) = match amount.strip_prefix('-') {
            Some(magnitude) => (clearing, settlement, magnitude),
            None => (settlement, clearing, amount.as_str()),
        };
        text.push_str(&format!(
            "{key},{from},{to},{amount},{currency},{date}T12:00:00Z,{reference},\n"
        ));
    }
    let file = ledger.write(&format!("movements-{}.csv", movements[0].0), &text);
    let summary = ledger.json(&["transfer", "import", file.to_str().unwrap()]);
    assert_eq!(summary["rejected"], 0, "{summary}");
}

pub(crate) fn movement(
    key: &str,
    date: &str,
    reference: &str,
    amount: &str,
) -> (String, String, String, String, String) {
    (
        key.to_string(),
        date.to_string(),
        reference.to_string(),
        amount.to_string(),
        "EUR".to_string(),
    )
}

/// The fixture ledger: an opening balance of 10,000.00 EUR on 2026-11-01, then every row of
/// `internal.csv` (key `m<transfer_id>`).
fn fixture_ledger(ledger: &Ledger) {
    accounts(ledger);
    let mut movements = vec![movement("open", "2026-11-01", "OPENING", "10000.00")];
    let text = std::fs::read_to_string(fixture("reconcile/internal.csv")).unwrap();
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        movements.push((
            format!("m{}", fields[0]),
            fields[1].to_string(),
            fields[2].to_string(),
            fields[3].to_string(),
            fields[4].to_string(),
        ));
    }
    post_movements(ledger, &movements);
}

fn transfer_id(ledger: &Ledger, key: &str) -> i64 {
    ledger.json(&["transfer", "show", key])["id"]
        .as_i64()
        .unwrap()
}

fn reconcile(ledger: &Ledger, statement: &str, extra: &[&str]) -> Run {
    reconcile_on(ledger, DATE, statement, extra)
}

fn reconcile_on(ledger: &Ledger, date: &str, statement: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "--format",
        "json",
        "reconcile",
        "run",
        "--account",
        EUR_SETTLEMENT,
        "--date",
        date,
        "--statement",
        statement,
    ];
    args.extend_from_slice(extra);
    ledger.run(&args)
}

/// A run expected to find breaks (exit 1).
fn run_with_breaks(ledger: &Ledger, statement: &str, extra: &[&str]) -> Value {
    let run = reconcile(ledger, statement, extra);
    assert_eq!(
        run.code, 1,
        "breaks mean exit 1:\n{}\n{}",
        run.stderr, run.stdout
    );
    run.json()
}

fn fixture_path(name: &str) -> String {
    fixture(&format!("reconcile/{name}"))
        .to_str()
        .unwrap()
        .to_string()
}

fn breaks(document: &Value) -> BTreeMap<String, i64> {
    document["breaks"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(kind, count)| (kind.clone(), count.as_i64().unwrap()))
        .collect()
}

fn expected_breaks(counts: [i64; 7]) -> BTreeMap<String, i64> {
    [
        "missing_internal",
        "missing_external",
        "amount_mismatch",
        "duplicate_external",
        "ambiguous",
        "currency_mismatch",
        "balance_mismatch",
    ]
    .iter()
    .zip(counts)
    .map(|(kind, count)| (kind.to_string(), count))
    .collect()
}

/// What must be equal between runs of the same statement in another format or on another day:
/// everything but the run's identity and the statement's description, and the balance check
/// (a CSV statement states no balance; a resolution posted in between moves the ledger's).
fn comparable(document: &Value) -> Value {
    let mut document = document.clone();
    let object = document.as_object_mut().unwrap();
    object["breaks"]
        .as_object_mut()
        .unwrap()
        .remove("balance_mismatch");
    object["items"]
        .as_array_mut()
        .unwrap()
        .retain(|item| item["kind"] != "balance_mismatch");
    for key in [
        "run_id",
        "trace_id",
        "statement",
        "supersedes",
        "superseded_by",
        "status",
        "balance",
        "unresolved",
    ] {
        object.remove(key);
    }
    for item in object["items"].as_array_mut().unwrap() {
        let item = item.as_object_mut().unwrap();
        item.remove("id");
        item.remove("resolution");
    }
    document
}

fn items_of_kind<'a>(document: &'a Value, kind: &str) -> Vec<&'a Value> {
    document["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["kind"] == kind)
        .collect()
}

fn run_list(ledger: &Ledger) -> Value {
    ledger.json(&["reconcile", "list"])
}

fn every_format_gives_the_same_result(ledger: &Ledger) {
    fixture_ledger(ledger);
    let csv = run_with_breaks(ledger, &fixture_path("statement.csv"), &FIXTURE_OPTIONS);
    // The spec's Run JSON keys, all six break kinds, amounts as strings with two decimals.
    for key in [
        "run_id",
        "account",
        "date",
        "statement_lines",
        "internal_entries",
        "matched",
        "matched_fuzzy",
        "breaks",
        "items",
        "trace_id",
    ] {
        assert!(csv.get(key).is_some(), "missing {key}: {csv}");
    }
    assert_eq!(csv["account"], EUR_SETTLEMENT);
    assert_eq!(csv["date"], DATE);
    assert_eq!(csv["trace_id"].as_str().unwrap().len(), 32);
    assert_eq!(csv["statement_lines"], 11);
    // 8 movements of the day, plus 106 (fuzzy, 11-19) and 112 (by reference, 11-18).
    assert_eq!(csv["internal_entries"], 10);
    assert_eq!(csv["matched"], 5);
    assert_eq!(csv["matched_fuzzy"], 1);
    // INV-1010 is booked on the USD settlement account: the EUR account has no such movement.
    assert_eq!(breaks(&csv), expected_breaks([2, 3, 1, 1, 1, 0, 0]));
    for item in csv["items"].as_array().unwrap() {
        for key in [
            "kind",
            "reference",
            "internal_amount",
            "external_amount",
            "difference",
            "transfer_id",
            "id",
        ] {
            assert!(item.get(key).is_some(), "item without {key}: {item}");
        }
    }
    let mismatch = items_of_kind(&csv, "amount_mismatch")[0];
    assert_eq!(mismatch["reference"], "INV-1004");
    assert_eq!(mismatch["internal_amount"], "780.00");
    assert_eq!(mismatch["external_amount"], "870.00");
    assert_eq!(mismatch["difference"], "90.00");
    assert_eq!(mismatch["transfer_id"], transfer_id(ledger, "m104"));
    assert_eq!(
        csv["balance"],
        Value::Null,
        "a CSV statement has no balances"
    );

    let semicolon = run_with_breaks(
        ledger,
        &fixture_path("statement.semicolon.csv"),
        &[
            "--amount-tolerance",
            "0.02",
            "--map",
            "date=Buchungstag,reference=Verwendungszweck,amount=Betrag,currency=Waehrung,counterparty=Name,description=Text",
            "--delimiter",
            ";",
            "--decimal-separator",
            ",",
            "--date-format",
            "%d.%m.%Y",
        ],
    );
    assert_eq!(comparable(&semicolon), comparable(&csv));
    for (name, format) in [
        ("statement.csv", "csv"),
        ("statement.camt053.v02.xml", "camt053"),
        ("statement.camt053.v08.xml", "camt053"),
        ("statement.mt940", "mt940"),
    ] {
        for input_format in ["auto", format] {
            let mut extra = FIXTURE_OPTIONS.to_vec();
            extra.extend(["--input-format", input_format]);
            let document = run_with_breaks(ledger, &fixture_path(name), &extra);
            assert_eq!(
                comparable(&document),
                comparable(&csv),
                "{name} {input_format}"
            );
            assert_eq!(document["statement"]["format"], format);
            if format == "csv" {
                continue;
            }
            // Opening + movements = closing was checked on reading; ours at the end of the day
            // is the opening 10,000.00 and the EUR movements up to 11-20.
            let balance = &document["balance"];
            assert_eq!(balance["statement_opening"], "10000.00", "{name}");
            assert_eq!(balance["statement_closing"], "10710.75", "{name}");
            assert_eq!(balance["ledger_closing"], "10607.74", "{name}");
            assert_eq!(balance["difference"], "103.01", "{name}");
            assert_eq!(balance["date"], DATE);
        }
    }
}

fn every_break_kind_with_its_amounts(ledger: &Ledger) {
    fixture_ledger(ledger);
    // The fixture statement with line 1 in USD: a currency mismatch against movement 101.
    let text = std::fs::read_to_string(fixture("reconcile/statement.csv"))
        .unwrap()
        .replace("INV-1001,1250.00,EUR", "INV-1001,1250.00,USD");
    let statement = ledger.write("every-kind.csv", &text);
    let document = run_with_breaks(ledger, statement.to_str().unwrap(), &FIXTURE_OPTIONS);
    assert_eq!(breaks(&document), expected_breaks([2, 3, 1, 1, 1, 1, 0]));
    assert_eq!(document["matched"], 4);
    let kinds: Vec<&str> = document["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["kind"].as_str().unwrap())
        .collect();
    // Deterministic order: by kind (spec order), then reference, line, transfer.
    assert_eq!(
        kinds,
        [
            "missing_internal",
            "missing_internal",
            "missing_external",
            "missing_external",
            "missing_external",
            "amount_mismatch",
            "duplicate_external",
            "ambiguous",
            "currency_mismatch",
        ]
    );
    let missing_internal = items_of_kind(&document, "missing_internal");
    assert_eq!(missing_internal[0]["reference"], "FEE-2026-11");
    assert_eq!(missing_internal[0]["internal_amount"], Value::Null);
    assert_eq!(missing_internal[0]["external_amount"], "-12.50");
    assert_eq!(missing_internal[0]["difference"], "-12.50");
    assert_eq!(missing_internal[0]["transfer_id"], Value::Null);
    assert_eq!(missing_internal[1]["reference"], "INV-1010");
    let missing_external: Vec<&str> = items_of_kind(&document, "missing_external")
        .iter()
        .map(|item| item["reference"].as_str().unwrap())
        .collect();
    assert_eq!(missing_external, ["INV-1009", "SUB-0077", "SUB-0078"]);
    let inv_1009 = items_of_kind(&document, "missing_external")[0];
    assert_eq!(inv_1009["internal_amount"], "150.00");
    assert_eq!(inv_1009["difference"], "-150.00");
    assert_eq!(inv_1009["transfer_id"], transfer_id(ledger, "m109"));
    let duplicate = items_of_kind(&document, "duplicate_external")[0];
    assert_eq!(duplicate["reference"], "INV-1005");
    assert_eq!(duplicate["statement_line"], 6);
    let currency = items_of_kind(&document, "currency_mismatch")[0];
    assert_eq!(currency["reference"], "INV-1001");
    assert_eq!(currency["internal_amount"], "1250.00");
    assert_eq!(currency["external_amount"], "1250.00");
    assert_eq!(currency["difference"], Value::Null);
    assert_eq!(currency["currency"], "USD");
    assert_eq!(currency["internal_currency"], "EUR");
    assert_eq!(currency["transfer_id"], transfer_id(ledger, "m101"));
    // The table and CSV renderings list the same items.
    let table = ledger.run(&["reconcile", "show", &document["run_id"].to_string()]);
    assert_eq!(table.code, 0);
    for kind in ["missing_internal", "currency_mismatch", "ambiguous"] {
        assert!(table.stdout.contains(kind), "{}", table.stdout);
    }
    let csv = ledger.run(&[
        "--format",
        "csv",
        "reconcile",
        "show",
        &document["run_id"].to_string(),
    ]);
    assert_eq!(csv.code, 0);
    assert!(csv.stdout.contains("item,kind,reference,internal_amount"));
    assert_eq!(csv.stdout.matches(",missing_external,").count(), 3);
}

fn small_ledger(ledger: &Ledger, movements: &[(&str, &str, &str, &str)]) {
    accounts(ledger);
    let movements: Vec<_> = movements
        .iter()
        .map(|(key, date, reference, amount)| movement(key, date, reference, amount))
        .collect();
    post_movements(ledger, &movements);
}

fn statement(ledger: &Ledger, name: &str, lines: &[(&str, &str)]) -> String {
    let mut text = String::from("date,reference,amount,currency\n");
    for (reference, amount) in lines {
        text.push_str(&format!("{DATE},{reference},{amount},EUR\n"));
    }
    ledger.write(name, &text).to_str().unwrap().to_string()
}

fn amount_tolerance_boundaries(ledger: &Ledger) {
    small_ledger(
        ledger,
        &[
            ("t1", DATE, "INV-T", "100.00"),
            ("t2", DATE, "SUB-T", "50.00"),
        ],
    );
    // By reference: 0.02 apart. By amount (blank reference): 0.02 apart.
    let file = statement(
        ledger,
        "tolerance.csv",
        &[("INV-T", "100.02"), ("", "49.98")],
    );
    let within = reconcile(ledger, &file, &["--amount-tolerance", "0.02"]);
    assert_eq!(within.code, 0, "{}", within.stderr);
    let document = within.json();
    assert_eq!(document["matched"], 1);
    assert_eq!(document["matched_fuzzy"], 1);
    assert_eq!(document["items"], serde_json::json!([]));
    // One minor unit less tolerance: both are breaks.
    let outside = run_with_breaks(ledger, &file, &["--amount-tolerance", "0.01"]);
    assert_eq!(breaks(&outside), expected_breaks([1, 1, 1, 0, 0, 0, 0]));
    let mismatch = items_of_kind(&outside, "amount_mismatch")[0];
    assert_eq!(mismatch["difference"], "0.02");
    // The default tolerance is zero.
    let default = run_with_breaks(ledger, &file, &[]);
    assert_eq!(default["amount_tolerance"], "0.00");
    assert_eq!(breaks(&default), breaks(&outside));
    // A tolerance finer than the currency or negative is refused, and nothing is stored.
    let runs = run_list(ledger);
    reconcile(ledger, &file, &["--amount-tolerance", "0.001"])
        .assert_error(4, "amount_precision_exceeded");
    reconcile(ledger, &file, &["--amount-tolerance", "-0.01"])
        .assert_error(4, "amount_must_be_positive");
    assert_eq!(run_list(ledger), runs);
}

fn date_window_boundaries(ledger: &Ledger) {
    small_ledger(
        ledger,
        &[
            ("early", "2026-11-18", "PAY-EARLY", "30.00"),
            ("late", "2026-11-22", "PAY-LATE", "-40.00"),
        ],
    );
    let file = statement(
        ledger,
        "window.csv",
        &[("BANK-1", "30.00"), ("BANK-2", "-40.00")],
    );
    // Two days either side: both movements are candidates and match by amount.
    let within = reconcile(ledger, &file, &["--date-window", "2"]);
    assert_eq!(within.code, 0, "{}", within.stderr);
    let document = within.json();
    assert_eq!(document["matched_fuzzy"], 2);
    assert_eq!(document["internal_entries"], 2);
    // One day: neither is a candidate, and movements of other days are not this run's breaks.
    let outside = run_with_breaks(ledger, &file, &["--date-window", "1"]);
    assert_eq!(breaks(&outside), expected_breaks([2, 0, 0, 0, 0, 0, 0]));
    assert_eq!(outside["internal_entries"], 0);
    assert_eq!(outside["date_window"], 1);
    // The default window is two days.
    let default = reconcile(ledger, &file, &[]);
    assert_eq!(default.code, 0);
    assert_eq!(default.json()["date_window"], 2);
    reconcile(ledger, &file, &["--date-window", "32"]).assert_error(4, "invalid_input");
    reconcile(ledger, &file, &["--date-window", "-1"]).assert_error(4, "invalid_input");
}

fn ambiguity_leaves_both_sides_open(ledger: &Ledger) {
    small_ledger(
        ledger,
        &[
            ("a", DATE, "SUB-A", "99.00"),
            ("b", "2026-11-19", "SUB-B", "99.00"),
            ("c", DATE, "SUB-C", "25.00"),
        ],
    );
    // One line with two candidates; two lines competing for one movement.
    let file = statement(
        ledger,
        "ambiguous.csv",
        &[("", "99.00"), ("BANK-1", "25.00"), ("BANK-2", "25.00")],
    );
    let document = run_with_breaks(ledger, &file, &[]);
    assert_eq!(document["matched"], 0);
    assert_eq!(document["matched_fuzzy"], 0);
    // Three ambiguous lines; the run date's candidates (a, c) are also missing on the
    // statement, b (another day) belongs to its own run.
    assert_eq!(breaks(&document), expected_breaks([0, 2, 0, 0, 3, 0, 0]));
    for item in items_of_kind(&document, "ambiguous") {
        assert_eq!(item["transfer_id"], Value::Null);
        assert_eq!(item["internal_amount"], Value::Null);
    }
    let lines: Vec<i64> = items_of_kind(&document, "ambiguous")
        .iter()
        .map(|item| item["statement_line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, [1, 2, 3]);
}

fn rerun_supersedes_and_gives_the_same_result(ledger: &Ledger) {
    fixture_ledger(ledger);
    let statement = fixture_path("statement.mt940");
    let first = run_with_breaks(ledger, &statement, &FIXTURE_OPTIONS);
    let second = run_with_breaks(ledger, &statement, &FIXTURE_OPTIONS);
    assert_eq!(comparable(&second), comparable(&first));
    assert_eq!(second["balance"], first["balance"]);
    assert_ne!(second["run_id"], first["run_id"]);
    assert_eq!(second["supersedes"], first["run_id"]);
    assert_eq!(second["status"], "active");
    // The earlier run is kept for audit, marked superseded, with its items.
    let kept = ledger.json(&["reconcile", "show", &first["run_id"].to_string()]);
    assert_eq!(kept["status"], "superseded");
    assert_eq!(kept["superseded_by"], second["run_id"]);
    assert_eq!(comparable(&kept), comparable(&first));
    let runs = run_list(ledger);
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["run_id"], second["run_id"], "newest first");
    assert_eq!(runs[0]["status"], "active");
    assert_eq!(runs[1]["status"], "superseded");
    // Eight breaks of lines and movements, and the closing balance 103.01 apart.
    assert_eq!(runs[0]["unresolved"], 9);
    // A run of another date does not supersede this one.
    let other_day = reconcile_on(ledger, "2026-11-21", &statement, &FIXTURE_OPTIONS);
    assert!(other_day.code <= 1, "{}", other_day.stderr);
    assert_eq!(other_day.json()["supersedes"], Value::Null);
    let active = run_list(ledger)
        .as_array()
        .unwrap()
        .iter()
        .filter(|run| run["status"] == "active")
        .count();
    assert_eq!(active, 2, "one active run per account and date");
    let filtered = ledger.json(&["reconcile", "list", "--date", DATE]);
    assert_eq!(filtered.as_array().unwrap().len(), 2);
    // The audit chain records every run.
    let events = ledger.json(&["audit", "list", "--limit", "100000"]);
    let runs_audited = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["action"] == "reconcile.run")
        .count();
    assert_eq!(runs_audited, 3);
    ledger.assert_verified();
}

fn item_id(document: &Value, kind: &str, reference: &str) -> String {
    items_of_kind(document, kind)
        .iter()
        .find(|item| item["reference"] == reference)
        .unwrap_or_else(|| panic!("no {kind} item {reference}: {document}"))["id"]
        .to_string()
}

fn resolve_posts_or_accepts_once(ledger: &Ledger) {
    fixture_ledger(ledger);
    let statement = fixture_path("statement.camt053.v02.xml");
    let first = run_with_breaks(ledger, &statement, &FIXTURE_OPTIONS);
    let fee = item_id(&first, "missing_internal", "FEE-2026-11");
    let mismatch = item_id(&first, "amount_mismatch", "INV-1004");
    let settlement_before = ledger.balance(EUR_SETTLEMENT);
    assert_eq!(settlement_before, "10667.74");

    // The bank charged a fee we did not book: post it against the suspense account.
    let posted = ledger.json(&[
        "reconcile",
        "resolve",
        &fee,
        "--post-to",
        SUSPENSE,
        "--note",
        "bank fee for November",
    ]);
    assert_eq!(posted["resolution"]["status"], "posted");
    assert_eq!(posted["resolution"]["note"], "bank fee for November");
    assert_eq!(posted["resolution"]["by"], "tester");
    let transfer = &posted["transfer"];
    assert_eq!(posted["resolution"]["transfer_id"], transfer["id"]);
    assert_eq!(transfer["from"], SUSPENSE);
    assert_eq!(transfer["to"], EUR_SETTLEMENT);
    assert_eq!(transfer["amount"], "12.50");
    assert_eq!(transfer["reference"], "FEE-2026-11");
    assert_eq!(ledger.balance(EUR_SETTLEMENT), "10655.24");
    assert_eq!(ledger.balance(SUSPENSE), "-12.50");
    let listed = ledger.run(&["transfer", "list", "--account", SUSPENSE]);
    assert!(listed.stdout.contains("adjustment"), "{}", listed.stdout);

    // An accepted difference moves no money.
    let accepted = ledger.json(&[
        "reconcile",
        "resolve",
        &mismatch,
        "--accept",
        "--note",
        "customer overpaid, refund pending",
    ]);
    assert_eq!(accepted["resolution"]["status"], "accepted");
    assert_eq!(accepted["transfer"], Value::Null);
    assert_eq!(ledger.balance(EUR_SETTLEMENT), "10655.24");

    // Once only, whichever way.
    let before = ledger.snapshot();
    ledger
        .run(&["reconcile", "resolve", &fee, "--accept", "--note", "again"])
        .assert_error(3, "invalid_state");
    ledger
        .run(&[
            "reconcile",
            "resolve",
            &mismatch,
            "--post-to",
            SUSPENSE,
            "--note",
            "again",
        ])
        .assert_error(3, "invalid_state");
    // No single-currency difference to post, unknown item, unknown account, no note.
    let ambiguous = item_id(&first, "ambiguous", "");
    ledger
        .run(&[
            "reconcile",
            "resolve",
            &ambiguous,
            "--post-to",
            "NOPE0001",
            "--note",
            "x",
        ])
        .assert_error(5, "account_not_found");
    ledger
        .run(&[
            "reconcile",
            "resolve",
            &ambiguous,
            "--post-to",
            EUR_SETTLEMENT,
            "--note",
            "x",
        ])
        .assert_error(3, "accounts_must_be_different");
    ledger
        .run(&["reconcile", "resolve", "99999", "--accept", "--note", "x"])
        .assert_error(5, "not_found");
    ledger
        .run(&[
            "reconcile",
            "resolve",
            &ambiguous,
            "--accept",
            "--note",
            " ",
        ])
        .assert_error(2, "usage_error");
    ledger
        .run(&["reconcile", "resolve", &ambiguous, "--note", "x"])
        .assert_error(2, "usage_error");
    assert_eq!(
        ledger.snapshot(),
        before,
        "refused resolutions write nothing"
    );

    // Both resolutions are audited and linked to their items.
    let events = ledger.json(&["audit", "list", "--limit", "100000"]);
    let resolved: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["action"] == "reconcile.resolved")
        .collect();
    assert_eq!(resolved.len(), 2);
    assert_eq!(resolved[0]["entity"], format!("reconcile_item:{fee}"));
    ledger.assert_verified();

    // A re-run: the adjustment is not a statement movement, the same breaks come back and
    // keep their resolutions; the balance check now includes the posted fee.
    let second = run_with_breaks(ledger, &statement, &FIXTURE_OPTIONS);
    assert_eq!(comparable(&second), comparable(&first));
    // Six of the lines and movements, and the closing balance, now further apart.
    assert_eq!(second["unresolved"], 7);
    let carried = items_of_kind(&second, "missing_internal")
        .into_iter()
        .find(|item| item["reference"] == "FEE-2026-11")
        .unwrap();
    assert_eq!(carried["resolution"]["status"], "posted");
    assert_eq!(carried["resolution"]["resolved_in_item"].to_string(), fee);
    assert_eq!(first["balance"]["difference"], "103.01");
    assert_eq!(second["balance"]["difference"], "115.51");
    // The first run's items can no longer be resolved: the re-run superseded it.
    let stale = item_id(&first, "ambiguous", "");
    ledger
        .run(&["reconcile", "resolve", &stale, "--accept", "--note", "x"])
        .assert_error(3, "invalid_state");
    // Items of the active run can.
    let current = item_id(&second, "ambiguous", "");
    ledger.json(&[
        "reconcile",
        "resolve",
        &current,
        "--accept",
        "--note",
        "two subscriptions",
    ]);
    ledger.assert_verified();
}

fn exit_codes(ledger: &Ledger) {
    small_ledger(
        ledger,
        &[
            ("x1", DATE, "INV-1", "10.00"),
            ("x2", DATE, "INV-2", "-2.50"),
        ],
    );
    let clean = statement(
        ledger,
        "clean.csv",
        &[("INV-1", "10.00"), ("inv-2", "-2.50")],
    );
    // 0: fully reconciled.
    let run = reconcile(ledger, &clean, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["items"], serde_json::json!([]));
    let table = ledger.run(&[
        "reconcile",
        "run",
        "--account",
        EUR_SETTLEMENT,
        "--date",
        DATE,
        "--statement",
        &clean,
    ]);
    assert_eq!(table.code, 0);
    assert!(
        table.stdout.contains("fully reconciled"),
        "{}",
        table.stdout
    );
    // 1: breaks.
    let broken = statement(ledger, "broken.csv", &[("INV-1", "10.00")]);
    assert_eq!(reconcile(ledger, &broken, &[]).code, 1);
    // 4: unreadable statement (missing file, malformed), bad date.
    reconcile(ledger, "does-not-exist.csv", &[]).assert_error(4, "invalid_input");
    reconcile(ledger, &fixture_path("bad_amount.csv"), &[])
        .assert_error(4, "amount_precision_exceeded");
    ledger
        .run(&[
            "reconcile",
            "run",
            "--account",
            EUR_SETTLEMENT,
            "--date",
            "2026-13-01",
            "--statement",
            &clean,
        ])
        .assert_error(4, "invalid_input");
    // 5: unknown account or run.
    ledger
        .run(&[
            "reconcile",
            "run",
            "--account",
            "NOPE0001",
            "--date",
            DATE,
            "--statement",
            &clean,
        ])
        .assert_error(5, "account_not_found");
    ledger
        .run(&["reconcile", "show", "424242"])
        .assert_error(5, "not_found");
    // 3: not a settlement account.
    ledger
        .run(&[
            "reconcile",
            "run",
            "--account",
            CHECKING,
            "--date",
            DATE,
            "--statement",
            &clean,
        ])
        .assert_error(3, "invalid_state");
    // 2: usage.
    ledger
        .run(&[
            "reconcile",
            "run",
            "--account",
            EUR_SETTLEMENT,
            "--date",
            DATE,
            "--statement",
            &clean,
            "--input-format",
            "xlsx",
        ])
        .assert_error(2, "usage_error");
    ledger
        .run(&["reconcile", "run", "--account", EUR_SETTLEMENT])
        .assert_error(2, "usage_error");
    // JSON errors are one document too.
    let run = reconcile(ledger, "does-not-exist.csv", &[]);
    assert_eq!(run.json()["error"]["code"], "invalid_input");
}

fn malformed_statements_store_nothing(ledger: &Ledger) {
    fixture_ledger(ledger);
    let before = ledger.snapshot();
    let runs = run_list(ledger);
    for (name, format, mentions) in [
        (
            "bad_amount.csv",
            "auto",
            vec!["line 3", "amount", "-300.005"],
        ),
        ("bad_header.csv", "csv", vec!["header", "'date'"]),
        (
            "truncated.camt053.xml",
            "auto",
            vec!["line 118", "Ntry", "truncated"],
        ),
        ("bad_tag.mt940", "auto", vec!["line 5", ":99:"]),
        (
            "unbalanced.mt940",
            "mt940",
            vec!["does not balance", "10710.76"],
        ),
        (
            "unbalanced.camt053.xml",
            "auto",
            vec!["does not balance", "10710.85"],
        ),
        (
            "bad_amount.camt053.xml",
            "camt053",
            vec!["line 68", "Ntry", "500.005"],
        ),
        ("statement.mt940", "camt053", vec!["statement.mt940"]),
        (
            "two_accounts.mt940",
            "auto",
            vec![
                "several accounts",
                "DE89370400440532013000",
                "DE02120300000000202051",
            ],
        ),
    ] {
        let mut extra = FIXTURE_OPTIONS.to_vec();
        extra.extend(["--input-format", format]);
        let run = reconcile(ledger, &fixture_path(name), &extra);
        // An amount keeps the money module's code, as on every other way in.
        let code = if name.starts_with("bad_amount") {
            "amount_precision_exceeded"
        } else {
            "invalid_input"
        };
        run.assert_error(4, code);
        for part in mentions {
            assert!(
                run.stderr.contains(part),
                "{name}: '{part}' missing from {}",
                run.stderr
            );
        }
        assert!(
            run.stderr.contains(name),
            "{name}: the file is named: {}",
            run.stderr
        );
    }
    assert_eq!(run_list(ledger), runs);
    assert_eq!(ledger.snapshot(), before);
}

/// `reconcile inspect` prints what each reader understood — the same lines a run reads — and
/// opens no ledger: no database file appears, and an unreadable file is exit 4.
#[test]
fn inspect_shows_what_was_read_without_a_ledger() {
    let ledger = Ledger::sqlite();
    let database = ledger.path("ledger.db");
    std::fs::remove_file(&database).ok();
    for (name, format) in [
        ("statement.csv", "csv"),
        ("statement.mt940", "mt940"),
        ("statement.camt053.v02.xml", "camt053"),
        ("statement.camt053.v08.xml", "camt053"),
    ] {
        let run = ledger.run(&[
            "--format",
            "json",
            "reconcile",
            "inspect",
            &fixture_path(name),
        ]);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        let inspected = run.json();
        assert_eq!(inspected["format"], format, "{name}");
        let lines = inspected["lines"].as_array().unwrap();
        assert_eq!(lines.len(), 11, "{name}: the fixture's eleven lines");
        assert_eq!(inspected["lines_read"], 11, "{name}");
        assert_eq!(lines[1]["amount"], "-300.00", "{name}");
        assert_eq!(lines[1]["direction"], "debit", "{name}");
        assert_eq!(lines[0]["reference"], "INV-1001", "{name}");
        let parts = inspected["parts"].as_array().unwrap();
        assert_eq!(parts.len(), 1, "{name}");
        assert_eq!(parts[0]["lines"], 11, "{name}");
        if format != "csv" {
            assert_eq!(inspected["accounts"][0], EUR_SETTLEMENT, "{name}");
            assert_eq!(parts[0]["opening_balance"], "10000.00", "{name}");
            assert_eq!(parts[0]["closing_balance"], "10710.75", "{name}");
        }
    }
    let broken = ledger.run(&["reconcile", "inspect", &fixture_path("unbalanced.mt940")]);
    broken.assert_error(4, "invalid_input");
    assert!(broken.stderr.contains("line 2"), "{}", broken.stderr);
    assert!(!database.exists(), "inspect opened no ledger");
}
