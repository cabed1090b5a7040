//! Rules for recurring differences (bank fees, charges, interest): a TOML file of
//! `[[rule]]` tables, each saying which break items it applies to (break kind, reference and
//! description patterns, amount range, currency) and what to do with them (post the difference
//! to an account, or accept it). `reconcile run --rules FILE` applies them to the run's new open
//! items; see `fixtures/reconcile/rules.toml` for every field.
//!
//! Decisions:
//! - Rules are tried in file order and the first rule that fits an item resolves it; later
//!   rules never see it.
//! - `reference` is searched in the item's reference (the statement line's, or the ledger
//!   movement's for `missing_external`). `description` is searched in the statement line's
//!   description and in its counterparty, each on its own (so `^`/`$` anchor one field); it
//!   fits when either matches. An item without a statement line never fits a rule with a
//!   `description`. Patterns are the `regex` crate's syntax, unanchored and case-sensitive
//!   (write `^…$` to anchor, `(?i)` to ignore case).
//! - The amount compared with `amount_min`/`amount_max` (both inclusive) is the item's
//!   difference, external − internal, signed from the bank's side: a fee the bank charged is
//!   negative, interest it paid positive. For `missing_internal` that is the statement
//!   line's amount. An item without a difference in one currency never fits an amount bound.
//! - A rule fits only items in its `currency`, or without one in the settlement account's
//!   currency; its amounts are read in that currency, exactly (more decimals than the currency
//!   has is an error, as for every amount).
//! - A rule needs at least one condition besides its kinds: a rule that fits every break of a
//!   kind would hide real breaks.

use super::record::ItemRecord;
use super::BreakKind;
use crate::error::{AppError, AppResult};
use crate::model::TEXT_LENGTH_MAX;
use crate::money::{parse_minor, Currency};
use crate::rule_table::{parse_each, rule_error, syntax_error, RuleTable};
use regex::{Regex, RegexBuilder};

/// Most rules in one file.
pub(crate) const RULES_MAX: usize = 1_000;
/// Longest pattern, in characters.
pub(crate) const PATTERN_LENGTH_MAX: usize = 1_000;
/// Largest compiled pattern, in bytes (the `regex` crate's size limit): bounds the memory and
/// time a pattern like `(a{1000}){1000}` could take.
pub(crate) const REGEX_SIZE_LIMIT_BYTES: usize = 1 << 20;
/// Most decimals an amount bound may have before the currency is known (the finest currency).
pub(crate) const AMOUNT_DECIMALS_MAX: u32 = 4;
/// Longest resolution note ("rule NAME: note"), as for `reconcile resolve --note`.
pub(crate) const NOTE_LENGTH_MAX: usize = TEXT_LENGTH_MAX;

const TOP_LEVEL_KEYS: [&str; 1] = ["rule"];
const RULE_KEYS: [&str; 10] = [
    "name",
    "reference",
    "description",
    "kinds",
    "amount_min",
    "amount_max",
    "currency",
    "post_to",
    "accept",
    "note",
];

/// What a rule does with the items it fits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RuleAction {
    /// Post the item's difference between the settlement account and this account.
    PostTo(String),
    /// Accept the item as it is.
    Accept,
}

/// An amount bound as written, and its value at `AMOUNT_DECIMALS_MAX` decimals.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Bound {
    text: String,
    /// Minor units at `AMOUNT_DECIMALS_MAX` decimals.
    scaled: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Rule {
    /// 1-based position in the file.
    pub(crate) index: usize,
    pub(crate) name: String,
    reference: Option<Regex>,
    description: Option<Regex>,
    kinds: Vec<BreakKind>,
    amount_min: Option<Bound>,
    amount_max: Option<Bound>,
    currency: Option<Currency>,
    pub(crate) action: RuleAction,
    /// The resolution note: `rule NAME`, or `rule NAME: NOTE` when the rule has a note.
    pub(crate) note: String,
}

/// The statement line's texts a `description` pattern is searched in.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LineText<'a> {
    pub(crate) counterparty: &'a str,
    pub(crate) description: &'a str,
}

#[derive(Debug, Clone)]
pub(crate) struct RuleSet {
    pub(crate) rules: Vec<Rule>,
}

