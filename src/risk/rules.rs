//! The rules file: typed rules, strict parsing with messages that name the rule and field at
//! fault, canonical TOML output (`risk rules show`) and a content fingerprint (`version`).

use crate::clock::MICROS_PER_DAY;
use crate::error::ErrorCode;
use crate::model::{AccountType, RiskDecision, RiskLevel};
use crate::money::{parse_minor, Currency};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// A score never exceeds this (SPEC: score 0–100).
pub(crate) const SCORE_MAX: u32 = 100;
/// One rule can at most fill the whole score.
pub(crate) const POINTS_MAX: u32 = 100;
/// No ISO 4217 currency has more than 4 minor units (CLF, UYW): a money threshold with more
/// decimals could never be compared exactly with any amount.
pub(crate) const MONEY_THRESHOLD_DECIMALS_MAX: u32 = 4;
/// Upper bound for count thresholds: far beyond any real velocity, small enough to stay exact.
pub(crate) const COUNT_THRESHOLD_MAX: i64 = 1_000_000_000;
/// Upper bound for day thresholds (account age, dormancy): a century.
pub(crate) const DAYS_THRESHOLD_MAX: i64 = 36_500;
/// Hex digits of the SHA-256 kept in the version string: enough to tell rule sets apart.
const VERSION_HEX_LENGTH: usize = 16;

const MICROS_PER_MINUTE: i64 = 60 * 1_000_000;
const MICROS_PER_HOUR: i64 = 60 * MICROS_PER_MINUTE;

/// What a rule measures. Money features compare minor units of the transfer's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feature {
    Amount,
    OutgoingCount,
    OutgoingSum,
    DistinctCounterparties,
    HourOfDay,
    AccountAgeDays,
    CounterpartyBlacklisted,
    FailedAttempts,
    DormancyDays,
}

impl Feature {
    pub(crate) const ALL: [Feature; 9] = [
        Feature::Amount,
        Feature::OutgoingCount,
        Feature::OutgoingSum,
        Feature::DistinctCounterparties,
        Feature::HourOfDay,
        Feature::AccountAgeDays,
        Feature::CounterpartyBlacklisted,
        Feature::FailedAttempts,
        Feature::DormancyDays,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Feature::Amount => "amount",
            Feature::OutgoingCount => "outgoing_count",
            Feature::OutgoingSum => "outgoing_sum",
            Feature::DistinctCounterparties => "distinct_counterparties",
            Feature::HourOfDay => "hour_of_day",
            Feature::AccountAgeDays => "account_age_days",
            Feature::CounterpartyBlacklisted => "counterparty_blacklisted",
            Feature::FailedAttempts => "failed_attempts",
            Feature::DormancyDays => "dormancy_days",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Feature> {
        Feature::ALL
            .into_iter()
            .find(|feature| feature.as_str() == text)
    }

    /// Thresholds of money features are decimal strings in major units.
    pub(crate) fn is_money(self) -> bool {
        matches!(self, Feature::Amount | Feature::OutgoingSum)
    }

    /// Features measured over a time window (the rule must name one).
    pub(crate) fn is_windowed(self) -> bool {
        matches!(
            self,
            Feature::OutgoingCount
                | Feature::OutgoingSum
                | Feature::DistinctCounterparties
                | Feature::FailedAttempts
        )
    }

    /// Features about the paying account's own behaviour. Bank-side accounts (settlement,
    /// internal) carry the bank's aggregated flows, so these features never fire for them.
    pub(crate) fn is_behavioural(self) -> bool {
        self.is_windowed() || matches!(self, Feature::AccountAgeDays | Feature::DormancyDays)
    }

    /// Inclusive range a non-money threshold must lie in.
    pub(crate) fn threshold_range(self) -> (i64, i64) {
        match self {
            Feature::HourOfDay => (0, 23),
            Feature::CounterpartyBlacklisted => (0, 1),
            Feature::AccountAgeDays | Feature::DormancyDays => (0, DAYS_THRESHOLD_MAX),
            _ => (0, COUNT_THRESHOLD_MAX),
        }
    }
}

/// Bank-side accounts are the bank's own books, not customers whose behaviour is scored.
pub(crate) fn is_bank_side(account_type: AccountType) -> bool {
    matches!(
        account_type,
        AccountType::Settlement | AccountType::Internal
    )
}

/// A time window ending at the transfer's instant. Rolling windows are half-open
/// `(at − length, at]`: an event exactly one length earlier is outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Window {
    FiveMinutes,
    OneHour,
    TwentyFourHours,
    /// The UTC calendar day of the transfer, from midnight up to the transfer's instant.
    Today,
    SevenDays,
    ThirtyDays,
}

