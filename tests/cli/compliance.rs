//! `report compliance`: each kind at its boundaries, masking and audited unmasking, formats,
//! and bad inputs.

use crate::both_backends;
use crate::support::{fixture, Ledger};

both_backends! {
    ctr_threshold_is_strict => ctr_threshold_is_strict;
    structuring_window_edges => structuring_window_edges;
    sanctions_near_miss_alias_and_different_name => sanctions_near_miss_alias_and_different_name;
    masking_and_audited_unmask => masking_and_audited_unmask;
}

const PERIOD: [&str; 4] = ["--from", "2026-11-01", "--to", "2026-11-30"];

fn cash_in(ledger: &Ledger, settlement: &str, to: &str, amount: &str, at: &str) {
    ledger.json(&[
        "transfer",
        "post",
        "--from",
        settlement,
        "--to",
        to,
        "--amount",
        amount,
        "--currency",
        "USD",
        "--at",
        at,
    ]);
}

fn report(ledger: &Ledger, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["report", "compliance"];
    args.extend_from_slice(&PERIOD);
    args.extend_from_slice(extra);
    ledger.json(&args)
}

fn ctr_threshold_is_strict(ledger: &Ledger) {
    let settlement = ledger.open("Bank", "settlement", "USD", &[]);
    let exact = ledger.open("Exactly Threshold", "checking", "USD", &[]);
    let over = ledger.open("One Cent Over", "checking", "USD", &[]);
    cash_in(
        ledger,
        &settlement,
        &exact,
        "6000.00",
        "2026-11-10T09:00:00Z",
    );
    cash_in(
        ledger,
        &settlement,
        &exact,
        "4000.00",
        "2026-11-10T17:00:00Z",
    );
    cash_in(
        ledger,
        &settlement,
        &over,
        "10000.01",
        "2026-11-10T09:00:00Z",
    );
    cash_in(
        ledger,
        &settlement,
        &over,
        "9000.00",
        "2026-11-11T09:00:00Z",
    );
    let document = report(ledger, &["--kind", "ctr"]);
    let ctr = document["ctr"].as_array().unwrap();
    assert_eq!(
        ctr.len(),
        1,
        "exactly the threshold is not reported: {ctr:?}"
    );
    assert_eq!(ctr[0]["holder"], "One Cent Over");
    assert_eq!(ctr[0]["cash_in"], "10000.01");
    assert_eq!(ctr[0]["date"], "2026-11-10");
    let lower = report(ledger, &["--kind", "ctr", "--ctr-threshold", "USD=5999.99"]);
    assert_eq!(
        lower["ctr"].as_array().unwrap().len(),
        3,
        "per-currency threshold: {}",
        lower["ctr"]
    );
}