impl RuleSet {
    /// Whether any rule searches the statement line's description or counterparty (the run
    /// then keeps them when it reads the statement).
    pub(crate) fn needs_line_text(&self) -> bool {
        self.rules.iter().any(|rule| rule.description.is_some())
    }

    /// Check the rules against the settlement account's currency before a run: amounts of
    /// rules without a currency are read in it, and a rule that posts must be in it.
    pub(crate) fn check_for(&self, account_currency: Currency) -> AppResult<()> {
        for rule in &self.rules {
            let currency = rule.currency.unwrap_or(account_currency);
            if currency != account_currency && matches!(rule.action, RuleAction::PostTo(_)) {
                return Err(rule.error(
                    "currency",
                    format!(
                        "{currency} items cannot be posted to the {account_currency} settlement account; use accept = true"
                    ),
                ));
            }
            for (field, bound) in [
                ("amount_min", &rule.amount_min),
                ("amount_max", &rule.amount_max),
            ] {
                if let Some(bound) = bound {
                    currency.parse_signed(&bound.text).map_err(|error| {
                        error.context(format_args!("{}: field '{field}'", rule.label()))
                    })?;
                }
            }
        }
        Ok(())
    }

    /// The first rule that fits an open item, if any. `line` holds the texts of the item's
    /// statement line, when it has one.
    pub(crate) fn first_match(
        &self,
        account_currency: Currency,
        item: &ItemRecord,
        line: Option<LineText<'_>>,
    ) -> Option<&Rule> {
        if item.resolution.is_some() {
            return None;
        }
        self.rules
            .iter()
            .find(|rule| rule.fits(account_currency, item, line))
    }
}

impl Rule {
    fn label(&self) -> String {
        format!("rule {} '{}'", self.index, self.name)
    }

    fn error(&self, field: &str, message: impl std::fmt::Display) -> AppError {
        rule_error(self.index, Some(&self.name), field, message)
    }

    fn fits(
        &self,
        account_currency: Currency,
        item: &ItemRecord,
        line: Option<LineText<'_>>,
    ) -> bool {
        if !self.kinds.contains(&item.kind) {
            return false;
        }
        if item.currency != self.currency.unwrap_or(account_currency) {
            return false;
        }
        if self.amount_min.is_some() || self.amount_max.is_some() {
            let Some(difference) = item.difference_minor else {
                return false;
            };
            let units = item.currency.minor_units();
            if let Some(min) = &self.amount_min {
                if compare_scaled(difference, units, min.scaled) == std::cmp::Ordering::Less {
                    return false;
                }
            }
            if let Some(max) = &self.amount_max {
                if compare_scaled(difference, units, max.scaled) == std::cmp::Ordering::Greater {
                    return false;
                }
            }
        }
        if let Some(pattern) = &self.reference {
            if !pattern.is_match(&item.reference) {
                return false;
            }
        }
        if let Some(pattern) = &self.description {
            let Some(line) = line else {
                return false;
            };
            if !pattern.is_match(line.description) && !pattern.is_match(line.counterparty) {
                return false;
            }
        }
        true
    }
}

/// `minor` (at `units` decimals) against `scaled` (at `AMOUNT_DECIMALS_MAX` decimals), exactly.
fn compare_scaled(minor: i64, units: u32, scaled: i64) -> std::cmp::Ordering {
    let common = units.max(AMOUNT_DECIMALS_MAX);
    let left = i128::from(minor) * 10i128.pow(common - units);
    let right = i128::from(scaled) * 10i128.pow(common - AMOUNT_DECIMALS_MAX);
    left.cmp(&right)
}

