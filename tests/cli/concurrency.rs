//! Several fincore processes posting at once must never lose or double-apply money.

use crate::support::{Backend, Ledger};
use std::process::Command;

const ACCOUNTS: usize = 4;
const POSTS_PER_WORKER: usize = 40;
const FUNDING_MINOR: i64 = 100_000;

#[test]
fn sqlite_four_processes() {
    concurrent_posts(&Ledger::sqlite(), 4);
}

#[test]
fn postgres_eight_processes() {
    if let Some(ledger) = Ledger::postgres() {
        concurrent_posts(&ledger, 8);
    }
}

/// A tiny deterministic generator: the test must be reproducible, not clever.
struct Sequence(u64);

impl Sequence {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

fn minor_of(text: &str) -> i64 {
    let (whole, fraction) = text.split_once('.').unwrap();
    let sign = if whole.starts_with('-') { -1 } else { 1 };
    sign * (whole.trim_start_matches('-').parse::<i64>().unwrap() * 100
        + fraction.parse::<i64>().unwrap())
}

fn concurrent_posts(ledger: &Ledger, workers: usize) {
    let settlement = ledger.open("Bank", "settlement", "USD", &[]);
    let accounts: Vec<String> = (0..ACCOUNTS)
        .map(|i| {
            ledger.open(
                &format!("Holder {i}"),
                "checking",
                "USD",
                &["--initial-deposit", "1000.00", "--via", &settlement],
            )
        })
        .collect();
    let handles: Vec<_> = (0..workers)
        .map(|worker| {
            let accounts = accounts.clone();
            let url = ledger.url.clone();
            std::thread::spawn(move || {
                let mut sequence = Sequence(0x9E37_79B9_7F4A_7C15 ^ (worker as u64 + 1));
                let mut codes = Vec::with_capacity(POSTS_PER_WORKER);
                for post in 0..POSTS_PER_WORKER {
                    let from = sequence.next(ACCOUNTS as u64) as usize;
                    let to = (from + 1 + sequence.next(ACCOUNTS as u64 - 1) as usize) % ACCOUNTS;
                    let amount = format!("{}.{:02}", 1 + sequence.next(600), sequence.next(100));
                    let key = format!("w{worker}-p{post}");
                    let output = Command::new(env!("CARGO_BIN_EXE_fincore"))
                        .env("FINCORE_DATABASE_URL", &url)
                        .args([
                            "transfer",
                            "post",
                            "--from",
                            &accounts[from],
                            "--to",
                            &accounts[to],
                            "--amount",
                            &amount,
                            "--currency",
                            "USD",
                            "--key",
                            &key,
                        ])
                        .output()
                        .expect("run fincore");
                    codes.push((
                        output.status.code().unwrap_or(-1),
                        String::from_utf8_lossy(&output.stderr).into_owned(),
                    ));
                }
                codes
            })
        })
        .collect();
    let mut posted = 0;
    for handle in handles {
        for (code, stderr) in handle.join().expect("worker") {
            assert!(
                code == 0 || code == 3,
                "every attempt ends in 0 or 3, got {code}: {stderr}"
            );
            if code == 3 {
                assert!(stderr.contains("insufficient_funds"), "{stderr}");
            } else {
                posted += 1;
            }
        }
    }
    assert!(posted > 0);
    let total: i64 = accounts
        .iter()
        .map(|number| minor_of(&ledger.balance(number)))
        .sum();
    assert_eq!(
        total,
        FUNDING_MINOR * ACCOUNTS as i64 / 100 * 100,
        "money is conserved"
    );
    for number in &accounts {
        assert!(
            minor_of(&ledger.balance(number)) >= 0,
            "no account breaks its limit"
        );
    }
    assert_eq!(
        minor_of(&ledger.balance(&settlement)),
        FUNDING_MINOR * ACCOUNTS as i64
    );
    let transfers = ledger.json(&["transfer", "list", "--limit", "100000"]);
    let posted_rows = transfers
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "posted")
        .count();
    assert_eq!(
        posted_rows,
        posted + ACCOUNTS,
        "each success posted exactly once"
    );
    ledger.assert_verified();
    let _ = Backend::Sqlite;
}
