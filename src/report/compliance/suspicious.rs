//! Suspicious-activity patterns per customer account (SPEC "suspicious"):
//!
//! * `rapid_in_out`: an inbound movement of at least `rapid_inbound_min` of which at least
//!   `rapid_out_share_percent` leaves the account within `rapid_window_us` (inclusive).
//!   Outflows are attributed to inflows first-in first-out, each unit of money once, so one
//!   outflow never justifies two inflows; inflows under the minimum still absorb outflows
//!   (money is fungible) but are not reported.
//! * `high_risk_account`: the account's latest risk level is at least `high_risk_level_min`.
//! * `dormant_reactivation`: a movement at least `dormant_gap_us` after the previous one (or
//!   after the account was opened), followed within `dormant_follow_up_us` by movements of at
//!   least `dormant_large_amount` (the reactivating one included). The follow-up window
//!   catches the common "small test payment, then the real one"; set it to 0 to look at the
//!   reactivating movement alone.
//! * `round_amount`: at least `round_count_min` movements in the period, in or out, each an
//!   exact multiple of `round_unit` and at least `round_amount_min`.
//!
//! Movements are transfers of kind transfer, deposit and withdrawal; reversals and
//! adjustments are bank corrections, not customer behaviour, and are ignored by every
//! pattern. Settlement and internal accounts are the bank's own and are never profiled.
//! Events are reported when they happen inside `from_us..=to_us`; history before the period
//! (dormancy) and outflows after an inflow (rapid in-out) are read from whatever transfers
//! the caller passes. Transfers are taken in time order (then id), sorted here if the
//! caller's are not.

use super::mask::mask_unless;
use super::{
    instant_text, serialize_currency, AccountFact, Amount, AmountTable, ResolvedFacts,
    TransferFact, TO_SIDE,
};
use crate::clock::MICROS_PER_DAY;
use crate::error::{AppError, AppResult};
use crate::model::{RiskLevel, TransferKind};
use crate::money::Currency;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};

const MICROS_PER_HOUR: i64 = MICROS_PER_DAY / 24;
const PERCENT_MAX: u32 = 100;

pub(crate) const DEFAULT_RAPID_OUT_SHARE_PERCENT: u32 = 90;
pub(crate) const DEFAULT_RAPID_WINDOW_US: i64 = 24 * MICROS_PER_HOUR;
pub(crate) const DEFAULT_RAPID_INBOUND_MIN: &str = "5000";
pub(crate) const DEFAULT_HIGH_RISK_LEVEL_MIN: RiskLevel = RiskLevel::High;
pub(crate) const DEFAULT_DORMANT_GAP_US: i64 = 180 * MICROS_PER_DAY;
pub(crate) const DEFAULT_DORMANT_LARGE_AMOUNT: &str = "10000";
pub(crate) const DEFAULT_DORMANT_FOLLOW_UP_US: i64 = 30 * MICROS_PER_DAY;
pub(crate) const DEFAULT_ROUND_UNIT: &str = "1000";
pub(crate) const DEFAULT_ROUND_AMOUNT_MIN: &str = "5000";
pub(crate) const DEFAULT_ROUND_COUNT_MIN: usize = 3;

/// Parameters of the suspicious patterns. Amounts are decimal text read in each account's
/// currency (like the CTR threshold), so `"1000"` is 1,000.00 USD or 1,000 JPY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuspiciousParams {
    /// Share of an inflow that must leave within the window, 1–100 (default 90).
    pub(crate) rapid_out_share_percent: u32,
    /// How long after an inflow outflows count, inclusive (default 24 h).
    pub(crate) rapid_window_us: i64,
    /// Smallest inflow worth reporting (default `"5000"`, half the CTR threshold): spending
    /// a salary on bills within a day is rapid in-and-out too, but not suspicious.
    pub(crate) rapid_inbound_min: String,
    /// Lowest latest risk level reported (default `High`, so high and critical).
    pub(crate) high_risk_level_min: RiskLevel,
    /// Silence that makes an account dormant, inclusive (default 180 days).
    pub(crate) dormant_gap_us: i64,
    /// Movement size that makes a reactivation suspicious, inclusive (default `"10000"`).
    pub(crate) dormant_large_amount: String,
    /// How long after reactivation large movements still count (default 30 days).
    pub(crate) dormant_follow_up_us: i64,
    /// Amounts that are exact multiples of this are round (default `"1000"`).
    pub(crate) round_unit: String,
    /// Smallest round amount that counts, inclusive (default `"5000"`).
    pub(crate) round_amount_min: String,
    /// Round movements per account in the period needed for a finding (default 3): a single
    /// round payment (rent, a car) is ordinary, a habit of them is a pattern.
    pub(crate) round_count_min: usize,
}

