//! What a person sees (issue 15): every screen an operator reads, run under a pseudo-terminal
//! of 80 columns, fits it with its amounts whole on one line; snapshots of the same screens at
//! 80 and 200 columns (`COLUMNS`); the import progress bar in rows and rows/s.

use crate::support::{Ledger, NOW};
use portable_pty::{native_pty_system, CommandBuilder, PtySize};
use std::io::Read;
use std::path::Path;

/// The demo's settlement account and one customer account with transfers and a risk profile.
const SETTLEMENT: &str = "9000000000000001";
const CUSTOMER: &str = "4000000000000010";
/// A transfer of the demo ledger.
const TRANSFER: &str = "43";

/// The screens issue 15 names, as arguments after `fincore`.
fn screens(dir: &Path) -> Vec<(&'static str, Vec<String>)> {
    let statement = dir.join("statement.csv").display().to_string();
    let sanctions = dir.join("sanctions.csv").display().to_string();
    let words = |text: &str| text.split(' ').map(str::to_string).collect::<Vec<_>>();
    vec![
        ("account_list", words("account list")),
        ("transfer_list", words("transfer list")),
        ("account_show", words(&format!("account show {CUSTOMER}"))),
        ("transfer_show", words(&format!("transfer show {TRANSFER}"))),
        (
            "reconcile_run",
            [
                "reconcile",
                "run",
                "--account",
                SETTLEMENT,
                "--date",
                "2026-11-20",
                "--statement",
                &statement,
            ]
            .map(str::to_string)
            .to_vec(),
        ),
        ("reconcile_show", words("reconcile show 1")),
        ("risk_show", words(&format!("risk show {CUSTOMER}"))),
        ("risk_rules_show", words("risk rules show")),
        ("audit_list", words("audit list")),
        ("report_balances", words("report balances")),
        (
            "report_compliance",
            [
                "report",
                "compliance",
                "--from",
                "2026-11-14",
                "--to",
                "2026-11-21",
                "--sanctions-list",
                &sanctions,
            ]
            .map(str::to_string)
            .to_vec(),
        ),
    ]
}

/// The demo ledger (fixed clock, fixed data) in the ledger's folder.
fn demo_ledger() -> (Ledger, String) {
    let ledger = Ledger::sqlite();
    let dir = ledger.path("demo");
    let run = ledger.run(&["demo", "--dir", dir.to_str().expect("utf-8 path")]);
    assert_eq!(run.code, 0, "demo failed: {}", run.stderr);
    let url = format!("sqlite://{}", dir.join("demo.db").display());
    (ledger, url)
}

/// Runs fincore under a pseudo-terminal of `columns` × 50 and returns all it printed (stdout
/// and stderr, as the terminal shows them), with the terminal's `\r\n` as `\n`; exit 0 or 1.
fn run_in_terminal(
    columns: u16,
    database_url: &str,
    args: &[String],
    env: &[(&str, &str)],
) -> String {
    let (code, text) = terminal_run(columns, database_url, args, env);
    assert!(code <= 1, "fincore {args:?} exit {code}:\n{text}");
    text
}

/// The exit code and the screen of fincore under a pseudo-terminal (see `run_in_terminal`).
fn terminal_run(
    columns: u16,
    database_url: &str,
    args: &[String],
    env: &[(&str, &str)],
) -> (u32, String) {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 50,
            cols: columns,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("open a pseudo-terminal");
    let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_fincore"));
    command.env_clear();
    command.env("PATH", std::env::var("PATH").unwrap_or_default());
    command.env("FINCORE_DATABASE_URL", database_url);
    command.env("FINCORE_NOW", "2026-11-21T06:00:00Z");
    command.env("FINCORE_OPERATOR", "tester");
    command.env("TERM", "xterm-256color");
    for (name, value) in env {
        command.env(name, value);
    }
    command.args(args);
    let mut child = pty.slave.spawn_command(command).expect("spawn fincore");
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().expect("pty reader");
    let mut bytes = Vec::new();
    // Linux ends a pty's output with EIO once the child has closed it: the end, not a failure.
    let mut block = [0u8; 8192];
    loop {
        match reader.read(&mut block) {
            Ok(0) | Err(_) => break,
            Ok(read) => bytes.extend_from_slice(&block[..read]),
        }
    }
    let status = child.wait().expect("wait for fincore");
    let text = String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
    (status.exit_code(), text)
}

