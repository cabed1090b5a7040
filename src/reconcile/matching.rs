//! Matching statement lines against ledger movements: by reference first, then by amount and
//! date where exactly one pairing fits. See the module documentation of `reconcile` for the
//! decisions the spec leaves open.

use super::reference::{image_is_exact, ReferenceImage, ReferenceKey};
use super::StatementLine;
use crate::error::{AppError, AppResult};
use crate::money::Currency;
use chrono::{NaiveDate, TimeDelta};
use std::fmt;
use std::str::FromStr;

/// Our ledger entry on the settlement account: + debit (money in at the bank), − credit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternalMovement {
    pub transfer_id: i64,
    pub date: NaiveDate,
    pub reference: String,
    pub amount_minor: i64,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchOptions {
    /// The days the run reconciles: its movements dated on them must be accounted for.
    pub run_days: RunDays,
    pub amount_tolerance_minor: i64,
    pub date_window_days: i64,
}

impl MatchOptions {
    /// A run of one day.
    pub fn one_day(date: NaiveDate, amount_tolerance_minor: i64, date_window_days: i64) -> Self {
        MatchOptions {
            run_days: RunDays::period(date, date),
            amount_tolerance_minor,
            date_window_days,
        }
    }
}

/// The days a run reconciles: a period, less the days another active run already reconciled
/// (their lines and movements belong to that run; its movements stay candidates for matching).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDays {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Inclusive ranges inside `from..=to` reconciled by other runs.
    pub covered_elsewhere: Vec<(NaiveDate, NaiveDate)>,
}

impl RunDays {
    pub fn period(from: NaiveDate, to: NaiveDate) -> RunDays {
        RunDays {
            from,
            to,
            covered_elsewhere: Vec::new(),
        }
    }

    /// Whether `date` is one of the run's own days.
    pub fn contains(&self, date: NaiveDate) -> bool {
        (self.from..=self.to).contains(&date) && !self.is_covered_elsewhere(date)
    }

    /// Whether another run reconciled `date`.
    pub fn is_covered_elsewhere(&self, date: NaiveDate) -> bool {
        self.covered_elsewhere
            .iter()
            .any(|(from, to)| (*from..=*to).contains(&date))
    }
}

/// Declaration order is the order of items in a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BreakKind {
    MissingInternal,
    MissingExternal,
    AmountMismatch,
    DuplicateExternal,
    Ambiguous,
    CurrencyMismatch,
    /// The statement's closing balance differs from the ledger's at the end of that day.
    BalanceMismatch,
}

impl BreakKind {
    pub const ALL: [BreakKind; 7] = [
        BreakKind::MissingInternal,
        BreakKind::MissingExternal,
        BreakKind::AmountMismatch,
        BreakKind::DuplicateExternal,
        BreakKind::Ambiguous,
        BreakKind::CurrencyMismatch,
        BreakKind::BalanceMismatch,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BreakKind::MissingInternal => "missing_internal",
            BreakKind::MissingExternal => "missing_external",
            BreakKind::AmountMismatch => "amount_mismatch",
            BreakKind::DuplicateExternal => "duplicate_external",
            BreakKind::Ambiguous => "ambiguous",
            BreakKind::CurrencyMismatch => "currency_mismatch",
            BreakKind::BalanceMismatch => "balance_mismatch",
        }
    }
}

impl fmt::Display for BreakKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for BreakKind {
    type Err = AppError;
    fn from_str(text: &str) -> AppResult<BreakKind> {
        BreakKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text.trim())
            .ok_or_else(|| AppError::invalid_input(format!("'{text}' is not a break kind")))
    }
}

