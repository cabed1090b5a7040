use crate::both_backends;
use crate::support::Ledger;

both_backends! {
    open_generates_luhn_number => open_generates_luhn_number;
    open_with_given_number_and_conflict => open_with_given_number_and_conflict;
    open_rejects_bad_input_without_writing => open_rejects_bad_input_without_writing;
    freeze_unfreeze_close_lifecycle => freeze_unfreeze_close_lifecycle;
    list_filters => list_filters;
    statement_running_balance => statement_running_balance;
    import_is_idempotent_and_atomic => import_is_idempotent_and_atomic;
}

fn luhn_valid(number: &str) -> bool {
    let digits: Vec<u32> = number
        .chars()
        .map(|c| c.to_digit(10).expect("digit"))
        .collect();
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                if d * 2 > 9 {
                    d * 2 - 9
                } else {
                    d * 2
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

fn open_generates_luhn_number(ledger: &Ledger) {
    let account = ledger.json(&[
        "account",
        "open",
        "--holder",
        "Ada Lovelace",
        "--type",
        "checking",
        "--currency",
        "USD",
    ]);
    let number = account["number"].as_str().unwrap();
    assert_eq!(number.len(), 16);
    assert!(luhn_valid(number), "{number}");
    assert_eq!(account["holder"], "Ada Lovelace");
    assert_eq!(account["type"], "checking");
    assert_eq!(account["status"], "active");
    assert_eq!(account["balance"], "0.00");
    assert_eq!(account["overdraft_limit"], "0.00");
    assert_eq!(account["created_at"], crate::support::NOW);
    let keys: Vec<&str> = account
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "number",
        "holder",
        "type",
        "currency",
        "status",
        "balance",
        "overdraft_limit",
        "created_at",
        "updated_at",
    ] {
        assert!(keys.contains(&key), "missing {key}");
    }
    let shown = ledger.json(&["account", "show", number]);
    assert_eq!(shown, account);
    let jpy = ledger.json(&[
        "account",
        "open",
        "--holder",
        "Kenji",
        "--type",
        "savings",
        "--currency",
        "JPY",
    ]);
    assert_eq!(jpy["balance"], "0");
}

fn open_with_given_number_and_conflict(ledger: &Ledger) {
    let account = ledger.json(&[
        "account",
        "open",
        "--holder",
        "A",
        "--type",
        "checking",
        "--currency",
        "EUR",
        "--number",
        "de89abcd1234",
    ]);
    assert_eq!(account["number"], "DE89ABCD1234");
    let before = ledger.snapshot();
    ledger
        .run(&[
            "account",
            "open",
            "--holder",
            "B",
            "--type",
            "checking",
            "--currency",
            "EUR",
            "--number",
            "DE89ABCD1234",
        ])
        .assert_error(6, "account_exists");
    assert_eq!(ledger.snapshot(), before);
}

fn open_rejects_bad_input_without_writing(ledger: &Ledger) {
    let settlement = ledger.open("Bank", "settlement", "USD", &[]);
    let before = ledger.snapshot();
    let base = ["account", "open", "--holder", "X"];
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec!["--type", "gold", "--currency", "USD"],
            4,
            "invalid_input",
        ),
        (
            vec!["--type", "checking", "--currency", "XXQ"],
            4,
            "invalid_currency",
        ),
        (
            vec!["--type", "checking", "--currency", "USD", "--number", "ab"],
            4,
            "invalid_input",
        ),
        (
            vec![
                "--type",
                "checking",
                "--currency",
                "USD",
                "--overdraft-limit",
                "1.001",
            ],
            4,
            "amount_precision_exceeded",
        ),
        (
            vec![
                "--type",
                "checking",
                "--currency",
                "USD",
                "--overdraft-limit",
                "-5",
            ],
            4,
            "amount_must_be_positive",
        ),
        (
            vec!["--type", "credit", "--currency", "USD"],
            2,
            "usage_error",
        ),
        (
            vec![
                "--type",
                "checking",
                "--currency",
                "USD",
                "--initial-deposit",
                "0",
                "--via",
                &settlement,
            ],
            4,
            "amount_must_be_positive",
        ),
        (
            vec![
                "--type",
                "checking",
                "--currency",
                "USD",
                "--initial-deposit",
                "10",
                "--via",
                "4000000000000999",
            ],
            5,
            "account_not_found",
        ),
    ];
    for (extra, exit_code, code) in cases {
        let mut args = base.to_vec();
        args.extend(extra.iter().copied());
        ledger.run(&args).assert_error(exit_code, code);
    }
    assert_eq!(ledger.snapshot(), before, "a rejected open wrote something");
}

