//! WindowAssessor: every built-in rule at and just past its threshold, window edges,
//! out-of-order history, pruning, exemptions and the custom features.

use super::parse::parse_rules;
use super::rules::RuleSet;
use super::test_support::*;
use super::window::WindowAssessor;
use super::{ApproveAll, Assessor};
use crate::model::{AccountType, RiskDecision, RiskLevel, RiskResult, Transfer, TransferKind};
use crate::money::Currency;
use std::collections::HashSet;

fn builtin_assessor() -> WindowAssessor {
    WindowAssessor::new(RuleSet::builtin(), HashSet::new())
}

fn assess_at(
    assessor: &mut WindowAssessor,
    from: &str,
    to: &str,
    amount_minor: i64,
    at_us: i64,
) -> RiskResult {
    assessor.assess(
        &request(from, to, amount_minor, at_us),
        &customer(from),
        &customer(to),
        at_us,
    )
}

fn observe_all(assessor: &mut WindowAssessor, transfers: &[Transfer]) {
    for transfer in transfers {
        assessor.observe(transfer);
    }
}

/// `count` posted transfers from `from`, one minute apart, ending one minute before `end_us`.
fn outgoing_burst(from: &str, count: i64, end_us: i64, amount_minor: i64) -> Vec<Transfer> {
    (0..count)
        .map(|index| {
            posted(
                index + 1,
                from,
                "B1",
                amount_minor,
                end_us - (count - index) * MINUTE_US,
            )
        })
        .collect()
}

fn single_rule_file(feature_lines: &str, points: u32) -> RuleSet {
    parse_rules(&format!(
        "[[rule]]\nname = \"probe\"\ndescription = \"\"\n{feature_lines}\npoints = {points}\n"
    ))
    .unwrap()
}

#[test]
fn amount_rule_fires_only_above_fifty_thousand() {
    let mut assessor = builtin_assessor();
    let at_limit = assess_at(&mut assessor, "A1", "B1", 5_000_000, noon());
    assert_eq!(at_limit, RiskResult::approve());
    let above = assess_at(&mut assessor, "A1", "B1", 5_000_001, noon());
    assert_eq!(rule_names(&above), ["large_single_transfer"]);
    assert_eq!(above.factors[0].detail, "amount 50000.01 USD > 50000.00");
    assert_eq!(
        (above.score, above.level, above.decision),
        (30, RiskLevel::Medium, RiskDecision::Review)
    );
}

#[test]
fn hourly_velocity_counts_this_transfer() {
    let mut assessor = builtin_assessor();
    observe_all(&mut assessor, &outgoing_burst("A1", 9, noon(), 100));
    let tenth = assess_at(&mut assessor, "A1", "B1", 100, noon());
    assert!(
        tenth.factors.is_empty(),
        "10 in the hour is not more than 10"
    );
    assessor.observe(&posted(10, "A1", "B1", 100, noon() - 30 * SECOND_US));
    let eleventh = assess_at(&mut assessor, "A1", "B1", 100, noon());
    assert_eq!(rule_names(&eleventh), ["hourly_outgoing_velocity"]);
    assert_eq!(
        eleventh.factors[0].detail,
        "outgoing transfers in the last 1h 11 > 10"
    );
    assert_eq!(eleventh.score, 30);
}

#[test]
fn hourly_window_excludes_its_exact_start() {
    let mut on_edge = builtin_assessor();
    let mut inside = builtin_assessor();
    let mut burst = outgoing_burst("A1", 9, noon(), 100);
    observe_all(&mut on_edge, &burst);
    observe_all(&mut inside, &burst);
    burst.push(posted(99, "A1", "B1", 100, noon() - HOUR_US));
    on_edge.observe(burst.last().unwrap());
    inside.observe(&posted(99, "A1", "B1", 100, noon() - HOUR_US + 1));
    assert!(assess_at(&mut on_edge, "A1", "B1", 100, noon())
        .factors
        .is_empty());
    assert_eq!(
        rule_names(&assess_at(&mut inside, "A1", "B1", 100, noon())),
        ["hourly_outgoing_velocity"]
    );
}

