//! Every CSV reader refuses an opening quote that is never closed (the csv crate would read
//! every following row into that one field): exit 4 naming the file and the line where the
//! quote opened, and nothing of the file applied. Also text glued after a closing quote
//! (`"1"0.00`), while a quote inside an unquoted field (`5" pipe`) is an ordinary character.

use crate::both_backends;
use crate::support::{Ledger, Run};

both_backends! {
    transfer_import_refuses_an_unclosed_quote => transfer_import_refuses_an_unclosed_quote;
    account_import_refuses_an_unclosed_quote => account_import_refuses_an_unclosed_quote;
    statements_refuse_an_unclosed_quote => statements_refuse_an_unclosed_quote;
    rows_after_blank_lines_are_named_by_their_physical_line => rows_after_blank_lines_are_named_by_their_physical_line;
}

const SETTLEMENT: &str = "BANK0001";
const ALICE: &str = "ACCT0001";
const BOB: &str = "ACCT0002";
const IMPORT_HEADER: &str = "key,from,to,amount,currency,at,reference,description\n";

/// A USD settlement account and two customers, Alice funded with 100.00.
fn accounts(ledger: &Ledger) {
    ledger.open("Bank", "settlement", "USD", &["--number", SETTLEMENT]);
    ledger.open(
        "Alice",
        "checking",
        "USD",
        &[
            "--number",
            ALICE,
            "--initial-deposit",
            "100.00",
            "--via",
            SETTLEMENT,
        ],
    );
    ledger.open("Bob", "checking", "USD", &["--number", BOB]);
}

fn transfer_row(key: &str, description: &str) -> String {
    format!("{key},{ALICE},{BOB},1.00,USD,2026-11-20T09:00:00Z,{key},{description}\n")
}

fn assert_names(run: &Run, file: &str, parts: &[&str]) {
    run.assert_error(4, "invalid_input");
    for part in [file].iter().chain(parts) {
        assert!(
            run.stderr.contains(part),
            "'{part}' missing from stderr:\n{}",
            run.stderr
        );
    }
}

fn transfer_import_refuses_an_unclosed_quote(ledger: &Ledger) {
    accounts(ledger);
    let before = ledger.snapshot();
    // The quote opens on line 4; rows 5 and 6 would vanish into its field. One row per batch:
    // rows 2 and 3 would be committed before the reader reached the end.
    let broken = format!(
        "{IMPORT_HEADER}{}{}{}{}{}",
        transfer_row("t1", "first"),
        transfer_row("t2", "second"),
        transfer_row("t3", "\"coffee, large"),
        transfer_row("t4", "fourth"),
        transfer_row("t5", "fifth"),
    );
    let file = ledger.write("unclosed.csv", &broken);
    let rejects = ledger.write("rejects.csv", "an earlier run's rejects\n");
    let run = ledger.run(&[
        "transfer",
        "import",
        file.to_str().unwrap(),
        "--rejects",
        rejects.to_str().unwrap(),
        "--batch-rows",
        "1",
    ]);
    assert_names(&run, "unclosed.csv", &["line 4", "never closed"]);
    assert_eq!(ledger.snapshot(), before, "nothing of the file is applied");
    assert_eq!(
        std::fs::read_to_string(&rejects).unwrap(),
        "an earlier run's rejects\n",
        "the rejects file is not touched either"
    );

    // Closed, the same file posts all five rows.
    let fixed = ledger.write("fixed.csv", &broken.replace("large", "large\""));
    let summary = ledger.json(&["transfer", "import", fixed.to_str().unwrap()]);
    assert_eq!(summary["posted"], 5, "{summary}");
    assert_eq!(
        ledger.json(&["transfer", "show", "t3"])["description"],
        "coffee, large"
    );
    assert_eq!(ledger.balance(ALICE), "95.00");
    ledger.assert_verified();
}

fn account_import_refuses_an_unclosed_quote(ledger: &Ledger) {
    let before = ledger.snapshot();
    let file = ledger.write(
        "accounts.csv",
        "number,holder,type,currency,overdraft_limit\n\
         ACCT1001,Ann,checking,USD,\n\
         ACCT1002,\"Smith, John,checking,USD,\n\
         ACCT1003,Carl,savings,EUR,\n",
    );
    let run = ledger.run(&["account", "import", file.to_str().unwrap()]);
    assert_names(&run, "accounts.csv", &["line 3", "never closed"]);
    assert_eq!(ledger.snapshot(), before);

    // In the header line too.
    let file = ledger.write(
        "header.csv",
        "number,\"holder,type,currency,overdraft_limit\nACCT1001,Ann,checking,USD,\n",
    );
    let run = ledger.run(&["account", "import", file.to_str().unwrap()]);
    assert_names(&run, "header.csv", &["line 1", "never closed"]);
    assert_eq!(ledger.snapshot(), before);
}

