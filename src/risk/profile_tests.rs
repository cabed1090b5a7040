//! Profiles and profile scoring. Rescoring over generated histories is tested in
//! `crates/fincore-testkit/tests/risk_rescore.rs`.

use super::parse::parse_rules;
use super::profile::{profile, score_profile, WindowTotals};
use super::rules::RuleSet;
use super::test_support::*;
use crate::model::{AccountType, RiskDecision, Transfer, TransferStatus};
use std::collections::HashSet;

fn totals(count: u64, sum_minor: i64) -> WindowTotals {
    WindowTotals { count, sum_minor }
}

fn no_blacklist() -> HashSet<String> {
    HashSet::new()
}

#[test]
fn window_totals_are_as_of_and_half_open() {
    let as_of = noon();
    let history = [
        posted(1, "A1", "B1", 100, as_of - HOUR_US + 1), // in 1h
        posted(2, "A1", "B1", 200, as_of - HOUR_US),     // 24h, not 1h
        posted(3, "A1", "C1", 400, as_of - 7 * DAY_US),  // 30d, not 7d
        posted(4, "A1", "C1", 800, as_of - 30 * DAY_US), // outside 30d
        posted(5, "C1", "A1", 1_600, as_of - DAY_US + 1), // incoming, in 24h
        rejected(6, "A1", "B1", 3_200, as_of - MINUTE_US), // failed, not a movement
        posted(7, "A1", "B1", 6_400, as_of + 1),         // after as_of: ignored
        posted(8, "X1", "Y1", 12_800, as_of - MINUTE_US), // not this account's
    ];
    let result = profile(&customer("A1"), &history, as_of);
    assert_eq!(result.outgoing.last_1h, totals(1, 100));
    assert_eq!(result.outgoing.last_24h, totals(2, 300));
    assert_eq!(result.outgoing.last_7d, totals(2, 300));
    assert_eq!(result.outgoing.last_30d, totals(3, 700));
    assert_eq!(result.incoming.last_1h, totals(0, 0));
    assert_eq!(result.incoming.last_24h, totals(1, 1_600));
    assert_eq!(result.incoming.last_30d, totals(1, 1_600));
    assert_eq!(result.failed_attempts_30d, 1);
    assert_eq!(result.movements_30d, 4);
    assert_eq!(result.distinct_counterparties_30d, 2);
    assert_eq!(result.counterparties_30d, ["B1", "C1"]);
    assert_eq!(result.last_movement_at_us, Some(as_of - HOUR_US + 1));
}

#[test]
fn night_share_is_per_mille_of_movements() {
    let day = instant("2026-11-10T00:00:00Z");
    let history = [
        posted(1, "A1", "B1", 100, day + 2 * HOUR_US),
        posted(2, "B1", "A1", 100, day + 5 * HOUR_US + 59 * MINUTE_US),
        posted(3, "A1", "B1", 100, day),
        posted(4, "A1", "B1", 100, day + 6 * HOUR_US),
        posted(5, "A1", "B1", 100, day + 13 * HOUR_US),
        posted(6, "A1", "B1", 100, day + 23 * HOUR_US),
        rejected(7, "A1", "B1", 100, day + HOUR_US),
    ];
    let result = profile(&customer("A1"), &history, noon());
    assert_eq!((result.night_movements_30d, result.movements_30d), (3, 6));
    assert_eq!(result.night_share_per_mille, 500);
    let mut rules = RuleSet::builtin();
    rules.profile.night_movements_min = 6;
    let scored = score_profile(&result, &rules, &no_blacklist());
    assert_eq!(scored.factors[0].rule, "night_activity");
    assert_eq!(scored.factors[0].detail, "night activity (00:00-06:00 UTC) 500 per mille of 6 movements in the last 30d >= 500 per mille");
    rules.profile.night_movements_min = 7;
    assert!(score_profile(&result, &rules, &no_blacklist())
        .factors
        .is_empty());
}