/// One break. `difference_minor` is external − internal, an absent side counting as zero;
/// `None` only for `currency_mismatch`, where the amounts are not comparable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakItem {
    pub kind: BreakKind,
    pub reference: String,
    pub internal_amount_minor: Option<i64>,
    pub external_amount_minor: Option<i64>,
    pub difference_minor: Option<i64>,
    pub transfer_id: Option<i64>,
    /// `StatementLine::line` of the statement side, when there is one.
    pub statement_line: Option<u64>,
    /// The statement line's currency; the movement's for `missing_external`.
    pub currency: Currency,
    /// The movement's currency, when the item has a ledger side.
    pub internal_currency: Option<Currency>,
    /// The statement line's booking date; the movement's for `missing_external`.
    pub date: NaiveDate,
}

/// A statement line matched by amount and date: a judgement call worth keeping for audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FuzzyMatch {
    pub statement_line: u64,
    pub transfer_id: i64,
}

/// Statement lines and ledger movements that settle each other as a whole: one line for a
/// payout net of its fee, several lines of a batch for one movement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupedMatch {
    /// `StatementLine::line` of each line, ascending.
    pub statement_lines: Vec<u64>,
    /// Ascending.
    pub transfer_ids: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MatchResult {
    pub statement_lines: u64,
    /// Movements dated the run's days, plus movements of other days that matched a line.
    pub internal_entries: u64,
    pub matched: u64,
    pub matched_fuzzy: u64,
    /// Statement lines matched in groups, and the movements they settle.
    pub matched_grouped: u64,
    pub grouped_entries: u64,
    /// The groups, ordered by their first statement line.
    pub grouped_matches: Vec<GroupedMatch>,
    /// Sorted by kind, reference, statement line, transfer id.
    pub items: Vec<BreakItem>,
    /// The `matched_fuzzy` pairs, in statement order.
    pub fuzzy_matches: Vec<FuzzyMatch>,
}

impl MatchResult {
    pub fn count(&self, kind: BreakKind) -> u64 {
        self.items.iter().filter(|item| item.kind == kind).count() as u64
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PairKind {
    Matched,
    Fuzzy,
    AmountMismatch,
    CurrencyMismatch,
}

/// Match `lines` (all of the run) against `internal` (the run date's movements and those of
/// neighbouring days within the date window, which are candidates only).
#[tracing::instrument(
    name = "reconcile.match",
    skip_all,
    fields(statement_lines = lines.len(), internal_movements = internal.len())
)]
pub fn match_statement(
    lines: &[StatementLine],
    internal: &[InternalMovement],
    options: &MatchOptions,
) -> MatchResult {
    let options = MatchOptions {
        amount_tolerance_minor: options.amount_tolerance_minor.max(0),
        date_window_days: options.date_window_days.max(0),
        ..options.clone()
    };
    let mut matcher = Matcher::new(lines, internal, options);
    matcher.match_by_reference();
    matcher.match_statement_groups();
    matcher.match_by_amount_and_date();
    matcher.record_leftovers();
    matcher.finish()
}

/// What the reference pass needs of a line or movement, gathered in one sequential pass and
/// sorted by reference image, so the join reads memory in order instead of chasing pointers
/// to a million cold strings.
#[derive(Debug, Clone, Copy)]
struct ReferenceRecord {
    image: ReferenceImage,
    amount_minor: i64,
    currency: Currency,
    /// Movement index, or line rank in statement order.
    position: u32,
}

struct Matcher<'a> {
    lines: &'a [StatementLine],
    internal: &'a [InternalMovement],
    options: MatchOptions,
    /// How many times each line / movement is accounted for; must end at exactly one.
    line_accounted: Vec<u8>,
    movement_accounted: Vec<u8>,
    result: MatchResult,
}

