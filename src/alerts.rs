//! Alert rules of `alerts check`: the rules file, what each rule measures, whether it is
//! breached, the state transition against the stored state, and the Nagios-style line. No I/O:
//! the service measures (store queries) and stores transitions; this module decides.

use crate::error::{AppError, AppResult};
use crate::rule_table::{self, RuleTable};
use rust_decimal::Decimal;
use std::fmt::Write as _;

/// The built-in rules, written out with every field documented.
pub(crate) const BUILTIN_RULES_TOML: &str = include_str!("../fixtures/alerts/default.toml");

const KNOWN_KEYS: [&str; 13] = [
    "name",
    "description",
    "kind",
    "severity",
    "window",
    "threshold_percent",
    "min_count",
    "baseline_windows",
    "spike_factor",
    "account",
    "above",
    "below",
    "deadline",
];
const KINDS: [&str; 6] = [
    "failure_rate",
    "risk_block_spike",
    "balance",
    "reconcile_missing_run",
    "unresolved_breaks",
    "import_reject_rate",
];
const MICROS_PER_SECOND: i64 = 1_000_000;
/// Longest window or age a rule may name: a year.
const WINDOW_SECONDS_MAX: i64 = 366 * 86_400;
/// Most trailing windows a spike baseline averages.
const BASELINE_WINDOWS_MAX: i64 = 1_000;
const SECONDS_PER_DAY: i64 = 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Severity {
    Warning,
    Critical,
}