impl Default for SuspiciousParams {
    fn default() -> SuspiciousParams {
        SuspiciousParams {
            rapid_out_share_percent: DEFAULT_RAPID_OUT_SHARE_PERCENT,
            rapid_window_us: DEFAULT_RAPID_WINDOW_US,
            rapid_inbound_min: DEFAULT_RAPID_INBOUND_MIN.to_string(),
            high_risk_level_min: DEFAULT_HIGH_RISK_LEVEL_MIN,
            dormant_gap_us: DEFAULT_DORMANT_GAP_US,
            dormant_large_amount: DEFAULT_DORMANT_LARGE_AMOUNT.to_string(),
            dormant_follow_up_us: DEFAULT_DORMANT_FOLLOW_UP_US,
            round_unit: DEFAULT_ROUND_UNIT.to_string(),
            round_amount_min: DEFAULT_ROUND_AMOUNT_MIN.to_string(),
            round_count_min: DEFAULT_ROUND_COUNT_MIN,
        }
    }
}

impl SuspiciousParams {
    fn validate(&self) -> AppResult<()> {
        let problem = if !(1..=PERCENT_MAX).contains(&self.rapid_out_share_percent) {
            "rapid_out_share_percent must be between 1 and 100"
        } else if self.rapid_window_us <= 0 {
            "rapid_window_us must be positive"
        } else if self.dormant_gap_us <= 0 {
            "dormant_gap_us must be positive"
        } else if self.dormant_follow_up_us < 0 {
            "dormant_follow_up_us must not be negative"
        } else if self.round_count_min == 0 {
            "round_count_min must be at least 1"
        } else {
            return Ok(());
        };
        Err(AppError::invalid_input(problem))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuspiciousPattern {
    RapidInOut,
    HighRiskAccount,
    DormantReactivation,
    RoundAmount,
}

impl SuspiciousPattern {
    pub fn as_str(self) -> &'static str {
        match self {
            SuspiciousPattern::RapidInOut => "rapid_in_out",
            SuspiciousPattern::HighRiskAccount => "high_risk_account",
            SuspiciousPattern::DormantReactivation => "dormant_reactivation",
            SuspiciousPattern::RoundAmount => "round_amount",
        }
    }
}

/// One pattern on one account. `amount` is the sum the pattern is about: the inflow
/// (rapid_in_out), the large movements (dormant_reactivation), the round movements
/// (round_amount); none for high_risk_account. `detail` never contains account numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuspiciousFinding {
    pub pattern: SuspiciousPattern,
    pub account: String,
    pub holder: String,
    #[serde(serialize_with = "serialize_currency")]
    pub currency: Currency,
    pub amount: Option<Amount>,
    /// When the pattern starts (first transfer involved); none for high_risk_account.
    pub at: Option<String>,
    pub transfer_ids: Vec<i64>,
    pub detail: String,
}

impl SuspiciousFinding {
    pub(crate) fn masked(mut self, unmask: bool) -> SuspiciousFinding {
        self.account = mask_unless(self.account, unmask);
        self
    }
}

/// Amount parameters in one currency's minor units.
#[derive(Debug, Clone, Copy, Default)]
struct CurrencyLimits {
    rapid_inbound_min_minor: i64,
    dormant_large_minor: i64,
    round_unit_minor: i64,
    round_amount_min_minor: i64,
}

/// One movement of one account.
#[derive(Debug, Clone, Copy)]
struct Movement {
    at_us: i64,
    transfer_id: i64,
    amount_minor: i64,
    is_inbound: bool,
}

/// What every account's checks share.
struct Checks<'a> {
    params: &'a SuspiciousParams,
    from_us: i64,
    to_us: i64,
}

/// One account with its facts and limits, for one check.
struct AccountContext<'a> {
    account: &'a AccountFact,
    limits: CurrencyLimits,
    checks: &'a Checks<'a>,
}

impl AccountContext<'_> {
    fn params(&self) -> &SuspiciousParams {
        self.checks.params
    }

    fn in_period(&self, at_us: i64) -> bool {
        (self.checks.from_us..=self.checks.to_us).contains(&at_us)
    }

    fn amount(&self, minor: impl Into<i128>) -> Amount {
        Amount::new(minor, self.account.currency)
    }

    fn finding(
        &self,
        pattern: SuspiciousPattern,
        amount: Option<Amount>,
        at_us: Option<i64>,
        transfer_ids: Vec<i64>,
        detail: String,
    ) -> SuspiciousFinding {
        SuspiciousFinding {
            pattern,
            account: self.account.number.clone(),
            holder: self.account.holder.clone(),
            currency: self.account.currency,
            amount,
            at: at_us.map(instant_text),
            transfer_ids,
            detail,
        }
    }
}