/// Display width of each line, colour codes removed.
fn widest_line(text: &str) -> (usize, String) {
    // A progress bar redraws its line after `\r`: each frame is a line of the screen.
    text.split(['\n', '\r'])
        .map(|line| {
            let plain = console::strip_ansi_codes(line).to_string();
            (console::measure_text_width(&plain), plain)
        })
        .max_by_key(|(width, _)| *width)
        .unwrap_or_default()
}

/// Every amount the JSON of these records holds, each found whole on one screen line.
fn assert_amounts_whole(screen: &str, amounts: &[String], what: &str) {
    let plain = console::strip_ansi_codes(screen).to_string();
    for amount in amounts {
        assert!(
            plain.lines().any(|line| line
                .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
                .any(|word| word == amount)),
            "{what}: amount {amount} is not whole on one line:\n{plain}"
        );
    }
}

fn json_strings(ledger_url: &str, ledger: &Ledger, args: &[&str], key: &str) -> Vec<String> {
    let mut all = vec!["--db", ledger_url, "--format", "json"];
    all.extend_from_slice(args);
    let run = ledger.run(&all);
    assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    let document = run.json();
    let records = match &document {
        serde_json::Value::Array(items) => items.clone(),
        serde_json::Value::Object(object) => object
            .values()
            .find_map(|value| value.as_array().cloned())
            .unwrap_or_else(|| vec![document.clone()]),
        _ => Vec::new(),
    };
    records
        .iter()
        .filter_map(|record| record[key].as_str().map(str::to_string))
        .collect()
}

#[test]
fn every_screen_fits_80_columns_of_a_terminal_with_amounts_whole() {
    let (ledger, url) = demo_ledger();
    let dir = ledger.path("demo");
    let mut widths = Vec::new();
    for (name, args) in screens(&dir) {
        let screen = run_in_terminal(80, &url, &args, &[]);
        let (width, line) = widest_line(&screen);
        widths.push(format!("{name} {width}"));
        assert!(
            width <= 80,
            "{name} has a line of {width} columns:\n{line}\n\n{screen}"
        );
        assert!(
            !screen.contains('┌'),
            "{name}: a terminal gets the screen layout:\n{screen}"
        );
    }
    eprintln!("widths at 80 columns: {}", widths.join(", "));
    let balances = json_strings(&url, &ledger, &["account", "list"], "balance");
    let screen = run_in_terminal(80, &url, &["account".into(), "list".into()], &[]);
    assert_amounts_whole(&screen, &balances, "account list");
    let amounts = json_strings(&url, &ledger, &["transfer", "list"], "amount");
    let screen = run_in_terminal(80, &url, &["transfer".into(), "list".into()], &[]);
    assert_amounts_whole(&screen, &amounts, "transfer list");
    let screen = run_in_terminal(80, &url, &["report".into(), "balances".into()], &[]);
    let credits = json_strings(&url, &ledger, &["report", "balances"], "credit");
    assert_amounts_whole(&screen, &credits, "report balances");
    for (what, args, key) in [
        ("account show", ["account", "show", CUSTOMER], "balance"),
        ("transfer show", ["transfer", "show", TRANSFER], "amount"),
    ] {
        let amounts = json_strings(&url, &ledger, &args, key);
        assert_eq!(amounts.len(), 1, "{what}: one {key}");
        let args: Vec<String> = args.map(str::to_string).to_vec();
        assert_amounts_whole(&run_in_terminal(80, &url, &args, &[]), &amounts, what);
    }
}

