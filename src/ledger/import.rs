//! `transfer import`: stream a CSV, post it in batches of `IMPORT_BATCH_ROWS`, one write
//! transaction per batch. Every row ends posted, replayed or in the rejects file. A crash
//! loses at most the open batch, and a re-run replays committed rows by their keys.

use super::risk::{ImportRisk, RiskOptions};
use super::{
    apply_in_place, assert_balanced, rejection_error, tally_transfers, write_balances, Applied,
    ApplyContext, Batch, Book, TransferRequest,
};
use super::{KEY_LENGTH_MAX, TEXT_LENGTH_MAX};
use crate::audit::{ImportedTransfers, TransfersDigest, IMPORT_ACTION};
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::model::{Account, Transfer};
use crate::model::{TransferKind, TransferStatus};
use crate::money::Currency;
use crate::risk::Assessor;
use crate::store::{should_retry, Actor, Checkpointer, Part, Store, TransferIds, WriteTx};
use crate::telemetry::metrics::Tally;
use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;
use tracing::Instrument;

/// Rows per transaction. SQLite writes every page a transaction changed to the WAL at commit
/// (and copies it back at checkpoint): rows go in id order, but index entries by account land
/// all over the index, so each commit rewrites most of it. Fewer, larger commits write less
/// (1M-row import: 20,000-row batches wrote 3.9 GB, 100,000-row batches 1.7 GB); memory
/// (about 2 KiB per row in flight) sets the upper bound.
pub const IMPORT_BATCH_ROWS: usize = 100_000;
/// Rows applied while the previous part of the batch is written.
const PIPELINE_ROWS: usize = 5_000;
/// Rows applied between two chances for the pending write to send its next statement.
const YIELD_EVERY_ROWS: usize = 128;

/// Rows per transaction; `FINCORE_IMPORT_BATCH_ROWS` may lower it (crash tests use small
/// batches so kills land between many commits), never raise it.
fn batch_rows() -> usize {
    std::env::var("FINCORE_IMPORT_BATCH_ROWS")
        .ok()
        .and_then(|text| text.parse::<usize>().ok())
        .map_or(IMPORT_BATCH_ROWS, |rows| rows.clamp(1, IMPORT_BATCH_ROWS))
}
pub const IMPORT_ROWS_MAX: u64 = 100_000_000;
pub const IMPORT_COLUMNS: [&str; 8] = [
    "key",
    "from",
    "to",
    "amount",
    "currency",
    "at",
    "reference",
    "description",
];

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct ImportSummary {
    pub rows: u64,
    pub posted: u64,
    pub replayed: u64,
    pub rejected: u64,
}

/// A row that did not post, with where it came from and why.
#[derive(Debug, Clone)]
pub struct RejectedRow {
    pub line: u64,
    pub fields: Vec<String>,
    pub error: AppError,
}

/// A parsed row waiting for its batch: its line and fields (for the rejects file) and request.
type PendingRow = (u64, csv::StringRecord, TransferRequest);

/// What became of one row, without holding on to its transfer.
enum RowOutcome {
    Posted,
    Replayed,
    NotPosted(AppError),
}

impl RowOutcome {
    fn of(applied: Applied, batch: &Batch) -> RowOutcome {
        let rejected = |transfer: &Transfer| {
            RowOutcome::NotPosted(rejection_error(transfer).expect("a rejected transfer"))
        };
        match applied {
            Applied::Recorded(TransferStatus::Posted) => RowOutcome::Posted,
            Applied::Recorded(TransferStatus::Rejected) => rejected(batch.last()),
            Applied::Replayed(original) if original.status == TransferStatus::Posted => {
                RowOutcome::Replayed
            }
            Applied::Replayed(original) => rejected(&original),
            Applied::Invalid(error) => RowOutcome::NotPosted(error),
        }
    }
}

pub trait ImportObserver {
    fn rejected(&mut self, row: &RejectedRow) -> AppResult<()>;
    fn progress(&mut self, bytes_read: u64);
}

pub async fn import_file(
    store: &Store,
    actor: &Actor,
    path: &Path,
    observer: &mut dyn ImportObserver,
    risk: RiskOptions,
) -> AppResult<ImportSummary> {
    let file = File::open(path)
        .map_err(|error| AppError::invalid_input(format!("{}: {error}", path.display())))?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(BufReader::with_capacity(1 << 20, file));
    let columns = column_positions(&mut reader, path)?;
    let mut checkpointer = store.checkpointer();
    let source = Source {
        reader,
        columns,
        record: csv::StringRecord::new(),
    };
    let imported = import_batches(store, actor, source, observer, risk, &mut checkpointer).await;
    // Also after a failure: the connections get their automatic checkpoints back.
    let finished = checkpointer.finish().await;
    let summary = imported?;
    finished?;
    Ok(summary)
}

