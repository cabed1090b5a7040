//! `fincore risk …`: batch rescoring, stored assessments, rule sets and the blacklist.

use super::transfer::RulesArg;
use super::{account_argument, Context, Output};
use crate::clock::{self, format_instant};
use crate::error::{AppError, AppResult};
use crate::ledger::account_not_found;
use crate::model::{RiskFactor, RiskLevel, RiskResult};
use crate::output::{to_json, Column, Record, Section, View};
use crate::risk::rules::{Rule, RuleSet, Threshold};
use crate::service::rescore::{self, RescoreRequest, RescoredAccount, StoredRun};
use crate::service::risk_rules::{load_rules_file, rules_for_read, ChosenRules, RulesSource};
use crate::service::{blacklist, risk_rules, Progress};
use crate::store::LatestRisk;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

/// Most assessments `risk show --history` prints.
const HISTORY_LIMIT_MAX: i64 = 10_000;

#[derive(Debug, Subcommand)]
pub(crate) enum RiskCommand {
    /// Recompute account profiles and scores, store them, print the changes
    Rescore(RescoreArgs),
    /// The current stored assessment of an account (with --history: all of them)
    Show(ShowArgs),
    /// The rule set in force, or import a new one
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Accounts whose transfers are blocked as counterparties
    #[command(subcommand)]
    Blacklist(BlacklistCommand),
}

#[derive(Debug, Args)]
pub(crate) struct RescoreArgs {
    /// Rescore this account only
    #[arg(long, conflicts_with = "all")]
    account: Option<String>,
    /// Rescore every account (the default)
    #[arg(long)]
    all: bool,
    /// Profile as of this instant (RFC 3339) or the end of this date (YYYY-MM-DD, today, yesterday, -Nd); default now
    #[arg(long = "as-of", value_name = "WHEN", value_parser = super::options::When, allow_hyphen_values = true)]
    as_of: Option<String>,
    /// Freeze accounts whose new level is critical (audited)
    #[arg(long)]
    apply: bool,
    #[command(flatten)]
    risk: RulesArg,
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The account number
    number: String,
    /// Every stored assessment, newest first
    #[arg(long)]
    history: bool,
    /// With --history: at most N assessments, newest first
    #[arg(long, value_name = "N", default_value_t = 100)]
    limit: i64,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// The rule set in force (or the file given with --rules), with levels and decisions
    Show {
        #[command(flatten)]
        risk: RulesArg,
    },
    /// Validate a rules TOML file and make it the active set (a new version)
    Import {
        /// The rules TOML file
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum BlacklistCommand {
    /// Put an account number on the blacklist
    Add {
        /// The account number (need not be ours: a counterparty's)
        number: String,
        /// Why, recorded with the entry and on its audit event
        #[arg(long, value_name = "TEXT", default_value = "")]
        reason: String,
    },
    /// Take an account number off the blacklist
    Remove {
        /// The account number
        number: String,
    },
    /// List the blacklist
    List,
}

impl RiskCommand {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            RiskCommand::Rescore(_) => "rescore",
            RiskCommand::Show(_) => "show",
            RiskCommand::Rules(RulesCommand::Show { .. }) => "rules.show",
            RiskCommand::Rules(RulesCommand::Import { .. }) => "rules.import",
            RiskCommand::Blacklist(BlacklistCommand::Add { .. }) => "blacklist.add",
            RiskCommand::Blacklist(BlacklistCommand::Remove { .. }) => "blacklist.remove",
            RiskCommand::Blacklist(BlacklistCommand::List) => "blacklist.list",
        }
    }

    pub(crate) async fn run(self, context: &Context) -> AppResult<Output> {
        match self {
            RiskCommand::Rescore(arguments) => rescore(context, arguments).await,
            RiskCommand::Show(arguments) => show(context, arguments).await,
            RiskCommand::Rules(RulesCommand::Show { risk }) => rules_show(context, risk).await,
            RiskCommand::Rules(RulesCommand::Import { file }) => rules_import(context, &file).await,
            RiskCommand::Blacklist(BlacklistCommand::Add { number, reason }) => {
                blacklist_add(context, &number, &reason).await
            }
            RiskCommand::Blacklist(BlacklistCommand::Remove { number }) => {
                blacklist_remove(context, &number).await
            }
            RiskCommand::Blacklist(BlacklistCommand::List) => blacklist_list(context).await,
        }
    }
}

