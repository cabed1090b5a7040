//! Account profiles for `risk rescore`: what the account did, as of an instant, and the rules
//! replayed over its last 30 days.
//!
//! Profile fields (posted transfers unless said otherwise, windows `(as_of − length, as_of]`):
//! outgoing and incoming counts and sums over 1h/24h/7d/30d; distinct counterparties (30d);
//! night activity (movements 00:00–06:00 UTC over 30d, per mille); dormant reactivation (a
//! gap of at least `DORMANCY_GAP_DAYS` without movement, the account's opening counting as
//! its first movement, ended within the 30 days, with the largest movement since then).
//!
//! Mapping from the transfer rules to a profile (`score_profile`): every rule is replayed at
//! each outgoing attempt (posted or rejected) of the last 30 days, exactly as the
//! `WindowAssessor` would have seen it (earlier events only, the attempt itself included in
//! outgoing counts and sums). A rule fires on the profile when it fires at the extreme: the
//! maximum for `>`, `>=` and `==`, the minimum for `<` and `<=`. That is exact for every
//! comparison except `==` on non-boolean features, which compares the maximum only.
//! `hour_of_day` fires when any attempt was at a matching hour (exact, from a 24-hour
//! histogram). `counterparty_blacklisted` fires when the account or any counterparty of the
//! last 30 days (any direction, posted or rejected) is on the blacklist. Two profile-only
//! factors come from `[profile]`: `dormant_reactivation` and `night_activity`. Bank-side
//! accounts (settlement, internal) are never scored: they carry the bank's own flows.

use super::assess::{describe, score_factors};
use super::rules::{
    hour_of_day, is_bank_side, Comparison, Feature, ProfileSettings, ResolvedThreshold, Rule,
    RuleSet, Window, PER_MILLE_MAX,
};
use super::window::{saturate, whole_days};
use crate::clock::format_instant;
use crate::model::{Account, AccountType, RiskFactor, RiskResult, Transfer, TransferStatus};
use crate::money::Currency;
use std::collections::{HashMap, HashSet};

/// SPEC: "dormant reactivation (no activity for 180 days, then a large movement)".
pub(crate) const DORMANCY_GAP_DAYS: i64 = 180;
/// Night is 00:00–06:00 UTC (the hour before this one is the last night hour).
pub(crate) const NIGHT_END_HOUR: i64 = 6;
/// The profile looks this far back; older transfers only give context (windows, gaps).
pub(crate) const PROFILE_HORIZON: Window = Window::ThirtyDays;
const HOURS_PER_DAY: usize = 24;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct WindowTotals {
    pub(crate) count: u64,
    /// Saturates at i64::MAX (unreachable with real amounts).
    pub(crate) sum_minor: i64,
}

impl WindowTotals {
    fn add(&mut self, amount_minor: i64) {
        self.count += 1;
        self.sum_minor = self.sum_minor.saturating_add(amount_minor);
    }
}

/// Totals of one direction over the spec's four windows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DirectionTotals {
    pub(crate) last_1h: WindowTotals,
    pub(crate) last_24h: WindowTotals,
    pub(crate) last_7d: WindowTotals,
    pub(crate) last_30d: WindowTotals,
}

const PROFILE_WINDOWS: [Window; 4] = [
    Window::OneHour,
    Window::TwentyFourHours,
    Window::SevenDays,
    Window::ThirtyDays,
];

