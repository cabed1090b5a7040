//! Lists that answer the question (issue 15): newest first with a footer when rows are left
//! out, `--all` without a cap, filters, balances as of a date, relative dates, and the
//! transfer fields every format carries.

use crate::both_backends;
use crate::support::Ledger;
use serde_json::Value;

both_backends! {
    newest_first_with_a_footer_outside_the_data => newest_first_with_a_footer_outside_the_data;
    filters_by_status_kind_and_amount => filters_by_status_kind_and_amount;
    balance_as_of_a_date_is_the_statements_closing_balance => balance_as_of_a_date_is_the_statements_closing_balance;
    relative_dates_resolve_against_fincore_now => relative_dates_resolve_against_fincore_now;
    transfers_carry_kind_error_code_and_reversal_links => transfers_carry_kind_error_code_and_reversal_links;
    audit_list_keeps_the_newest_events_with_a_footer => audit_list_keeps_the_newest_events_with_a_footer;
}

/// A truncated audit list shows the newest events (in chain order, so each follows the one
/// before it) and says how many were left out.
fn audit_list_keeps_the_newest_events_with_a_footer(ledger: &Ledger) {
    for holder in ["A", "B", "C", "D"] {
        ledger.open(holder, "checking", "USD", &[]);
    }
    let all = ledger.json(&["audit", "list", "--all"]);
    let seqs: Vec<i64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.len() >= 4, "{all}");
    let newest: Vec<i64> = seqs[seqs.len() - 2..].to_vec();
    let run = ledger.run(&["--format", "json", "audit", "list", "--limit", "2"]);
    let shown: Vec<i64> = run
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(shown, newest);
    let footer = format!("showing 2 of {}; --limit N or --all", seqs.len());
    assert!(run.stderr.contains(&footer), "{}", run.stderr);
    let table = ledger.run(&["audit", "list", "--limit", "2"]);
    assert!(table.stdout.contains(&footer), "{}", table.stdout);
    assert_eq!(
        ledger.json(&["audit", "list"]),
        all,
        "no footer, same events"
    );
    ledger
        .run(&["audit", "list", "--all", "--limit", "3"])
        .assert_error(2, "usage_error");
}

fn post(ledger: &Ledger, from: &str, to: &str, amount: &str, at: &str) -> Value {
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
        "USD",
        "--at",
        at,
    ])
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .expect("a JSON array")
        .iter()
        .map(|transfer| transfer["id"].as_i64().expect("id"))
        .collect()
}

fn newest_first_with_a_footer_outside_the_data(ledger: &Ledger) {
    let (_, alice) = ledger.funded("USD", "1000.00");
    let bob = ledger.open("Bob", "checking", "USD", &[]);
    // Booked out of id order: the list follows the booking instant, then the id.
    let late = post(ledger, &alice, &bob, "1.00", "2026-11-20T11:00:00Z")["id"].clone();
    let early = post(ledger, &alice, &bob, "2.00", "2026-11-20T09:00:00Z")["id"].clone();
    let middle = post(ledger, &alice, &bob, "3.00", "2026-11-20T10:00:00Z")["id"].clone();
    let listed = ledger.json(&["transfer", "list", "--account", &bob]);
    assert_eq!(
        ids(&listed),
        [&late, &middle, &early].map(|id| id.as_i64().unwrap())
    );

    let footer = "showing 2 of 4; --limit N or --all";
    let table = ledger.run(&["transfer", "list", "--limit", "2"]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table.stdout.trim_end().ends_with(footer),
        "{}",
        table.stdout
    );

    let json = ledger.run(&["--format", "json", "transfer", "list", "--limit", "2"]);
    assert_eq!(
        json.json().as_array().unwrap().len(),
        2,
        "the data holds rows only"
    );
    assert!(json.stderr.contains(footer), "{}", json.stderr);
    let csv = ledger.run(&["--format", "csv", "transfer", "list", "--limit", "2"]);
    assert_eq!(csv.stdout.lines().count(), 3, "{}", csv.stdout);
    assert!(!csv.stdout.contains("showing"), "{}", csv.stdout);
    assert!(csv.stderr.contains(footer), "{}", csv.stderr);
    let quiet = ledger.run(&[
        "--quiet", "--format", "csv", "transfer", "list", "--limit", "2",
    ]);
    assert!(!quiet.stderr.contains("showing"), "{}", quiet.stderr);

    // Every row shown: no footer.
    let whole = ledger.run(&["transfer", "list"]);
    assert!(!whole.stdout.contains("showing"), "{}", whole.stdout);
    assert!(!whole.stderr.contains("showing"), "{}", whole.stderr);

    // --all and --limit together is a usage error; so is a limit past the cap.
    ledger
        .run(&["transfer", "list", "--all", "--limit", "5"])
        .assert_error(2, "usage_error");
    let over = ledger.run(&["transfer", "list", "--limit", "100001"]);
    over.assert_error(2, "usage_error");
    assert!(over.stderr.contains("--all"), "{}", over.stderr);
    let all = ledger.json(&["transfer", "list", "--all"]);
    assert_eq!(all.as_array().unwrap().len(), 4);
    assert_eq!(all, ledger.json(&["transfer", "list"]));
}

