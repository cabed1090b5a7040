//! Rules file: built-in set, round trips, versions, and every kind of bad file.

use super::parse::parse_rules;
use super::rules::{
    Comparison, Feature, MoneyThreshold, ResolvedThreshold, RuleSet, Threshold, Window,
};
use crate::error::ErrorCode;
use crate::model::RiskDecision;
use crate::money::Currency;

const BUILTIN_FILE: &str = include_str!("../../fixtures/risk/builtin.toml");
const STRICT_FILE: &str = include_str!("../../fixtures/risk/strict.toml");

fn error_message(text: &str) -> String {
    let error = parse_rules(text).expect_err("the file must be rejected");
    assert_eq!(error.code, ErrorCode::InvalidInput, "{}", error.message);
    error.message
}

fn assert_names(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(
            message.contains(part),
            "'{message}' should contain '{part}'"
        );
    }
}

/// One otherwise valid rule with a field replaced (or removed with `None`).
fn rule_with(field: &str, value: Option<&str>) -> String {
    let fields = [
        ("name", "\"hourly\""),
        ("description", "\"Many transfers\""),
        ("feature", "\"outgoing_count\""),
        ("window", "\"1h\""),
        ("comparison", "\">\""),
        ("threshold", "10"),
        ("points", "30"),
    ];
    let mut text = String::from("[[rule]]\nname = \"first\"\ndescription = \"\"\nfeature = \"amount\"\ncomparison = \">\"\nthreshold = \"1\"\npoints = 1\n\n[[rule]]\n");
    for (key, default) in fields {
        let chosen = if key == field { value } else { Some(default) };
        if let Some(chosen) = chosen {
            text.push_str(&format!("{key} = {chosen}\n"));
        }
    }
    text
}

#[test]
fn builtin_fixture_is_identical_to_builtin() {
    assert_eq!(parse_rules(BUILTIN_FILE).unwrap(), RuleSet::builtin());
}

#[test]
fn builtin_follows_the_spec() {
    let rules = RuleSet::builtin();
    let summary: Vec<(Feature, Option<Window>, Comparison, u32)> = rules
        .rules
        .iter()
        .map(|rule| (rule.feature, rule.window, rule.comparison, rule.points))
        .collect();
    assert_eq!(
        summary,
        vec![
            (Feature::Amount, None, Comparison::Greater, 30),
            (
                Feature::OutgoingSum,
                Some(Window::Today),
                Comparison::Greater,
                20
            ),
            (
                Feature::OutgoingCount,
                Some(Window::OneHour),
                Comparison::Greater,
                30
            ),
            (
                Feature::CounterpartyBlacklisted,
                None,
                Comparison::Equal,
                100
            ),
            (
                Feature::FailedAttempts,
                Some(Window::FiveMinutes),
                Comparison::GreaterOrEqual,
                20
            ),
        ]
    );
    let usd = Currency::parse("USD").unwrap();
    assert_eq!(
        rules.rules[0].threshold.resolve(usd),
        ResolvedThreshold::exact(5_000_000)
    );
    assert_eq!(
        rules.rules[1].threshold.resolve(usd),
        ResolvedThreshold::exact(20_000_000)
    );
    assert_eq!(rules.rules[2].threshold, Threshold::Count(10));
    assert_eq!(rules.rules[4].threshold, Threshold::Count(3));
    assert_eq!(
        (
            rules.levels.medium,
            rules.levels.high,
            rules.levels.critical
        ),
        (30, 60, 80)
    );
}

#[test]
fn toml_round_trip() {
    for rules in [RuleSet::builtin(), parse_rules(STRICT_FILE).unwrap()] {
        let text = rules.to_toml();
        let reparsed = parse_rules(&text).unwrap();
        assert_eq!(reparsed, rules);
        assert_eq!(reparsed.to_toml(), text, "canonical output is stable");
    }
}

#[test]
fn round_trip_escapes_descriptions() {
    let mut rules = RuleSet::builtin();
    rules.rules[0].description = "Quote \" backslash \\ newline \n tab \t é".to_string();
    assert_eq!(parse_rules(&rules.to_toml()).unwrap(), rules);
}

#[test]
fn strict_fixture_uses_every_feature_and_its_sections() {
    let rules = parse_rules(STRICT_FILE).unwrap();
    for feature in Feature::ALL {
        assert!(
            rules.rules.iter().any(|rule| rule.feature == feature),
            "{feature:?}"
        );
    }
    assert_eq!(rules.levels.medium, 25);
    assert_eq!(rules.decisions.high, RiskDecision::Review);
    assert_eq!(rules.profile.dormant_reactivation_amount.text(), "5000.00");
    assert_eq!(rules.profile.night_movements_min, 5);
}