impl<'a> Matcher<'a> {
    fn new(
        lines: &'a [StatementLine],
        internal: &'a [InternalMovement],
        options: MatchOptions,
    ) -> Matcher<'a> {
        assert!(
            lines.len() < u32::MAX as usize && internal.len() < u32::MAX as usize,
            "more lines or movements than u32 positions"
        );
        Matcher {
            lines,
            internal,
            options,
            line_accounted: vec![0; lines.len()],
            movement_accounted: vec![0; internal.len()],
            result: MatchResult {
                statement_lines: lines.len() as u64,
                ..MatchResult::default()
            },
        }
    }

    fn is_line_open(&self, index: usize) -> bool {
        self.line_accounted[index] == 0
    }

    fn is_movement_open(&self, index: usize) -> bool {
        self.movement_accounted[index] == 0
    }

    fn account_line(&mut self, index: usize) {
        assert!(
            self.is_line_open(index),
            "statement line {} paired twice",
            self.lines[index].line
        );
        self.line_accounted[index] += 1;
    }

    fn account_movement(&mut self, index: usize) {
        assert!(
            self.is_movement_open(index),
            "transfer {} paired twice",
            self.internal[index].transfer_id
        );
        self.movement_accounted[index] += 1;
    }

    fn record_pair(&mut self, line_index: usize, movement_index: usize, kind: PairKind) {
        self.account_line(line_index);
        self.account_movement(movement_index);
        let line = &self.lines[line_index];
        let movement = &self.internal[movement_index];
        let break_kind = match kind {
            PairKind::Matched => {
                self.result.matched += 1;
                return;
            }
            PairKind::Fuzzy => {
                self.result.fuzzy_matches.push(FuzzyMatch {
                    statement_line: line.line,
                    transfer_id: movement.transfer_id,
                });
                self.result.matched_fuzzy += 1;
                return;
            }
            PairKind::AmountMismatch => BreakKind::AmountMismatch,
            PairKind::CurrencyMismatch => BreakKind::CurrencyMismatch,
        };
        let comparable = break_kind != BreakKind::CurrencyMismatch;
        self.result.items.push(BreakItem {
            kind: break_kind,
            reference: line.reference.clone(),
            internal_amount_minor: Some(movement.amount_minor),
            external_amount_minor: Some(line.amount_minor),
            difference_minor: comparable
                .then(|| line.amount_minor.saturating_sub(movement.amount_minor)),
            transfer_id: Some(movement.transfer_id),
            statement_line: Some(line.line),
            currency: line.currency,
            internal_currency: Some(movement.currency),
            date: line.date,
        });
    }

    /// A break with only a statement side: duplicate, ambiguous or missing internally.
    fn record_line_break(&mut self, line_index: usize, kind: BreakKind) {
        self.account_line(line_index);
        let line = &self.lines[line_index];
        self.result.items.push(BreakItem {
            kind,
            reference: line.reference.clone(),
            internal_amount_minor: None,
            external_amount_minor: Some(line.amount_minor),
            difference_minor: Some(line.amount_minor),
            transfer_id: None,
            statement_line: Some(line.line),
            currency: line.currency,
            internal_currency: None,
            date: line.date,
        });
    }

    fn record_missing_external(&mut self, movement_index: usize) {
        self.account_movement(movement_index);
        let movement = &self.internal[movement_index];
        self.result.items.push(BreakItem {
            kind: BreakKind::MissingExternal,
            reference: movement.reference.clone(),
            internal_amount_minor: Some(movement.amount_minor),
            external_amount_minor: None,
            difference_minor: Some(movement.amount_minor.saturating_neg()),
            transfer_id: Some(movement.transfer_id),
            statement_line: None,
            currency: movement.currency,
            internal_currency: Some(movement.currency),
            date: movement.date,
        });
    }

    /// Lines meet the movements of their reference by a sort-merge join: on a million lines
    /// several times cheaper than a hash table, whose every probe is a cache miss.
    fn match_by_reference(&mut self) {
        let order = self.statement_order();
        let movement_records = reference_records(self.internal.iter().map(|movement| {
            (
                movement.reference.as_str(),
                movement.amount_minor,
                movement.currency,
            )
        }));
        let line_records = reference_records((0..self.lines.len() as u32).map(|rank| {
            let line = &self.lines[line_at(&order, rank)];
            (line.reference.as_str(), line.amount_minor, line.currency)
        }));
        let (mut movement_position, mut line_position) = (0, 0);
        while movement_position < movement_records.len() && line_position < line_records.len() {
            let movement_run = run_at(&movement_records, movement_position);
            let line_run = run_at(&line_records, line_position);
            let ordering = movement_run[0].image.cmp(&line_run[0].image);
            if ordering.is_le() {
                movement_position += movement_run.len();
            }
            if ordering.is_ge() {
                line_position += line_run.len();
            }
            if ordering.is_eq() {
                self.pair_run(movement_run, line_run, &order);
            }
        }
    }

    /// Movements and lines (in statement order) with the same reference image. One of each,
    /// same currency, within tolerance, is nearly every line of a day: decided from the
    /// records alone.
    fn pair_run(
        &mut self,
        movements: &[ReferenceRecord],
        lines: &[ReferenceRecord],
        order: &Option<Vec<u32>>,
    ) {
        let exact = image_is_exact(&movements[0].image);
        if let ([movement], [line]) = (movements, lines) {
            let fits = movement.currency == line.currency
                && gap(line.amount_minor, movement.amount_minor) <= self.tolerance();
            if exact && fits {
                let line_index = line_at(order, line.position);
                self.record_pair(line_index, movement.position as usize, PairKind::Matched);
                return;
            }
        }
        let movement_indexes: Vec<usize> = movements
            .iter()
            .map(|record| record.position as usize)
            .collect();
        let line_indexes: Vec<usize> = lines
            .iter()
            .map(|record| line_at(order, record.position))
            .collect();
        if exact {
            self.pair_reference_group(&movement_indexes, &line_indexes);
        } else {
            self.pair_by_text(&movement_indexes, &line_indexes);
        }
    }

    /// Ranks of lines by `StatementLine::line` when the slice is not already in that order, so
    /// the earlier line of a tie pairs first whatever order the caller passed. Readers
    /// produce sorted lines: then no copy is made.
    fn statement_order(&self) -> Option<Vec<u32>> {
        if self.lines.is_sorted_by_key(|line| line.line) {
            return None;
        }
        let mut order: Vec<u32> = (0..self.lines.len() as u32).collect();
        order.sort_by_key(|index| (self.lines[*index as usize].line, *index));
        Some(order)
    }

    /// Long references sharing a fingerprint, grouped by their text.
    fn pair_by_text(&mut self, movements: &[usize], lines: &[usize]) {
        let mut groups: Vec<(usize, Vec<usize>, Vec<usize>)> = Vec::new();
        for &movement in movements {
            match groups.iter_mut().find(|(first, _, _)| {
                self.internal[*first].reference_key() == self.internal[movement].reference_key()
            }) {
                Some((_, members, _)) => members.push(movement),
                None => groups.push((movement, vec![movement], Vec::new())),
            }
        }
        for &line in lines {
            if let Some((_, _, group_lines)) = groups
                .iter_mut()
                .find(|(first, _, _)| self.same_reference(line, *first))
            {
                group_lines.push(line);
            }
        }
        for (_, group_movements, group_lines) in groups {
            self.pair_reference_group(&group_movements, &group_lines);
        }
    }

    fn same_reference(&self, line_index: usize, movement_index: usize) -> bool {
        ReferenceKey::new(&self.lines[line_index].reference)
            == self.internal[movement_index].reference_key()
    }

    /// Lines pair with movements of the same reference: first every line that has a movement
    /// within tolerance, then the rest with whatever movement is left (a mismatch), and a line
    /// finding the group used up duplicates an earlier line.
    fn pair_reference_group(&mut self, movements: &[usize], lines: &[usize]) {
        let mut deferred = Vec::new();
        for &line_index in lines {
            match self.best_open(movements, line_index, true) {
                Some(movement_index) => {
                    self.record_pair(line_index, movement_index, PairKind::Matched)
                }
                None => deferred.push(line_index),
            }
        }
        let open_movements: Vec<usize> = movements
            .iter()
            .copied()
            .filter(|index| self.is_movement_open(*index))
            .collect();
        if self.settle_each_other(&deferred, &open_movements) {
            self.record_group(&deferred, &open_movements);
            return;
        }
        for line_index in deferred {
            match self.best_open(movements, line_index, false) {
                Some(movement_index) => {
                    let same_currency =
                        self.internal[movement_index].currency == self.lines[line_index].currency;
                    let kind = if same_currency {
                        PairKind::AmountMismatch
                    } else {
                        PairKind::CurrencyMismatch
                    };
                    self.record_pair(line_index, movement_index, kind);
                }
                None => self.record_line_break(line_index, BreakKind::DuplicateExternal),
            }
        }
    }

    /// Whether what is left of a reference group settles as a whole: lines and movements on
    /// both sides, more than one on at least one side (one against one is a mismatch), one
    /// currency, sums equal within tolerance.
    fn settle_each_other(&self, lines: &[usize], movements: &[usize]) -> bool {
        if lines.is_empty() || movements.is_empty() || lines.len() + movements.len() < 3 {
            return false;
        }
        let currency = self.lines[lines[0]].currency;
        let same_currency = lines
            .iter()
            .all(|index| self.lines[*index].currency == currency)
            && movements
                .iter()
                .all(|index| self.internal[*index].currency == currency);
        let lines_minor: i128 = lines
            .iter()
            .map(|index| i128::from(self.lines[*index].amount_minor))
            .sum();
        let movements_minor: i128 = movements
            .iter()
            .map(|index| i128::from(self.internal[*index].amount_minor))
            .sum();
        same_currency
            && (lines_minor - movements_minor).unsigned_abs() <= u128::from(self.tolerance())
    }

    fn record_group(&mut self, lines: &[usize], movements: &[usize]) {
        for &line_index in lines {
            self.account_line(line_index);
        }
        for &movement_index in movements {
            self.account_movement(movement_index);
        }
        let mut statement_lines: Vec<u64> =
            lines.iter().map(|index| self.lines[*index].line).collect();
        let mut transfer_ids: Vec<i64> = movements
            .iter()
            .map(|index| self.internal[*index].transfer_id)
            .collect();
        statement_lines.sort_unstable();
        transfer_ids.sort_unstable();
        self.result.matched_grouped += lines.len() as u64;
        self.result.grouped_entries += movements.len() as u64;
        self.result.grouped_matches.push(GroupedMatch {
            statement_lines,
            transfer_ids,
        });
    }

    /// The open movements sorted by (currency, amount, date), for range searches.
    fn open_movement_keys(&self) -> SortedKeys {
        SortedKeys::new(
            (0..self.internal.len())
                .filter(|index| self.is_movement_open(*index))
                .map(|index| {
                    let movement = &self.internal[index];
                    SortKey::new(
                        movement.currency,
                        movement.amount_minor,
                        movement.date,
                        index,
                    )
                }),
        )
    }

    /// Lines the bank booked as one entry (a camt batch: the same `group`), none matched by
    /// reference, settle the one open movement of their total within the date window of the
    /// entry, when exactly one fits.
    fn match_statement_groups(&mut self) {
        let mut groups: Vec<(u64, Vec<usize>)> = Vec::new();
        for (index, line) in self.lines.iter().enumerate() {
            let Some(group) = line.group else { continue };
            match groups.last_mut() {
                Some((last, members)) if *last == group => members.push(index),
                _ => groups.push((group, vec![index])),
            }
        }
        groups.retain(|(_, members)| {
            members.len() > 1 && members.iter().all(|index| self.is_line_open(*index))
        });
        if groups.is_empty() {
            return;
        }
        let movement_keys = self.open_movement_keys();
        for (_, members) in groups {
            let first = &self.lines[members[0]];
            let same_currency = members
                .iter()
                .all(|index| self.lines[*index].currency == first.currency);
            let total_minor = members.iter().try_fold(0_i64, |total, index| {
                total.checked_add(self.lines[*index].amount_minor)
            });
            let (true, Some(total_minor)) = (same_currency, total_minor) else {
                continue;
            };
            let probe = SortKey::new(first.currency, total_minor, first.date, usize::MAX);
            if let Candidates::One(movement_index) = movement_keys.candidates(&probe, &self.options)
            {
                if self.is_movement_open(movement_index) {
                    self.record_group(&members, &[movement_index]);
                }
            }
        }
    }

    /// The open movement that fits the line best: same currency, closest amount, closest date,
    /// lowest transfer id; with `within_tolerance_only`, only same-currency movements within
    /// tolerance qualify.
    fn best_open(
        &self,
        movements: &[usize],
        line_index: usize,
        within_tolerance_only: bool,
    ) -> Option<usize> {
        let line = &self.lines[line_index];
        movements
            .iter()
            .copied()
            .filter(|index| self.is_movement_open(*index))
            .map(|index| (self.fit(line, index), index))
            .filter(|((different_currency, amount_gap, _, _), _)| {
                !within_tolerance_only || (!different_currency && *amount_gap <= self.tolerance())
            })
            .min()
            .map(|(_, index)| index)
    }

    /// How well a movement fits a line, smaller is better.
    fn fit(&self, line: &StatementLine, movement_index: usize) -> (bool, u64, u64, i64) {
        let movement = &self.internal[movement_index];
        (
            movement.currency != line.currency,
            gap(line.amount_minor, movement.amount_minor),
            (line.date - movement.date).num_days().unsigned_abs(),
            movement.transfer_id,
        )
    }

    fn tolerance(&self) -> u64 {
        self.options.amount_tolerance_minor.unsigned_abs()
    }

    /// Open lines pair with open movements of the same currency within tolerance and date
    /// window, only when each is the other's sole candidate; other lines with candidates are
    /// ambiguous.
    fn match_by_amount_and_date(&mut self) {
        let open_lines: Vec<usize> = (0..self.lines.len())
            .filter(|index| self.is_line_open(*index))
            .collect();
        let movement_keys = self.open_movement_keys();
        let line_keys = SortedKeys::new(open_lines.iter().map(|index| {
            let line = &self.lines[*index];
            SortKey::new(line.currency, line.amount_minor, line.date, *index)
        }));
        let mut fuzzy = Vec::new();
        let mut ambiguous = Vec::new();
        for &line_index in &open_lines {
            let line = &self.lines[line_index];
            let probe = SortKey::new(line.currency, line.amount_minor, line.date, line_index);
            match movement_keys.candidates(&probe, &self.options) {
                Candidates::None => {}
                Candidates::One(movement_index) => {
                    let movement = &self.internal[movement_index];
                    let reverse = SortKey::new(
                        movement.currency,
                        movement.amount_minor,
                        movement.date,
                        movement_index,
                    );
                    if line_keys.candidates(&reverse, &self.options) == Candidates::One(line_index)
                    {
                        fuzzy.push((line_index, movement_index));
                    } else {
                        ambiguous.push(line_index);
                    }
                }
                Candidates::Many => ambiguous.push(line_index),
            }
        }
        for (line_index, movement_index) in fuzzy {
            self.record_pair(line_index, movement_index, PairKind::Fuzzy);
        }
        for line_index in ambiguous {
            self.record_line_break(line_index, BreakKind::Ambiguous);
        }
    }

    /// Lines nobody claimed are missing in the ledger; the run days' unclaimed movements are
    /// missing on the statement. Other days' movements belong to other runs.
    fn record_leftovers(&mut self) {
        for line_index in 0..self.lines.len() {
            if self.is_line_open(line_index) {
                self.record_line_break(line_index, BreakKind::MissingInternal);
            }
        }
        for movement_index in 0..self.internal.len() {
            let on_run_days = self
                .options
                .run_days
                .contains(self.internal[movement_index].date);
            if on_run_days && self.is_movement_open(movement_index) {
                self.record_missing_external(movement_index);
            }
        }
    }

    fn finish(mut self) -> MatchResult {
        self.result.internal_entries = self.count_internal_entries();
        self.assert_everything_accounted_once();
        self.result
            .fuzzy_matches
            .sort_by_key(|pair| (pair.statement_line, pair.transfer_id));
        self.result
            .grouped_matches
            .sort_by_key(|group| group.statement_lines[0]);
        self.result.items.sort_by(|left, right| {
            (
                left.kind,
                &left.reference,
                left.statement_line,
                left.transfer_id,
            )
                .cmp(&(
                    right.kind,
                    &right.reference,
                    right.statement_line,
                    right.transfer_id,
                ))
        });
        self.result
    }

    /// Movements of the run days plus those of other days that matched, checking on the way
    /// that each is accounted for once (other days' movements: once or not at all).
    fn count_internal_entries(&self) -> u64 {
        let mut entries = 0;
        for (movement, &accounted) in self.internal.iter().zip(&self.movement_accounted) {
            let on_run_days = self.options.run_days.contains(movement.date);
            assert!(
                accounted == 1 || (!on_run_days && accounted == 0),
                "transfer {} accounted for {accounted} times",
                movement.transfer_id
            );
            entries += u64::from(accounted == 1);
        }
        entries
    }

    /// The invariant of a reconciliation: every statement line and every movement dated on
    /// the run's days appears exactly once (matched or in one break), and the totals add up.
    /// (Movements were checked while counting them.)
    fn assert_everything_accounted_once(&self) {
        if let Some(index) = self
            .line_accounted
            .iter()
            .position(|accounted| *accounted != 1)
        {
            panic!(
                "statement line {} accounted for {} times",
                self.lines[index].line, self.line_accounted[index]
            );
        }
        let result = &self.result;
        let count = |kind| result.count(kind);
        let paired_breaks = count(BreakKind::AmountMismatch) + count(BreakKind::CurrencyMismatch);
        let line_only_breaks = count(BreakKind::DuplicateExternal)
            + count(BreakKind::Ambiguous)
            + count(BreakKind::MissingInternal);
        assert_eq!(result.fuzzy_matches.len() as u64, result.matched_fuzzy);
        let grouped_lines: usize = result
            .grouped_matches
            .iter()
            .map(|group| group.statement_lines.len())
            .sum();
        let grouped_movements: usize = result
            .grouped_matches
            .iter()
            .map(|group| group.transfer_ids.len())
            .sum();
        assert_eq!(grouped_lines as u64, result.matched_grouped);
        assert_eq!(grouped_movements as u64, result.grouped_entries);
        assert_eq!(
            count(BreakKind::BalanceMismatch),
            0,
            "matching compares no balances"
        );
        let paired = result.matched + result.matched_fuzzy + paired_breaks;
        assert_eq!(
            result.statement_lines,
            paired + result.matched_grouped + line_only_breaks,
            "statement lines do not add up"
        );
        assert_eq!(
            result.internal_entries,
            paired + result.grouped_entries + count(BreakKind::MissingExternal),
            "internal entries do not add up"
        );
    }
}