fn structuring_window_edges(ledger: &Ledger) {
    let settlement = ledger.open("Bank", "settlement", "USD", &[]);
    let inside = ledger.open("Inside Window", "checking", "USD", &[]);
    let outside = ledger.open("Outside Window", "checking", "USD", &[]);
    let low = ledger.open("Below Band", "checking", "USD", &[]);
    for at in [
        "2026-11-02T10:00:00Z",
        "2026-11-05T10:00:00Z",
        "2026-11-09T09:59:59Z",
    ] {
        cash_in(ledger, &settlement, &inside, "9000.00", at);
    }
    for at in [
        "2026-11-02T10:00:00Z",
        "2026-11-05T10:00:00Z",
        "2026-11-09T10:00:00Z",
    ] {
        cash_in(ledger, &settlement, &outside, "9000.00", at);
    }
    for at in [
        "2026-11-02T10:00:00Z",
        "2026-11-03T10:00:00Z",
        "2026-11-04T10:00:00Z",
        "2026-11-05T10:00:00Z",
    ] {
        cash_in(ledger, &settlement, &low, "7999.99", at);
    }
    let document = report(ledger, &["--kind", "structuring"]);
    let holders: Vec<&str> = document["structuring"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["holder"].as_str().unwrap())
        .collect();
    assert_eq!(
        holders,
        ["Inside Window"],
        "7 days exactly is outside the window; below 80% is outside the band"
    );
    assert_eq!(document["structuring"][0]["total"], "27000.00");
    assert_eq!(
        document["structuring"][0]["transfer_ids"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

fn sanctions_near_miss_alias_and_different_name(ledger: &Ledger) {
    for holder in ["Jon Smiht", "Hugo Schubert", "Abu Omar", "Muñoz, José"] {
        ledger.open(holder, "checking", "USD", &[]);
    }
    let list = fixture("compliance/sanctions.csv");
    let document = report(
        ledger,
        &[
            "--kind",
            "sanctions",
            "--sanctions-list",
            list.to_str().unwrap(),
        ],
    );
    let hits = document["sanctions"].as_array().unwrap();
    let by_holder = |holder: &str| hits.iter().find(|h| h["holder"] == holder);
    let smith = by_holder("Jon Smiht").expect("a near-miss spelling matches");
    assert_eq!(smith["list_id"], "SDN-1001");
    let omar = by_holder("Abu Omar").expect("an alias matches");
    assert_eq!(omar["matched_alias"], "Abu Omar");
    assert_eq!(omar["list_id"], "SDN-1003");
    assert!(
        by_holder("Muñoz, José").is_some(),
        "token order and diacritics are normalised"
    );
    assert!(
        by_holder("Hugo Schubert").is_none(),
        "a different name does not match: {hits:?}"
    );
    let score: f64 = smith["score"].as_str().unwrap().parse().unwrap();
    assert!((0.9..=1.0).contains(&score));
    let strict = report(
        ledger,
        &[
            "--kind",
            "sanctions",
            "--sanctions-list",
            list.to_str().unwrap(),
            "--min-score",
            "0.999",
        ],
    );
    assert!(strict["sanctions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["holder"] != "Jon Smiht"));
}

fn masking_and_audited_unmask(ledger: &Ledger) {
    let settlement = ledger.open("Bank", "settlement", "USD", &[]);
    let customer = ledger.open("Big Depositor", "checking", "USD", &[]);
    cash_in(
        ledger,
        &settlement,
        &customer,
        "25000.00",
        "2026-11-10T09:00:00Z",
    );
    let masked = report(ledger, &["--kind", "ctr"]);
    let text = masked.to_string();
    assert!(!text.contains(&customer), "numbers are masked by default");
    assert!(
        text.contains(&format!("{}********{}", &customer[..4], &customer[12..])),
        "{text}"
    );
    let audit_before = ledger.json(&["audit", "list"]).as_array().unwrap().len();
    let unmasked = report(ledger, &["--kind", "ctr", "--unmask"]);
    assert!(unmasked.to_string().contains(&customer));
    let events = ledger.json(&["audit", "list"]);
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), audit_before + 1);
    let last = events.last().unwrap();
    assert_eq!(last["action"], "report.unmasked");
    assert_eq!(last["operator"], "tester");
    ledger.assert_verified();
}

#[test]
fn formats_and_out_directory() {
    let ledger = Ledger::sqlite();
    let settlement = ledger.open("Bank", "settlement", "USD", &[]);
    let customer = ledger.open("Big Depositor", "checking", "USD", &[]);
    cash_in(
        &ledger,
        &settlement,
        &customer,
        "25000.00",
        "2026-11-10T09:00:00Z",
    );
    let document = report(&ledger, &[]);
    for key in [
        "period",
        "ctr",
        "structuring",
        "sanctions",
        "suspicious",
        "audit",
    ] {
        assert!(document.get(key).is_some(), "missing {key}");
    }
    assert_eq!(document["period"]["from"], "2026-11-01");
    assert!(
        document["audit"]["events_by_action"]["transfer.posted"]
            .as_i64()
            .unwrap()
            >= 1
    );
    let mut args = vec!["--format", "csv", "report", "compliance", "--kind", "ctr"];
    args.extend_from_slice(&PERIOD);
    let csv = ledger.run(&args);
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    let header = csv.stdout.lines().next().unwrap();
    assert!(
        header.contains("holder") && header.contains("cash_in"),
        "{header}"
    );
    assert_eq!(csv.stdout.lines().count(), 2);
    let out = ledger.path("reports");
    let mut args = vec![
        "--format",
        "csv",
        "report",
        "compliance",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(&PERIOD);
    assert_eq!(ledger.run(&args).code, 0);
    for kind in ["ctr", "structuring", "suspicious", "audit"] {
        assert!(
            out.join(format!("{kind}.csv")).exists(),
            "{kind}.csv written"
        );
    }
    let mut args = vec!["report", "compliance"];
    args.extend_from_slice(&PERIOD);
    let table = ledger.run(&args);
    assert!(table.stdout.contains("ctr") && table.stdout.contains("Big Depositor"));
}

#[test]
fn bad_inputs_exit_with_codes() {
    let ledger = Ledger::sqlite();
    ledger.open("Someone", "checking", "USD", &[]);
    let before = ledger.snapshot();
    let bad_list = fixture("compliance/bad_sanctions.csv");
    let run = ledger.run(&[
        "report",
        "compliance",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        "--kind",
        "sanctions",
        "--sanctions-list",
        bad_list.to_str().unwrap(),
    ]);
    run.assert_error(4, "invalid_input");
    assert!(
        run.stderr.contains("line"),
        "names the line: {}",
        run.stderr
    );
    ledger
        .run(&[
            "report",
            "compliance",
            "--from",
            "2026-13-01",
            "--to",
            "2026-11-30",
        ])
        .assert_error(4, "invalid_input");
    ledger
        .run(&[
            "report",
            "compliance",
            "--from",
            "2026-11-30",
            "--to",
            "2026-11-01",
        ])
        .assert_error(4, "invalid_input");
    ledger
        .run(&[
            "report",
            "compliance",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--kind",
            "sanctions",
        ])
        .assert_error(2, "usage_error");
    ledger
        .run(&[
            "report",
            "compliance",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--kind",
            "gossip",
        ])
        .assert_error(2, "usage_error");
    ledger
        .run(&[
            "report",
            "compliance",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--ctr-threshold",
            "USD=10.001",
        ])
        .assert_error(4, "amount_precision_exceeded");
    ledger
        .run(&[
            "report",
            "compliance",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--sanctions-list",
            "/nonexistent.csv",
        ])
        .assert_error(4, "invalid_input");
    assert_eq!(ledger.snapshot(), before, "a failed report writes nothing");
}