#[test]
fn daily_total_includes_this_transfer() {
    let mut assessor = builtin_assessor();
    // 4 × 40,000.00 earlier today, then 40,000.00 makes exactly 200,000.00.
    let earlier: Vec<Transfer> = (0..4)
        .map(|index| {
            posted(
                index + 1,
                "A1",
                "C1",
                4_000_000,
                noon() - (index + 2) * HOUR_US,
            )
        })
        .collect();
    observe_all(&mut assessor, &earlier);
    assert!(assess_at(&mut assessor, "A1", "B1", 4_000_000, noon())
        .factors
        .is_empty());
    let above = assess_at(&mut assessor, "A1", "B1", 4_000_001, noon());
    assert_eq!(rule_names(&above), ["daily_outgoing_total"]);
    assert_eq!(
        above.factors[0].detail,
        "outgoing today 200000.01 USD > 200000.00"
    );
    assert_eq!((above.score, above.decision), (20, RiskDecision::Approve));
}

#[test]
fn today_is_the_utc_calendar_day() {
    let midnight = instant("2026-11-20T00:00:00Z");
    let mut assessor = builtin_assessor();
    assessor.observe(&posted(1, "A1", "C1", 90_000_000, midnight - 1));
    assessor.observe(&posted(2, "A1", "C1", 16_000_000, midnight));
    let at_us = midnight + 30 * MINUTE_US;
    assert!(assess_at(&mut assessor, "A1", "B1", 4_000_000, at_us)
        .factors
        .is_empty());
    let above = assess_at(&mut assessor, "A1", "B1", 4_000_001, at_us);
    assert_eq!(
        above.factors[0].detail,
        "outgoing today 200000.01 USD > 200000.00"
    );
}

#[test]
fn failed_attempts_fire_from_the_third_in_five_minutes() {
    let mut assessor = builtin_assessor();
    assessor.observe(&rejected(1, "A1", "B1", 100, noon() - 5 * MINUTE_US)); // on the edge: outside
    assessor.observe(&rejected(2, "A1", "B1", 100, noon() - 4 * MINUTE_US));
    assessor.observe(&rejected(3, "A1", "B1", 100, noon() - 3 * MINUTE_US));
    assert!(assess_at(&mut assessor, "A1", "B1", 100, noon())
        .factors
        .is_empty());
    assessor.observe(&rejected(4, "A1", "B1", 100, noon() - MINUTE_US));
    let third = assess_at(&mut assessor, "A1", "B1", 100, noon());
    assert_eq!(rule_names(&third), ["repeated_failed_attempts"]);
    assert_eq!(
        third.factors[0].detail,
        "failed attempts in the last 5m 3 >= 3"
    );
}

#[test]
fn rejected_and_incoming_transfers_are_not_outgoing() {
    let mut assessor = builtin_assessor();
    for index in 0..10 {
        assessor.observe(&rejected(
            index,
            "A1",
            "B1",
            100_000_000,
            noon() - HOUR_US / 2,
        ));
        assessor.observe(&posted(
            100 + index,
            "B1",
            "A1",
            100_000_000,
            noon() - HOUR_US / 2,
        ));
    }
    let result = assess_at(&mut assessor, "A1", "B1", 100, noon());
    assert!(!rule_names(&result).contains(&"daily_outgoing_total"));
    assert!(!rule_names(&result).contains(&"hourly_outgoing_velocity"));
}