fn gap(left: i64, right: i64) -> u64 {
    (i128::from(left) - i128::from(right)).unsigned_abs() as u64
}

impl InternalMovement {
    fn reference_key(&self) -> Option<ReferenceKey<'_>> {
        ReferenceKey::new(&self.reference)
    }
}

/// Records of the non-blank references, positions in iteration order, sorted by image.
fn reference_records<'t>(
    items: impl Iterator<Item = (&'t str, i64, Currency)>,
) -> Vec<ReferenceRecord> {
    // Room for every item at once: a filtered collect grows by doubling, copying and
    // faulting in the records again and again.
    let mut records: Vec<ReferenceRecord> = Vec::with_capacity(items.size_hint().0);
    records.extend(items.enumerate().filter_map(
        |(position, (reference, amount_minor, currency))| {
            ReferenceKey::new(reference).map(|key| ReferenceRecord {
                image: key.image(),
                amount_minor,
                currency,
                position: position as u32,
            })
        },
    ));
    records.sort_unstable_by(|left, right| {
        (left.image, left.position).cmp(&(right.image, right.position))
    });
    records
}

/// The records from `start` sharing its image.
fn run_at(records: &[ReferenceRecord], start: usize) -> &[ReferenceRecord] {
    let image = records[start].image;
    let length = records[start..]
        .iter()
        .take_while(|record| record.image == image)
        .count();
    &records[start..start + length]
}

