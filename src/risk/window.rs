//! `WindowAssessor`: per-transfer assessment from per-account history kept in memory, so that
//! a large import is assessed row by row without a single query.
//!
//! Each account has a deque of recent events sorted by instant. Every event carries the
//! running totals (outgoing count and sum, failed attempts) of the account up to and including
//! itself, so any window's totals are two binary searches and a subtraction: O(log k) for k
//! events kept, whatever the order of arrival. Events are dropped once they are older than the
//! longest rule window plus `BACKDATED_TOLERANCE_US`, which makes recording O(1) amortised.

use super::assess::{describe, factor, score_factors};
use super::rules::{hour_of_day, is_bank_side, Feature, ResolvedThreshold, Rule, RuleSet};
use super::Assessor;
use crate::clock::MICROS_PER_DAY;
use crate::fast_map::FastMap;
use crate::model::TransferRequest;
use crate::model::{Account, RiskFactor, RiskResult, Transfer, TransferKind, TransferStatus};
use crate::money::Currency;
use std::collections::{HashSet, VecDeque};

/// Events are kept this long beyond the longest window, so that a back-dated request up to a
/// day older than an account's latest event still sees complete windows. Older back-dated
/// requests see only what is kept (documented limitation: memory stays bounded).
pub(crate) const BACKDATED_TOLERANCE_US: i64 = MICROS_PER_DAY;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventKind {
    /// Posted, this account is `from`.
    Outgoing,
    /// Posted, this account is `to`.
    Incoming,
    /// Rejected, this account is `from`: a failed attempt.
    Failed,
}

impl EventKind {
    fn is_movement(self) -> bool {
        self != EventKind::Failed
    }
}

/// Running totals; window totals are differences of two running totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Totals {
    outgoing_count: u64,
    /// i128: a running sum over an account's whole life cannot overflow.
    outgoing_sum_minor: i128,
    failed_count: u64,
}

impl Totals {
    fn of(kind: EventKind, amount_minor: i64) -> Totals {
        match kind {
            EventKind::Outgoing => Totals {
                outgoing_count: 1,
                outgoing_sum_minor: i128::from(amount_minor),
                failed_count: 0,
            },
            EventKind::Incoming => Totals::default(),
            EventKind::Failed => Totals {
                failed_count: 1,
                ..Totals::default()
            },
        }
    }

    fn plus(self, other: Totals) -> Totals {
        Totals {
            outgoing_count: self.outgoing_count + other.outgoing_count,
            outgoing_sum_minor: self.outgoing_sum_minor + other.outgoing_sum_minor,
            failed_count: self.failed_count + other.failed_count,
        }
    }