#[test]
fn blacklist_names_the_listed_side_and_blocks() {
    let blacklist: HashSet<String> = ["B1".to_string()].into();
    let mut assessor = WindowAssessor::new(RuleSet::builtin(), blacklist);
    let to_listed = assess_at(&mut assessor, "A1", "B1", 100, noon());
    assert_eq!(
        to_listed.factors[0].detail,
        "receiving account is on the blacklist"
    );
    assert_eq!(
        (to_listed.score, to_listed.decision),
        (100, RiskDecision::Block)
    );
    let from_listed = assess_at(&mut assessor, "B1", "A1", 100, noon());
    assert_eq!(
        from_listed.factors[0].detail,
        "sending account is on the blacklist"
    );
    assert!(assess_at(&mut assessor, "A1", "C1", 100, noon())
        .factors
        .is_empty());
}

#[test]
fn cap_with_blacklist_and_large_amount() {
    let blacklist: HashSet<String> = ["B1".to_string()].into();
    let mut assessor = WindowAssessor::new(RuleSet::builtin(), blacklist);
    let result = assess_at(&mut assessor, "A1", "B1", 5_000_001, noon());
    let points: Vec<u32> = result.factors.iter().map(|factor| factor.points).collect();
    assert_eq!(points, [30, 70]);
    assert_eq!(result.score, 100);
    assert!(result.factors[1]
        .detail
        .ends_with("(70 of 100 points counted: score capped at 100)"));
}

#[test]
fn back_dated_request_ignores_later_events() {
    let mut assessor = builtin_assessor();
    observe_all(
        &mut assessor,
        &outgoing_burst("A1", 15, noon() + HOUR_US, 100),
    );
    // Requests at noon: the 15 events are all after noon.
    assert!(assess_at(&mut assessor, "A1", "B1", 100, noon())
        .factors
        .is_empty());
    let later = assess_at(&mut assessor, "A1", "B1", 100, noon() + HOUR_US);
    assert_eq!(rule_names(&later), ["hourly_outgoing_velocity"]);
}

#[test]
fn arrival_order_does_not_change_results() {
    let mut history: Vec<Transfer> = (0..400)
        .map(|index| {
            let at_us = noon() - (index * 7 % 180) * MINUTE_US - index;
            match index % 5 {
                0 => rejected(index, "A1", "B1", 1_000_000, at_us),
                1 => posted(index, "C1", "A1", 2_000_000, at_us),
                _ => posted(index, "A1", "B1", 3_000_000 + index, at_us),
            }
        })
        .collect();
    let mut in_order = builtin_assessor();
    let mut sorted = history.clone();
    sorted.sort_by_key(|transfer| (transfer.at_us, transfer.id));
    observe_all(&mut in_order, &sorted);
    shuffle(&mut history, 11);
    let mut shuffled = builtin_assessor();
    observe_all(&mut shuffled, &history);
    let mut seeded = builtin_assessor();
    seeded.seed(history.clone());
    for minutes in (0..200).step_by(3) {
        let at_us = noon() - minutes * MINUTE_US;
        let expected = assess_at(&mut in_order, "A1", "B1", 100, at_us);
        assert_eq!(
            assess_at(&mut shuffled, "A1", "B1", 100, at_us),
            expected,
            "at -{minutes}m"
        );
        assert_eq!(
            assess_at(&mut seeded, "A1", "B1", 100, at_us),
            expected,
            "at -{minutes}m"
        );
    }
}

#[test]
fn history_is_pruned_to_the_longest_window() {
    let mut assessor = builtin_assessor();
    let history: Vec<Transfer> = (0..10_000)
        .map(|index| posted(index, "A1", "B1", 100, noon() + index * MINUTE_US))
        .collect();
    observe_all(&mut assessor, &history);
    // Builtin longest window is a day, plus a day of tolerance for back-dated rows, per account.
    let kept_per_account = (2 * DAY_US / MINUTE_US) as usize;
    assert!(
        assessor.retained_events() <= 2 * kept_per_account,
        "{}",
        assessor.retained_events()
    );
    assert!(assessor.retained_events() >= 2 * (kept_per_account - 1));
    assert_eq!(assessor.history_window_us(), DAY_US);
}

