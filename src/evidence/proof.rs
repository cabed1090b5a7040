//! Proving rows against the bindings of the audit chain (no I/O: the caller walks the chain
//! into a `BindingIndex`, then streams each table through a `TableProof`).

use super::{Binding, RowDigest, TableEvidence, ROW_TAG_HEX};
use crate::text::to_hex;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};

/// One thing `ledger verify` found wrong, in words, with the row it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    /// Which check failed (`row_matches_audit`, `row_recorded`, `entries_follow_transfer`, …).
    pub(crate) check: &'static str,
    pub(crate) table: &'static str,
    /// The row's key (a transfer id, an account number, an audit seq, …).
    pub(crate) id: String,
    /// The audit event that recorded the row, when one did.
    pub(crate) seq: Option<i64>,
    pub(crate) detail: String,
}

impl Finding {
    pub(crate) fn new(
        check: &'static str,
        table: &'static str,
        id: impl Into<String>,
        seq: Option<i64>,
        detail: String,
    ) -> Finding {
        Finding {
            check,
            table,
            id: id.into(),
            seq,
            detail,
        }
    }
}

/// What one event recorded of one row.
#[derive(Debug, Clone)]
struct RowRecord {
    seq: i64,
    /// `Some(cells)` as written, `None` deleted; `Legacy` events recorded no content.
    content: RowContent,
    /// The row's digest before the change, when a batch wrote it.
    previous: Option<[u8; 32]>,
}

#[derive(Debug, Clone)]
enum RowContent {
    Cells(Vec<Option<String>>),
    Deleted,
    /// An event written before row bindings: it covers the row without recording it.
    Legacy,
}

/// What one event recorded of a batch.
#[derive(Debug, Clone)]
struct BatchRecord {
    seq: i64,
    first: i64,
    last: i64,
    count: u64,
    sha256: String,
    tags: String,
}

/// Every binding of the chain, by table and key.
#[derive(Debug, Default)]
pub(crate) struct BindingIndex {
    /// By table, then key: every event that recorded the row, oldest first.
    rows: HashMap<&'static str, HashMap<String, Vec<RowRecord>>>,
    batches: HashMap<&'static str, Vec<BatchRecord>>,
    /// Bindings naming a table verify does not know (a newer fincore wrote them).
    pub(crate) unknown_tables: Vec<(i64, String)>,
    /// Runs recorded by events from before row bindings: their items and assessments are
    /// covered without content (table of the children, run id).
    legacy_parents: HashSet<(&'static str, String)>,
}

impl BindingIndex {
    pub(crate) fn add(&mut self, seq: i64, binding: Binding) {
        let Some(table) = super::table(binding.table()) else {
            self.unknown_tables.push((seq, binding.table().to_string()));
            return;
        };
        match binding {
            Binding::Row {
                key,
                values,
                previous,
                ..
            } => {
                let content = values.map_or(RowContent::Deleted, RowContent::Cells);
                self.push_row(table.name, key, seq, content, previous);
            }
            Binding::Batch {
                first,
                last,
                count,
                sha256,
                tags,
                ..
            } => self
                .batches
                .entry(table.name)
                .or_default()
                .push(BatchRecord {
                    seq,
                    first,
                    last,
                    count,
                    sha256,
                    tags,
                }),
        }
    }

    /// An event from before row bindings that created or changed `key` of `table`.
    pub(crate) fn add_legacy(&mut self, seq: i64, table: &'static TableEvidence, key: String) {
        self.push_row(table.name, key, seq, RowContent::Legacy, None);
    }

    /// A legacy run event: the rows of `children` whose `run_id` is `run_id` are covered.
    pub(crate) fn add_legacy_parent(&mut self, children: &'static TableEvidence, run_id: String) {
        self.legacy_parents.insert((children.name, run_id));
    }

    /// A legacy import event: its transfers are proven by the caller (legacy digest).
    pub(crate) fn add_legacy_batch(&mut self, seq: i64, first: i64, last: i64) {
        let batches = self.batches.entry(super::TRANSFERS.name).or_default();
        batches.push(BatchRecord {
            seq,
            first,
            last,
            count: 0,
            sha256: String::new(),
            tags: String::new(),
        });
    }

    fn push_row(
        &mut self,
        table: &'static str,
        key: String,
        seq: i64,
        content: RowContent,
        previous: Option<String>,
    ) {
        let previous = previous.as_deref().and_then(from_hex);
        let rows = self.rows.entry(table).or_default();
        rows.entry(key).or_default().push(RowRecord {
            seq,
            content,
            previous,
        });
    }