impl Severity {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Condition {
    /// Rejected / attempted transfers in the window above the threshold, with enough attempts.
    FailureRate {
        window_seconds: i64,
        threshold_percent: Decimal,
        min_count: i64,
    },
    /// Risk blocks in the window at least `spike_factor` times the average of the trailing
    /// `baseline_windows` windows, and at least `min_count`.
    RiskBlockSpike {
        window_seconds: i64,
        baseline_windows: i64,
        spike_factor: Decimal,
        min_count: i64,
    },
    /// An account's balance above `above` or below `below` (decimal amounts of its currency).
    Balance {
        account: String,
        above: Option<Decimal>,
        below: Option<Decimal>,
    },
    /// Past `deadline` (seconds into the UTC day) no active run covers yesterday.
    ReconcileMissingRun {
        account: String,
        deadline_seconds: i64,
    },
    /// At least `min_count` unresolved breaks of runs older than the window.
    UnresolvedBreaks {
        account: Option<String>,
        older_than_seconds: i64,
        min_count: i64,
    },
    /// Rejected / imported rows of the import batches in the window above the threshold.
    ImportRejectRate {
        window_seconds: i64,
        threshold_percent: Decimal,
        min_count: i64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AlertRule {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) severity: Severity,
    pub(crate) window_text: String,
    pub(crate) condition: Condition,
}

impl AlertRule {
    pub(crate) fn kind(&self) -> &'static str {
        match self.condition {
            Condition::FailureRate { .. } => "failure_rate",
            Condition::RiskBlockSpike { .. } => "risk_block_spike",
            Condition::Balance { .. } => "balance",
            Condition::ReconcileMissingRun { .. } => "reconcile_missing_run",
            Condition::UnresolvedBreaks { .. } => "unresolved_breaks",
            Condition::ImportRejectRate { .. } => "import_reject_rate",
        }
    }
}

/// Parse a rules file; a bad rule is exit 4 naming the rule and the field.
pub(crate) fn parse_rules(text: &str) -> AppResult<Vec<AlertRule>> {
    let document: toml::Table =
        toml::from_str(text).map_err(|error| rule_table::syntax_error(text, &error))?;
    if let Some(key) = document.keys().find(|key| key.as_str() != "rule") {
        return Err(AppError::invalid_input(format!(
            "rules file: unknown top-level key '{key}' (expected [[rule]] tables)"
        )));
    }
    let entries = match document.get("rule") {
        Some(toml::Value::Array(entries)) if !entries.is_empty() => entries.as_slice(),
        _ => return Err(AppError::invalid_input("rules file: no [[rule]] tables")),
    };
    rule_table::parse_each(entries, parse_rule, |rule| rule.name.as_str())
}

fn parse_rule(mut table: RuleTable<'_>) -> AppResult<AlertRule> {
    let name = table.start(&KNOWN_KEYS)?;
    let description = table.optional_string("description")?.unwrap_or_default();
    let kind = table.string_field("kind")?;
    let severity = match table.string_field("severity")?.as_str() {
        "warning" => Severity::Warning,
        "critical" => Severity::Critical,
        other => {
            return Err(table.error("severity", format!("'{other}' is not warning or critical")))
        }
    };
    let allowed: &[&str] = match kind.as_str() {
        "failure_rate" | "import_reject_rate" => &["window", "threshold_percent", "min_count"],
        "risk_block_spike" => &["window", "baseline_windows", "spike_factor", "min_count"],
        "balance" => &["account", "above", "below"],
        "reconcile_missing_run" => &["account", "deadline"],
        "unresolved_breaks" => &["account", "window", "min_count"],
        other => {
            return Err(table.error(
                "kind",
                format!("'{other}' is not one of {}", KINDS.join(", ")),
            ))
        }
    };
    let common = ["name", "description", "kind", "severity"];
    if let Some(key) = table
        .table
        .keys()
        .find(|key| !common.contains(&key.as_str()) && !allowed.contains(&key.as_str()))
    {
        return Err(table.error(
            key,
            format!(
                "not a field of a {kind} rule (its fields: {})",
                allowed.join(", ")
            ),
        ));
    }
    let window_text = table.optional_string("window")?.unwrap_or_default();
    let condition = match kind.as_str() {
        "failure_rate" | "import_reject_rate" => {
            let window_seconds = window(&table)?;
            let threshold_percent = percent(&table, "threshold_percent")?;
            let min_count = count(&table, "min_count", 1)?;
            if kind == "failure_rate" {
                Condition::FailureRate {
                    window_seconds,
                    threshold_percent,
                    min_count,
                }
            } else {
                Condition::ImportRejectRate {
                    window_seconds,
                    threshold_percent,
                    min_count,
                }
            }
        }
        "risk_block_spike" => Condition::RiskBlockSpike {
            window_seconds: window(&table)?,
            baseline_windows: bounded_count(&table, "baseline_windows", 12, BASELINE_WINDOWS_MAX)?,
            spike_factor: positive_decimal(&table, "spike_factor")?,
            min_count: count(&table, "min_count", 1)?,
        },
        "balance" => {
            let above = optional_decimal(&table, "above")?;
            let below = optional_decimal(&table, "below")?;
            if above.is_none() && below.is_none() {
                return Err(table.error("above", "a balance rule needs above, below or both"));
            }
            if let (Some(above), Some(below)) = (above, below) {
                if below >= above {
                    return Err(
                        table.error("below", format!("{below} is not below above ({above})"))
                    );
                }
            }
            Condition::Balance {
                account: account(&table)?,
                above,
                below,
            }
        }
        "reconcile_missing_run" => Condition::ReconcileMissingRun {
            account: account(&table)?,
            deadline_seconds: deadline(&table)?,
        },
        _ => Condition::UnresolvedBreaks {
            account: table
                .optional_string("account")?
                .map(|number| number.trim().to_uppercase()),
            older_than_seconds: window(&table)?,
            min_count: count(&table, "min_count", 1)?,
        },
    };
    Ok(AlertRule {
        name,
        description,
        severity,
        window_text,
        condition,
    })
}

/// `30s`, `5m`, `1h`, `24h`, `7d`: a whole number and a unit.
pub(crate) fn parse_window(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit_seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => SECONDS_PER_DAY,
        _ => {
            return Err(format!(
                "'{text}' is not a duration such as 30s, 5m, 1h or 7d"
            ))
        }
    };
    let seconds = number
        .parse::<i64>()
        .ok()
        .and_then(|value| value.checked_mul(unit_seconds))
        .filter(|seconds| (1..=WINDOW_SECONDS_MAX).contains(seconds));
    seconds.ok_or_else(|| format!("'{text}' must be between 1s and 366d"))
}

