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

fn grouped(lines: &[u64], transfer_ids: &[i64]) -> super::super::GroupedMatch {
    super::super::GroupedMatch {
        statement_lines: lines.to_vec(),
        transfer_ids: transfer_ids.to_vec(),
    }
}

#[test]
fn a_payout_net_of_its_fee_settles_as_a_group() {
    let internal = [
        movement(1, "PAYOUT-9", 100_000, RUN_DATE),
        movement(2, "PAYOUT-9", -3_000, RUN_DATE),
    ];
    let lines = [line(1, "payout-9", 97_000, RUN_DATE)];
    let result = match_statement(&lines, &internal, &options(0, 0));
    assert_eq!(result.grouped_matches, [grouped(&[1], &[1, 2])]);
    assert_eq!((result.matched_grouped, result.grouped_entries), (1, 2));
    assert!(result.items.is_empty(), "{:?}", result.items);
}

#[test]
fn an_invoice_paid_in_parts_settles_as_a_group_within_tolerance() {
    let internal = [movement(7, "SPLIT-1", 100_000, RUN_DATE)];
    let lines = [
        line(1, "SPLIT-1", 60_000, RUN_DATE),
        line(2, "SPLIT-1", 39_999, RUN_DATE),
    ];
    // One minor unit short: a group only within tolerance.
    let exact = match_statement(&lines, &internal, &options(0, 0));
    assert!(exact.grouped_matches.is_empty());
    assert_eq!(
        kinds(&exact),
        [BreakKind::AmountMismatch, BreakKind::DuplicateExternal]
    );
    let tolerant = match_statement(&lines, &internal, &options(1, 0));
    assert_eq!(tolerant.grouped_matches, [grouped(&[1, 2], &[7])]);
    assert!(tolerant.items.is_empty());
}

#[test]
fn one_line_pairing_exactly_leaves_the_rest_of_its_group_as_breaks() {
    // Line 1 pairs with movement 1; movement 2 alone against nothing is missing on the
    // statement, never pulled into a group with an already matched line.
    let internal = [
        movement(1, "REF-1", 50_000, RUN_DATE),
        movement(2, "REF-1", -1_000, RUN_DATE),
    ];
    let lines = [line(1, "REF-1", 50_000, RUN_DATE)];
    let result = match_statement(&lines, &internal, &options(0, 0));
    assert_eq!(result.matched, 1);
    assert!(result.grouped_matches.is_empty());
    assert_eq!(kinds(&result), [BreakKind::MissingExternal]);
    assert_eq!(result.items[0].transfer_id, Some(2));
}

#[test]
fn a_bank_batch_settles_the_one_movement_of_its_total() {
    let batch = |position: u64, reference: &str, amount_minor: i64| StatementLine {
        group: Some(4),
        ..line(position, reference, amount_minor, RUN_DATE)
    };
    let lines = [
        batch(1, "DD-1", 20_000),
        batch(2, "DD-2", 25_000),
        batch(3, "DD-3", 5_000),
        line(4, "OTHER", 5_000, RUN_DATE),
    ];
    let internal = [
        movement(9, "COLLECTION-77", 50_000, "2026-11-19"),
        movement(10, "OTHER", 5_000, RUN_DATE),
    ];
    let result = match_statement(&lines, &internal, &options(0, 1));
    assert_eq!(result.grouped_matches, [grouped(&[1, 2, 3], &[9])]);
    assert_eq!(result.matched, 1);
    assert!(result.items.is_empty());
    // Outside the date window the batch is three lines missing in the ledger.
    let far = match_statement(&lines, &internal, &options(0, 0));
    assert!(far.grouped_matches.is_empty());
    assert_eq!(far.count(BreakKind::MissingInternal), 3);
}

#[test]
fn movements_of_days_outside_the_run_are_candidates_only() {
    let mut options = options(0, 1);
    options.run_days = super::super::RunDays {
        from: date("2026-11-19"),
        to: date("2026-11-21"),
        covered_elsewhere: vec![(date("2026-11-20"), date("2026-11-20"))],
    };
    let internal = [
        movement(1, "A", 100, "2026-11-19"),
        movement(2, "B", 200, "2026-11-20"),
        movement(3, "C", 300, "2026-11-21"),
        movement(4, "D", 400, "2026-11-22"),
    ];
    let lines = [line(1, "D", 400, "2026-11-21")];
    let result = match_statement(&lines, &internal, &options);
    // D (the 22nd) matched from the window; A and C are missing; B belongs to another run.
    assert_eq!(result.matched, 1);
    let missing: Vec<Option<i64>> = result.items.iter().map(|item| item.transfer_id).collect();
    assert_eq!(missing, [Some(1), Some(3)]);
    assert_eq!(result.internal_entries, 3);
}