/// SPEC "Assessment JSON".
pub(crate) fn assessment_json(account: &str, result: &RiskResult, as_of_us: i64) -> Value {
    json!({
        "account": account,
        "score": result.score,
        "level": result.level.as_str(),
        "decision": result.decision.as_str(),
        "factors": result.factors.iter().map(factor_json).collect::<Vec<_>>(),
        "as_of": format_instant(as_of_us),
    })
}

fn factor_json(factor: &RiskFactor) -> Value {
    json!({"rule": factor.rule, "points": factor.points, "detail": factor.detail})
}

fn factors_section(factors: &[RiskFactor]) -> Section {
    let mut section = Section::new(&["rule", "points", "detail"]);
    for factor in factors {
        section.push(vec![
            factor.rule.clone(),
            factor.points.to_string(),
            factor.detail.clone(),
        ]);
    }
    section.titled("Factors")
}

/// "large_single_transfer +30, blacklisted_counterparty +70"
fn factors_summary(factors: &[RiskFactor]) -> String {
    factors
        .iter()
        .map(|factor| format!("{} +{}", factor.rule, factor.points))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A spinner with a message on stderr, or nothing when progress is off.
fn progress_bar(context: &Context) -> ProgressBar {
    if !context.progress_enabled() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {human_pos} {elapsed}")
            .expect("valid progress template"),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    bar
}

async fn rescore(context: &Context, arguments: RescoreArgs) -> AppResult<Output> {
    let options = arguments.risk.options()?;
    let as_of_us = match arguments.as_of.as_deref() {
        Some(text) => clock::parse_date_or_instant_end(text).map_err(|e| e.context("--as-of"))?,
        None => context.actor.now_us,
    };
    let only = arguments
        .account
        .as_deref()
        .map(|number| account_argument("--account", number))
        .transpose()?;
    let store = context.store().await?;
    let progress = ProgressReport(progress_bar(context));
    let request = RescoreRequest {
        only,
        as_of_us,
        apply: arguments.apply,
    };
    let outcome = rescore::rescore(store, &context.actor, &options, &request, &progress).await?;
    progress.0.finish_and_clear();
    Ok(rescore_output(
        context,
        &outcome.chosen,
        as_of_us,
        &outcome.rescored,
        &outcome.stored,
    ))
}

/// The rescoring stages on the operator's progress bar.
struct ProgressReport(ProgressBar);

impl Progress for ProgressReport {
    fn stage(&self, message: &'static str) {
        self.0.set_message(message);
    }

    fn position(&self, count: u64) {
        self.0.set_position(count);
    }
}

fn rules_json(chosen: &ChosenRules) -> Value {
    json!({
        "source": chosen.source.kind(),
        "path": match &chosen.source { RulesSource::File(path) => Some(path.clone()), _ => None },
        "version": chosen.stored.as_ref().map(|stored| stored.version),
        "fingerprint": chosen.rules.version(),
    })
}

fn previous_json(previous: Option<&LatestRisk>) -> Value {
    match previous {
        Some(previous) => json!({
            "score": previous.score,
            "level": previous.level.as_str(),
            "decision": previous.decision.as_str(),
            "as_of": format_instant(previous.as_of_us),
        }),
        None => Value::Null,
    }
}

fn rescore_output(
    context: &Context,
    chosen: &ChosenRules,
    as_of_us: i64,
    rescored: &[RescoredAccount],
    stored: &StoredRun,
) -> Output {
    let frozen: HashSet<&str> = stored.frozen.iter().map(String::as_str).collect();
    let mut changes = Vec::new();
    let mut section = Section::new(&[
        "account", "holder", "previous", "score", "level", "decision", "frozen", "factors",
    ]);
    let single = rescored.len() == 1;
    for ((item, previous), changed) in rescored.iter().zip(&stored.previous).zip(&stored.changed) {
        // One account asked for by name is always shown.
        if !*changed && !single {
            continue;
        }
        let number = item.account.number.as_str();
        let mut change = assessment_json(number, &item.result, as_of_us);
        change["previous"] = previous_json(previous.as_ref());
        change["frozen"] = json!(frozen.contains(number));
        changes.push(change);
        section.push(vec![
            number.to_string(),
            item.account.holder.clone(),
            previous.as_ref().map_or_else(
                || "-".to_string(),
                |previous| format!("{} {}", previous.level.as_str(), previous.score),
            ),
            item.result.score.to_string(),
            item.result.level.as_str().to_string(),
            item.result.decision.as_str().to_string(),
            if frozen.contains(number) { "yes" } else { "" }.to_string(),
            factors_summary(&item.result.factors),
        ]);
    }
    let changed_count = stored.changed.iter().filter(|changed| **changed).count();
    let mut by_level = serde_json::Map::new();
    for level in [
        RiskLevel::Low,
        RiskLevel::Medium,
        RiskLevel::High,
        RiskLevel::Critical,
    ] {
        let count = rescored
            .iter()
            .filter(|item| item.result.level == level)
            .count();
        by_level.insert(level.as_str().to_string(), json!(count));
    }
    let json = json!({
        "run_id": stored.run_id,
        "as_of": format_instant(as_of_us),
        "rules": rules_json(chosen),
        "accounts": rescored.len(),
        "changed": changed_count,
        "levels": by_level,
        "frozen": stored.frozen,
        "changes": changes,
        "trace_id": context.actor.trace_id,
    });
    let summary = Section::record(&[
        ("run_id", stored.run_id.to_string()),
        ("as_of", format_instant(as_of_us)),
        ("rules", chosen.source.describe()),
        ("accounts", rescored.len().to_string()),
        ("changed", changed_count.to_string()),
        ("frozen", stored.frozen.len().to_string()),
    ]);
    let mut sections = vec![summary.titled("Rescore"), section.titled("Changes")];
    if single {
        if let Some(item) = rescored.first() {
            sections.push(factors_section(&item.result.factors));
        }
    }
    Output::view(View::new(json, sections))
}

async fn show(context: &Context, arguments: ShowArgs) -> AppResult<Output> {
    let number = account_argument("number", &arguments.number)?;
    if !(1..=HISTORY_LIMIT_MAX).contains(&arguments.limit) {
        return Err(AppError::usage(format!(
            "--limit must be 1–{HISTORY_LIMIT_MAX}"
        )));
    }
    let store = context.store().await?;
    if store.account(&number).await?.is_none() {
        return Err(account_not_found(&number));
    }
    if arguments.history {
        let history = store.risk_history_of(&number, arguments.limit).await?;
        let mut section = Section::new(&["as_of", "score", "level", "decision", "factors"]);
        let mut documents = Vec::with_capacity(history.len());
        for stored in &history {
            documents.push(assessment_json(
                &stored.account,
                &stored.result,
                stored.as_of_us,
            ));
            section.push(vec![
                format_instant(stored.as_of_us),
                stored.result.score.to_string(),
                stored.result.level.as_str().to_string(),
                stored.result.decision.as_str().to_string(),
                factors_summary(&stored.result.factors),
            ]);
        }
        return Ok(Output::view(View::new(
            Value::Array(documents),
            vec![section.titled(format!("Assessments of {number}"))],
        )));
    }
    let stored = store.latest_risk(&number).await?.ok_or_else(|| {
        AppError::not_found(format!(
            "account {number} has no stored assessment; run `fincore risk rescore --account {number}`"
        ))
    })?;
    let json = assessment_json(&stored.account, &stored.result, stored.as_of_us);
    let record = Section::record(&[
        ("account", stored.account.clone()),
        ("score", stored.result.score.to_string()),
        ("level", stored.result.level.as_str().to_string()),
        ("decision", stored.result.decision.as_str().to_string()),
        ("as_of", format_instant(stored.as_of_us)),
    ]);
    let sections = vec![
        record.titled("Assessment"),
        factors_section(&stored.result.factors),
        profile_section(&stored.profile),
    ];
    Ok(Output::view(View::new(json, sections)))
}

/// The stored profile's window totals as a grid.
fn profile_section(profile: &Value) -> Section {
    let mut section = Section::new(&[
        "window",
        "outgoing",
        "outgoing_sum",
        "incoming",
        "incoming_sum",
    ]);
    for window in ["1h", "24h", "7d", "30d"] {
        let cell = |direction: &str, field: &str| {
            let value = &profile[direction][window][field];
            value
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| value.to_string())
        };
        section.push(vec![
            window.to_string(),
            cell("outgoing", "count"),
            cell("outgoing", "sum"),
            cell("incoming", "count"),
            cell("incoming", "sum"),
        ]);
    }
    let mut title = String::from("Profile");
    for (label, key) in [
        ("distinct counterparties 30d", "distinct_counterparties_30d"),
        ("failed attempts 30d", "failed_attempts_30d"),
        ("night share ‰", "night_share_per_mille"),
    ] {
        title.push_str(&format!("; {label}: {}", profile[key]));
    }
    section.titled(title)
}