#[test]
fn a_terminal_gets_colour_unless_no_color_and_wide_shows_every_column() {
    let (_ledger, url) = demo_ledger();
    let list = ["account".to_string(), "list".to_string()];
    let coloured = run_in_terminal(80, &url, &list, &[]);
    assert!(
        coloured.contains("\u{1b}["),
        "statuses in colour:\n{coloured}"
    );
    let plain = run_in_terminal(80, &url, &list, &[("NO_COLOR", "1")]);
    assert!(!plain.contains("\u{1b}["), "NO_COLOR: no colour:\n{plain}");
    assert!(
        !plain.contains("created at"),
        "created_at is a --wide column"
    );
    let wide = run_in_terminal(
        200,
        &url,
        &["--wide".into(), "account".into(), "list".into()],
        &[("NO_COLOR", "1")],
    );
    assert!(
        wide.contains("created at") && wide.contains("overdraft limit"),
        "{wide}"
    );
}

#[test]
fn pipes_keep_the_full_grid_and_an_empty_list_says_so_on_a_screen() {
    let ledger = Ledger::sqlite();
    let piped = ledger.run(&["account", "list"]);
    assert!(
        piped.stdout.contains("┌") && piped.stdout.contains("updated_at"),
        "{}",
        piped.stdout
    );
    let screen = ledger.run_with(&["account", "list"], &[("COLUMNS", "80")]);
    assert_eq!(screen.stdout, "no results\n");
    let json = ledger.run_with(
        &["--format", "json", "account", "list"],
        &[("COLUMNS", "80")],
    );
    assert_eq!(json.stdout.trim(), "[]");
}

/// Trace ids and the demo's temporary folder differ from run to run.
fn redacted(text: &str, dir: &Path) -> String {
    let trace = regex::Regex::new(r"\b[0-9a-f]{12}…").expect("regex");
    let text = text.replace(&dir.display().to_string(), "[DIR]");
    trace.replace_all(&text, "[TRACE]…").into_owned()
}

#[test]
fn screens_at_80_and_200_columns() {
    let (ledger, url) = demo_ledger();
    let dir = ledger.path("demo");
    for columns in ["80", "200"] {
        for (name, args) in screens(&dir) {
            // `reconcile run` on a copy, so `reconcile show 1` sees the demo's own run.
            let database = if name == "reconcile_run" {
                let copy = ledger.path(&format!("run-{columns}.db"));
                std::fs::copy(dir.join("demo.db"), &copy).expect("copy the demo ledger");
                format!("sqlite://{}", copy.display())
            } else {
                url.clone()
            };
            let mut all = vec!["--db".to_string(), database];
            all.extend(args);
            let all: Vec<&str> = all.iter().map(String::as_str).collect();
            let run = ledger.run_with(
                &all,
                &[
                    ("COLUMNS", columns),
                    ("FINCORE_NOW", "2026-11-21T06:00:00Z"),
                ],
            );
            assert!(run.code <= 1, "{name}: {}", run.stderr);
            let screen = redacted(&run.stdout, ledger.dir.path());
            insta::assert_snapshot!(format!("{name}_{columns}"), screen);
        }
    }
    let _ = NOW;
}

/// Rows of the progress test that go out of one account within an hour.
const VELOCITY_ROWS: usize = 20;

