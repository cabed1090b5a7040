//! Risk assessment hook used by every post. The rule engine lands with the risk issue; until
//! then every request is approved with score 0.

use crate::ledger::TransferRequest;
use crate::model::{Account, RiskResult, Transfer};

/// Scores a request before it is posted. `observe` sees every posted or rejected transfer so
/// an import can keep its windows in memory instead of querying per row.
pub trait Assessor: Send {
    fn assess(
        &mut self,
        request: &TransferRequest,
        from: &Account,
        to: &Account,
        at_us: i64,
    ) -> RiskResult;
    fn observe(&mut self, transfer: &Transfer);
}

#[derive(Debug, Default)]
pub struct ApproveAll;

impl Assessor for ApproveAll {
    fn assess(&mut self, _: &TransferRequest, _: &Account, _: &Account, _: i64) -> RiskResult {
        RiskResult::approve()
    }

    fn observe(&mut self, _: &Transfer) {}
}

/// One `fincore.risk.assess` span per assessment, with its score, level and decision. Single
/// posts use it; an import's `fincore.import.batch` span stands for its rows instead, so a
/// million-row file is not a million spans.
pub struct Traced<'a>(pub &'a mut dyn Assessor);

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