    /// The highest key of an integer-keyed table that any event records (0 when none).
    pub(crate) fn last_integer_key(&self, table: &TableEvidence) -> i64 {
        let rows = self
            .rows
            .get(table.name)
            .into_iter()
            .flat_map(HashMap::keys)
            .filter_map(|key| key.parse::<i64>().ok());
        let batches = self
            .batches
            .get(table.name)
            .into_iter()
            .flatten()
            .map(|batch| batch.last);
        rows.chain(batches).max().unwrap_or(0)
    }

    /// Every key `1..=last` of an integer-keyed table recorded by exactly one creating event
    /// (a row's first binding, or a batch): the ids a gap or an overlap leaves.
    pub(crate) fn coverage_findings(
        &self,
        table: &'static TableEvidence,
        last: i64,
    ) -> Vec<Finding> {
        let rows = self.rows.get(table.name).into_iter().flatten();
        let mut spans: Vec<(i64, i64, i64)> = rows
            .filter_map(|(key, history)| Some((key.parse().ok()?, history.first()?)))
            .filter(|(_, first)| first.previous.is_none())
            .map(|(key, first): (i64, &RowRecord)| (key, key, first.seq))
            .collect();
        let batches = self.batches.get(table.name).into_iter().flatten();
        spans.extend(batches.map(|batch| (batch.first, batch.last, batch.seq)));
        spans.sort_unstable();
        let mut findings = Vec::new();
        let mut next = 1;
        let name = table.name;
        for (first, span_last, seq) in spans {
            if first > next {
                findings.push(coverage_gap(name, next, first - 1));
            } else if first < next {
                findings.push(Finding::new(
                    "recorded_once",
                    name,
                    first.to_string(),
                    Some(seq),
                    format!("{name} {first}: recorded by more than one event (again at audit seq {seq})"),
                ));
            }
            next = next.max(span_last + 1);
        }
        if next <= last {
            findings.push(coverage_gap(name, next, last));
        }
        findings
    }

    /// The proof of one table, to stream its rows through in key order.
    pub(crate) fn table_proof(&self, table: &'static TableEvidence) -> TableProof<'_> {
        self.table_proof_of_keys(table, KeyRange::ALL)
    }

    /// The proof of the rows of an integer-keyed table within `keys` (see `split_keys`).
    pub(crate) fn table_proof_of_keys(
        &self,
        table: &'static TableEvidence,
        keys: KeyRange,
    ) -> TableProof<'_> {
        let mut batches: Vec<BatchFold<'_>> = self
            .batches
            .get(table.name)
            .into_iter()
            .flatten()
            .filter(|batch| keys.contains(batch.first))
            .map(BatchFold::new)
            .collect();
        batches.sort_by_key(|fold| fold.record.first);
        TableProof {
            table,
            keys,
            rows_recorded: self.rows.get(table.name),
            legacy_parents: &self.legacy_parents,
            batches,
            seen: HashSet::new(),
            findings: Vec::new(),
            rows: 0,
        }
    }

    /// Two key ranges of about equal size for an integer-keyed table whose keys run up to
    /// `last`, split where no batch spans the boundary (each batch is proven whole by one).
    pub(crate) fn split_keys(&self, table: &TableEvidence, last: i64) -> [KeyRange; 2] {
        let mut middle = last / 2 + 1;
        for batch in self.batches.get(table.name).into_iter().flatten() {
            if batch.first < middle && middle <= batch.last {
                middle = batch.first;
            }
        }
        [
            KeyRange {
                first: i64::MIN,
                last: middle - 1,
            },
            KeyRange {
                first: middle,
                last: i64::MAX,
            },
        ]
    }
}

/// Keys `first..=last` of an integer-keyed table (all keys of any table: `ALL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyRange {
    pub(crate) first: i64,
    pub(crate) last: i64,
}

impl KeyRange {
    pub(crate) const ALL: KeyRange = KeyRange {
        first: i64::MIN,
        last: i64::MAX,
    };

    fn contains(&self, key: i64) -> bool {
        self.first <= key && key <= self.last
    }

    /// Whether a row binding's key is this range's (text keys: only `ALL` has them).
    fn owns(&self, key: &str) -> bool {
        *self == KeyRange::ALL || key.parse::<i64>().is_ok_and(|key| self.contains(key))
    }
}

/// A batch being folded as its rows stream by.
struct BatchFold<'a> {
    record: &'a BatchRecord,
    /// SHA-256 over the rows' digests in key order, and how many.
    digest: Sha256,
    count: u64,
    /// Which positions were seen (keys `first..=last` are consecutive).
    seen: Vec<bool>,
    /// Rows already named as edited (so the batch mismatch is not reported again).
    named: usize,
}

