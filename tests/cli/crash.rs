//! SIGKILL `transfer import` part-way, several times, then finish it: the balances must equal
//! an uninterrupted run's and the ledger must verify.

use crate::support::{busy_ledger, Ledger, BUSY_ACCOUNTS};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Small batches give the kills many commit points to land between.
const BATCH_ROWS: &str = "200";

fn prepare(ledger: &Ledger) -> std::path::PathBuf {
    busy_ledger(ledger, 42, 90_000)
}

fn import(ledger: &Ledger, file: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fincore"));
    command
        .env("FINCORE_DATABASE_URL", &ledger.url)
        .args(["--format", "json", "transfer", "import"])
        .arg(file)
        .args(["--batch-rows", BATCH_ROWS])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

fn kill_and_resume(ledger: &Ledger) {
    let reference = Ledger::sqlite();
    let reference_file = prepare(&reference);
    let status = import(&reference, &reference_file)
        .status()
        .expect("reference import");
    assert!(status.code() == Some(0) || status.code() == Some(1));
    let file = prepare(ledger);
    let transfers = |l: &Ledger| {
        l.json(&["transfer", "list", "--limit", "100000"])
            .as_array()
            .unwrap()
            .len()
    };
    let mut counts_after_kills = Vec::new();
    for delay_ms in [120u64, 260, 400, 700, 1_000] {
        let mut child = import(ledger, &file).spawn().expect("spawn import");
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        counts_after_kills.push(transfers(ledger));
    }
    let expected_total = transfers(&reference);
    assert!(
        counts_after_kills.iter().any(|&count| count > BUSY_ACCOUNTS && count < expected_total),
        "at least one kill landed part-way through the import: {counts_after_kills:?} of {expected_total}"
    );
    let finished = import(ledger, &file).status().expect("final import");
    assert!(finished.code() == Some(0) || finished.code() == Some(1));
    let expected = reference.json(&["report", "balances"])["accounts"].clone();
    assert_eq!(
        ledger.json(&["report", "balances"])["accounts"],
        expected,
        "balances equal an uninterrupted run"
    );
    assert_eq!(
        transfers(ledger),
        expected_total,
        "no transfer applied twice or lost"
    );
    ledger.assert_verified();
}

crate::both_backends! {
    sigkill_during_import => kill_and_resume;
}
