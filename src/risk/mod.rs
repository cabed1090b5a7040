//! Risk engine: rules (TOML or built-in), per-transfer assessment over in-memory windows, and
//! account profiles for batch rescoring. Pure: no database, no clock, no I/O.
//!
//! - `rules`: the rules file, `parse_rules`, `RuleSet` (canonical TOML, version).
//! - `builtin`: `RuleSet::builtin()`, the spec's defaults.
//! - `assess`: capped scoring (`score_factors`), factor wording.
//! - `window`: `WindowAssessor`, the `Assessor` the ledger uses for posts and imports.
//! - `profile`: `profile`, `score_profile` for `risk rescore`.
//! - `rescore`: `rescore_all`, every account on several threads.
//!
//! Decisions where the spec is silent (for the README):
//! - Features are about the paying account (`from`). Counts and sums include the transfer
//!   being assessed ("more than 10 in the last hour": the 11th fires); failed attempts count
//!   earlier rejected transfers only. Distinct counterparties: posted movements either way.
//! - Rolling windows are `(at − length, at]`; `today` is the transfer's UTC calendar day.
//!   Events after the assessed instant (back-dated rows) are outside its windows.
//! - Blacklist: fires when either the sending or the receiving account is listed.
//! - Settlement and internal payers (deposits, fees) skip the behavioural features (velocity,
//!   totals, failures, distinct counterparties, age, dormancy): they carry the bank's own
//!   flows. Bank-side accounts are never scored by `risk rescore` (never frozen).
//! - Reversals and adjustments are not scored (approve): they correct an assessed transfer.
//! - Capped score: rules count in file order; the factor crossing 100 keeps the points that fit.
//! - Money thresholds finer than a currency ("0.5" JPY) are compared exactly, not rounded.

pub(crate) mod assess;
pub(crate) mod builtin;
mod movement;
pub(crate) mod parse;
pub mod profile;
pub(crate) mod rescore;
pub(crate) mod rules;
pub(crate) mod window;

#[cfg(test)]
mod profile_tests;
#[cfg(test)]
mod rules_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod window_tests;

pub use movement::Movements;
pub use parse::parse_rules;
pub use profile::{profile, score_profile, Profile};
pub use rescore::{rescore_all, rescore_movements, rescore_tasks};
pub use rules::RuleSet;
pub use window::WindowAssessor;

use crate::model::TransferRequest;
use crate::model::{Account, RiskResult, Transfer};

/// What the ledger asks before every post and import row, and tells after it.
pub trait Assessor: Send {
    fn assess(
        &mut self,
        request: &TransferRequest,
        from: &Account,
        to: &Account,
        at_us: i64,
    ) -> RiskResult;
    fn observe(&mut self, transfer: &Transfer); // every posted or rejected transfer, in order
}

/// Approves everything (score 0): for tests and for running without risk.
#[derive(Debug, Default)]
pub(crate) struct ApproveAll;

impl Assessor for ApproveAll {
    fn assess(
        &mut self,
        _request: &TransferRequest,
        _from: &Account,
        _to: &Account,
        _at_us: i64,
    ) -> RiskResult {
        RiskResult::approve()
    }

    fn observe(&mut self, _transfer: &Transfer) {}
}

/// One `fincore.risk.assess` span per assessment, with its score, level and decision. Single
/// posts use it; an import's `fincore.import.batch` span stands for its rows instead, so a
/// million-row file is not a million spans.
pub(crate) struct Traced<'a>(pub &'a mut dyn Assessor);

impl Assessor for Traced<'_> {
    fn assess(
        &mut self,
        request: &TransferRequest,
        from: &Account,
        to: &Account,
        at_us: i64,
    ) -> RiskResult {
        let span = tracing::info_span!(
            target: "fincore",
            "fincore.risk.assess",
            fincore.risk.score = tracing::field::Empty,
            fincore.risk.level = tracing::field::Empty,
            fincore.risk.decision = tracing::field::Empty,
        );
        let _entered = span.enter();
        let result = self.0.assess(request, from, to, at_us);
        span.record("fincore.risk.score", i64::from(result.score));
        span.record("fincore.risk.level", result.level.as_str());
        span.record("fincore.risk.decision", result.decision.as_str());
        result
    }

    fn observe(&mut self, transfer: &Transfer) {
        self.0.observe(transfer);
    }
}
