//! Parsing and validating a rules file. Every fault is `invalid_input` naming the place: the
//! rule (1-based index and name) and the field, or the section and key.

use super::rules::{
    Comparison, DecisionMap, Feature, LevelBounds, MoneyThreshold, ProfileSettings, Rule, RuleSet,
    Threshold, Window, PER_MILLE_MAX, POINTS_MAX, SCORE_MAX,
};
use crate::error::{AppError, AppResult};
use crate::model::RiskDecision;
use crate::rule_table::{parse_each, syntax_error, RuleTable};

const TOP_LEVEL_KEYS: [&str; 4] = ["levels", "decisions", "profile", "rule"];
const RULE_KEYS: [&str; 7] = [
    "name",
    "description",
    "feature",
    "window",
    "comparison",
    "threshold",
    "points",
];

/// Parse and validate a rules file. Any fault is `invalid_input` naming the place: the rule
/// (1-based index and name) and the field, or the section and key.
pub fn parse_rules(text: &str) -> AppResult<RuleSet> {
    let table: toml::Table = text
        .parse()
        .map_err(|error: toml::de::Error| syntax_error(text, &error))?;
    if let Some(key) = table
        .keys()
        .find(|key| !TOP_LEVEL_KEYS.contains(&key.as_str()))
    {
        return Err(AppError::invalid_input(format!(
            "rules file: unknown top-level key '{key}' (expected one of: {})",
            TOP_LEVEL_KEYS.join(", ")
        )));
    }
    let levels = parse_levels(section(&table, "levels")?)?;
    let decisions = parse_decisions(section(&table, "decisions")?)?;
    let profile = parse_profile(section(&table, "profile")?)?;
    let rules = parse_rule_list(table.get("rule"))?;
    Ok(RuleSet {
        rules,
        levels,
        decisions,
        profile,
    })
}

fn section<'a>(table: &'a toml::Table, name: &str) -> AppResult<Option<&'a toml::Table>> {
    match table.get(name) {
        None => Ok(None),
        Some(toml::Value::Table(inner)) => Ok(Some(inner)),
        Some(_) => Err(AppError::invalid_input(format!(
            "rules file: '{name}' must be a table ([{name}])"
        ))),
    }
}

fn section_error(section: &str, key: &str, message: impl std::fmt::Display) -> AppError {
    AppError::invalid_input(format!("[{section}] field '{key}': {message}"))
}

fn reject_unknown_keys(table: &toml::Table, section: &str, known: &[&str]) -> AppResult<()> {
    match table.keys().find(|key| !known.contains(&key.as_str())) {
        Some(key) => Err(section_error(
            section,
            key,
            format!("unknown field (expected one of: {})", known.join(", ")),
        )),
        None => Ok(()),
    }
}

/// An optional integer key in `0..=maximum`, or `default` when absent.
fn bounded_integer(
    table: &toml::Table,
    section: &str,
    key: &str,
    maximum: u32,
    default: u32,
) -> AppResult<u32> {
    match table.get(key) {
        None => Ok(default),
        Some(toml::Value::Integer(value)) if (0..=i64::from(maximum)).contains(value) => {
            Ok(*value as u32)
        }
        Some(toml::Value::Integer(value)) => Err(section_error(
            section,
            key,
            format!("{value} is outside 0..={maximum}"),
        )),
        Some(other) => Err(section_error(
            section,
            key,
            format!("must be an integer, not {}", other.type_str()),
        )),
    }
}