#[test]
fn version_identifies_content_not_layout() {
    let builtin = RuleSet::builtin();
    let version = builtin.version();
    assert!(
        version.starts_with("sha256:") && version.len() == "sha256:".len() + 16,
        "{version}"
    );
    assert_eq!(parse_rules(BUILTIN_FILE).unwrap().version(), version);
    let mut changed = builtin.clone();
    changed.rules[2].threshold = Threshold::Count(11);
    assert_ne!(changed.version(), version);
}

#[test]
fn empty_file_has_defaults_and_no_rules() {
    let rules = parse_rules("").unwrap();
    assert!(rules.rules.is_empty());
    assert_eq!(rules.levels, RuleSet::builtin().levels);
    assert_eq!(rules.decisions, RuleSet::builtin().decisions);
}

#[test]
fn bad_fixture_files_name_rule_and_field() {
    let cases = [
        (
            include_str!("../../fixtures/risk/bad_unknown_feature.toml"),
            ["rule 2 'velocity'", "field 'feature'", "transfer_velocity"],
        ),
        (
            include_str!("../../fixtures/risk/bad_missing_threshold.toml"),
            [
                "rule 1 'large_single_transfer'",
                "field 'threshold'",
                "missing",
            ],
        ),
        (
            include_str!("../../fixtures/risk/bad_window.toml"),
            ["rule 1 'velocity_two_hours'", "field 'window'", "'2h'"],
        ),
        (
            include_str!("../../fixtures/risk/bad_negative_points.toml"),
            [
                "rule 1 'trusted_small_amount'",
                "field 'points'",
                "negative",
            ],
        ),
        (
            include_str!("../../fixtures/risk/bad_comparison.toml"),
            [
                "rule 1 'repeated_failed_attempts'",
                "field 'comparison'",
                "'=>'",
            ],
        ),
        (
            include_str!("../../fixtures/risk/bad_money_threshold.toml"),
            [
                "rule 1 'large_single_transfer'",
                "field 'threshold'",
                "decimal string",
            ],
        ),
    ];
    for (text, parts) in cases {
        assert_names(&error_message(text), &parts);
    }
}

#[test]
fn bad_fields_are_named() {
    let cases: [(&str, Option<&str>, &str); 14] = [
        ("feature", Some("\"velocity\""), "is not a feature"),
        ("threshold", None, "missing"),
        ("window", Some("\"2h\""), "is not a window"),
        ("window", None, "needs a window"),
        ("points", Some("-5"), "must not be negative"),
        ("points", Some("101"), "maximum score"),
        ("points", Some("\"30\""), "must be an integer"),
        ("comparison", Some("\"!=\""), "is not a comparison"),
        ("threshold", Some("\"10\""), "needs an integer"),
        ("threshold", Some("-1"), "outside"),
        ("threshold", Some("10.5"), "needs an integer"),
        ("description", None, "missing"),
        ("name", Some("\"has space\""), "must be 1"),
        (
            "name",
            Some("\"first\""),
            "another rule already has this name",
        ),
    ];
    for (field, value, expected) in cases {
        let message = error_message(&rule_with(field, value));
        let shown_name = match (field, value) {
            ("name", Some(name)) if name != "\"first\"" => "rule 2 (unnamed)".to_string(),
            ("name", Some(name)) => format!("rule 2 '{}'", name.trim_matches('"')),
            _ => "rule 2 'hourly'".to_string(),
        };
        assert_names(
            &message,
            &[&shown_name, &format!("field '{field}'"), expected],
        );
    }
}

#[test]
fn unknown_rule_field_is_named() {
    let text = rule_with("threshold", Some("10\ntreshold = 11"));
    assert_names(
        &error_message(&text),
        &["rule 2 'hourly'", "field 'treshold'", "unknown field"],
    );
}

#[test]
fn window_on_a_feature_without_window_is_rejected() {
    let text = "[[rule]]\nname = \"big\"\ndescription = \"\"\nfeature = \"amount\"\nwindow = \"1h\"\ncomparison = \">\"\nthreshold = \"5\"\npoints = 1\n";
    assert_names(
        &error_message(text),
        &["rule 1 'big'", "field 'window'", "takes no window"],
    );
}

#[test]
fn money_thresholds_are_checked() {
    let money_rule = |threshold: &str| {
        format!("[[rule]]\nname = \"big\"\ndescription = \"\"\nfeature = \"amount\"\ncomparison = \">\"\nthreshold = {threshold}\npoints = 1\n")
    };
    for (threshold, expected) in [
        ("50000", "decimal string"),
        ("\"-5\"", "must not be negative"),
        ("\"1.00001\"", "more than 4 decimals"),
        ("\"1e5\"", "is not a decimal number"),
        (
            "\"99999999999999999999\"",
            "beyond the supported amount range",
        ),
    ] {
        assert_names(
            &error_message(&money_rule(threshold)),
            &["rule 1 'big'", "field 'threshold'", expected],
        );
    }
}

