//! Telemetry against an in-process OTLP receiver, over gRPC and HTTP/protobuf: one root span per
//! command with the spec's name and attributes, children parented to it, the stored trace id
//! equal to the exported one, TRACEPARENT, error status, masking, metrics, and a receiver that
//! refuses or never answers not holding the command.

use crate::support::otlp::{closed_port, Point, Protocol, Receiver, SilentListener, Span};
use crate::support::{Ledger, Run, NOW};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Holders and numbers chosen so that any appearance in exported data is a leak.
const SETTLEMENT_HOLDER: &str = "Zephyr Clearing Bank";
const ALICE: &str = "Alice Holderton";
const BOB: &str = "Bobby Tablesworth";
const SETTLEMENT_NUMBER: &str = "9000111122223333";
const ALICE_NUMBER: &str = "4000123456789010";
const BOB_NUMBER: &str = "5100987654321098";

/// The export may take at most 2 s (default); the command itself well under a second more.
const STALL_BOUND: Duration = Duration::from_millis(2_900);

fn traced(
    ledger: &Ledger,
    env: &[(&'static str, String)],
    extra: &[(&str, &str)],
    args: &[&str],
) -> Run {
    let mut all: Vec<(&str, &str)> = env
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    all.extend_from_slice(extra);
    ledger.run_with(args, &all)
}

/// A settlement account and two customers with known numbers and holders (set up untraced).
fn accounts(ledger: &Ledger) {
    for (holder, kind, number, extra) in [
        (SETTLEMENT_HOLDER, "settlement", SETTLEMENT_NUMBER, vec![]),
        (
            ALICE,
            "checking",
            ALICE_NUMBER,
            vec!["--initial-deposit", "100.00", "--via", SETTLEMENT_NUMBER],
        ),
        (BOB, "checking", BOB_NUMBER, vec![]),
    ] {
        let mut args = vec![
            "--format",
            "json",
            "account",
            "open",
            "--holder",
            holder,
            "--type",
            kind,
            "--currency",
            "USD",
            "--number",
            number,
        ];
        args.extend(extra);
        let run = ledger.run(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
}

fn post(amount: &str) -> Vec<&str> {
    vec![
        "--format",
        "json",
        "transfer",
        "post",
        "--from",
        ALICE_NUMBER,
        "--to",
        BOB_NUMBER,
        "--amount",
        amount,
        "--currency",
        "USD",
        "--reference",
        "INV-7",
    ]
}

fn masked(number: &str) -> String {
    format!(
        "{}{}{}",
        &number[..4],
        "*".repeat(number.len() - 8),
        &number[number.len() - 4..]
    )
}

/// The spans of one trace: exactly one root (no parent inside the trace) named
/// `fincore.<command>` with the spec's attributes, every other span reaching it through its
/// parents. Returns the root.
fn assert_command_trace(
    spans: &[Span],
    trace_id: &str,
    command: &str,
    db_system: &str,
    exit_code: i64,
) -> Span {
    let trace: Vec<&Span> = spans
        .iter()
        .filter(|span| span.trace_id == trace_id)
        .collect();
    assert!(
        !trace.is_empty(),
        "no spans exported for trace {trace_id}: {spans:#?}"
    );
    let ids: BTreeSet<&str> = trace.iter().map(|span| span.span_id.as_str()).collect();
    let roots: Vec<&&Span> = trace
        .iter()
        .filter(|span| !ids.contains(span.parent_span_id.as_str()))
        .collect();
    assert_eq!(
        roots.len(),
        1,
        "exactly one root span per command: {roots:#?}"
    );
    let root = (*roots[0]).clone();
    assert_eq!(root.name, format!("fincore.{command}"));
    assert_eq!(root.attribute("fincore.command"), command);
    assert_eq!(root.attribute("fincore.operator"), "tester");
    assert_eq!(root.attribute("db.system"), db_system);
    assert_eq!(root.attribute("fincore.exit_code"), exit_code);
    if exit_code >= 2 {
        assert_eq!(
            root.status_code, 2,
            "error status at exit {exit_code}: {root:#?}"
        );
    } else {
        assert_ne!(
            root.status_code, 2,
            "no error status at exit {exit_code}: {root:#?}"
        );
    }
    let by_id: BTreeMap<&str, &Span> = trace
        .iter()
        .map(|span| (span.span_id.as_str(), *span))
        .collect();
    for span in &trace {
        let mut current = *span;
        let mut hops = 0;
        while current.span_id != root.span_id {
            current = by_id
                .get(current.parent_span_id.as_str())
                .unwrap_or_else(|| panic!("span {} is not under the root: {span:#?}", span.name));
            hops += 1;
            assert!(hops < 64, "parent cycle");
        }
    }
    assert!(
        trace.iter().all(|span| span.protocol == root.protocol),
        "one trace, one transport"
    );
    root
}

fn children<'a>(spans: &'a [Span], parent: &Span) -> Vec<&'a Span> {
    spans
        .iter()
        .filter(|span| span.parent_span_id == parent.span_id && span.trace_id == parent.trace_id)
        .collect()
}

fn point<'a>(points: &'a [Point], metric: &str, attributes: &[(&str, Value)]) -> Vec<&'a Point> {
    points
        .iter()
        .filter(|point| point.metric == metric)
        .filter(|point| {
            attributes
                .iter()
                .all(|(key, value)| point.attributes.get(*key) == Some(value))
        })
        .collect()
}