#[test]
fn back_dated_request_within_tolerance_sees_complete_windows() {
    let mut assessor = builtin_assessor();
    observe_all(&mut assessor, &outgoing_burst("A1", 11, noon(), 100));
    assessor.observe(&posted(50, "A1", "B1", 100, noon() + 20 * HOUR_US));
    let result = assess_at(&mut assessor, "A1", "B1", 100, noon());
    assert_eq!(rule_names(&result), ["hourly_outgoing_velocity"]);
}

#[test]
fn bank_side_payers_are_exempt_from_behavioural_rules() {
    let mut assessor = builtin_assessor();
    observe_all(&mut assessor, &outgoing_burst("S1", 20, noon(), 5_000_000));
    let settlement = account_of(
        "S1",
        AccountType::Settlement,
        instant("2020-01-01T00:00:00Z"),
    );
    let mut deposit = request("S1", "A1", 1_000_000, noon());
    deposit.kind = TransferKind::Deposit;
    assert!(assessor
        .assess(&deposit, &settlement, &customer("A1"), noon())
        .factors
        .is_empty());
    deposit.amount_minor = 6_000_000;
    let large = assessor.assess(&deposit, &settlement, &customer("A1"), noon());
    assert_eq!(rule_names(&large), ["large_single_transfer"]);
}

#[test]
fn reversals_are_not_scored() {
    let blacklist: HashSet<String> = ["B1".to_string()].into();
    let mut assessor = WindowAssessor::new(RuleSet::builtin(), blacklist);
    let mut reversal = request("B1", "A1", 9_000_000, noon());
    reversal.kind = TransferKind::Reversal;
    let result = assessor.assess(&reversal, &customer("B1"), &customer("A1"), noon());
    assert_eq!(result, RiskResult::approve());
}

#[test]
fn distinct_counterparties_include_both_directions_and_the_receiver() {
    let rules = single_rule_file(
        "feature = \"distinct_counterparties\"\nwindow = \"1h\"\ncomparison = \">\"\nthreshold = 4",
        10,
    );
    let mut assessor = WindowAssessor::new(rules, HashSet::new());
    observe_all(
        &mut assessor,
        &[
            posted(1, "A1", "B1", 100, noon() - 10 * MINUTE_US),
            posted(2, "A1", "C1", 100, noon() - 9 * MINUTE_US),
            posted(3, "A1", "D1", 100, noon() - 8 * MINUTE_US),
            posted(4, "E1", "A1", 100, noon() - 7 * MINUTE_US),
            rejected(5, "A1", "G1", 100, noon() - 6 * MINUTE_US),
            posted(6, "A1", "H1", 100, noon() - HOUR_US),
        ],
    );
    let known_receiver = assess_at(&mut assessor, "A1", "B1", 100, noon());
    assert!(known_receiver.factors.is_empty(), "B1 C1 D1 E1 = 4");
    let new_receiver = assess_at(&mut assessor, "A1", "F1", 100, noon());
    assert_eq!(
        new_receiver.factors[0].detail,
        "distinct counterparties in the last 1h 5 > 4"
    );
}

#[test]
fn hour_of_day_boundaries() {
    let rules = single_rule_file(
        "feature = \"hour_of_day\"\ncomparison = \"<\"\nthreshold = 6",
        10,
    );
    let mut assessor = WindowAssessor::new(rules, HashSet::new());
    let night = assess_at(
        &mut assessor,
        "A1",
        "B1",
        100,
        instant("2026-11-20T05:59:59.999999Z"),
    );
    assert_eq!(night.factors[0].detail, "hour of day (UTC) 5 < 6");
    assert!(assess_at(
        &mut assessor,
        "A1",
        "B1",
        100,
        instant("2026-11-20T06:00:00Z")
    )
    .factors
    .is_empty());
}

