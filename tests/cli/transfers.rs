use crate::both_backends;
use crate::support::Ledger;

both_backends! {
    post_moves_money_both_ways => post_moves_money_both_ways;
    deposit_and_withdraw_through_settlement => deposit_and_withdraw_through_settlement;
    business_rejections_are_recorded_and_move_nothing => business_rejections_are_recorded_and_move_nothing;
    invalid_input_writes_nothing => invalid_input_writes_nothing;
    overdraft_and_credit_limits => overdraft_and_credit_limits;
    show_and_list => show_and_list;
    reverse_once_only => reverse_once_only;
    import_posts_replays_and_rejects => import_posts_replays_and_rejects;
    balances_report_balances => balances_report_balances;
}

fn post_moves_money_both_ways(ledger: &Ledger) {
    let (settlement, alice) = ledger.funded("USD", "1000.00");
    let bob = ledger.open("Bob", "checking", "USD", &[]);
    let transfer = ledger.json(&[
        "transfer",
        "post",
        "--from",
        &alice,
        "--to",
        &bob,
        "--amount",
        "250.10",
        "--currency",
        "USD",
        "--reference",
        "INV-1",
        "--description",
        "rent",
    ]);
    assert_eq!(transfer["amount"], "250.10");
    assert_eq!(transfer["status"], "posted");
    assert_eq!(transfer["replayed"], false);
    assert_eq!(transfer["from"], alice.as_str());
    assert_eq!(transfer["risk"]["decision"], "approve");
    assert!(transfer["trace_id"].as_str().unwrap().len() == 32);
    for key in [
        "id",
        "key",
        "from",
        "to",
        "amount",
        "currency",
        "status",
        "reference",
        "description",
        "at",
        "risk",
        "trace_id",
        "replayed",
    ] {
        assert!(transfer.get(key).is_some(), "missing {key}");
    }
    assert_eq!(ledger.balance(&alice), "749.90");
    assert_eq!(ledger.balance(&bob), "250.10");
    assert_eq!(ledger.balance(&settlement), "1000.00");
    ledger.assert_verified();
}

fn deposit_and_withdraw_through_settlement(ledger: &Ledger) {
    let settlement = ledger.open("Bank", "settlement", "EUR", &[]);
    let customer = ledger.open("Carla", "savings", "EUR", &[]);
    let deposit = ledger.json(&[
        "transfer",
        "deposit",
        "--to",
        &customer,
        "--amount",
        "500",
        "--via",
        &settlement,
        "--reference",
        "D1",
    ]);
    assert_eq!(deposit["from"], settlement.as_str());
    assert_eq!(deposit["amount"], "500.00");
    ledger.json(&[
        "transfer",
        "withdraw",
        "--from",
        &customer,
        "--amount",
        "120.00",
        "--via",
        &settlement,
    ]);
    assert_eq!(ledger.balance(&customer), "380.00");
    assert_eq!(ledger.balance(&settlement), "380.00");
    let before = ledger.snapshot();
    ledger
        .run(&[
            "transfer", "withdraw", "--from", &customer, "--amount", "1.00", "--via", &customer,
        ])
        .assert_error(4, "invalid_input");
    ledger
        .run(&[
            "transfer",
            "deposit",
            "--to",
            &customer,
            "--amount",
            "1.00",
            "--via",
            "9000000000009999",
        ])
        .assert_error(5, "account_not_found");
    assert_eq!(ledger.snapshot(), before);
}

