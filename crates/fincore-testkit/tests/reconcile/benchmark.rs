//! One million lines:
//! `cargo test -p fincore-testkit --release --test reconcile -- --ignored --nocapture --test-threads 1 benchmark_`.
//! `benchmark_prepare` writes the files; `benchmark_read_and_match` is the measured part (run
//! it under `/usr/bin/time -v` for peak memory).

use super::*;
use fincore::reconcile::{match_statement, MatchOptions};
use fincore_testkit::cpu_time;
use fincore_testkit::reconcile::{
    generate, read_internal_csv, write_csv, write_internal_csv, ExpectedCounts,
    GENERATED_TOLERANCE_MINOR, GENERATED_WINDOW_DAYS,
};
use std::time::Instant;

const BENCHMARK_LINES: usize = 1_000_000;
const BENCHMARK_SEED: u64 = 1_000_000;

fn benchmark_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("reconcile-benchmark-{name}"))
}

#[test]
#[ignore = "benchmark: writes 1,000,000-line files"]
fn benchmark_prepare() {
    let generated = generate(
        BENCHMARK_SEED,
        BENCHMARK_LINES,
        date("2026-11-20"),
        currency("EUR"),
    );
    write_csv(&benchmark_file("statement.csv"), &generated.statement).unwrap();
    write_internal_csv(&benchmark_file("internal.csv"), &generated.internal).unwrap();
    // Kept in a file so the measured test does not generate (and hold) the data again.
    std::fs::write(
        benchmark_file("expected.txt"),
        format!("{:?}", generated.expected),
    )
    .unwrap();
    println!(
        "statement {} lines, internal {} movements",
        generated.statement.len(),
        generated.internal.len()
    );
}

#[test]
#[ignore = "benchmark: needs benchmark_prepare first"]
fn benchmark_read_and_match() {
    let internal = read_internal_csv(&benchmark_file("internal.csv")).unwrap();
    let options = MatchOptions::one_day(
        date("2026-11-20"),
        GENERATED_TOLERANCE_MINOR,
        GENERATED_WINDOW_DAYS,
    );
    let started = Instant::now();
    let cpu_started = cpu_time::thread();
    let statement = read_statement(
        &benchmark_file("statement.csv"),
        InputFormat::Csv,
        &CsvOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    let read_elapsed = started.elapsed();
    let read_cpu = cpu_time::thread() - cpu_started;
    let matching_started = Instant::now();
    let result = match_statement(&statement.lines, &internal, &options);
    let match_elapsed = matching_started.elapsed();
    let match_cpu = cpu_time::thread() - cpu_started - read_cpu;
    println!(
        "read {} lines: {:.3} s (cpu {:.2} s), match against {} movements: {:.3} s (cpu {:.2} s), total {:.3} s (cpu {:.2} s)",
        statement.lines.len(),
        read_elapsed.as_secs_f64(),
        read_cpu.as_secs_f64(),
        internal.len(),
        match_elapsed.as_secs_f64(),
        match_cpu.as_secs_f64(),
        (read_elapsed + match_elapsed).as_secs_f64(),
        (read_cpu + match_cpu).as_secs_f64()
    );
    let expected = std::fs::read_to_string(benchmark_file("expected.txt")).unwrap();
    assert_eq!(
        format!("{:?}", ExpectedCounts::from_result(&result)),
        expected
    );
}

#[test]
#[ignore = "benchmark: needs benchmark_prepare first"]
fn benchmark_read_only() {
    let cpu_started = cpu_time::thread();
    let statement = read_statement(
        &benchmark_file("statement.csv"),
        InputFormat::Csv,
        &CsvOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    println!(
        "read {} lines: cpu {:.2} s",
        statement.lines.len(),
        (cpu_time::thread() - cpu_started).as_secs_f64()
    );
}