#[test]
fn account_age_boundaries() {
    let rules = single_rule_file(
        "feature = \"account_age_days\"\ncomparison = \"<\"\nthreshold = 7",
        15,
    );
    let mut assessor = WindowAssessor::new(rules, HashSet::new());
    let young = account_of("N1", AccountType::Checking, noon() - 7 * DAY_US + 1);
    let week_old = account_of("N1", AccountType::Checking, noon() - 7 * DAY_US);
    let result = assessor.assess(
        &request("N1", "B1", 100, noon()),
        &young,
        &customer("B1"),
        noon(),
    );
    assert_eq!(result.factors[0].detail, "account age 6 days < 7");
    let result = assessor.assess(
        &request("N1", "B1", 100, noon()),
        &week_old,
        &customer("B1"),
        noon(),
    );
    assert!(result.factors.is_empty());
}

#[test]
fn dormancy_uses_previous_movement_or_opening() {
    let rules = single_rule_file(
        "feature = \"dormancy_days\"\ncomparison = \">=\"\nthreshold = 180",
        30,
    );
    let mut assessor = WindowAssessor::new(rules, HashSet::new());
    assert_eq!(assessor.history_window_us(), 181 * DAY_US);
    // Never moved: measured from the opening (2025-01-01, far more than 180 days ago).
    let never = assess_at(&mut assessor, "A1", "B1", 100, noon());
    assert!(
        never.factors[0]
            .detail
            .starts_with("days since the previous movement 688 >= 180"),
        "{}",
        never.factors[0].detail
    );
    assessor.observe(&posted(1, "C1", "A1", 100, noon() - 180 * DAY_US + 1));
    assert!(assess_at(&mut assessor, "A1", "B1", 100, noon())
        .factors
        .is_empty());
    // An older movement observed later (back-dated) does not hide the newer one.
    assessor.observe(&posted(2, "A1", "C1", 100, noon() - 400 * DAY_US));
    assert!(assess_at(&mut assessor, "A1", "B1", 100, noon())
        .factors
        .is_empty());
    // A movement exactly 180 days before: fires.
    let mut other = WindowAssessor::new(assessor.rules().clone(), HashSet::new());
    other.observe(&posted(3, "A1", "C1", 100, noon() - 180 * DAY_US));
    assert_eq!(
        rule_names(&assess_at(&mut other, "A1", "B1", 100, noon())),
        ["probe"]
    );
}

#[test]
fn dormancy_survives_pruning() {
    let rules = single_rule_file(
        "feature = \"dormancy_days\"\ncomparison = \">\"\nthreshold = 30",
        30,
    );
    let mut assessor = WindowAssessor::new(rules, HashSet::new());
    assessor.observe(&posted(1, "A1", "C1", 100, noon() - 100 * DAY_US));
    assessor.observe(&posted(2, "A1", "C1", 100, noon() - 20 * DAY_US));
    assessor.observe(&posted(3, "A1", "C1", 100, noon() - 10 * DAY_US));
    // Only the latest event is kept (no windowed rule: one day of tolerance).
    assert_eq!(
        assessor.retained_events(),
        2,
        "A1 and C1 keep one event each"
    );
    let between = assess_at(&mut assessor, "A1", "B1", 100, noon() - 15 * DAY_US);
    assert!(
        between.factors.is_empty(),
        "the pruned movement 20 days before counts"
    );
}

#[test]
fn money_thresholds_follow_the_transfer_currency() {
    let rules = single_rule_file(
        "feature = \"amount\"\ncomparison = \">=\"\nthreshold = \"50000.5\"",
        30,
    );
    let mut assessor = WindowAssessor::new(rules, HashSet::new());
    let yen = Currency::parse("JPY").unwrap();
    let mut below = request("A1", "B1", 50_000, noon());
    below.currency = yen;
    assert!(assessor
        .assess(&below, &customer("A1"), &customer("B1"), noon())
        .factors
        .is_empty());
    let mut above = request("A1", "B1", 50_001, noon());
    above.currency = yen;
    let result = assessor.assess(&above, &customer("A1"), &customer("B1"), noon());
    assert_eq!(result.factors[0].detail, "amount 50001 JPY >= 50000.5");
    let dollars = assess_at(&mut assessor, "A1", "B1", 5_000_050, noon());
    assert_eq!(dollars.factors[0].detail, "amount 50000.50 USD >= 50000.50");
}