fn filters_by_status_kind_and_amount(ledger: &Ledger) {
    let (settlement, alice) = ledger.funded("USD", "100.00");
    let bob = ledger.open("Bob", "checking", "USD", &[]);
    post(ledger, &alice, &bob, "10.00", "2026-11-20T09:00:00Z");
    post(ledger, &alice, &bob, "50.00", "2026-11-20T10:00:00Z");
    let rejected = ledger.run(&[
        "transfer",
        "post",
        "--from",
        &alice,
        "--to",
        &bob,
        "--amount",
        "500.00",
        "--currency",
        "USD",
    ]);
    rejected.assert_error(3, "insufficient_funds");
    let yen = ledger.open("Yen bank", "settlement", "JPY", &[]);
    ledger.open(
        "Yen holder",
        "checking",
        "JPY",
        &["--initial-deposit", "60", "--via", &yen],
    );

    let count = |extra: &[&str]| {
        let mut args = vec!["transfer", "list"];
        args.extend_from_slice(extra);
        ledger.json(&args).as_array().unwrap().len()
    };
    assert_eq!(count(&[]), 5);
    assert_eq!(count(&["--status", "rejected"]), 1);
    assert_eq!(count(&["--status", "POSTED"]), 4);
    assert_eq!(count(&["--kind", "deposit"]), 2);
    assert_eq!(count(&["--kind", "deposit", "--currency", "jpy"]), 1);
    assert_eq!(count(&["--kind", "reversal"]), 0);
    // Each transfer against its own currency: 50.00 USD and 100.00 USD (the deposit, the
    // rejected 500.00) pass; 60 JPY passes 50 too.
    assert_eq!(count(&["--min-amount", "50"]), 4);
    assert_eq!(
        count(&["--min-amount", "50.005"]),
        3,
        "rounded up to 50.01 USD, 51 JPY"
    );
    assert_eq!(count(&["--min-amount", "100", "--status", "posted"]), 1);
    let deposits = ledger.json(&["transfer", "list", "--kind", "deposit", "--currency", "USD"]);
    assert_eq!(deposits[0]["from"], settlement.as_str());
    assert_eq!(deposits[0]["kind"], "deposit");

    for (flag, value) in [
        ("--status", "sleepy"),
        ("--kind", "gift"),
        ("--min-amount", "-1"),
        ("--min-amount", "ten"),
        ("--currency", "XXQ"),
    ] {
        let run = ledger.run(&["transfer", "list", flag, value]);
        assert_eq!(run.code, 4, "{flag} {value}: {}", run.stderr);
        assert!(run.stderr.contains(flag), "{flag}: {}", run.stderr);
    }
    // account list's filters list their values in help and keep SPEC's exit 4.
    ledger
        .run(&["account", "list", "--type", "gold"])
        .assert_error(4, "invalid_input");
    let help = ledger.run(&["transfer", "list", "--help"]);
    assert!(help.stdout.contains("posted, rejected"), "{}", help.stdout);
    assert!(help.stdout.contains("deposit"), "{}", help.stdout);
}