impl<'a> BatchFold<'a> {
    fn new(record: &'a BatchRecord) -> BatchFold<'a> {
        let span = usize::try_from(record.last - record.first + 1).unwrap_or(0);
        BatchFold {
            record,
            digest: Sha256::new(),
            count: 0,
            seen: vec![false; span.min(super::BATCH_ROWS_MAX)],
            named: 0,
        }
    }

    fn is_legacy(&self) -> bool {
        self.record.sha256.is_empty()
    }

    /// Whether the batch recorded `digest`'s tag for the row at `position`.
    fn tag_matches(&self, position: usize, digest: &[u8; 32]) -> bool {
        let Some(recorded) = self
            .record
            .tags
            .as_bytes()
            .get(position * ROW_TAG_HEX..(position + 1) * ROW_TAG_HEX)
        else {
            return false;
        };
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        recorded.chunks(2).zip(digest).all(|(pair, byte)| {
            pair[0] == DIGITS[usize::from(byte >> 4)] && pair[1] == DIGITS[usize::from(byte & 15)]
        })
    }
}

/// Streams one table's rows (in key order) against the chain's bindings.
pub(crate) struct TableProof<'a> {
    table: &'static TableEvidence,
    /// The keys this proof streams (the rest is another proof's).
    keys: KeyRange,
    /// The row bindings of this table, by key.
    rows_recorded: Option<&'a HashMap<String, Vec<RowRecord>>>,
    legacy_parents: &'a HashSet<(&'static str, String)>,
    batches: Vec<BatchFold<'a>>,
    /// Keys seen that some row binding records.
    seen: HashSet<String>,
    pub(crate) findings: Vec<Finding>,
    pub(crate) rows: u64,
}