impl Window {
    pub(crate) const ALL: [Window; 6] = [
        Window::FiveMinutes,
        Window::OneHour,
        Window::TwentyFourHours,
        Window::Today,
        Window::SevenDays,
        Window::ThirtyDays,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Window::FiveMinutes => "5m",
            Window::OneHour => "1h",
            Window::TwentyFourHours => "24h",
            Window::Today => "today",
            Window::SevenDays => "7d",
            Window::ThirtyDays => "30d",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Window> {
        Window::ALL
            .into_iter()
            .find(|window| window.as_str() == text)
    }

    /// How far back the window can reach; `today` reaches at most one day back.
    pub(crate) fn length_us(self) -> i64 {
        match self {
            Window::FiveMinutes => 5 * MICROS_PER_MINUTE,
            Window::OneHour => MICROS_PER_HOUR,
            Window::TwentyFourHours | Window::Today => MICROS_PER_DAY,
            Window::SevenDays => 7 * MICROS_PER_DAY,
            Window::ThirtyDays => 30 * MICROS_PER_DAY,
        }
    }

    /// Events with `start_exclusive_us < at ≤ end_us` are inside the window ending at `end_us`.
    pub(crate) fn start_exclusive_us(self, end_us: i64) -> i64 {
        match self {
            Window::Today => day_start_us(end_us) - 1,
            _ => end_us - self.length_us(),
        }
    }

    /// Words for details: "today", "in the last 1h".
    pub(crate) fn phrase(self) -> String {
        match self {
            Window::Today => "today".to_string(),
            _ => format!("in the last {}", self.as_str()),
        }
    }

    /// Position in `Window::ALL` (per-window tables in profiles).
    pub(super) fn index(self) -> usize {
        match self {
            Window::FiveMinutes => 0,
            Window::OneHour => 1,
            Window::TwentyFourHours => 2,
            Window::Today => 3,
            Window::SevenDays => 4,
            Window::ThirtyDays => 5,
        }
    }
}

/// Midnight UTC of the day containing `at_us`.
pub(crate) fn day_start_us(at_us: i64) -> i64 {
    at_us - at_us.rem_euclid(MICROS_PER_DAY)
}

/// Hour of the day (0–23, UTC) of an instant.
pub(crate) fn hour_of_day(at_us: i64) -> i64 {
    at_us.rem_euclid(MICROS_PER_DAY) / MICROS_PER_HOUR
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Comparison {
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
    Equal,
}

impl Comparison {
    pub(crate) const ALL: [Comparison; 5] = [
        Comparison::Greater,
        Comparison::GreaterOrEqual,
        Comparison::Less,
        Comparison::LessOrEqual,
        Comparison::Equal,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
            Comparison::Equal => "==",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Comparison> {
        Comparison::ALL
            .into_iter()
            .find(|comparison| comparison.as_str() == text)
    }

    /// Exact comparison of an integer value with a threshold that may lie between two
    /// integers (`exact == false`: the real threshold is strictly between floor and floor + 1).
    pub(crate) fn holds(self, value: i64, threshold: ResolvedThreshold) -> bool {
        let floor = threshold.floor;
        match (self, threshold.exact) {
            (Comparison::Greater, _) => value > floor,
            (Comparison::GreaterOrEqual, true) => value >= floor,
            (Comparison::GreaterOrEqual, false) => value > floor,
            (Comparison::Less, true) => value < floor,
            (Comparison::Less, false) => value <= floor,
            (Comparison::LessOrEqual, _) => value <= floor,
            (Comparison::Equal, exact) => exact && value == floor,
        }
    }

    /// Whether the rule looks for large values (peaks) rather than small ones.
    pub(crate) fn seeks_maximum(self) -> bool {
        !matches!(self, Comparison::Less | Comparison::LessOrEqual)
    }
}

/// A threshold in the integer unit of a comparison: minor units of one currency, or a count.
/// `exact == false` when the configured decimal has more decimals than the currency: the
/// real threshold lies strictly between `floor` and `floor + 1`, and comparisons stay exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResolvedThreshold {
    pub(crate) floor: i64,
    pub(crate) exact: bool,
}

impl ResolvedThreshold {
    pub(crate) fn exact(value: i64) -> ResolvedThreshold {
        ResolvedThreshold {
            floor: value,
            exact: true,
        }
    }
}

/// A non-negative decimal in major units, kept as written ("50000", "0.005"). It is turned
/// into minor units per currency with `Currency::parse_non_negative`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MoneyThreshold {
    text: String,
}

impl MoneyThreshold {
    /// Checks the grammar, the sign and the precision against the finest currency.
    pub(crate) fn parse(text: &str) -> Result<MoneyThreshold, String> {
        match parse_minor(text, MONEY_THRESHOLD_DECIMALS_MAX) {
            Ok(minor) if minor < 0 => Err(format!("'{text}' must not be negative")),
            Ok(_) if text.starts_with('+') => Err(format!("'{text}' must be written without a sign")),
            Ok(_) => Ok(MoneyThreshold {
                text: text.to_string(),
            }),
            Err(error) if error.code == ErrorCode::AmountPrecisionExceeded => Err(format!(
                "'{text}' has more than {MONEY_THRESHOLD_DECIMALS_MAX} decimals, which no currency has"
            )),
            Err(error) if error.code == ErrorCode::AmountOutOfRange => {
                Err(format!("'{text}' is beyond the supported amount range"))
            }
            Err(_) => Err(format!("'{text}' is not a decimal number like \"50000.00\"")),
        }
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Minor units of `currency`. A threshold finer than the currency ("0.5" JPY) keeps its
    /// exact meaning through `exact == false` instead of being rounded.
    pub(crate) fn in_currency(&self, currency: Currency) -> ResolvedThreshold {
        if let Ok(minor) = currency.parse_non_negative(&self.text) {
            return ResolvedThreshold::exact(minor);
        }
        // Only the precision can fail here: `parse` accepted the text at 4 decimals, which
        // keeps it in range for every currency. Dropping the extra decimals of a
        // non-negative number is its floor; the dropped part is non-zero (else the full
        // text would have parsed), so the threshold is not exact.
        let allowed = currency.minor_units() as usize;
        let (whole, fraction) = self.text.split_once('.').unwrap_or((&self.text, ""));
        let floor_text = if allowed == 0 {
            whole.to_string()
        } else {
            format!("{whole}.{}", &fraction[..allowed.min(fraction.len())])
        };
        let floor = currency
            .parse_non_negative(&floor_text)
            .expect("a validated threshold cut to the currency's decimals parses");
        ResolvedThreshold {
            floor,
            exact: false,
        }
    }

    /// As written in the currency's decimals when exact ("200000.00"), else as configured.
    pub(crate) fn display_in(&self, currency: Currency) -> String {
        let resolved = self.in_currency(currency);
        if resolved.exact {
            currency.format(resolved.floor)
        } else {
            self.text.clone()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Threshold {
    Money(MoneyThreshold),
    Count(i64),
}

impl Threshold {
    pub(crate) fn resolve(&self, currency: Currency) -> ResolvedThreshold {
        match self {
            Threshold::Money(money) => money.in_currency(currency),
            Threshold::Count(count) => ResolvedThreshold::exact(*count),
        }
    }

    pub(crate) fn display_in(&self, currency: Currency) -> String {
        match self {
            Threshold::Money(money) => money.display_in(currency),
            Threshold::Count(count) => count.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub name: String,
    pub description: String,
    pub feature: Feature,
    /// Present exactly when `feature.is_windowed()`.
    pub window: Option<Window>,
    pub comparison: Comparison,
    pub threshold: Threshold,
    pub points: u32,
}

/// Lower bounds of the levels: `low < medium ≤ … < high ≤ … < critical ≤ …`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelBounds {
    pub(crate) medium: u32,
    pub(crate) high: u32,
    pub(crate) critical: u32,
}

impl Default for LevelBounds {
    /// SPEC: low < 30 ≤ medium < 60 ≤ high < 80 ≤ critical.
    fn default() -> LevelBounds {
        LevelBounds {
            medium: 30,
            high: 60,
            critical: 80,
        }
    }
}

impl LevelBounds {
    pub(crate) fn level_for(&self, score: u32) -> RiskLevel {
        if score >= self.critical {
            RiskLevel::Critical
        } else if score >= self.high {
            RiskLevel::High
        } else if score >= self.medium {
            RiskLevel::Medium
        } else {
            RiskLevel::Low
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionMap {
    pub(crate) low: RiskDecision,
    pub(crate) medium: RiskDecision,
    pub(crate) high: RiskDecision,
    pub(crate) critical: RiskDecision,
}

impl Default for DecisionMap {
    fn default() -> DecisionMap {
        DecisionMap {
            low: RiskLevel::Low.default_decision(),
            medium: RiskLevel::Medium.default_decision(),
            high: RiskLevel::High.default_decision(),
            critical: RiskLevel::Critical.default_decision(),
        }
    }
}

impl DecisionMap {
    pub(crate) fn decision_for(&self, level: RiskLevel) -> RiskDecision {
        match level {
            RiskLevel::Low => self.low,
            RiskLevel::Medium => self.medium,
            RiskLevel::High => self.high,
            RiskLevel::Critical => self.critical,
        }
    }
}

/// Profile-only factors of `risk rescore` (no per-transfer equivalent in the spec's rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSettings {
    /// A movement at least this large (major units of the account's currency) after a
    /// dormancy of `profile::DORMANCY_GAP_DAYS` is a dormant reactivation.
    pub(crate) dormant_reactivation_amount: MoneyThreshold,
    pub(crate) dormant_reactivation_points: u32,
    /// Night activity fires when this share (per mille) of the 30-day movements is at night…
    pub(crate) night_share_per_mille: u32,
    /// …and there are at least this many movements (one night transfer is not a pattern).
    pub(crate) night_movements_min: u32,
    pub(crate) night_activity_points: u32,
}

/// A per-mille share is at most 1000.
pub(crate) const PER_MILLE_MAX: u32 = 1000;

impl Default for ProfileSettings {
    fn default() -> ProfileSettings {
        ProfileSettings {
            dormant_reactivation_amount: MoneyThreshold::parse("10000")
                .expect("the default reactivation amount is a valid decimal"),
            dormant_reactivation_points: 30,
            night_share_per_mille: 500,
            night_movements_min: 10,
            night_activity_points: 10,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub levels: LevelBounds,
    pub decisions: DecisionMap,
    pub profile: ProfileSettings,
}

impl RuleSet {
    /// Longest window any rule uses (0 without windowed rules).
    pub(crate) fn longest_window_us(&self) -> i64 {
        self.rules
            .iter()
            .filter_map(|rule| rule.window)
            .map(Window::length_us)
            .max()
            .unwrap_or(0)
    }

    /// How far back history must reach for every rule to see what it needs: the longest
    /// window, and for dormancy rules one day more than their threshold (if no movement is
    /// found that far back, the dormancy is certainly beyond the threshold).
    pub(crate) fn history_window_us(&self) -> i64 {
        let dormancy_us = self
            .rules
            .iter()
            .filter(|rule| rule.feature == Feature::DormancyDays)
            .filter_map(|rule| match rule.threshold {
                Threshold::Count(days) => Some((days + 1) * MICROS_PER_DAY),
                Threshold::Money(_) => None,
            })
            .max()
            .unwrap_or(0);
        self.longest_window_us().max(dormancy_us)
    }

    /// Canonical TOML: parses back to an equal rule set.
    pub(crate) fn to_toml(&self) -> String {
        let mut text = String::new();
        let levels = &self.levels;
        let decisions = &self.decisions;
        let profile = &self.profile;
        let _ = write!(
            text,
            "[levels]\nmedium = {}\nhigh = {}\ncritical = {}\n\n",
            levels.medium, levels.high, levels.critical
        );
        let _ = write!(
            text,
            "[decisions]\nlow = \"{}\"\nmedium = \"{}\"\nhigh = \"{}\"\ncritical = \"{}\"\n\n",
            decisions.low.as_str(),
            decisions.medium.as_str(),
            decisions.high.as_str(),
            decisions.critical.as_str()
        );
        let _ = write!(
            text,
            "[profile]\ndormant_reactivation_amount = {}\ndormant_reactivation_points = {}\n\
             night_share_per_mille = {}\nnight_movements_min = {}\nnight_activity_points = {}\n",
            toml_string(profile.dormant_reactivation_amount.text()),
            profile.dormant_reactivation_points,
            profile.night_share_per_mille,
            profile.night_movements_min,
            profile.night_activity_points
        );
        for rule in &self.rules {
            text.push_str(&rule_to_toml(rule));
        }
        text
    }

    /// "sha256:" and the first hex digits of the canonical TOML's hash: equal rule sets have
    /// equal versions whatever their comments or layout.
    pub(crate) fn version(&self) -> String {
        let digest = Sha256::digest(self.to_toml().as_bytes());
        let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        format!("sha256:{}", &hex[..VERSION_HEX_LENGTH])
    }
}

fn rule_to_toml(rule: &Rule) -> String {
    let mut text = String::from("\n[[rule]]\n");
    let _ = writeln!(text, "name = {}", toml_string(&rule.name));
    let _ = writeln!(text, "description = {}", toml_string(&rule.description));
    let _ = writeln!(text, "feature = \"{}\"", rule.feature.as_str());
    if let Some(window) = rule.window {
        let _ = writeln!(text, "window = \"{}\"", window.as_str());
    }
    let _ = writeln!(text, "comparison = \"{}\"", rule.comparison.as_str());
    match &rule.threshold {
        Threshold::Money(money) => {
            let _ = writeln!(text, "threshold = {}", toml_string(money.text()));
        }
        Threshold::Count(count) => {
            let _ = writeln!(text, "threshold = {count}");
        }
    }
    let _ = writeln!(text, "points = {}", rule.points);
    text
}

/// A TOML basic string with every needed escape.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}
