//! Row evidence: what an audit event records of the rows it created or changed, so that
//! `ledger verify` can prove every row of money and state against the chain.
//!
//! A row's digest is SHA-256 over its evidence columns as stored, each cell as text (integers
//! in decimal, as `CAST(… AS TEXT)` gives them on both backends) or NULL, length-prefixed so no
//! two rows share an encoding. An event binds either one row (its digest after the change, or
//! its deletion) or a run of consecutive integer keys written together (an import batch, a
//! run's items): the count, SHA-256 over the rows' digests in key order, and a short tag per
//! row that lets verify name the edited row of a batch (the tag only locates; the batch
//! digest proves).
//!
//! Tables bound here are listed in `TABLES`. The others are proven otherwise: `entries` are
//! what the posting rule makes of each bound transfer, `audit_events` is the chain itself,
//! `ledger_head` must equal the chain's tip and the last bound transfer, and `risk_latest` must
//! equal each account's newest bound assessment.

use crate::text::to_hex;
use sha2::{Digest, Sha256};

pub(crate) mod derived;
pub(crate) mod proof;

/// Most rows one batch binding may cover (verify keeps a flag per row of a batch).
pub(crate) const BATCH_ROWS_MAX: usize = 10_000_000;

/// One table whose rows audit events bind.
#[derive(Debug)]
pub(crate) struct TableEvidence {
    pub(crate) name: &'static str,
    /// The primary key column (an integer key when `integer_key`).
    pub(crate) key: &'static str,
    pub(crate) integer_key: bool,
    /// Every column that is evidence, in table order (the key included).
    pub(crate) columns: &'static [&'static str],
}

pub(crate) const ACCOUNTS: TableEvidence = TableEvidence {
    name: "accounts",
    key: "number",
    integer_key: false,
    // `balance_minor` is proven against the entries; `updated_at_us` is not evidence (see
    // `NOT_EVIDENCE`).
    columns: &[
        "number",
        "holder",
        "account_type",
        "currency",
        "status",
        "overdraft_limit_minor",
        "created_at_us",
        "iban",
        "bank_account",
    ],
};

pub(crate) const TRANSFERS: TableEvidence = TableEvidence {
    name: "transfers",
    key: "id",
    integer_key: true,
    columns: &[
        "id",
        "idempotency_key",
        "payload_hash",
        "kind",
        "from_account",
        "to_account",
        "amount_minor",
        "currency",
        "status",
        "error_code",
        "error_message",
        "reference",
        "description",
        "at_us",
        "created_at_us",
        "risk_score",
        "risk_level",
        "risk_decision",
        "risk_factors",
        "reverses_id",
        "operator",
        "trace_id",
    ],
};

pub(crate) const RISK_RULE_SETS: TableEvidence = TableEvidence {
    name: "risk_rule_sets",
    key: "version",
    integer_key: true,
    columns: &[
        "version",
        "fingerprint",
        "rules_toml",
        "source",
        "active",
        "imported_at_us",
        "operator",
    ],
};

pub(crate) const RISK_BLACKLIST: TableEvidence = TableEvidence {
    name: "risk_blacklist",
    key: "number",
    integer_key: false,
    columns: &["number", "reason", "added_at_us", "operator"],
};

pub(crate) const RISK_RUNS: TableEvidence = TableEvidence {
    name: "risk_runs",
    key: "id",
    integer_key: true,
    columns: &[
        "id",
        "as_of_us",
        "created_at_us",
        "operator",
        "rules_fingerprint",
        "accounts",
        "changed",
        "frozen",
        "trace_id",
    ],
};

pub(crate) const RISK_ASSESSMENTS: TableEvidence = TableEvidence {
    name: "risk_assessments",
    key: "id",
    integer_key: true,
    columns: &[
        "id", "run_id", "account", "as_of_us", "score", "level", "decision", "factors", "profile",
    ],
};