fn freeze_unfreeze_close_lifecycle(ledger: &Ledger) {
    let (settlement, customer) = ledger.funded("USD", "100.00");
    let other = ledger.open("Other", "checking", "USD", &[]);
    let frozen = ledger.json(&["account", "freeze", &customer, "--reason", "fraud check"]);
    assert_eq!(frozen["status"], "frozen");
    let before = ledger.snapshot();
    let post = [
        "transfer",
        "post",
        "--from",
        &customer,
        "--to",
        &other,
        "--amount",
        "1.00",
        "--currency",
        "USD",
    ];
    ledger.run(&post).assert_error(3, "account_frozen");
    ledger
        .run(&[
            "transfer",
            "post",
            "--from",
            &other,
            "--to",
            &customer,
            "--amount",
            "1.00",
            "--currency",
            "USD",
        ])
        .assert_error(3, "account_frozen");
    ledger
        .run(&["account", "freeze", &customer, "--reason", "again"])
        .assert_error(3, "invalid_state");
    let after = ledger.snapshot();
    assert_eq!(
        after.balances, before.balances,
        "balances changed on a rejected post"
    );
    assert_eq!(
        ledger.json(&["account", "unfreeze", &customer, "--reason", "cleared"])["status"],
        "active"
    );
    ledger
        .run(&["account", "unfreeze", &customer, "--reason", "x"])
        .assert_error(3, "invalid_state");
    ledger
        .run(&["account", "close", &customer])
        .assert_error(3, "balance_not_zero");
    ledger.json(&[
        "transfer",
        "withdraw",
        "--from",
        &customer,
        "--amount",
        "100.00",
        "--via",
        &settlement,
    ]);
    assert_eq!(
        ledger.json(&["account", "close", &customer])["status"],
        "closed"
    );
    ledger
        .run(&["account", "close", &customer])
        .assert_error(3, "account_closed");
    ledger
        .run(&["account", "freeze", &customer, "--reason", "x"])
        .assert_error(3, "account_closed");
    ledger
        .run(&[
            "transfer",
            "deposit",
            "--to",
            &customer,
            "--amount",
            "1.00",
            "--via",
            &settlement,
        ])
        .assert_error(3, "account_closed");
    ledger
        .run(&["account", "show", "4000000000000999"])
        .assert_error(5, "account_not_found");
    ledger
        .run(&["account", "freeze", "4000000000000999", "--reason", "x"])
        .assert_error(5, "account_not_found");
    let actions: Vec<String> = ledger
        .json(&["audit", "list", "--entity", &customer])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    for action in [
        "account.opened",
        "account.frozen",
        "account.unfrozen",
        "account.closed",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} missing from {actions:?}"
        );
    }
    ledger.assert_verified();
}

fn list_filters(ledger: &Ledger) {
    ledger.open("Alice Smith", "checking", "USD", &[]);
    ledger.open("Bob Jones", "savings", "EUR", &[]);
    let frozen = ledger.open("Alice Other", "savings", "USD", &[]);
    ledger.json(&["account", "freeze", &frozen, "--reason", "kyc"]);
    let count = |args: &[&str]| {
        let mut all = vec!["account", "list"];
        all.extend_from_slice(args);
        ledger.json(&all).as_array().unwrap().len()
    };
    assert_eq!(count(&[]), 3);
    assert_eq!(count(&["--holder", "alice"]), 2);
    assert_eq!(count(&["--type", "savings"]), 2);
    assert_eq!(count(&["--currency", "eur"]), 1);
    assert_eq!(count(&["--status", "frozen"]), 1);
    ledger
        .run(&["account", "list", "--status", "sleepy"])
        .assert_error(4, "invalid_input");
    let csv = ledger.run(&["--format", "csv", "account", "list"]);
    assert_eq!(csv.code, 0);
    assert!(csv.stdout.starts_with(
        "number,holder,type,currency,status,balance,overdraft_limit,created_at,updated_at\n"
    ));
    assert_eq!(csv.stdout.lines().count(), 4);
    let table = ledger.run(&["account", "list"]);
    assert!(table.stdout.contains("Alice Smith"));
}