fn window(table: &RuleTable<'_>) -> AppResult<i64> {
    let text = table.string_field("window")?;
    parse_window(&text).map_err(|message| table.error("window", message))
}

fn decimal_field(table: &RuleTable<'_>, field: &str) -> AppResult<Decimal> {
    let text = match table.required(field)? {
        toml::Value::String(text) => text.trim().to_string(),
        toml::Value::Integer(value) => value.to_string(),
        other => {
            return Err(table.error(
                field,
                format!(
                    "must be a decimal string such as \"10.5\", not {}",
                    other.type_str()
                ),
            ))
        }
    };
    text.parse::<Decimal>()
        .map_err(|_| table.error(field, format!("'{text}' is not a decimal number")))
}

fn percent(table: &RuleTable<'_>, field: &str) -> AppResult<Decimal> {
    let value = decimal_field(table, field)?;
    if value < Decimal::ZERO || value >= Decimal::ONE_HUNDRED {
        return Err(table.error(
            field,
            format!("{value} is not a percentage from 0 to below 100"),
        ));
    }
    Ok(value)
}

fn positive_decimal(table: &RuleTable<'_>, field: &str) -> AppResult<Decimal> {
    let value = decimal_field(table, field)?;
    if value <= Decimal::ZERO {
        return Err(table.error(field, format!("{value} must be above 0")));
    }
    Ok(value)
}

fn optional_decimal(table: &RuleTable<'_>, field: &str) -> AppResult<Option<Decimal>> {
    match table.table.get(field) {
        None => Ok(None),
        Some(_) => decimal_field(table, field).map(Some),
    }
}

fn count(table: &RuleTable<'_>, field: &str, default: i64) -> AppResult<i64> {
    bounded_count(table, field, default, i64::from(u32::MAX))
}

fn bounded_count(table: &RuleTable<'_>, field: &str, default: i64, maximum: i64) -> AppResult<i64> {
    match table.table.get(field) {
        None => Ok(default),
        Some(toml::Value::Integer(value)) if (1..=maximum).contains(value) => Ok(*value),
        Some(other) => Err(table.error(
            field,
            format!("must be a whole number from 1 to {maximum}, not {other}"),
        )),
    }
}

fn account(table: &RuleTable<'_>) -> AppResult<String> {
    let number = table.string_field("account")?;
    crate::model::account_number::validate(&number)
        .map_err(|error| table.error("account", error.message))
}

/// `HH:MM` in UTC.
fn deadline(table: &RuleTable<'_>) -> AppResult<i64> {
    let text = table.string_field("deadline")?;
    let parsed = text.split_once(':').and_then(|(hours, minutes)| {
        let hours = hours
            .parse::<i64>()
            .ok()
            .filter(|hours| (0..24).contains(hours))?;
        let minutes = minutes
            .parse::<i64>()
            .ok()
            .filter(|minutes| (0..60).contains(minutes))?;
        (minutes.to_string().len() <= 2).then_some(hours * 3_600 + minutes * 60)
    });
    parsed.ok_or_else(|| table.error("deadline", format!("'{text}' is not a UTC time HH:MM")))
}

/// What the service measured for one rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Measurement {
    /// `failed` of `total` (transfers, or imported rows).
    Ratio {
        failed: i64,
        total: i64,
    },
    /// Risk blocks in the window, and in all the baseline windows together.
    Spike {
        current: i64,
        baseline_total: i64,
    },
    /// The account's balance (None: no such account) with its currency's decimals.
    Balance {
        balance_minor: i64,
        minor_units: u32,
        currency: String,
    },
    /// Whether the deadline has passed and whether an active run covers the day checked.
    Run {
        past_deadline: bool,
        covered: bool,
        day: String,
    },
    Count(i64),
    /// The rule names something that does not exist (an unknown account): reported, breached.
    Missing(String),
}

/// Unit of a rule's measured value (`fincore.alert.value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueUnit {
    /// Hundredths of a percent.
    BasisPoints,
    Count,
    MinorUnits,
}