pub(crate) const RECONCILE_RUNS: TableEvidence = TableEvidence {
    name: "reconcile_runs",
    key: "id",
    integer_key: true,
    columns: &[
        "id",
        "account",
        "run_date",
        "superseded_by",
        "supersedes",
        "currency",
        "statement_file",
        "input_format",
        "statement_account",
        "amount_tolerance_minor",
        "date_window_days",
        "statement_lines",
        "internal_entries",
        "matched",
        "matched_fuzzy",
        "missing_internal",
        "missing_external",
        "amount_mismatch",
        "duplicate_external",
        "ambiguous",
        "currency_mismatch",
        "balance_currency",
        "balance_date",
        "statement_opening_minor",
        "statement_closing_minor",
        "ledger_closing_minor",
        "operator",
        "trace_id",
        "created_at_us",
        "period_from",
        "period_to",
        "date_given",
        "lines_outside_run",
        "lines_already_reconciled",
        "matched_grouped",
        "grouped_entries",
        "balance_mismatch",
    ],
};

pub(crate) const RECONCILE_ITEMS: TableEvidence = TableEvidence {
    name: "reconcile_items",
    key: "id",
    integer_key: true,
    columns: &[
        "id",
        "run_id",
        "kind",
        "reference",
        "currency",
        "internal_currency",
        "internal_amount_minor",
        "external_amount_minor",
        "difference_minor",
        "transfer_id",
        "statement_line",
        "resolution",
        "resolution_note",
        "resolution_transfer_id",
        "resolved_by",
        "resolved_at_us",
        "resolved_in_item",
        "booked_on",
    ],
};

pub(crate) const ALERT_STATES: TableEvidence = TableEvidence {
    name: "alert_states",
    key: "rule",
    integer_key: false,
    columns: &[
        "rule",
        "kind",
        "severity",
        "firing",
        "since_us",
        "resolved_at_us",
        "value",
        "unit",
        "message",
        "updated_at_us",
    ],
};

/// Every table whose rows events bind, in the order verify reports them.
pub(crate) const TABLES: &[&TableEvidence] = &[
    &ACCOUNTS,
    &TRANSFERS,
    &RISK_RULE_SETS,
    &RISK_BLACKLIST,
    &RISK_RUNS,
    &RISK_ASSESSMENTS,
    &RECONCILE_RUNS,
    &RECONCILE_ITEMS,
    &ALERT_STATES,
];

/// Columns that are not evidence, and why (the README lists them; verify never trusts them).
pub(crate) const NOT_EVIDENCE: &[(&str, &str, &str)] = &[(
    "accounts",
    "updated_at_us",
    "when the row was last written (every posting rewrites it); no amount, limit or decision reads it",
)];

pub(crate) fn table(name: &str) -> Option<&'static TableEvidence> {
    TABLES.iter().copied().find(|table| table.name == name)
}

/// Hex characters of a row's tag in a batch binding (16 bits: locates an edited row with
/// probability 1 - 1/65,536; the batch digest proves the edit either way).
pub(crate) const ROW_TAG_HEX: usize = 4;

/// SHA-256 over a row's cells (text or NULL), length-prefixed.
#[derive(Clone, Default)]
pub(crate) struct RowDigest(Sha256);

impl RowDigest {
    pub(crate) fn cell(&mut self, cell: Option<&str>) {
        match cell {
            None => self.0.update([0u8]),
            Some(text) => {
                self.0.update([1u8]);
                self.0.update((text.len() as u64).to_be_bytes());
                self.0.update(text.as_bytes());
            }
        }
    }

    pub(crate) fn integer(&mut self, value: Option<i64>) {
        match value {
            None => self.cell(None),
            Some(value) => {
                let mut buffer = [0u8; 20];
                self.cell(Some(decimal(value, &mut buffer)));
            }
        }
    }

    pub(crate) fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }

    pub(crate) fn of<'a>(cells: impl IntoIterator<Item = Option<&'a str>>) -> [u8; 32] {
        let mut digest = RowDigest::default();
        for cell in cells {
            digest.cell(cell);
        }
        digest.finish()
    }
}