/// The CSV being imported.
struct Source {
    reader: csv::Reader<BufReader<File>>,
    columns: [usize; 8],
    record: csv::StringRecord,
}

async fn import_batches(
    store: &Store,
    actor: &Actor,
    source: Source,
    observer: &mut dyn ImportObserver,
    risk: RiskOptions,
    checkpointer: &mut Checkpointer,
) -> AppResult<ImportSummary> {
    let Source {
        mut reader,
        columns,
        mut record,
    } = source;
    let mut summary = ImportSummary::default();
    let mut cache = AccountCache::new(risk);
    let batch_rows = batch_rows();
    loop {
        let mut pending: Vec<PendingRow> = Vec::with_capacity(batch_rows);
        while pending.len() < batch_rows {
            let line = reader.position().line();
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(error) => {
                    let rejected = RejectedRow {
                        line,
                        fields: Vec::new(),
                        error: AppError::invalid_input(format!("unreadable CSV row: {error}")),
                    };
                    count_reject(&mut summary, observer, &rejected)?;
                    continue;
                }
            }
            summary.rows += 1;
            if summary.rows > IMPORT_ROWS_MAX {
                return Err(AppError::invalid_input(format!(
                    "more than {IMPORT_ROWS_MAX} rows; split the file"
                )));
            }
            match parse_row(&record, &columns) {
                Ok(request) => pending.push((line, record.clone(), request)),
                Err(error) => {
                    let rejected = RejectedRow {
                        line,
                        fields: record.iter().map(str::to_string).collect(),
                        error: error.context(format!("line {line}")),
                    };
                    count_reject(&mut summary, observer, &rejected)?;
                }
            }
        }
        if pending.is_empty() {
            break;
        }
        post_batch(store, actor, &pending, &mut cache, &mut summary, observer).await?;
        checkpointer.after_commit().await?;
        observer.progress(reader.position().byte());
    }
    Ok(summary)
}

fn count_reject(
    summary: &mut ImportSummary,
    observer: &mut dyn ImportObserver,
    row: &RejectedRow,
) -> AppResult<()> {
    summary.rejected += 1;
    observer.rejected(row)
}

fn column_positions(
    reader: &mut csv::Reader<BufReader<File>>,
    path: &Path,
) -> AppResult<[usize; 8]> {
    let headers = reader
        .headers()
        .map_err(|error| AppError::invalid_input(format!("{}: header: {error}", path.display())))?
        .clone();
    let mut positions = [0usize; 8];
    for (slot, name) in IMPORT_COLUMNS.iter().enumerate() {
        positions[slot] = headers
            .iter()
            .position(|header| header.trim() == *name)
            .ok_or_else(|| {
                AppError::invalid_input(format!(
                    "{}: header: missing column '{name}' (expected {})",
                    path.display(),
                    IMPORT_COLUMNS.join(",")
                ))
            })?;
    }
    Ok(positions)
}

fn parse_row(fields: &csv::StringRecord, columns: &[usize; 8]) -> AppResult<TransferRequest> {
    let field = |slot: usize| {
        fields
            .get(columns[slot])
            .map(|value| value.trim())
            .unwrap_or("")
    };
    let named =
        |slot: usize, error: AppError| error.context(format!("field '{}'", IMPORT_COLUMNS[slot]));
    let key = field(0);
    if key.is_empty() || key.len() > KEY_LENGTH_MAX {
        return Err(named(
            0,
            AppError::invalid_input(format!("required, at most {KEY_LENGTH_MAX} characters")),
        ));
    }
    let currency = Currency::parse(field(4)).map_err(|e| named(4, e))?;
    let amount_minor = currency.parse_positive(field(3)).map_err(|e| named(3, e))?;
    let at_us = match field(5) {
        "" => None,
        text => Some(clock::parse_instant(text).map_err(|e| named(5, e))?),
    };
    for slot in [6, 7] {
        if field(slot).len() > TEXT_LENGTH_MAX {
            return Err(named(
                slot,
                AppError::invalid_input(format!("longer than {TEXT_LENGTH_MAX} characters")),
            ));
        }
    }
    for slot in [1, 2] {
        if field(slot).is_empty() {
            return Err(named(slot, AppError::invalid_input("required")));
        }
    }
    Ok(TransferRequest {
        kind: TransferKind::Transfer,
        key: Some(key.to_string()),
        from: field(1).to_ascii_uppercase(),
        to: field(2).to_ascii_uppercase(),
        amount_minor,
        currency,
        reference: field(6).to_string(),
        description: field(7).to_string(),
        at_us,
        reverses_id: None,
    })
}

