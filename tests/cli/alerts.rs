//! `alerts check`: each rule kind driven across its threshold and back with `FINCORE_NOW`
//! (firing once, ongoing, resolved once, then OK), the exit codes (0 OK, 1 warning, 2 critical),
//! the Nagios-style lines, the transitions in the audit chain, bad rule files (exit 4 naming
//! rule and field, nothing written) and the OTLP gauges.

use crate::both_backends;
use crate::support::otlp::{Protocol, Receiver};
use crate::support::{Ledger, Run};
use serde_json::Value;

both_backends! {
    failure_rate_fires_once_and_resolves => failure_rate_fires_once_and_resolves;
    risk_block_spike_against_its_baseline => risk_block_spike_against_its_baseline;
    balance_monitor_fires_on_crossing_not_on_every_transfer => balance_monitor_fires_on_crossing_not_on_every_transfer;
    reconciliation_deadline_and_stale_breaks => reconciliation_deadline_and_stale_breaks;
    import_reject_rate_over_its_window => import_reject_rate_over_its_window;
    bad_rule_files_are_exit_4_naming_rule_and_field => bad_rule_files_are_exit_4_naming_rule_and_field;
    builtin_rules_and_as_of_change_nothing => builtin_rules_and_as_of_change_nothing;
}

fn at(ledger: &Ledger, now: &str, args: &[&str]) -> Run {
    ledger.run_with(args, &[("FINCORE_NOW", now)])
}

fn check(ledger: &Ledger, rules: &std::path::Path, now: &str) -> Run {
    at(
        ledger,
        now,
        &["alerts", "check", "--rules", rules.to_str().unwrap()],
    )
}

/// The check's output line of `rule`, and its exit code.
fn line_of(run: &Run, rule: &str) -> String {
    run.stdout
        .lines()
        .find(|line| line.split_whitespace().nth(1) == Some(&format!("{rule}:")))
        .unwrap_or_else(|| panic!("no line for {rule}:\n{}\n{}", run.stdout, run.stderr))
        .to_string()
}

/// Check at `now`: the line of `rule` and the exit code are as expected.
fn expect(
    ledger: &Ledger,
    rules: &std::path::Path,
    now: &str,
    rule: &str,
    line: &str,
    exit_code: i32,
) {
    let run = check(ledger, rules, now);
    assert_eq!(line_of(&run, rule), line, "at {now}");
    assert_eq!(run.code, exit_code, "at {now}: {}", run.stdout);
}