impl ValueUnit {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ValueUnit::BasisPoints => "basis_points",
            ValueUnit::Count => "count",
            ValueUnit::MinorUnits => "minor_units",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Evaluation {
    pub(crate) breached: bool,
    /// The measured value as an exact integer in `unit`.
    pub(crate) value: i64,
    pub(crate) unit: ValueUnit,
    pub(crate) message: String,
}

/// Whether the rule is breached, and the text that says why (or why not).
pub(crate) fn evaluate(rule: &AlertRule, measurement: &Measurement) -> Evaluation {
    match (&rule.condition, measurement) {
        (_, Measurement::Missing(what)) => Evaluation {
            breached: true,
            value: 0,
            unit: ValueUnit::Count,
            message: what.clone(),
        },
        (
            Condition::FailureRate {
                threshold_percent,
                min_count,
                ..
            }
            | Condition::ImportRejectRate {
                threshold_percent,
                min_count,
                ..
            },
            Measurement::Ratio { failed, total },
        ) => {
            let what = if rule.kind() == "failure_rate" {
                "transfers rejected"
            } else {
                "imported rows rejected"
            };
            let breached = *total >= *min_count
                && Decimal::from(*failed) * Decimal::ONE_HUNDRED
                    > *threshold_percent * Decimal::from(*total);
            let mut message = format!(
                "{} of {total} {what} in {} (threshold {threshold_percent}%",
                percent_text(*failed, *total),
                rule.window_text
            );
            if *total < *min_count {
                let _ = write!(message, ", fewer than {min_count} to judge");
            }
            message.push(')');
            Evaluation {
                breached,
                value: basis_points(*failed, *total),
                unit: ValueUnit::BasisPoints,
                message,
            }
        }
        (
            Condition::RiskBlockSpike {
                baseline_windows,
                spike_factor,
                min_count,
                ..
            },
            Measurement::Spike {
                current,
                baseline_total,
            },
        ) => {
            // current ≥ factor × (baseline_total / windows), without dividing.
            let breached = *current >= *min_count
                && Decimal::from(*current) * Decimal::from(*baseline_windows)
                    >= *spike_factor * Decimal::from(*baseline_total);
            let average = Decimal::from(*baseline_total) / Decimal::from(*baseline_windows);
            let message = format!(
                "{current} risk blocks in {} against a baseline of {} per {} over the previous {baseline_windows} (spike factor {spike_factor}, at least {min_count})",
                rule.window_text,
                average.round_dp(1).normalize(),
                rule.window_text,
            );
            Evaluation {
                breached,
                value: *current,
                unit: ValueUnit::Count,
                message,
            }
        }
        (
            Condition::Balance {
                account,
                above,
                below,
            },
            Measurement::Balance {
                balance_minor,
                minor_units,
                currency,
            },
        ) => {
            let balance = Decimal::new(*balance_minor, *minor_units);
            let over = above.is_some_and(|above| balance > above);
            let under = below.is_some_and(|below| balance < below);
            let shown = crate::money::format_minor(*balance_minor, *minor_units);
            let masked = crate::model::account_number::mask(account);
            let message = match (over, under) {
                (true, _) => format!(
                    "balance of {masked} is {shown} {currency}, above {}",
                    above.unwrap_or_default()
                ),
                (_, true) => format!(
                    "balance of {masked} is {shown} {currency}, below {}",
                    below.unwrap_or_default()
                ),
                _ => format!(
                    "balance of {masked} is {shown} {currency}{}",
                    limits_text(*above, *below)
                ),
            };
            Evaluation {
                breached: over || under,
                value: *balance_minor,
                unit: ValueUnit::MinorUnits,
                message,
            }
        }
        (
            Condition::ReconcileMissingRun { account, .. },
            Measurement::Run {
                past_deadline,
                covered,
                day,
            },
        ) => {
            let masked = crate::model::account_number::mask(account);
            let breached = *past_deadline && !*covered;
            let message = if *covered {
                format!("{masked} is reconciled for {day}")
            } else if *past_deadline {
                format!("no reconciliation run of {masked} covers {day}, past its deadline")
            } else {
                format!("{masked} is not reconciled for {day} yet; the deadline has not passed")
            };
            Evaluation {
                breached,
                value: i64::from(!*covered),
                unit: ValueUnit::Count,
                message,
            }
        }
        (Condition::UnresolvedBreaks { min_count, .. }, Measurement::Count(breaks)) => Evaluation {
            breached: *breaks >= *min_count,
            value: *breaks,
            unit: ValueUnit::Count,
            message: format!(
                "{breaks} unresolved reconciliation breaks older than {} (threshold {min_count})",
                rule.window_text
            ),
        },
        (condition, measurement) => unreachable!("{condition:?} measured as {measurement:?}"),
    }
}

fn limits_text(above: Option<Decimal>, below: Option<Decimal>) -> String {
    match (above, below) {
        (Some(above), Some(below)) => format!(", within {below} to {above}"),
        (Some(above), None) => format!(", not above {above}"),
        (None, Some(below)) => format!(", not below {below}"),
        (None, None) => String::new(),
    }
}

/// `14.2%`: tenths of a percent, rounded half up (display only; the decision is exact).
fn percent_text(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "0.0%".to_string();
    }
    let tenths = (i128::from(part) * 2_000 + i128::from(whole)) / (2 * i128::from(whole));
    format!("{}.{}%", tenths / 10, tenths % 10)
}