/// Every pattern over the customer accounts, for events inside `from_us..=to_us`.
/// Findings are sorted by pattern, holder, account and time. Errors when a parameter is
/// out of range or an amount parameter cannot be expressed in an account's currency.
pub fn suspicious(
    transfers: &[TransferFact],
    accounts: &[AccountFact],
    params: &SuspiciousParams,
    from_us: i64,
    to_us: i64,
) -> AppResult<Vec<SuspiciousFinding>> {
    find(
        &ResolvedFacts::new(transfers, accounts),
        params,
        from_us,
        to_us,
    )
}

/// [`suspicious`] over an already resolved ledger: one pass over the transfers in time
/// order feeds each customer account's running state (open inflows, last activity, round
/// movements), so no per-account history is materialised.
pub(super) fn find(
    ledger: &ResolvedFacts<'_>,
    params: &SuspiciousParams,
    from_us: i64,
    to_us: i64,
) -> AppResult<Vec<SuspiciousFinding>> {
    params.validate()?;
    let limits = limits_by_position(ledger.accounts, params)?;
    let checks = Checks {
        params,
        from_us,
        to_us,
    };
    let mut states: Vec<AccountState> = ledger
        .accounts
        .iter()
        .map(|account| AccountState::new(account.created_at_us))
        .collect();
    let mut findings = Vec::new();
    for index in time_order(ledger.transfers) {
        let transfer = &ledger.transfers[index];
        if !is_movement(transfer.kind) {
            continue;
        }
        for (side, position) in ledger.sides[index].iter().enumerate() {
            let Some(account) = ledger.account(*position).filter(|a| a.is_customer()) else {
                continue;
            };
            let context = AccountContext {
                account,
                limits: limits[*position as usize],
                checks: &checks,
            };
            let movement = Movement {
                at_us: transfer.at_us,
                transfer_id: transfer.id,
                amount_minor: transfer.amount_minor,
                is_inbound: side == TO_SIDE,
            };
            states[*position as usize].record(&context, movement, &mut findings);
        }
    }
    for ((account, state), limits) in ledger.accounts.iter().zip(states).zip(limits) {
        if account.is_customer() {
            state.finish(
                &AccountContext {
                    account,
                    limits,
                    checks: &checks,
                },
                &mut findings,
            );
        }
    }
    findings.sort_by(|left, right| {
        (
            left.pattern,
            &left.holder,
            &left.account,
            &left.at,
            &left.transfer_ids,
        )
            .cmp(&(
                right.pattern,
                &right.holder,
                &right.account,
                &right.at,
                &right.transfer_ids,
            ))
    });
    Ok(findings)
}

/// Transfer indices by time then id; the database usually delivers them in that order
/// already, which one comparison pass confirms.
fn time_order(transfers: &[TransferFact]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..transfers.len()).collect();
    let key = |index: &usize| (transfers[*index].at_us, transfers[*index].id);
    let is_sorted = transfers
        .windows(2)
        .all(|pair| (pair[0].at_us, pair[0].id) <= (pair[1].at_us, pair[1].id));
    if !is_sorted {
        order.sort_unstable_by_key(key);
    }
    order
}

/// Each account's limits in its currency (customer accounts only; others never use them).
fn limits_by_position(
    accounts: &[AccountFact],
    params: &SuspiciousParams,
) -> AppResult<Vec<CurrencyLimits>> {
    let mut rapid = AmountTable::new(&params.rapid_inbound_min, None);
    let mut dormant = AmountTable::new(&params.dormant_large_amount, None);
    let mut unit = AmountTable::new(&params.round_unit, None);
    let mut round_min = AmountTable::new(&params.round_amount_min, None);
    let mut by_currency: HashMap<Currency, CurrencyLimits> = HashMap::new();
    let mut limits = Vec::with_capacity(accounts.len());
    for account in accounts {
        if !account.is_customer() {
            limits.push(CurrencyLimits::default());
            continue;
        }
        let currency = account.currency;
        let currency_limits = match by_currency.get(&currency) {
            Some(known) => *known,
            None => {
                let resolved = CurrencyLimits {
                    rapid_inbound_min_minor: rapid.minor(currency, "rapid_inbound_min")?,
                    dormant_large_minor: dormant.minor(currency, "dormant_large_amount")?,
                    round_unit_minor: unit.minor(currency, "round_unit")?,
                    round_amount_min_minor: round_min.minor(currency, "round_amount_min")?,
                };
                by_currency.insert(currency, resolved);
                resolved
            }
        };
        limits.push(currency_limits);
    }
    Ok(limits)
}

