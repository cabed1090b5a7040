//! `transfer import`: stream a CSV, post it in batches of `IMPORT_BATCH_ROWS`, one write
//! transaction per batch. Every row ends posted, replayed or in the rejects file. A crash
//! loses at most the open batch, and a re-run replays committed rows by their keys. The
//! observer may ask to stop (a signal): the import then stops at the next batch boundary.
//! A dry run applies every batch in memory and rolls its transaction back.

use super::risk_rules::RiskOptions;
use super::transfer_import_batch::{apply_batch, AccountCache, DryRun, PendingRow, RowOutcome};
use crate::clock;
use crate::csv_input::CheckedFile;
use crate::error::{AppError, AppResult};
use crate::input;
use crate::model::account_number as number;
use crate::model::TransferKind;
use crate::model::{TransferRequest, TEXT_LENGTH_MAX};
use crate::money::Currency;
use crate::store::{should_retry, Actor, Checkpointer, Store};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use tracing::Instrument;

/// Rows per transaction. SQLite writes every page a transaction changed to the WAL at commit
/// (and copies it back at checkpoint): rows go in id order, but index entries by account land
/// all over the index, so each commit rewrites most of it. Fewer, larger commits write less
/// (1M-row import: 20,000-row batches wrote 3.9 GB, 100,000-row batches 1.7 GB); memory
/// (every row of a batch is held until it commits) sets the upper bound.
pub(crate) const IMPORT_BATCH_ROWS: usize = 100_000;

/// The smallest batch `--batch-rows` accepts. Small batches commit (and can be stopped)
/// more often at the price of speed; no batch may exceed `IMPORT_BATCH_ROWS` (memory).
pub(crate) const IMPORT_BATCH_ROWS_MIN: usize = 1;
pub(crate) const IMPORT_ROWS_MAX: u64 = 100_000_000;
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

/// What became of the rows. After an interruption, only rows of committed batches count.
#[derive(Debug, Default, Clone)]
pub(crate) struct ImportSummary {
    pub(crate) rows: u64,
    pub(crate) posted: u64,
    pub(crate) replayed: u64,
    pub(crate) rejected: u64,
    /// Of the posted rows, those risk scoring sent to `review` (shown on the progress line
    /// only: JSON and CSV keep their fields).
    pub(crate) review: u64,
    /// Nothing was written: the counts say what a real import would do now.
    pub(crate) dry_run: bool,
    /// Why the import stopped before the end of the file (e.g. `SIGINT`), if it did.
    pub(crate) interrupted: Option<String>,
}

impl ImportSummary {
    /// Pair assertion: every row read was posted, replayed or rejected, once.
    fn assert_every_row_counted(&self) {
        assert_eq!(
            self.rows,
            self.posted + self.replayed + self.rejected,
            "import rows = posted + replayed + rejected"
        );
    }
}

/// How to import: rows per transaction, and whether to write at all.
#[derive(Debug, Clone)]
pub(crate) struct ImportOptions {
    /// `IMPORT_BATCH_ROWS_MIN..=IMPORT_BATCH_ROWS`.
    pub(crate) batch_rows: usize,
    pub(crate) dry_run: bool,
    pub(crate) risk: RiskOptions,
}

/// A row that did not post, with where it came from and why.
#[derive(Debug, Clone)]
pub(crate) struct RejectedRow {
    pub(crate) line: u64,
    pub(crate) fields: Vec<String>,
    pub(crate) error: AppError,
}

pub(crate) trait ImportObserver {
    fn rejected(&mut self, row: &RejectedRow) -> AppResult<()>;
    /// After each batch: rows read so far (committed, in a real import) and bytes read.
    fn progress(&mut self, rows_done: u64, bytes_read: u64);
    /// Asked between batches: Some(reason) stops the import there (everything before it
    /// is committed, nothing after it read).
    fn stop_requested(&self) -> Option<String>;
}

pub(crate) async fn import_file(
    store: &Store,
    actor: &Actor,
    checked: &CheckedFile,
    observer: &mut dyn ImportObserver,
    options: ImportOptions,
) -> AppResult<ImportSummary> {
    assert!(
        (IMPORT_BATCH_ROWS_MIN..=IMPORT_BATCH_ROWS).contains(&options.batch_rows),
        "batch size checked by the caller"
    );
    // Batches commit while the file streams, and an unclosed quote shows only at its end:
    // the caller scanned the whole file first (`check_file`, GB/s).
    let path = checked.path();
    let file = File::open(path)
        .map_err(|error| AppError::invalid_input(format!("{}: {error}", path.display())))?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(
        crate::csv_input::NewlineTerminated::new(BufReader::with_capacity(1 << 20, file)),
    );
    let columns = column_positions(&mut reader, path)?;
    let mut checkpointer = store.checkpointer();
    let source = Source {
        reader,
        columns,
        record: csv::StringRecord::new(),
    };
    let imported = import_batches(store, actor, source, observer, options, &mut checkpointer).await;
    // Also after a failure: the connections get their automatic checkpoints back.
    let finished = checkpointer.finish().await;
    let summary = imported?;
    finished?;
    Ok(summary)
}

/// The CSV being imported.
struct Source {
    reader: csv::Reader<crate::csv_input::NewlineTerminated<BufReader<File>>>,
    columns: Columns,
    record: csv::StringRecord,
}

/// Where each of `IMPORT_COLUMNS` sits in a row, and how many fields the header has (every
/// row must have as many).
struct Columns {
    positions: [usize; 8],
    header_fields: usize,
}