fn basis_points(part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        return 0;
    }
    i64::try_from(i128::from(part) * 10_000 / i128::from(whole)).unwrap_or(i64::MAX)
}

/// An alert's state after this check, against the stored one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AlertState {
    /// Not breached, and was not firing.
    Ok,
    /// Breached now, was not before: reported once.
    Firing,
    /// Still breached.
    Ongoing,
    /// Not breached any more: reported once.
    Resolved,
}

impl AlertState {
    pub(crate) fn between(was_firing: bool, breached: bool) -> AlertState {
        match (was_firing, breached) {
            (false, false) => AlertState::Ok,
            (false, true) => AlertState::Firing,
            (true, true) => AlertState::Ongoing,
            (true, false) => AlertState::Resolved,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AlertState::Ok => "ok",
            AlertState::Firing => "firing",
            AlertState::Ongoing => "ongoing",
            AlertState::Resolved => "resolved",
        }
    }

    /// Whether this check changes the stored state.
    pub(crate) fn is_transition(self) -> bool {
        matches!(self, AlertState::Firing | AlertState::Resolved)
    }

    pub(crate) fn is_active(self) -> bool {
        matches!(self, AlertState::Firing | AlertState::Ongoing)
    }
}

/// `OK`, `WARNING` or `CRITICAL`: the rule's severity while it fires.
pub(crate) fn status_of(rule: &AlertRule, state: AlertState) -> &'static str {
    match (state.is_active(), rule.severity) {
        (false, _) => "OK",
        (true, Severity::Warning) => "WARNING",
        (true, Severity::Critical) => "CRITICAL",
    }
}

/// `CRITICAL failure_rate: 14.2% of 350 transfers rejected in 5m (threshold 10%) [firing]`.
pub(crate) fn line(rule: &AlertRule, evaluation: &Evaluation, state: AlertState) -> String {
    let mut text = format!(
        "{} {}: {}",
        status_of(rule, state),
        rule.name,
        evaluation.message
    );
    if state != AlertState::Ok {
        let _ = write!(text, " [{}]", state.as_str());
    }
    text
}

/// The check's exit code (monitoring-plugin convention): 2 when a critical alert is active,
/// else 1 when a warning is, else 0.
pub(crate) fn exit_code(active: impl IntoIterator<Item = Severity>) -> u8 {
    match active.into_iter().max() {
        Some(Severity::Critical) => 2,
        Some(Severity::Warning) => 1,
        None => 0,
    }
}

