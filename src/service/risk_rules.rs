//! Risk assessment around posting: which rule set applies, and the `WindowAssessor` seeded
//! with just the history its windows need, for single posts and for imports.
//!
//! Rule set precedence: `--rules FILE` on the command, else the database's active set
//! (`risk rules import`), else the built-in set.

use crate::error::{AppError, AppResult};
use crate::evidence::RISK_RULE_SETS;
use crate::model::{Account, Actor, TransferKind, TransferRequest};
use crate::risk::rules::is_bank_side;
use crate::risk::{parse_rules, RuleSet, WindowAssessor};
use crate::store::{with_retry, Store, StoredRuleSet, WriteTx};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// What the command line said about rules.
#[derive(Debug, Clone, Default)]
pub(crate) struct RiskOptions {
    /// `--rules FILE`, parsed: overrides the database's active set.
    pub(crate) rules_file: Option<(String, Arc<RuleSet>)>,
}

impl RiskOptions {
    /// Read and validate `--rules FILE` (exit 4 naming the file, rule and field at fault).
    pub(crate) fn from_file(path: Option<&Path>) -> AppResult<RiskOptions> {
        let Some(path) = path else {
            return Ok(RiskOptions::default());
        };
        let rules = load_rules_file(path)?;
        Ok(RiskOptions {
            rules_file: Some((path.display().to_string(), Arc::new(rules))),
        })
    }
}

pub(crate) fn load_rules_file(path: &Path) -> AppResult<RuleSet> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| AppError::invalid_input(format!("{}: {error}", path.display())))?;
    parse_rules(&text).map_err(|error| error.context(path.display()))
}

/// Where the rules in force came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RulesSource {
    File(String),
    Database { version: i64 },
    Builtin,
}

impl RulesSource {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            RulesSource::File(_) => "file",
            RulesSource::Database { .. } => "database",
            RulesSource::Builtin => "builtin",
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            RulesSource::File(path) => format!("file {path}"),
            RulesSource::Database { version } => format!("database version {version}"),
            RulesSource::Builtin => "built-in".to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ChosenRules {
    pub(crate) rules: Arc<RuleSet>,
    pub(crate) source: RulesSource,
    /// The database row when the rules come from there.
    pub(crate) stored: Option<StoredRuleSet>,
}

fn choose(options: &RiskOptions, stored: Option<StoredRuleSet>) -> AppResult<ChosenRules> {
    if let Some((path, rules)) = &options.rules_file {
        return Ok(ChosenRules {
            rules: rules.clone(),
            source: RulesSource::File(path.clone()),
            stored: None,
        });
    }
    match stored {
        Some(stored) => {
            let rules = parse_rules(&stored.rules_toml).map_err(|error| {
                AppError::storage(format!(
                    "stored rule set version {} is not valid: {}",
                    stored.version, error.message
                ))
            })?;
            Ok(ChosenRules {
                rules: Arc::new(rules),
                source: RulesSource::Database {
                    version: stored.version,
                },
                stored: Some(stored),
            })
        }
        None => Ok(ChosenRules {
            rules: Arc::new(RuleSet::builtin()),
            source: RulesSource::Builtin,
            stored: None,
        }),
    }
}

/// The rules in force, read under the write lock.
pub(crate) async fn rules_in_tx(tx: &mut WriteTx, options: &RiskOptions) -> AppResult<ChosenRules> {
    if options.rules_file.is_some() {
        return choose(options, None);
    }
    let stored = tx.active_rule_set().await?;
    choose(options, stored)
}

/// The rules in force, for read-only commands.
pub(crate) async fn rules_for_read(store: &Store, options: &RiskOptions) -> AppResult<ChosenRules> {
    if options.rules_file.is_some() {
        return choose(options, None);
    }
    let stored = store.active_rule_set().await?;
    choose(options, stored)
}

/// Reversals and adjustments correct an assessed transfer and are not scored.
pub(crate) fn is_assessed(kind: TransferKind) -> bool {
    !matches!(kind, TransferKind::Reversal | TransferKind::Adjustment)
}

/// The assessor for one post, inside its write transaction (after the lock, so concurrent
/// posts see each other): the rules in force, the blacklist status of both sides, and the
/// paying account's history over the window the rules need, up to the transfer's instant.
pub(crate) async fn single_post_assessor(
    tx: &mut WriteTx,
    options: &RiskOptions,
    request: &TransferRequest,
    from: &Account,
) -> AppResult<WindowAssessor> {
    let chosen = rules_in_tx(tx, options).await?;
    let listed = tx
        .blacklisted_among(&[request.from.as_str(), request.to.as_str()])
        .await?;
    let mut assessor = WindowAssessor::new((*chosen.rules).clone(), listed);
    let at_us = request.at_us.unwrap_or(tx.actor.now_us);
    let window_us = assessor.history_window_us();
    // Bank-side payers skip every behavioural rule: their (large) history is not needed.
    if window_us > 0 && !is_bank_side(from.account_type) {
        let since_us = at_us.saturating_sub(window_us);
        let history = tx
            .risk_history(&[request.from.as_str()], since_us, at_us)
            .await?;
        assessor.seed_accounts(&[request.from.as_str()], history);
    }
    Ok(assessor)
}

/// The assessor of one `transfer import`: built once, then fed every row in order, so
/// windows are computed in memory. Before each batch, the paying accounts it has not seen
/// yet are seeded from the database with one query per 1,000 accounts. Valid only while
/// nobody else writes between our batches (the caller resets it otherwise).
#[derive(Default)]
pub(crate) struct ImportRisk {
    options: RiskOptions,
    assessor: Option<WindowAssessor>,
    /// Paying accounts seeded, with the instant their loaded history starts after.
    seeded_since: HashMap<String, i64>,
}

impl ImportRisk {
    pub(crate) fn new(options: RiskOptions) -> ImportRisk {
        ImportRisk {
            options,
            assessor: None,
            seeded_since: HashMap::new(),
        }
    }