fn parse_levels(table: Option<&toml::Table>) -> AppResult<LevelBounds> {
    let defaults = LevelBounds::default();
    let Some(table) = table else {
        return Ok(defaults);
    };
    reject_unknown_keys(table, "levels", &["medium", "high", "critical"])?;
    let levels = LevelBounds {
        medium: bounded_integer(table, "levels", "medium", SCORE_MAX, defaults.medium)?,
        high: bounded_integer(table, "levels", "high", SCORE_MAX, defaults.high)?,
        critical: bounded_integer(table, "levels", "critical", SCORE_MAX, defaults.critical)?,
    };
    if levels.medium == 0 {
        return Err(section_error(
            "levels",
            "medium",
            "must be at least 1 (a score of 0 is low)",
        ));
    }
    if levels.high <= levels.medium {
        return Err(section_error(
            "levels",
            "high",
            format!("{} must be above medium ({})", levels.high, levels.medium),
        ));
    }
    if levels.critical <= levels.high {
        return Err(section_error(
            "levels",
            "critical",
            format!("{} must be above high ({})", levels.critical, levels.high),
        ));
    }
    Ok(levels)
}

fn parse_decisions(table: Option<&toml::Table>) -> AppResult<DecisionMap> {
    let defaults = DecisionMap::default();
    let Some(table) = table else {
        return Ok(defaults);
    };
    reject_unknown_keys(table, "decisions", &["low", "medium", "high", "critical"])?;
    let decision = |key: &str, default: RiskDecision| -> AppResult<RiskDecision> {
        match table.get(key) {
            None => Ok(default),
            Some(toml::Value::String(text)) => RiskDecision::parse(text).ok_or_else(|| {
                section_error(
                    "decisions",
                    key,
                    format!("'{text}' is not one of: approve, review, reject, block"),
                )
            }),
            Some(other) => Err(section_error(
                "decisions",
                key,
                format!("must be a string, not {}", other.type_str()),
            )),
        }
    };
    Ok(DecisionMap {
        low: decision("low", defaults.low)?,
        medium: decision("medium", defaults.medium)?,
        high: decision("high", defaults.high)?,
        critical: decision("critical", defaults.critical)?,
    })
}

fn parse_profile(table: Option<&toml::Table>) -> AppResult<ProfileSettings> {
    let defaults = ProfileSettings::default();
    let Some(table) = table else {
        return Ok(defaults);
    };
    const KEYS: [&str; 5] = [
        "dormant_reactivation_amount",
        "dormant_reactivation_points",
        "night_share_per_mille",
        "night_movements_min",
        "night_activity_points",
    ];
    reject_unknown_keys(table, "profile", &KEYS)?;
    let amount = match table.get(KEYS[0]) {
        None => defaults.dormant_reactivation_amount,
        Some(toml::Value::String(text)) => MoneyThreshold::parse(text)
            .map_err(|message| section_error("profile", KEYS[0], message))?,
        Some(other) => {
            return Err(section_error(
                "profile",
                KEYS[0],
                format!(
                    "must be a decimal string like \"10000.00\", not {}",
                    other.type_str()
                ),
            ))
        }
    };
    Ok(ProfileSettings {
        dormant_reactivation_amount: amount,
        dormant_reactivation_points: bounded_integer(
            table,
            "profile",
            KEYS[1],
            POINTS_MAX,
            defaults.dormant_reactivation_points,
        )?,
        night_share_per_mille: bounded_integer(
            table,
            "profile",
            KEYS[2],
            PER_MILLE_MAX,
            defaults.night_share_per_mille,
        )?,
        night_movements_min: bounded_integer(
            table,
            "profile",
            KEYS[3],
            u32::MAX,
            defaults.night_movements_min,
        )?,
        night_activity_points: bounded_integer(
            table,
            "profile",
            KEYS[4],
            POINTS_MAX,
            defaults.night_activity_points,
        )?,
    })
}

fn parse_rule_list(value: Option<&toml::Value>) -> AppResult<Vec<Rule>> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let toml::Value::Array(entries) = value else {
        return Err(AppError::invalid_input(
            "rules file: 'rule' must be an array of tables ([[rule]] sections)",
        ));
    };
    parse_each(
        entries,
        |table| RuleParser(table).parse(),
        |rule| rule.name.as_str(),
    )
}