fn statement_running_balance(ledger: &Ledger) {
    let (settlement, customer) = ledger.funded("USD", "100.00");
    let other = ledger.open("Other", "checking", "USD", &[]);
    ledger.json(&[
        "transfer",
        "post",
        "--from",
        &customer,
        "--to",
        &other,
        "--amount",
        "30.25",
        "--currency",
        "USD",
        "--at",
        "2026-11-21T09:00:00Z",
    ]);
    ledger.json(&[
        "transfer",
        "post",
        "--from",
        &other,
        "--to",
        &customer,
        "--amount",
        "5.00",
        "--currency",
        "USD",
        "--at",
        "2026-11-22T09:00:00Z",
    ]);
    let statement = ledger.json(&["account", "statement", &customer]);
    let balances: Vec<&str> = statement["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["balance"].as_str().unwrap())
        .collect();
    assert_eq!(balances, ["100.00", "69.75", "74.75"]);
    assert_eq!(statement["closing_balance"], "74.75");
    let window = ledger.json(&[
        "account",
        "statement",
        &customer,
        "--from",
        "2026-11-22",
        "--to",
        "2026-11-22",
    ]);
    assert_eq!(window["opening_balance"], "69.75");
    assert_eq!(window["entries"].as_array().unwrap().len(), 1);
    assert_eq!(window["closing_balance"], "74.75");
    let settlement_statement = ledger.json(&["account", "statement", &settlement]);
    assert_eq!(
        settlement_statement["closing_balance"], "100.00",
        "settlement is debit-normal"
    );
    // Relative dates are read (issue 15); other words are still not dates.
    ledger
        .run(&["account", "statement", &customer, "--from", "tomorrow"])
        .assert_error(4, "invalid_input");
}

fn import_is_idempotent_and_atomic(ledger: &Ledger) {
    let file = ledger.write(
        "accounts.csv",
        "number,holder,type,currency,overdraft_limit\n4000000000000010,Alice,checking,USD,100.00\n,Bob,savings,EUR,\n9000000000000001,Bank,settlement,USD,\n",
    );
    let file = file.to_str().unwrap();
    let first = ledger.json(&["account", "import", file]);
    assert_eq!(first["created"], 3);
    let before = ledger.snapshot();
    let again = ledger.json(&["account", "import", file]);
    assert_eq!(again["created"], 0);
    assert_eq!(again["unchanged"], 3);
    assert_eq!(ledger.snapshot(), before, "re-import changed something");
    let conflict = ledger.write(
        "conflict.csv",
        "number,holder,type,currency,overdraft_limit\n4000000000000028,New,checking,USD,\n4000000000000010,Alice,checking,EUR,100.00\n",
    );
    ledger
        .run(&["account", "import", conflict.to_str().unwrap()])
        .assert_error(6, "account_exists");
    assert_eq!(
        ledger.snapshot(),
        before,
        "a conflicting import was half-written"
    );
    let bad = ledger.write("bad.csv", "number,holder,type,currency,overdraft_limit\n4000000000000036,Carl,checking,USD,\n4000000000000044,Dora,checking,USD,1.234\n");
    let run = ledger.run(&["account", "import", bad.to_str().unwrap()]);
    run.assert_error(4, "amount_precision_exceeded");
    assert!(
        run.stderr.contains("line 3"),
        "names the line: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("overdraft_limit"),
        "names the field: {}",
        run.stderr
    );
    let header = ledger.write("header.csv", "num,holder\n1,2\n");
    ledger
        .run(&["account", "import", header.to_str().unwrap()])
        .assert_error(4, "invalid_input");
    assert_eq!(ledger.snapshot(), before);
}
