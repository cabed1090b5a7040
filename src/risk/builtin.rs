//! The spec's default rule set (SPEC.md "Risk"). `fixtures/risk/builtin.toml` is the same set
//! written as a commented file; a test keeps the two identical.

use super::rules::{
    Comparison, DecisionMap, Feature, LevelBounds, MoneyThreshold, ProfileSettings, Rule, RuleSet,
    Threshold, Window,
};

impl RuleSet {
    /// Built-in rules, in the spec's order:
    /// - single transfer over 50,000 (+30);
    /// - outgoing total today over 200,000 (+20), the total includes this transfer;
    /// - more than 10 outgoing in the last hour (+30), the count includes this transfer,
    ///   so the 11th transfer within an hour is the first to fire;
    /// - counterparty on the blacklist (+100), either side of the transfer;
    /// - 3 or more failed (rejected) attempts in 5 minutes (+20), counting earlier rejected
    ///   attempts only (this one has not failed yet).
    pub fn builtin() -> RuleSet {
        RuleSet {
            rules: vec![
                money_rule(
                    "large_single_transfer",
                    "A single transfer over 50,000 in the transfer's currency",
                    Feature::Amount,
                    None,
                    "50000",
                    30,
                ),
                money_rule(
                    "daily_outgoing_total",
                    "Outgoing total of the paying account today (UTC), this transfer included, over 200,000",
                    Feature::OutgoingSum,
                    Some(Window::Today),
                    "200000",
                    20,
                ),
                count_rule(
                    "hourly_outgoing_velocity",
                    "More than 10 outgoing transfers in the last hour, this transfer included",
                    Feature::OutgoingCount,
                    Some(Window::OneHour),
                    Comparison::Greater,
                    10,
                    30,
                ),
                count_rule(
                    "blacklisted_counterparty",
                    "The sending or receiving account is on the blacklist",
                    Feature::CounterpartyBlacklisted,
                    None,
                    Comparison::Equal,
                    1,
                    100,
                ),
                count_rule(
                    "repeated_failed_attempts",
                    "3 or more rejected attempts from the paying account in the last 5 minutes",
                    Feature::FailedAttempts,
                    Some(Window::FiveMinutes),
                    Comparison::GreaterOrEqual,
                    3,
                    20,
                ),
            ],
            levels: LevelBounds::default(),
            decisions: DecisionMap::default(),
            profile: ProfileSettings::default(),
        }
    }
}

fn money_rule(
    name: &str,
    description: &str,
    feature: Feature,
    window: Option<Window>,
    threshold: &str,
    points: u32,
) -> Rule {
    Rule {
        name: name.to_string(),
        description: description.to_string(),
        feature,
        window,
        comparison: Comparison::Greater,
        threshold: Threshold::Money(
            MoneyThreshold::parse(threshold).expect("built-in thresholds are valid decimals"),
        ),
        points,
    }
}

fn count_rule(
    name: &str,
    description: &str,
    feature: Feature,
    window: Option<Window>,
    comparison: Comparison,
    threshold: i64,
    points: u32,
) -> Rule {
    Rule {
        name: name.to_string(),
        description: description.to_string(),
        feature,
        window,
        comparison,
        threshold: Threshold::Count(threshold),
        points,
    }
}
