//! The process meets a condition the command did not cause: stdout or stderr that cannot be
//! written, a database that is missing, locked or read-only, no login variables. The operator
//! is told what happened, and the exit code reports the command's effect (SPEC "Exit codes").

use crate::both_backends;
use crate::support::{Backend, Ledger, Run, NOW};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

both_backends! {
    full_stdout_after_a_committed_post_names_the_transfer => full_stdout_after_a_committed_post;
    db_status_names_the_database => db_status_names_the_database;
    operator_defaults_to_the_account_name_of_the_uid => operator_without_login_variables;
}

/// `fincore` with the harness's environment, stdio left to the caller.
fn fincore(ledger: &Ledger, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fincore"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("FINCORE_DATABASE_URL", &ledger.url)
        .env("FINCORE_NOW", NOW)
        .env("FINCORE_OPERATOR", "tester")
        .env("NO_COLOR", "1")
        .current_dir(ledger.dir.path())
        .args(args);
    command
}

/// The write end of a pipe whose reader has already exited: every write gets EPIPE, as
/// after `| head -1` has read its line. (The reader is `true`, which never reads its stdin.)
fn closed_pipe() -> Stdio {
    let mut reader = Command::new("true")
        .stdin(Stdio::piped())
        .spawn()
        .expect("spawn true");
    let writer = reader.stdin.take().expect("pipe");
    reader.wait().expect("true exits");
    Stdio::from(writer)
}

fn dev_full() -> Stdio {
    Stdio::from(
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("open /dev/full"),
    )
}