/// `value` in decimal, as the databases cast an integer to text, without a heap allocation.
pub(crate) fn decimal(value: i64, buffer: &mut [u8; 20]) -> &str {
    let mut magnitude = value.unsigned_abs();
    let mut start = buffer.len();
    loop {
        start -= 1;
        buffer[start] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    if value < 0 {
        start -= 1;
        buffer[start] = b'-';
    }
    std::str::from_utf8(&buffer[start..]).expect("ASCII digits")
}

/// The tag of a row digest in a batch binding.
pub(crate) fn row_tag(digest: &[u8; 32]) -> String {
    to_hex(&digest[..ROW_TAG_HEX / 2])
}

/// A run of consecutive keys folded in key order: what a batch binding records.
#[derive(Clone, Default)]
pub(crate) struct BatchDigest {
    hasher: Sha256,
    pub(crate) first: Option<i64>,
    pub(crate) last: i64,
    pub(crate) count: u64,
    pub(crate) tags: String,
}

impl BatchDigest {
    pub(crate) fn add(&mut self, key: i64, digest: &[u8; 32]) {
        self.first.get_or_insert(key);
        self.last = key;
        self.count += 1;
        self.hasher.update(digest);
        self.tags.push_str(&row_tag(digest));
    }

    pub(crate) fn hex(&self) -> String {
        to_hex(&self.hasher.clone().finalize())
    }

    /// The binding of the rows added so far (None when none were).
    pub(crate) fn binding(self, table: &TableEvidence) -> Option<Binding> {
        let first = self.first?;
        Some(Binding::Batch {
            table: table.name.to_string(),
            first,
            last: self.last,
            count: self.count,
            sha256: self.hex(),
            tags: self.tags,
        })
    }
}

/// What an event records of one row or one batch of rows (the `rows` list of its details).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub(crate) enum Binding {
    /// Consecutive integer keys `first..=last` written together, `count` rows.
    Batch {
        table: String,
        first: i64,
        last: i64,
        count: u64,
        sha256: String,
        tags: String,
    },
    /// One row after the change, its evidence cells in column order (`values` None: the row
    /// was deleted). `previous` is the row's digest before the change when a batch wrote it, so
    /// the batch stays provable.
    Row {
        table: String,
        key: String,
        values: Option<Vec<Option<String>>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous: Option<String>,
    },
}

impl Binding {
    pub(crate) fn row(
        table: &TableEvidence,
        key: &str,
        values: Option<Vec<Option<String>>>,
    ) -> Binding {
        Binding::Row {
            table: table.name.to_string(),
            key: key.to_string(),
            values,
            previous: None,
        }
    }

    pub(crate) fn with_previous(mut self, digest: Option<[u8; 32]>) -> Binding {
        if let Binding::Row { previous, .. } = &mut self {
            *previous = digest.map(|digest| to_hex(&digest));
        }
        self
    }

    pub(crate) fn table(&self) -> &str {
        match self {
            Binding::Batch { table, .. } | Binding::Row { table, .. } => table,
        }
    }
}

/// The key under which an event's details carry its bindings.
pub(crate) const ROWS_FIELD: &str = "rows";

/// The bindings an event's details carry (none for events written before bindings existed).
pub(crate) fn bindings_of(details: &str) -> Vec<Binding> {
    #[derive(serde::Deserialize)]
    struct WithRows {
        #[serde(default)]
        rows: Vec<Binding>,
    }
    if !details.contains("\"rows\"") {
        return Vec::new();
    }
    serde_json::from_str::<WithRows>(details)
        .map(|with| with.rows)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_length_prefixed_and_null_differs_from_empty() {
        assert_ne!(
            RowDigest::of([Some("ab"), Some("c")]),
            RowDigest::of([Some("a"), Some("bc")])
        );
        assert_ne!(RowDigest::of([None]), RowDigest::of([Some("")]));
        let mut integer = RowDigest::default();
        integer.integer(Some(-42));
        assert_eq!(integer.finish(), RowDigest::of([Some("-42")]));
        for value in [0, 7, -1, i64::MAX, i64::MIN] {
            assert_eq!(decimal(value, &mut [0; 20]), value.to_string());
        }
    }

    #[test]
    fn bindings_round_trip_through_details() {
        let mut batch = BatchDigest::default();
        batch.add(7, &RowDigest::of([Some("x")]));
        batch.add(8, &RowDigest::of([Some("y")]));
        let bindings = vec![
            batch.binding(&TRANSFERS).unwrap(),
            Binding::row(&ACCOUNTS, "A1", Some(vec![None, Some("x".to_string())])),
            Binding::row(&RISK_BLACKLIST, "B", None).with_previous(Some([0; 32])),
        ];
        let details = serde_json::json!({ "x": 1, "rows": bindings }).to_string();
        assert_eq!(bindings_of(&details), bindings);
        assert!(bindings_of("{\"x\":1}").is_empty());
    }

    #[test]
    fn every_table_key_is_an_evidence_column() {
        for table in TABLES {
            assert!(table.columns.contains(&table.key), "{}", table.name);
        }
    }
}
