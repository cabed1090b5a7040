//! PostgreSQL-only behaviour: connection failures (exit 7, one line, bounded time), password
//! redaction in every output channel, and the serialization-failure retry path.

use crate::support::postgres::{password_role, percent_encode, url_for};
use crate::support::{Ledger, Run};
use std::time::{Duration, Instant};

/// Default `--db-timeout` is 5 s; a refused port must not wait for it.
const FAST: Duration = Duration::from_secs(2);

/// Run fincore against `url` with extra arguments and environment; also the elapsed time.
fn run_against(url: &str, args: &[&str], env: &[(&str, &str)]) -> (Run, Duration) {
    let ledger = Ledger::sqlite();
    let mut all_env = vec![("FINCORE_DATABASE_URL", url)];
    all_env.extend_from_slice(env);
    let started = Instant::now();
    let run = ledger.run_with(args, &all_env);
    (run, started.elapsed())
}

fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

/// Exit 7, `storage_unavailable`, exactly one line on stderr, and the JSON error document.
fn assert_storage_unavailable(run: &Run) -> String {
    run.assert_error(7, "storage_unavailable");
    assert_eq!(
        run.stderr.lines().count(),
        1,
        "one line on stderr:\n{}",
        run.stderr
    );
    run.stderr.clone()
}

fn assert_hidden(run: &Run, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "secret {secret:?} leaked:\nstdout:\n{}\nstderr:\n{}",
            run.stdout,
            run.stderr
        );
    }
}

#[test]
fn unreachable_server_fails_fast_with_one_line() {
    let secret = "Unreachable-s3cret";
    let url = format!(
        "postgres://fincore:{secret}@127.0.0.1:{}/ledger",
        closed_port()
    );
    let (run, elapsed) = run_against(&url, &["--format", "json", "account", "list"], &[]);
    let line = assert_storage_unavailable(&run);
    assert!(line.contains("connection refused"), "{line}");
    assert!(
        line.contains("postgres://fincore:***@127.0.0.1"),
        "names the redacted URL: {line}"
    );
    assert!(elapsed < FAST, "took {elapsed:?}");
    assert_eq!(run.json()["error"]["code"], "storage_unavailable");
    assert_hidden(&run, &[secret]);
}

#[test]
fn silent_server_fails_within_db_timeout() {
    // Accepts connections (the kernel does, from the backlog) and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let url = format!("postgres://fincore:Silent-s3cret@127.0.0.1:{port}/ledger");
    let (run, elapsed) = run_against(&url, &["--db-timeout", "1", "account", "list"], &[]);
    let line = assert_storage_unavailable(&run);
    assert!(line.contains("no answer within 1 s"), "{line}");
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(4),
        "took {elapsed:?}"
    );
    assert_hidden(&run, &["Silent-s3cret"]);
    drop(listener);
}

#[test]
fn missing_database_is_storage_unavailable() {
    let Some(url) = url_for("fincore_no_such_database") else {
        return;
    };
    let (run, elapsed) = run_against(&url, &["account", "list"], &[]);
    let line = assert_storage_unavailable(&run);
    assert!(line.contains("database does not exist"), "{line}");
    assert!(elapsed < FAST, "took {elapsed:?}");
}

#[test]
fn unknown_role_is_storage_unavailable() {
    let Some(url) = url_for("postgres") else {
        return;
    };
    // Keep host and port, swap the credentials for a role that does not exist.
    let address = url
        .rsplit_once('@')
        .map(|(_, rest)| rest)
        .expect("user@host");
    let secret = "NoSuchRole-s3cret";
    let url = format!("postgres://fincore_no_such_role:{secret}@{address}");
    let (run, elapsed) = run_against(&url, &["--format", "json", "-v", "account", "list"], &[]);
    run.assert_error(7, "storage_unavailable");
    assert!(
        run.stderr.contains("authentication failed"),
        "{}",
        run.stderr
    );
    assert!(elapsed < FAST, "took {elapsed:?}");
    assert_hidden(&run, &[secret]);
}

/// A password with characters that URLs must escape, so both spellings are checked.
fn password_for(label: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .subsec_nanos();
    format!("{label}#S3cr3t@{}:{nanos}/x", std::process::id())
}

#[test]
fn wrong_password_is_refused_and_never_shown() {
    let password = password_for("Right");
    let Some(role) = password_role(&password) else {
        eprintln!("skipping: needs the throwaway server (pg_hba.conf is written by the harness)");
        return;
    };
    let wrong = password_for("Wrong");
    let url = role.url_with(&wrong);
    let secrets = [
        wrong.as_str(),
        &percent_encode(&wrong),
        password.as_str(),
        &percent_encode(&password),
    ];
    type Variant<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)]);
    let variants: [Variant; 5] = [
        (&["account", "list"], &[]),
        (&["--format", "json", "account", "list"], &[]),
        (&["-vv", "account", "list"], &[]),
        (
            &["--log-format", "json", "account", "list"],
            &[("FINCORE_LOG", "trace")],
        ),
        (
            &["--format", "json", "db", "status"],
            &[("FINCORE_LOG", "debug")],
        ),
    ];
    for (args, env) in variants {
        let (run, elapsed) = run_against(&url, args, env);
        run.assert_error(7, "storage_unavailable");
        let line = run
            .stderr
            .lines()
            .find(|line| line.starts_with("error: "))
            .expect("error line");
        assert!(
            line.contains("authentication failed") && line.contains("password"),
            "{line}"
        );
        assert!(elapsed < FAST, "took {elapsed:?}");
        assert_hidden(&run, &secrets);
        if args.contains(&"json") && args.contains(&"--format") {
            let message = run.json()["error"]["message"].as_str().unwrap().to_string();
            assert!(
                message.contains(&format!("{}:***@", role.user)),
                "{message}"
            );
        }
    }
}

