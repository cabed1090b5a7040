//! One validation for every way in (issue 11, part 4): every rule of README "Input
//! validation" is driven through every entry point that carries the value — a command-line
//! flag, a `transfer import` row, an `account import` row and a statement line — with the same
//! value, expecting the same outcome and error code, and nothing written on refusal.
//!
//! The tables run on SQLite only: the rules are applied before any storage is touched, so the
//! backend adds nothing but minutes; the deposit/withdraw flag story runs on both.

use crate::both_backends;
use crate::support::{Ledger, Run, Snapshot, NOW};
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::path::PathBuf;

const DATE: &str = "2026-11-20";
const AT: &str = "2026-11-20T10:00:00Z";
const BOB: &str = "BOB00001";
const TRANSFER_HEADER: &str = "key,from,to,amount,currency,at,reference,description";
const ACCOUNT_HEADER: &str = "number,holder,type,currency,overdraft_limit";
const STATEMENT_HEADER: &str = "date,reference,amount,currency,counterparty,description";

/// What a value should give: accepted (and read as this normalised text) or refused with
/// this error code.
#[derive(Debug, Clone, Copy)]
enum Want {
    Accept(&'static str),
    Refuse(&'static str),
}
use Want::{Accept, Refuse};

/// A ledger with two USD customer accounts (Alice funded), a USD settlement account for cash
/// and a second, untouched USD settlement account that statements are reconciled against
/// (no movements: each statement line is a `missing_internal` item carrying its amount).
struct Bench {
    ledger: Ledger,
    settlement: String,
    alice: String,
    statement_account: String,
    serial: Cell<usize>,
    /// State before the next command, for "nothing written on refusal".
    state: RefCell<(Snapshot, usize)>,
}

impl Bench {
    fn new() -> Bench {
        let ledger = Ledger::sqlite();
        let (settlement, alice) = ledger.funded("USD", "1000.00");
        ledger.open("Bob", "checking", "USD", &["--number", BOB]);
        let statement_account = ledger.open("Bank B", "settlement", "USD", &[]);
        let state = RefCell::new((ledger.snapshot(), 0));
        Bench {
            ledger,
            settlement,
            alice,
            statement_account,
            serial: Cell::new(0),
            state,
        }
    }

    fn next(&self) -> usize {
        self.serial.set(self.serial.get() + 1);
        self.serial.get()
    }

    fn run(&self, args: &[&str]) -> Run {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        self.ledger.run(&all)
    }

    fn reconcile_runs(&self) -> usize {
        self.ledger
            .json(&["reconcile", "list", "--limit", "1000"])
            .as_array()
            .map_or(0, Vec::len)
    }

    /// After an accepted value: remember the new state.
    fn accepted(&self) {
        *self.state.borrow_mut() = (self.ledger.snapshot(), self.reconcile_runs());
    }

    /// After a refused value: nothing at all was written.
    fn assert_nothing_written(&self, case: &str) {
        let state = self.state.borrow();
        assert!(
            self.ledger.snapshot() == state.0,
            "{case}: a refusal wrote to the ledger"
        );
        assert_eq!(self.reconcile_runs(), state.1, "{case}: a run was stored");
    }

    /// Check a run against what the value should give; on acceptance return its JSON.
    fn expect(
        &self,
        case: &str,
        run: &Run,
        accept_exit: i32,
        refuse_exit: i32,
        want: Want,
    ) -> Option<Value> {
        match want {
            Accept(_) => {
                assert_eq!(
                    run.code, accept_exit,
                    "{case}: should be accepted\nstderr: {}\nstdout: {}",
                    run.stderr, run.stdout
                );
                let json = run.json();
                self.accepted();
                Some(json)
            }
            Refuse(code) => {
                assert_eq!(
                    run.code, refuse_exit,
                    "{case}: should be refused with {code}\nstderr: {}\nstdout: {}",
                    run.stderr, run.stdout
                );
                if refuse_exit != 1 {
                    assert_eq!(run.error_code(), code, "{case}: {}", run.stderr);
                    assert_eq!(run.json()["error"]["code"], code, "{case}");
                }
                self.assert_nothing_written(case);
                None
            }
        }
    }

    fn transfer(&self, key: &str) -> Value {
        self.ledger.json(&["transfer", "show", key])
    }

    // --- entry points ---------------------------------------------------------------------

    /// `transfer post` with flags; `overrides` replace the defaults by flag name.
    fn post(&self, case: &str, overrides: &[(&str, &str)], want: Want) -> Option<Value> {
        let key = format!("flag-{}", self.next());
        let flags = with_overrides(
            vec![
                ("--from", self.alice.clone()),
                ("--to", BOB.to_string()),
                ("--amount", "1.00".to_string()),
                ("--currency", "USD".to_string()),
                ("--key", key),
            ],
            overrides,
        );
        let mut args = vec!["transfer", "post"];
        args.extend(flags.iter().map(String::as_str));
        let run = self.run(&args);
        self.expect(&format!("transfer post {case}"), &run, 0, 4, want)
    }

    /// `transfer deposit` or `withdraw` with flags.
    fn cash(
        &self,
        command: &str,
        case: &str,
        overrides: &[(&str, &str)],
        want: Want,
    ) -> Option<Value> {
        let side = if command == "deposit" {
            "--to"
        } else {
            "--from"
        };
        let flags = with_overrides(
            vec![
                (side, self.alice.clone()),
                ("--via", self.settlement.clone()),
                ("--amount", "1.00".to_string()),
            ],
            overrides,
        );
        let mut args = vec!["transfer", command];
        args.extend(flags.iter().map(String::as_str));
        let run = self.run(&args);
        self.expect(&format!("transfer {command} {case}"), &run, 0, 4, want)
    }

    /// One `transfer import` row (raw CSV line after the header). A refused row is in the
    /// rejects file with its line and code, and its key was not posted.
    fn import_row(&self, case: &str, key: &str, row: &str, want: Want) -> Option<Value> {
        let serial = self.next();
        let file = self.ledger.write(
            &format!("transfers-{serial}.csv"),
            &format!("{TRANSFER_HEADER}\n{row}\n"),
        );
        let rejects = self.ledger.path(&format!("rejects-{serial}.csv"));
        let run = self.run(&[
            "transfer",
            "import",
            file.to_str().unwrap(),
            "--rejects",
            rejects.to_str().unwrap(),
        ]);
        let case = format!("transfer import row {case} ({row})");
        match want {
            Accept(_) => {
                self.expect(&case, &run, 0, 1, want);
                Some(self.transfer(key.trim()))
            }
            Refuse(code) => {
                self.expect(&case, &run, 0, 1, want);
                let rejected = read_rejects(&rejects);
                assert_eq!(rejected.len(), 1, "{case}: {rejected:?}");
                assert_eq!(rejected[0].0, "2", "{case}: the row's line");
                assert_eq!(rejected[0].1, code, "{case}: {}", rejected[0].2);
                if !key.trim().is_empty() {
                    self.ledger
                        .run(&["transfer", "show", key.trim()])
                        .assert_error(5, "not_found");
                }
                None
            }
        }
    }

    /// A transfer row with one field replaced (by column name), the others valid.
    fn transfer_row(&self, key: &str, column: &str, value: &str) -> String {
        let mut fields = [
            ("key", key.to_string()),
            ("from", self.alice.clone()),
            ("to", BOB.to_string()),
            ("amount", "1.00".to_string()),
            ("currency", "USD".to_string()),
            ("at", AT.to_string()),
            ("reference", String::new()),
            ("description", String::new()),
        ];
        for (name, field) in &mut fields {
            if *name == column {
                *field = value.to_string();
            }
        }
        fields
            .iter()
            .map(|(_, field)| csv_field(field))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `account import` of one row (raw CSV line after the header): the whole file is refused
    /// (exit 4) on a bad row.
    fn account_row(&self, case: &str, row: &str, want: Want) -> Option<Value> {
        let file = self.ledger.write(
            &format!("accounts-{}.csv", self.next()),
            &format!("{ACCOUNT_HEADER}\n{row}\n"),
        );
        let run = self.run(&["account", "import", file.to_str().unwrap()]);
        let case = format!("account import row {case} ({row})");
        let json = self.expect(&case, &run, 0, 4, want);
        if let Refuse(_) = want {
            assert!(
                run.stderr.contains("line 2"),
                "{case}: names the line: {}",
                run.stderr
            );
        }
        json
    }

    /// `reconcile run` of a statement with one line (raw CSV after the header); on acceptance
    /// the line is the run's only item, returned.
    fn statement_line(&self, case: &str, line: &str, want: Want) -> Option<Value> {
        self.statement_with(case, line, &["--date", DATE], want)
    }

    fn statement_with(&self, case: &str, line: &str, extra: &[&str], want: Want) -> Option<Value> {
        let file = self.ledger.write(
            &format!("statement-{}.csv", self.next()),
            &format!("{STATEMENT_HEADER}\n{line}\n"),
        );
        let mut args = vec![
            "reconcile",
            "run",
            "--account",
            &self.statement_account,
            "--statement",
            file.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let run = self.run(&args);
        let case = format!("statement line {case} ({line})");
        let json = self.expect(&case, &run, 1, 4, want)?;
        let items = json["items"].as_array().expect("items").clone();
        assert_eq!(items.len(), 1, "{case}: {json}");
        Some(items[0].clone())
    }

    fn statement_row(&self, column: &str, value: &str) -> String {
        let mut fields = [
            ("date", DATE.to_string()),
            ("reference", format!("REF-{}", self.next())),
            ("amount", "1.00".to_string()),
            ("currency", "USD".to_string()),
            ("counterparty", "Someone".to_string()),
            ("description", "line".to_string()),
        ];
        for (name, field) in &mut fields {
            if *name == column {
                *field = value.to_string();
            }
        }
        fields
            .iter()
            .map(|(_, field)| csv_field(field))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Flag list with `overrides` replacing (or adding) flags by name.
fn with_overrides(defaults: Vec<(&str, String)>, overrides: &[(&str, &str)]) -> Vec<String> {
    let mut flags: Vec<(String, String)> = defaults
        .into_iter()
        .map(|(flag, value)| (flag.to_string(), value))
        .collect();
    for (flag, value) in overrides {
        match flags.iter_mut().find(|(name, _)| name == flag) {
            Some(slot) => slot.1 = value.to_string(),
            None => flags.push((flag.to_string(), value.to_string())),
        }
    }
    flags
        .into_iter()
        .flat_map(|(flag, value)| [flag, value])
        .collect()
}

/// Quote a CSV field only when it must be: surrounding spaces stay raw, as a spreadsheet
/// export writes them.
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// `(line, error_code, error_message)` of each rejected row.
fn read_rejects(path: &PathBuf) -> Vec<(String, String, String)> {
    let mut reader = csv::Reader::from_path(path).expect("rejects file");
    let headers = reader.headers().expect("rejects header").clone();
    let column = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (line, code, message) = (
        column("line"),
        column("error_code"),
        column("error_message"),
    );
    reader
        .records()
        .map(|record| {
            let record = record.expect("rejects row");
            (
                record[line].to_string(),
                record[code].to_string(),
                record[message].to_string(),
            )
        })
        .collect()
}

/// Amount grammar, the same on every way in (README "Input validation").
const AMOUNTS: &[(&str, Want)] = &[
    ("1.50", Accept("1.50")),
    ("7", Accept("7.00")),
    ("+1.00", Accept("1.00")),
    (" 1.00 ", Accept("1.00")),
    ("\t2.5\t", Accept("2.50")),
    ("1,000.00", Refuse("invalid_input")),
    ("1.", Refuse("invalid_input")),
    (".5", Refuse("invalid_input")),
    ("1e3", Refuse("invalid_input")),
    ("1 000", Refuse("invalid_input")),
    ("++1", Refuse("invalid_input")),
    ("abc", Refuse("invalid_input")),
    ("1.001", Refuse("amount_precision_exceeded")),
    ("1.000", Refuse("amount_precision_exceeded")),
    ("10000000000000000", Refuse("amount_out_of_range")),
];

#[test]
fn amounts_read_the_same_on_every_way_in() {
    let bench = Bench::new();
    for &(value, want) in AMOUNTS {
        let case = format!("amount {value:?}");
        if let Some(json) = bench.post(&case, &[("--amount", value)], want) {
            assert_eq!(json["amount"], expected(want), "{case}");
        }
        let key = format!("amt-{}", bench.next());
        let row = bench.transfer_row(&key, "amount", value);
        if let Some(json) = bench.import_row(&case, &key, &row, want) {
            assert_eq!(json["amount"], expected(want), "{case}");
        }
        // The account row's amount is its overdraft limit (non-negative amount, same grammar).
        let number = format!("AMT{:05}", bench.next());
        let row = format!("{number},Holder,checking,USD,{}", csv_field(value));
        if bench.account_row(&case, &row, want).is_some() {
            let account = bench.ledger.json(&["account", "show", &number]);
            assert_eq!(account["overdraft_limit"], expected(want), "{case}");
        }
        let line = bench.statement_row("amount", value);
        if let Some(item) = bench.statement_line(&case, &line, want) {
            assert_eq!(item["external_amount"], expected(want), "{case}: {item}");
        }
        // A compliance flag's amount (its list separator ',' aside).
        if !value.contains(',') {
            let threshold = format!("USD={value}");
            let run = bench.run(&[
                "report",
                "compliance",
                "--from",
                DATE,
                "--to",
                DATE,
                "--kind",
                "ctr",
                "--ctr-threshold",
                &threshold,
            ]);
            bench.expect(&format!("--ctr-threshold {case}"), &run, 0, 4, want);
        }
    }
}

#[test]
fn an_empty_amount_is_required_everywhere_it_is_required() {
    let bench = Bench::new();
    let refuse = Refuse("invalid_input");
    bench.post("empty amount", &[("--amount", "")], refuse);
    bench.post("blank amount", &[("--amount", "  ")], refuse);
    let row = bench.transfer_row("empty-amount", "amount", " ");
    bench.import_row("empty amount", "empty-amount", &row, refuse);
    let line = bench.statement_row("amount", "");
    bench.statement_line("empty amount", &line, refuse);
    // The overdraft limit is optional in an account row: empty means none (0).
    let row = "EMPTY0001,Holder,checking,USD, ";
    bench.account_row("empty overdraft limit", row, Accept("0.00"));
    assert_eq!(
        bench.ledger.json(&["account", "show", "EMPTY0001"])["overdraft_limit"],
        "0.00"
    );
}

const CURRENCIES: &[(&str, Want)] = &[
    ("USD", Accept("USD")),
    ("usd", Accept("USD")),
    ("uSd", Accept("USD")),
    (" USD\t", Accept("USD")),
    ("", Refuse("invalid_currency")),
    ("XYZ", Refuse("invalid_currency")),
    ("US D", Refuse("invalid_currency")),
    ("USDX", Refuse("invalid_currency")),
    ("XAU", Refuse("invalid_currency")),
];

#[test]
fn currencies_read_the_same_on_every_way_in() {
    let bench = Bench::new();
    for &(value, want) in CURRENCIES {
        let case = format!("currency {value:?}");
        if let Some(json) = bench.post(&case, &[("--currency", value)], want) {
            assert_eq!(json["currency"], expected(want), "{case}");
        }
        let key = format!("cur-{}", bench.next());
        let row = bench.transfer_row(&key, "currency", value);
        if let Some(json) = bench.import_row(&case, &key, &row, want) {
            assert_eq!(json["currency"], expected(want), "{case}");
        }
        let number = format!("CUR{:05}", bench.next());
        let row = format!("{number},Holder,checking,{},", csv_field(value));
        if bench.account_row(&case, &row, want).is_some() {
            let account = bench.ledger.json(&["account", "show", &number]);
            assert_eq!(account["currency"], expected(want), "{case}");
        }
        let run = bench.run(&[
            "account",
            "open",
            "--holder",
            "Flag",
            "--type",
            "checking",
            "--currency",
            value,
        ]);
        if let Some(json) = bench.expect(&format!("account open {case}"), &run, 0, 4, want) {
            assert_eq!(json["currency"], expected(want), "{case}");
        }
        let line = bench.statement_row("currency", value);
        if let Some(item) = bench.statement_line(&case, &line, want) {
            assert_eq!(item["currency"], expected(want), "{case}: {item}");
        }
    }
}

/// Instants: `--at` on every posting command and the import row's `at`.
const INSTANTS: &[(&str, Want)] = &[
    ("2026-11-20T10:00:00Z", Accept("2026-11-20T10:00:00Z")),
    (" 2026-11-20T10:00:00Z ", Accept("2026-11-20T10:00:00Z")),
    ("2026-11-20T12:00:00+02:00", Accept("2026-11-20T10:00:00Z")),
    ("2026-11-20T23:59:59.5Z", Accept("2026-11-20T23:59:59.500Z")),
    ("2026-11-20T23:59:60Z", Refuse("invalid_input")),
    ("2016-12-31T23:59:60Z", Refuse("invalid_input")),
    ("", Refuse("invalid_input")),
    ("2026-11-20", Refuse("invalid_input")),
    ("2026-11-20T10:00:00", Refuse("invalid_input")),
    ("yesterday", Refuse("invalid_input")),
];

#[test]
fn instants_read_the_same_on_every_way_in() {
    let bench = Bench::new();
    for &(value, want) in INSTANTS {
        let case = format!("at {value:?}");
        if let Some(json) = bench.post(&case, &[("--at", value)], want) {
            assert_eq!(json["at"], expected(want), "{case}");
        }
        for command in ["deposit", "withdraw"] {
            if let Some(json) = bench.cash(command, &case, &[("--at", value)], want) {
                assert_eq!(json["at"], expected(want), "{command} {case}");
            }
        }
        let key = format!("at-{}", bench.next());
        let row = bench.transfer_row(&key, "at", value);
        if let Some(json) = bench.import_row(&case, &key, &row, want) {
            assert_eq!(json["at"], expected(want), "{case}");
        }
    }
}

#[test]
fn a_leap_second_is_refused_on_every_instant_flag() {
    let bench = Bench::new();
    let leap = "2026-11-20T23:59:60Z";
    for args in [
        vec!["report", "balances", "--as-of", leap],
        vec!["risk", "rescore", "--as-of", leap],
        vec!["transfer", "list", "--from", leap],
        vec!["transfer", "list", "--to", leap],
        vec!["audit", "list", "--from", leap],
        vec!["account", "statement", BOB, "--to", leap],
    ] {
        let run = bench.run(&args);
        run.assert_error(4, "invalid_input");
        assert!(
            run.stderr.contains("leap second"),
            "{args:?}: {}",
            run.stderr
        );
        bench.assert_nothing_written(&format!("{args:?}"));
    }
    let run = bench
        .ledger
        .run_with(&["transfer", "list"], &[("FINCORE_NOW", leap)]);
    run.assert_error(4, "invalid_input");
    assert!(run.stderr.contains("FINCORE_NOW"), "{}", run.stderr);
    // The same instant a moment earlier is the same day, not the next one.
    let json = bench
        .post(
            "last microsecond",
            &[("--at", "2026-11-20T23:59:59.999999Z")],
            Accept(""),
        )
        .unwrap();
    assert_eq!(json["at"], "2026-11-20T23:59:59.999999Z");
}

/// Dates: a statement line's `date` and the date flags.
const DATES: &[(&str, Want)] = &[
    ("2026-11-20", Accept("2026-11-20")),
    (" 2026-11-20\t", Accept("2026-11-20")),
    ("2026-11-5", Refuse("invalid_input")),
    ("2026-1-20", Refuse("invalid_input")),
    ("+2026-11-20", Refuse("invalid_input")),
    ("2026-02-30", Refuse("invalid_input")),
    ("20261120", Refuse("invalid_input")),
    ("", Refuse("invalid_input")),
];

#[test]
fn dates_read_the_same_on_every_way_in() {
    let bench = Bench::new();
    for &(value, want) in DATES {
        let case = format!("date {value:?}");
        let line = bench.statement_row("date", value);
        bench.statement_line(&case, &line, want);
        // The run's date flag, with a valid line.
        let line = bench.statement_row("date", DATE);
        if let Some(item) = bench.statement_with(&case, &line, &["--date", value], want) {
            assert_eq!(item["kind"], "missing_internal", "{case}");
        }
        let run = bench.run(&[
            "report",
            "compliance",
            "--from",
            value,
            "--to",
            "2026-11-30",
        ]);
        bench.expect(
            &format!("report compliance --from {case}"),
            &run,
            0,
            4,
            want,
        );
        let run = bench.run(&["transfer", "list", "--to", value]);
        bench.expect(&format!("transfer list --to {case}"), &run, 0, 4, want);
    }
}

/// How a case writes a given account number.
type Spelling = fn(&str) -> String;

#[test]
fn account_numbers_read_the_same_on_every_way_in() {
    let bench = Bench::new();
    // (case, value written for an existing number, for a new one, outcome)
    let cases: [(&str, Spelling, Want); 5] = [
        ("lower case", |n| n.to_lowercase(), Accept("")),
        ("surrounding spaces", |n| format!("  {n}\t"), Accept("")),
        (
            "a dash",
            |n| format!("{}-{}", &n[..3], &n[3..]),
            Refuse("invalid_input"),
        ),
        ("too short", |n| n[..3].to_string(), Refuse("invalid_input")),
        ("too long", |n| n.repeat(5), Refuse("invalid_input")),
    ];
    for (case, write, want) in cases {
        let value = write(BOB);
        if let Some(json) = bench.post(case, &[("--to", &value)], want) {
            assert_eq!(json["to"], BOB, "{case}");
        }
        let key = format!("num-{}", bench.next());
        let row = bench.transfer_row(&key, "to", &value);
        if let Some(json) = bench.import_row(case, &key, &row, want) {
            assert_eq!(json["to"], BOB, "{case}");
        }
        let fresh = format!("NEW{:05}", bench.next());
        let row = format!("{},Holder,checking,USD,", csv_field(&write(&fresh)));
        if bench.account_row(case, &row, want).is_some() {
            bench.ledger.json(&["account", "show", &fresh]);
        }
        let run = bench.run(&[
            "account",
            "open",
            "--holder",
            "Flag",
            "--type",
            "checking",
            "--currency",
            "USD",
            "--number",
            &write(&format!("FLG{:05}", bench.next())),
        ]);
        bench.expect(&format!("account open --number {case}"), &run, 0, 4, want);
    }
    // Empty where a number is required: a flag and an import row's `to`.
    bench.post("empty --to", &[("--to", " ")], Refuse("invalid_input"));
    let row = bench.transfer_row("num-empty", "to", "");
    bench.import_row("empty to", "num-empty", &row, Refuse("invalid_input"));
}

#[test]
fn keys_and_free_text_read_the_same_on_every_way_in() {
    let bench = Bench::new();
    // Keys: trimmed, required, at most 128 characters.
    let json = bench
        .post("key", &[("--key", " key-one\t")], Accept(""))
        .unwrap();
    assert_eq!(json["key"], "key-one");
    let shown = bench.ledger.json(&["transfer", "show", " key-one "]);
    assert_eq!(shown["id"], json["id"], "looked up trimmed, as stored");
    let row = bench.transfer_row(" key-two ", "key", " key-two ");
    let json = bench
        .import_row("key", " key-two ", &row, Accept(""))
        .unwrap();
    assert_eq!(json["key"], "key-two");
    let long_key = "k".repeat(129);
    for value in [" ", long_key.as_str()] {
        bench.post("bad key", &[("--key", value)], Refuse("invalid_input"));
        let row = bench.transfer_row(value, "key", value);
        bench.import_row("bad key", value, &row, Refuse("invalid_input"));
    }
    // References and descriptions: trimmed, at most 512 characters (not bytes).
    let wide = "é".repeat(512);
    let too_long = "x".repeat(513);
    let texts: [(&str, Want); 3] = [
        ("  rent\t", Accept("rent")),
        (&wide, Accept("")),
        (&too_long, Refuse("invalid_input")),
    ];
    for (value, want) in texts {
        let stored = match want {
            Accept("") => value.to_string(),
            Accept(text) => text.to_string(),
            Refuse(_) => String::new(),
        };
        for (flag, column) in [
            ("--description", "description"),
            ("--reference", "reference"),
        ] {
            let case = format!("{column} of {} characters", value.chars().count());
            if let Some(json) = bench.post(&case, &[(flag, value)], want) {
                assert_eq!(json[column], stored.as_str(), "{case}");
            }
            for command in ["deposit", "withdraw"] {
                if let Some(json) = bench.cash(command, &case, &[(flag, value)], want) {
                    assert_eq!(json[column], stored.as_str(), "{command} {case}");
                }
            }
            let key = format!("text-{}", bench.next());
            let row = bench.transfer_row(&key, column, value);
            if let Some(json) = bench.import_row(&case, &key, &row, want) {
                assert_eq!(json[column], stored.as_str(), "{case}");
            }
        }
    }
}

#[test]
fn rows_with_missing_or_extra_fields_are_refused_with_their_line() {
    let bench = Bench::new();
    let refuse = Refuse("invalid_input");
    // transfer import: the row is rejected (line and code in the rejects file), others post.
    let valid = bench.transfer_row("cols-ok", "key", "cols-ok");
    let short = valid
        .rsplit_once(',')
        .unwrap()
        .0
        .replace("cols-ok", "cols-short");
    let long = format!("{},extra", valid.replace("cols-ok", "cols-long"));
    for (case, key, row) in [
        ("7 fields", "cols-short", short),
        ("9 fields", "cols-long", long),
    ] {
        bench.import_row(case, key, &row, refuse);
    }
    let file = bench.ledger.write(
        "mixed.csv",
        &format!(
            "{TRANSFER_HEADER}\n{valid}\n{}\n{}\n",
            bench
                .transfer_row("cols-two", "key", "cols-two")
                .rsplit_once(',')
                .unwrap()
                .0,
            bench.transfer_row("cols-three", "key", "cols-three"),
        ),
    );
    let rejects = bench.ledger.path("mixed-rejects.csv");
    let run = bench.run(&[
        "transfer",
        "import",
        file.to_str().unwrap(),
        "--rejects",
        rejects.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.json()["posted"], 2);
    let rejected = read_rejects(&rejects);
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].0, "3");
    assert_eq!(rejected[0].1, "invalid_input");
    assert!(
        rejected[0].2.contains("7 fields, but the header has 8"),
        "{}",
        rejected[0].2
    );
    bench.accepted();
    // account import: the file is refused, naming the line.
    for (case, row) in [
        ("4 fields", "COLS0001,Holder,checking,USD"),
        ("6 fields", "COLS0002,Holder,checking,USD,,extra"),
    ] {
        bench.account_row(case, row, refuse);
    }
    // statement: the statement is refused, naming the line.
    let line = bench.statement_row("date", DATE);
    let short = line.rsplit_once(',').unwrap().0.to_string();
    let long = format!("{line},extra");
    for (case, line) in [("5 fields", short), ("7 fields", long)] {
        let file = bench.ledger.write(
            &format!("cols-{}.csv", bench.next()),
            &format!("{STATEMENT_HEADER}\n{line}\n"),
        );
        let run = bench.run(&[
            "reconcile",
            "run",
            "--account",
            &bench.statement_account,
            "--date",
            DATE,
            "--statement",
            file.to_str().unwrap(),
        ]);
        run.assert_error(4, "invalid_input");
        assert!(
            run.stderr.contains("line 2") && run.stderr.contains("fields, but the header has 6"),
            "{case}: {}",
            run.stderr
        );
        bench.assert_nothing_written(case);
    }
}

both_backends! {
    deposit_and_withdraw_take_at_and_description => deposit_and_withdraw_take_at_and_description;
}

/// `transfer deposit` and `withdraw` take `--at` and `--description` as `transfer post` does:
/// stored, shown, and part of the idempotency payload.
fn deposit_and_withdraw_take_at_and_description(ledger: &Ledger) {
    let settlement = ledger.open("Bank", "settlement", "USD", &[]);
    let customer = ledger.open("Carla", "checking", "USD", &[]);
    let deposit = ledger.json(&[
        "transfer",
        "deposit",
        "--to",
        &customer,
        "--via",
        &settlement,
        "--amount",
        "100.00",
        "--at",
        "2026-11-19T08:30:00+01:00",
        "--description",
        " cash at the counter ",
        "--key",
        "dep-1",
    ]);
    assert_eq!(deposit["at"], "2026-11-19T07:30:00Z");
    assert_eq!(deposit["description"], "cash at the counter");
    let withdrawal = ledger.json(&[
        "transfer",
        "withdraw",
        "--from",
        &customer,
        "--via",
        &settlement,
        "--amount",
        "40.00",
        "--at",
        "2026-11-19T09:00:00Z",
        "--description",
        "ATM",
        "--key",
        "wd-1",
    ]);
    assert_eq!(withdrawal["at"], "2026-11-19T09:00:00Z");
    assert_eq!(withdrawal["description"], "ATM");
    // As stored: `transfer show` and the statement print them.
    for (key, at, description) in [
        ("dep-1", "2026-11-19T07:30:00Z", "cash at the counter"),
        ("wd-1", "2026-11-19T09:00:00Z", "ATM"),
    ] {
        let shown = ledger.json(&["transfer", "show", key]);
        assert_eq!(shown["at"], at);
        assert_eq!(shown["description"], description);
    }
    let statement = ledger.json(&["account", "statement", &customer, "--to", "2026-11-19"]);
    assert_eq!(
        statement["entries"].as_array().unwrap().len(),
        2,
        "{statement}"
    );
    assert_eq!(statement["closing_balance"], "60.00");
    // The same key with another --at is another payload.
    ledger
        .run(&[
            "transfer",
            "deposit",
            "--to",
            &customer,
            "--via",
            &settlement,
            "--amount",
            "100.00",
            "--at",
            "2026-11-19T08:31:00+01:00",
            "--description",
            "cash at the counter",
            "--key",
            "dep-1",
        ])
        .assert_error(6, "idempotency_conflict");
    // Same payload (spaces aside): replayed.
    let replay = ledger.json(&[
        "transfer",
        "deposit",
        "--to",
        &customer,
        "--via",
        &settlement,
        "--amount",
        "100.00",
        "--at",
        "2026-11-19T07:30:00Z",
        "--description",
        "cash at the counter",
        "--key",
        "dep-1",
    ]);
    assert_eq!(replay["replayed"], true);
    // Without --at: now.
    let now = ledger.json(&[
        "transfer",
        "deposit",
        "--to",
        &customer,
        "--via",
        &settlement,
        "--amount",
        "1.00",
    ]);
    assert_eq!(now["at"], NOW);
    // A bad --at is refused before anything is written.
    let before = ledger.snapshot();
    for command in ["deposit", "withdraw"] {
        let side = if command == "deposit" {
            "--to"
        } else {
            "--from"
        };
        ledger
            .run(&[
                "transfer",
                command,
                side,
                &customer,
                "--via",
                &settlement,
                "--amount",
                "1.00",
                "--at",
                "2026-11-20T23:59:60Z",
            ])
            .assert_error(4, "invalid_input");
    }
    assert_eq!(ledger.snapshot(), before);
}

fn expected(want: Want) -> &'static str {
    match want {
        Accept(text) => text,
        Refuse(code) => panic!("no value for a refusal ({code})"),
    }
}