/// The line at `rank` in statement order.
fn line_at(order: &Option<Vec<u32>>, rank: u32) -> usize {
    order
        .as_ref()
        .map_or(rank as usize, |order| order[rank as usize] as usize)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct SortKey {
    currency: Currency,
    amount_minor: i64,
    date: NaiveDate,
    index: usize,
}

impl SortKey {
    fn new(currency: Currency, amount_minor: i64, date: NaiveDate, index: usize) -> SortKey {
        SortKey {
            currency,
            amount_minor,
            date,
            index,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Candidates {
    None,
    One(usize),
    Many,
}

/// Open lines or movements sorted by (currency, amount, date) for range searches.
struct SortedKeys {
    keys: Vec<SortKey>,
}

impl SortedKeys {
    fn new(keys: impl Iterator<Item = SortKey>) -> SortedKeys {
        let mut keys: Vec<SortKey> = keys.collect();
        keys.sort_unstable();
        SortedKeys { keys }
    }

    /// First position at or after (currency, amount, date).
    fn lower_bound(&self, currency: Currency, amount_minor: i64, date: NaiveDate) -> usize {
        self.keys.partition_point(|key| {
            (key.currency, key.amount_minor, key.date) < (currency, amount_minor, date)
        })
    }

    /// Keys of the same currency within tolerance and window of `probe`, counted up to two.
    /// Within each amount, dates outside the window are skipped by binary search, so a crowd
    /// of equal amounts on other days costs a few jumps, not a scan.
    fn candidates(&self, probe: &SortKey, options: &MatchOptions) -> Candidates {
        let tolerance = options.amount_tolerance_minor;
        let amount_high = probe.amount_minor.saturating_add(tolerance);
        let window = TimeDelta::try_days(options.date_window_days);
        let date_low = window
            .and_then(|window| probe.date.checked_sub_signed(window))
            .unwrap_or(NaiveDate::MIN);
        let date_high = window
            .and_then(|window| probe.date.checked_add_signed(window))
            .unwrap_or(NaiveDate::MAX);
        let mut found = Candidates::None;
        let low = probe.amount_minor.saturating_sub(tolerance);
        let mut position = self.lower_bound(probe.currency, low, date_low);
        while let Some(key) = self.keys.get(position) {
            if key.currency != probe.currency || key.amount_minor > amount_high {
                break;
            }
            if key.date < date_low {
                position = self.lower_bound(probe.currency, key.amount_minor, date_low);
                continue;
            }
            if key.date > date_high {
                let next_amount = key.amount_minor.saturating_add(1);
                if next_amount == key.amount_minor {
                    break;
                }
                position = self.lower_bound(probe.currency, next_amount, date_low);
                continue;
            }
            found = match found {
                Candidates::None => Candidates::One(key.index),
                _ => return Candidates::Many,
            };
            position += 1;
        }
        found
    }
}