fn balance_as_of_a_date_is_the_statements_closing_balance(ledger: &Ledger) {
    let (settlement, alice) = ledger.funded("USD", "1000.00");
    let bob = ledger.open("Bob", "checking", "USD", &[]);
    post(ledger, &alice, &bob, "100.00", "2026-11-18T09:00:00Z");
    post(ledger, &alice, &bob, "20.50", "2026-11-19T23:59:59.999999Z");
    post(ledger, &bob, &alice, "7.25", "2026-11-20T00:00:00Z");
    for (account, date) in [
        (&bob, "2026-11-17"),
        (&bob, "2026-11-18"),
        (&bob, "2026-11-19"),
        (&alice, "2026-11-19"),
        (&settlement, "2026-11-19"),
        (&bob, "2026-11-20"),
    ] {
        let closing = ledger.json(&["account", "statement", account, "--to", date])
            ["closing_balance"]
            .clone();
        let shown = ledger.json(&["account", "show", account, "--as-of", date]);
        assert_eq!(shown["balance"], closing, "{account} as of {date}");
        assert_eq!(shown["as_of"], format!("{date}T23:59:59.999999Z"));
        let report = ledger.json(&["report", "balances", "--account", account, "--as-of", date]);
        let rows = report["accounts"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{report}");
        assert_eq!(rows[0]["balance"], closing, "{account} as of {date}");
    }
    assert_eq!(
        ledger.json(&["account", "show", &bob, "--as-of", "2026-11-19"])["balance"],
        "120.50"
    );
    // Without --as-of: the stored balance, no as_of field.
    let now = ledger.json(&["account", "show", &bob]);
    assert_eq!(now["balance"], "113.25");
    assert!(now.get("as_of").is_none());
    let table = ledger.run(&["account", "show", &bob, "--as-of", "2026-11-18"]);
    assert!(table.stdout.contains("100.00"), "{}", table.stdout);
    assert!(
        table.stdout.contains("balance as of 2026-11-18"),
        "{}",
        table.stdout
    );

    ledger
        .run(&["account", "show", &bob, "--as-of", "18.11.2026"])
        .assert_error(4, "invalid_input");
    ledger
        .run(&["report", "balances", "--account", "9999999999999995"])
        .assert_error(5, "account_not_found");
}

fn relative_dates_resolve_against_fincore_now(ledger: &Ledger) {
    // FINCORE_NOW is 2026-11-20T12:00:00Z in every test.
    let (_, alice) = ledger.funded("USD", "1000.00");
    let bob = ledger.open("Bob", "checking", "USD", &[]);
    post(ledger, &alice, &bob, "1.00", "2026-11-12T10:00:00Z");
    let yesterday = post(ledger, &alice, &bob, "2.00", "2026-11-19T10:00:00Z")["id"].clone();
    let today = post(ledger, &alice, &bob, "3.00", "2026-11-20T10:00:00Z")["id"].clone();
    let listed = |extra: &[&str]| {
        let mut args = vec!["transfer", "list", "--account", &bob];
        args.extend_from_slice(extra);
        ids(&ledger.json(&args))
    };
    assert_eq!(listed(&["--from", "today"]), [today.as_i64().unwrap()]);
    assert_eq!(
        listed(&["--from", "yesterday", "--to", "yesterday"]),
        [yesterday.as_i64().unwrap()]
    );
    assert_eq!(listed(&["--since", "-1d"]).len(), 2, "--since is --from");
    assert_eq!(listed(&["--from", "-7d"]).len(), 2);
    assert_eq!(listed(&["--from", "-8d"]).len(), 3);
    assert_eq!(listed(&["--until", "-1d"]).len(), 2, "--until is --to");
    // The same words in a statement, a balance and a report.
    assert_eq!(
        ledger.json(&["account", "show", &bob, "--as-of", "yesterday"])["balance"],
        "3.00"
    );
    let statement = ledger.json(&["account", "statement", &bob, "--from", "today"]);
    assert_eq!(statement["opening_balance"], "3.00");
    let report = ledger.json(&["report", "compliance", "--from", "-7d", "--to", "today"]);
    assert_eq!(report["period"]["from"], "2026-11-13");
    assert_eq!(report["period"]["to"], "2026-11-20");
    // Against another clock, the same word names another day.
    let elsewhere = ledger.run_with(
        &[
            "--format", "json", "account", "show", &bob, "--as-of", "today",
        ],
        &[("FINCORE_NOW", "2026-11-19T08:00:00Z")],
    );
    assert_eq!(elsewhere.json()["as_of"], "2026-11-19T23:59:59.999999Z");
    for bad in ["-7w", "tomorrow", "-d"] {
        ledger
            .run(&["transfer", "list", "--from", bad])
            .assert_error(4, "invalid_input");
    }
}

fn transfers_carry_kind_error_code_and_reversal_links(ledger: &Ledger) {
    let (_, alice) = ledger.funded("USD", "100.00");
    let bob = ledger.open("Bob", "checking", "USD", &[]);
    let original = post(ledger, &alice, &bob, "10.00", "2026-11-20T09:00:00Z");
    assert_eq!(original["kind"], "transfer");
    assert_eq!(original["error_code"], Value::Null);
    assert_eq!(original["reverses"], Value::Null);
    assert_eq!(original["reversed_by"], Value::Null);
    let id = original["id"].to_string();
    let reversal = ledger.json(&["transfer", "reverse", &id, "--reason", "typo"]);
    assert_eq!(reversal["kind"], "reversal");
    assert_eq!(reversal["reverses"], original["id"]);
    let shown = ledger.json(&["transfer", "show", &id]);
    assert_eq!(shown["reversed_by"], reversal["id"]);
    let listed = ledger.json(&["transfer", "list", "--account", &bob]);
    let listed_original = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|transfer| transfer["id"] == original["id"])
        .unwrap();
    assert_eq!(listed_original["reversed_by"], reversal["id"]);
    let rejected = ledger.run(&[
        "transfer",
        "post",
        "--from",
        &alice,
        "--to",
        &bob,
        "--amount",
        "5000.00",
        "--currency",
        "USD",
        "--key",
        "too-much",
    ]);
    rejected.assert_error(3, "insufficient_funds");
    let shown = ledger.json(&["transfer", "show", "too-much"]);
    assert_eq!(shown["status"], "rejected");
    assert_eq!(shown["error_code"], "insufficient_funds");

    // CSV: the same fields as columns, one flat row per transfer.
    let csv = ledger.run(&["--format", "csv", "transfer", "list", "--account", &bob]);
    let mut reader = csv::Reader::from_reader(csv.stdout.as_bytes());
    let headers = reader.headers().unwrap().clone();
    for column in ["kind", "status", "error_code", "reverses", "reversed_by"] {
        assert!(headers.iter().any(|h| h == column), "{column}: {headers:?}");
    }
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let of = |id: &Value| {
        rows.iter()
            .find(|row| row[column("id")] == *id.to_string())
            .unwrap()
            .clone()
    };
    assert_eq!(
        &of(&original["id"])[column("reversed_by")],
        reversal["id"].to_string()
    );
    assert_eq!(
        &of(&reversal["id"])[column("reverses")],
        original["id"].to_string()
    );
    assert_eq!(
        &of(&shown["id"])[column("error_code")],
        "insufficient_funds"
    );
    assert_eq!(&of(&shown["id"])[column("status")], "rejected");
}