#[test]
fn feature_specific_ranges() {
    let hour_rule = "[[rule]]\nname = \"night\"\ndescription = \"\"\nfeature = \"hour_of_day\"\ncomparison = \"<\"\nthreshold = 24\npoints = 1\n";
    assert_names(
        &error_message(hour_rule),
        &["rule 1 'night'", "field 'threshold'", "0..=23"],
    );
    let flag_rule = hour_rule
        .replace("hour_of_day", "counterparty_blacklisted")
        .replace("24", "2");
    assert_names(&error_message(&flag_rule), &["field 'threshold'", "0..=1"]);
}

#[test]
fn bad_sections_are_named() {
    let cases = [
        (
            "[levels]\nmedium = 30\nhigh = 30\n",
            "[levels] field 'high'",
        ),
        ("[levels]\nmedium = 0\n", "[levels] field 'medium'"),
        ("[levels]\ncritical = 101\n", "[levels] field 'critical'"),
        ("[levels]\nlow = 1\n", "[levels] field 'low': unknown field"),
        ("[decisions]\nhigh = \"deny\"\n", "[decisions] field 'high'"),
        (
            "[profile]\nnight_share_per_mille = 1001\n",
            "[profile] field 'night_share_per_mille'",
        ),
        (
            "[profile]\ndormant_reactivation_amount = 5000\n",
            "[profile] field 'dormant_reactivation_amount'",
        ),
        ("[rules]\n", "unknown top-level key 'rules'"),
        ("[rule]\nname = \"x\"\n", "array of tables"),
        ("levels = 3\n", "'levels' must be a table"),
        (
            "[[rule]]\nname = \n",
            "not valid TOML: line 2, column 8: string values must be quoted",
        ),
    ];
    for (text, expected) in cases {
        assert_names(&error_message(text), &[expected]);
    }
}

#[test]
fn thresholds_resolve_per_currency_exactly() {
    let threshold = |text: &str| MoneyThreshold::parse(text).unwrap();
    let currency = |code: &str| Currency::parse(code).unwrap();
    assert_eq!(
        threshold("50000").in_currency(currency("USD")),
        ResolvedThreshold::exact(5_000_000)
    );
    assert_eq!(
        threshold("50000").in_currency(currency("JPY")),
        ResolvedThreshold::exact(50_000)
    );
    assert_eq!(
        threshold("0.001").in_currency(currency("BHD")),
        ResolvedThreshold::exact(1)
    );
    let finer = threshold("50000.5").in_currency(currency("JPY"));
    assert_eq!(
        finer,
        ResolvedThreshold {
            floor: 50_000,
            exact: false
        }
    );
    assert_eq!(threshold("50000.5").display_in(currency("JPY")), "50000.5");
    assert_eq!(threshold("50000.5").display_in(currency("USD")), "50000.50");
}

#[test]
fn comparisons_with_a_threshold_between_integers_are_exact() {
    // Real threshold 50000.5 JPY: floor 50000, not exact.
    let between = ResolvedThreshold {
        floor: 50_000,
        exact: false,
    };
    let cases = [
        (Comparison::Greater, [false, true]),
        (Comparison::GreaterOrEqual, [false, true]),
        (Comparison::Less, [true, false]),
        (Comparison::LessOrEqual, [true, false]),
        (Comparison::Equal, [false, false]),
    ];
    for (comparison, [at_floor, above_floor]) in cases {
        assert_eq!(
            comparison.holds(50_000, between),
            at_floor,
            "{comparison:?} 50000"
        );
        assert_eq!(
            comparison.holds(50_001, between),
            above_floor,
            "{comparison:?} 50001"
        );
    }
    let exact = ResolvedThreshold::exact(10);
    assert!(Comparison::Equal.holds(10, exact) && Comparison::GreaterOrEqual.holds(10, exact));
    assert!(!Comparison::Greater.holds(10, exact) && !Comparison::Less.holds(10, exact));
}

#[test]
fn history_window_covers_windows_and_dormancy() {
    let day_us = 86_400_000_000;
    assert_eq!(RuleSet::builtin().history_window_us(), day_us);
    let strict = parse_rules(STRICT_FILE).unwrap();
    // 30d window versus dormancy ≥ 180 days: one day more than the dormancy threshold.
    assert_eq!(strict.history_window_us(), 181 * day_us);
    assert_eq!(strict.longest_window_us(), 30 * day_us);
}