fn is_movement(kind: TransferKind) -> bool {
    matches!(
        kind,
        TransferKind::Transfer | TransferKind::Deposit | TransferKind::Withdrawal
    )
}

/// An inflow still inside its window, with the outflows attributed to it so far.
struct OpenInflow {
    inflow: Movement,
    unmatched_minor: i64,
    out_minor: i128,
    out_transfer_ids: Vec<i64>,
}

/// A reactivation whose follow-up window is still open.
struct Reactivation {
    first: Movement,
    silent_since_us: i64,
    large: Vec<Movement>,
}

/// One customer account's running state while the transfers stream past in time order.
struct AccountState {
    open_inflows: VecDeque<OpenInflow>,
    last_activity_us: i64,
    reactivation: Option<Reactivation>,
    round_movements: Vec<Movement>,
    period_movements: usize,
    period_in_minor: i128,
    period_out_minor: i128,
}

impl AccountState {
    fn new(created_at_us: i64) -> AccountState {
        AccountState {
            open_inflows: VecDeque::new(),
            last_activity_us: created_at_us,
            reactivation: None,
            round_movements: Vec::new(),
            period_movements: 0,
            period_in_minor: 0,
            period_out_minor: 0,
        }
    }

    fn record(
        &mut self,
        context: &AccountContext<'_>,
        movement: Movement,
        found: &mut Vec<SuspiciousFinding>,
    ) {
        self.track_rapid_in_out(context, movement, found);
        self.track_dormancy(context, movement, found);
        self.track_round_amount(context, movement);
        self.track_period_activity(context, movement);
    }

    /// Close everything still open once every transfer has been seen.
    fn finish(mut self, context: &AccountContext<'_>, found: &mut Vec<SuspiciousFinding>) {
        for inflow in std::mem::take(&mut self.open_inflows) {
            close_inflow(context, inflow, found);
        }
        if let Some(reactivation) = self.reactivation.take() {
            close_reactivation(context, reactivation, found);
        }
        round_amount(context, &self.round_movements, found);
        high_risk_account(context, &self, found);
    }

    /// FIFO attribution of outflows to the inflows still inside their window.
    fn track_rapid_in_out(
        &mut self,
        context: &AccountContext<'_>,
        movement: Movement,
        found: &mut Vec<SuspiciousFinding>,
    ) {
        let window_us = context.params().rapid_window_us;
        while let Some(front) = self.open_inflows.front() {
            if movement.at_us - front.inflow.at_us <= window_us {
                break;
            }
            let expired = self.open_inflows.pop_front().expect("front exists");
            close_inflow(context, expired, found);
        }
        if movement.is_inbound {
            self.open_inflows.push_back(OpenInflow {
                inflow: movement,
                unmatched_minor: movement.amount_minor,
                out_minor: 0,
                out_transfer_ids: Vec::new(),
            });
            return;
        }
        let mut outflow_left_minor = movement.amount_minor;
        while outflow_left_minor > 0 {
            let Some(front) = self.open_inflows.front_mut() else {
                break;
            };
            let taken_minor = outflow_left_minor.min(front.unmatched_minor);
            front.unmatched_minor -= taken_minor;
            front.out_minor += i128::from(taken_minor);
            front.out_transfer_ids.push(movement.transfer_id);
            outflow_left_minor -= taken_minor;
            if front.unmatched_minor == 0 {
                // Fully spent: nothing more can be attributed to it.
                let spent = self.open_inflows.pop_front().expect("front exists");
                close_inflow(context, spent, found);
            }
        }
    }

    fn track_dormancy(
        &mut self,
        context: &AccountContext<'_>,
        movement: Movement,
        found: &mut Vec<SuspiciousFinding>,
    ) {
        let params = context.params();
        let follow_up_over = self
            .reactivation
            .as_ref()
            .is_some_and(|open| movement.at_us - open.first.at_us > params.dormant_follow_up_us);
        if follow_up_over {
            let over = self.reactivation.take().expect("checked above");
            close_reactivation(context, over, found);
        }
        let silence_us = movement.at_us - self.last_activity_us;
        if silence_us >= params.dormant_gap_us && context.in_period(movement.at_us) {
            if let Some(previous) = self.reactivation.take() {
                close_reactivation(context, previous, found);
            }
            self.reactivation = Some(Reactivation {
                first: movement,
                silent_since_us: self.last_activity_us,
                large: Vec::new(),
            });
        }
        if let Some(open) = self.reactivation.as_mut() {
            if movement.amount_minor >= context.limits.dormant_large_minor {
                open.large.push(movement);
            }
        }
        self.last_activity_us = movement.at_us;
    }