/// Seconds into the UTC day of an instant, and the UTC date before it (`YYYY-MM-DD`).
pub(crate) fn day_position(instant_us: i64) -> (i64, String) {
    let seconds = instant_us.div_euclid(MICROS_PER_SECOND);
    let into_day = seconds.rem_euclid(SECONDS_PER_DAY);
    let yesterday = crate::clock::to_datetime(instant_us).date_naive() - chrono::Days::new(1);
    (into_day, yesterday.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> AppResult<AlertRule> {
        parse_rules(&format!(
            "[[rule]]\nname = \"r\"\nseverity = \"critical\"\n{text}"
        ))
        .map(|mut rules| rules.remove(0))
    }

    #[test]
    fn the_builtin_rules_parse() {
        let rules = parse_rules(BUILTIN_RULES_TOML).expect("built-in rules");
        let kinds: Vec<&str> = rules.iter().map(AlertRule::kind).collect();
        for kind in [
            "failure_rate",
            "risk_block_spike",
            "unresolved_breaks",
            "import_reject_rate",
        ] {
            assert!(kinds.contains(&kind), "{kinds:?}");
        }
    }

    #[test]
    fn bad_fields_name_rule_and_field() {
        let cases = [
            ("kind = \"failure_rate\"\nwindow = \"5x\"\nthreshold_percent = \"10\"", "window"),
            ("kind = \"failure_rate\"\nwindow = \"5m\"\nthreshold_percent = \"abc\"", "threshold_percent"),
            ("kind = \"failure_rate\"\nwindow = \"5m\"\nthreshold_percent = \"10\"\nmin_count = 0", "min_count"),
            ("kind = \"failure_rate\"\nwindow = \"5m\"\nthreshold_percent = \"10\"\naccount = \"X\"", "account"),
            ("kind = \"nope\"", "kind"),
            ("kind = \"balance\"\naccount = \"BANK0001\"", "above"),
            ("kind = \"balance\"\naccount = \"BANK0001\"\nabove = \"1\"\nbelow = \"2\"", "below"),
            ("kind = \"reconcile_missing_run\"\naccount = \"BANK0001\"\ndeadline = \"25:00\"", "deadline"),
        ];
        for (text, field) in cases {
            let error = rule(text).expect_err(text);
            assert_eq!(error.exit_code(), 4);
            assert!(
                error.message.contains("'r'")
                    && error.message.contains(&format!("field '{field}'")),
                "{}",
                error.message
            );
        }
    }

    #[test]
    fn failure_rate_is_exact_at_the_threshold() {
        let rule = rule(
            "kind = \"failure_rate\"\nwindow = \"5m\"\nthreshold_percent = \"10\"\nmin_count = 10",
        )
        .unwrap();
        let at = evaluate(
            &rule,
            &Measurement::Ratio {
                failed: 10,
                total: 100,
            },
        );
        assert!(!at.breached, "10% is not over 10%");
        let over = evaluate(
            &rule,
            &Measurement::Ratio {
                failed: 50,
                total: 350,
            },
        );
        assert!(over.breached);
        assert_eq!(
            over.message,
            "14.3% of 350 transfers rejected in 5m (threshold 10%)"
        );
        assert_eq!(over.value, 1428);
        assert!(
            !evaluate(
                &rule,
                &Measurement::Ratio {
                    failed: 9,
                    total: 9
                }
            )
            .breached,
            "too few"
        );
    }

    #[test]
    fn states_and_exit_codes() {
        assert_eq!(AlertState::between(false, true), AlertState::Firing);
        assert_eq!(AlertState::between(true, true), AlertState::Ongoing);
        assert_eq!(AlertState::between(true, false), AlertState::Resolved);
        assert_eq!(AlertState::between(false, false), AlertState::Ok);
        assert_eq!(exit_code([]), 0);
        assert_eq!(exit_code([Severity::Warning]), 1);
        assert_eq!(exit_code([Severity::Warning, Severity::Critical]), 2);
        assert_eq!(
            day_position(86_400 * MICROS_PER_SECOND + 3_600 * MICROS_PER_SECOND),
            (3_600, "1970-01-01".to_string())
        );
    }
}