#[test]
fn approve_all_approves() {
    let mut assessor = ApproveAll;
    let result = assessor.assess(
        &request("A1", "B1", i64::MAX, noon()),
        &customer("A1"),
        &customer("B1"),
        noon(),
    );
    assert_eq!(result, RiskResult::approve());
    assessor.observe(&posted(1, "A1", "B1", 1, noon()));
}

#[test]
fn factors_always_add_up_under_many_rules() {
    let rules = parse_rules(include_str!("../../fixtures/risk/strict.toml")).unwrap();
    let blacklist: HashSet<String> = ["B7".to_string()].into();
    let mut assessor = WindowAssessor::new(rules, blacklist);
    for index in 0..2_000i64 {
        let at_us = noon() + index * 17 * SECOND_US;
        let to = format!("B{}", index % 9);
        let amount_minor = (index * 7_919) % 3_000_000;
        let result = assess_at(&mut assessor, "A1", &to, amount_minor, at_us);
        assert_eq!(
            result
                .factors
                .iter()
                .map(|factor| factor.points)
                .sum::<u32>(),
            result.score
        );
        assert!(result.score <= 100);
        let outcome = if result.decision.stops_transfer() {
            rejected
        } else {
            posted
        };
        assessor.observe(&outcome(index, "A1", &to, amount_minor, at_us));
    }
}

#[test]
fn seeding_replaces_an_accounts_history_without_double_counting() {
    // A1 pays B1 nine times; B1 then sends to A1 once (B1 seen first only as a counterparty).
    let history = outgoing_burst("A1", 9, noon(), 100);
    let mut assessor = builtin_assessor();
    observe_all(&mut assessor, &history);
    // Seeding A1 again from the same (database) history replaces, not adds.
    assessor.seed_accounts(&["A1"], history.clone());
    let tenth = assess_at(&mut assessor, "A1", "B1", 100, noon());
    assert!(tenth.factors.is_empty(), "{tenth:?}");
    let mut with_tenth = history.clone();
    with_tenth.push(posted(10, "A1", "B1", 100, noon()));
    assessor.seed_accounts(&["A1"], with_tenth.clone());
    let eleventh = assess_at(&mut assessor, "A1", "B1", 100, noon());
    assert_eq!(rule_names(&eleventh), ["hourly_outgoing_velocity"]);
    // Seeding B1 records only B1's sides: A1's counts do not move.
    assessor.seed_accounts(&["B1"], with_tenth);
    let again = assess_at(&mut assessor, "A1", "B1", 100, noon());
    assert_eq!(rule_names(&again), ["hourly_outgoing_velocity"]);
    let from_b1 = assess_at(&mut assessor, "B1", "A1", 100, noon());
    assert!(from_b1.factors.is_empty(), "{from_b1:?}");
}

#[test]
fn seeding_records_failed_attempts_of_the_seeded_payer_only() {
    let attempts: Vec<Transfer> = (0..3)
        .map(|index| rejected(index + 1, "A1", "B1", 100, noon() - (index + 1) * MINUTE_US))
        .collect();
    let mut assessor = builtin_assessor();
    assessor.seed_accounts(&["B1"], attempts.clone());
    assert!(assess_at(&mut assessor, "A1", "B1", 100, noon())
        .factors
        .is_empty());
    assessor.seed_accounts(&["A1"], attempts);
    let result = assess_at(&mut assessor, "A1", "B1", 100, noon());
    assert_eq!(rule_names(&result), ["repeated_failed_attempts"]);
}
