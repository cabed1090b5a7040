//! Profiles and rescoring over generated histories: input order, agreement with the window
//! assessor, and the same result on any number of threads.

use super::*;
use fincore::model::TransferRequest;
use fincore::model::{Account, AccountType, Transfer};
use fincore::risk::{
    parse_rules, profile, rescore_all, score_profile, Assessor, RuleSet, WindowAssessor,
};
use fincore_testkit::risk::{generate_history, GENERATED_HISTORY_END_US};
use std::collections::{BTreeSet, HashMap, HashSet};

fn no_blacklist() -> HashSet<String> {
    HashSet::new()
}

#[test]
fn input_order_does_not_matter() {
    let (accounts, transfers) = generate_history(3, 20, 3_000);
    let mut shuffled = transfers.clone();
    shuffle(&mut shuffled, 5);
    for account in &accounts {
        let expected = profile(account, &transfers, GENERATED_HISTORY_END_US);
        assert_eq!(
            profile(account, &shuffled, GENERATED_HISTORY_END_US),
            expected
        );
    }
}

/// Rules that fired for each account's outgoing attempts in the last 30 days, replaying the
/// history through the WindowAssessor in order.
fn assessor_firings(
    accounts: &[Account],
    transfers: &[Transfer],
    rules: &RuleSet,
    as_of_us: i64,
) -> HashMap<String, BTreeSet<String>> {
    let by_number: HashMap<&str, &Account> = accounts
        .iter()
        .map(|account| (account.number.as_str(), account))
        .collect();
    let mut assessor = WindowAssessor::new(rules.clone(), no_blacklist());
    let mut fired: HashMap<String, BTreeSet<String>> = HashMap::new();
    for transfer in transfers {
        let request = TransferRequest {
            kind: transfer.kind,
            key: None,
            from: transfer.from.clone(),
            to: transfer.to.clone(),
            amount_minor: transfer.amount_minor,
            currency: transfer.currency,
            reference: String::new(),
            description: String::new(),
            at_us: Some(transfer.at_us),
            reverses_id: None,
        };
        let result = assessor.assess(
            &request,
            by_number[transfer.from.as_str()],
            by_number[transfer.to.as_str()],
            transfer.at_us,
        );
        if transfer.at_us > as_of_us - 30 * DAY_US {
            let names = fired.entry(transfer.from.clone()).or_default();
            names.extend(result.factors.iter().map(|factor| factor.rule.clone()));
        }
        assessor.observe(transfer);
    }
    fired
}

#[test]
fn profile_replay_agrees_with_the_assessor() {
    let (accounts, transfers) = generate_history(21, 120, 40_000);
    let as_of = GENERATED_HISTORY_END_US;
    let mut rules = RuleSet::builtin();
    // Lower thresholds so that every rule fires for some accounts and not for others.
    let strict = parse_rules(include_str!("../../../../fixtures/risk/strict.toml")).unwrap();
    rules.rules.extend(strict.rules.into_iter().filter(|rule| {
        rule.name != "blacklisted_counterparty" && rule.name != "large_single_transfer"
    }));
    let fired = assessor_firings(&accounts, &transfers, &rules, as_of);
    let mut rule_fired_somewhere = BTreeSet::new();
    for (number, profile, result) in
        rescore_all(&accounts, &transfers, as_of, &rules, &no_blacklist())
    {
        if profile.replay.is_none() {
            // Bank-side accounts are not scored; accounts without attempts have nothing to replay.
            assert!(result.factors.is_empty() || profile.account_type != AccountType::Settlement);
            continue;
        }
        let from_rules: BTreeSet<String> = result
            .factors
            .iter()
            .map(|factor| factor.rule.clone())
            .filter(|rule| rule != "dormant_reactivation" && rule != "night_activity")
            .collect();
        assert_eq!(
            from_rules,
            fired.get(&number).cloned().unwrap_or_default(),
            "account {number}"
        );
        rule_fired_somewhere.extend(from_rules);
    }
    assert!(rule_fired_somewhere.len() >= 6, "{rule_fired_somewhere:?}");
}

#[test]
fn rescore_is_deterministic_across_thread_counts() {
    let (accounts, mut transfers) = generate_history(9, 300, 20_000);
    transfers.push(posted(99_999, "UNKNOWN1", "UNKNOWN2", 100, noon()));
    // Unlisted counterparties met in different chunks (threads) of the transfers.
    let listed = accounts[7].number.clone();
    transfers.insert(
        0,
        posted(
            99_998,
            &listed,
            "OUTSIDE1",
            100,
            GENERATED_HISTORY_END_US - DAY_US,
        ),
    );
    transfers.push(posted(
        99_997,
        "OUTSIDE2",
        &listed,
        100,
        GENERATED_HISTORY_END_US - DAY_US,
    ));
    transfers.push(rejected(
        99_996,
        &listed,
        "OUTSIDE1",
        100,
        GENERATED_HISTORY_END_US - DAY_US,
    ));
    let mut reversed_accounts = accounts.clone();
    reversed_accounts.reverse();
    let blacklist: HashSet<String> = [accounts[5].number.clone(), "OUTSIDE2".to_string()].into();
    let rules = RuleSet::builtin();
    // The same result on pools of 1, 2 and 5 threads (rayon sizes its global pool by cores).
    let on_threads = |threads: usize, listed: &[Account]| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                rescore_all(
                    listed,
                    &transfers,
                    GENERATED_HISTORY_END_US,
                    &rules,
                    &blacklist,
                )
            })
    };
    let one = on_threads(1, &reversed_accounts);
    let two = on_threads(2, &accounts);
    let five = on_threads(5, &accounts);
    assert_eq!(one, two);
    assert_eq!(two, five);
    assert_eq!(one.len(), accounts.len());
    assert!(
        one.windows(2).all(|pair| pair[0].0 < pair[1].0),
        "sorted by account number"
    );
    for (number, computed, result) in &two {
        let account = accounts
            .iter()
            .find(|account| &account.number == number)
            .unwrap();
        let expected = profile(account, &transfers, GENERATED_HISTORY_END_US);
        assert_eq!(computed, &expected);
        assert_eq!(result, &score_profile(&expected, &rules, &blacklist));
    }
    assert!(
        two.iter().any(|(_, _, result)| !result.factors.is_empty()),
        "some accounts are risky"
    );
    let (_, outside_profile, outside_result) =
        two.iter().find(|(number, _, _)| *number == listed).unwrap();
    assert!(outside_profile
        .counterparties_30d
        .iter()
        .any(|number| number == "OUTSIDE1"));
    assert!(outside_result
        .factors
        .iter()
        .any(|factor| factor.rule == "blacklisted_counterparty"));
    assert!(rescore_all(&[], &transfers, noon(), &rules, &blacklist).is_empty());
}