    fn track_round_amount(&mut self, context: &AccountContext<'_>, movement: Movement) {
        let limits = &context.limits;
        let is_round = movement.amount_minor >= limits.round_amount_min_minor
            && movement.amount_minor % limits.round_unit_minor == 0;
        if is_round && context.in_period(movement.at_us) {
            self.round_movements.push(movement);
        }
    }

    fn track_period_activity(&mut self, context: &AccountContext<'_>, movement: Movement) {
        if !context.in_period(movement.at_us) {
            return;
        }
        self.period_movements += 1;
        if movement.is_inbound {
            self.period_in_minor += i128::from(movement.amount_minor);
        } else {
            self.period_out_minor += i128::from(movement.amount_minor);
        }
    }
}

fn close_inflow(
    context: &AccountContext<'_>,
    open: OpenInflow,
    found: &mut Vec<SuspiciousFinding>,
) {
    let inflow = open.inflow;
    let in_minor = i128::from(inflow.amount_minor);
    let share_percent = i128::from(context.params().rapid_out_share_percent);
    let qualifies = context.in_period(inflow.at_us)
        && inflow.amount_minor >= context.limits.rapid_inbound_min_minor
        && open.out_minor * 100 >= share_percent * in_minor;
    if !qualifies {
        return;
    }
    let detail = format!(
        "{} in (transfer {}); {} ({}%) out within {} h in transfers {}",
        context.amount(in_minor),
        inflow.transfer_id,
        context.amount(open.out_minor),
        open.out_minor * 100 / in_minor,
        context.params().rapid_window_us / MICROS_PER_HOUR,
        join_ids(&open.out_transfer_ids),
    );
    let mut transfer_ids = vec![inflow.transfer_id];
    transfer_ids.extend(&open.out_transfer_ids);
    let amount = Some(context.amount(in_minor));
    found.push(context.finding(
        SuspiciousPattern::RapidInOut,
        amount,
        Some(inflow.at_us),
        transfer_ids,
        detail,
    ));
}

fn high_risk_account(
    context: &AccountContext<'_>,
    state: &AccountState,
    found: &mut Vec<SuspiciousFinding>,
) {
    let Some(level) = context.account.risk_level else {
        return;
    };
    if level < context.params().high_risk_level_min {
        return;
    }
    let detail = format!(
        "latest risk level {}; {} movements in the period: {} in, {} out",
        level.as_str(),
        state.period_movements,
        context.amount(state.period_in_minor),
        context.amount(state.period_out_minor),
    );
    found.push(context.finding(
        SuspiciousPattern::HighRiskAccount,
        None,
        None,
        Vec::new(),
        detail,
    ));
}

fn close_reactivation(
    context: &AccountContext<'_>,
    reactivation: Reactivation,
    found: &mut Vec<SuspiciousFinding>,
) {
    let Reactivation {
        first,
        silent_since_us,
        large,
    } = reactivation;
    if large.is_empty() {
        return;
    }
    let large_minor: i128 = large.iter().map(|m| i128::from(m.amount_minor)).sum();
    let described: Vec<String> = large
        .iter()
        .map(|m| {
            let direction = if m.is_inbound { "in" } else { "out" };
            format!(
                "{} {} (transfer {})",
                context.amount(m.amount_minor),
                direction,
                m.transfer_id
            )
        })
        .collect();
    let detail = format!(
        "no movement for {} days (since {}); reactivated by transfer {}; movements of at least {} within {} days: {}",
        (first.at_us - silent_since_us) / MICROS_PER_DAY,
        instant_text(silent_since_us),
        first.transfer_id,
        context.amount(context.limits.dormant_large_minor),
        context.params().dormant_follow_up_us / MICROS_PER_DAY,
        described.join(", "),
    );
    let mut transfer_ids: Vec<i64> = std::iter::once(first.transfer_id)
        .chain(large.iter().map(|m| m.transfer_id))
        .collect();
    transfer_ids.dedup();
    let amount = Some(context.amount(large_minor));
    found.push(context.finding(
        SuspiciousPattern::DormantReactivation,
        amount,
        Some(first.at_us),
        transfer_ids,
        detail,
    ));
}