#[test]
fn right_password_works_and_is_never_shown() {
    let password = password_for("Good");
    let Some(role) = password_role(&password) else {
        return;
    };
    let url = role.url_with(&password);
    let secrets = [password.as_str(), &percent_encode(&password)];
    let env = [("FINCORE_LOG", "trace")];
    let (run, _) = run_against(
        &url,
        &[
            "--format",
            "json",
            "account",
            "open",
            "--holder",
            "Ann",
            "--type",
            "checking",
            "--currency",
            "USD",
        ],
        &env,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_hidden(&run, &secrets);
    let (run, _) = run_against(&url, &["--format", "json", "-vv", "db", "status"], &env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["backend"], "postgresql");
    assert_hidden(&run, &secrets);
    // A failure after connecting (not found) must not print it either.
    let (run, _) = run_against(&url, &["-v", "account", "show", "0000000000000000"], &env);
    run.assert_error(5, "account_not_found");
    assert_hidden(&run, &secrets);
}

#[test]
fn spans_say_postgresql_and_never_carry_the_password() {
    let password = password_for("Span");
    let Some(role) = password_role(&password) else {
        return;
    };
    let wrong = password_for("SpanWrong");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut collector = fake_opentelemetry_collector::FakeCollectorServer::start()
            .await
            .expect("collector");
        let endpoint = collector.endpoint();
        for (url, expected_exit) in [(role.url_with(&wrong), 7), (role.url_with(&password), 0)] {
            let endpoint = endpoint.clone();
            let run = tokio::task::spawn_blocking(move || {
                let ledger = Ledger::sqlite();
                ledger.run_with(
                    &["-v", "account", "list"],
                    &[
                        ("FINCORE_DATABASE_URL", url.as_str()),
                        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
                        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
                    ],
                )
            })
            .await
            .expect("fincore ran");
            assert_eq!(run.code, expected_exit, "{}", run.stderr);
            let spans = collector.exported_spans(1, Duration::from_secs(10)).await;
            let root = spans
                .iter()
                .find(|span| span.name == "fincore.account.list")
                .unwrap_or_else(|| panic!("root span exported: {spans:?}"));
            let system = root.attributes.get("db.system").expect("db.system");
            assert!(system.contains("postgresql"), "{system}");
            let exported = serde_json::to_string(&spans).expect("spans serialise");
            for secret in [&password, &wrong] {
                assert!(!exported.contains(secret.as_str()), "password in spans");
                assert!(
                    !exported.contains(&percent_encode(secret)),
                    "password in spans"
                );
            }
            if expected_exit == 7 {
                assert!(exported.contains("authentication failed"), "{exported}");
            }
        }
    });
}

/// A writer that waited for the ledger lock under SERIALIZABLE gets SQLSTATE 40001 from the
/// server; the whole transaction runs again and succeeds.
#[test]
fn serialization_failure_is_retried() {
    let Some(ledger) = Ledger::postgres() else {
        return;
    };
    let (_, customer) = ledger.funded("USD", "100.00");
    let other = ledger.open("B", "checking", "USD", &[]);
    let serializable = format!(
        "{}?options[default_transaction_isolation]=serializable",
        ledger.url
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        use sqlx::Connection;
        let mut holder = sqlx::PgConnection::connect(&ledger.url)
            .await
            .expect("connect");
        let mut watcher = sqlx::PgConnection::connect(&ledger.url)
            .await
            .expect("connect");
        sqlx::raw_sql("BEGIN; UPDATE ledger_head SET transfer_seq = transfer_seq WHERE id = 1")
            .execute(&mut holder)
            .await
            .expect("hold the ledger lock");
        let args: Vec<String> = [
            "-v",
            "--format",
            "json",
            "transfer",
            "post",
            "--from",
            &customer,
            "--to",
            &other,
            "--amount",
            "10.00",
            "--currency",
            "USD",
            "--key",
            "retried",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let url = serializable.clone();
        let poster = tokio::task::spawn_blocking(move || {
            let ledger = Ledger::sqlite();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            ledger.run_with(&args, &[("FINCORE_DATABASE_URL", url.as_str())])
        });
        // Wait until fincore is blocked on the lock, then let the holder commit.
        let started = Instant::now();
        loop {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND wait_event_type = 'Lock' AND application_name = 'fincore'",
            )
            .fetch_one(&mut watcher)
            .await
            .expect("pg_stat_activity");
            if waiting > 0 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "fincore never waited for the lock"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        sqlx::raw_sql("COMMIT")
            .execute(&mut holder)
            .await
            .expect("commit");
        let run = poster.await.expect("fincore ran");
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            run.stderr.contains("serialization race") && run.stderr.contains("40001"),
            "the retry is logged:\n{}\nstdout:\n{}",
            run.stderr,
            run.stdout
        );
        assert_eq!(run.json()["replayed"], false);
    });
    assert_eq!(ledger.balance(&other), "10.00");
    ledger.assert_verified();
}