async fn post_batch(
    store: &Store,
    actor: &Actor,
    pending: &[PendingRow],
    cache: &mut AccountCache,
    summary: &mut ImportSummary,
    observer: &mut dyn ImportObserver,
) -> AppResult<()> {
    // One span per batch, never per row: its attributes summarise the rows.
    let span = tracing::info_span!(
        target: "fincore",
        "fincore.import.batch",
        fincore.rows = pending.len() as i64,
        fincore.posted = tracing::field::Empty,
        fincore.replayed = tracing::field::Empty,
        fincore.rejected = tracing::field::Empty,
    );
    let outcomes = apply_with_retry(store, actor, pending, cache)
        .instrument(span.clone())
        .await?;
    let before = summary.clone();
    for ((line, fields, _), outcome) in pending.iter().zip(outcomes) {
        match outcome {
            RowOutcome::Posted => summary.posted += 1,
            RowOutcome::Replayed => summary.replayed += 1,
            RowOutcome::NotPosted(error) => {
                let rejected = RejectedRow {
                    line: *line,
                    fields: fields.iter().map(str::to_string).collect(),
                    error: error.context(format!("line {line}")),
                };
                count_reject(summary, observer, &rejected)?;
            }
        }
    }
    span.record("fincore.posted", (summary.posted - before.posted) as i64);
    span.record(
        "fincore.replayed",
        (summary.replayed - before.replayed) as i64,
    );
    span.record(
        "fincore.rejected",
        (summary.rejected - before.rejected) as i64,
    );
    Ok(())
}

async fn apply_with_retry(
    store: &Store,
    actor: &Actor,
    pending: &[PendingRow],
    cache: &mut AccountCache,
) -> AppResult<Vec<RowOutcome>> {
    let mut tries = 0;
    loop {
        tries += 1;
        match apply_batch(store, actor, pending, cache).await {
            Err(error) if should_retry(&error, tries).await => {}
            outcome => return outcome,
        }
    }
}

/// Accounts as this import last wrote them, and the risk windows of the rows posted so far.
/// Valid only while the ledger's version is the one our previous batch left behind; then a
/// batch reads just the accounts (and risk history) it has not seen.
pub struct AccountCache {
    accounts: HashMap<String, Account>,
    risk: ImportRisk,
    version: Option<i64>,
}

impl AccountCache {
    pub fn new(risk: RiskOptions) -> AccountCache {
        AccountCache {
            accounts: HashMap::new(),
            risk: ImportRisk::new(risk),
            version: None,
        }
    }
}

async fn apply_batch(
    store: &Store,
    actor: &Actor,
    pending: &[PendingRow],
    cache: &mut AccountCache,
) -> AppResult<Vec<RowOutcome>> {
    let mut tx = store.begin_write(actor).await?;
    // Until this batch commits, the cache may hold balances of a batch that never happened.
    let cached_version = cache.version.take();
    let mut accounts = std::mem::take(&mut cache.accounts);
    if cached_version != Some(tx.version_at_begin()) {
        accounts.clear();
        cache.risk.reset();
    }
    let keys: Vec<&str> = pending
        .iter()
        .filter_map(|(_, _, r)| r.key.as_deref())
        .collect();
    let missing: BTreeSet<&str> = pending
        .iter()
        .flat_map(|(_, _, r)| [r.from.as_str(), r.to.as_str()])
        .filter(|number| !accounts.contains_key(*number))
        .collect();
    let missing: Vec<&str> = missing.into_iter().collect();
    accounts.extend(tx.accounts(&missing).await?);
    let mut book = Book::new(accounts, tx.transfers_by_keys(&keys).await?);
    let mut batch = Batch::default();
    let requests = pending.iter().map(|(_, _, request)| request);
    let assessor = cache
        .risk
        .prepare(&mut tx, &book.accounts, requests)
        .instrument(tracing::info_span!(target: "fincore", "fincore.risk.seed"))
        .await?;
    let actor = tx.actor.clone();
    let mut ids = tx.transfer_ids();
    let mut applier = Applier {
        rows: pending.chunks(PIPELINE_ROWS),
        book: &mut book,
        batch: &mut batch,
        ids: &mut ids,
        actor: &actor,
        assessor: &mut *assessor,
        sent: Vec::new(),
        outcomes: Vec::with_capacity(pending.len()),
        tally: Tally::default(),
        digest: TransfersDigest::default(),
    };
    if tx.is_postgres() {
        write_pipelined_async(&mut tx, &mut applier).await?;
    } else {
        tx.write_parts(|| applier.next_part()).await?;
    }
    let Applier {
        outcomes,
        tally,
        digest,
        ..
    } = applier;
    tx.tally(tally);
    audit_import(&mut tx, &digest);
    tx.set_transfer_ids(&ids);
    write_balances(&mut tx, &book, &batch).await?;
    let version = tx.version_after();
    tx.commit().await?;
    cache.accounts = book.accounts;
    cache.version = Some(version);
    Ok(outcomes)
}