/// `--all` has no cap: 100,010 imported transfers (plus the funding deposit) come out, as
/// one JSON array and as one CSV table, streamed page by page. SQLite only: the rows are
/// many, the paging is the same SQL on both backends (covered above with a small list).
#[test]
fn all_streams_past_one_hundred_thousand_rows() {
    const ROWS: usize = 100_010;
    let ledger = Ledger::sqlite();
    let (_, alice) = ledger.funded("USD", "1000000.00");
    let bob = ledger.open("Bob", "checking", "USD", &[]);
    let mut csv = String::with_capacity(ROWS * 90);
    csv.push_str("key,from,to,amount,currency,at,reference,description\n");
    for row in 0..ROWS {
        let second = row % 3600;
        csv.push_str(&format!(
            "k{row},{alice},{bob},0.01,USD,2026-11-19T{:02}:{:02}:{:02}Z,,\n",
            second / 3600 + 10,
            (second / 60) % 60,
            second % 60
        ));
    }
    let file = ledger.write("many.csv", &csv);
    let import = ledger.run(&[
        "--no-progress",
        "transfer",
        "import",
        file.to_str().unwrap(),
    ]);
    assert_eq!(import.code, 0, "{}", import.stderr);

    let listed = ledger.run(&["--format", "csv", "transfer", "list", "--all"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert_eq!(
        listed.stdout.lines().count(),
        1 + ROWS + 1,
        "header, rows, deposit"
    );
    assert!(!listed.stderr.contains("showing"), "{}", listed.stderr);
    let json = ledger.run(&["--format", "json", "transfer", "list", "--all"]);
    let all = json.json();
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), ROWS + 1);
    let ids: Vec<i64> = all.iter().map(|t| t["id"].as_i64().unwrap()).collect();
    let mut distinct = ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), ids.len(), "no row twice across pages");
    let instants: Vec<&str> = all.iter().map(|t| t["at"].as_str().unwrap()).collect();
    assert!(
        instants.windows(2).all(|pair| pair[0] >= pair[1]),
        "newest first across pages"
    );
    // Without --all, the default page and the footer counting every row.
    let page = ledger.run(&["transfer", "list"]);
    assert!(
        page.stdout
            .contains("showing 100 of 100,011; --limit N or --all"),
        "{}",
        page.stdout
    );
}