fn metric_total(points: &[Point], metric: &str, attributes: &[(&str, Value)]) -> f64 {
    point(points, metric, attributes)
        .iter()
        .map(|point| point.value)
        .sum()
}

fn assert_no_leaks(receiver: &Receiver, secrets: &[&str]) {
    let dump = receiver.dump();
    assert!(!dump.is_empty());
    for secret in secrets {
        assert!(
            !dump.contains(secret),
            "'{secret}' appears in exported telemetry"
        );
    }
}

fn post_is_one_verified_trace(protocol: Protocol) {
    let receiver = Receiver::start();
    let ledger = Ledger::sqlite();
    accounts(&ledger);
    let run = traced(&ledger, &receiver.env(protocol), &[], &post("25.00"));
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.stdout);
    assert!(run.stderr.is_empty(), "no noise on stderr: {}", run.stderr);
    let transfer = run.json();
    assert_eq!(transfer["status"], "posted");
    let trace_id = transfer["trace_id"].as_str().unwrap().to_string();

    assert!(receiver.wait_until(|r| !r.spans().is_empty() && !r.points().is_empty()));
    let spans = receiver.spans();
    let root = assert_command_trace(&spans, &trace_id, "transfer.post", "sqlite", 0);
    assert_eq!(root.protocol, protocol);
    assert!(root.is_root(), "no TRACEPARENT: a new trace");
    assert_eq!(root.resource["service.name"], "fincore");
    let names: BTreeSet<&str> = spans.iter().map(|span| span.name.as_str()).collect();
    for expected in [
        "fincore.store.open",
        "fincore.store.begin",
        "fincore.store.accounts.read",
        "fincore.risk.assess",
        "fincore.store.transfers.write",
        "fincore.store.entries.write",
        "fincore.store.commit",
    ] {
        assert!(names.contains(expected), "no {expected} span in {names:?}");
    }
    let risk = spans
        .iter()
        .find(|span| span.name == "fincore.risk.assess")
        .unwrap();
    assert_eq!(risk.attribute("fincore.risk.level"), "low");
    assert_eq!(risk.attribute("fincore.risk.decision"), "approve");
    for span in spans
        .iter()
        .filter(|span| span.name.starts_with("fincore.store."))
    {
        assert_eq!(span.attribute("db.system"), "sqlite", "{span:#?}");
    }
    assert!(!children(&spans, &root).is_empty());

    // The same trace id on the stored transfer and its audit event.
    let id = transfer["id"].to_string();
    let shown = ledger.json(&["transfer", "show", &id]);
    assert_eq!(shown["trace_id"], trace_id.as_str());
    let events = ledger.json(&["audit", "list", "--entity", &format!("transfer:{id}")]);
    let posted: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["action"] == "transfer.posted")
        .collect();
    assert_eq!(posted.len(), 1, "{events:#}");
    assert_eq!(posted[0]["trace_id"], trace_id.as_str());

    let points = receiver.points();
    assert!(points.iter().all(|point| point.protocol == protocol));
    let transfers = [
        ("fincore.currency", "USD".into()),
        ("fincore.outcome", "posted".into()),
    ];
    assert_eq!(
        metric_total(&points, "fincore.transfers", &transfers),
        1.0,
        "{points:#?}"
    );
    let duration = point(
        &points,
        "fincore.command.duration",
        &[
            ("fincore.command", "transfer.post".into()),
            ("fincore.exit_code", 0.into()),
        ],
    );
    assert_eq!(duration.len(), 1, "{points:#?}");
    assert_eq!(duration[0].value, 1.0, "one command, one measurement");
    assert_eq!(duration[0].unit, "s");
    assert!(duration[0].histogram_sum.unwrap() > 0.0);
    assert_eq!(
        metric_total(
            &points,
            "fincore.risk.assessments",
            &[("fincore.risk.level", "low".into())]
        ),
        1.0
    );

    assert_no_leaks(
        &receiver,
        &[
            ALICE_NUMBER,
            BOB_NUMBER,
            SETTLEMENT_NUMBER,
            ALICE,
            BOB,
            SETTLEMENT_HOLDER,
        ],
    );
}