impl TableProof<'_> {
    /// One row as stored now: its evidence cells in column order.
    pub(crate) fn row(&mut self, cells: &[Option<&str>]) {
        self.rows += 1;
        let key = cells[self.key_index()].unwrap_or("");
        let history = self.rows_recorded.and_then(|rows| rows.get(key));
        let created = match history {
            Some(history) => {
                self.seen.insert(key.to_string());
                self.check_latest(key, cells, history);
                // A row a batch wrote and an event changed since: the change recorded its
                // digest before, which the batch folds.
                history.first().and_then(|first| first.previous)
            }
            None => Some(RowDigest::of(cells.iter().copied())),
        };
        let in_batch = self.fold_into_batch(key, created.as_ref(), history.is_some());
        if history.is_none() && !in_batch && !self.legacy_child(cells) {
            self.findings.push(Finding::new(
                "row_recorded",
                self.table.name,
                key,
                None,
                format!(
                    "{} {key}: no audit event records this row (written outside fincore)",
                    self.table.name
                ),
            ));
        }
    }

    /// A row of a run recorded before row bindings (its `run_id` names a legacy run).
    fn legacy_child(&self, cells: &[Option<&str>]) -> bool {
        let Some(index) = self
            .table
            .columns
            .iter()
            .position(|column| *column == "run_id")
        else {
            return false;
        };
        let run_id = cells[index].unwrap_or("").to_string();
        self.legacy_parents.contains(&(self.table.name, run_id))
    }

    fn key_index(&self) -> usize {
        self.table
            .columns
            .iter()
            .position(|column| *column == self.table.key)
            .expect("the key is an evidence column")
    }

    /// The row must equal what its newest event recorded.
    fn check_latest(&mut self, key: &str, cells: &[Option<&str>], history: &[RowRecord]) {
        let latest = history.last().expect("a history has an event");
        let name = self.table.name;
        let detail = match &latest.content {
            RowContent::Legacy => return,
            RowContent::Deleted => format!(
                "{name} {key}: audit seq {} recorded this row's deletion, but it exists",
                latest.seq
            ),
            RowContent::Cells(recorded) => {
                let differences = differences(self.table, cells, recorded);
                if differences.is_empty() {
                    return;
                }
                format!(
                    "{name} {key}: {} (recorded at audit seq {})",
                    differences.join("; "),
                    latest.seq
                )
            }
        };
        self.findings.push(Finding::new(
            "row_matches_audit",
            name,
            key,
            Some(latest.seq),
            detail,
        ));
    }

    /// Fold the row into the batch that wrote it, if one did; whether one did.
    fn fold_into_batch(&mut self, key: &str, created: Option<&[u8; 32]>, row_bound: bool) -> bool {
        let Some(number) = key.parse::<i64>().ok().filter(|_| self.table.integer_key) else {
            return false;
        };
        let position = self
            .batches
            .partition_point(|fold| fold.record.first <= number);
        if position == 0 || self.batches[position - 1].record.last < number {
            return false;
        }
        let name = self.table.name;
        let fold = &mut self.batches[position - 1];
        if row_bound && created.is_none() && !fold.is_legacy() {
            // Written by its own event and by a batch: a forged binding or a forged row.
            self.findings.push(Finding::new(
                "row_recorded_once",
                name,
                key,
                Some(fold.record.seq),
                format!(
                    "{name} {key}: recorded both by its own event and by the batch at audit seq {}",
                    fold.record.seq
                ),
            ));
            return true;
        }
        let offset = usize::try_from(number - fold.record.first).unwrap_or(usize::MAX);
        if let Some(seen) = fold.seen.get_mut(offset) {
            *seen = true;
        }
        if fold.is_legacy() {
            return true;
        }
        let created = created.copied().unwrap_or([0u8; 32]);
        fold.digest.update(created);
        fold.count += 1;
        if !fold.tag_matches(offset, &created) {
            fold.named += 1;
            let seq = fold.record.seq;
            let (first, last) = (fold.record.first, fold.record.last);
            self.findings.push(Finding::new(
                "row_matches_audit",
                name,
                key,
                Some(seq),
                format!(
                    "{name} {key}: the row differs from what audit seq {seq} recorded for {name} {first}..{last}"
                ),
            ));
        }
        true
    }

    /// After the last row: rows the chain records that are gone, and every batch's proof.
    pub(crate) fn finish(mut self) -> Vec<Finding> {
        let name = self.table.name;
        let mut gone: Vec<(&String, &RowRecord)> = self
            .rows_recorded
            .into_iter()
            .flatten()
            .filter(|(key, _)| self.keys.owns(key) && !self.seen.contains(*key))
            .filter_map(|(key, history)| Some((key, history.last()?)))
            .filter(|(_, latest)| !matches!(latest.content, RowContent::Deleted))
            .collect();
        gone.sort_by_key(|(_, latest)| latest.seq);
        for (key, latest) in gone {
            let in_batch = key
                .parse::<i64>()
                .ok()
                .is_some_and(|number| self.batch_covers(number));
            if in_batch {
                // Reported by the batch as a missing row.
                continue;
            }
            self.findings.push(Finding::new(
                "row_exists",
                name,
                key.as_str(),
                Some(latest.seq),
                format!(
                    "{name} {key}: recorded at audit seq {} but deleted",
                    latest.seq
                ),
            ));
        }
        let batches = std::mem::take(&mut self.batches);
        for fold in batches {
            self.finish_batch(fold);
        }
        self.findings
    }

    fn batch_covers(&self, number: i64) -> bool {
        self.batches
            .iter()
            .any(|fold| fold.record.first <= number && number <= fold.record.last)
    }

    fn finish_batch(&mut self, fold: BatchFold<'_>) {
        let name = self.table.name;
        let record = fold.record;
        let mut missing = 0;
        for (offset, seen) in fold.seen.iter().enumerate() {
            if !seen {
                missing += 1;
                let key = record.first + offset as i64;
                self.findings.push(Finding::new(
                    "row_exists",
                    name,
                    key.to_string(),
                    Some(record.seq),
                    format!(
                        "{name} {key}: recorded at audit seq {} but deleted",
                        record.seq
                    ),
                ));
            }
        }
        if fold.is_legacy() || missing > 0 || fold.named > 0 {
            return;
        }
        if fold.count != record.count || to_hex(&fold.digest.finalize()) != record.sha256 {
            self.findings.push(Finding::new(
                "row_matches_audit",
                name,
                format!("{}..{}", record.first, record.last),
                Some(record.seq),
                format!(
                    "{name} {}..{}: the rows differ from what audit seq {} recorded",
                    record.first, record.last, record.seq
                ),
            ));
        }
    }
}

fn coverage_gap(table: &'static str, first: i64, last: i64) -> Finding {
    Finding::new(
        "recorded_once",
        table,
        first.to_string(),
        None,
        format!("{table} {first}..{last}: no audit event records these ids"),
    )
}

/// `column is 'now', recorded 'then'` for every column that differs.
fn differences(
    table: &TableEvidence,
    cells: &[Option<&str>],
    recorded: &[Option<String>],
) -> Vec<String> {
    let shown = |cell: Option<&str>| cell.map_or("NULL".to_string(), |text| format!("'{text}'"));
    table
        .columns
        .iter()
        .enumerate()
        .filter_map(|(index, column)| {
            let now = cells.get(index).copied().flatten();
            let then = recorded.get(index).and_then(|cell| cell.as_deref());
            (now != then).then(|| format!("{column} is {}, recorded {}", shown(now), shown(then)))
        })
        .collect()
}

fn from_hex(hex: &str) -> Option<[u8; 32]> {
    let mut bytes = [0u8; 32];
    if hex.len() != 64 {
        return None;
    }
    for (index, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(index * 2..index * 2 + 2)?, 16).ok()?;
    }
    Some(bytes)
}
