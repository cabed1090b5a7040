//! `transfer import`: stream a CSV, post it in batches of `IMPORT_BATCH_ROWS`, one write
//! transaction per batch. Every row ends posted, replayed or in the rejects file. A crash
//! loses at most the open batch, and a re-run replays committed rows by their keys.

use super::risk::{ImportRisk, RiskOptions};
use super::{
    apply, assert_balanced, audit_transfers, write_balances, ApplyContext, Batch, Book, Outcome,
    TransferRequest,
};
use super::{KEY_LENGTH_MAX, TEXT_LENGTH_MAX};
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::model::{Account, Entry, Transfer};
use crate::model::{TransferKind, TransferStatus};
use crate::money::Currency;
use crate::store::{should_retry, Actor, Store, WriteTx};
use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use tracing::Instrument;

pub const IMPORT_BATCH_ROWS: usize = 20_000;
/// Rows applied while the previous part of the batch is written (one INSERT of each kind).
const PIPELINE_ROWS: usize = crate::store::INSERT_ROWS_MAX;
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
    let mut summary = ImportSummary::default();
    let mut cache = AccountCache::new(risk);
    let mut record = csv::StringRecord::new();
    let batch_rows = batch_rows();
    loop {
        let mut pending: Vec<(u64, Vec<String>, TransferRequest)> = Vec::with_capacity(batch_rows);
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
            let fields: Vec<String> = record.iter().map(str::to_string).collect();
            match parse_row(&fields, &columns) {
                Ok(request) => pending.push((line, fields, request)),
                Err(error) => {
                    let rejected = RejectedRow {
                        line,
                        fields,
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

fn parse_row(fields: &[String], columns: &[usize; 8]) -> AppResult<TransferRequest> {
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
    pending: &[(u64, Vec<String>, TransferRequest)],
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
        match &outcome {
            Outcome::Posted(_) => summary.posted += 1,
            Outcome::Replayed(transfer) if transfer.status == TransferStatus::Posted => {
                summary.replayed += 1
            }
            _ => {
                let error = outcome.error().expect("not posted means an error");
                let rejected = RejectedRow {
                    line: *line,
                    fields: fields.clone(),
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
    pending: &[(u64, Vec<String>, TransferRequest)],
    cache: &mut AccountCache,
) -> AppResult<Vec<Outcome>> {
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
    pending: &[(u64, Vec<String>, TransferRequest)],
    cache: &mut AccountCache,
) -> AppResult<Vec<Outcome>> {
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
    // Pipelined: while the connection's worker thread writes one part of the batch, this
    // thread applies the next (both cores busy). Still one transaction per batch.
    let actor = tx.actor.clone();
    let mut ids = tx.transfer_ids();
    let mut sent: Vec<Vec<Transfer>> = Vec::new();
    let mut entries_to_write: Vec<Entry> = Vec::new();
    let mut outcomes = Vec::with_capacity(pending.len());
    for rows in pending.chunks(PIPELINE_ROWS) {
        let (written, ()) = {
            let write = write_part(&mut tx, sent.last(), &entries_to_write);
            let mut context = ApplyContext {
                ids: &mut ids,
                actor: &actor,
                assessor: &mut *assessor,
                sent: &sent,
            };
            let (book, batch, outcomes) = (&mut book, &mut batch, &mut outcomes);
            let work = async move {
                for (index, (_, _, request)) in rows.iter().enumerate() {
                    if index % YIELD_EVERY_ROWS == YIELD_EVERY_ROWS - 1 {
                        // Lets the write go on to its next statement.
                        tokio::task::yield_now().await;
                    }
                    outcomes.push(apply(book, batch, &mut context, request));
                }
            };
            tokio::join!(write, work)
        };
        written?;
        let (transfers, entries) = batch.take_unsent();
        assert_balanced(&transfers, &entries);
        audit_transfers(&mut tx, &transfers);
        sent.push(transfers);
        entries_to_write = entries;
    }
    write_part(&mut tx, sent.last(), &entries_to_write).await?;
    tx.set_transfer_ids(&ids);
    write_balances(&mut tx, &book, &batch).await?;
    let version = tx.version_after();
    tx.commit().await?;
    cache.accounts = book.accounts;
    cache.version = Some(version);
    Ok(outcomes)
}

/// Write one applied part of a batch: its transfers, entries and the audit events appended
/// so far.
async fn write_part(
    tx: &mut WriteTx,
    transfers: Option<&Vec<Transfer>>,
    entries: &[Entry],
) -> AppResult<()> {
    if let Some(transfers) = transfers {
        tx.insert_transfers(transfers).await?;
    }
    tx.insert_entries(entries).await?;
    tx.flush_pending_audit().await
}
