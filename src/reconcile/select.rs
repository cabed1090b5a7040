//! Which account: a statement file may hold the statements of several accounts (camt blocks,
//! MT940 messages); a run takes the parts that belong to its settlement account. Pure: a read
//! `Statement` and the account's identifiers in, the restricted statement out.
//!
//! Rules (README "Which account"):
//! - A part belongs to the account when its account id (camt `Acct/Id/IBAN` or `Othr/Id`,
//!   MT940 `:25:`) equals the account's IBAN, compared upper case without spaces, or its bank
//!   account string, compared trimmed. MT940 also writes `:25:` as `BIC/ACCOUNT` or
//!   `BLZ/ACCOUNT`: the text after the first `/` is compared the same way.
//! - The account has identifiers: the parts that belong to it are kept, the others are
//!   skipped and listed; when none belongs to it the run is exit 4 naming every account id
//!   the file holds.
//! - The account has none: a file of at most one account id is taken as it is; a file of
//!   several is exit 4 naming them, with the command that records the identifier.
//! - A statement whose format names no account (CSV, parts without an account id) is taken
//!   as it is: there is nothing to choose by.
//! - The kept lines keep their `line` and `source_line` (items point into the file); the
//!   parts' `lines` ranges index the new `lines`. `account` is the kept parts' account id,
//!   `balances` span the first opening to the last closing balance of the kept parts when
//!   they and every kept line are in one currency (as the readers do for one-account files);
//!   each kept part still balances on its own lines.

use super::{Statement, StatementBalances, StatementPart};
use crate::error::{AppError, AppResult};
use crate::model::bank_identifiers::normalize_iban;
use crate::model::BankIdentifiers;

/// A part of the file that belongs to another account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedPart {
    /// The part's account id as the file writes it (`None`: the part names none).
    pub account: Option<String>,
    /// Its booked lines.
    pub lines: u64,
}

/// The statement of one account, and the parts of the file left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub statement: Statement,
    pub skipped: Vec<SkippedPart>,
}

/// Whether a part's account id names the account with these identifiers.
pub fn part_belongs_to(part_account: &str, identifiers: &BankIdentifiers) -> bool {
    let whole = part_account.trim();
    let after_slash = whole.split_once('/').map(|(_, rest)| rest.trim());
    [Some(whole), after_slash]
        .into_iter()
        .flatten()
        .filter(|candidate| !candidate.is_empty())
        .any(|candidate| {
            identifiers
                .iban
                .as_deref()
                .is_some_and(|iban| normalize_iban(candidate) == iban)
                || identifiers.bank_account.as_deref() == Some(candidate)
        })
}

/// The part of `statement` that belongs to account `number` (see the module's rules). `file`
/// names the statement in messages.
pub fn select_account(
    statement: Statement,
    number: &str,
    identifiers: &BankIdentifiers,
    file: &str,
) -> AppResult<Selection> {
    let accounts = statement.part_accounts();
    let as_it_is = |statement: Statement| {
        Ok(Selection {
            statement,
            skipped: Vec::new(),
        })
    };
    if accounts.is_empty() {
        return as_it_is(statement);
    }
    if identifiers.is_empty() {
        if accounts.len() == 1 {
            return as_it_is(statement);
        }
        return Err(AppError::invalid_input(format!(
            "statement {file} holds the statements of several accounts ({}); record which one is account {number} with `fincore account update {number} --iban IBAN` (or `--bank-account TEXT`)",
            accounts.join(", ")
        )));
    }
    let belongs: Vec<bool> = statement
        .parts
        .iter()
        .map(|part| {
            part.account
                .as_deref()
                .is_some_and(|account| part_belongs_to(account, identifiers))
        })
        .collect();
    if !belongs.contains(&true) {
        return Err(AppError::invalid_input(format!(
            "statement {file} has no part for account {number} ({}); it holds: {}",
            identifiers.describe(),
            accounts.join(", ")
        )));
    }
    if !belongs.contains(&false) {
        return as_it_is(statement);
    }
    Ok(restrict(statement, &belongs))
}

/// Keep the parts marked in `keep` (at least one), list the others.
fn restrict(statement: Statement, keep: &[bool]) -> Selection {
    let Statement {
        lines: all_lines,
        parts: all_parts,
        ..
    } = statement;
    let mut lines = Vec::new();
    let mut parts: Vec<StatementPart> = Vec::new();
    let mut skipped = Vec::new();
    let mut all_lines: Vec<Option<_>> = all_lines.into_iter().map(Some).collect();
    for (part, kept) in all_parts.into_iter().zip(keep) {
        if !kept {
            skipped.push(SkippedPart {
                account: part.account,
                lines: part.lines.len() as u64,
            });
            continue;
        }
        let start = lines.len();
        lines.extend(
            all_lines
                .get_mut(part.lines.clone())
                .into_iter()
                .flatten()
                .filter_map(Option::take),
        );
        parts.push(StatementPart {
            lines: start..lines.len(),
            ..part
        });
    }
    let account = parts.iter().find_map(|part| part.account.clone());
    let balances = spanning_balances(&parts, &lines);
    let pending_entries = parts.iter().map(|part| part.pending_entries).sum();
    Selection {
        statement: Statement {
            account,
            balances,
            lines,
            parts,
            pending_entries,
            ..statement
        },
        skipped,
    }
}

/// The first opening and the last closing balance of the parts, when they and every line are
/// in one currency.
fn spanning_balances(
    parts: &[StatementPart],
    lines: &[super::StatementLine],
) -> Option<StatementBalances> {
    let mut with_balances = parts.iter().filter_map(|part| part.balances);
    let first = with_balances.next()?;
    let last = with_balances.next_back().unwrap_or(first);
    let one_currency = parts
        .iter()
        .filter_map(|part| part.balances)
        .all(|balances| balances.currency == first.currency)
        && lines.iter().all(|line| line.currency == first.currency);
    one_currency.then_some(StatementBalances {
        opening_minor: first.opening_minor,
        closing_minor: last.closing_minor,
        currency: first.currency,
        closing_date: last.closing_date,
    })
}
