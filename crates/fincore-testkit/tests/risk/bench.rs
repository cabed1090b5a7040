//! Benchmarks (release):
//! `cargo test -p fincore-testkit --release --test risk -- --ignored --nocapture bench_`.
//! Targets: `rescore_all` of 10,000 accounts over 1,000,000 transfers ≤ 1.0 s;
//! `WindowAssessor` assess + observe ≥ 1,000,000 rows/s. Each prints the median of 3 runs.

use fincore::model::{Account, Transfer, TransferRequest};
use fincore::risk::{rescore_all, Assessor, RuleSet, WindowAssessor};
use fincore_testkit::cpu_time;
use fincore_testkit::risk::{generate_history, GENERATED_HISTORY_END_US};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

const ACCOUNTS: usize = 10_000;
const TRANSFERS: usize = 1_000_000;
const RUNS: usize = 3;

const SEED: u64 = 42;

fn median(mut durations: Vec<Duration>) -> Duration {
    durations.sort();
    durations[durations.len() / 2]
}

/// Wall and CPU time of one run.
fn timed<T>(run: impl FnOnce() -> T) -> (T, Duration, Duration) {
    let cpu_before = cpu_time::process();
    let started = Instant::now();
    let value = run();
    (value, started.elapsed(), cpu_time::process() - cpu_before)
}

fn blacklist_of(accounts: &[Account]) -> HashSet<String> {
    accounts
        .iter()
        .step_by(997)
        .map(|account| account.number.clone())
        .collect()
}

#[test]
#[ignore = "benchmark: run with --release -- --ignored"]
fn bench_rescore_all() {
    let (accounts, transfers) = generate_history(SEED, ACCOUNTS, TRANSFERS);
    let blacklist = blacklist_of(&accounts);
    let rules = RuleSet::builtin();
    let mut walls = Vec::new();
    let mut cpus = Vec::new();
    let mut risky = 0;
    for _ in 0..RUNS {
        let (rescored, wall, cpu) = timed(|| {
            rescore_all(
                &accounts,
                &transfers,
                GENERATED_HISTORY_END_US,
                &rules,
                &blacklist,
            )
        });
        walls.push(wall);
        cpus.push(cpu);
        risky = rescored
            .iter()
            .filter(|(_, _, result)| result.score > 0)
            .count();
        drop(rescored);
    }
    println!(
        "rescore_all {ACCOUNTS} accounts / {TRANSFERS} transfers, {} threads: wall {walls:?} median {:?}; cpu {cpus:?} median {:?} ({risky} accounts with factors)",
        rayon::current_num_threads(),
        median(walls.clone()),
        median(cpus.clone())
    );
}

fn request_of(transfer: &Transfer) -> TransferRequest {
    TransferRequest {
        kind: transfer.kind,
        key: transfer.key.clone(),
        from: transfer.from.clone(),
        to: transfer.to.clone(),
        amount_minor: transfer.amount_minor,
        currency: transfer.currency,
        reference: transfer.reference.clone(),
        description: transfer.description.clone(),
        at_us: Some(transfer.at_us),
        reverses_id: transfer.reverses_id,
    }
}

#[test]
#[ignore = "benchmark: run with --release -- --ignored"]
fn bench_window_assessor() {
    let (accounts, transfers) = generate_history(SEED, ACCOUNTS, TRANSFERS);
    let blacklist = blacklist_of(&accounts);
    let by_number: HashMap<&str, &Account> = accounts
        .iter()
        .map(|account| (account.number.as_str(), account))
        .collect();
    let rows: Vec<(TransferRequest, &Account, &Account)> = transfers
        .iter()
        .map(|transfer| {
            (
                request_of(transfer),
                by_number[transfer.from.as_str()],
                by_number[transfer.to.as_str()],
            )
        })
        .collect();
    let mut walls = Vec::new();
    let mut cpus = Vec::new();
    let mut flagged = 0;
    for _ in 0..RUNS {
        let mut assessor = WindowAssessor::new(RuleSet::builtin(), blacklist.clone());
        let (count, wall, cpu) = timed(|| {
            let mut count = 0usize;
            for ((request, from, to), transfer) in rows.iter().zip(&transfers) {
                let result = assessor.assess(request, from, to, transfer.at_us);
                count += usize::from(result.score > 0);
                assessor.observe(transfer);
            }
            count
        });
        flagged = count;
        walls.push(wall);
        cpus.push(cpu);
    }
    let rows_per_second =
        |duration: Duration| (TRANSFERS as u128 * 1_000_000_000) / duration.as_nanos().max(1);
    let (wall, cpu) = (median(walls.clone()), median(cpus.clone()));
    println!(
        "WindowAssessor assess+observe {TRANSFERS} rows: wall {walls:?} median {wall:?} = {} rows/s; cpu {cpus:?} median {cpu:?} = {} rows/s ({flagged} flagged)",
        rows_per_second(wall),
        rows_per_second(cpu)
    );
}