fn rule_json(rule: &Rule) -> Value {
    json!({
        "name": rule.name,
        "description": rule.description,
        "feature": rule.feature.as_str(),
        "window": rule.window.map(|window| window.as_str()),
        "comparison": rule.comparison.as_str(),
        "threshold": match &rule.threshold {
            Threshold::Money(money) => json!(money.text()),
            Threshold::Count(count) => json!(count),
        },
        "points": rule.points,
    })
}

fn rule_set_view(chosen: &ChosenRules, extra: &[(&str, Value)]) -> View {
    let rules: &RuleSet = &chosen.rules;
    let levels = &rules.levels;
    let decisions = &rules.decisions;
    let settings = &rules.profile;
    let mut json = rules_json(chosen);
    json["imported_at"] = json!(chosen
        .stored
        .as_ref()
        .map(|stored| format_instant(stored.imported_at_us)));
    json["levels"] =
        json!({"medium": levels.medium, "high": levels.high, "critical": levels.critical});
    json["decisions"] = json!({
        "low": decisions.low.as_str(),
        "medium": decisions.medium.as_str(),
        "high": decisions.high.as_str(),
        "critical": decisions.critical.as_str(),
    });
    json["profile"] = json!({
        "dormant_reactivation_amount": settings.dormant_reactivation_amount.text(),
        "dormant_reactivation_points": settings.dormant_reactivation_points,
        "night_share_per_mille": settings.night_share_per_mille,
        "night_movements_min": settings.night_movements_min,
        "night_activity_points": settings.night_activity_points,
    });
    json["rules"] = Value::Array(rules.rules.iter().map(rule_json).collect());
    json["toml"] = json!(rules.to_toml());
    for (key, value) in extra {
        json[*key] = value.clone();
    }
    let summary = Section::record(&[
        ("source", chosen.source.describe()),
        ("fingerprint", rules.version()),
        (
            "levels",
            format!(
                "low < {} ≤ medium < {} ≤ high < {} ≤ critical",
                levels.medium, levels.high, levels.critical
            ),
        ),
        (
            "decisions",
            format!(
                "low → {}, medium → {}, high → {}, critical → {}",
                decisions.low.as_str(),
                decisions.medium.as_str(),
                decisions.high.as_str(),
                decisions.critical.as_str()
            ),
        ),
    ]);
    let mut section = Section::new(&[
        "name",
        "feature",
        "window",
        "comparison",
        "threshold",
        "points",
        "description",
    ]);
    for rule in &rules.rules {
        section.push(vec![
            rule.name.clone(),
            rule.feature.as_str().to_string(),
            rule.window.map_or("", |window| window.as_str()).to_string(),
            rule.comparison.as_str().to_string(),
            match &rule.threshold {
                Threshold::Money(money) => money.text().to_string(),
                Threshold::Count(count) => count.to_string(),
            },
            rule.points.to_string(),
            rule.description.clone(),
        ]);
    }
    let section = section.wide_only(&["feature", "window", "comparison"]);
    View::new(
        json,
        vec![summary.titled("Rule set"), section.titled("Rules")],
    )
}

