//! `reconcile run --rules FILE`: the rules of `crate::reconcile::rules` applied to a run's new
//! open items inside the run's own write transaction, each fitting item resolved exactly as
//! `reconcile resolve --post-to`/`--accept` resolves it (same adjustment, same
//! `reconcile.resolved` audit event, with `"rule": NAME`), noted `rule NAME[: note]`.
//!
//! Decisions:
//! - Only items still open after the run carried over earlier resolutions are looked at, so a
//!   re-run never posts a fee twice: the carried item keeps the first run's resolution.
//! - A `balance_mismatch` of the run that the rules' postings in this run account for exactly
//!   (the sum of the differences they posted for items booked on or before its day equals its
//!   difference) is accepted, noted with those rules: the balance check was taken before the
//!   postings, and a re-run (which sees them) finds no mismatch. Anything else leaves it open.
//! - A posting a rule asks for and the ledger refuses (frozen, closed or unknown account, an
//!   item without a difference to post) fails the whole run with the refusal's code, naming
//!   the rule and the item; nothing of the run is stored. A rules file that points at the
//!   wrong account is a configuration fault to fix, not a break to leave open unseen.

use super::reconcile::{resolve_open_item, ResolveAction};
use crate::error::{AppError, AppResult};
use crate::reconcile::record::{ItemRecord, RunRecord};
use crate::reconcile::rules::NOTE_LENGTH_MAX;
use crate::reconcile::rules::{parse_rules, LineText, RuleAction, RuleSet};
use crate::reconcile::{BreakItem, BreakKind, StatementLine};
use crate::store::WriteTx;
use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// What one rule resolved in a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RuleOutcome {
    pub(crate) name: String,
    /// The items it resolved, in item order.
    pub(crate) items: Vec<i64>,
    /// The sum of their differences, in `currency`.
    pub(crate) amount_minor: i64,
    pub(crate) currency: crate::money::Currency,
}

/// Read and validate `--rules FILE` (exit 4 naming the file, rule and field at fault).
pub(crate) fn load_rules_file(path: &Path) -> AppResult<RuleSet> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| AppError::invalid_input(format!("{}: {error}", path.display())))?;
    parse_rules(&text).map_err(|error| error.context(path.display()))
}

/// Counterparty and description of the statement lines that became break items, by line.
pub(crate) fn line_texts(
    lines: &[StatementLine],
    items: &[BreakItem],
) -> HashMap<u64, (String, String)> {
    let wanted: HashSet<u64> = items
        .iter()
        .filter_map(|item| item.statement_line)
        .collect();
    lines
        .iter()
        .filter(|line| wanted.contains(&line.line))
        .map(|line| {
            (
                line.line,
                (line.counterparty.clone(), line.description.clone()),
            )
        })
        .collect()
}

/// Resolve every open item of the just stored `run` that a rule fits, updating `items`.
pub(crate) async fn apply_rules(
    tx: &mut WriteTx,
    rules: &RuleSet,
    texts: &HashMap<u64, (String, String)>,
    run: &RunRecord,
    items: &mut [ItemRecord],
) -> AppResult<Vec<RuleOutcome>> {
    let mut applied: Vec<RuleOutcome> = Vec::new();
    // (day of the item, difference posted, rule) for every posting.
    let mut posted: Vec<(NaiveDate, i64, &str)> = Vec::new();
    for slot in items.iter_mut() {
        let line = slot.statement_line.and_then(|line| texts.get(&line)).map(
            |(counterparty, description)| LineText {
                counterparty,
                description,
            },
        );
        let Some(rule) = rules.first_match(run.currency, slot, line) else {
            continue;
        };
        let action = match &rule.action {
            RuleAction::PostTo(account) => ResolveAction::PostTo(account.clone()),
            RuleAction::Accept => ResolveAction::Accept,
        };
        let item: ItemRecord = slot.clone();
        let (id, reference, difference, currency) = (
            item.id,
            item.reference.clone(),
            item.difference_minor,
            item.currency,
        );
        // Just stored by this run: it exists, is open and its run is the active one.
        let (resolved, _transfer) =
            resolve_open_item(tx, run, item, &action, &rule.note, Some(&rule.name))
                .await
                .map_err(|error| {
                    error.context(format_args!(
                        "rule {} '{}' on item {id} ({})",
                        rule.index,
                        rule.name,
                        if reference.is_empty() {
                            "no reference"
                        } else {
                            &reference
                        }
                    ))
                })?;
        if matches!(rule.action, RuleAction::PostTo(_)) {
            let day = resolved.date.unwrap_or(run.last_day());
            posted.push((day, difference.unwrap_or(0), &rule.name));
        }
        *slot = resolved;
        let entry = match applied.iter_mut().position(|entry| entry.name == rule.name) {
            Some(at) => &mut applied[at],
            None => {
                applied.push(RuleOutcome {
                    name: rule.name.clone(),
                    items: Vec::new(),
                    amount_minor: 0,
                    currency,
                });
                applied.last_mut().expect("just pushed")
            }
        };
        entry.items.push(id);
        entry.amount_minor = entry.amount_minor.saturating_add(difference.unwrap_or(0));
    }
    settle_balance_mismatches(tx, run, items, &posted).await?;
    // In file order, as the operator wrote them.
    applied.sort_by_key(|entry| {
        rules
            .rules
            .iter()
            .position(|rule| rule.name == entry.name)
            .unwrap_or(usize::MAX)
    });
    Ok(applied)
}

/// Accept each open `balance_mismatch` whose difference the rule postings of this run explain
/// exactly (see the module's decisions).
async fn settle_balance_mismatches(
    tx: &mut WriteTx,
    run: &RunRecord,
    items: &mut [ItemRecord],
    posted: &[(NaiveDate, i64, &str)],
) -> AppResult<()> {
    if posted.is_empty() {
        return Ok(());
    }
    for slot in items.iter_mut() {
        if slot.kind != BreakKind::BalanceMismatch
            || slot.resolution.is_some()
            || slot.currency != run.currency
        {
            continue;
        }
        let day = slot.date.unwrap_or(run.last_day());
        let mut explained: i64 = 0;
        let mut names: Vec<&str> = Vec::new();
        for (posted_day, difference, name) in posted {
            if *posted_day <= day {
                explained = explained.saturating_add(*difference);
                if !names.contains(name) {
                    names.push(name);
                }
            }
        }
        if names.is_empty() || slot.difference_minor != Some(explained) {
            continue;
        }
        let mut note = format!(
            "the closing balance agrees after the postings of rule {}",
            names.join(", rule ")
        );
        if note.chars().count() > NOTE_LENGTH_MAX {
            note = "the closing balance agrees after this run's rule postings".to_string();
        }
        let (resolved, _) =
            resolve_open_item(tx, run, slot.clone(), &ResolveAction::Accept, &note, None).await?;
        *slot = resolved;
    }
    Ok(())
}