#[test]
fn post_is_one_verified_trace_over_grpc() {
    post_is_one_verified_trace(Protocol::Grpc);
}

#[test]
fn post_is_one_verified_trace_over_http_protobuf() {
    post_is_one_verified_trace(Protocol::HttpProtobuf);
}

fn rejected_transfer_is_an_error(protocol: Protocol) {
    let receiver = Receiver::start();
    let ledger = Ledger::sqlite();
    accounts(&ledger);
    let run = traced(&ledger, &receiver.env(protocol), &[], &post("5000.00"));
    run.assert_error(3, "insufficient_funds");
    assert!(receiver.wait_until(|r| !r.spans().is_empty() && !r.points().is_empty()));

    // The rejected transfer is stored with the command's trace id.
    let listed = ledger.json(&["transfer", "list", "--account", ALICE_NUMBER]);
    let rejected: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|transfer| transfer["status"] == "rejected")
        .collect();
    assert_eq!(rejected.len(), 1, "{listed:#}");
    let trace_id = rejected[0]["trace_id"].as_str().unwrap();

    let spans = receiver.spans();
    let root = assert_command_trace(&spans, trace_id, "transfer.post", "sqlite", 3);
    assert_eq!(root.status_message, "insufficient_funds");
    assert_eq!(root.attribute("error.type"), "insufficient_funds");
    let exceptions: Vec<&BTreeMap<String, Value>> = root
        .events
        .iter()
        .filter(|(name, _)| name == "exception")
        .map(|(_, attributes)| attributes)
        .collect();
    assert_eq!(exceptions.len(), 1, "{root:#?}");
    assert_eq!(exceptions[0]["fincore.error_code"], "insufficient_funds");
    assert_eq!(exceptions[0]["exception.type"], "insufficient_funds");
    let message = exceptions[0]["exception.message"].as_str().unwrap();
    assert!(
        message.contains(&masked(ALICE_NUMBER)),
        "masked number in '{message}'"
    );

    let events = ledger.json(&["audit", "list"]);
    let audit: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["action"] == "transfer.rejected")
        .collect();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["trace_id"], trace_id);

    let points = receiver.points();
    let rejected = [
        ("fincore.currency", "USD".into()),
        ("fincore.outcome", "rejected".into()),
    ];
    assert_eq!(
        metric_total(&points, "fincore.transfers", &rejected),
        1.0,
        "{points:#?}"
    );
    let posted = [("fincore.outcome", "posted".into())];
    assert_eq!(metric_total(&points, "fincore.transfers", &posted), 0.0);
    let exit_3 = [
        ("fincore.command", "transfer.post".into()),
        ("fincore.exit_code", 3.into()),
    ];
    assert_eq!(
        metric_total(&points, "fincore.command.duration", &exit_3),
        1.0
    );

    assert_no_leaks(&receiver, &[ALICE_NUMBER, BOB_NUMBER, ALICE, BOB]);
}