impl DirectionTotals {
    fn add(&mut self, at_us: i64, amount_minor: i64, as_of_us: i64) {
        let totals = [
            &mut self.last_1h,
            &mut self.last_24h,
            &mut self.last_7d,
            &mut self.last_30d,
        ];
        for (window, total) in PROFILE_WINDOWS.into_iter().zip(totals) {
            if at_us > window.start_exclusive_us(as_of_us) {
                total.add(amount_minor);
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DormantReactivation {
    pub(crate) gap_days: i64,
    /// The movement that ended the gap.
    pub(crate) reactivated_at_us: i64,
    /// The largest movement from the reactivation up to `as_of` (earliest on ties).
    pub(crate) largest_movement_minor: i64,
    pub(crate) largest_movement_at_us: i64,
}

/// Smallest and largest value of a feature over the replayed attempts (earliest on ties).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Extremes {
    pub(crate) minimum: i64,
    pub(crate) minimum_at_us: i64,
    pub(crate) maximum: i64,
    pub(crate) maximum_at_us: i64,
}

impl Extremes {
    const EMPTY: Extremes = Extremes {
        minimum: i64::MAX,
        minimum_at_us: 0,
        maximum: i64::MIN,
        maximum_at_us: 0,
    };

    fn include(&mut self, value: i64, at_us: i64) {
        if value < self.minimum {
            self.minimum = value;
            self.minimum_at_us = at_us;
        }
        if value > self.maximum {
            self.maximum = value;
            self.maximum_at_us = at_us;
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WindowExtremes {
    pub(crate) outgoing_count: Extremes,
    pub(crate) outgoing_sum_minor: Extremes,
    pub(crate) failed_attempts: Extremes,
    pub(crate) distinct_counterparties: Extremes,
}

impl WindowExtremes {
    const EMPTY: WindowExtremes = WindowExtremes {
        outgoing_count: Extremes::EMPTY,
        outgoing_sum_minor: Extremes::EMPTY,
        failed_attempts: Extremes::EMPTY,
        distinct_counterparties: Extremes::EMPTY,
    };
}

/// The rules' features at every outgoing attempt of the last 30 days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleReplay {
    pub(crate) attempts: u64,
    pub(crate) amount_minor: Extremes,
    pub(crate) account_age_days: Extremes,
    pub(crate) dormancy_days: Extremes,
    /// In `Window::ALL` order.
    pub(crate) by_window: [WindowExtremes; 6],
    pub(crate) attempts_by_hour: [u32; HOURS_PER_DAY],
}

impl RuleReplay {
    pub(crate) fn window(&self, window: Window) -> &WindowExtremes {
        &self.by_window[window.index()]
    }

    fn extremes(&self, feature: Feature, window: Option<Window>) -> Option<Extremes> {
        let windowed = window.map(|window| self.window(window));
        match feature {
            Feature::Amount => Some(self.amount_minor),
            Feature::AccountAgeDays => Some(self.account_age_days),
            Feature::DormancyDays => Some(self.dormancy_days),
            Feature::OutgoingCount => windowed.map(|extremes| extremes.outgoing_count),
            Feature::OutgoingSum => windowed.map(|extremes| extremes.outgoing_sum_minor),
            Feature::FailedAttempts => windowed.map(|extremes| extremes.failed_attempts),
            Feature::DistinctCounterparties => {
                windowed.map(|extremes| extremes.distinct_counterparties)
            }
            Feature::HourOfDay | Feature::CounterpartyBlacklisted => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub account: String,
    pub account_type: AccountType,
    pub currency: Currency,
    pub as_of_us: i64,
    pub outgoing: DirectionTotals,
    pub incoming: DirectionTotals,
    /// Rejected attempts from the account in the last 30 days.
    pub failed_attempts_30d: u64,
    /// Accounts with at least one posted movement with this one in the last 30 days.
    pub distinct_counterparties_30d: u32,
    /// Every account on the other side of a transfer of the last 30 days (posted or
    /// rejected, either direction), sorted: screened against the blacklist at scoring time.
    pub counterparties_30d: Vec<String>,
    pub movements_30d: u64,
    pub night_movements_30d: u64,
    /// `night_movements_30d × 1000 / movements_30d`, rounded down; 0 without movements.
    pub night_share_per_mille: u32,
    pub last_movement_at_us: Option<i64>,
    pub dormant_reactivation: Option<DormantReactivation>,
    /// None for bank-side accounts and when there was no outgoing attempt in 30 days.
    pub replay: Option<RuleReplay>,
}

impl WindowTotals {
    fn to_json(self, currency: Currency) -> serde_json::Value {
        serde_json::json!({"count": self.count, "sum": currency.format(self.sum_minor)})
    }
}

impl DirectionTotals {
    fn to_json(self, currency: Currency) -> serde_json::Value {
        serde_json::json!({
            "1h": self.last_1h.to_json(currency),
            "24h": self.last_24h.to_json(currency),
            "7d": self.last_7d.to_json(currency),
            "30d": self.last_30d.to_json(currency),
        })
    }
}

impl Profile {
    /// The stored and displayed form: amounts as strings with the currency's decimals,
    /// instants in RFC 3339. Counterparty numbers and the replay are left out (numbers are
    /// masked in output; the replay only explains factors, which carry their own details).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let currency = self.currency;
        let reactivation = self.dormant_reactivation.map(|found| {
            serde_json::json!({
                "gap_days": found.gap_days,
                "reactivated_at": format_instant(found.reactivated_at_us),
                "largest_movement": currency.format(found.largest_movement_minor),
                "largest_movement_at": format_instant(found.largest_movement_at_us),
            })
        });
        serde_json::json!({
            "account": self.account,
            "currency": currency.code(),
            "as_of": format_instant(self.as_of_us),
            "outgoing": self.outgoing.to_json(currency),
            "incoming": self.incoming.to_json(currency),
            "failed_attempts_30d": self.failed_attempts_30d,
            "distinct_counterparties_30d": self.distinct_counterparties_30d,
            "movements_30d": self.movements_30d,
            "night_movements_30d": self.night_movements_30d,
            "night_share_per_mille": self.night_share_per_mille,
            "last_movement_at": self.last_movement_at_us.map(format_instant),
            "dormant_reactivation": reactivation,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Outgoing,
    Incoming,
}

/// One transfer seen from the profiled account: compact, so that a rescore touches each large
/// `Transfer` once (grouping) and then works on contiguous small records.
#[derive(Debug, Clone, Copy)]
pub(super) struct AccountEvent {
    pub(super) at_us: i64,
    pub(super) id: i64,
    pub(super) amount_minor: i64,
    /// Index into the counterparty names given with the events.
    pub(super) counterparty: u32,
    pub(super) side: Side,
    pub(super) posted: bool,
}

impl AccountEvent {
    /// Fills preallocated space before the real events are written over it.
    pub(super) fn placeholder() -> AccountEvent {
        AccountEvent {
            at_us: 0,
            id: 0,
            amount_minor: 0,
            counterparty: 0,
            side: Side::Outgoing,
            posted: false,
        }
    }

    pub(super) fn of_movement(
        movement: &super::movement::Movement,
        side: Side,
        counterparty: u32,
    ) -> AccountEvent {
        AccountEvent {
            at_us: movement.at_us,
            id: movement.id,
            amount_minor: movement.amount_minor,
            counterparty,
            side,
            posted: movement.posted,
        }
    }

    pub(super) fn of(transfer: &Transfer, side: Side, counterparty: u32) -> AccountEvent {
        AccountEvent {
            at_us: transfer.at_us,
            id: transfer.id,
            amount_minor: transfer.amount_minor,
            counterparty,
            side,
            posted: transfer.status == TransferStatus::Posted,
        }
    }

    fn is_outgoing_movement(&self) -> bool {
        self.posted && self.side == Side::Outgoing
    }

    fn is_failed_attempt(&self) -> bool {
        !self.posted && self.side == Side::Outgoing
    }

    fn is_outgoing_attempt(&self) -> bool {
        self.side == Side::Outgoing
    }
}

/// The profile of `account` from its transfers (any order; other accounts' transfers and
/// transfers after `as_of_us` are ignored).
pub fn profile(account: &Account, transfers: &[Transfer], as_of_us: i64) -> Profile {
    let (events, counterparty_names) = account_events(account, transfers);
    let mut counterparty_counts = Vec::new();
    profile_from_events(
        account,
        events,
        &counterparty_names,
        &mut counterparty_counts,
        as_of_us,
    )
}

/// The profile from the account's events in any order. `counterparty_names[i]` is the number
/// of counterparty `i`; `counterparty_counts` is scratch space reused between accounts (it
/// is grown as needed and left zeroed).
pub(super) fn profile_from_events(
    account: &Account,
    mut events: Vec<AccountEvent>,
    counterparty_names: &[&str],
    counterparty_counts: &mut Vec<u32>,
    as_of_us: i64,
) -> Profile {
    events.retain(|event| event.at_us <= as_of_us);
    events.sort_unstable_by_key(|event| (event.at_us, event.id));
    let horizon_start_us = PROFILE_HORIZON.start_exclusive_us(as_of_us);
    let mut profile = Profile {
        account: account.number.clone(),
        account_type: account.account_type,
        currency: account.currency,
        as_of_us,
        outgoing: DirectionTotals::default(),
        incoming: DirectionTotals::default(),
        failed_attempts_30d: 0,
        distinct_counterparties_30d: 0,
        counterparties_30d: Vec::new(),
        movements_30d: 0,
        night_movements_30d: 0,
        night_share_per_mille: 0,
        last_movement_at_us: events
            .iter()
            .rev()
            .find(|event| event.posted)
            .map(|event| event.at_us),
        dormant_reactivation: dormant_reactivation(account, &events, horizon_start_us),
        replay: None,
    };
    summarise(&mut profile, &events, counterparty_names, horizon_start_us);
    if !is_bank_side(account.account_type) {
        if counterparty_counts.len() < counterparty_names.len() {
            counterparty_counts.resize(counterparty_names.len(), 0);
        }
        profile.replay = replay(account, &events, counterparty_counts, horizon_start_us);
    }
    profile
}

/// The account's side of each of its transfers, with counterparties numbered locally (index
/// into the returned names).
fn account_events<'a>(
    account: &Account,
    transfers: &'a [Transfer],
) -> (Vec<AccountEvent>, Vec<&'a str>) {
    let mut names: Vec<&'a str> = Vec::new();
    let mut ids: HashMap<&'a str, u32> = HashMap::new();
    let mut events = Vec::with_capacity(transfers.len());
    for transfer in transfers {
        let (side, counterparty) = if transfer.from == account.number {
            (Side::Outgoing, transfer.to.as_str())
        } else if transfer.to == account.number {
            (Side::Incoming, transfer.from.as_str())
        } else {
            continue;
        };
        let next_id = names.len() as u32;
        let counterparty = *ids.entry(counterparty).or_insert_with(|| {
            names.push(counterparty);
            next_id
        });
        events.push(AccountEvent::of(transfer, side, counterparty));
    }
    (events, names)
}

/// Window totals, counterparties and night activity.
fn summarise(
    profile: &mut Profile,
    events: &[AccountEvent],
    names: &[&str],
    horizon_start_us: i64,
) {
    let recent = events.partition_point(|event| event.at_us <= horizon_start_us);
    let recent = &events[recent..];
    let mut counterparties: Vec<u32> = recent.iter().map(|event| event.counterparty).collect();
    counterparties.sort_unstable();
    counterparties.dedup();
    let mut names_30d: Vec<String> = counterparties
        .iter()
        .map(|id| names[*id as usize].to_string())
        .collect();
    names_30d.sort_unstable();
    profile.counterparties_30d = names_30d;
    let mut posted_counterparties: Vec<u32> = recent
        .iter()
        .filter(|event| event.posted)
        .map(|event| event.counterparty)
        .collect();
    posted_counterparties.sort_unstable();
    posted_counterparties.dedup();
    profile.distinct_counterparties_30d = posted_counterparties.len() as u32;
    for event in recent {
        if !event.posted {
            profile.failed_attempts_30d += u64::from(event.side == Side::Outgoing);
            continue;
        }
        let direction = match event.side {
            Side::Outgoing => &mut profile.outgoing,
            Side::Incoming => &mut profile.incoming,
        };
        direction.add(event.at_us, event.amount_minor, profile.as_of_us);
        profile.movements_30d += 1;
        profile.night_movements_30d += u64::from(hour_of_day(event.at_us) < NIGHT_END_HOUR);
    }
    let night_per_mille = profile.night_movements_30d * u64::from(PER_MILLE_MAX);
    // No movements: no night share (0), not a division by zero.
    profile.night_share_per_mille = night_per_mille
        .checked_div(profile.movements_30d)
        .unwrap_or(0) as u32;
}

/// The gap of at least `DORMANCY_GAP_DAYS` ending within the horizon, if any. Two such gaps
/// cannot both end within 30 days, but the latest is taken in any case.
fn dormant_reactivation(
    account: &Account,
    events: &[AccountEvent],
    horizon_start_us: i64,
) -> Option<DormantReactivation> {
    let mut previous_us = account.created_at_us;
    let mut found: Option<DormantReactivation> = None;
    for event in events.iter().filter(|event| event.posted) {
        let gap_days = whole_days(event.at_us - previous_us);
        if gap_days >= DORMANCY_GAP_DAYS && event.at_us > horizon_start_us {
            found = Some(DormantReactivation {
                gap_days,
                reactivated_at_us: event.at_us,
                largest_movement_minor: event.amount_minor,
                largest_movement_at_us: event.at_us,
            });
        } else if let Some(reactivation) = found.as_mut() {
            if event.amount_minor > reactivation.largest_movement_minor {
                reactivation.largest_movement_minor = event.amount_minor;
                reactivation.largest_movement_at_us = event.at_us;
            }
        }
        previous_us = event.at_us;
    }
    found
}

/// Exclusive prefix sums over the events: element i covers events 0..i.
struct Prefixes {
    outgoing_count: Vec<i64>,
    outgoing_sum_minor: Vec<i128>,
    failed_count: Vec<i64>,
}

impl Prefixes {
    fn of(events: &[AccountEvent]) -> Prefixes {
        let mut prefixes = Prefixes {
            outgoing_count: Vec::with_capacity(events.len() + 1),
            outgoing_sum_minor: Vec::with_capacity(events.len() + 1),
            failed_count: Vec::with_capacity(events.len() + 1),
        };
        let (mut count, mut sum, mut failed) = (0i64, 0i128, 0i64);
        for event in events {
            prefixes.outgoing_count.push(count);
            prefixes.outgoing_sum_minor.push(sum);
            prefixes.failed_count.push(failed);
            if event.is_outgoing_movement() {
                count += 1;
                sum += i128::from(event.amount_minor);
            }
            failed += i64::from(event.is_failed_attempt());
        }
        prefixes.outgoing_count.push(count);
        prefixes.outgoing_sum_minor.push(sum);
        prefixes.failed_count.push(failed);
        prefixes
    }
}

fn replay(
    account: &Account,
    events: &[AccountEvent],
    counterparty_counts: &mut [u32],
    horizon_start_us: i64,
) -> Option<RuleReplay> {
    let is_attempt = |event: &AccountEvent| is_replayed(event, horizon_start_us);
    let attempts = events.iter().filter(|event| is_attempt(event)).count() as u64;
    if attempts == 0 {
        return None;
    }
    let mut replay = RuleReplay {
        attempts,
        amount_minor: Extremes::EMPTY,
        account_age_days: Extremes::EMPTY,
        dormancy_days: Extremes::EMPTY,
        by_window: [WindowExtremes::EMPTY; 6],
        attempts_by_hour: [0; HOURS_PER_DAY],
    };
    let mut previous_movement_us = account.created_at_us;
    for event in events {
        if is_attempt(event) {
            replay.amount_minor.include(event.amount_minor, event.at_us);
            replay
                .account_age_days
                .include(whole_days(event.at_us - account.created_at_us), event.at_us);
            replay
                .dormancy_days
                .include(whole_days(event.at_us - previous_movement_us), event.at_us);
            replay.attempts_by_hour[hour_of_day(event.at_us) as usize] += 1;
        }
        if event.posted {
            previous_movement_us = event.at_us;
        }
    }
    let prefixes = Prefixes::of(events);
    for window in Window::ALL {
        // Events older than the horizon minus the window are in no replayed window.
        let first =
            events.partition_point(|event| event.at_us <= horizon_start_us - window.length_us());
        let range = Replayed {
            events,
            first,
            horizon_start_us,
        };
        replay.by_window[window.index()] =
            replay_window(window, range, &prefixes, counterparty_counts);
    }
    Some(replay)
}

/// Outgoing attempts within the horizon are the instants at which the rules are replayed.
fn is_replayed(event: &AccountEvent, horizon_start_us: i64) -> bool {
    event.is_outgoing_attempt() && event.at_us > horizon_start_us
}

/// The events a window pass walks: `events[first..]` (earlier ones are in no window).
#[derive(Clone, Copy)]
struct Replayed<'a> {
    events: &'a [AccountEvent],
    first: usize,
    horizon_start_us: i64,
}

/// One sliding window over the events: at each attempt i the window holds the earlier events
/// `lo..i` inside the window ending at the attempt's instant. `counterparty_counts` comes
/// zeroed and is left zeroed.
fn replay_window(
    window: Window,
    range: Replayed,
    prefixes: &Prefixes,
    counterparty_counts: &mut [u32],
) -> WindowExtremes {
    let events = range.events;
    let mut distinct = 0i64;
    let mut extremes = WindowExtremes::EMPTY;
    let mut lo = range.first;
    for (index, event) in events.iter().enumerate().skip(range.first) {
        let start_exclusive_us = window.start_exclusive_us(event.at_us);
        while lo < index && events[lo].at_us <= start_exclusive_us {
            if events[lo].posted {
                let count = &mut counterparty_counts[events[lo].counterparty as usize];
                *count -= 1;
                distinct -= i64::from(*count == 0);
            }
            lo += 1;
        }
        if is_replayed(event, range.horizon_start_us) {
            let at_us = event.at_us;
            let count = prefixes.outgoing_count[index] - prefixes.outgoing_count[lo] + 1;
            let sum = prefixes.outgoing_sum_minor[index] - prefixes.outgoing_sum_minor[lo]
                + i128::from(event.amount_minor);
            let new_counterparty = counterparty_counts[event.counterparty as usize] == 0;
            extremes.outgoing_count.include(count, at_us);
            extremes.outgoing_sum_minor.include(saturate(sum), at_us);
            extremes.failed_attempts.include(
                prefixes.failed_count[index] - prefixes.failed_count[lo],
                at_us,
            );
            extremes
                .distinct_counterparties
                .include(distinct + i64::from(new_counterparty), at_us);
        }
        if event.posted {
            let count = &mut counterparty_counts[event.counterparty as usize];
            distinct += i64::from(*count == 0);
            *count += 1;
        }
    }
    // Only the counterparties of these events were touched: zero them, not the whole table.
    for event in &events[lo..] {
        counterparty_counts[event.counterparty as usize] = 0;
    }
    extremes
}

/// Profile-level risk; see the module documentation for the mapping from rules.
pub fn score_profile(
    profile: &Profile,
    rules: &RuleSet,
    blacklist: &HashSet<String>,
) -> RiskResult {
    if is_bank_side(profile.account_type) {
        return score_factors(Vec::new(), rules);
    }
    let mut factors: Vec<RiskFactor> = rules
        .rules
        .iter()
        .filter_map(|rule| rule_factor(profile, rule, blacklist))
        .collect();
    factors.extend(reactivation_factor(profile, &rules.profile));
    factors.extend(night_factor(profile, &rules.profile));
    score_factors(factors, rules)
}

fn rule_factor(profile: &Profile, rule: &Rule, blacklist: &HashSet<String>) -> Option<RiskFactor> {
    let threshold = rule.threshold.resolve(profile.currency);
    let detail = match rule.feature {
        Feature::CounterpartyBlacklisted => blacklist_detail(profile, rule, blacklist)?,
        Feature::HourOfDay => hour_detail(profile.replay.as_ref()?, rule, threshold)?,
        feature => {
            let extremes = profile.replay.as_ref()?.extremes(feature, rule.window)?;
            let (label, value, at_us) = if rule.comparison.seeks_maximum() {
                ("peak", extremes.maximum, extremes.maximum_at_us)
            } else {
                ("lowest", extremes.minimum, extremes.minimum_at_us)
            };
            if !rule.comparison.holds(value, threshold) {
                return None;
            }
            let measured = describe(rule, value, profile.currency);
            format!(
                "{label} {measured} (at {}, last 30d)",
                format_instant(at_us)
            )
        }
    };
    Some(super::assess::factor(rule, detail))
}

fn blacklist_detail(profile: &Profile, rule: &Rule, blacklist: &HashSet<String>) -> Option<String> {
    let account_listed = blacklist.contains(&profile.account);
    let mut listed: Vec<&str> = profile
        .counterparties_30d
        .iter()
        .filter(|counterparty| blacklist.contains(*counterparty))
        .map(String::as_str)
        .collect();
    listed.sort_unstable();
    listed.dedup();
    let value = i64::from(account_listed || !listed.is_empty());
    if !rule
        .comparison
        .holds(value, rule.threshold.resolve(profile.currency))
    {
        return None;
    }
    let named = named_accounts(&listed);
    Some(match (account_listed, listed.len()) {
        (true, 0) => "the account is on the blacklist".to_string(),
        (true, _) => format!(
            "the account and its counterparties of the last 30d {named} are on the blacklist"
        ),
        (false, 0) => describe(rule, value, profile.currency),
        (false, 1) => format!("counterparty {named} of the last 30d is on the blacklist"),
        (false, _) => format!("counterparties {named} of the last 30d are on the blacklist"),
    })
}

/// Accounts a factor names, so the officer knows which to look at; past this many the rest
/// are counted (a factor stays one line).
const NAMED_ACCOUNTS_MAX: usize = 5;

/// `A, B and C`, or `A, B, C, D, E and 3 more`.
pub(super) fn named_accounts(numbers: &[&str]) -> String {
    match numbers {
        [] => String::new(),
        [one] => one.to_string(),
        _ if numbers.len() > NAMED_ACCOUNTS_MAX => format!(
            "{} and {} more",
            numbers[..NAMED_ACCOUNTS_MAX].join(", "),
            numbers.len() - NAMED_ACCOUNTS_MAX
        ),
        [first @ .., last] => format!("{} and {last}", first.join(", ")),
    }
}

fn hour_detail(replay: &RuleReplay, rule: &Rule, threshold: ResolvedThreshold) -> Option<String> {
    let matching: u32 = (0..HOURS_PER_DAY as i64)
        .filter(|hour| rule.comparison.holds(*hour, threshold))
        .map(|hour| replay.attempts_by_hour[hour as usize])
        .sum();
    (matching > 0).then(|| {
        format!(
            "{matching} outgoing attempts in the last 30d at hour of day (UTC) {} {}",
            rule.comparison.as_str(),
            threshold.floor
        )
    })
}

fn reactivation_factor(profile: &Profile, settings: &ProfileSettings) -> Option<RiskFactor> {
    let reactivation = profile.dormant_reactivation?;
    let threshold = settings
        .dormant_reactivation_amount
        .in_currency(profile.currency);
    if !Comparison::GreaterOrEqual.holds(reactivation.largest_movement_minor, threshold) {
        return None;
    }
    let currency = profile.currency;
    Some(RiskFactor {
        rule: "dormant_reactivation".to_string(),
        points: settings.dormant_reactivation_points,
        detail: format!(
            "no movement for {} days until {}, then a movement of {} {} >= {}",
            reactivation.gap_days,
            format_instant(reactivation.reactivated_at_us),
            currency.format(reactivation.largest_movement_minor),
            currency.code(),
            settings.dormant_reactivation_amount.display_in(currency)
        ),
    })
}

fn night_factor(profile: &Profile, settings: &ProfileSettings) -> Option<RiskFactor> {
    let enough_movements = profile.movements_30d >= u64::from(settings.night_movements_min);
    if !enough_movements || profile.night_share_per_mille < settings.night_share_per_mille {
        return None;
    }
    Some(RiskFactor {
        rule: "night_activity".to_string(),
        points: settings.night_activity_points,
        detail: format!(
            "night activity (00:00-06:00 UTC) {} per mille of {} movements in the last 30d >= {} per mille",
            profile.night_share_per_mille, profile.movements_30d, settings.night_share_per_mille
        ),
    })
}
