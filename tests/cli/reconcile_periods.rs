//! Reconciliation over periods (issue 13): a multi-day statement reconciled whole and day by
//! day, overlapping statements that never report a line twice, closing balances compared with
//! the ledger's, grouped matches. Statements are written here in MT940, camt.053 and CSV from
//! one list of days, so each format is held to the same expectations.

use crate::both_backends;
use crate::reconcile::{accounts, movement, post_movements, EUR_SETTLEMENT};
use crate::support::{Ledger, Run};
use serde_json::Value;
use std::path::Path;

both_backends! {
    a_multi_day_statement_reconciles_over_its_period => a_multi_day_statement_reconciles_over_its_period;
    each_day_in_turn_reports_no_line_twice => each_day_in_turn_reports_no_line_twice;
    a_break_is_reported_once_across_overlapping_runs => a_break_is_reported_once_across_overlapping_runs;
    a_closing_balance_that_differs_is_a_balance_mismatch => a_closing_balance_that_differs_is_a_balance_mismatch;
    grouped_matches_settle_nets_splits_and_batches => grouped_matches_settle_nets_splits_and_batches;
    overlapping_runs_at_once_reconcile_each_line_once => overlapping_runs_at_once_reconcile_each_line_once;
}

/// Three banking days: (date, [(reference, signed amount)]). Closing balances from 0.00:
/// 750.00, 1016.50, 916.50.
const DAYS: [(&str, &[(&str, &str)]); 3] = [
    (
        "2026-11-16",
        &[("P-1601", "1000.00"), ("P-1602", "-250.00")],
    ),
    (
        "2026-11-17",
        &[
            ("P-1701", "300.00"),
            ("P-1702", "-45.50"),
            ("P-1703", "12.00"),
        ],
    ),
    ("2026-11-18", &[("P-1801", "-100.00")]),
];

fn minor(amount: &str) -> i64 {
    let (sign, magnitude) = match amount.strip_prefix('-') {
        Some(magnitude) => (-1, magnitude),
        None => (1, amount),
    };
    let (units, cents) = magnitude.split_once('.').unwrap();
    sign * (units.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap())
}

fn decimal(minor: i64, separator: char) -> String {
    format!("{}{separator}{:02}", minor.abs() / 100, minor.abs() % 100)
}

/// One MT940 message per day, each with its opening and closing balance.
fn mt940(days: &[(&str, &[(&str, &str)])], opening_minor: i64) -> String {
    let mut text = String::new();
    let mut balance = opening_minor;
    let mark = |minor: i64| if minor < 0 { 'D' } else { 'C' };
    for (number, (date, lines)) in days.iter().enumerate() {
        let short = date.replace('-', "")[2..].to_string();
        text.push_str(&format!(
            ":20:STMT{number}\n:25:{EUR_SETTLEMENT}\n:28C:{}/1\n:60F:{}{short}EUR{}\n",
            number + 1,
            mark(balance),
            decimal(balance, ',')
        ));
        for (reference, amount) in *lines {
            let amount_minor = minor(amount);
            text.push_str(&format!(
                ":61:{short}{}{}{}NTRF{reference}//BANK-{reference}\n:86:Payment {reference}\n",
                &short[2..],
                mark(amount_minor),
                decimal(amount_minor, ',')
            ));
            balance += amount_minor;
        }
        text.push_str(&format!(
            ":62F:{}{short}EUR{}\n-\n",
            mark(balance),
            decimal(balance, ',')
        ));
    }
    text
}