async fn rules_show(context: &Context, risk: RulesArg) -> AppResult<Output> {
    let options = risk.options()?;
    let store = context.store().await?;
    let chosen = rules_for_read(store, &options).await?;
    Ok(Output::view(rule_set_view(&chosen, &[])))
}

async fn rules_import(context: &Context, file: &std::path::Path) -> AppResult<Output> {
    let rules = load_rules_file(file)?;
    let source = file.display().to_string();
    let store = context.store().await?;
    let (stored, imported) = risk_rules::import(store, &context.actor, &rules, &source).await?;
    let chosen = ChosenRules {
        rules: Arc::new(rules),
        source: RulesSource::Database {
            version: stored.version,
        },
        stored: Some(stored),
    };
    let view = rule_set_view(&chosen, &[("imported", json!(imported))]);
    let note = if imported {
        "imported: this rule set is now active"
    } else {
        "unchanged: this rule set is already the active one"
    };
    Ok(Output::view(view.with_note(note)))
}

/// A blacklisted number, with `added` / `removed` when a command changed the list.
#[derive(serde::Serialize)]
struct BlacklistView {
    number: String,
    reason: String,
    added_at: String,
    operator: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    added: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    removed: Option<bool>,
}

impl From<&crate::store::BlacklistEntry> for BlacklistView {
    fn from(entry: &crate::store::BlacklistEntry) -> BlacklistView {
        BlacklistView {
            number: entry.number.clone(),
            reason: entry.reason.clone(),
            added_at: format_instant(entry.added_at_us),
            operator: entry.operator.clone(),
            added: None,
            removed: None,
        }
    }
}