fn round_amount(
    context: &AccountContext<'_>,
    round: &[Movement],
    found: &mut Vec<SuspiciousFinding>,
) {
    if round.is_empty() || round.len() < context.params().round_count_min {
        return;
    }
    let limits = &context.limits;
    let total_minor: i128 = round.iter().map(|m| i128::from(m.amount_minor)).sum();
    let inbound_count = round.iter().filter(|m| m.is_inbound).count();
    let detail = format!(
        "{} movements in exact multiples of {} of at least {} ({} in, {} out), total {}",
        round.len(),
        context.amount(limits.round_unit_minor),
        context.amount(limits.round_amount_min_minor),
        inbound_count,
        round.len() - inbound_count,
        context.amount(total_minor),
    );
    let transfer_ids = round.iter().map(|m| m.transfer_id).collect();
    let amount = Some(context.amount(total_minor));
    found.push(context.finding(
        SuspiciousPattern::RoundAmount,
        amount,
        Some(round[0].at_us),
        transfer_ids,
        detail,
    ));
}

fn join_ids(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    const ANN: &str = "ACC0000000000001";
    const BOB: &str = "ACC0000000000002";

    fn bank() -> Vec<AccountFact> {
        vec![
            settlement(),
            customer(ANN, "Ann Lee"),
            customer(BOB, "Bob Roe"),
        ]
    }

    fn pay(id: i64, from: &str, to: &str, amount: &str, at: &str) -> TransferFact {
        transfer(id, TransferKind::Transfer, from, to, amount, at)
    }

    fn run_with(
        transfers: &[TransferFact],
        accounts: &[AccountFact],
        params: &SuspiciousParams,
    ) -> Vec<SuspiciousFinding> {
        let (from, to) = (
            instant("2026-01-01T00:00:00Z"),
            instant("2026-12-31T23:59:59.999999Z"),
        );
        suspicious(transfers, accounts, params, from, to).unwrap()
    }

    fn run(transfers: &[TransferFact], pattern: SuspiciousPattern) -> Vec<SuspiciousFinding> {
        run_with(transfers, &bank(), &SuspiciousParams::default())
            .into_iter()
            .filter(|finding| finding.pattern == pattern)
            .collect()
    }

    /// Ann's dormancy findings (Bob, a counterparty, has his own first-movement dormancy).
    fn dormant_for_ann(transfers: &[TransferFact]) -> Vec<SuspiciousFinding> {
        let mut findings = run(transfers, SuspiciousPattern::DormantReactivation);
        findings.retain(|finding| finding.account == ANN);
        findings
    }

    #[test]
    fn rapid_in_out_at_ninety_percent_within_a_day() {
        let findings = run(
            &[
                deposit(1, ANN, "10000.00", "2026-03-01T10:00:00Z"),
                pay(2, ANN, BOB, "5000.00", "2026-03-01T12:00:00Z"),
                withdrawal(3, ANN, "4000.00", "2026-03-02T10:00:00Z"),
            ],
            SuspiciousPattern::RapidInOut,
        );
        assert_eq!(findings.len(), 1);
        let finding = &findings[0];
        assert_eq!(
            (finding.account.as_str(), finding.holder.as_str()),
            (ANN, "Ann Lee")
        );
        assert_eq!(finding.transfer_ids, vec![1, 2, 3]);
        assert_eq!(finding.amount.unwrap().to_string(), "10000.00");
        assert_eq!(
            finding.detail,
            "10000.00 in (transfer 1); 9000.00 (90%) out within 24 h in transfers 2, 3"
        );
    }

    #[test]
    fn rapid_in_out_boundaries() {
        let below_share = run(
            &[
                deposit(1, ANN, "10000.00", "2026-03-01T10:00:00Z"),
                withdrawal(2, ANN, "8999.99", "2026-03-01T11:00:00Z"),
            ],
            SuspiciousPattern::RapidInOut,
        );
        assert!(below_share.is_empty());
        let one_microsecond_late = run(
            &[
                deposit(1, ANN, "10000.00", "2026-03-01T10:00:00Z"),
                withdrawal(2, ANN, "10000.00", "2026-03-02T10:00:00.000001Z"),
            ],
            SuspiciousPattern::RapidInOut,
        );
        assert!(one_microsecond_late.is_empty());
        let small_inflow = run(
            &[
                deposit(1, ANN, "4999.99", "2026-03-01T10:00:00Z"),
                withdrawal(2, ANN, "4999.99", "2026-03-01T11:00:00Z"),
            ],
            SuspiciousPattern::RapidInOut,
        );
        assert!(small_inflow.is_empty());
        let exactly_on_the_edges = run(
            &[
                deposit(1, ANN, "5000.00", "2026-03-01T10:00:00Z"),
                withdrawal(2, ANN, "4500.00", "2026-03-02T10:00:00Z"),
            ],
            SuspiciousPattern::RapidInOut,
        );
        assert_eq!(
            exactly_on_the_edges.len(),
            1,
            "minimum, 90% and 24 h are inclusive"
        );
    }

    #[test]
    fn transfers_out_of_time_order_are_sorted_first() {
        let findings = run(
            &[
                withdrawal(2, ANN, "10000.00", "2026-03-01T11:00:00Z"),
                deposit(1, ANN, "10000.00", "2026-03-01T10:00:00Z"),
            ],
            SuspiciousPattern::RapidInOut,
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].transfer_ids, vec![1, 2]);
    }

    #[test]
    fn one_outflow_is_not_counted_for_two_inflows() {
        let findings = run(
            &[
                deposit(1, ANN, "10000.00", "2026-03-01T10:00:00Z"),
                pay(2, BOB, ANN, "10000.00", "2026-03-01T11:00:00Z"),
                withdrawal(3, ANN, "10000.00", "2026-03-01T12:00:00Z"),
            ],
            SuspiciousPattern::RapidInOut,
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].transfer_ids, vec![1, 3]);
    }

    #[test]
    fn outflows_before_the_inflow_do_not_count() {
        let findings = run(
            &[
                withdrawal(1, ANN, "10000.00", "2026-03-01T09:00:00Z"),
                deposit(2, ANN, "10000.00", "2026-03-01T10:00:00Z"),
            ],
            SuspiciousPattern::RapidInOut,
        );
        assert!(findings.is_empty());
    }

    #[test]
    fn high_risk_accounts_at_or_above_the_level() {
        let mut accounts = bank();
        accounts[1].risk_level = Some(RiskLevel::High);
        accounts[2].risk_level = Some(RiskLevel::Medium);
        let transfers = [
            deposit(1, ANN, "100.00", "2026-03-01T10:00:00Z"),
            withdrawal(2, ANN, "30.00", "2026-03-02T10:00:00Z"),
        ];
        let findings = run_with(&transfers, &accounts, &SuspiciousParams::default());
        let high: Vec<_> = findings
            .iter()
            .filter(|f| f.pattern == SuspiciousPattern::HighRiskAccount)
            .collect();
        assert_eq!(high.len(), 1);
        assert_eq!(high[0].account, ANN);
        assert_eq!(
            high[0].detail,
            "latest risk level high; 2 movements in the period: 100.00 in, 30.00 out"
        );

        accounts[1].risk_level = Some(RiskLevel::Critical);
        let params = SuspiciousParams {
            high_risk_level_min: RiskLevel::Critical,
            ..SuspiciousParams::default()
        };
        let critical_only = run_with(&transfers, &accounts, &params);
        assert_eq!(
            critical_only
                .iter()
                .filter(|f| f.pattern == SuspiciousPattern::HighRiskAccount)
                .count(),
            1
        );
    }

    #[test]
    fn dormant_reactivation_after_exactly_180_days() {
        let findings = dormant_for_ann(&[
            deposit(1, ANN, "50.00", "2025-09-01T10:00:00Z"),
            pay(2, ANN, BOB, "10000.00", "2026-02-28T10:00:00Z"),
        ]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].transfer_ids, vec![2]);
        assert!(
            findings[0]
                .detail
                .starts_with("no movement for 180 days (since 2025-09-01T10:00:00Z)"),
            "{}",
            findings[0].detail
        );

        let one_microsecond_short = dormant_for_ann(&[
            deposit(1, ANN, "50.00", "2025-09-01T10:00:00Z"),
            pay(2, ANN, BOB, "10000.00", "2026-02-28T09:59:59.999999Z"),
        ]);
        assert!(one_microsecond_short.is_empty());
    }

    #[test]
    fn dormant_reactivation_needs_a_large_movement_and_follows_a_test_payment() {
        let small = dormant_for_ann(&[
            deposit(1, ANN, "50.00", "2025-06-01T10:00:00Z"),
            pay(2, ANN, BOB, "9999.99", "2026-03-01T10:00:00Z"),
        ]);
        assert!(small.is_empty());
        let test_then_large = dormant_for_ann(&[
            deposit(1, ANN, "50.00", "2025-06-01T10:00:00Z"),
            pay(2, ANN, BOB, "1.00", "2026-03-01T10:00:00Z"),
            deposit(3, ANN, "25000.00", "2026-03-20T10:00:00Z"),
            deposit(4, ANN, "25000.00", "2026-04-20T10:00:00Z"),
        ]);
        assert_eq!(test_then_large.len(), 1);
        assert_eq!(test_then_large[0].transfer_ids, vec![2, 3]);
        assert_eq!(test_then_large[0].amount.unwrap().to_string(), "25000.00");
        // Only the counterparty BOB was active; a new account counts from its opening.
        let never_used = run(
            &[pay(1, BOB, ANN, "10000.00", "2026-03-01T10:00:00Z")],
            SuspiciousPattern::DormantReactivation,
        );
        assert_eq!(
            never_used
                .iter()
                .map(|f| f.account.as_str())
                .collect::<Vec<_>>(),
            vec![ANN, BOB]
        );
    }

    #[test]
    fn round_amounts_need_three_exact_multiples_at_or_above_the_minimum() {
        let transfers = [
            pay(1, ANN, BOB, "5000.00", "2026-03-01T10:00:00Z"),
            pay(2, BOB, ANN, "7000.00", "2026-03-02T10:00:00Z"),
            pay(3, ANN, BOB, "4000.00", "2026-03-03T10:00:00Z"),
            pay(4, ANN, BOB, "6000.01", "2026-03-04T10:00:00Z"),
            pay(5, ANN, BOB, "20000.00", "2026-03-05T10:00:00Z"),
        ];
        let findings = run(&transfers, SuspiciousPattern::RoundAmount);
        assert_eq!(findings.len(), 2, "{findings:?}");
        assert_eq!(findings[0].account, ANN);
        assert_eq!(findings[0].transfer_ids, vec![1, 2, 5]);
        assert_eq!(findings[0].amount.unwrap().to_string(), "32000.00");
        assert_eq!(
            findings[0].detail,
            "3 movements in exact multiples of 1000.00 of at least 5000.00 (1 in, 2 out), total 32000.00"
        );
        let two_only = run(&transfers[..4], SuspiciousPattern::RoundAmount);
        assert!(two_only.is_empty());
    }

    #[test]
    fn settlement_accounts_reversals_and_out_of_period_events_are_ignored() {
        let transfers = [
            deposit(1, ANN, "10000.00", "2025-12-31T23:00:00Z"),
            withdrawal(2, ANN, "10000.00", "2026-01-01T01:00:00Z"),
            transfer(
                3,
                TransferKind::Reversal,
                BOB,
                ANN,
                "10000.00",
                "2026-03-01T10:00:00Z",
            ),
            transfer(
                4,
                TransferKind::Reversal,
                ANN,
                BOB,
                "10000.00",
                "2026-03-01T11:00:00Z",
            ),
        ];
        let findings = run_with(&transfers, &bank(), &SuspiciousParams::default());
        assert!(findings.iter().all(|f| f.account != SETTLEMENT));
        assert!(
            findings
                .iter()
                .all(|f| f.pattern != SuspiciousPattern::RapidInOut),
            "{findings:?}"
        );
    }

    #[test]
    fn parameters_are_validated_and_amounts_read_per_currency() {
        let params = SuspiciousParams {
            rapid_out_share_percent: 101,
            ..SuspiciousParams::default()
        };
        let error = suspicious(&[], &bank(), &params, 0, 1).unwrap_err();
        assert_eq!(
            error.message,
            "rapid_out_share_percent must be between 1 and 100"
        );
        let params = SuspiciousParams {
            round_unit: "0.001".into(),
            ..SuspiciousParams::default()
        };
        let error = suspicious(&[], &bank(), &params, 0, 1).unwrap_err();
        assert!(
            error.message.starts_with("round_unit in USD"),
            "{}",
            error.message
        );
    }

    #[test]
    fn masked_hides_the_account_and_serialises_the_pattern() {
        let finding = run(
            &[
                deposit(1, ANN, "10000.00", "2026-03-01T10:00:00Z"),
                withdrawal(2, ANN, "10000.00", "2026-03-01T11:00:00Z"),
            ],
            SuspiciousPattern::RapidInOut,
        )
        .remove(0)
        .masked(false);
        assert_eq!(finding.account, "ACC0********0001");
        let json = serde_json::to_value(&finding).unwrap();
        assert_eq!(json["pattern"], "rapid_in_out");
        assert_eq!(json["amount"], "10000.00");
        assert_eq!(json["at"], "2026-03-01T10:00:00Z");
    }
}