/// `demo` ends with the `export FINCORE_DATABASE_URL=…` line and commands to carry on; each
/// runs as printed in a shell where `fincore` is this build (and the "resolve with" hint,
/// with its placeholders filled in). The directory has a space: the export line quotes it.
#[test]
fn demo_prints_an_export_line_and_hints_that_run_as_printed() {
    let ledger = Ledger::sqlite();
    let dir = ledger.path("my demo");
    let run = ledger.run(&["demo", "--dir", dir.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let start = lines
        .iter()
        .position(|line| *line == "continue with this ledger:")
        .unwrap_or_else(|| panic!("no continuation block:\n{}", run.stdout));
    let export = lines[start + 1].trim();
    assert_eq!(
        export,
        format!(
            "export FINCORE_DATABASE_URL='sqlite://{}'",
            dir.join("demo.db").display()
        )
    );
    let commands: Vec<&str> = lines[start + 2..]
        .iter()
        .map(|line| line.trim())
        .take_while(|line| line.starts_with("fincore "))
        .collect();
    assert!(commands.len() >= 3, "{}", run.stdout);
    let item = ledger.json(&[
        "--db",
        &format!("sqlite://{}", dir.join("demo.db").display()),
        "reconcile",
        "show",
        "1",
    ])["items"][0]["id"]
        .to_string();
    let resolve = run
        .stdout
        .lines()
        .find_map(|line| line.split_once("resolve with: ").map(|(_, hint)| hint))
        .expect("a resolve hint")
        .replace("ITEM", &item)
        .replace("(--post-to ACCOUNT | --accept)", "--accept")
        .replace("TEXT", "checked");
    let binaries = std::path::Path::new(env!("CARGO_BIN_EXE_fincore"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        binaries.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for command in commands.iter().copied().chain([resolve.as_str()]) {
        // A fresh directory: a hint that forgot the ledger would make an empty one here.
        let elsewhere = tempfile::TempDir::new().unwrap();
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{export} && {command}"))
            .env_clear()
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .env("FINCORE_OPERATOR", "tester")
            .current_dir(elsewhere.path())
            .output()
            .unwrap();
        let code = output.status.code().unwrap_or(-1);
        assert!(
            code == 0 || code == 1,
            "{command}: exit {code}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            !elsewhere.path().join("fincore.db").exists(),
            "{command} made a ledger of its own"
        );
        assert!(!output.stdout.is_empty(), "{command} printed nothing");
    }
}

/// `man/` holds exactly what `fincore man --dir` writes (the completions have their own test
/// in misc.rs); `scripts/regenerate-docs.sh` rewrites both.
#[test]
fn committed_man_pages_are_current() {
    let ledger = Ledger::sqlite();
    let fresh = ledger.path("man");
    let run = ledger.run(&["man", "--dir", fresh.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let names = |dir: &std::path::Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap_or_else(|_| panic!("{} exists", dir.display()))
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let stale = "man/ is stale: run scripts/regenerate-docs.sh";
    assert_eq!(names(&fresh), names(&committed), "{stale}");
    assert!(names(&fresh).contains(&"fincore-transfer-list.1".to_string()));
    for name in names(&fresh) {
        let expected = std::fs::read_to_string(fresh.join(&name)).unwrap();
        let found = std::fs::read_to_string(committed.join(&name)).unwrap();
        assert_eq!(found, expected, "{name}: {stale}");
    }
    // The page of a list names its values and carries the examples.
    let page = std::fs::read_to_string(fresh.join("fincore-transfer-list.1")).unwrap();
    for text in ["rejected", "withdrawal", "Examples:", "\\-\\-all"] {
        assert!(page.contains(text), "{text}: {page}");
    }
    // Without --dir: the main page on stdout.
    let main = ledger.run(&["man"]);
    assert_eq!(main.code, 0);
    assert_eq!(
        main.stdout,
        std::fs::read_to_string(committed.join("fincore.1")).unwrap()
    );
}

/// Help teaches: every subcommand's help has its examples and one line pointing at the
/// global options instead of repeating them; `fincore help global` lists them once; they
/// still work after the command's name.
#[test]
fn help_has_examples_and_the_global_options_once() {
    let ledger = Ledger::sqlite();
    let help = ledger.run(&["transfer", "list", "--help"]);
    assert_eq!(help.code, 0);
    assert!(
        help.stdout.contains("Examples:\n  fincore transfer list"),
        "{}",
        help.stdout
    );
    assert!(
        help.stdout.contains("fincore help global"),
        "{}",
        help.stdout
    );
    assert!(!help.stdout.contains("--lock-timeout"), "{}", help.stdout);
    let open = ledger.run(&["account", "open", "--help"]);
    assert!(
        open.stdout
            .contains("checking, savings, credit, settlement, internal"),
        "{}",
        open.stdout
    );
    let global = ledger.run(&["help", "global"]);
    assert_eq!(global.code, 0, "{}", global.stderr);
    for flag in [
        "--db",
        "--format",
        "--operator",
        "--lock-timeout",
        "FINCORE_FORMAT",
    ] {
        assert!(global.stdout.contains(flag), "{flag}: {}", global.stdout);
    }
    let root = ledger.run(&["--help"]);
    assert!(root.stdout.contains("Global options:"), "{}", root.stdout);
    let nested = ledger.run(&["help", "transfer", "list"]);
    assert_eq!(nested.stdout, help.stdout);
    ledger
        .run(&["help", "transfer", "lisst"])
        .assert_error(2, "usage_error");
    // A global option after the command's name still works (hidden in its help only).
    let json = ledger.run(&["transfer", "list", "--format", "json"]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    assert!(json.json().is_array());
}

/// The demo ledger (every compliance kind finds something in it) and its database URL.
fn demo_ledger() -> (Ledger, String) {
    let ledger = Ledger::sqlite();
    let dir = ledger.path("demo");
    let run = ledger.run(&["--format", "json", "demo", "--dir", dir.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let url = format!("sqlite://{}", dir.join("demo.db").display());
    (ledger, url)
}

fn compliance(ledger: &Ledger, url: &str, extra: &[&str]) -> crate::support::Run {
    let sanctions = ledger.path("demo").join("sanctions.csv");
    let mut args = vec![
        "--db",
        url,
        "report",
        "compliance",
        "--from",
        "2026-11-14",
        "--to",
        "2026-11-21",
        "--sanctions-list",
        sanctions.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    ledger.run(&args)
}

/// CSV is one flat table per output: no JSON in a cell (lists joined with `;`, a list of
/// objects one column per field), several kinds only as a directory of KIND.csv files; the
/// audit section has every measure the JSON has; sanctions hits name the masked account.
#[test]
fn compliance_csv_is_flat_and_complete() {
    let (ledger, url) = demo_ledger();
    let json = compliance(&ledger, &url, &["--format", "json"]).json();
    for kind in ["ctr", "structuring", "sanctions", "suspicious", "audit"] {
        let run = compliance(&ledger, &url, &["--format", "csv", "--kind", kind]);
        assert_eq!(run.code, 0, "{kind}: {}", run.stderr);
        assert!(
            !run.stdout.contains('['),
            "{kind}: JSON in a cell:\n{}",
            run.stdout
        );
        assert!(
            !run.stdout.contains('{'),
            "{kind}: JSON in a cell:\n{}",
            run.stdout
        );
        assert!(
            !run.stdout.contains("\n\n"),
            "{kind}: one table:\n{}",
            run.stdout
        );
        let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
        let width = reader.headers().unwrap().len();
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert!(rows.iter().all(|row| row.len() == width), "{kind}: flat");
        if kind != "audit" {
            assert_eq!(rows.len(), json[kind].as_array().unwrap().len(), "{kind}");
        }
    }
    let structuring = compliance(&ledger, &url, &["--format", "csv", "--kind", "structuring"]);
    let mut reader = csv::Reader::from_reader(structuring.stdout.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let row = reader.records().next().unwrap().unwrap();
    let cell = |name: &str| row[headers.iter().position(|h| h == name).unwrap()].to_string();
    let ids: Vec<String> = json["structuring"][0]["transfer_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.to_string())
        .collect();
    assert_eq!(cell("transfer_ids"), ids.join(";"));
    assert_eq!(cell("deposits.transfer_id"), ids.join(";"));
    assert_eq!(cell("deposits.amount"), "9500.00;9500.00;9500.00");

    // The audit section, in CSV and in the table, has every count of the JSON.
    let audit_csv = compliance(&ledger, &url, &["--format", "csv", "--kind", "audit"]).stdout;
    let audit_table = compliance(&ledger, &url, &["--kind", "audit"]).stdout;
    let audit = &json["audit"];
    for (measure, counts) in audit.as_object().unwrap() {
        match counts.as_object() {
            Some(counts) => {
                for (key, count) in counts {
                    assert!(
                        audit_csv.contains(&format!("{measure},{key},{count}\n")),
                        "{measure} {key}: {audit_csv}"
                    );
                    assert!(audit_table.contains(key.as_str()), "{key}: {audit_table}");
                }
            }
            None => assert!(audit_csv.contains(&format!("{measure},,{counts}\n"))),
        }
    }
    assert!(
        audit_table.contains("reconciliation_breaks_by_kind"),
        "{audit_table}"
    );
    assert!(audit_table.contains("missing_internal"), "{audit_table}");

    // Sanctions hits carry the holder's account, masked unless --unmask.
    let hit = &json["sanctions"][0];
    let account = hit["accounts"][0].as_str().expect("an account");
    assert!(account.contains("********"), "{hit}");
    let unmasked = compliance(
        &ledger,
        &url,
        &["--format", "json", "--kind", "sanctions", "--unmask"],
    );
    let number = unmasked.json()["sanctions"][0]["accounts"][0].clone();
    let holder = ledger.json(&["--db", &url, "account", "show", number.as_str().unwrap()]);
    assert_eq!(holder["holder"], hit["holder"]);
}

/// `--out DIR` writes one file per kind with a stated name; a file name for several kinds,
/// or several kinds on stdout, is a usage error that writes nothing.
#[test]
fn compliance_out_dir_writes_one_file_per_kind() {
    let (ledger, url) = demo_ledger();
    let all = compliance(&ledger, &url, &["--format", "csv"]);
    all.assert_error(2, "usage_error");
    assert!(all.stderr.contains("--out DIR"), "{}", all.stderr);
    let file = ledger.path("report.csv");
    compliance(
        &ledger,
        &url,
        &["--format", "csv", "--out", file.to_str().unwrap()],
    )
    .assert_error(2, "usage_error");
    assert!(!file.exists(), "nothing written");

    let dir = ledger.path("reports");
    let run = compliance(
        &ledger,
        &url,
        &["--format", "csv", "--out", dir.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut written: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(
        written,
        [
            "audit.csv",
            "ctr.csv",
            "sanctions.csv",
            "structuring.csv",
            "suspicious.csv"
        ]
    );
    for name in &written {
        assert!(
            run.stdout.contains(&dir.join(name).display().to_string()),
            "{}",
            run.stdout
        );
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        assert!(
            !text.contains("\n\n") && !text.contains('['),
            "{name}: {text}"
        );
    }
    // One kind into a file is a file; into a path ending in '/' a directory.
    let one = ledger.path("ctr-only.csv");
    let run = compliance(
        &ledger,
        &url,
        &[
            "--format",
            "csv",
            "--kind",
            "ctr",
            "--out",
            one.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(std::fs::read_to_string(&one)
        .unwrap()
        .starts_with("accounts,"));
    let slash = format!("{}/", ledger.path("one-kind").display());
    let run = compliance(
        &ledger,
        &url,
        &["--format", "csv", "--kind", "audit", "--out", &slash],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(ledger.path("one-kind").join("audit.csv").exists());
}