fn business_rejections_are_recorded_and_move_nothing(ledger: &Ledger) {
    let (_, alice) = ledger.funded("USD", "50.00");
    let bob = ledger.open("Bob", "checking", "USD", &[]);
    let euro = ledger.open("Eve", "checking", "EUR", &[]);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "--from",
                &alice,
                "--to",
                &bob,
                "--amount",
                "50.01",
                "--currency",
                "USD",
            ],
            "insufficient_funds",
        ),
        (
            vec![
                "--from",
                &alice,
                "--to",
                &alice,
                "--amount",
                "1.00",
                "--currency",
                "USD",
            ],
            "accounts_must_be_different",
        ),
        (
            vec![
                "--from",
                &alice,
                "--to",
                &euro,
                "--amount",
                "1.00",
                "--currency",
                "USD",
            ],
            "currency_mismatch",
        ),
        (
            vec![
                "--from",
                &alice,
                "--to",
                &bob,
                "--amount",
                "1.00",
                "--currency",
                "EUR",
            ],
            "currency_mismatch",
        ),
    ];
    for (index, (flags, code)) in cases.into_iter().enumerate() {
        let before = ledger.snapshot();
        let key = format!("reject-{index}");
        let mut args = vec!["transfer", "post", "--key", &key];
        args.extend(flags.iter().copied());
        ledger.run(&args).assert_error(3, code);
        let after = ledger.snapshot();
        assert_eq!(after.balances, before.balances, "{code}: balances moved");
        assert_eq!(after.accounts, before.accounts, "{code}: accounts changed");
        let recorded = ledger.json(&["transfer", "show", &key]);
        assert_eq!(
            recorded["status"], "rejected",
            "{code}: the rejected attempt is recorded"
        );
        assert_eq!(
            after.audit_events,
            before.audit_events + 1,
            "{code}: one audit event for the rejection"
        );
        let mut json_args = vec!["--format", "json"];
        json_args.extend(args.iter().copied());
        let replay = ledger.run(&json_args);
        replay.assert_error(3, code);
        assert_eq!(
            replay.json()["error"]["code"],
            code,
            "the key stays bound to its rejection"
        );
        assert_eq!(
            ledger.snapshot(),
            after,
            "{code}: replaying a rejection writes nothing"
        );
    }
    ledger.assert_verified();
}

fn invalid_input_writes_nothing(ledger: &Ledger) {
    let (_, alice) = ledger.funded("USD", "50.00");
    let bob = ledger.open("Bob", "checking", "USD", &[]);
    let before = ledger.snapshot();
    let cases: Vec<(&str, &str, &str, i32, &str)> = vec![
        ("1.001", "USD", &bob, 4, "amount_precision_exceeded"),
        ("0", "USD", &bob, 4, "amount_must_be_positive"),
        ("-5.00", "USD", &bob, 4, "amount_must_be_positive"),
        ("ten", "USD", &bob, 4, "invalid_input"),
        (
            "99999999999999999999",
            "USD",
            &bob,
            4,
            "amount_out_of_range",
        ),
        ("1.00", "ZZZ", &bob, 4, "invalid_currency"),
        ("1.00", "USD", "4000000000000999", 5, "account_not_found"),
        ("1.00", "USD", "x!", 4, "invalid_input"),
    ];
    for (amount, currency, to, exit_code, code) in cases {
        let run = ledger.run(&[
            "--format",
            "json",
            "transfer",
            "post",
            "--from",
            &alice,
            "--to",
            to,
            "--amount",
            amount,
            "--currency",
            currency,
        ]);
        run.assert_error(exit_code, code);
        assert_eq!(run.json()["error"]["code"], code);
        assert!(
            run.stderr
                .lines()
                .filter(|l| l.starts_with("error: "))
                .count()
                == 1
        );
    }
    ledger
        .run(&[
            "transfer",
            "post",
            "--from",
            &alice,
            "--to",
            &bob,
            "--amount",
            "1.00",
            "--currency",
            "USD",
            "--at",
            "noon",
        ])
        .assert_error(4, "invalid_input");
    ledger
        .run(&["transfer", "post", "--from", &alice, "--amount", "1.00"])
        .assert_error(2, "usage_error");
    ledger
        .run(&["transfer", "show", "999999"])
        .assert_error(5, "not_found");
    ledger
        .run(&["transfer", "list", "--limit", "0"])
        .assert_error(2, "usage_error");
    ledger
        .run(&["transfer", "frobnicate"])
        .assert_error(2, "usage_error");
    assert_eq!(ledger.snapshot(), before);
}