/// Parse and validate a rules file. Any fault is `invalid_input` naming the place: the rule
/// (1-based index and name) and the field.
pub(crate) fn parse_rules(text: &str) -> AppResult<RuleSet> {
    let table: toml::Table = text
        .parse()
        .map_err(|error: toml::de::Error| syntax_error(text, &error))?;
    if let Some(key) = table
        .keys()
        .find(|key| !TOP_LEVEL_KEYS.contains(&key.as_str()))
    {
        return Err(AppError::invalid_input(format!(
            "rules file: unknown top-level key '{key}' (expected [[rule]] sections)"
        )));
    }
    let entries = match table.get("rule") {
        None => &Vec::new(),
        Some(toml::Value::Array(entries)) => entries,
        Some(_) => {
            return Err(AppError::invalid_input(
                "rules file: 'rule' must be an array of tables ([[rule]] sections)",
            ))
        }
    };
    if entries.is_empty() {
        return Err(AppError::invalid_input(
            "rules file: no rules (add [[rule]] sections)",
        ));
    }
    if entries.len() > RULES_MAX {
        return Err(AppError::invalid_input(format!(
            "rules file: {} rules; at most {RULES_MAX} are accepted",
            entries.len()
        )));
    }
    let rules = parse_each(
        entries,
        |table| RuleParser(table).parse(),
        |rule| rule.name.as_str(),
    )?;
    Ok(RuleSet { rules })
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
        let reference = self.pattern_field("reference")?;
        let description = self.pattern_field("description")?;
        let amount_min = self.bound_field("amount_min")?;
        let amount_max = self.bound_field("amount_max")?;
        if let (Some(min), Some(max)) = (&amount_min, &amount_max) {
            if min.scaled > max.scaled {
                return Err(self.error(
                    "amount_min",
                    format!("{} is greater than amount_max {}", min.text, max.text),
                ));
            }
        }
        if reference.is_none()
            && description.is_none()
            && amount_min.is_none()
            && amount_max.is_none()
        {
            return Err(AppError::invalid_input(format!(
                "rule {} '{name}': no condition: give at least one of reference, description, amount_min, amount_max (a rule without one would resolve every break of its kinds)",
                self.index
            )));
        }
        let currency = match self.optional_string("currency")? {
            Some(text) => Some(Currency::parse(&text).map_err(|error| {
                AppError::new(
                    error.code,
                    format!(
                        "rule {} '{name}': field 'currency': {}",
                        self.index, error.message
                    ),
                )
            })?),
            None => None,
        };
        if let Some(currency) = currency {
            for (field, bound) in [("amount_min", &amount_min), ("amount_max", &amount_max)] {
                if let Some(bound) = bound {
                    currency.parse_signed(&bound.text).map_err(|error| {
                        error.context(format_args!(
                            "rule {} '{name}': field '{field}'",
                            self.index
                        ))
                    })?;
                }
            }
        }
        let kinds = self.kinds_field()?;
        let action = self.action_field()?;
        if matches!(action, RuleAction::PostTo(_)) && kinds.contains(&BreakKind::CurrencyMismatch) {
            return Err(self.error(
                "kinds",
                "currency_mismatch items have no difference in one currency to post; accept them instead",
            ));
        }
        let note = match self.optional_string("note")? {
            None => format!("rule {name}"),
            Some(text) => {
                let text = crate::text::trim(&text);
                if text.is_empty() {
                    return Err(
                        self.error("note", "must not be empty (leave it out for \"rule NAME\")")
                    );
                }
                format!("rule {name}: {text}")
            }
        };
        if note.chars().count() > NOTE_LENGTH_MAX {
            return Err(self.error(
                "note",
                format!("\"{note}\" is longer than {NOTE_LENGTH_MAX} characters"),
            ));
        }
        Ok(Rule {
            index: self.index,
            name,
            reference,
            description,
            kinds,
            amount_min,
            amount_max,
            currency,
            action,
            note,
        })
    }

    fn pattern_field(&self, field: &str) -> AppResult<Option<Regex>> {
        let Some(pattern) = self.optional_string(field)? else {
            return Ok(None);
        };
        if pattern.is_empty() {
            return Err(self.error(
                field,
                "must not be empty (an empty pattern fits everything)",
            ));
        }
        if pattern.chars().count() > PATTERN_LENGTH_MAX {
            return Err(self.error(
                field,
                format!("longer than {PATTERN_LENGTH_MAX} characters"),
            ));
        }
        RegexBuilder::new(&pattern)
            .size_limit(REGEX_SIZE_LIMIT_BYTES)
            .build()
            .map(Some)
            .map_err(|error| self.error(field, regex_message(&pattern, &error)))
    }

    fn bound_field(&self, field: &str) -> AppResult<Option<Bound>> {
        let text = match self.table.get(field) {
            None => return Ok(None),
            Some(toml::Value::String(text)) => text.clone(),
            Some(other) => {
                return Err(self.error(
                    field,
                    format!(
                        "must be a decimal string like \"-25.00\" (exact), not {}",
                        other.type_str()
                    ),
                ))
            }
        };
        let scaled = parse_minor(&text, AMOUNT_DECIMALS_MAX)
            .map_err(|error| error.context(format_args!("{}", self.place(field))))?;
        Ok(Some(Bound {
            text: crate::text::trim(&text).to_string(),
            scaled,
        }))
    }

    fn place(&self, field: &str) -> String {
        let label = self
            .name
            .as_deref()
            .map_or_else(|| "(unnamed)".to_string(), |name| format!("'{name}'"));
        format!("rule {} {label}: field '{field}'", self.index)
    }

    fn kinds_field(&self) -> AppResult<Vec<BreakKind>> {
        let values = match self.table.get("kinds") {
            None => return Ok(vec![BreakKind::MissingInternal]),
            Some(toml::Value::Array(values)) => values,
            Some(other) => {
                return Err(self.error(
                    "kinds",
                    format!("must be an array of break kinds, not {}", other.type_str()),
                ))
            }
        };
        if values.is_empty() {
            return Err(self.error(
                "kinds",
                "must not be empty (leave it out for [\"missing_internal\"])",
            ));
        }
        let known: Vec<&str> = BreakKind::ALL.iter().map(|kind| kind.as_str()).collect();
        let mut kinds = Vec::with_capacity(values.len());
        for value in values {
            let kind = match value {
                toml::Value::String(text) => text.parse::<BreakKind>().map_err(|_| {
                    self.error(
                        "kinds",
                        format!(
                            "'{text}' is not a break kind (expected one of: {})",
                            known.join(", ")
                        ),
                    )
                })?,
                other => {
                    return Err(self.error(
                        "kinds",
                        format!("must hold strings, not {}", other.type_str()),
                    ))
                }
            };
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        Ok(kinds)
    }

    fn action_field(&self) -> AppResult<RuleAction> {
        let post_to = self.optional_string("post_to")?;
        let accept = match self.table.get("accept") {
            None => false,
            Some(toml::Value::Boolean(true)) => true,
            Some(toml::Value::Boolean(false)) => {
                return Err(self.error("accept", "write accept = true, or leave it out"))
            }
            Some(other) => {
                return Err(self.error("accept", format!("must be true, not {}", other.type_str())))
            }
        };
        match (post_to, accept) {
            (Some(_), true) => Err(self.error(
                "accept",
                "give exactly one action: post_to = \"ACCOUNT\" or accept = true, not both",
            )),
            (None, false) => Err(self.error(
                "post_to",
                "no action: give post_to = \"ACCOUNT\" or accept = true",
            )),
            (None, true) => Ok(RuleAction::Accept),
            (Some(account), false) => crate::model::account_number::validate(&account)
                .map(RuleAction::PostTo)
                .map_err(|error| self.error("post_to", error.message)),
        }
    }
}