async fn import_batches(
    store: &Store,
    actor: &Actor,
    source: Source,
    observer: &mut dyn ImportObserver,
    options: ImportOptions,
    checkpointer: &mut Checkpointer,
) -> AppResult<ImportSummary> {
    let Source {
        mut reader,
        columns,
        mut record,
    } = source;
    let mut summary = ImportSummary {
        dry_run: options.dry_run,
        ..ImportSummary::default()
    };
    let mut cache = AccountCache::new(options.risk);
    let mut dry_run = options.dry_run.then(DryRun::default);
    let batch_rows = options.batch_rows;
    loop {
        // Between batches: everything so far is committed, nothing further read.
        if let Some(reason) = observer.stop_requested() {
            summary.interrupted = Some(reason);
            break;
        }
        let mut pending: Vec<PendingRow> = Vec::with_capacity(batch_rows);
        while pending.len() < batch_rows {
            let read = reader.read_record(&mut record);
            if matches!(read, Ok(false)) {
                break;
            }
            // Counted from the line after the row: the csv crate's own position of a row points
            // at the blank lines it skipped before it.
            let line_after = reader.position().line();
            let line = match read {
                Ok(_) => crate::csv_input::record_start_line(line_after, &record),
                Err(_) => line_after.saturating_sub(1),
            };
            // Every row counts, readable or not: rows = posted + replayed + rejected.
            summary.rows += 1;
            if summary.rows > IMPORT_ROWS_MAX {
                return Err(AppError::invalid_input(format!(
                    "more than {IMPORT_ROWS_MAX} rows; split the file"
                )));
            }
            match read {
                Ok(_) => {}
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
        let mut batch = BatchState {
            cache: &mut cache,
            dry_run: dry_run.as_mut(),
            summary: &mut summary,
        };
        post_batch(store, actor, &pending, &mut batch, observer).await?;
        if dry_run.is_none() {
            checkpointer.after_commit().await?;
        }
        observer.progress(summary.rows, reader.position().byte());
        summary.assert_every_row_counted();
    }
    summary.assert_every_row_counted();
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
    reader: &mut csv::Reader<impl std::io::Read>,
    path: &Path,
) -> AppResult<Columns> {
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
    Ok(Columns {
        positions,
        header_fields: headers.len(),
    })
}

/// One row through the same validators as `transfer post`'s flags (`crate::input`): a row
/// and a command line with the same values post the same transfer or fail with the same code.
fn parse_row(fields: &csv::StringRecord, columns: &Columns) -> AppResult<TransferRequest> {
    input::check_field_count(fields.len(), columns.header_fields)?;
    let field = |slot: usize| fields.get(columns.positions[slot]).unwrap_or("");
    let named =
        |slot: usize, error: AppError| error.context(format!("field '{}'", IMPORT_COLUMNS[slot]));
    let key = input::key(field(0)).map_err(|e| named(0, e))?;
    let from = number::validate(field(1)).map_err(|e| named(1, e))?;
    let to = number::validate(field(2)).map_err(|e| named(2, e))?;
    let currency = Currency::parse(field(4)).map_err(|e| named(4, e))?;
    let amount_minor = currency.parse_positive(field(3)).map_err(|e| named(3, e))?;
    // `at` is required: "now" would book a historical file at whatever time it is imported.
    let at_us = clock::parse_instant(field(5)).map_err(|e| named(5, e))?;
    let reference = input::text(field(6), TEXT_LENGTH_MAX).map_err(|e| named(6, e))?;
    let description = input::text(field(7), TEXT_LENGTH_MAX).map_err(|e| named(7, e))?;
    Ok(TransferRequest {
        kind: TransferKind::Transfer,
        key: Some(key),
        from,
        to,
        amount_minor,
        currency,
        reference,
        description,
        at_us: Some(at_us),
        reverses_id: None,
    })
}

/// What carries from one batch to the next.
struct BatchState<'a> {
    cache: &'a mut AccountCache,
    /// Some in a dry run: what the batches so far would have written.
    dry_run: Option<&'a mut DryRun>,
    summary: &'a mut ImportSummary,
}

async fn post_batch(
    store: &Store,
    actor: &Actor,
    pending: &[PendingRow],
    state: &mut BatchState<'_>,
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
        fincore.dry_run = state.dry_run.is_some(),
    );
    let outcomes = apply_with_retry(store, actor, pending, state.cache, &mut state.dry_run)
        .instrument(span.clone())
        .await?;
    let summary = &mut *state.summary;
    let before = summary.clone();
    for ((line, fields, _), outcome) in pending.iter().zip(outcomes) {
        match outcome {
            RowOutcome::Posted { review } => {
                summary.posted += 1;
                summary.review += u64::from(review);
            }
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
    let counted = (summary.posted + summary.replayed + summary.rejected)
        - (before.posted + before.replayed + before.rejected);
    assert_eq!(
        counted,
        pending.len() as u64,
        "every row of the batch counted once"
    );
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
    dry_run: &mut Option<&mut DryRun>,
) -> AppResult<Vec<RowOutcome>> {
    let mut tries = 0;
    loop {
        tries += 1;
        let dry = dry_run.is_some();
        match apply_batch(store, actor, pending, cache, dry_run.as_deref_mut()).await {
            // A dry run's simulated balances and risk windows exist only in memory, and a
            // failed try may have consumed them: it fails rather than retries.
            Err(error) if !dry && should_retry(&error, tries).await => {}
            outcome => return outcome,
        }
    }
}
