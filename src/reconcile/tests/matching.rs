//! Matching rules on small hand-made inputs: boundaries, ambiguity, groups, invariants.

use super::super::{match_statement, BreakKind, MatchResult};
use super::*;
use proptest::prelude::*;

const RUN_DATE: &str = "2026-11-20";

fn options(tolerance_minor: i64, window_days: i64) -> MatchOptions {
    MatchOptions::one_day(date(RUN_DATE), tolerance_minor, window_days)
}

fn kinds(result: &MatchResult) -> Vec<BreakKind> {
    result.items.iter().map(|item| item.kind).collect()
}

#[test]
fn reference_tolerance_at_and_past_the_boundary() {
    let internal = [movement(1, "R-1", 10_000, RUN_DATE)];
    let at = match_statement(
        &[line(1, "R-1", 10_005, RUN_DATE)],
        &internal,
        &options(5, 0),
    );
    assert_eq!((at.matched, at.items.len()), (1, 0));
    let below = match_statement(
        &[line(1, "R-1", 9_995, RUN_DATE)],
        &internal,
        &options(5, 0),
    );
    assert_eq!((below.matched, below.items.len()), (1, 0));
    let past = match_statement(
        &[line(1, "R-1", 10_006, RUN_DATE)],
        &internal,
        &options(5, 0),
    );
    assert_eq!(kinds(&past), [BreakKind::AmountMismatch]);
    assert_eq!(past.items[0].difference_minor, Some(6));
    assert_eq!(past.items[0].transfer_id, Some(1));
}

#[test]
fn fuzzy_tolerance_at_and_past_the_boundary() {
    let internal = [movement(1, "OURS", 10_000, RUN_DATE)];
    let at = match_statement(&[line(1, "", 9_995, RUN_DATE)], &internal, &options(5, 0));
    assert_eq!((at.matched_fuzzy, at.items.len()), (1, 0));
    let past = match_statement(&[line(1, "", 9_994, RUN_DATE)], &internal, &options(5, 0));
    assert_eq!(past.matched_fuzzy, 0);
    assert_eq!(
        kinds(&past),
        [BreakKind::MissingInternal, BreakKind::MissingExternal]
    );
}

#[test]
fn date_window_at_and_past_the_boundary() {
    for (day, fuzzy) in [
        ("2026-11-18", true),
        ("2026-11-22", true),
        ("2026-11-17", false),
        ("2026-11-23", false),
    ] {
        let internal = [movement(1, "OURS", 10_000, RUN_DATE)];
        let result = match_statement(&[line(1, "THEIRS", 10_000, day)], &internal, &options(0, 2));
        assert_eq!(result.matched_fuzzy, u64::from(fuzzy), "{day}");
        if !fuzzy {
            assert_eq!(
                kinds(&result),
                [BreakKind::MissingInternal, BreakKind::MissingExternal],
                "{day}"
            );
        }
    }
    // A movement of a neighbouring day is a candidate, and unreported when nothing matches it.
    let internal = [movement(1, "OURS", 10_000, "2026-11-18")];
    let matched = match_statement(&[line(1, "", 10_000, RUN_DATE)], &internal, &options(0, 2));
    assert_eq!((matched.matched_fuzzy, matched.internal_entries), (1, 1));
    let unmatched = match_statement(&[], &internal, &options(0, 2));
    assert_eq!((unmatched.items.len(), unmatched.internal_entries), (0, 0));
}

#[test]
fn one_line_two_candidates_is_ambiguous() {
    let internal = [
        movement(1, "A", 10_000, RUN_DATE),
        movement(2, "B", 10_001, "2026-11-19"),
    ];
    let result = match_statement(&[line(1, "", 10_000, RUN_DATE)], &internal, &options(1, 1));
    assert_eq!(
        kinds(&result),
        [BreakKind::MissingExternal, BreakKind::Ambiguous]
    );
    assert_eq!(
        result.items[0].transfer_id,
        Some(1),
        "only the run date's candidate is missing"
    );
    assert_eq!(result.items[1].transfer_id, None);
    assert_eq!(result.internal_entries, 1);
}