impl Record for BlacklistView {
    const COLUMNS: &'static [Column<BlacklistView>] = &[
        Column::field("number"),
        Column::field("reason"),
        Column::field("added_at"),
        Column::field("operator"),
    ];
}

/// One entry's output: its JSON object and its one-row table.
fn blacklist_entry_view(entry: &BlacklistView) -> View {
    View::new(
        to_json(entry),
        vec![Section::of_records(std::slice::from_ref(entry))],
    )
}

async fn blacklist_add(context: &Context, number: &str, reason: &str) -> AppResult<Output> {
    let number = account_argument("number", number)?;
    let reason = reason.trim().to_string();
    if reason.chars().count() > crate::model::TEXT_LENGTH_MAX {
        return Err(AppError::invalid_input(format!(
            "--reason: longer than {} characters",
            crate::model::TEXT_LENGTH_MAX
        )));
    }
    let store = context.store().await?;
    let added = blacklist::add(store, &context.actor, &number, &reason).await?;
    let entries = store.blacklist().await?;
    let entry = entries
        .iter()
        .find(|entry| entry.number == number)
        .ok_or_else(|| AppError::storage("the blacklist entry was not stored"))?;
    let shown = BlacklistView {
        added: Some(added),
        ..BlacklistView::from(entry)
    };
    let view = blacklist_entry_view(&shown);
    let view = if added {
        view
    } else {
        view.with_note("unchanged: the number was already on the blacklist")
    };
    Ok(Output::view(view))
}

async fn blacklist_remove(context: &Context, number: &str) -> AppResult<Output> {
    let number = account_argument("number", number)?;
    let store = context.store().await?;
    let removed = blacklist::remove(store, &context.actor, &number).await?;
    let shown = BlacklistView {
        removed: Some(true),
        ..BlacklistView::from(&removed)
    };
    Ok(Output::view(blacklist_entry_view(&shown)))
}

async fn blacklist_list(context: &Context) -> AppResult<Output> {
    let entries = context.store().await?.blacklist().await?;
    let views: Vec<BlacklistView> = entries.iter().map(BlacklistView::from).collect();
    Ok(Output::view(View::new(
        to_json(&views),
        vec![Section::of_records(&views)],
    )))
}

/// The demo's blacklist step.
pub(super) async fn blacklist_for_demo(
    context: &Context,
    number: &str,
    reason: &str,
) -> AppResult<Output> {
    blacklist_add(context, number, reason).await
}

/// The demo's rescoring step: every account as of `as_of`, critical ones frozen.
pub(super) async fn rescore_for_demo(context: &Context, as_of: &str) -> AppResult<Output> {
    rescore(
        context,
        RescoreArgs {
            account: None,
            all: true,
            as_of: Some(as_of.to_string()),
            apply: true,
            risk: RulesArg::default(),
        },
    )
    .await
}