/// Parses one `[[rule]]` table (the checks shared by every rules file are `RuleTable`'s).
struct RuleParser<'a>(RuleTable<'a>);

impl<'a> std::ops::Deref for RuleParser<'a> {
    type Target = RuleTable<'a>;
    fn deref(&self) -> &RuleTable<'a> {
        &self.0
    }
}

impl RuleParser<'_> {
    fn parse(mut self) -> AppResult<Rule> {
        let name = self.0.start(&RULE_KEYS)?;
        let description = self.string_field("description")?;
        let feature_text = self.string_field("feature")?;
        let feature = Feature::parse(&feature_text).ok_or_else(|| {
            let known: Vec<&str> = Feature::ALL
                .iter()
                .map(|feature| feature.as_str())
                .collect();
            self.error(
                "feature",
                format!(
                    "'{feature_text}' is not a feature (expected one of: {})",
                    known.join(", ")
                ),
            )
        })?;
        let window = self.window_field(feature)?;
        let comparison_text = self.string_field("comparison")?;
        let comparison = Comparison::parse(&comparison_text).ok_or_else(|| {
            self.error(
                "comparison",
                format!(
                    "'{comparison_text}' is not a comparison (expected one of: >, >=, <, <=, ==)"
                ),
            )
        })?;
        let threshold = self.threshold_field(feature)?;
        let points = self.points_field()?;
        Ok(Rule {
            name,
            description,
            feature,
            window,
            comparison,
            threshold,
            points,
        })
    }

    fn window_field(&self, feature: Feature) -> AppResult<Option<Window>> {
        match (self.table.get("window"), feature.is_windowed()) {
            (None, false) => Ok(None),
            (None, true) => Err(self.error("window", format!("missing (feature {} needs a window)", feature.as_str()))),
            (Some(_), false) => Err(self.error("window", format!("feature {} takes no window", feature.as_str()))),
            (Some(toml::Value::String(text)), true) => Window::parse(text).map(Some).ok_or_else(|| {
                self.error("window", format!("'{text}' is not a window (expected one of: 5m, 1h, 24h, today, 7d, 30d)"))
            }),
            (Some(other), true) => Err(self.error("window", format!("must be a string, not {}", other.type_str()))),
        }
    }

    fn threshold_field(&self, feature: Feature) -> AppResult<Threshold> {
        let value = self.required("threshold")?;
        if feature.is_money() {
            return match value {
                toml::Value::String(text) => MoneyThreshold::parse(text)
                    .map(Threshold::Money)
                    .map_err(|message| self.error("threshold", message)),
                other => Err(self.error(
                    "threshold",
                    format!(
                        "feature {} needs a decimal string like \"50000.00\", not {}",
                        feature.as_str(),
                        other.type_str()
                    ),
                )),
            };
        }
        let (minimum, maximum) = feature.threshold_range();
        match value {
            toml::Value::Integer(count) if (minimum..=maximum).contains(count) => {
                Ok(Threshold::Count(*count))
            }
            toml::Value::Integer(count) => Err(self.error(
                "threshold",
                format!(
                    "{count} is outside {minimum}..={maximum} for feature {}",
                    feature.as_str()
                ),
            )),
            other => Err(self.error(
                "threshold",
                format!(
                    "feature {} needs an integer, not {}",
                    feature.as_str(),
                    other.type_str()
                ),
            )),
        }
    }

    fn points_field(&self) -> AppResult<u32> {
        match self.required("points")? {
            toml::Value::Integer(points) if *points < 0 => {
                Err(self.error("points", format!("{points} must not be negative")))
            }
            toml::Value::Integer(points) if *points > i64::from(POINTS_MAX) => Err(self.error(
                "points",
                format!("{points} is more than the maximum score {POINTS_MAX}"),
            )),
            toml::Value::Integer(points) => Ok(*points as u32),
            other => Err(self.error(
                "points",
                format!("must be an integer, not {}", other.type_str()),
            )),
        }
    }
}
