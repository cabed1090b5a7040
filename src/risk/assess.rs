//! From firing rules to a `RiskResult`: the capped score, factors that add up to it, the level
//! and the decision; and the wording of factor details.

use super::rules::{Feature, Rule, RuleSet, SCORE_MAX};
use crate::model::{RiskFactor, RiskResult};
use crate::money::Currency;

/// Sum the factors' points, capped at `SCORE_MAX`. A factor that would push the score past the
/// cap keeps only the points that counted (possibly 0) and says so in its detail, so that the
/// factors always add up to the score. Factors are counted in the order given (rule order).
pub(crate) fn score_factors(factors: Vec<RiskFactor>, rules: &RuleSet) -> RiskResult {
    let mut score = 0u32;
    let mut counted_factors = Vec::with_capacity(factors.len());
    for mut factor in factors {
        let counted = factor.points.min(SCORE_MAX - score);
        if counted < factor.points {
            factor.detail.push_str(&format!(
                " ({counted} of {} points counted: score capped at {SCORE_MAX})",
                factor.points
            ));
            factor.points = counted;
        }
        score += counted;
        counted_factors.push(factor);
    }
    let points_total: u32 = counted_factors.iter().map(|factor| factor.points).sum();
    assert!(
        points_total == score && score <= SCORE_MAX,
        "risk factors must add up to the score ({points_total} != {score}) within 0..={SCORE_MAX}"
    );
    let level = rules.levels.level_for(score);
    RiskResult {
        score,
        level,
        decision: rules.decisions.decision_for(level),
        factors: counted_factors,
    }
}

/// A factor with the rule's full points (the cap is applied by `score_factors`).
pub(super) fn factor(rule: &Rule, detail: String) -> RiskFactor {
    RiskFactor {
        rule: rule.name.clone(),
        points: rule.points,
        detail,
    }
}

/// "12.50 USD" for money features, "11" otherwise.
pub(super) fn format_value(feature: Feature, value: i64, currency: Currency) -> String {
    if feature.is_money() {
        format!("{} {}", currency.format(value), currency.code())
    } else {
        value.to_string()
    }
}

/// What the rule measured, in words: "outgoing today 210000.00 USD > 200000.00".
/// `counterparty_blacklisted` is worded by the callers, who know which side is listed.
pub(super) fn describe(rule: &Rule, value: i64, currency: Currency) -> String {
    let shown = format_value(rule.feature, value, currency);
    let comparison = rule.comparison.as_str();
    let threshold = rule.threshold.display_in(currency);
    let window = rule
        .window
        .map(|window| window.phrase())
        .unwrap_or_default();
    match rule.feature {
        Feature::Amount => format!("amount {shown} {comparison} {threshold}"),
        Feature::OutgoingSum => format!("outgoing {window} {shown} {comparison} {threshold}"),
        Feature::OutgoingCount => {
            format!("outgoing transfers {window} {shown} {comparison} {threshold}")
        }
        Feature::DistinctCounterparties => {
            format!("distinct counterparties {window} {shown} {comparison} {threshold}")
        }
        Feature::FailedAttempts => {
            format!("failed attempts {window} {shown} {comparison} {threshold}")
        }
        Feature::HourOfDay => format!("hour of day (UTC) {shown} {comparison} {threshold}"),
        Feature::AccountAgeDays => format!("account age {shown} days {comparison} {threshold}"),
        Feature::DormancyDays => {
            format!("days since the previous movement {shown} {comparison} {threshold}")
        }
        Feature::CounterpartyBlacklisted => {
            format!("counterparty blacklisted {shown} {comparison} {threshold}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::rules::LevelBounds;
    use super::*;
    use crate::model::{RiskDecision, RiskLevel};

    fn factors_of(points: &[u32]) -> Vec<RiskFactor> {
        points
            .iter()
            .enumerate()
            .map(|(index, points)| RiskFactor {
                rule: format!("rule_{index}"),
                points: *points,
                detail: format!("detail {index}"),
            })
            .collect()
    }

    fn result_for(score: u32) -> RiskResult {
        score_factors(factors_of(&[score]), &RuleSet::builtin())
    }

    #[test]
    fn level_and_decision_boundaries() {
        let cases = [
            (0, RiskLevel::Low, RiskDecision::Approve),
            (29, RiskLevel::Low, RiskDecision::Approve),
            (30, RiskLevel::Medium, RiskDecision::Review),
            (59, RiskLevel::Medium, RiskDecision::Review),
            (60, RiskLevel::High, RiskDecision::Reject),
            (79, RiskLevel::High, RiskDecision::Reject),
            (80, RiskLevel::Critical, RiskDecision::Block),
            (100, RiskLevel::Critical, RiskDecision::Block),
        ];
        for (score, level, decision) in cases {
            let result = result_for(score);
            assert_eq!(result.score, score);
            assert_eq!(
                (result.level, result.decision),
                (level, decision),
                "score {score}"
            );
            // The configurable bounds agree with the model's fixed spec mapping by default.
            assert_eq!(RiskLevel::from_score(score), level);
        }
    }

    #[test]
    fn custom_levels_and_decisions_are_used() {
        let mut rules = RuleSet::builtin();
        rules.levels = LevelBounds {
            medium: 10,
            high: 20,
            critical: 90,
        };
        rules.decisions.high = RiskDecision::Review;
        let result = score_factors(factors_of(&[25]), &rules);
        assert_eq!(result.level, RiskLevel::High);
        assert_eq!(result.decision, RiskDecision::Review);
    }

    #[test]
    fn cap_keeps_factors_adding_up_to_the_score() {
        let result = score_factors(factors_of(&[30, 100, 20]), &RuleSet::builtin());
        assert_eq!(result.score, 100);
        let points: Vec<u32> = result.factors.iter().map(|factor| factor.points).collect();
        assert_eq!(points, vec![30, 70, 0]);
        assert_eq!(points.iter().sum::<u32>(), result.score);
        assert_eq!(result.factors[0].detail, "detail 0");
        assert!(result.factors[1]
            .detail
            .ends_with("(70 of 100 points counted: score capped at 100)"));
        assert!(result.factors[2]
            .detail
            .ends_with("(0 of 20 points counted: score capped at 100)"));
    }

    #[test]
    fn exactly_one_hundred_is_not_annotated() {
        let result = score_factors(factors_of(&[30, 20, 30, 20]), &RuleSet::builtin());
        assert_eq!(result.score, 100);
        assert!(result
            .factors
            .iter()
            .all(|factor| !factor.detail.contains("capped")));
    }

    #[test]
    fn no_factors_is_a_zero_score() {
        let result = score_factors(Vec::new(), &RuleSet::builtin());
        assert_eq!(result, RiskResult::approve());
    }
}