#[test]
fn two_lines_one_candidate_are_both_ambiguous() {
    let internal = [movement(7, "A", 10_000, RUN_DATE)];
    let lines = [line(1, "", 10_000, RUN_DATE), line(2, "", 10_000, RUN_DATE)];
    let result = match_statement(&lines, &internal, &options(0, 0));
    assert_eq!(
        kinds(&result),
        [
            BreakKind::MissingExternal,
            BreakKind::Ambiguous,
            BreakKind::Ambiguous
        ]
    );
    let statement_lines: Vec<_> = result
        .items
        .iter()
        .map(|item| item.statement_line)
        .collect();
    assert_eq!(statement_lines, [None, Some(1), Some(2)]);
}

#[test]
fn a_sole_candidate_shared_with_another_line_is_ambiguous() {
    // Line 1 fits only movement 1; line 2 fits movements 1 and 2. No pairing is certain.
    let internal = [
        movement(1, "A", 10_000, RUN_DATE),
        movement(2, "B", 10_010, RUN_DATE),
    ];
    let lines = [line(1, "", 9_995, RUN_DATE), line(2, "", 10_005, RUN_DATE)];
    let result = match_statement(&lines, &internal, &options(5, 0));
    assert_eq!(result.count(BreakKind::Ambiguous), 2);
    assert_eq!(result.matched_fuzzy, 0);
}

#[test]
fn references_are_trimmed_and_case_insensitive() {
    let internal = [
        movement(1, "INV-Ä1", 100, RUN_DATE),
        movement(2, "  ", 200, RUN_DATE),
    ];
    let lines = [
        line(1, "  inv-ä1 ", 100, RUN_DATE),
        line(2, " ", 300, RUN_DATE),
    ];
    let result = match_statement(&lines, &internal, &options(0, 0));
    assert_eq!(result.matched, 1);
    assert_eq!(
        kinds(&result),
        [BreakKind::MissingInternal, BreakKind::MissingExternal],
        "blank references never match"
    );
}

#[test]
fn reference_ignores_the_date_window() {
    let internal = [movement(1, "R", 100, "2026-10-01")];
    let result = match_statement(&[line(1, "r", 100, RUN_DATE)], &internal, &options(0, 0));
    assert_eq!((result.matched, result.internal_entries), (1, 1));
}

#[test]
fn duplicate_after_the_group_is_used_up() {
    let internal = [movement(1, "R", 100, RUN_DATE)];
    let lines = [line(1, "R", 90, RUN_DATE), line(2, "R", 100, RUN_DATE)];
    let result = match_statement(&lines, &internal, &options(0, 0));
    // The exact line pairs even though it comes second; the other is the duplicate.
    assert_eq!(result.matched, 1);
    assert_eq!(kinds(&result), [BreakKind::DuplicateExternal]);
    assert_eq!(result.items[0].statement_line, Some(1));
}

#[test]
fn a_shared_reference_pairs_each_line_with_its_best_movement() {
    let internal = [
        movement(1, "RENT", 500, RUN_DATE),
        movement(2, "RENT", 700, RUN_DATE),
    ];
    let lines = [
        line(1, "RENT", 700, RUN_DATE),
        line(2, "RENT", 650, RUN_DATE),
        line(3, "RENT", 500, RUN_DATE),
    ];
    let result = match_statement(&lines, &internal, &options(0, 0));
    assert_eq!(result.matched, 2);
    assert_eq!(kinds(&result), [BreakKind::DuplicateExternal]);
    assert_eq!(result.items[0].statement_line, Some(2));
}

#[test]
fn currency_mismatch_is_not_an_amount_mismatch() {
    let mut usd = movement(1, "R", 100, RUN_DATE);
    usd.currency = currency("USD");
    let result = match_statement(&[line(1, "R", 100, RUN_DATE)], &[usd], &options(0, 0));
    assert_eq!(kinds(&result), [BreakKind::CurrencyMismatch]);
    assert_eq!(result.items[0].difference_minor, None);
    // Fuzzy matching never crosses currencies.
    let mut usd = movement(1, "OURS", 100, RUN_DATE);
    usd.currency = currency("USD");
    let fuzzy = match_statement(&[line(1, "", 100, RUN_DATE)], &[usd], &options(0, 0));
    assert_eq!(
        kinds(&fuzzy),
        [BreakKind::MissingInternal, BreakKind::MissingExternal]
    );
}