    /// Forget everything: the next batch rebuilds from the database.
    pub(crate) fn reset(&mut self) {
        self.assessor = None;
        self.seeded_since.clear();
    }

    /// The assessor, ready for `requests` (accounts already loaded into `accounts`).
    pub(crate) async fn prepare<'r>(
        &mut self,
        tx: &mut WriteTx,
        accounts: &HashMap<String, Account>,
        requests: impl Iterator<Item = &'r TransferRequest> + Clone,
    ) -> AppResult<&mut WindowAssessor> {
        if self.assessor.is_none() {
            let chosen = rules_in_tx(tx, &self.options).await?;
            let blacklist = tx.blacklist_numbers().await?;
            self.assessor = Some(WindowAssessor::new((*chosen.rules).clone(), blacklist));
            self.seeded_since.clear();
        }
        let now_us = tx.actor.now_us;
        let assessor = self.assessor.as_mut().expect("built above");
        let window_us = assessor.history_window_us();
        if window_us > 0 {
            let earliest_us = requests
                .clone()
                .map(|request| request.at_us.unwrap_or(now_us))
                .min()
                .unwrap_or(now_us);
            let since_us = earliest_us.saturating_sub(window_us);
            let mut to_seed: Vec<&str> = requests
                .filter(|request| is_assessed(request.kind))
                .map(|request| request.from.as_str())
                .filter(|number| {
                    accounts
                        .get(*number)
                        .is_some_and(|account| !is_bank_side(account.account_type))
                })
                .filter(|number| {
                    self.seeded_since
                        .get(*number)
                        .is_none_or(|seeded| *seeded > since_us)
                })
                .collect();
            to_seed.sort_unstable();
            to_seed.dedup();
            if !to_seed.is_empty() {
                let history = tx.risk_history(&to_seed, since_us, i64::MAX).await?;
                assessor.seed_accounts(&to_seed, history);
                for number in to_seed {
                    self.seeded_since.insert(number.to_string(), since_us);
                }
            }
        }
        Ok(assessor)
    }
}

/// Store `rules` as the active rule set, with its audit event; `false` when it already is the
/// active one (nothing written).
pub(crate) async fn import(
    store: &Store,
    actor: &Actor,
    rules: &RuleSet,
    source: &str,
) -> AppResult<(StoredRuleSet, bool)> {
    let fingerprint = rules.version();
    let canonical = rules.to_toml();
    with_retry(|| async {
        let mut tx = store.begin_write(actor).await?;
        let previous = tx.active_rule_set().await?;
        if let Some(active) = &previous {
            if active.fingerprint == fingerprint {
                tx.rollback().await?;
                return Ok((active.clone(), false));
            }
        }
        let version = tx.insert_rule_set(&fingerprint, &canonical, source).await?;
        // The new set, and the one it took the place of (no longer active).
        let mut rows = vec![tx.bind_row(&RISK_RULE_SETS, &version.to_string()).await?];
        if let Some(previous) = &previous {
            rows.push(
                tx.bind_row(&RISK_RULE_SETS, &previous.version.to_string())
                    .await?,
            );
        }
        tx.audit_rows(
            "risk.rules.imported",
            &format!("risk_rules:{version}"),
            serde_json::json!({
                "version": version,
                "fingerprint": fingerprint,
                "source": source,
                "rules": rules.rules.iter().map(|rule| rule.name.as_str()).collect::<Vec<_>>(),
            }),
            rows,
        );
        let stored = tx
            .active_rule_set()
            .await?
            .ok_or_else(|| AppError::storage("the imported rule set is not active"))?;
        tx.commit().await?;
        Ok((stored, true))
    })
    .await
}
