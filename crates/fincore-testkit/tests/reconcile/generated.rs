//! Generated data whose outcome is known by construction.

use super::*;
use fincore::reconcile::{match_statement, BreakKind};
use fincore_testkit::reconcile::{generate, write_csv, ExpectedCounts};

#[test]
fn twenty_thousand_generated_lines_match_the_expected_counts() {
    let generated = generate(20_261_120, 20_000, date("2026-11-20"), currency("EUR"));
    assert_eq!(generated.statement.len(), 20_000);
    let result = match_statement(
        &generated.statement,
        &generated.internal,
        &generated.options,
    );
    assert_eq!(ExpectedCounts::from_result(&result), generated.expected);
    // About 1 % of each break kind (ambiguous counts lines, up to two per case).
    // Matching compares lines and movements; balances are compared by the run.
    for kind in BreakKind::ALL
        .into_iter()
        .filter(|kind| *kind != BreakKind::BalanceMismatch)
    {
        let count = generated.expected.count(kind);
        assert!((100..=500).contains(&count), "{kind}: {count}");
    }
}

#[test]
fn generation_is_deterministic_and_seeded() {
    let run_date = date("2026-11-20");
    let first = generate(7, 500, run_date, currency("USD"));
    let again = generate(7, 500, run_date, currency("USD"));
    let other = generate(8, 500, run_date, currency("USD"));
    assert_eq!(first.statement, again.statement);
    assert_eq!(first.internal, again.internal);
    assert_ne!(first.statement, other.statement);
    for seed in 0..20 {
        let generated = generate(seed, 300, run_date, currency("JPY"));
        let result = match_statement(
            &generated.statement,
            &generated.internal,
            &generated.options,
        );
        assert_eq!(
            ExpectedCounts::from_result(&result),
            generated.expected,
            "seed {seed}"
        );
    }
}

#[test]
fn written_csv_reads_back_identically() {
    let generated = generate(3, 2_000, date("2026-11-20"), currency("EUR"));
    let path = scratch_path("generated.csv");
    write_csv(&path, &generated.statement).unwrap();
    let statement = read_statement(
        &path,
        InputFormat::Auto,
        &CsvOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(statement.lines, generated.statement);
}