/// Applies a batch part by part, each part ready to be written while the next is applied.
struct Applier<'a, 'r> {
    rows: std::slice::Chunks<'r, PendingRow>,
    book: &'a mut Book,
    batch: &'a mut Batch,
    ids: &'a mut TransferIds,
    actor: &'a Actor,
    assessor: &'a mut dyn Assessor,
    /// Parts handed out so far, in order (later rows may replay their keys).
    sent: Vec<Arc<Vec<Transfer>>>,
    outcomes: Vec<RowOutcome>,
    tally: Tally,
    /// Every transfer the batch records, for its one audit event.
    digest: TransfersDigest,
}

impl Applier<'_, '_> {
    fn apply_row(&mut self, request: &TransferRequest) {
        let mut context = ApplyContext {
            ids: &mut *self.ids,
            actor: self.actor,
            assessor: &mut *self.assessor,
            sent: &self.sent,
        };
        let applied = apply_in_place(self.book, self.batch, &mut context, request);
        self.outcomes.push(RowOutcome::of(applied, self.batch));
    }

    /// The transfers and entries applied since the last part.
    fn take_part(&mut self) -> Part {
        let (transfers, mut entries) = self.batch.take_unsent();
        assert_balanced(&transfers, &entries);
        // In the order of the `entries_account_at` index: SQLite then inserts into pages it
        // has just touched instead of all over the index (measured: −5% import time).
        entries.sort_unstable_by(|a, b| {
            (&a.account, a.at_us, a.transfer_id).cmp(&(&b.account, b.at_us, b.transfer_id))
        });
        for transfer in &transfers {
            self.digest.add(transfer);
        }
        self.tally.merge(tally_transfers(&transfers));
        let transfers = Arc::new(transfers);
        self.sent.push(Arc::clone(&transfers));
        Part { transfers, entries }
    }

    /// Apply the next rows. None when every row is applied.
    fn next_part(&mut self) -> Option<Part> {
        let rows = self.rows.next()?;
        for (_, _, request) in rows {
            self.apply_row(request);
        }
        Some(self.take_part())
    }

    /// `next_part`, letting a pending write on this thread go on between rows.
    async fn next_part_yielding(&mut self) -> Option<Part> {
        let rows = self.rows.next()?;
        for (index, (_, _, request)) in rows.iter().enumerate() {
            if index % YIELD_EVERY_ROWS == YIELD_EVERY_ROWS - 1 {
                tokio::task::yield_now().await;
            }
            self.apply_row(request);
        }
        Some(self.take_part())
    }
}

/// PostgreSQL: each part is written (COPY) while the next is applied on the same thread,
/// the applying side yielding now and then so the write goes on.
async fn write_pipelined_async(tx: &mut WriteTx, applier: &mut Applier<'_, '_>) -> AppResult<()> {
    let mut previous: Option<Part> = None;
    loop {
        let write = write_part(tx, previous.take());
        let (written, next) = tokio::join!(write, applier.next_part_yielding());
        written?;
        match next {
            Some(part) => previous = Some(part),
            None => return Ok(()),
        }
    }
}

/// One audit event for the whole batch (none if it recorded no transfer): a single
/// post's event lists the transfer; a batch's carries a digest of all its transfers, which
/// `audit verify` recomputes from the transfers table.
fn audit_import(tx: &mut WriteTx, digest: &TransfersDigest) {
    let Some(first_id) = digest.first_id else {
        return;
    };
    let details = ImportedTransfers {
        first_id,
        last_id: digest.last_id,
        transfers: digest.count,
        posted: digest.posted,
        rejected: digest.count - digest.posted,
        transfers_sha256: digest.hex(),
    };
    tx.audit_log().append(
        IMPORT_ACTION,
        &ImportedTransfers::entity(first_id, digest.last_id),
        serde_json::to_string(&details).expect("import details serialise"),
    );
}

/// Write one applied part of a batch (if any) and the audit events appended so far.
async fn write_part(tx: &mut WriteTx, part: Option<Part>) -> AppResult<()> {
    if let Some(part) = part {
        tx.insert_transfers(&part.transfers).await?;
        tx.insert_entries(&part.entries).await?;
    }
    tx.flush_pending_audit().await
}