#[test]
fn the_import_progress_bar_counts_rows_and_rows_per_second() {
    let (ledger, url) = demo_ledger();
    let mut csv = String::from("key,from,to,amount,currency,at,reference,description\n");
    // 20 transfers out of one account within an hour: the 11th to the 20th trip the hourly
    // velocity rule and get the risk decision `review`.
    for row in 1..=VELOCITY_ROWS {
        csv.push_str(&format!(
            "velocity-{row},{CUSTOMER},4000000000000028,1.00,USD,2026-11-21T05:00:00Z,V{row},velocity\n"
        ));
    }
    for row in 1..=20_000 - VELOCITY_ROWS {
        csv.push_str(&format!(
            "bar-{row},{SETTLEMENT},{CUSTOMER},1.00,USD,2026-11-20T08:00:00Z,R{row},bar test\n"
        ));
    }
    let file = ledger.write("rows.csv", &csv);
    let args: Vec<String> = [
        "transfer",
        "import",
        file.to_str().expect("utf-8"),
        "--batch-rows",
        "1000",
    ]
    .map(str::to_string)
    .to_vec();
    let screen = run_in_terminal(80, &url, &args, &[("NO_COLOR", "1")]);
    assert!(screen.contains("rows/s"), "the bar shows rows/s:\n{screen}");
    assert!(
        screen.contains("/20,000 rows"),
        "the bar counts rows of the file:\n{screen}"
    );
    assert!(
        screen.contains("imported 20,000 rows in "),
        "the summary line has the elapsed time:\n{screen}"
    );
    assert!(
        screen.contains("; 10 of them need review"),
        "the summary line counts the rows sent to review:\n{screen}"
    );
    for frame in screen.split(['\r', '\n']) {
        let plain = console::strip_ansi_codes(frame).to_string();
        assert!(
            console::measure_text_width(&plain) <= 80,
            "a frame wider than 80:\n{plain}"
        );
    }
}

#[test]
fn an_error_is_red_on_a_terminal_and_plain_with_no_color() {
    let (_ledger, url) = demo_ledger();
    let args = [
        "account".to_string(),
        "show".to_string(),
        "4999999999999999".to_string(),
    ];
    let (_code, coloured) = terminal_run(80, &url, &args, &[]);
    assert!(
        coloured.contains("\u{1b}["),
        "a red error label:\n{coloured}"
    );
    assert!(
        console::strip_ansi_codes(&coloured).contains("error: "),
        "{coloured}"
    );
    let (code, plain) = terminal_run(80, &url, &args, &[("NO_COLOR", "1")]);
    assert_eq!(code, 5, "account_not_found is exit 5:\n{plain}");
    assert!(
        plain.starts_with("error: ") && !plain.contains("\u{1b}["),
        "{plain}"
    );
    let usage = ["account".to_string(), "frobnicate".to_string()];
    let (code, coloured) = terminal_run(80, &url, &usage, &[]);
    assert_eq!(code, 2, "a usage error is exit 2:\n{coloured}");
    assert!(
        coloured.starts_with("\u{1b}["),
        "a usage error's label is red too:\n{coloured}"
    );
}

#[test]
fn a_record_prints_as_field_value_lines_on_a_screen_and_one_row_in_a_pipe() {
    let ledger = Ledger::sqlite();
    let (_settlement, customer) = ledger.funded("USD", "1500.00");
    let screen = ledger.run_with(&["account", "show", &customer], &[("COLUMNS", "80")]);
    assert!(
        screen
            .stdout
            .contains(&format!("number:          {customer}\n")),
        "{}",
        screen.stdout
    );
    assert!(
        screen.stdout.contains("balance:         1500.00\n"),
        "{}",
        screen.stdout
    );
    let piped = ledger.run(&["account", "show", &customer]);
    assert!(
        piped.stdout.starts_with("┌"),
        "a pipe keeps the one-row grid:\n{}",
        piped.stdout
    );
    assert_eq!(piped.stdout.lines().count(), 5, "{}", piped.stdout);
    // COLUMNS that is not a positive number is ignored: a pipe stays a pipe.
    let ignored = ledger.run_with(&["account", "show", &customer], &[("COLUMNS", "wide")]);
    assert_eq!(ignored.stdout, piped.stdout);
    let csv = ledger.run_with(
        &["--format", "csv", "account", "show", &customer],
        &[("COLUMNS", "80")],
    );
    assert!(
        csv.stdout.starts_with("number,holder,type,"),
        "CSV never changes:\n{}",
        csv.stdout
    );
}