fn statements_refuse_an_unclosed_quote(ledger: &Ledger) {
    accounts(ledger);
    let before = ledger.snapshot();
    let runs = ledger.json(&["reconcile", "list"]);
    let lines = "date,reference,amount,currency,counterparty,description\n\
                 2026-11-20,R1,1.00,USD,Acme,first\n\
                 2026-11-20,R2,2.00,USD,\"Beta, Inc,second\n\
                 2026-11-20,R3,3.00,USD,Gamma,third\n";
    let comma = ledger.write("statement.csv", lines);
    let semicolon = ledger.write("statement-semicolon.csv", &lines.replace(',', ";"));
    for (file, extra) in [
        (&comma, vec!["--input-format", "csv"]),
        (&comma, vec!["--input-format", "auto"]),
        (&semicolon, vec!["--delimiter", ";"]),
    ] {
        let mut args = vec![
            "reconcile",
            "run",
            "--account",
            SETTLEMENT,
            "--date",
            "2026-11-20",
            "--statement",
            file.to_str().unwrap(),
        ];
        args.extend(extra);
        let run = ledger.run(&args);
        let name = file.file_name().unwrap().to_str().unwrap();
        assert_names(&run, name, &["line 3", "never closed"]);
    }
    assert_eq!(
        ledger.json(&["reconcile", "list"]),
        runs,
        "no run is stored"
    );
    assert_eq!(ledger.snapshot(), before);
}

#[test]
fn sanctions_lists_refuse_an_unclosed_quote() {
    let ledger = Ledger::sqlite();
    ledger.open("Ivan Petrov", "checking", "USD", &[]);
    let before = ledger.snapshot();
    let list = ledger.write(
        "sanctions.csv",
        "name,program,list_id,aliases\n\
         John Smith,SDGT,SDN-1,\n\
         \"Ivan Petrov,SDGT,SDN-2,\n\
         Jane Roe,SDGT,SDN-3,\n",
    );
    let run = ledger.run(&[
        "report",
        "compliance",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-20",
        "--kind",
        "sanctions",
        "--sanctions-list",
        list.to_str().unwrap(),
    ]);
    assert_names(&run, "sanctions.csv", &["line 3", "never closed"]);
    assert_eq!(ledger.snapshot(), before);
}

#[test]
fn text_after_a_closing_quote_is_refused() {
    let ledger = Ledger::sqlite();
    accounts(&ledger);
    let before = ledger.snapshot();
    // The csv crate would read `"1"0.00` as 10.00.
    let file = ledger.write(
        "glued.csv",
        &format!(
            "{IMPORT_HEADER}{}t2,{ALICE},{BOB},\"1\"0.00,USD,,t2,\n",
            transfer_row("t1", "first")
        ),
    );
    let run = ledger.run(&["transfer", "import", file.to_str().unwrap()]);
    assert_names(
        &run,
        "glued.csv",
        &["line 3", "text after the closing quote"],
    );
    assert_eq!(ledger.snapshot(), before);
}

#[test]
fn quotes_inside_unquoted_fields_and_spaces_after_a_closing_quote_are_kept() {
    let ledger = Ledger::sqlite();
    accounts(&ledger);
    let file = ledger.write(
        "quotes.csv",
        &format!(
            "{IMPORT_HEADER}{}{}{}",
            transfer_row("t1", "5\" pipe"),
            transfer_row("t2", "ab\"c"),
            transfer_row("t3", "\"quoted\"  "),
        ),
    );
    let summary = ledger.json(&["transfer", "import", file.to_str().unwrap()]);
    assert_eq!(summary["posted"], 3, "{summary}");
    for (key, description) in [("t1", "5\" pipe"), ("t2", "ab\"c"), ("t3", "quoted")] {
        assert_eq!(
            ledger.json(&["transfer", "show", key])["description"],
            description
        );
    }
}

/// The csv crate skips blank lines without counting them: a rejected row after blank lines,
/// and the last row of a file without a final newline, are still named by the line an editor
/// shows (transfer import's rejects file; account import's error).
fn rows_after_blank_lines_are_named_by_their_physical_line(ledger: &Ledger) {
    accounts(ledger);
    let rows = format!(
        "{IMPORT_HEADER}{}\n{}\r\n\r\n\n{}",
        transfer_row("ok", "first"),
        transfer_row("precise", "x").replace("1.00", "1.001"),
        transfer_row("word", "y").replace("1.00", "one").trim_end()
    );
    let file = ledger.write("blank-lines.csv", &rows);
    let rejects = ledger.path("blank-lines.rejects.csv");
    let run = ledger.run(&[
        "transfer",
        "import",
        file.to_str().unwrap(),
        "--rejects",
        rejects.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines: Vec<String> = std::fs::read_to_string(&rejects)
        .unwrap()
        .lines()
        .skip(1)
        .map(|row| row.split(',').next().unwrap().to_string())
        .collect();
    assert_eq!(lines, ["4", "8"]);
    let accounts = ledger.write(
        "accounts-blank.csv",
        "number,holder,type,currency,overdraft_limit\nACCT0009,Carl,checking,USD,\n\n\nACCT0010,Dora,checking,XXX,\n",
    );
    let refused = ledger.run(&["account", "import", accounts.to_str().unwrap()]);
    refused.assert_error(4, "invalid_currency");
    assert!(refused.stderr.contains("line 5"), "{}", refused.stderr);
}