fn overdraft_and_credit_limits(ledger: &Ledger) {
    let settlement = ledger.open("Bank", "settlement", "USD", &[]);
    let checking = ledger.open("Olga", "checking", "USD", &["--overdraft-limit", "100.00"]);
    let card = ledger.open("Card", "credit", "USD", &["--credit-limit", "500.00"]);
    let shop = ledger.open("Shop", "checking", "USD", &[]);
    ledger.json(&[
        "transfer",
        "post",
        "--from",
        &checking,
        "--to",
        &shop,
        "--amount",
        "100.00",
        "--currency",
        "USD",
    ]);
    assert_eq!(ledger.balance(&checking), "-100.00");
    ledger
        .run(&[
            "transfer",
            "post",
            "--from",
            &checking,
            "--to",
            &shop,
            "--amount",
            "0.01",
            "--currency",
            "USD",
        ])
        .assert_error(3, "insufficient_funds");
    ledger.json(&[
        "transfer",
        "post",
        "--from",
        &card,
        "--to",
        &shop,
        "--amount",
        "500.00",
        "--currency",
        "USD",
    ]);
    ledger
        .run(&[
            "transfer",
            "post",
            "--from",
            &card,
            "--to",
            &shop,
            "--amount",
            "0.01",
            "--currency",
            "USD",
        ])
        .assert_error(3, "insufficient_funds");
    ledger.json(&[
        "transfer",
        "withdraw",
        "--from",
        &shop,
        "--amount",
        "600.00",
        "--via",
        &settlement,
    ]);
    assert_eq!(
        ledger.balance(&settlement),
        "-600.00",
        "settlement accounts are unconstrained"
    );
    ledger.assert_verified();
}

fn show_and_list(ledger: &Ledger) {
    let (_, alice) = ledger.funded("USD", "100.00");
    let bob = ledger.open("Bob", "checking", "USD", &[]);
    let posted = ledger.json(&[
        "transfer",
        "post",
        "--from",
        &alice,
        "--to",
        &bob,
        "--amount",
        "1.00",
        "--currency",
        "USD",
        "--key",
        "k-1",
        "--at",
        "2026-11-21T10:00:00Z",
    ]);
    let id = posted["id"].to_string();
    assert_eq!(ledger.json(&["transfer", "show", &id]), posted);
    assert_eq!(ledger.json(&["transfer", "show", "k-1"]), posted);
    let all = ledger.json(&["transfer", "list", "--account", &bob]);
    assert_eq!(all.as_array().unwrap().len(), 1);
    let none = ledger.json(&["transfer", "list", "--from", "2026-11-22T00:00:00Z"]);
    assert_eq!(none.as_array().unwrap().len(), 0);
    let limited = ledger.json(&["transfer", "list", "--limit", "1"]);
    assert_eq!(limited.as_array().unwrap().len(), 1);
}

fn reverse_once_only(ledger: &Ledger) {
    let (_, alice) = ledger.funded("USD", "100.00");
    let bob = ledger.open("Bob", "checking", "USD", &[]);
    let original = ledger.json(&[
        "transfer",
        "post",
        "--from",
        &alice,
        "--to",
        &bob,
        "--amount",
        "40.00",
        "--currency",
        "USD",
    ]);
    let id = original["id"].to_string();
    let reversal = ledger.json(&["transfer", "reverse", &id, "--reason", "customer dispute"]);
    assert_eq!(reversal["from"], bob.as_str());
    assert_eq!(reversal["to"], alice.as_str());
    assert_eq!(ledger.balance(&alice), "100.00");
    let before = ledger.snapshot();
    ledger
        .run(&["transfer", "reverse", &id, "--reason", "again"])
        .assert_error(3, "reversal_exists");
    ledger
        .run(&["transfer", "reverse", "424242", "--reason", "x"])
        .assert_error(5, "not_found");
    assert_eq!(ledger.snapshot(), before);
    ledger.assert_verified();
}

