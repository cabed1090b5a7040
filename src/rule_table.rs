//! One `[[rule]]` table of a TOML rules file (risk rules, reconciliation rules): the checks every
//! rule file shares, and error messages that name the rule and the field the same way.

use crate::error::{AppError, AppResult};

/// Longest rule name, in bytes.
pub(crate) const RULE_NAME_LENGTH_MAX: usize = 64;

/// A rules file that is not TOML: exit 4 naming the line and column.
pub(crate) fn syntax_error(text: &str, error: &toml::de::Error) -> AppError {
    let place = error.span().map(|span| {
        let before = &text[..span.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |newline| newline + 1) + 1;
        format!("line {line}, column {column}: ")
    });
    let message = error.message().trim().replace('\n', " ");
    AppError::invalid_input(format!(
        "rules file is not valid TOML: {}{message}",
        place.unwrap_or_default()
    ))
}

/// `rule 3 'bank_fees': field 'amount_min': …` (exit 4).
pub(crate) fn rule_error(
    index: usize,
    name: Option<&str>,
    field: &str,
    message: impl std::fmt::Display,
) -> AppError {
    let label = name.map_or_else(|| "(unnamed)".to_string(), |name| format!("'{name}'"));
    AppError::invalid_input(format!("rule {index} {label}: field '{field}': {message}"))
}

/// Parse every `[[rule]]` entry with `parse`, in file order: each must be a table, and no two
/// rules may share a name (the second is refused, naming its position).
pub(crate) fn parse_each<R>(
    entries: &[toml::Value],
    mut parse: impl FnMut(RuleTable<'_>) -> AppResult<R>,
    name_of: impl Fn(&R) -> &str,
) -> AppResult<Vec<R>> {
    let mut names = std::collections::HashSet::new();
    let mut rules = Vec::with_capacity(entries.len());
    for (position, entry) in entries.iter().enumerate() {
        let index = position + 1;
        let toml::Value::Table(table) = entry else {
            return Err(AppError::invalid_input(format!(
                "rule {index}: must be a table ([[rule]] section)"
            )));
        };
        let rule = parse(RuleTable::new(index, table))?;
        if !names.insert(name_of(&rule).to_string()) {
            return Err(rule_error(
                index,
                Some(name_of(&rule)),
                "name",
                "another rule already has this name",
            ));
        }
        rules.push(rule);
    }
    Ok(rules)
}

/// One rule's table, remembering its position and (once read) its name for every message.
pub(crate) struct RuleTable<'a> {
    pub(crate) index: usize,
    pub(crate) table: &'a toml::Table,
    pub(crate) name: Option<String>,
}

impl<'a> RuleTable<'a> {
    pub(crate) fn new(index: usize, table: &'a toml::Table) -> RuleTable<'a> {
        RuleTable {
            index,
            table,
            name: None,
        }
    }

    pub(crate) fn error(&self, field: &str, message: impl std::fmt::Display) -> AppError {
        rule_error(self.index, self.name.as_deref(), field, message)
    }

    /// Read the name first (so every later message carries it), then refuse unknown keys.
    pub(crate) fn start(&mut self, known_keys: &[&str]) -> AppResult<String> {
        let name = self.name_field()?;
        self.name = Some(name.clone());
        if let Some(key) = self
            .table
            .keys()
            .find(|key| !known_keys.contains(&key.as_str()))
        {
            return Err(self.error(
                key,
                format!("unknown field (expected one of: {})", known_keys.join(", ")),
            ));
        }
        Ok(name)
    }

    pub(crate) fn required(&self, field: &str) -> AppResult<&'a toml::Value> {
        self.table
            .get(field)
            .ok_or_else(|| self.error(field, "missing"))
    }

    pub(crate) fn string_field(&self, field: &str) -> AppResult<String> {
        match self.required(field)? {
            toml::Value::String(text) => Ok(text.clone()),
            other => Err(self.error(field, format!("must be a string, not {}", other.type_str()))),
        }
    }

    pub(crate) fn optional_string(&self, field: &str) -> AppResult<Option<String>> {
        match self.table.get(field) {
            None => Ok(None),
            Some(_) => self.string_field(field).map(Some),
        }
    }

    fn name_field(&self) -> AppResult<String> {
        let name = self.string_field("name")?;
        let allowed =
            |character: char| character.is_ascii_alphanumeric() || "_-.".contains(character);
        if name.is_empty() || name.len() > RULE_NAME_LENGTH_MAX || !name.chars().all(allowed) {
            return Err(self.error(
                "name",
                format!("'{name}' must be 1–{RULE_NAME_LENGTH_MAX} characters of A–Z, a–z, 0–9, '_', '-', '.'"),
            ));
        }
        Ok(name)
    }
}