    fn minus(self, other: Totals) -> Totals {
        Totals {
            outgoing_count: self.outgoing_count - other.outgoing_count,
            outgoing_sum_minor: self.outgoing_sum_minor - other.outgoing_sum_minor,
            failed_count: self.failed_count - other.failed_count,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Event {
    at_us: i64,
    counterparty: u32,
    kind: EventKind,
    /// Totals of every event of the account up to and including this one.
    running: Totals,
}

#[derive(Debug, Default)]
struct AccountHistory {
    /// Sorted by `at_us`; events with the same instant keep their arrival order.
    events: VecDeque<Event>,
    /// Running totals of the events already dropped.
    pruned: Totals,
    /// Dormancy needs the previous movement even when it is older than every window.
    latest_pruned_movement_at_us: Option<i64>,
}

impl AccountHistory {
    fn running_before(&self, index: usize) -> Totals {
        match index {
            0 => self.pruned,
            _ => self.events[index - 1].running,
        }
    }

    /// Index of the first event strictly after `at_us`.
    fn end_index(&self, at_us: i64) -> usize {
        // In-order streams ask about the present: every event kept is at or before it.
        if self
            .events
            .back()
            .is_none_or(|latest| latest.at_us <= at_us)
        {
            return self.events.len();
        }
        self.events.partition_point(|event| event.at_us <= at_us)
    }

    fn insert(&mut self, at_us: i64, amount_minor: i64, counterparty: u32, kind: EventKind) {
        let position = self.end_index(at_us);
        let own = Totals::of(kind, amount_minor);
        let event = Event {
            at_us,
            counterparty,
            kind,
            running: self.running_before(position).plus(own),
        };
        if position == self.events.len() {
            self.events.push_back(event);
            return;
        }
        self.events.insert(position, event);
        // A back-dated event is part of the running totals of every later event.
        for later in self.events.range_mut(position + 1..) {
            later.running = later.running.plus(own);
        }
    }

    fn prune(&mut self, retention_us: i64) {
        let Some(latest_us) = self.events.back().map(|event| event.at_us) else {
            return;
        };
        let horizon_us = latest_us - retention_us;
        while self
            .events
            .front()
            .is_some_and(|event| event.at_us <= horizon_us)
        {
            let Some(event) = self.events.pop_front() else {
                break;
            };
            self.pruned = event.running;
            if event.kind.is_movement() {
                // max: a back-dated event can be dropped after later ones.
                let latest_us = self
                    .latest_pruned_movement_at_us
                    .map_or(event.at_us, |known| known.max(event.at_us));
                self.latest_pruned_movement_at_us = Some(latest_us);
            }
        }
    }

    /// Totals of the events with `start_exclusive_us < at ≤ end_us`.
    fn totals_between(&self, start_exclusive_us: i64, end_us: i64) -> Totals {
        let end = self.end_index(end_us);
        let start = self.end_index(start_exclusive_us).min(end);
        self.running_before(end).minus(self.running_before(start))
    }

    /// Latest movement at or before `at_us` (a movement at the same instant means no gap).
    fn previous_movement_at_us(&self, at_us: i64) -> Option<i64> {
        let end = self.end_index(at_us);
        let kept = self
            .events
            .range(..end)
            .rev()
            .find(|event| event.kind.is_movement());
        kept.map(|event| event.at_us).or(self
            .latest_pruned_movement_at_us
            .filter(|pruned_us| *pruned_us <= at_us))
    }

    /// Counterparties of posted movements (either direction) in the window, into `seen`.
    fn collect_counterparties(
        &self,
        start_exclusive_us: i64,
        end_us: i64,
        seen: &mut HashSet<u32>,
    ) {
        let end = self.end_index(end_us);
        let start = self.end_index(start_exclusive_us).min(end);
        let movements = self
            .events
            .range(start..end)
            .filter(|event| event.kind.is_movement());
        seen.extend(movements.map(|event| event.counterparty));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.events.len()
    }
}

/// Rule-based assessor over in-memory history; see the module documentation.
#[derive(Debug)]
pub struct WindowAssessor {
    rules: RuleSet,
    retention_us: i64,
    /// Account numbers are interned once; histories, counterparties and the blacklist use
    /// the small id. Every blacklisted number is interned up front.
    account_ids: FastMap<String, u32>,
    histories: Vec<AccountHistory>,
    blacklisted: Vec<bool>,
    /// Money thresholds resolved per currency once, not per request.
    thresholds_by_currency: Vec<(Currency, Vec<ResolvedThreshold>)>,
    /// Reused between requests so distinct-counterparty rules do not allocate.
    counterparty_scratch: HashSet<u32>,
    /// The ledger observes each transfer right after assessing it: the ids of the last
    /// assessed pair save hashing the same two numbers again.
    last_assessed: LastAssessed,
}

#[derive(Debug, Default)]
struct LastAssessed {
    from: String,
    to: String,
    ids: Option<(u32, u32)>,
}

impl WindowAssessor {
    pub fn new(rules: RuleSet, blacklist: HashSet<String>) -> WindowAssessor {
        let retention_us = rules.longest_window_us() + BACKDATED_TOLERANCE_US;
        let mut assessor = WindowAssessor {
            rules,
            retention_us,
            account_ids: FastMap::default(),
            histories: Vec::new(),
            blacklisted: Vec::new(),
            thresholds_by_currency: Vec::new(),
            counterparty_scratch: HashSet::new(),
            last_assessed: LastAssessed::default(),
        };
        for number in &blacklist {
            let id = assessor.account_id(number);
            assessor.blacklisted[id as usize] = true;
        }
        assessor
    }

    #[cfg(test)]
    pub(crate) fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// How far before the earliest transfer to be assessed the caller should load history
    /// (posted and rejected transfers) into `seed` for every window to be complete.
    pub(crate) fn history_window_us(&self) -> i64 {
        self.rules.history_window_us()
    }

    /// History loaded from the database, in any order.
    #[cfg(test)]
    pub(crate) fn seed(&mut self, history: impl IntoIterator<Item = Transfer>) {
        let mut transfers: Vec<Transfer> = history.into_iter().collect();
        // Arrival in time order keeps every insertion at the back of its deque.
        transfers.sort_by_key(|transfer| (transfer.at_us, transfer.id));
        for transfer in &transfers {
            self.observe(transfer);
        }
    }

    /// Replace the histories of `accounts` with what `history` holds about them: their
    /// transfers as loaded from the database, in any order. Only the listed accounts' sides
    /// are recorded (a counterparty's own history is left as it was), so an account seen
    /// earlier only as a counterparty, or seeded before, can be (re)seeded without counting
    /// anything twice. Each transfer must appear once.
    pub(crate) fn seed_accounts(
        &mut self,
        accounts: &[&str],
        history: impl IntoIterator<Item = Transfer>,
    ) {
        let mut seeding = vec![false; self.histories.len()];
        for number in accounts {
            let id = self.account_id(number) as usize;
            if seeding.len() <= id {
                seeding.resize(id + 1, false);
            }
            seeding[id] = true;
            self.histories[id] = AccountHistory::default();
        }
        let seeded = |id: u32| seeding.get(id as usize).copied().unwrap_or(false);
        let mut transfers: Vec<Transfer> = history.into_iter().collect();
        transfers.sort_by_key(|transfer| (transfer.at_us, transfer.id));
        for transfer in &transfers {
            let from = self.account_id(&transfer.from);
            let to = self.account_id(&transfer.to);
            match transfer.status {
                TransferStatus::Posted => {
                    if seeded(from) {
                        self.record(from, transfer, to, EventKind::Outgoing);
                    }
                    if from != to && seeded(to) {
                        self.record(to, transfer, from, EventKind::Incoming);
                    }
                }
                TransferStatus::Rejected => {
                    if seeded(from) {
                        self.record(from, transfer, to, EventKind::Failed);
                    }
                }
            }
        }
    }

    /// Events currently held in memory (all accounts).
    #[cfg(test)]
    pub(crate) fn retained_events(&self) -> usize {
        self.histories.iter().map(AccountHistory::len).sum()
    }

    fn account_id(&mut self, number: &str) -> u32 {
        if let Some(id) = self.account_ids.get(number) {
            return *id;
        }
        let id = u32::try_from(self.histories.len()).expect("fewer than 4 billion accounts");
        self.account_ids.insert(number.to_string(), id);
        self.histories.push(AccountHistory::default());
        self.blacklisted.push(false);
        id
    }

    fn record(&mut self, account: u32, transfer: &Transfer, counterparty: u32, kind: EventKind) {
        let history = &mut self.histories[account as usize];
        history.insert(transfer.at_us, transfer.amount_minor, counterparty, kind);
        history.prune(self.retention_us);
    }

    fn remember_assessed(&mut self, from: &str, to: &str, ids: (u32, u32)) {
        let last = &mut self.last_assessed;
        // clear + push_str reuses the buffers: no allocation per request.
        last.from.clear();
        last.from.push_str(from);
        last.to.clear();
        last.to.push_str(to);
        last.ids = Some(ids);
    }

    fn ids_of(&mut self, transfer: &Transfer) -> (u32, u32) {
        let last = &self.last_assessed;
        match last.ids {
            Some(ids) if last.from == transfer.from && last.to == transfer.to => ids,
            _ => (
                self.account_id(&transfer.from),
                self.account_id(&transfer.to),
            ),
        }
    }

    fn thresholds_index(&mut self, currency: Currency) -> usize {
        if let Some(index) = self
            .thresholds_by_currency
            .iter()
            .position(|(known, _)| *known == currency)
        {
            return index;
        }
        let resolved = self
            .rules
            .rules
            .iter()
            .map(|rule| rule.threshold.resolve(currency))
            .collect();
        self.thresholds_by_currency.push((currency, resolved));
        self.thresholds_by_currency.len() - 1
    }
}

impl Assessor for WindowAssessor {
    fn assess(
        &mut self,
        request: &TransferRequest,
        from: &Account,
        to: &Account,
        at_us: i64,
    ) -> RiskResult {
        let from_id = self.account_id(&from.number);
        let to_id = self.account_id(&to.number);
        self.remember_assessed(&from.number, &to.number, (from_id, to_id));
        // Reversals and adjustments are operator corrections along an already assessed path:
        // scoring them could block the return of money sent to a blacklisted account.
        if matches!(
            request.kind,
            TransferKind::Reversal | TransferKind::Adjustment
        ) {
            return score_factors(Vec::new(), &self.rules);
        }
        let thresholds_index = self.thresholds_index(request.currency);
        let mut scratch = std::mem::take(&mut self.counterparty_scratch);
        let context = RequestContext {
            request,
            from,
            at_us,
            history: &self.histories[from_id as usize],
            receiver_id: to_id,
            listed: (
                self.blacklisted[from_id as usize],
                self.blacklisted[to_id as usize],
            ),
        };
        let thresholds = &self.thresholds_by_currency[thresholds_index].1;
        let factors = self
            .rules
            .rules
            .iter()
            .zip(thresholds)
            .filter_map(|(rule, threshold)| context.evaluate(rule, *threshold, &mut scratch))
            .collect();
        self.counterparty_scratch = scratch;
        score_factors(factors, &self.rules)
    }

    fn observe(&mut self, transfer: &Transfer) {
        let (from, to) = self.ids_of(transfer);
        match transfer.status {
            TransferStatus::Posted => {
                self.record(from, transfer, to, EventKind::Outgoing);
                if from != to {
                    self.record(to, transfer, from, EventKind::Incoming);
                }
            }
            TransferStatus::Rejected => self.record(from, transfer, to, EventKind::Failed),
        }
    }
}

/// Everything one request's rules look at.
struct RequestContext<'a> {
    request: &'a TransferRequest,
    from: &'a Account,
    at_us: i64,
    /// The paying account's history.
    history: &'a AccountHistory,
    receiver_id: u32,
    /// Whether the sending and the receiving account are on the blacklist.
    listed: (bool, bool),
}

impl RequestContext<'_> {
    fn evaluate(
        &self,
        rule: &Rule,
        threshold: ResolvedThreshold,
        scratch: &mut HashSet<u32>,
    ) -> Option<RiskFactor> {
        if rule.feature.is_behavioural() && is_bank_side(self.from.account_type) {
            return None;
        }
        if rule.feature == Feature::CounterpartyBlacklisted {
            return self.blacklist_factor(rule, threshold);
        }
        let value = self.feature_value(rule, scratch);
        let fires = rule.comparison.holds(value, threshold);
        fires.then(|| factor(rule, describe(rule, value, self.request.currency)))
    }

    fn feature_value(&self, rule: &Rule, scratch: &mut HashSet<u32>) -> i64 {
        let window_totals = || match rule.window {
            Some(window) => self
                .history
                .totals_between(window.start_exclusive_us(self.at_us), self.at_us),
            None => Totals::default(),
        };
        match rule.feature {
            Feature::Amount => self.request.amount_minor,
            // Counts and sums include the transfer being assessed.
            Feature::OutgoingCount => saturate(i128::from(window_totals().outgoing_count) + 1),
            Feature::OutgoingSum => {
                saturate(window_totals().outgoing_sum_minor + i128::from(self.request.amount_minor))
            }
            // Earlier rejected attempts only: this one has not failed (yet).
            Feature::FailedAttempts => saturate(i128::from(window_totals().failed_count)),
            Feature::DistinctCounterparties => self.distinct_counterparties(rule, scratch),
            Feature::HourOfDay => hour_of_day(self.at_us),
            Feature::AccountAgeDays => whole_days(self.at_us - self.from.created_at_us),
            Feature::DormancyDays => {
                let previous_us = self.history.previous_movement_at_us(self.at_us);
                whole_days(self.at_us - previous_us.unwrap_or(self.from.created_at_us))
            }
            Feature::CounterpartyBlacklisted => i64::from(self.listed_sides().is_some()),
        }
    }

    /// Distinct accounts the payer moved money to or from in the window, this transfer's
    /// receiver included.
    fn distinct_counterparties(&self, rule: &Rule, scratch: &mut HashSet<u32>) -> i64 {
        scratch.clear();
        if let Some(window) = rule.window {
            self.history.collect_counterparties(
                window.start_exclusive_us(self.at_us),
                self.at_us,
                scratch,
            );
        }
        let receiver_is_new = !scratch.contains(&self.receiver_id);
        saturate(scratch.len() as i128 + i128::from(receiver_is_new))
    }

    /// "sending", "receiving" or both, when listed.
    fn listed_sides(&self) -> Option<&'static str> {
        match self.listed {
            (true, true) => Some("sending and receiving accounts are"),
            (true, false) => Some("sending account is"),
            (false, true) => Some("receiving account is"),
            (false, false) => None,
        }
    }

    fn blacklist_factor(&self, rule: &Rule, threshold: ResolvedThreshold) -> Option<RiskFactor> {
        let sides = self.listed_sides();
        let value = i64::from(sides.is_some());
        if !rule.comparison.holds(value, threshold) {
            return None;
        }
        let detail = match sides {
            Some(sides) => format!("{sides} on the blacklist"),
            None => describe(rule, value, self.request.currency),
        };
        Some(factor(rule, detail))
    }
}

/// Whole days elapsed (never negative: a transfer dated before the account's creation is 0).
pub(super) fn whole_days(duration_us: i64) -> i64 {
    duration_us.max(0) / MICROS_PER_DAY
}

/// Feature values are i64; a window sum beyond i64 (impossible with real amounts) saturates,
/// which still compares correctly with any threshold (all are far below i64::MAX).
pub(super) fn saturate(value: i128) -> i64 {
    i64::try_from(value).unwrap_or(if value < 0 { i64::MIN } else { i64::MAX })
}
