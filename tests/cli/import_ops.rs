//! `transfer import` telling the operator what happened: rejected rows on stderr, a
//! `--rejects` path that would destroy something, SIGINT/SIGTERM part-way and the re-run that
//! resumes, and `--dry-run` writing nothing while counting what a real import then does.

use crate::support::{busy_ledger, Backend, Ledger, Run, BUSY_ROWS};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const HEADER: &str = "key,from,to,amount,currency,at,reference,description\n";

/// `n` rows that fail validation (bad amount): rejected without touching the database.
fn invalid_rows(n: usize) -> String {
    let mut text = String::from(HEADER);
    for row in 0..n {
        text.push_str(&format!(
            "bad{row},ACCT0001,ACCT0002,12.345,USD,2026-11-20T09:00:00Z,R{row},\n"
        ));
    }
    text
}

fn stderr_rejects(run: &Run) -> Vec<&str> {
    run.stderr
        .lines()
        .filter(|line| line.starts_with("rejected: "))
        .collect()
}

#[test]
fn first_rejected_rows_on_stderr_then_how_many_more() {
    let ledger = Ledger::sqlite();
    let file = ledger.write("bad.csv", &invalid_rows(1_234));
    let run = ledger.run(&["transfer", "import", file.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let shown = stderr_rejects(&run);
    assert_eq!(shown.len(), 10, "the first 10 rows:\n{}", run.stderr);
    // Line, code, then the message naming the field.
    assert!(
        shown[0].starts_with("rejected: line 2: amount_precision_exceeded: field 'amount': ")
            && shown[0].contains("12.345"),
        "{}",
        shown[0]
    );
    assert!(shown[9].starts_with("rejected: line 11: "), "{}", shown[9]);
    assert!(
        run.stderr
            .contains("… and 1,224 more rejected rows; use --rejects FILE"),
        "{}",
        run.stderr
    );
    // With --rejects every row goes to the file and none to stderr.
    let rejects = ledger.path("rejects.csv");
    let run = ledger.run(&[
        "transfer",
        "import",
        file.to_str().unwrap(),
        "--rejects",
        rejects.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(stderr_rejects(&run).is_empty(), "{}", run.stderr);
    assert!(!run.stderr.contains("more rejected rows"), "{}", run.stderr);
    let written = std::fs::read_to_string(&rejects).unwrap();
    assert_eq!(written.lines().count(), 1 + 1_234, "header and every row");
}

#[test]
fn few_rejected_rows_are_all_shown_with_no_more_line() {
    let ledger = Ledger::sqlite();
    let file = ledger.write("bad.csv", &invalid_rows(3));
    let run = ledger.run(&["transfer", "import", file.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(stderr_rejects(&run).len(), 3, "{}", run.stderr);
    assert!(!run.stderr.contains("more rejected rows"), "{}", run.stderr);
}

/// A refused `--rejects`: exit 2 naming the flag, the input intact, and no database created.
fn assert_refused(ledger: &Ledger, run: &Run, input: &Path, input_text: &str, says: &str) {
    run.assert_error(2, "usage_error");
    assert!(run.stderr.contains("--rejects"), "{}", run.stderr);
    assert!(run.stderr.contains(says), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(input).unwrap(), input_text);
    assert_eq!(
        std::fs::read(ledger.path("ledger.db")).unwrap(),
        b"",
        "refused before the (empty) database was opened"
    );
}

#[test]
fn rejects_path_that_is_the_input_is_refused() {
    let ledger = Ledger::sqlite();
    let text = invalid_rows(3);
    let input = ledger.write("transfers.csv", &text);
    let path = input.to_str().unwrap();
    for force in [false, true] {
        let mut args = vec!["transfer", "import", path, "--rejects", path];
        if force {
            args.push("--force");
        }
        let run = ledger.run(&args);
        assert_refused(&ledger, &run, &input, &text, "is the input file");
    }
    // The same file under another name: a relative path, a symlink, a hard link.
    std::os::unix::fs::symlink(&input, ledger.path("link.csv")).unwrap();
    std::fs::hard_link(&input, ledger.path("hard.csv")).unwrap();
    for other in ["transfers.csv", "./link.csv", "hard.csv"] {
        let run = ledger.run(&["transfer", "import", path, "--rejects", other, "--force"]);
        assert_refused(&ledger, &run, &input, &text, "is the input file");
    }
}

#[test]
fn rejects_path_that_is_the_database_is_refused() {
    let ledger = Ledger::sqlite();
    ledger.open("Bank", "settlement", "USD", &[]);
    let database = ledger.path("ledger.db");
    let before = std::fs::read(&database).unwrap();
    let input = ledger.write("transfers.csv", &invalid_rows(2));
    let run = ledger.run(&[
        "transfer",
        "import",
        input.to_str().unwrap(),
        "--rejects",
        database.to_str().unwrap(),
        "--force",
    ]);
    run.assert_error(2, "usage_error");
    assert!(
        run.stderr.contains("is the database file"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(&database).unwrap(), before);
}

#[test]
fn existing_rejects_file_needs_force() {
    let ledger = Ledger::sqlite();
    let text = invalid_rows(2);
    let input = ledger.write("transfers.csv", &text);
    let rejects = ledger.write("rejects.csv", "keep me\n");
    let args = [
        "transfer",
        "import",
        input.to_str().unwrap(),
        "--rejects",
        rejects.to_str().unwrap(),
    ];
    let run = ledger.run(&args);
    assert_refused(&ledger, &run, &input, &text, "already exists; pass --force");
    assert_eq!(std::fs::read_to_string(&rejects).unwrap(), "keep me\n");
    let mut forced = args.to_vec();
    forced.push("--force");
    let run = ledger.run(&forced);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let written = std::fs::read_to_string(&rejects).unwrap();
    assert!(written.starts_with("line,key,from,to,"), "{written}");
    assert_eq!(
        written.lines().count(),
        3,
        "header and both rows: {written}"
    );
}

#[test]
fn batch_rows_out_of_range_is_a_usage_error() {
    let ledger = Ledger::sqlite();
    let input = ledger.write("transfers.csv", &invalid_rows(1));
    for rows in ["0", "100001", "many"] {
        let run = ledger.run(&[
            "transfer",
            "import",
            input.to_str().unwrap(),
            "--batch-rows",
            rows,
        ]);
        run.assert_error(2, "usage_error");
        assert!(run.stderr.contains("--batch-rows"), "{}", run.stderr);
    }
}

// ---- Signals -------------------------------------------------------------------------------

/// Small batches: many commit points for the signal to fall between.
const BATCH_ROWS: &str = "25";

fn prepare(ledger: &Ledger) -> PathBuf {
    busy_ledger(ledger, 7, 120_000)
}

fn import_args<'a>(file: &'a Path, rejects: &'a Path, force: bool) -> Vec<&'a str> {
    let mut args = vec![
        "--format",
        "json",
        "transfer",
        "import",
        file.to_str().unwrap(),
        "--batch-rows",
        BATCH_ROWS,
        "--rejects",
        rejects.to_str().unwrap(),
    ];
    if force {
        args.push("--force");
    }
    args
}

/// The import as a child process of our own (to signal it), set up as `Ledger::command`.
fn spawn(ledger: &Ledger, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_fincore"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("FINCORE_DATABASE_URL", &ledger.url)
        .env("FINCORE_NOW", crate::support::NOW)
        .env("FINCORE_OPERATOR", "tester")
        .current_dir(ledger.dir.path())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn import")
}

/// Wait until the import committed its first batch (row `k0` is readable).
fn wait_for_first_commit(ledger: &Ledger) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while ledger.run(&["transfer", "show", "k0"]).code != 0 {
        assert!(Instant::now() < deadline, "the import never committed");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn send(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

fn finish(child: Child) -> Run {
    let output = child.wait_with_output().expect("wait for import");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn count(document: &Value, field: &str) -> u64 {
    document[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field}: {document}"))
}

/// Interrupt a multi-batch import with `signals` once it has committed, then re-run the same
/// command: balances, transfers and rejects file equal an uninterrupted run's.
fn interrupt_and_resume(ledger: &Ledger, signals: &[&str], exit_code: i32, name: &str) {
    let reference = Ledger::sqlite();
    let reference_file = prepare(&reference);
    let reference_rejects = reference.path("rejects.csv");
    let uninterrupted = reference.run(&import_args(&reference_file, &reference_rejects, false));
    assert_eq!(uninterrupted.code, 1, "{}", uninterrupted.stderr);
    let uninterrupted = uninterrupted.json();
    assert!(count(&uninterrupted, "rejected") > 0, "{uninterrupted}");

    let file = prepare(ledger);
    let rejects = ledger.path("rejects.csv");
    let child = spawn(ledger, &import_args(&file, &rejects, false));
    wait_for_first_commit(ledger);
    for signal in signals {
        send(&child, signal);
    }
    let stopped = finish(child);
    assert_eq!(
        stopped.code, exit_code,
        "stopped by {name}:\n{}\n{}",
        stopped.stderr, stopped.stdout
    );
    let resumed_args = import_args(&file, &rejects, true);
    if signals.len() == 1 {
        // Stopped at a batch boundary: the summary says what is committed.
        let summary = stopped.json();
        assert_eq!(summary["interrupted"], name);
        let committed = count(&summary, "rows");
        assert!(committed > 0 && committed < BUSY_ROWS as u64, "{summary}");
        let stderr = &stopped.stderr;
        assert!(
            stderr.contains(&format!("import stopped by {name}")),
            "{stderr}"
        );
        assert!(stderr.contains("rows committed"), "{stderr}");
        assert!(
            stderr.contains("Re-running the same command resumes"),
            "{stderr}"
        );
        assert!(stderr.contains("add --force"), "{stderr}");
        // The rejects file is flushed: every rejected row of the committed batches.
        let written = std::fs::read_to_string(&rejects).unwrap();
        assert_eq!(
            written.lines().count() as u64,
            1 + count(&summary, "rejected")
        );
        let resumed = ledger.run(&resumed_args);
        assert_eq!(resumed.code, 1, "{}", resumed.stderr);
        let resumed = resumed.json();
        assert_eq!(
            count(&resumed, "replayed"),
            count(&summary, "posted"),
            "exactly the committed rows replay"
        );
    } else {
        let resumed = ledger.run(&resumed_args);
        assert_eq!(resumed.code, 1, "{}", resumed.stderr);
    }
    assert_eq!(
        ledger.json(&["report", "balances"])["accounts"],
        reference.json(&["report", "balances"])["accounts"],
        "balances equal an uninterrupted run's"
    );
    let transfers = |l: &Ledger| l.json(&["transfer", "list", "--limit", "100000"]);
    assert_eq!(
        transfers(ledger).as_array().unwrap().len(),
        transfers(&reference).as_array().unwrap().len()
    );
    assert_eq!(
        std::fs::read_to_string(&rejects).unwrap(),
        std::fs::read_to_string(&reference_rejects).unwrap(),
        "the re-run's rejects file is the uninterrupted run's"
    );
    ledger.assert_verified();
}

fn sigint_then_resume(ledger: &Ledger) {
    interrupt_and_resume(ledger, &["-INT"], 130, "SIGINT");
}

fn sigterm_then_resume(ledger: &Ledger) {
    interrupt_and_resume(ledger, &["-TERM"], 143, "SIGTERM");
}

/// A second Ctrl-C stops at once: the open batch is rolled back, never half-written.
fn second_sigint_stops_at_once(ledger: &Ledger) {
    interrupt_and_resume(ledger, &["-INT", "-INT"], 130, "SIGINT");
}

crate::both_backends! {
    sigint_during_import_then_rerun_resumes => sigint_then_resume;
    sigterm_during_import_then_rerun_resumes => sigterm_then_resume;
    second_sigint_during_import => second_sigint_stops_at_once;
}

// ---- Dry run -------------------------------------------------------------------------------

/// Every file of the SQLite database in the ledger's folder (the database, and any WAL or
/// shared-memory file) with its size and a digest of its bytes.
fn folder_bytes(ledger: &Ledger) -> Vec<(String, usize, u64)> {
    use std::hash::{Hash, Hasher};
    let mut files: Vec<(String, usize, u64)> = std::fs::read_dir(ledger.dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("ledger.db")
        })
        .map(|path| {
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            let bytes = std::fs::read(&path).unwrap();
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            bytes.hash(&mut hasher);
            (name, bytes.len(), hasher.finish())
        })
        .collect();
    files.sort();
    files
}

/// A file that posts, replays (an earlier import's keys, and keys repeated across batches),
/// conflicts, and is rejected by balance and by risk (a blacklisted receiver).
fn dry_run_matches_real_import(ledger: &Ledger) {
    let file = prepare(ledger);
    let original = std::fs::read_to_string(&file).unwrap();
    let first = ledger.write(
        "first.csv",
        &original
            .lines()
            .take(41)
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
    );
    let run = ledger.run(&["transfer", "import", first.to_str().unwrap()]);
    assert!(run.code <= 1, "{}", run.stderr);
    let mut text = original.clone();
    text.push_str("k7,ACCT0001,ACCT0002,1.00,USD,2026-11-20T23:00:00Z,conflict,\n");
    text.push_str(
        &original
            .lines()
            .skip(100)
            .take(60)
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
    );
    let file = ledger.write("transfers.csv", &text);
    let snapshot = ledger.snapshot();
    // A write just before the dry run: on SQLite it may leave its WAL behind (its last
    // connection did not checkpoint), which the dry run must leave alone too.
    ledger.json(&["risk", "blacklist", "add", "ACCT0003", "--reason", "test"]);
    let sqlite_before = folder_bytes(ledger);
    let dry_rejects = ledger.path("dry-rejects.csv");
    let mut args = vec![
        "--format",
        "json",
        "transfer",
        "import",
        file.to_str().unwrap(),
        "--batch-rows",
        "500",
        "--rejects",
        dry_rejects.to_str().unwrap(),
        "--dry-run",
    ];
    let dry = ledger.run(&args);
    assert_eq!(dry.code, 1, "{}", dry.stderr);
    let dry = dry.json();
    assert_eq!(dry["dry_run"], true);
    if ledger.backend == Backend::Sqlite {
        // The shared-memory index changes with any reader; the database and WAL files must
        // not, and no file may appear or disappear.
        let files = |all: Vec<(String, usize, u64)>| -> Vec<(String, usize, u64)> {
            all.into_iter()
                .map(|(name, size, digest)| match name.ends_with("-shm") {
                    true => (name, 0, 0),
                    false => (name, size, digest),
                })
                .collect()
        };
        assert_eq!(
            files(folder_bytes(ledger)),
            files(sqlite_before),
            "the database file (and WAL, if any) byte-identical, no -wal/-shm created"
        );
    }
    let after = ledger.snapshot();
    assert_eq!(after.balances, snapshot.balances, "nothing posted");
    assert_eq!(after.accounts, snapshot.accounts);
    assert_eq!(after.transfers, snapshot.transfers, "nothing recorded");
    assert_eq!(
        after.audit_events,
        snapshot.audit_events + 1,
        "the blacklist entry's event, nothing else"
    );
    args.pop();
    let real_rejects = ledger.path("real-rejects.csv");
    args[8] = real_rejects.to_str().unwrap();
    let real = ledger.run(&args);
    assert_eq!(real.code, 1, "{}", real.stderr);
    let real = real.json();
    assert_eq!(real["dry_run"], false);
    for field in ["rows", "posted", "replayed", "rejected"] {
        assert_eq!(dry[field], real[field], "{field}: dry {dry}\nreal {real}");
    }
    assert!(
        count(&real, "posted") > 0 && count(&real, "replayed") >= 41,
        "{real}"
    );
    let dry_text = std::fs::read_to_string(&dry_rejects).unwrap();
    assert_eq!(dry_text, std::fs::read_to_string(&real_rejects).unwrap());
    for code in [
        "insufficient_funds",
        "risk_rejected",
        "idempotency_conflict",
    ] {
        assert!(
            dry_text.contains(code),
            "{code} among the rejects:\n{dry_text}"
        );
    }
    ledger.assert_verified();
}

crate::both_backends! {
    dry_run_writes_nothing_and_counts_what_import_does => dry_run_matches_real_import;
}

#[test]
fn dry_run_on_a_missing_or_unmigrated_database_changes_nothing() {
    let ledger = Ledger::sqlite();
    let input = ledger.write("transfers.csv", &invalid_rows(1));
    let args = ["transfer", "import", input.to_str().unwrap(), "--dry-run"];
    // The harness's ledger starts as an empty file: a database with no schema yet.
    let run = ledger.run(&args);
    run.assert_error(7, "storage_unavailable");
    assert!(run.stderr.contains("migrates nothing"), "{}", run.stderr);
    assert_eq!(
        folder_bytes(&ledger),
        vec![("ledger.db".to_string(), 0, empty_digest())],
        "not migrated, no -wal/-shm left"
    );
    std::fs::remove_file(ledger.path("ledger.db")).unwrap();
    let run = ledger.run(&args);
    run.assert_error(7, "storage_unavailable");
    assert!(run.stderr.contains("ledger.db"), "{}", run.stderr);
    assert!(folder_bytes(&ledger).is_empty(), "no database file created");
}

fn empty_digest() -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    Vec::<u8>::new().hash(&mut hasher);
    hasher.finish()
}

/// SQLite: a WAL left behind by a killed import holds committed batches not yet copied into
/// the database file. A dry run reads them (they are the ledger) but neither copies them into
/// the file nor touches the WAL, as closing the last connection would otherwise do.
#[test]
fn dry_run_leaves_a_wal_it_did_not_write_alone() {
    let ledger = Ledger::sqlite();
    let file = prepare(&ledger);
    let rejects = ledger.path("rejects.csv");
    let mut child = spawn(&ledger, &import_args(&file, &rejects, false));
    wait_for_first_commit(&ledger);
    child.kill().expect("SIGKILL the import");
    let _ = child.wait();
    let before = folder_bytes(&ledger);
    let wal = before.iter().find(|(name, _, _)| name == "ledger.db-wal");
    assert!(
        wal.is_some_and(|(_, size, _)| *size > 0),
        "the killed import left its WAL: {before:?}"
    );
    let dry = ledger.run(&[
        "--format",
        "json",
        "transfer",
        "import",
        file.to_str().unwrap(),
        "--dry-run",
    ]);
    assert_eq!(dry.code, 1, "{}", dry.stderr);
    assert!(
        count(&dry.json(), "replayed") > 0,
        "the WAL's batches are read"
    );
    let unchanged = |files: &[(String, usize, u64)]| -> Vec<(String, usize, u64)> {
        files
            .iter()
            .filter(|(name, _, _)| !name.ends_with("-shm"))
            .cloned()
            .collect()
    };
    assert_eq!(
        unchanged(&folder_bytes(&ledger)),
        unchanged(&before),
        "database file and WAL byte-identical"
    );
}

/// A row that is not UTF-8 is a row: counted, rejected with its line, and the others posted,
/// so that rows = posted + replayed + rejected (issue 12's pair assertion found it uncounted).
#[test]
fn a_row_that_is_not_utf8_is_counted_and_rejected() {
    let ledger = Ledger::sqlite();
    let (_, payer) = ledger.funded("USD", "100.00");
    let payee = ledger.open("Payee", "checking", "USD", &[]);
    let mut bytes = HEADER.as_bytes().to_vec();
    let row = |key: &str, description: &[u8]| {
        let mut row =
            format!("{key},{payer},{payee},1.00,USD,2026-11-20T09:00:00Z,R,").into_bytes();
        row.extend_from_slice(description);
        row.push(b'\n');
        row
    };
    bytes.extend(row("u1", b"fine"));
    bytes.extend(row("u2", b"caf\xe9 latin-1"));
    bytes.extend(row("u3", b"fine too"));
    let file = ledger.path("latin1.csv");
    std::fs::write(&file, bytes).unwrap();
    let run = ledger.run(&[
        "--format",
        "json",
        "transfer",
        "import",
        file.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let summary = run.json();
    assert_eq!(summary["rows"], 3, "{summary}");
    assert_eq!(summary["posted"], 2, "{summary}");
    assert_eq!(summary["rejected"], 1, "{summary}");
    assert!(run.stderr.contains("rejected: line 3: "), "{}", run.stderr);
}
