//! Compliance benchmarks: release-mode measurements, ignored by default:
//! `cargo test -p fincore-testkit --release --test compliance -- --ignored --nocapture --test-threads=1 bench_`
//! Each timing is the median of three runs (wall clock, with the process CPU time of that
//! run, which shows what the work costs when other processes share the cores); generating
//! the data is not counted.

use chrono::NaiveDate;
use fincore::clock::{self, MICROS_PER_DAY};
use fincore::report::compliance::sanctions::normalize::NormalizedName;
use fincore::report::compliance::sanctions::similarity;
use fincore::report::compliance::{
    analyse, ctr, customer_holders, screen, structuring, suspicious, ComplianceKinds,
    ComplianceParams, SuspiciousPattern, DEFAULT_MIN_SCORE,
};
use fincore_testkit::compliance::{
    generate_ledger, generate_list, generate_names, LEDGER_DAYS, LEDGER_START_US,
};
use fincore_testkit::cpu_time;
use std::time::{Duration, Instant};

const RUNS: usize = 3;
const SEED: u64 = 20_261_121;
struct Timing {
    wall: Duration,
    cpu: Duration,
}

impl std::fmt::Display for Timing {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "{:>7.3} s wall, {:>6.2} s CPU",
            self.wall.as_secs_f64(),
            self.cpu.as_secs_f64()
        )
    }
}

fn median_of_runs<T>(mut run: impl FnMut() -> T) -> (Timing, T) {
    let mut timings = Vec::with_capacity(RUNS);
    let mut last = None;
    for _ in 0..RUNS {
        let (start, cpu_start) = (Instant::now(), cpu_time::process());
        last = Some(run());
        timings.push(Timing {
            wall: start.elapsed(),
            cpu: cpu_time::process() - cpu_start,
        });
    }
    timings.sort_by_key(|timing| timing.wall);
    (
        timings.swap_remove(RUNS / 2),
        last.expect("at least one run"),
    )
}

fn ledger_period() -> (NaiveDate, NaiveDate) {
    let first = clock::date_of_us(LEDGER_START_US);
    let last = clock::date_of_us(LEDGER_START_US + (LEDGER_DAYS - 1) * MICROS_PER_DAY);
    (first, last)
}

#[test]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
fn bench_all_kinds_over_a_million_transfers() {
    let (accounts, transfers) = generate_ledger(SEED, 10_000, 1_000_000);
    let list = generate_list(SEED, 10_000);
    let (from, to) = ledger_period();
    let params = ComplianceParams::default();
    let (from_us, to_us) = (
        clock::date_start_us(from),
        clock::date_start_us(to) + MICROS_PER_DAY - 1,
    );
    let holders = customer_holders(&accounts);

    let (ctr_time, ctr_findings) =
        median_of_runs(|| ctr(&transfers, &accounts, &params.ctr, from, to).unwrap());
    let (structuring_time, structuring_findings) =
        median_of_runs(|| structuring(&transfers, &accounts, &params.ctr, from, to).unwrap());
    let (suspicious_time, suspicious_findings) = median_of_runs(|| {
        suspicious(&transfers, &accounts, &params.suspicious, from_us, to_us).unwrap()
    });
    let (sanctions_time, hits) = median_of_runs(|| screen(&holders, &list, DEFAULT_MIN_SCORE));
    let (all_time, all) = median_of_runs(|| {
        analyse(
            &transfers,
            &accounts,
            &params,
            ComplianceKinds::ALL,
            Some(&list),
            from,
            to,
        )
        .unwrap()
    });
    println!("1,000,000 transfers / 10,000 accounts, median of {RUNS}:");
    println!(
        "  ctr           {ctr_time}  {} findings",
        ctr_findings.len()
    );
    println!(
        "  structuring   {structuring_time}  {} findings",
        structuring_findings.len()
    );
    println!(
        "  suspicious    {suspicious_time}  {} findings",
        suspicious_findings.len()
    );
    println!(
        "  sanctions     {sanctions_time}  {} hits ({} holders, 10,000 entries)",
        hits.len(),
        holders.len()
    );
    println!("  all (analyse) {all_time}");
    for pattern in [
        SuspiciousPattern::RapidInOut,
        SuspiciousPattern::HighRiskAccount,
        SuspiciousPattern::DormantReactivation,
        SuspiciousPattern::RoundAmount,
    ] {
        let count = all
            .suspicious
            .iter()
            .filter(|f| f.pattern == pattern)
            .count();
        println!("    {:<22} {count}", pattern.as_str());
    }
}

#[test]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
fn bench_screening_100k_holders_against_10k_entries() {
    let holders = generate_names(SEED, 100_000);
    let list = generate_list(SEED, 10_000);
    let (time, hits) = median_of_runs(|| screen(&holders, &list, DEFAULT_MIN_SCORE));
    println!(
        "screening 100,000 holders against 10,000 entries ({} names, {} blocks): {time}, {} hits",
        list.name_count(),
        list.block_count(),
        hits.len()
    );
}

/// What blocking costs in recall: every pair of a sample of holders and the whole list is
/// scored without blocking and compared with what `screen` found.
#[test]
#[ignore = "slow: compares every pair of a sample; run in release"]
fn bench_screening_recall_against_every_pair() {
    let holders: Vec<String> = generate_names(SEED, 100_000)
        .into_iter()
        .step_by(50)
        .collect();
    let list = generate_list(SEED, 10_000);
    let found: std::collections::HashSet<(String, String)> =
        screen(&holders, &list, DEFAULT_MIN_SCORE)
            .into_iter()
            .map(|hit| (hit.holder, hit.list_id))
            .collect();
    let (mut expected, mut missed, mut missed_sharing_a_key) = (0, 0, 0);
    for holder in &holders {
        let holder_keys = NormalizedName::new(holder).blocking_keys();
        for entry in list.entries() {
            let spellings: Vec<&String> =
                std::iter::once(&entry.name).chain(&entry.aliases).collect();
            let best = spellings
                .iter()
                .map(|name| similarity(holder, name))
                .fold(0.0, f64::max);
            if (best * 1000.0).round() < 900.0 {
                continue;
            }
            expected += 1;
            if found.contains(&(holder.clone(), entry.list_id.clone())) {
                continue;
            }
            let shares_a_key = spellings.iter().any(|name| {
                NormalizedName::new(name)
                    .blocking_keys()
                    .iter()
                    .any(|key| holder_keys.contains(key))
            });
            missed += 1;
            missed_sharing_a_key += usize::from(shares_a_key);
            println!(
                "missed: {holder} / {} ({best:.3}, shares a key: {shares_a_key})",
                entry.name
            );
        }
    }
    println!(
        "{} holders x 10,000 entries: {expected} pairs score >= 0.900 without blocking; screen found {}; {missed} missed ({missed_sharing_a_key} of them sharing a blocking key)",
        holders.len(),
        found.len()
    );
}