/// Run with the given stdout and stderr; the other stream is captured.
fn run_with_stdio(mut command: Command, stdout: Option<Stdio>, stderr: Option<Stdio>) -> Run {
    command.stdin(Stdio::null());
    command.stdout(stdout.unwrap_or_else(Stdio::piped));
    command.stderr(stderr.unwrap_or_else(Stdio::piped));
    let output = command.output().expect("run fincore");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn assert_no_panic(run: &Run) {
    assert_ne!(run.code, 101, "panicked:\n{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn closed_stdout_pipe_stops_quietly_with_the_commands_exit_code() {
    let ledger = Ledger::sqlite();
    let (settlement, customer) = ledger.funded("USD", "100.00");
    for key in ["a", "b", "c"] {
        ledger.json(&[
            "transfer",
            "post",
            "--from",
            &customer,
            "--to",
            &settlement,
            "--amount",
            "1.00",
            "--currency",
            "USD",
            "--key",
            key,
        ]);
    }
    for args in [
        &["completions", "bash"][..],
        &["transfer", "list"],
        &["--format", "json", "transfer", "list"],
        &["--format", "csv", "account", "list"],
    ] {
        let run = run_with_stdio(fincore(&ledger, args), Some(closed_pipe()), None);
        assert_no_panic(&run);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr, "", "{args:?}: a closed pipe is not reported");
    }
    // The command's own result still decides: a post into a closed pipe is posted (exit 0),
    // a rejected one is still exit 3.
    let run = run_with_stdio(
        fincore(
            &ledger,
            &[
                "transfer",
                "post",
                "--from",
                &customer,
                "--to",
                &settlement,
                "--amount",
                "1.00",
                "--currency",
                "USD",
                "--key",
                "piped",
            ],
        ),
        Some(closed_pipe()),
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        ledger.json(&["transfer", "show", "piped"])["status"],
        "posted"
    );
    let run = run_with_stdio(
        fincore(
            &ledger,
            &[
                "transfer",
                "post",
                "--from",
                &customer,
                "--to",
                &settlement,
                "--amount",
                "1000.00",
                "--currency",
                "USD",
            ],
        ),
        Some(closed_pipe()),
        None,
    );
    run.assert_error(3, "insufficient_funds");
}

fn full_stdout_after_a_committed_post(ledger: &Ledger) {
    let (settlement, customer) = ledger.funded("USD", "100.00");
    let post = [
        "transfer",
        "post",
        "--from",
        &customer,
        "--to",
        &settlement,
        "--amount",
        "10.00",
        "--currency",
        "USD",
        "--key",
        "full-disk",
    ];
    let run = run_with_stdio(fincore(ledger, &post), Some(dev_full()), None);
    assert_no_panic(&run);
    let transfer = ledger.json(&["transfer", "show", "full-disk"]);
    let id = transfer["id"].as_i64().expect("id");
    assert_eq!(transfer["status"], "posted");
    assert_eq!(run.code, 0, "the post's own result, not 4: {}", run.stderr);
    assert!(
        run.stderr.contains(&format!("transfer {id} was posted"))
            && run.stderr.contains("could not be written")
            && run.stderr.contains("No space left on device"),
        "stderr names what was committed: {}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    // Running it again, as an operator who saw no output would, replays.
    let again = ledger.run(&[&["--format", "json"][..], &post].concat());
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.json()["replayed"], true);
    assert_eq!(again.json()["id"], id);
    assert_eq!(ledger.balance(&customer), "90.00", "posted once");
    // A replay into a full disk says nothing new was written.
    let replay = run_with_stdio(fincore(ledger, &post), Some(dev_full()), None);
    assert_eq!(replay.code, 0, "{}", replay.stderr);
    assert!(
        replay
            .stderr
            .contains(&format!("transfer {id} was already recorded")),
        "{}",
        replay.stderr
    );
    // A command that changed nothing cannot hide the failure: exit 7 naming stdout.
    let list = run_with_stdio(
        fincore(ledger, &["transfer", "list"]),
        Some(dev_full()),
        None,
    );
    list.assert_error(7, "storage_unavailable");
    assert!(list.stderr.contains("stdout"), "{}", list.stderr);
    // A writing command without its own sentence still says its change was committed.
    let open = run_with_stdio(
        fincore(
            ledger,
            &[
                "account",
                "open",
                "--holder",
                "Disk",
                "--type",
                "checking",
                "--currency",
                "USD",
            ],
        ),
        Some(dev_full()),
        None,
    );
    assert_eq!(open.code, 0, "{}", open.stderr);
    assert!(
        open.stderr
            .contains("fincore account open completed and its changes were committed"),
        "{}",
        open.stderr
    );
    ledger.assert_verified();
}

#[test]
fn unwritable_stderr_never_panics() {
    let ledger = Ledger::sqlite();
    let (settlement, customer) = ledger.funded("USD", "100.00");
    // (arguments, the exit code the command has anyway)
    let cases: [(&[&str], i32); 6] = [
        (&["transfer", "show", "404"], 5),
        (&["account", "open", "--holder", "X"], 2),
        (&["--format", "json", "transfer", "show", "404"], 5),
        (&["-vv", "account", "list"], 0),
        (&["no-such-command"], 2),
        (
            &[
                "transfer",
                "post",
                "--from",
                &customer,
                "--to",
                &settlement,
                "--amount",
                "1000.00",
                "--currency",
                "USD",
            ],
            3,
        ),
    ];
    for (args, code) in cases {
        for (name, stderr) in [("2>/dev/full", dev_full()), ("closed pipe", closed_pipe())] {
            let run = run_with_stdio(fincore(&ledger, args), None, Some(stderr));
            assert_eq!(
                run.code, code,
                "{args:?} with stderr {name}: {}",
                run.stdout
            );
        }
    }
    // Both streams unwritable at once.
    let run = run_with_stdio(
        fincore(&ledger, &["transfer", "list"]),
        Some(dev_full()),
        Some(dev_full()),
    );
    assert_eq!(run.code, 7);
    let run = run_with_stdio(
        fincore(&ledger, &["completions", "zsh"]),
        Some(closed_pipe()),
        Some(closed_pipe()),
    );
    assert_eq!(run.code, 0);
}

#[test]
fn a_read_on_a_missing_database_is_exit_7_and_creates_nothing() {
    let ledger = Ledger::sqlite();
    let file = ledger.path("missing.db");
    let url = format!("sqlite://{}", file.display());
    let missing = [("FINCORE_DATABASE_URL", url.as_str())];
    for args in [
        &["account", "list"][..],
        &["transfer", "list"],
        &["report", "balances"],
        &["ledger", "verify"],
        &["audit", "verify"],
        &["db", "status"],
    ] {
        let run = ledger.run_with(args, &missing);
        run.assert_error(7, "storage_unavailable");
        assert!(
            run.stderr.contains(&file.display().to_string()) && run.stderr.contains("not exist"),
            "{args:?} names the path: {}",
            run.stderr
        );
        assert!(!file.exists(), "{args:?} created {}", file.display());
    }
    // A command that writes creates it.
    let open = ledger.run_with(
        &[
            "account",
            "open",
            "--holder",
            "First",
            "--type",
            "checking",
            "--currency",
            "USD",
        ],
        &missing,
    );
    assert_eq!(open.code, 0, "{}", open.stderr);
    assert!(file.exists());
    let list = ledger.run_with(&["--format", "json", "account", "list"], &missing);
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert_eq!(list.json().as_array().unwrap().len(), 1);
}

#[test]
fn sqlite_url_without_a_path_is_a_usage_error() {
    let ledger = Ledger::sqlite();
    for url in ["sqlite://", "sqlite:", "sqlite://?mode=rwc"] {
        for args in [
            &["account", "list"][..],
            &[
                "account",
                "open",
                "--holder",
                "X",
                "--type",
                "checking",
                "--currency",
                "USD",
            ],
        ] {
            let run = ledger.run_with(args, &[("FINCORE_DATABASE_URL", url)]);
            run.assert_error(2, "usage_error");
            assert!(run.stderr.contains("sqlite://PATH"), "{}", run.stderr);
        }
    }
    // Nothing beside the harness's own (empty) ledger file.
    let names: Vec<_> = std::fs::read_dir(ledger.dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(names, ["ledger.db"]);
}

#[test]
fn a_lock_held_past_the_timeout_says_so() {
    let ledger = Ledger::sqlite();
    let (settlement, customer) = ledger.funded("USD", "100.00");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        use sqlx::Connection;
        let mut holder = sqlx::SqliteConnection::connect(&ledger.url)
            .await
            .expect("connect");
        sqlx::raw_sql("BEGIN IMMEDIATE")
            .execute(&mut holder)
            .await
            .expect("take the write lock");
        let started = Instant::now();
        let run = ledger.run_with(
            &[
                "transfer",
                "post",
                "--from",
                &customer,
                "--to",
                &settlement,
                "--amount",
                "1.00",
                "--currency",
                "USD",
                "--key",
                "locked",
            ],
            &[("FINCORE_LOCK_TIMEOUT", "1")],
        );
        let waited = started.elapsed();
        run.assert_error(7, "storage_unavailable");
        let path = ledger.path("ledger.db").display().to_string();
        for words in [
            path.as_str(),
            "is locked",
            "more than 1 s",
            "not known",
            "again",
        ] {
            assert!(run.stderr.contains(words), "{words:?} in {}", run.stderr);
        }
        assert!(
            waited >= Duration::from_secs(1) && waited < Duration::from_secs(20),
            "waited {waited:?}"
        );
        // The flag says the same as the variable.
        let run = ledger.run(&[
            "--lock-timeout",
            "1",
            "account",
            "open",
            "--holder",
            "Y",
            "--type",
            "checking",
            "--currency",
            "USD",
        ]);
        run.assert_error(7, "storage_unavailable");
        assert!(run.stderr.contains("is locked"), "{}", run.stderr);
        sqlx::raw_sql("ROLLBACK")
            .execute(&mut holder)
            .await
            .expect("release");
        holder.close().await.expect("close");
    });
    assert!(
        ledger.run(&["transfer", "show", "locked"]).code == 5,
        "nothing was posted"
    );
    let run = ledger.run(&[
        "transfer",
        "post",
        "--from",
        &customer,
        "--to",
        &settlement,
        "--amount",
        "1.00",
        "--currency",
        "USD",
        "--key",
        "locked",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// A database fincore may not write: the file made read-only, or (as root, whom file modes do
/// not stop) opened read-only through the URL. Either way SQLite refuses the write.
#[test]
fn a_read_only_database_is_named_and_said_to_be_read_only() {
    let ledger = Ledger::sqlite();
    ledger.open("Before", "checking", "USD", &[]);
    let file = ledger.path("ledger.db");
    let mut permissions = std::fs::metadata(&file).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&file, permissions).unwrap();
    let url = if writable_anyway(&file) {
        format!("{}?mode=ro", ledger.url)
    } else {
        ledger.url.clone()
    };
    let run = ledger.run_with(
        &[
            "account",
            "open",
            "--holder",
            "After",
            "--type",
            "checking",
            "--currency",
            "USD",
        ],
        &[("FINCORE_DATABASE_URL", &url)],
    );
    run.assert_error(7, "storage_unavailable");
    assert!(
        run.stderr.contains(&file.display().to_string()) && run.stderr.contains("read-only"),
        "{}",
        run.stderr
    );
}

fn writable_anyway(file: &Path) -> bool {
    std::fs::OpenOptions::new().append(true).open(file).is_ok()
}

fn db_status_names_the_database(ledger: &Ledger) {
    ledger.open("A", "checking", "USD", &[]);
    let status = ledger.json(&["db", "status"]);
    let table = ledger.run(&["db", "status"]);
    assert_eq!(table.code, 0);
    let database = status["database"].as_str().expect("database").to_string();
    match ledger.backend {
        Backend::Sqlite => {
            let file = ledger.path("ledger.db");
            assert_eq!(database, file.display().to_string());
        }
        Backend::Postgres => {
            let name = ledger.url.rsplit('/').next().unwrap();
            assert!(database.ends_with(name), "{database}");
            assert!(database.starts_with("postgres"), "{database}");
        }
    }
    assert!(table.stdout.contains(&database), "{}", table.stdout);
    // A password in the URL is never shown.
    if ledger.backend == Backend::Postgres {
        if let Some((_, rest)) = ledger.url.split_once("://") {
            if let Some((credentials, _)) = rest.rsplit_once('@') {
                if let Some((_, password)) = credentials.split_once(':') {
                    assert!(!database.contains(password), "{database}");
                    assert!(database.contains("***"), "{database}");
                }
            }
        }
    }
}

/// cron and systemd set neither USER nor LOGNAME: the operator is the account name of the
/// process's uid, as `id -un` prints it.
fn operator_without_login_variables(ledger: &Ledger) {
    let expected = Command::new("id").arg("-un").output().expect("id -un");
    let expected = String::from_utf8(expected.stdout)
        .unwrap()
        .trim()
        .to_string();
    assert!(!expected.is_empty());
    let mut command = fincore(
        ledger,
        &[
            "--format",
            "json",
            "account",
            "open",
            "--holder",
            "Cron",
            "--type",
            "checking",
            "--currency",
            "USD",
        ],
    );
    command.env_remove("FINCORE_OPERATOR");
    assert!(command
        .get_envs()
        .all(|(name, _)| name != "USER" && name != "LOGNAME"));
    let run = run_with_stdio(command, None, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let number = run.json()["number"].as_str().unwrap().to_string();
    let events = ledger.json(&["audit", "list", "--entity", &number]);
    let event = &events.as_array().unwrap()[0];
    assert_eq!(event["action"], "account.opened");
    assert_eq!(event["operator"], expected.as_str());
    assert_ne!(event["operator"], "unknown");
    // USER still wins when it is set.
    let mut command = fincore(
        ledger,
        &[
            "--format",
            "json",
            "account",
            "open",
            "--holder",
            "Shell",
            "--type",
            "checking",
            "--currency",
            "USD",
        ],
    );
    command.env_remove("FINCORE_OPERATOR").env("USER", "alice");
    let run = run_with_stdio(command, None, None);
    let number = run.json()["number"].as_str().unwrap().to_string();
    let events = ledger.json(&["audit", "list", "--entity", &number]);
    assert_eq!(events[0]["operator"], "alice");
}