/// The `regex` crate's message on one line (syntax errors come as a diagram over several
/// lines; their last line says what is wrong).
fn regex_message(pattern: &str, error: &regex::Error) -> String {
    match error {
        regex::Error::CompiledTooBig(limit) => {
            format!("pattern compiles to more than {limit} bytes; simplify it")
        }
        _ => {
            let text = error.to_string();
            let what = text
                .lines()
                .rev()
                .find(|line| line.trim_start().starts_with("error:"))
                .map_or_else(|| text.replace('\n', " "), |line| line.trim().to_string());
            format!("'{pattern}' is not a valid pattern: {what}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::reconcile::record::{Resolution, ResolutionKind};

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    fn item(kind: BreakKind, reference: &str, difference: Option<i64>) -> ItemRecord {
        ItemRecord {
            id: 1,
            run_id: 1,
            kind,
            reference: reference.to_string(),
            currency: eur(),
            internal_currency: None,
            internal_amount_minor: None,
            external_amount_minor: difference,
            difference_minor: difference,
            transfer_id: None,
            statement_line: Some(1),
            date: None,
            resolution: None,
        }
    }

    fn error_of(text: &str) -> AppError {
        match parse_rules(text) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(error) => error,
        }
    }

    fn assert_refused(text: &str, expected: &str) {
        let error = error_of(text);
        assert_eq!(error.code, ErrorCode::InvalidInput, "{}", error.message);
        assert!(
            error.message.contains(expected),
            "{:?} does not contain {expected:?}",
            error.message
        );
    }

    const FEES: &str = r#"
[[rule]]
name = "card_fee"
reference = "^FEE-"
amount_min = "-50.00"
amount_max = "-0.01"
post_to = "FEESEUR"
note = "monthly card fee"

[[rule]]
name = "interest"
description = "(?i)interest"
kinds = ["missing_internal", "amount_mismatch"]
amount_min = "0.01"
accept = true

[[rule]]
name = "any_fee"
reference = "FEE"
accept = true
"#;

    #[test]
    fn parses_every_field() {
        let rules = parse_rules(FEES).unwrap();
        assert_eq!(rules.rules.len(), 3);
        let fee = &rules.rules[0];
        assert_eq!(fee.index, 1);
        assert_eq!(fee.name, "card_fee");
        assert_eq!(fee.action, RuleAction::PostTo("FEESEUR".to_string()));
        assert_eq!(fee.note, "rule card_fee: monthly card fee");
        assert_eq!(fee.kinds, [BreakKind::MissingInternal]);
        let interest = &rules.rules[1];
        assert_eq!(interest.action, RuleAction::Accept);
        assert_eq!(interest.note, "rule interest");
        assert_eq!(
            interest.kinds,
            [BreakKind::MissingInternal, BreakKind::AmountMismatch]
        );
        assert!(rules.needs_line_text());
        assert!(rules.check_for(eur()).is_ok());
    }

    #[test]
    fn the_fixture_parses() {
        let rules = parse_rules(include_str!("../../fixtures/reconcile/rules.toml")).unwrap();
        let names: Vec<&str> = rules.rules.iter().map(|rule| rule.name.as_str()).collect();
        assert_eq!(names, ["bank_fees", "credit_interest"]);
        assert_eq!(
            rules.rules[0].action,
            RuleAction::PostTo("FEESEUR".to_string())
        );
        assert_eq!(rules.rules[1].action, RuleAction::Accept);
        assert!(rules.check_for(eur()).is_ok());
    }

    #[test]
    fn the_first_fitting_rule_wins_and_bounds_are_inclusive() {
        let rules = parse_rules(FEES).unwrap();
        let name = |item: &ItemRecord, line: Option<LineText<'_>>| {
            rules
                .first_match(eur(), item, line)
                .map(|rule| rule.name.as_str())
        };
        // Both card_fee and any_fee fit: the first in the file wins.
        let fee = item(BreakKind::MissingInternal, "FEE-2026-11", Some(-1250));
        assert_eq!(name(&fee, None), Some("card_fee"));
        // Exactly at the bounds.
        for minor in [-5000, -1] {
            let at = item(BreakKind::MissingInternal, "FEE-1", Some(minor));
            assert_eq!(name(&at, None), Some("card_fee"), "{minor}");
        }
        // One cent outside: the next rule that fits.
        for minor in [-5001, 0] {
            let outside = item(BreakKind::MissingInternal, "FEE-1", Some(minor));
            assert_eq!(name(&outside, None), Some("any_fee"), "{minor}");
        }
        // The reference pattern is searched, case-sensitively, anchored by ^.
        let inside = item(BreakKind::MissingInternal, "XFEE-1", Some(-100));
        assert_eq!(name(&inside, None), Some("any_fee"));
        let lower = item(BreakKind::MissingInternal, "fee-1", Some(-100));
        assert_eq!(name(&lower, None), None);
        // Kinds: missing_internal only by default.
        let external = item(BreakKind::MissingExternal, "FEE-1", Some(-100));
        assert_eq!(name(&external, None), None);
        // A resolved item is left alone.
        let mut resolved = fee.clone();
        resolved.resolution = Some(Resolution {
            kind: ResolutionKind::Accepted,
            note: "x".to_string(),
            transfer_id: None,
            by: "x".to_string(),
            at_us: 0,
            resolved_in_item: None,
        });
        assert_eq!(name(&resolved, None), None);
    }

    #[test]
    fn description_is_searched_in_description_and_counterparty() {
        let rules = parse_rules(FEES).unwrap();
        let credit = item(BreakKind::AmountMismatch, "X-1", Some(312));
        let name = |line: Option<LineText<'_>>| {
            rules
                .first_match(eur(), &credit, line)
                .map(|rule| rule.name.as_str())
        };
        let in_description = LineText {
            counterparty: "",
            description: "Credit INTEREST Q4",
        };
        let in_counterparty = LineText {
            counterparty: "Interest desk",
            description: "Q4",
        };
        let elsewhere = LineText {
            counterparty: "Bank",
            description: "Q4",
        };
        assert_eq!(name(Some(in_description)), Some("interest"));
        assert_eq!(name(Some(in_counterparty)), Some("interest"));
        assert_eq!(name(Some(elsewhere)), None);
        // No statement line: a description rule cannot fit.
        assert_eq!(name(None), None);
        // Out of range: negative interest is not this rule's.
        let negative = item(BreakKind::AmountMismatch, "X-1", Some(-312));
        assert!(rules
            .first_match(eur(), &negative, Some(in_description))
            .is_none());
    }

    #[test]
    fn currency_and_precision() {
        let rules = parse_rules(
            "[[rule]]\nname = \"usd\"\nreference = \"FEE\"\ncurrency = \"usd\"\naccept = true\n",
        )
        .unwrap();
        let mut usd = item(BreakKind::MissingInternal, "FEE", Some(-100));
        assert!(rules.first_match(eur(), &usd, None).is_none());
        usd.currency = Currency::parse("USD").unwrap();
        assert!(rules.first_match(eur(), &usd, None).is_some());
        // Without a currency a rule fits the account's currency only.
        let plain =
            parse_rules("[[rule]]\nname = \"a\"\nreference = \"FEE\"\naccept = true\n").unwrap();
        assert!(plain.first_match(eur(), &usd, None).is_none());
        // A bound finer than the account's currency is refused when the run knows it.
        let fine =
            parse_rules("[[rule]]\nname = \"fine\"\namount_max = \"-0.001\"\naccept = true\n")
                .unwrap();
        let error = fine.check_for(eur()).unwrap_err();
        assert_eq!(error.code, ErrorCode::AmountPrecisionExceeded);
        assert!(
            error
                .message
                .starts_with("rule 1 'fine': field 'amount_max': "),
            "{}",
            error.message
        );
        assert!(fine.check_for(Currency::parse("BHD").unwrap()).is_ok());
        // A posting rule in another currency than the account's.
        let other = parse_rules(
            "[[rule]]\nname = \"o\"\nreference = \"FEE\"\ncurrency = \"USD\"\npost_to = \"FEESUSD\"\n",
        )
        .unwrap();
        let error = other.check_for(eur()).unwrap_err();
        assert!(
            error.message.contains("field 'currency'"),
            "{}",
            error.message
        );
        // JPY amounts are whole: exact comparison across decimals.
        let jpy = Currency::parse("JPY").unwrap();
        let yen =
            parse_rules("[[rule]]\nname = \"y\"\namount_min = \"-500\"\naccept = true\n").unwrap();
        let mut charge = item(BreakKind::MissingInternal, "", Some(-500));
        charge.currency = jpy;
        assert!(yen.first_match(jpy, &charge, None).is_some());
        charge.difference_minor = Some(-501);
        assert!(yen.first_match(jpy, &charge, None).is_none());
    }

    #[test]
    fn every_fault_names_the_rule_and_field() {
        let rule = |body: &str| format!("[[rule]]\nname = \"r\"\n{body}\n");
        assert_refused("[[rule]\n", "not valid TOML: line 1");
        assert_refused("", "no rules");
        assert_refused("rules = 1\n", "unknown top-level key 'rules'");
        assert_refused("rule = 1\n", "'rule' must be an array of tables");
        assert_refused(
            "[[rule]]\nreference = \"x\"\naccept = true\n",
            "rule 1 (unnamed): field 'name': missing",
        );
        assert_refused(
            &rule("reference = \"x\"\naccept = true\ncolour = 1"),
            "rule 1 'r': field 'colour': unknown field",
        );
        assert_refused(
            &rule("reference = \"(\"\naccept = true"),
            "rule 1 'r': field 'reference': '(' is not a valid pattern",
        );
        assert_refused(
            &rule("description = \"\"\naccept = true"),
            "field 'description': must not be empty",
        );
        assert_refused(
            &rule("reference = \"a{1000}{1000}\"\naccept = true"),
            "field 'reference': pattern compiles to more than",
        );
        assert_refused(
            &rule(&format!(
                "reference = \"{}\"\naccept = true",
                "a".repeat(PATTERN_LENGTH_MAX + 1)
            )),
            "field 'reference': longer than",
        );
        assert_refused(&rule("accept = true"), "rule 1 'r': no condition");
        assert_refused(&rule("reference = \"x\""), "field 'post_to': no action");
        assert_refused(
            &rule("reference = \"x\"\npost_to = \"FEESEUR\"\naccept = true"),
            "field 'accept': give exactly one action",
        );
        assert_refused(
            &rule("reference = \"x\"\naccept = false"),
            "field 'accept': write accept = true",
        );
        assert_refused(
            &rule("reference = \"x\"\npost_to = \"a b\""),
            "field 'post_to': account number",
        );
        assert_refused(
            &rule("amount_min = \"-1.00\"\namount_max = \"-2.00\"\naccept = true"),
            "field 'amount_min': -1.00 is greater than amount_max -2.00",
        );
        assert_refused(
            &rule("amount_min = -1.5\naccept = true"),
            "field 'amount_min': must be a decimal string",
        );
        assert_refused(
            &rule("amount_max = \"1,5\"\naccept = true"),
            "field 'amount_max': amount '1,5' is not a decimal number",
        );
        assert_refused(
            &rule("reference = \"x\"\nkinds = []\naccept = true"),
            "field 'kinds': must not be empty",
        );
        assert_refused(
            &rule("reference = \"x\"\nkinds = [\"fees\"]\naccept = true"),
            "field 'kinds': 'fees' is not a break kind",
        );
        assert_refused(
            &rule("reference = \"x\"\nkinds = [\"currency_mismatch\"]\npost_to = \"FEESEUR\""),
            "field 'kinds': currency_mismatch items",
        );
        assert_refused(
            &rule("reference = \"x\"\nnote = \" \"\naccept = true"),
            "field 'note': must not be empty",
        );
        assert_refused(
            &rule(&format!(
                "reference = \"x\"\nnote = \"{}\"\naccept = true",
                "n".repeat(NOTE_LENGTH_MAX)
            )),
            "field 'note': ",
        );
        assert_refused(
            "[[rule]]\nname = \"a b\"\nreference = \"x\"\naccept = true\n",
            "rule 1 (unnamed): field 'name': 'a b' must be",
        );
        assert_refused(
            "[[rule]]\nname = \"r\"\nreference = \"x\"\naccept = true\n[[rule]]\nname = \"r\"\nreference = \"y\"\naccept = true\n",
            "rule 2 'r': field 'name': another rule already has this name",
        );
        // Precision against a given currency at once; a bad currency keeps its code.
        let error = error_of(&rule(
            "amount_min = \"-0.001\"\ncurrency = \"EUR\"\naccept = true",
        ));
        assert_eq!(error.code, ErrorCode::AmountPrecisionExceeded);
        assert!(
            error
                .message
                .starts_with("rule 1 'r': field 'amount_min': "),
            "{}",
            error.message
        );
        let error = error_of(&rule(
            "amount_min = \"-1\"\ncurrency = \"EURO\"\naccept = true",
        ));
        assert_eq!(error.code, ErrorCode::InvalidCurrency);
        assert!(
            error.message.starts_with("rule 1 'r': field 'currency': "),
            "{}",
            error.message
        );
        let error = error_of(&rule("amount_min = \"-0.00001\"\naccept = true"));
        assert_eq!(error.code, ErrorCode::AmountPrecisionExceeded);
        let many: String = (0..=RULES_MAX)
            .map(|index| {
                format!("[[rule]]\nname = \"r{index}\"\nreference = \"x\"\naccept = true\n")
            })
            .collect();
        assert_refused(&many, &format!("at most {RULES_MAX}"));
    }
}