#[test]
fn dormant_reactivation_takes_the_largest_movement_after_the_gap() {
    let history = [
        posted(1, "A1", "B1", 100, noon() - 200 * DAY_US),
        posted(2, "B1", "A1", 100, noon() - 10 * DAY_US), // ends a 190-day gap
        posted(3, "A1", "C1", 1_000_000, noon() - 5 * DAY_US), // 10,000.00: the large one
    ];
    let result = profile(&customer("A1"), &history, noon());
    let reactivation = result
        .dormant_reactivation
        .expect("a 190-day gap ended 10 days ago");
    assert_eq!(reactivation.gap_days, 190);
    assert_eq!(reactivation.reactivated_at_us, noon() - 10 * DAY_US);
    assert_eq!(reactivation.largest_movement_minor, 1_000_000);
    let scored = score_profile(&result, &RuleSet::builtin(), &no_blacklist());
    assert_eq!(scored.factors[0].rule, "dormant_reactivation");
    assert_eq!(scored.factors[0].detail, "no movement for 190 days until 2026-11-10T12:00:00Z, then a movement of 10000.00 USD >= 10000.00");
    assert_eq!(scored.score, 30);

    let smaller = [
        history[0].clone(),
        history[1].clone(),
        posted(3, "A1", "C1", 999_999, noon() - 5 * DAY_US),
    ];
    let result = profile(&customer("A1"), &smaller, noon());
    assert!(score_profile(&result, &RuleSet::builtin(), &no_blacklist())
        .factors
        .is_empty());
}

#[test]
fn gaps_shorter_or_older_are_not_reactivations() {
    let short_gap = [
        posted(1, "A1", "B1", 100, noon() - 188 * DAY_US),
        posted(2, "A1", "B1", 5_000_000, noon() - 9 * DAY_US),
    ];
    assert_eq!(
        profile(&customer("A1"), &short_gap, noon()).dormant_reactivation,
        None
    );
    let ended_long_ago = [
        posted(1, "A1", "B1", 100, noon() - 400 * DAY_US),
        posted(2, "A1", "B1", 5_000_000, noon() - 31 * DAY_US),
    ];
    assert_eq!(
        profile(&customer("A1"), &ended_long_ago, noon()).dormant_reactivation,
        None
    );
    // Opening counts as the start of the first gap.
    let first_ever = [posted(1, "A1", "B1", 5_000_000, noon() - DAY_US)];
    assert_eq!(
        profile(&customer("A1"), &first_ever, noon())
            .dormant_reactivation
            .map(|found| found.gap_days),
        Some(687)
    );
}

#[test]
fn velocity_burst_in_the_last_thirty_days_fires_on_the_profile() {
    let burst_end = noon() - 20 * DAY_US;
    let burst = |count: i64| -> Vec<Transfer> {
        (0..count)
            .map(|index| {
                posted(
                    index,
                    "A1",
                    "B1",
                    100,
                    burst_end - (count - 1 - index) * MINUTE_US,
                )
            })
            .collect()
    };
    let eleven = profile(&customer("A1"), &burst(11), noon());
    let scored = score_profile(&eleven, &RuleSet::builtin(), &no_blacklist());
    assert_eq!(rule_names(&scored), ["hourly_outgoing_velocity"]);
    assert_eq!(
        scored.factors[0].detail,
        "peak outgoing transfers in the last 1h 11 > 10 (at 2026-10-31T12:00:00Z, last 30d)"
    );
    let ten = profile(&customer("A1"), &burst(10), noon());
    assert!(score_profile(&ten, &RuleSet::builtin(), &no_blacklist())
        .factors
        .is_empty());
    let old = profile(&customer("A1"), &burst(11), noon() + 11 * DAY_US);
    assert!(
        score_profile(&old, &RuleSet::builtin(), &no_blacklist())
            .factors
            .is_empty(),
        "31 days later"
    );
}

#[test]
fn blacklisted_counterparty_of_the_last_thirty_days() {
    let blacklist: HashSet<String> = ["B1".to_string()].into();
    let recent = [rejected(1, "A1", "B1", 100, noon() - 29 * DAY_US)];
    let scored = score_profile(
        &profile(&customer("A1"), &recent, noon()),
        &RuleSet::builtin(),
        &blacklist,
    );
    assert_eq!(
        scored.factors[0].detail,
        "counterparty B1 of the last 30d is on the blacklist"
    );
    assert_eq!((scored.score, scored.decision), (100, RiskDecision::Block));
    let old = [posted(1, "B1", "A1", 100, noon() - 30 * DAY_US)];
    assert!(score_profile(
        &profile(&customer("A1"), &old, noon()),
        &RuleSet::builtin(),
        &blacklist
    )
    .factors
    .is_empty());
    let listed_itself = score_profile(
        &profile(&customer("B1"), &[], noon()),
        &RuleSet::builtin(),
        &blacklist,
    );
    assert_eq!(
        listed_itself.factors[0].detail,
        "the account is on the blacklist"
    );
}