/// One camt.053 statement over all the days, `FrToDt` from the first to the last.
fn camt053(days: &[(&str, &[(&str, &str)])], opening_minor: i64) -> String {
    let balance = |code: &str, minor: i64, date: &str| {
        format!(
            "<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{}</Amt>\
             <CdtDbtInd>{}</CdtDbtInd><Dt><Dt>{date}</Dt></Dt></Bal>\n",
            decimal(minor, '.'),
            if minor < 0 { "DBIT" } else { "CRDT" }
        )
    };
    let (first, last) = (days[0].0, days[days.len() - 1].0);
    let mut closing = opening_minor;
    let mut entries = String::new();
    for (date, lines) in days {
        for (reference, amount) in *lines {
            let amount_minor = minor(amount);
            closing += amount_minor;
            entries.push_str(&format!(
                "<Ntry><Amt Ccy=\"EUR\">{}</Amt><CdtDbtInd>{}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>\
                 <BookgDt><Dt>{date}</Dt></BookgDt><NtryDtls><TxDtls><Refs><EndToEndId>{reference}</EndToEndId>\
                 </Refs></TxDtls></NtryDtls></Ntry>\n",
                decimal(amount_minor, '.'),
                if amount_minor < 0 { "DBIT" } else { "CRDT" }
            ));
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\"><BkToCstmrStmt>\n\
         <GrpHdr><MsgId>M1</MsgId><CreDtTm>{last}T20:00:00</CreDtTm></GrpHdr>\n\
         <Stmt><Id>S1</Id><FrToDt><FrDtTm>{first}T00:00:00</FrDtTm><ToDtTm>{last}T23:59:59</ToDtTm></FrToDt>\n\
         <Acct><Id><IBAN>{EUR_SETTLEMENT}</IBAN></Id><Ccy>EUR</Ccy></Acct>\n{}{}{entries}</Stmt></BkToCstmrStmt></Document>\n",
        balance("OPBD", opening_minor, first),
        balance("CLBD", closing, last),
    )
}

fn csv(days: &[(&str, &[(&str, &str)])]) -> String {
    let mut text = String::from("date,reference,amount,currency\n");
    for (date, lines) in days {
        for (reference, amount) in *lines {
            text.push_str(&format!("{date},{reference},{amount},EUR\n"));
        }
    }
    text
}

/// The ledger's side of `days`: one movement per line, on its own day (key = reference).
fn ledger_of(ledger: &Ledger, days: &[(&str, &[(&str, &str)])], leave_out: &[&str]) {
    accounts(ledger);
    let movements: Vec<_> = days
        .iter()
        .flat_map(|(date, lines)| {
            lines
                .iter()
                .filter(|(reference, _)| !leave_out.contains(reference))
                .map(|(reference, amount)| movement(reference, date, reference, amount))
        })
        .collect();
    post_movements(ledger, &movements);
}

fn run(ledger: &Ledger, statement: &Path, date: Option<&str>) -> Run {
    let mut args = vec![
        "--format",
        "json",
        "reconcile",
        "run",
        "--account",
        EUR_SETTLEMENT,
        "--statement",
        statement.to_str().unwrap(),
    ];
    if let Some(date) = date {
        args.extend(["--date", date]);
    }
    ledger.run(&args)
}

/// A run that must exit `code`; its Run JSON.
fn run_expecting(ledger: &Ledger, statement: &Path, date: Option<&str>, code: i32) -> Value {
    let outcome = run(ledger, statement, date);
    assert_eq!(
        outcome.code, code,
        "{date:?}:\n{}\n{}",
        outcome.stderr, outcome.stdout
    );
    outcome.json()
}

fn break_total(document: &Value) -> i64 {
    document["breaks"]
        .as_object()
        .unwrap()
        .values()
        .map(|count| count.as_i64().unwrap())
        .sum()
}

fn a_multi_day_statement_reconciles_over_its_period(ledger: &Ledger) {
    ledger_of(ledger, &DAYS, &[]);
    let mt940_file = ledger.write("three-days.mt940", &mt940(&DAYS, 0));
    let whole = run_expecting(ledger, &mt940_file, None, 0);
    assert_eq!(whole["date"], Value::Null);
    assert_eq!(whole["period"]["from"], "2026-11-16");
    assert_eq!(whole["period"]["to"], "2026-11-18");
    assert_eq!(whole["statement_lines"], 6);
    assert_eq!(whole["internal_entries"], 6);
    assert_eq!(whole["matched"], 6);
    assert_eq!(break_total(&whole), 0);
    // The last day's closing balance is the one shown; each day's was compared.
    assert_eq!(whole["balance"]["statement_closing"], "916.50");
    assert_eq!(whole["balance"]["ledger_closing"], "916.50");
    assert_eq!(whole["balance"]["date"], "2026-11-18");

    // The same days as camt.053: the run over the same period supersedes the MT940 run.
    let camt_file = ledger.write("three-days.xml", &camt053(&DAYS, 0));
    let camt = run_expecting(ledger, &camt_file, None, 0);
    assert_eq!(camt["period"], whole["period"]);
    assert_eq!(camt["matched"], 6);
    assert_eq!(camt["supersedes"], whole["run_id"]);
    assert_eq!(camt["balance"]["statement_closing"], "916.50");
    ledger.assert_verified();
}

fn each_day_in_turn_reports_no_line_twice(ledger: &Ledger) {
    ledger_of(ledger, &DAYS, &[]);
    for (name, text) in [
        ("days.mt940", mt940(&DAYS, 0)),
        ("days.xml", camt053(&DAYS, 0)),
    ] {
        let file = ledger.write(name, &text);
        let mut lines_seen = 0;
        for (date, lines) in DAYS {
            let day = run_expecting(ledger, &file, Some(date), 0);
            assert_eq!(day["date"], date, "{name}");
            assert_eq!(day["statement_lines"], lines.len(), "{name} {date}");
            assert_eq!(day["lines_outside_run"], 6 - lines.len(), "{name} {date}");
            assert_eq!(day["matched"], lines.len(), "{name} {date}");
            assert_eq!(break_total(&day), 0, "{name} {date}");
            lines_seen += lines.len();
        }
        assert_eq!(lines_seen, 6, "{name}: every line in exactly one day's run");
    }
    // The whole period supersedes the three day runs it contains.
    let file = ledger.write("whole.mt940", &mt940(&DAYS, 0));
    let whole = run_expecting(ledger, &file, None, 0);
    assert_eq!(whole["matched"], 6);
    let active: Vec<Value> = ledger
        .json(&[
            "reconcile",
            "list",
            "--account",
            EUR_SETTLEMENT,
            "--limit",
            "100",
        ])
        .as_array()
        .unwrap()
        .iter()
        .filter(|run| run["status"] == "active")
        .cloned()
        .collect();
    assert_eq!(active.len(), 1, "{active:?}");
    assert_eq!(active[0]["run_id"], whole["run_id"]);
    // A day of that period again: its lines were reconciled by the whole run, not twice.
    let again = run(ledger, &file, Some("2026-11-17"));
    assert_eq!(again.code, 0, "{}", again.stderr);
    let again_document = again.json();
    assert_eq!(again_document["statement_lines"], 0);
    assert_eq!(again_document["lines_already_reconciled"], 3);
    assert!(
        again
            .stderr
            .contains("3 statement lines were already reconciled by run"),
        "{}",
        again.stderr
    );
    // A day the statement has no line for says so.
    let empty = run(ledger, &file, Some("2026-11-25"));
    assert_eq!(empty.code, 0, "{}", empty.stderr);
    assert_eq!(empty.json()["statement_lines"], 0);
    assert!(
        empty
            .stderr
            .contains("warning: the statement has no line booked on 2026-11-25"),
        "{}",
        empty.stderr
    );
}

fn a_break_is_reported_once_across_overlapping_runs(ledger: &Ledger) {
    // The bank booked P-1703 (12.00), the ledger did not.
    ledger_of(ledger, &DAYS, &["P-1703"]);
    let daily = ledger.write("day-17.csv", &csv(&DAYS[1..2]));
    let day = run_expecting(ledger, &daily, Some("2026-11-17"), 1);
    assert_eq!(day["breaks"]["missing_internal"], 1);
    let item = day["items"][0]["id"].to_string();
    ledger.json(&[
        "reconcile",
        "resolve",
        &item,
        "--accept",
        "--note",
        "booked late",
    ]);
    // The weekly file contains day 17: its run supersedes the day's, the break comes back once
    // with its resolution carried over, and nothing is left unresolved: exit 0.
    let weekly = ledger.write("week.csv", &csv(&DAYS));
    let week = run_expecting(ledger, &weekly, None, 0);
    assert_eq!(week["supersedes"], day["run_id"]);
    assert_eq!(week["statement_lines"], 6);
    assert_eq!(week["breaks"]["missing_internal"], 1);
    assert_eq!(week["unresolved"], 0);
    assert_eq!(week["items"][0]["resolution"]["status"], "accepted");
    assert_eq!(
        week["items"][0]["resolution"]["resolved_in_item"].to_string(),
        item
    );
    // Day 18's file after the week: already reconciled, nothing reported.
    let late = run_expecting(ledger, &weekly, Some("2026-11-18"), 0);
    assert_eq!(late["lines_already_reconciled"], 1);
    assert_eq!(break_total(&late), 0);
}

fn a_closing_balance_that_differs_is_a_balance_mismatch(ledger: &Ledger) {
    ledger_of(ledger, &DAYS, &[]);
    // The bank says the account opened at 100.00; the ledger's settlement account at 0.00.
    let file = ledger.write("opening-100.xml", &camt053(&DAYS, 10_000));
    let document = run_expecting(ledger, &file, None, 1);
    assert_eq!(document["matched"], 6);
    assert_eq!(document["breaks"]["balance_mismatch"], 1);
    let item = &document["items"][0];
    assert_eq!(item["kind"], "balance_mismatch");
    assert_eq!(item["reference"], "closing balance 2026-11-18");
    assert_eq!(item["external_amount"], "1016.50");
    assert_eq!(item["internal_amount"], "916.50");
    assert_eq!(item["difference"], "100.00");
    // MT940 states each day's closing: each day is compared.
    let daily = ledger.write("opening-100.mt940", &mt940(&DAYS, 10_000));
    let document = run_expecting(ledger, &daily, None, 1);
    assert_eq!(document["breaks"]["balance_mismatch"], 3);
}

fn grouped_matches_settle_nets_splits_and_batches(ledger: &Ledger) {
    accounts(ledger);
    post_movements(
        ledger,
        &[
            // A payout of 1,000.00 less a 30.00 fee arrives as one line of 970.00.
            movement("payout", "2026-11-16", "PAYOUT-9", "1000.00"),
            movement("payout-fee", "2026-11-16", "PAYOUT-9", "-30.00"),
            // One invoice of 1,000.00 paid in two parts.
            movement("split", "2026-11-16", "SPLIT-1", "1000.00"),
            // One collection the bank books as a batch of three transfers.
            movement("batch", "2026-11-16", "COLLECTION-77", "500.00"),
        ],
    );
    let lines: [(&str, &[(&str, &str)]); 1] = [(
        "2026-11-16",
        &[
            ("PAYOUT-9", "970.00"),
            ("SPLIT-1", "600.00"),
            ("SPLIT-1", "400.00"),
        ],
    )];
    let file = ledger.write("grouped.csv", &csv(&lines));
    let document = run_expecting(ledger, &file, None, 1);
    // The batch is not on this CSV: its movement is missing on the statement.
    assert_eq!(document["matched_grouped"], 3);
    assert_eq!(document["grouped_entries"], 3);
    assert_eq!(document["breaks"]["missing_external"], 1);
    assert_eq!(break_total(&document), 1);

    // camt.053 with the batch as one entry of three transactions with their own references.
    let camt = ledger
        .write("grouped.xml", &camt053(&lines, 0))
        .to_str()
        .unwrap()
        .to_string();
    let text = std::fs::read_to_string(&camt).unwrap();
    let batch = "<Ntry><Amt Ccy=\"EUR\">500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>\
        <BookgDt><Dt>2026-11-16</Dt></BookgDt><NtryDtls>\
        <TxDtls><Refs><EndToEndId>DD-1</EndToEndId></Refs><Amt Ccy=\"EUR\">200.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></TxDtls>\
        <TxDtls><Refs><EndToEndId>DD-2</EndToEndId></Refs><Amt Ccy=\"EUR\">250.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></TxDtls>\
        <TxDtls><Refs><EndToEndId>DD-3</EndToEndId></Refs><Amt Ccy=\"EUR\">50.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></TxDtls>\
        </NtryDtls></Ntry>\n";
    let text = text
        .replace("</Stmt>", &format!("{batch}</Stmt>"))
        .replace(">1970.00</Amt>", ">2470.00</Amt>");
    let file = ledger.write("grouped-batch.xml", &text);
    let document = run_expecting(ledger, &file, None, 0);
    assert_eq!(document["statement_lines"], 6);
    assert_eq!(document["matched_grouped"], 6);
    assert_eq!(document["grouped_entries"], 4);
    assert_eq!(break_total(&document), 0);
}

/// A weekly and a daily run of one account started at the same moment, several times: whatever
/// order the database puts them in, every line is reconciled by exactly one active run. A run
/// that lost the race on a stale view is refused (exit 3, "run it again") and then re-run.
fn overlapping_runs_at_once_reconcile_each_line_once(ledger: &Ledger) {
    ledger_of(ledger, &DAYS, &[]);
    let weekly = ledger.write("week.csv", &csv(&DAYS));
    let daily = ledger.write("day.csv", &csv(&DAYS[1..2]));
    for round in 0..4 {
        let handles: Vec<_> = [(weekly.clone(), None), (daily.clone(), Some("2026-11-17"))]
            .into_iter()
            .map(|(file, date)| {
                let mut command = ledger.command();
                command.args([
                    "reconcile",
                    "run",
                    "--account",
                    EUR_SETTLEMENT,
                    "--statement",
                    file.to_str().unwrap(),
                ]);
                if let Some(date) = date {
                    command.args(["--date", date]);
                }
                std::thread::spawn(move || (command.output().unwrap(), file, date))
            })
            .collect();
        for handle in handles {
            let (output, file, date) = handle.join().unwrap();
            let code = output.status.code().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            if code == 3 {
                assert!(stderr.contains("run it again"), "round {round}: {stderr}");
                run_expecting(ledger, &file, date, 0);
            } else {
                assert_eq!(code, 0, "round {round}: {stderr}");
            }
        }
        let runs = ledger.json(&["reconcile", "list", "--limit", "1000"]);
        let reconciled: i64 = runs
            .as_array()
            .unwrap()
            .iter()
            .filter(|run| run["status"] == "active")
            .map(|run| run["statement_lines"].as_i64().unwrap())
            .sum();
        assert_eq!(reconciled, 6, "round {round}: {runs}");
    }
    ledger.assert_verified();
}