#[test]
fn rejected_transfer_is_an_error_over_grpc() {
    rejected_transfer_is_an_error(Protocol::Grpc);
}

#[test]
fn rejected_transfer_is_an_error_over_http_protobuf() {
    rejected_transfer_is_an_error(Protocol::HttpProtobuf);
}

#[test]
fn traceparent_continues_the_upstream_trace() {
    const UPSTREAM_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const UPSTREAM_SPAN: &str = "00f067aa0ba902b7";
    let traceparent = format!("00-{UPSTREAM_TRACE}-{UPSTREAM_SPAN}-01");
    for protocol in Protocol::ALL {
        let receiver = Receiver::start();
        let ledger = Ledger::sqlite();
        accounts(&ledger);
        let run = traced(
            &ledger,
            &receiver.env(protocol),
            &[("TRACEPARENT", &traceparent)],
            &post("1.00"),
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.json()["trace_id"], UPSTREAM_TRACE);
        assert!(receiver.wait_until(|r| !r.spans().is_empty()));
        let spans = receiver.spans();
        let root = assert_command_trace(&spans, UPSTREAM_TRACE, "transfer.post", "sqlite", 0);
        assert_eq!(
            root.parent_span_id, UPSTREAM_SPAN,
            "a child of the upstream span"
        );
        assert!(spans.iter().all(|span| span.trace_id == UPSTREAM_TRACE));
    }
}

#[test]
fn every_command_is_one_root_span() {
    let receiver = Receiver::start();
    let ledger = Ledger::sqlite();
    accounts(&ledger);
    let env = receiver.env(Protocol::Grpc);
    let commands: &[(&[&str], &str, i64)] = &[
        (&["account", "list"], "account.list", 0),
        (&["account", "show", ALICE_NUMBER], "account.show", 0),
        (&["account", "show", "1234567890123456"], "account.show", 5),
        (
            &["account", "freeze", BOB_NUMBER, "--reason", "check"],
            "account.freeze",
            0,
        ),
        (&["transfer", "list"], "transfer.list", 0),
        (&["report", "balances"], "report.balances", 0),
        (&["ledger", "verify"], "ledger.verify", 0),
        (&["audit", "verify"], "audit.verify", 0),
        (&["audit", "list"], "audit.list", 0),
        (&["db", "status"], "db.status", 0),
        (&["completions", "bash"], "completions", 0),
    ];
    for (args, command, exit_code) in commands {
        receiver.clear();
        let run = traced(&ledger, &env, &[], args);
        assert_eq!(i64::from(run.code), *exit_code, "{args:?}: {}", run.stderr);
        assert!(receiver.wait_until(|r| r.spans().iter().any(Span::is_root)));
        let spans = receiver.spans();
        let roots: Vec<&Span> = spans.iter().filter(|span| span.is_root()).collect();
        assert_eq!(roots.len(), 1, "{args:?}: {roots:#?}");
        assert_command_trace(
            &spans,
            &roots[0].trace_id.clone(),
            command,
            "sqlite",
            *exit_code,
        );
        assert!(spans.iter().all(|span| span.trace_id == roots[0].trace_id));
        let points = receiver.points();
        let measured = [
            ("fincore.command", (*command).into()),
            ("fincore.exit_code", (*exit_code).into()),
        ];
        assert_eq!(
            metric_total(&points, "fincore.command.duration", &measured),
            1.0,
            "{args:?}"
        );
        assert_no_leaks(
            &receiver,
            &[ALICE_NUMBER, BOB_NUMBER, ALICE, BOB, SETTLEMENT_HOLDER],
        );
    }
}