#[test]
fn bank_side_accounts_are_not_scored() {
    let settlement = account_of(
        "S1",
        AccountType::Settlement,
        instant("2020-01-01T00:00:00Z"),
    );
    let history: Vec<Transfer> = (0..50)
        .map(|index| posted(index, "S1", "B1", 9_000_000, noon() - index * MINUTE_US))
        .collect();
    let blacklist: HashSet<String> = ["B1".to_string()].into();
    let result = profile(&settlement, &history, noon());
    assert!(result.replay.is_none());
    assert_eq!(result.outgoing.last_1h.count, 50);
    assert!(score_profile(&result, &RuleSet::builtin(), &blacklist)
        .factors
        .is_empty());
}

#[test]
fn lowest_value_is_used_for_less_than_rules() {
    let rules = parse_rules("[[rule]]\nname = \"young\"\ndescription = \"\"\nfeature = \"account_age_days\"\ncomparison = \"<\"\nthreshold = 7\npoints = 15\n[[rule]]\nname = \"night\"\ndescription = \"\"\nfeature = \"hour_of_day\"\ncomparison = \"<\"\nthreshold = 6\npoints = 5\n").unwrap();
    let opened = noon() - 20 * DAY_US;
    let young = account_of("N1", AccountType::Checking, opened);
    let history = [
        posted(1, "N1", "B1", 100, opened + 6 * DAY_US),
        posted(2, "N1", "B1", 100, opened + 15 * DAY_US),
    ];
    let scored = score_profile(&profile(&young, &history, noon()), &rules, &no_blacklist());
    assert_eq!(rule_names(&scored), ["young"]);
    assert_eq!(
        scored.factors[0].detail,
        "lowest account age 6 days < 7 (at 2026-11-06T12:00:00Z, last 30d)"
    );
    let at_night = [posted(1, "N1", "B1", 100, instant("2026-11-19T03:00:00Z"))];
    let scored = score_profile(&profile(&young, &at_night, noon()), &rules, &no_blacklist());
    assert_eq!(
        scored.factors.last().unwrap().detail,
        "1 outgoing attempts in the last 30d at hour of day (UTC) < 6"
    );
}

#[test]
fn rejected_attempts_count_in_the_replay() {
    let history: Vec<Transfer> = (0..4)
        .map(|index| rejected(index, "A1", "B1", 100, noon() - DAY_US - index * MINUTE_US))
        .collect();
    let result = profile(&customer("A1"), &history, noon());
    assert_eq!(result.failed_attempts_30d, 4);
    let scored = score_profile(&result, &RuleSet::builtin(), &no_blacklist());
    assert_eq!(rule_names(&scored), ["repeated_failed_attempts"]);
    assert!(result.outgoing.last_30d == totals(0, 0));
    assert!(history
        .iter()
        .all(|transfer| transfer.status == TransferStatus::Rejected));
}

#[test]
fn profile_json_formats_money_and_instants() {
    let history = [
        posted(1, "A1", "B1", 123_456, noon() - MINUTE_US),
        posted(2, "B1", "A1", 5, noon() - 2 * DAY_US),
    ];
    let json = profile(&customer("A1"), &history, noon()).to_json();
    assert_eq!(json["as_of"], "2026-11-20T12:00:00Z");
    assert_eq!(
        json["outgoing"]["1h"],
        serde_json::json!({"count": 1, "sum": "1234.56"})
    );
    assert_eq!(
        json["incoming"]["7d"],
        serde_json::json!({"count": 1, "sum": "0.05"})
    );
    assert_eq!(json["incoming"]["24h"]["sum"], "0.00");
    assert_eq!(json["last_movement_at"], "2026-11-20T11:59:00Z");
    // First movements ever, 686 days after the opening: a dormant reactivation.
    assert_eq!(
        json["dormant_reactivation"],
        serde_json::json!({
            "gap_days": 686,
            "reactivated_at": "2026-11-18T12:00:00Z",
            "largest_movement": "1234.56",
            "largest_movement_at": "2026-11-20T11:59:00Z",
        })
    );
    assert_eq!(json["night_share_per_mille"], 0);
}

#[test]
fn blacklist_factors_name_the_accounts_they_count() {
    use super::profile::named_accounts as named;
    assert_eq!(named(&["A"]), "A");
    assert_eq!(named(&["A", "B"]), "A and B");
    assert_eq!(named(&["A", "B", "C"]), "A, B and C");
    assert_eq!(
        named(&["A", "B", "C", "D", "E", "F", "G"]),
        "A, B, C, D, E and 2 more"
    );
}