fn import_posts_replays_and_rejects(ledger: &Ledger) {
    let settlement = ledger.open("Bank", "settlement", "USD", &["--number", "BANK0001"]);
    ledger.open(
        "A",
        "checking",
        "USD",
        &[
            "--number",
            "ACCT0001",
            "--initial-deposit",
            "100.00",
            "--via",
            &settlement,
        ],
    );
    ledger.open("B", "checking", "USD", &["--number", "ACCT0002"]);
    let file = ledger.write(
        "transfers.csv",
        "key,from,to,amount,currency,at,reference,description\n\
         t1,ACCT0001,ACCT0002,10.00,USD,2026-11-20T09:00:00Z,R1,first\n\
         t2,ACCT0001,ACCT0002,1.234,USD,2026-11-20T09:01:00Z,R2,bad precision\n\
         t3,ACCT0001,ACCT0002,500.00,USD,2026-11-20T09:02:00Z,R3,too much\n\
         t4,ACCT0001,NOPE0001,1.00,USD,2026-11-20T09:03:00Z,R4,unknown\n\
         ,ACCT0001,ACCT0002,1.00,USD,2026-11-20T09:04:00Z,R5,no key\n\
         t6,ACCT0002,ACCT0001,2.50,USD,2026-11-20T09:05:00Z,,\n\
         t1,ACCT0001,ACCT0002,10.00,USD,2026-11-20T09:00:00Z,R1,first\n",
    );
    let rejects = ledger.path("rejects.csv");
    let args = [
        "--format",
        "json",
        "transfer",
        "import",
        file.to_str().unwrap(),
        "--rejects",
        rejects.to_str().unwrap(),
    ];
    let run = ledger.run(&args);
    assert_eq!(run.code, 1, "rejected rows mean exit 1: {}", run.stderr);
    let summary = run.json();
    assert_eq!(summary["rows"], 7);
    assert_eq!(summary["posted"], 2);
    assert_eq!(
        summary["replayed"], 1,
        "a key repeated in the same file replays"
    );
    assert_eq!(summary["rejected"], 4);
    let rejected = std::fs::read_to_string(&rejects).unwrap();
    assert!(rejected.starts_with(
        "line,key,from,to,amount,currency,at,reference,description,error_code,error_message\n"
    ));
    for code in [
        "amount_precision_exceeded",
        "insufficient_funds",
        "account_not_found",
        "invalid_input",
    ] {
        assert!(
            rejected.contains(code),
            "{code} missing from rejects:\n{rejected}"
        );
    }
    assert!(
        rejected.contains("3,t2,"),
        "line numbers are the file's: {rejected}"
    );
    assert_eq!(ledger.balance("ACCT0001"), "92.50");
    let before = ledger.snapshot();
    // The rejects file exists now: a re-run rewrites it only when told to.
    let again = ledger.run(&[&args[..], &["--force"]].concat());
    assert_eq!(again.code, 1, "{}", again.stderr);
    let summary = again.json();
    assert_eq!(summary["posted"], 0);
    assert_eq!(summary["replayed"], 3);
    assert_eq!(
        ledger.snapshot(),
        before,
        "re-importing the same file changes nothing"
    );
    let missing = ledger.write("missing.csv", "key,from,to,amount\n");
    ledger
        .run(&["transfer", "import", missing.to_str().unwrap()])
        .assert_error(4, "invalid_input");
    ledger
        .run(&["transfer", "import", "/nonexistent/file.csv"])
        .assert_error(4, "invalid_input");
    assert_eq!(ledger.snapshot(), before);
    ledger.assert_verified();
}

fn balances_report_balances(ledger: &Ledger) {
    let (settlement, alice) = ledger.funded("USD", "100.00");
    ledger.funded("EUR", "70.00");
    let bob = ledger.open("Bob", "checking", "USD", &[]);
    ledger.json(&[
        "transfer",
        "post",
        "--from",
        &alice,
        "--to",
        &bob,
        "--amount",
        "30.00",
        "--currency",
        "USD",
    ]);
    ledger.json(&[
        "transfer",
        "post",
        "--from",
        &settlement,
        "--to",
        &bob,
        "--amount",
        "50.00",
        "--currency",
        "USD",
        "--at",
        "2026-11-21T10:00:00Z",
    ]);
    let report = ledger.json(&["report", "balances"]);
    assert_eq!(report["balanced"], true);
    for currency in report["currencies"].as_array().unwrap() {
        assert_eq!(currency["total_debits"], currency["total_credits"]);
    }
    let usd = ledger.json(&["report", "balances", "--currency", "USD"]);
    assert_eq!(usd["currencies"].as_array().unwrap().len(), 1);
    assert_eq!(usd["currencies"][0]["total_debits"], "150.00");
    let earlier = ledger.json(&[
        "report",
        "balances",
        "--as-of",
        "2026-11-20T23:59:59Z",
        "--currency",
        "USD",
    ]);
    assert_eq!(earlier["currencies"][0]["total_debits"], "100.00");
    ledger
        .run(&["report", "balances", "--as-of", "soon"])
        .assert_error(4, "invalid_input");
}