#[test]
fn imports_are_batch_spans_not_row_spans() {
    let receiver = Receiver::start();
    let ledger = Ledger::sqlite();
    accounts(&ledger);
    let env = receiver.env(Protocol::HttpProtobuf);

    let holders = [
        "Imported Holder Quill",
        "Imported Holder Wren",
        "Imported Holder Yarrow",
    ];
    let numbers = ["7000111122223331", "7000111122223332", "7000111122223333"];
    let mut csv = String::from("number,holder,type,currency,overdraft_limit\n");
    for (number, holder) in numbers.iter().zip(holders) {
        csv.push_str(&format!("{number},{holder},checking,USD,0\n"));
    }
    let file = ledger.write("accounts.csv", &csv);
    let run = traced(
        &ledger,
        &env,
        &[],
        &["account", "import", file.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(receiver.wait_until(|r| !r.spans().is_empty()));
    let spans = receiver.spans();
    let root = spans.iter().find(|span| span.is_root()).unwrap().clone();
    assert_command_trace(&spans, &root.trace_id, "account.import", "sqlite", 0);
    let imports: Vec<&Span> = spans
        .iter()
        .filter(|span| span.name == "fincore.import.accounts")
        .collect();
    assert_eq!(imports.len(), 1, "one span for the rows: {spans:#?}");
    assert_eq!(imports[0].attribute("fincore.rows"), 3);
    assert!(children(&spans, imports[0]).is_empty(), "no per-row spans");
    let mut secrets: Vec<&str> = holders.to_vec();
    secrets.extend(numbers);
    assert_no_leaks(&receiver, &secrets);

    receiver.clear();
    let mut csv = String::from("key,from,to,amount,currency,at,reference,description\n");
    for row in 0..5 {
        csv.push_str(&format!(
            "k{row},{ALICE_NUMBER},{BOB_NUMBER},1.00,USD,{NOW},R{row},\n"
        ));
    }
    let file = ledger.write("transfers.csv", &csv);
    let run = traced(
        &ledger,
        &env,
        &[],
        &[
            "transfer",
            "import",
            file.to_str().unwrap(),
            "--batch-rows",
            "2",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(receiver.wait_until(|r| !r.spans().is_empty() && !r.points().is_empty()));
    let spans = receiver.spans();
    let root_span = spans.iter().find(|span| span.is_root()).unwrap().clone();
    let root = assert_command_trace(&spans, &root_span.trace_id, "transfer.import", "sqlite", 0);
    let batches: Vec<&Span> = spans
        .iter()
        .filter(|span| span.name == "fincore.import.batch")
        .collect();
    assert_eq!(batches.len(), 3, "5 rows in batches of 2");
    let mut rows = 0;
    let mut posted = 0;
    for batch in &batches {
        assert_eq!(
            batch.parent_span_id, root.span_id,
            "batches are children of the root"
        );
        rows += batch.attribute("fincore.rows").as_i64().unwrap();
        posted += batch.attribute("fincore.posted").as_i64().unwrap();
        let inside: BTreeSet<&str> = children(&spans, batch)
            .iter()
            .map(|span| span.name.as_str())
            .collect();
        assert!(
            inside.contains("fincore.store.begin") && inside.contains("fincore.store.commit"),
            "{inside:?}"
        );
    }
    assert_eq!((rows, posted), (5, 5));
    assert!(
        !spans.iter().any(|span| span.name == "fincore.risk.assess"),
        "no per-row risk spans in an import"
    );
    let points = receiver.points();
    let transfers = [
        ("fincore.currency", "USD".into()),
        ("fincore.outcome", "posted".into()),
    ];
    assert_eq!(metric_total(&points, "fincore.transfers", &transfers), 5.0);
    assert_eq!(
        metric_total(
            &points,
            "fincore.risk.assessments",
            &[("fincore.risk.level", "low".into())]
        ),
        5.0
    );
    assert_no_leaks(&receiver, &[ALICE_NUMBER, BOB_NUMBER, ALICE, BOB]);
}

#[test]
fn resource_service_name_and_headers_come_from_the_standard_variables() {
    for protocol in Protocol::ALL {
        let receiver = Receiver::start();
        let ledger = Ledger::sqlite();
        let run = traced(
            &ledger,
            &receiver.env(protocol),
            &[
                ("OTEL_SERVICE_NAME", "ledger-batch"),
                (
                    "OTEL_RESOURCE_ATTRIBUTES",
                    "deployment.environment=test,service.name=overridden",
                ),
                ("OTEL_EXPORTER_OTLP_HEADERS", "x-tenant=bank-1"),
            ],
            &["account", "list"],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(receiver.wait_until(|r| !r.spans().is_empty()));
        let spans = receiver.spans();
        let root = spans.iter().find(|span| span.is_root()).unwrap();
        assert_eq!(
            root.resource["service.name"], "ledger-batch",
            "{protocol:?}"
        );
        assert_eq!(root.resource["deployment.environment"], "test");
        assert!(root.resource.contains_key("service.version"));
        let headers = receiver.trace_headers();
        assert!(!headers.is_empty());
        for (_, headers) in headers {
            assert_eq!(
                headers.get("x-tenant").map(String::as_str),
                Some("bank-1"),
                "{protocol:?}"
            );
        }
    }
}

#[test]
fn per_signal_endpoint_and_protocol_variables() {
    // Traces over HTTP to one endpoint, metrics over gRPC to another: the signal-specific
    // variables win over the general ones.
    let receiver = Receiver::start();
    let ledger = Ledger::sqlite();
    let traces = format!("{}/v1/traces", receiver.endpoint(Protocol::HttpProtobuf));
    let metrics = receiver.endpoint(Protocol::Grpc);
    let run = ledger.run_with(
        &["account", "list"],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &closed_port()),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &traces),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", &metrics),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "grpc"),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(receiver.wait_until(|r| !r.spans().is_empty() && !r.points().is_empty()));
    assert!(receiver
        .spans()
        .iter()
        .all(|span| span.protocol == Protocol::HttpProtobuf));
    assert!(receiver
        .points()
        .iter()
        .all(|point| point.protocol == Protocol::Grpc));
}

#[test]
fn sdk_disabled_and_sampler_variables() {
    let receiver = Receiver::start();
    let ledger = Ledger::sqlite();
    accounts(&ledger);
    let env = receiver.env(Protocol::Grpc);

    let run = traced(
        &ledger,
        &env,
        &[("OTEL_SDK_DISABLED", "true")],
        &post("1.00"),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let trace_id = run.json()["trace_id"].as_str().unwrap().to_string();
    assert_eq!(trace_id.len(), 32);
    assert_ne!(trace_id, "0".repeat(32), "records still get a trace id");
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        receiver.spans().is_empty(),
        "OTEL_SDK_DISABLED exports no spans"
    );
    assert!(
        receiver.points().is_empty(),
        "OTEL_SDK_DISABLED exports no metrics"
    );

    let run = traced(
        &ledger,
        &env,
        &[("OTEL_TRACES_SAMPLER", "always_off")],
        &post("1.00"),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(receiver.wait_until(|r| !r.points().is_empty()));
    assert!(receiver.spans().is_empty(), "always_off samples nothing");
    let transfers = [("fincore.outcome", "posted".into())];
    assert_eq!(
        metric_total(&receiver.points(), "fincore.transfers", &transfers),
        1.0
    );
}

fn assert_unaffected(endpoint: &str, protocol: Protocol, what: &str) {
    let ledger = Ledger::sqlite();
    accounts(&ledger);
    let started = Instant::now();
    let run = ledger.run_with(
        &post("3.00"),
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.name()),
        ],
    );
    let elapsed = started.elapsed();
    assert_eq!(run.code, 0, "{what} over {protocol:?}: {}", run.stderr);
    assert_eq!(run.json()["status"], "posted");
    assert!(
        run.stderr.is_empty(),
        "{what}: no noise on stderr: {}",
        run.stderr
    );
    assert!(
        elapsed < STALL_BOUND,
        "{what} over {protocol:?} held the command for {elapsed:?}"
    );
    assert_eq!(ledger.balance(BOB_NUMBER), "3.00");
}

#[test]
fn a_closed_port_does_not_stall_the_command() {
    for protocol in Protocol::ALL {
        assert_unaffected(&closed_port(), protocol, "a closed port");
    }
}

#[test]
fn a_receiver_that_never_answers_does_not_stall_the_command() {
    let silent = SilentListener::start();
    for protocol in Protocol::ALL {
        assert_unaffected(&silent.endpoint, protocol, "a silent listener");
    }
}

#[test]
fn storage_errors_hide_the_database_password() {
    const PASSWORD: &str = "Tr4ceS3cretPw";
    let receiver = Receiver::start();
    let ledger = Ledger::sqlite();
    let port = closed_port().rsplit(':').next().unwrap().to_string();
    let url = format!("postgres://fincore:{PASSWORD}@127.0.0.1:{port}/ledger");
    let run = traced(
        &ledger,
        &receiver.env(Protocol::Grpc),
        &[("FINCORE_DATABASE_URL", &url), ("FINCORE_DB_TIMEOUT", "1")],
        &["-vv", "account", "list"],
    );
    run.assert_error(7, "storage_unavailable");
    assert!(!run.stderr.contains(PASSWORD), "{}", run.stderr);
    assert!(receiver.wait_until(|r| !r.spans().is_empty()));
    let spans = receiver.spans();
    let root = spans.iter().find(|span| span.is_root()).unwrap().clone();
    assert_command_trace(&spans, &root.trace_id, "account.list", "postgresql", 7);
    assert!(root.events.iter().any(|(name, _)| name == "exception"));
    assert_no_leaks(&receiver, &[PASSWORD]);
}

#[test]
fn postgres_spans_say_postgresql() {
    let Some(ledger) = Ledger::postgres() else {
        return;
    };
    let receiver = Receiver::start();
    let run = traced(
        &ledger,
        &receiver.env(Protocol::HttpProtobuf),
        &[],
        &["account", "list"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(receiver.wait_until(|r| !r.spans().is_empty()));
    let spans = receiver.spans();
    let root = spans.iter().find(|span| span.is_root()).unwrap().clone();
    assert_command_trace(&spans, &root.trace_id, "account.list", "postgresql", 0);
    let store: Vec<&Span> = spans
        .iter()
        .filter(|span| span.name.starts_with("fincore.store."))
        .collect();
    assert!(!store.is_empty());
    assert!(store
        .iter()
        .all(|span| span.attribute("db.system") == "postgresql"));
    if let Some(password) = ledger
        .url
        .split_once("://")
        .and_then(|(_, rest)| rest.rsplit_once('@'))
        .and_then(|(credentials, _)| credentials.split_once(':'))
        .map(|(_, password)| password.to_string())
    {
        assert_no_leaks(&receiver, &[&password]);
    }
}

#[test]
fn logs_carry_trace_and_span_ids_and_mask_numbers() {
    let ledger = Ledger::sqlite();
    accounts(&ledger);

    // JSON lines for machines.
    let mut args = vec!["-v", "--log-format", "json"];
    args.extend(post("2.00"));
    let run = ledger.run(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let trace_id = run.json()["trace_id"].as_str().unwrap().to_string();
    let lines: Vec<Value> = run
        .stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let finished = lines
        .iter()
        .find(|line| line["message"] == "fincore transfer post finished")
        .unwrap_or_else(|| panic!("no finish line in {lines:#?}"));
    assert_eq!(finished["trace_id"], trace_id.as_str());
    assert_eq!(finished["span_id"].as_str().unwrap().len(), 16);
    assert_eq!(finished["level"], "INFO");
    assert_eq!(finished["fields"]["exit_code"], 0);

    // A rejection logged as text: ids present, the number masked.
    let mut args = vec!["-v"];
    args.extend(post("9999.00"));
    let run = ledger.run(&args);
    assert_eq!(run.code, 3);
    let log_lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| !line.starts_with("error: "))
        .collect();
    let rejection = log_lines
        .iter()
        .find(|line| line.contains("error_code=insufficient_funds"))
        .unwrap_or_else(|| panic!("no rejection log line in {log_lines:#?}"));
    assert!(rejection.contains(&masked(ALICE_NUMBER)), "{rejection}");
    assert!(
        rejection.contains(" trace_id=") && rejection.contains(" span_id="),
        "{rejection}"
    );
    for line in &log_lines {
        assert!(
            !line.contains(ALICE_NUMBER),
            "unmasked number in log: {line}"
        );
        assert!(!line.contains(ALICE), "holder in log: {line}");
    }
}

/// The maintained test collector crate sees the same root span and metrics over gRPC.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fake_opentelemetry_collector_receives_the_root_span() {
    let mut collector = fake_opentelemetry_collector::FakeCollectorServer::start()
        .await
        .expect("collector");
    let endpoint = collector.endpoint();
    let run = tokio::task::spawn_blocking(move || {
        let ledger = Ledger::sqlite();
        ledger.run_with(
            &["account", "list"],
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let spans = collector.exported_spans(1, Duration::from_secs(5)).await;
    let roots: Vec<_> = spans
        .iter()
        .filter(|span| span.parent_span_id.is_empty())
        .collect();
    assert_eq!(roots.len(), 1, "{spans:#?}");
    assert_eq!(roots[0].name, "fincore.account.list");
    assert!(roots[0].attributes["fincore.command"].contains("account.list"));
    let metrics = collector.exported_metrics(1, Duration::from_secs(5)).await;
    assert!(
        metrics
            .iter()
            .flat_map(|export| &export.metrics)
            .any(|metric| metric.name == "fincore.command.duration"),
        "{metrics:#?}"
    );
}

/// Reconciliation breaks and rescoring's assessments reach the metrics exporter, counted when
/// their transaction commits (issue 12: both were documented and never recorded).
#[test]
fn breaks_and_rescoring_are_counted_in_metrics() {
    let receiver = Receiver::start();
    let ledger = Ledger::sqlite();
    accounts(&ledger);
    let env = receiver.env(Protocol::Grpc);
    let statement = ledger.write(
        "statement.csv",
        "date,reference,amount,currency\n2026-11-20,UNKNOWN-1,5.00,USD\n2026-11-20,UNKNOWN-2,7.00,USD\n",
    );
    let args = [
        "--format",
        "json",
        "reconcile",
        "run",
        "--account",
        SETTLEMENT_NUMBER,
        "--date",
        "2026-11-20",
        "--statement",
        statement.to_str().unwrap(),
    ];
    let run = traced(&ledger, &env, &[], &args);
    assert_eq!(run.code, 1, "breaks found: {}", run.stderr);
    let counted = |receiver: &Receiver, metric: &str| -> f64 {
        point(&receiver.points(), metric, &[])
            .iter()
            .map(|point| point.value)
            .sum()
    };
    assert!(receiver.wait_until(|r| counted(r, "fincore.reconciliation.breaks") > 0.0));
    let breaks = run.json()["breaks"].clone();
    let mut total = 0;
    for (kind, count) in breaks.as_object().unwrap() {
        let count = count.as_i64().unwrap();
        total += count;
        let attributes = [("fincore.break.kind", kind.as_str().into())];
        let points = receiver.points();
        let exported = metric_total(&points, "fincore.reconciliation.breaks", &attributes);
        assert_eq!(exported, count as f64, "{kind}: {points:#?}");
    }
    assert!(total >= 2, "two statement lines match nothing: {breaks}");

    let run = traced(
        &ledger,
        &env,
        &[],
        &["--format", "json", "risk", "rescore", "--all"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let accounts = run.json()["accounts"].as_f64().unwrap();
    assert!(receiver.wait_until(|r| counted(r, "fincore.risk.assessments") >= accounts));
    assert_eq!(counted(&receiver, "fincore.risk.assessments"), accounts);
}