#[test]
fn negative_options_count_as_zero() {
    let internal = [movement(1, "A", 100, RUN_DATE)];
    let result = match_statement(&[line(1, "", 100, RUN_DATE)], &internal, &options(-5, -1));
    assert_eq!(result.matched_fuzzy, 1);
}

fn arbitrary_line() -> impl Strategy<Value = (u8, i64, i64)> {
    (0u8..6, -30i64..30, -3i64..=3)
}

proptest! {
    /// Whatever the input, every line and every run-date movement is accounted for once
    /// (asserted inside `match_statement`) and the totals add up.
    #[test]
    fn everything_is_accounted_for(
        lines in prop::collection::vec(arbitrary_line(), 0..25),
        movements in prop::collection::vec(arbitrary_line(), 0..25),
        tolerance in 0i64..4,
        window in 0i64..3,
    ) {
        let day = |offset: i64| (date(RUN_DATE) + chrono::TimeDelta::days(offset)).format("%Y-%m-%d").to_string();
        let reference = |index: u8| if index == 0 { String::new() } else { format!("R{index}") };
        let lines: Vec<StatementLine> = lines.iter().enumerate()
            .map(|(index, (reference_index, amount, offset))| line(index as u64 + 1, &reference(*reference_index), *amount, &day(*offset)))
            .collect();
        let internal: Vec<InternalMovement> = movements.iter().enumerate()
            .map(|(index, (reference_index, amount, offset))| movement(index as i64 + 1, &reference(*reference_index), *amount, &day(*offset)))
            .collect();
        let result = match_statement(&lines, &internal, &options(tolerance, window));
        let on_run_date = internal.iter().filter(|movement| movement.date == date(RUN_DATE)).count() as u64;
        prop_assert!(result.internal_entries >= on_run_date);
        prop_assert_eq!(result.statement_lines, lines.len() as u64);
        let line_items = result.items.iter().filter(|item| item.statement_line.is_some()).count() as u64;
        prop_assert_eq!(result.matched + result.matched_fuzzy + result.matched_grouped + line_items, result.statement_lines);
        let movement_items = result.items.iter().filter(|item| item.transfer_id.is_some()).count() as u64;
        prop_assert_eq!(result.matched + result.matched_fuzzy + result.grouped_entries + movement_items, result.internal_entries);
        prop_assert_eq!(result.fuzzy_matches.len() as u64, result.matched_fuzzy);
    }
}

#[test]
fn long_references_compare_as_text() {
    let long = "E2E-REFERENCE-2026-11-20-0000000001";
    let other = "E2E-REFERENCE-2026-11-20-0000000002";
    let internal = [
        movement(1, long, 100, RUN_DATE),
        movement(2, other, 200, RUN_DATE),
    ];
    let lines = [
        line(1, &long.to_lowercase(), 100, RUN_DATE),
        line(2, other, 250, RUN_DATE),
    ];
    let result = match_statement(&lines, &internal, &options(0, 0));
    assert_eq!(result.matched, 1);
    assert_eq!(kinds(&result), [BreakKind::AmountMismatch]);
    assert_eq!(result.items[0].transfer_id, Some(2));
}

#[test]
fn mt940_text_starting_with_a_dash_is_kept() {
    let text = b":20:X\n:60F:C261120EUR0,\n:61:261120C1,NTRFR1\n:86:Rechnung\n-Teil 2\n-\n:62F:C261120EUR1,\n";
    let statement =
        super::super::statement::mt940::read(&text[..], super::super::LineDetails::Keep).unwrap();
    assert_eq!(statement.lines[0].description, "Rechnung -Teil 2");
}