fn transitions(ledger: &Ledger, rule: &str) -> Vec<String> {
    ledger
        .json(&["audit", "list", "--limit", "100000"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["entity"] == format!("alert:{rule}"))
        .map(|event| event["action"].as_str().unwrap().to_string())
        .collect()
}

fn failure_rate_fires_once_and_resolves(ledger: &Ledger) {
    let rules = ledger.write(
        "rules.toml",
        "[[rule]]\nname = \"failures\"\nkind = \"failure_rate\"\nseverity = \"critical\"\nwindow = \"5m\"\nthreshold_percent = \"10\"\nmin_count = 10\n",
    );
    let (_, customer) = ledger.funded("USD", "1000.00");
    let other = ledger.open("Other", "checking", "USD", &[]);
    let post = |now: &str, amount: &str| {
        at(
            ledger,
            now,
            &[
                "transfer",
                "post",
                "--from",
                &customer,
                "--to",
                &other,
                "--amount",
                amount,
                "--currency",
                "USD",
            ],
        )
    };
    for _ in 0..10 {
        assert_eq!(post("2026-11-21T10:00:00Z", "1.00").code, 0);
    }
    expect(
        ledger,
        &rules,
        "2026-11-21T10:00:30Z",
        "failures",
        "OK failures: 0.0% of 10 transfers rejected in 5m (threshold 10%)",
        0,
    );
    // One rejection: 1 of 11 = 9.1%, under the threshold.
    assert_eq!(post("2026-11-21T10:01:00Z", "5000.00").code, 3);
    expect(
        ledger,
        &rules,
        "2026-11-21T10:01:00Z",
        "failures",
        "OK failures: 9.1% of 11 transfers rejected in 5m (threshold 10%)",
        0,
    );
    // Two more: 3 of 13 = 23.1%: fires once, then holds.
    assert_eq!(post("2026-11-21T10:02:00Z", "5000.00").code, 3);
    assert_eq!(post("2026-11-21T10:02:00Z", "5000.00").code, 3);
    expect(
        ledger,
        &rules,
        "2026-11-21T10:02:00Z",
        "failures",
        "CRITICAL failures: 23.1% of 13 transfers rejected in 5m (threshold 10%) [firing]",
        2,
    );
    expect(
        ledger,
        &rules,
        "2026-11-21T10:03:00Z",
        "failures",
        "CRITICAL failures: 23.1% of 13 transfers rejected in 5m (threshold 10%) [ongoing]",
        2,
    );
    // The window moves past them: resolved once, then OK.
    expect(ledger, &rules, "2026-11-21T10:20:00Z", "failures", "OK failures: 0.0% of 0 transfers rejected in 5m (threshold 10%, fewer than 10 to judge) [resolved]", 0);
    expect(
        ledger,
        &rules,
        "2026-11-21T10:21:00Z",
        "failures",
        "OK failures: 0.0% of 0 transfers rejected in 5m (threshold 10%, fewer than 10 to judge)",
        0,
    );
    assert_eq!(
        transitions(ledger, "failures"),
        ["alert.firing", "alert.resolved"]
    );
    ledger.assert_verified();
    let json = ledger.json(&["alerts", "check", "--rules", rules.to_str().unwrap()]);
    assert_eq!(json["status"], "ok");
    assert_eq!(json["alerts"][0]["state"], "ok");
}

fn risk_block_spike_against_its_baseline(ledger: &Ledger) {
    let rules = ledger.write(
        "rules.toml",
        "[[rule]]\nname = \"blocks\"\nkind = \"risk_block_spike\"\nseverity = \"warning\"\nwindow = \"1h\"\nbaseline_windows = 2\nspike_factor = \"2\"\nmin_count = 2\n",
    );
    let (_, customer) = ledger.funded("USD", "1000.00");
    let listed = ledger.open("Listed", "checking", "USD", &[]);
    ledger.json(&["risk", "blacklist", "add", &listed, "--reason", "test"]);
    let blocked = |now: &str| {
        let run = at(
            ledger,
            now,
            &[
                "transfer",
                "post",
                "--from",
                &customer,
                "--to",
                &listed,
                "--amount",
                "1.00",
                "--currency",
                "USD",
            ],
        );
        run.assert_error(3, "risk_rejected");
    };
    // Baseline hours before: one block each in the two hours before 12:00.
    blocked("2026-11-21T10:30:00Z");
    blocked("2026-11-21T11:30:00Z");
    blocked("2026-11-21T12:10:00Z");
    expect(ledger, &rules, "2026-11-21T12:30:00Z", "blocks", "OK blocks: 1 risk blocks in 1h against a baseline of 1 per 1h over the previous 2 (spike factor 2, at least 2)", 0);
    blocked("2026-11-21T12:20:00Z");
    expect(ledger, &rules, "2026-11-21T12:30:00Z", "blocks", "WARNING blocks: 2 risk blocks in 1h against a baseline of 1 per 1h over the previous 2 (spike factor 2, at least 2) [firing]", 1);
    expect(ledger, &rules, "2026-11-21T12:40:00Z", "blocks", "WARNING blocks: 2 risk blocks in 1h against a baseline of 1 per 1h over the previous 2 (spike factor 2, at least 2) [ongoing]", 1);
    expect(ledger, &rules, "2026-11-21T15:00:00Z", "blocks", "OK blocks: 0 risk blocks in 1h against a baseline of 1 per 1h over the previous 2 (spike factor 2, at least 2) [resolved]", 0);
    assert_eq!(
        transitions(ledger, "blocks"),
        ["alert.firing", "alert.resolved"]
    );
}

fn balance_monitor_fires_on_crossing_not_on_every_transfer(ledger: &Ledger) {
    let (settlement, customer) = ledger.funded("USD", "100.00");
    let rules = ledger.write(
        "rules.toml",
        &format!("[[rule]]\nname = \"low\"\nkind = \"balance\"\nseverity = \"critical\"\naccount = \"{customer}\"\nbelow = \"50.00\"\nabove = \"1000\"\n"),
    );
    let masked = format!("{}********{}", &customer[..4], &customer[12..]);
    let now = "2026-11-21T10:00:00Z";
    expect(
        ledger,
        &rules,
        now,
        "low",
        &format!("OK low: balance of {masked} is 100.00 USD, within 50.00 to 1000"),
        0,
    );
    ledger.json(&[
        "transfer",
        "withdraw",
        "--from",
        &customer,
        "--amount",
        "60.00",
        "--via",
        &settlement,
    ]);
    expect(
        ledger,
        &rules,
        now,
        "low",
        &format!("CRITICAL low: balance of {masked} is 40.00 USD, below 50.00 [firing]"),
        2,
    );
    ledger.json(&[
        "transfer",
        "withdraw",
        "--from",
        &customer,
        "--amount",
        "10.00",
        "--via",
        &settlement,
    ]);
    expect(
        ledger,
        &rules,
        now,
        "low",
        &format!("CRITICAL low: balance of {masked} is 30.00 USD, below 50.00 [ongoing]"),
        2,
    );
    ledger.json(&[
        "transfer",
        "deposit",
        "--to",
        &customer,
        "--amount",
        "20.00",
        "--via",
        &settlement,
    ]);
    expect(
        ledger,
        &rules,
        now,
        "low",
        &format!("OK low: balance of {masked} is 50.00 USD, within 50.00 to 1000 [resolved]"),
        0,
    );
    ledger.json(&[
        "transfer",
        "deposit",
        "--to",
        &customer,
        "--amount",
        "951.00",
        "--via",
        &settlement,
    ]);
    expect(
        ledger,
        &rules,
        now,
        "low",
        &format!("CRITICAL low: balance of {masked} is 1001.00 USD, above 1000 [firing]"),
        2,
    );
    assert_eq!(
        transitions(ledger, "low"),
        ["alert.firing", "alert.resolved", "alert.firing"]
    );
}

fn reconciliation_deadline_and_stale_breaks(ledger: &Ledger) {
    let (settlement, customer) = ledger.funded("USD", "100.00");
    let rules = ledger.write(
        "rules.toml",
        &format!(
            "[[rule]]\nname = \"reconciled\"\nkind = \"reconcile_missing_run\"\nseverity = \"warning\"\naccount = \"{settlement}\"\ndeadline = \"09:00\"\n\n\
             [[rule]]\nname = \"stale\"\nkind = \"unresolved_breaks\"\nseverity = \"critical\"\nwindow = \"1d\"\n"
        ),
    );
    let masked = format!("{}********{}", &settlement[..4], &settlement[12..]);
    let run = check(ledger, &rules, "2026-11-21T08:00:00Z");
    assert_eq!(line_of(&run, "reconciled"), format!("OK reconciled: {masked} is not reconciled for 2026-11-20 yet; the deadline has not passed"));
    assert_eq!(run.code, 0);
    let run = check(ledger, &rules, "2026-11-21T09:30:00Z");
    assert_eq!(line_of(&run, "reconciled"), format!("WARNING reconciled: no reconciliation run of {masked} covers 2026-11-20, past its deadline [firing]"));
    assert_eq!(run.code, 1);
    let _ = customer;
    let statement = ledger.write(
        "statement.csv",
        "date,reference,amount,currency,counterparty,description\n2026-11-20,UNKNOWN,5.00,USD,X,not ours\n",
    );
    let run = at(
        ledger,
        "2026-11-21T09:40:00Z",
        &[
            "reconcile",
            "run",
            "--account",
            &settlement,
            "--date",
            "2026-11-20",
            "--statement",
            statement.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 1, "breaks: {}", run.stderr);
    let run = check(ledger, &rules, "2026-11-21T10:00:00Z");
    assert_eq!(
        line_of(&run, "reconciled"),
        format!("OK reconciled: {masked} is reconciled for 2026-11-20 [resolved]")
    );
    assert_eq!(
        line_of(&run, "stale"),
        "OK stale: 0 unresolved reconciliation breaks older than 1d (threshold 1)"
    );
    assert_eq!(run.code, 0);
    // A day later the breaks are stale: critical, and both rules' exit codes combine to 2.
    let run = check(ledger, &rules, "2026-11-22T12:00:00Z");
    let stale = line_of(&run, "stale");
    assert!(
        stale.starts_with("CRITICAL stale: ")
            && stale.ends_with("older than 1d (threshold 1) [firing]"),
        "{stale}"
    );
    assert_eq!(line_of(&run, "reconciled"), format!("WARNING reconciled: no reconciliation run of {masked} covers 2026-11-21, past its deadline [firing]"));
    assert_eq!(run.code, 2);
    // Resolve every break: the stale alert resolves.
    let shown = ledger.json(&["reconcile", "list"]);
    let run_id = shown.as_array().unwrap()[0]["run_id"].to_string();
    let run_view = ledger.json(&["reconcile", "show", &run_id]);
    for item in run_view["items"].as_array().unwrap() {
        let id = item["id"].to_string();
        ledger.json(&["reconcile", "resolve", &id, "--accept", "--note", "checked"]);
    }
    let run = check(ledger, &rules, "2026-11-22T12:10:00Z");
    assert_eq!(
        line_of(&run, "stale"),
        "OK stale: 0 unresolved reconciliation breaks older than 1d (threshold 1) [resolved]"
    );
    assert_eq!(run.code, 1, "the deadline alert still holds");
}

fn import_reject_rate_over_its_window(ledger: &Ledger) {
    let rules = ledger.write(
        "rules.toml",
        "[[rule]]\nname = \"imports\"\nkind = \"import_reject_rate\"\nseverity = \"warning\"\nwindow = \"1h\"\nthreshold_percent = \"20\"\nmin_count = 5\n",
    );
    let (_, customer) = ledger.funded("USD", "100.00");
    let other = ledger.open("Other", "checking", "USD", &[]);
    let mut text = String::from("key,from,to,amount,currency,at,reference,description\n");
    for row in 0..10 {
        let amount = if row % 2 == 0 { "1.00" } else { "9999.00" };
        text.push_str(&format!(
            "k{row},{customer},{other},{amount},USD,2026-11-21T09:00:00Z,R{row},\n"
        ));
    }
    let file = ledger.write("import.csv", &text);
    let run = at(
        ledger,
        "2026-11-21T10:00:00Z",
        &["transfer", "import", file.to_str().unwrap()],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    expect(
        ledger,
        &rules,
        "2026-11-21T10:30:00Z",
        "imports",
        "WARNING imports: 50.0% of 10 imported rows rejected in 1h (threshold 20%) [firing]",
        1,
    );
    expect(
        ledger,
        &rules,
        "2026-11-21T10:40:00Z",
        "imports",
        "WARNING imports: 50.0% of 10 imported rows rejected in 1h (threshold 20%) [ongoing]",
        1,
    );
    expect(ledger, &rules, "2026-11-21T11:30:00Z", "imports", "OK imports: 0.0% of 0 imported rows rejected in 1h (threshold 20%, fewer than 5 to judge) [resolved]", 0);
}

fn bad_rule_files_are_exit_4_naming_rule_and_field(ledger: &Ledger) {
    ledger.funded("USD", "10.00");
    let before = ledger.snapshot();
    let cases = [
        ("[[rule]]\nname = \"ok\"\nkind = \"failure_rate\"\nseverity = \"warning\"\nwindow = \"5m\"\nthreshold_percent = \"10\"\n\n[[rule]]\nname = \"fast\"\nkind = \"failure_rate\"\nseverity = \"critical\"\nwindow = \"5 minutes\"\nthreshold_percent = \"10\"\n", "rule 2 'fast': field 'window'"),
        ("[[rule]]\nname = \"pct\"\nkind = \"failure_rate\"\nseverity = \"critical\"\nwindow = \"5m\"\nthreshold_percent = \"150\"\n", "rule 1 'pct': field 'threshold_percent'"),
        ("[[rule]]\nname = \"sev\"\nkind = \"failure_rate\"\nseverity = \"loud\"\nwindow = \"5m\"\nthreshold_percent = \"10\"\n", "rule 1 'sev': field 'severity'"),
        ("[[rule]]\nname = \"bal\"\nkind = \"balance\"\nseverity = \"critical\"\naccount = \"BANK0001\"\nbelow = \"ten\"\n", "rule 1 'bal': field 'below'"),
        ("[[rule]]\nname = \"typo\"\nkind = \"unresolved_breaks\"\nseverity = \"warning\"\nwindow = \"3d\"\nmin_cuont = 2\n", "rule 1 'typo': field 'min_cuont'"),
        ("[[rule]]\nname = \"k\"\nkind = \"holds_pending\"\nseverity = \"warning\"\n", "rule 1 'k': field 'kind'"),
    ];
    for (text, expected) in cases {
        let rules = ledger.write("bad.toml", text);
        let run = check(ledger, &rules, "2026-11-21T10:00:00Z");
        run.assert_error(4, "invalid_input");
        assert!(
            run.stderr.contains(expected) && run.stderr.contains("bad.toml"),
            "{expected}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty());
    }
    assert_eq!(ledger.snapshot(), before, "nothing written");
}

fn builtin_rules_and_as_of_change_nothing(ledger: &Ledger) {
    ledger.funded("USD", "10.00");
    let run = ledger.run(&["alerts", "check"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    for rule in [
        "failure_rate",
        "risk_block_spike",
        "import_reject_rate",
        "stale_breaks",
    ] {
        assert!(line_of(&run, rule).starts_with("OK "), "{}", run.stdout);
    }
    // --as-of only reports: a breached rule shows as firing but no state is stored.
    let (_, customer) = ledger.funded("USD", "100.00");
    let rules = ledger.write(
        "rules.toml",
        &format!("[[rule]]\nname = \"low\"\nkind = \"balance\"\nseverity = \"warning\"\naccount = \"{customer}\"\nbelow = \"500\"\n"),
    );
    let before = ledger.snapshot();
    for _ in 0..2 {
        let run = ledger.run(&[
            "alerts",
            "check",
            "--rules",
            rules.to_str().unwrap(),
            "--as-of",
            "2026-11-21T10:00:00Z",
        ]);
        assert!(line_of(&run, "low").ends_with("[firing]"));
        assert_eq!(run.code, 1);
    }
    assert_eq!(ledger.snapshot(), before);
    ledger
        .run(&["alerts", "check", "--as-of", "yesterday"])
        .assert_error(4, "invalid_input");
}

#[test]
fn alert_metrics_are_otlp_gauges() {
    let ledger = Ledger::sqlite();
    let (_, customer) = ledger.funded("USD", "100.00");
    let rules = ledger.write(
        "rules.toml",
        &format!("[[rule]]\nname = \"low\"\nkind = \"balance\"\nseverity = \"critical\"\naccount = \"{customer}\"\nbelow = \"500\"\n\n[[rule]]\nname = \"failures\"\nkind = \"failure_rate\"\nseverity = \"warning\"\nwindow = \"5m\"\nthreshold_percent = \"10\"\n"),
    );
    let receiver = Receiver::start();
    let env: Vec<(&str, String)> = receiver.env(Protocol::Grpc);
    let env: Vec<(&str, &str)> = env
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let run = ledger.run_with(
        &["alerts", "check", "--rules", rules.to_str().unwrap()],
        &env,
    );
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(receiver.wait_until(|r| r
        .points()
        .iter()
        .any(|point| point.metric == "fincore.alert.active")));
    let points = receiver.points();
    let find = |metric: &str, rule: &str| -> f64 {
        points
            .iter()
            .find(|point| {
                point.metric == metric
                    && point
                        .attributes
                        .get("fincore.alert.rule")
                        .is_some_and(|value| value.to_string().contains(rule))
            })
            .unwrap_or_else(|| panic!("{metric} {rule}: {}", receiver.dump()))
            .value
    };
    assert_eq!(find("fincore.alert.active", "low"), 1.0);
    assert_eq!(
        find("fincore.alert.value", "low"),
        10_000.0,
        "the balance in minor units"
    );
    assert_eq!(find("fincore.alert.active", "failures"), 0.0);
    let _: Value = Value::Null;
}
