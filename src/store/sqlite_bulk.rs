//! SQLite bulk writes for `transfer import`: prepared single-row INSERTs stepped on a writer
//! thread of our own, straight on the connection's handle.
//!
//! Why not sqlx here: its SQLite driver copies every bound text value three times and runs
//! multi-row `VALUES` statements, which make SQLite keep a statement journal (each page a
//! statement touches is copied first, in case it fails half-way). A single-row INSERT needs no
//! statement journal and binds text without a copy. The transaction, its lock and its commit
//! stay with sqlx; only the rows of an import batch go this way.

use super::sqlite::direct::{Handle, Parameter, Prepared};
use super::write::{TxInner, WriteTx};
use crate::error::AppResult;
use crate::model::{Entry, Transfer};
use std::sync::mpsc;
use std::sync::Arc;

/// One applied part of an import batch, handed to the writer while the next part is applied.
pub struct Part {
    pub transfers: Arc<Vec<Transfer>>,
    pub entries: Vec<Entry>,
}

/// Parts waiting for the writer: one being written and one ready is enough to keep both
/// threads busy; more would only hold memory.
const PARTS_QUEUED_MAX: usize = 2;

const INSERT_TRANSFER: &str = "INSERT INTO transfers (id, idempotency_key, payload_hash, kind, \
     from_account, to_account, amount_minor, currency, status, error_code, error_message, \
     reference, description, at_us, created_at_us, risk_score, risk_level, risk_decision, \
     risk_factors, reverses_id, operator, trace_id) \
     VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
const INSERT_ENTRY: &str =
    "INSERT INTO entries (transfer_id, account, amount_minor, at_us) VALUES (?,?,?,?)";

impl WriteTx {
    /// SQLite: write the parts `produce` hands out (until it returns None) on a writer thread,
    /// while this thread produces the next one. Same transaction: commit or drop the `WriteTx`
    /// afterwards. Blocks this thread until the last part is written.
    pub async fn write_parts(
        &mut self,
        mut produce: impl FnMut() -> Option<Part>,
    ) -> AppResult<()> {
        let span = tracing::info_span!(
            target: "fincore",
            "fincore.store.bulk.write",
            db.system = "sqlite",
            fincore.rows = tracing::field::Empty,
        );
        let TxInner::Sqlite(transaction) = &mut self.inner else {
            panic!("write_parts is SQLite's bulk path; PostgreSQL writes through COPY")
        };
        let mut locked = transaction.lock_handle().await?;
        let handle = Handle(locked.as_raw_handle());
        let run = || {
            std::thread::scope(|scope| {
                let (sender, receiver) = mpsc::sync_channel::<Part>(PARTS_QUEUED_MAX);
                let writer_span = span.clone();
                let writer = std::thread::Builder::new()
                    .name("fincore-writer".to_string())
                    .spawn_scoped(scope, move || {
                        let _entered = writer_span.enter();
                        write_all(handle, receiver)
                    })
                    .expect("start the import writer thread");
                while let Some(part) = produce() {
                    if sender.send(part).is_err() {
                        break; // The writer stopped on an error: `join` returns it.
                    }
                }
                drop(sender);
                writer.join().expect("the import writer thread panicked")
            })
        };
        let rows = super::blocking(run)?;
        span.record("fincore.rows", rows as i64);
        drop(locked);
        Ok(())
    }
}

/// The writer thread: every part's transfers and entries; the rows written.
fn write_all(handle: Handle, parts: mpsc::Receiver<Part>) -> AppResult<u64> {
    // SAFETY: the connection is locked out of its sqlx worker until `write_parts` returns,
    // which is after this thread ends; the statements are dropped before that.
    let (mut transfers, mut entries) = unsafe {
        (
            Prepared::new(handle.0, INSERT_TRANSFER)?,
            Prepared::new(handle.0, INSERT_ENTRY)?,
        )
    };
    let mut rows = 0u64;
    for part in parts {
        for transfer in part.transfers.iter() {
            insert_transfer(&mut transfers, transfer)?;
        }
        for entry in &part.entries {
            entries.run(&[
                Parameter::Integer(entry.transfer_id),
                Parameter::Text(&entry.account),
                Parameter::Integer(entry.amount_minor),
                Parameter::Integer(entry.at_us),
            ])?;
        }
        rows += (part.transfers.len() + part.entries.len()) as u64;
    }
    Ok(rows)
}

fn insert_transfer(statement: &mut Prepared, transfer: &Transfer) -> AppResult<()> {
    // Almost every transfer has no risk factors: skip serialising an empty list.
    let factors = if transfer.risk.factors.is_empty() {
        String::from("[]")
    } else {
        serde_json::to_string(&transfer.risk.factors).expect("risk factors serialise")
    };
    statement.run(&[
        Parameter::Integer(transfer.id),
        text_or_null(&transfer.key),
        Parameter::Text(&transfer.payload_hash),
        Parameter::Text(transfer.kind.as_str()),
        Parameter::Text(&transfer.from),
        Parameter::Text(&transfer.to),
        Parameter::Integer(transfer.amount_minor),
        Parameter::Text(transfer.currency.code()),
        Parameter::Text(transfer.status.as_str()),
        text_or_null(&transfer.error_code),
        text_or_null(&transfer.error_message),
        Parameter::Text(&transfer.reference),
        Parameter::Text(&transfer.description),
        Parameter::Integer(transfer.at_us),
        Parameter::Integer(transfer.created_at_us),
        Parameter::Integer(i64::from(transfer.risk.score)),
        Parameter::Text(transfer.risk.level.as_str()),
        Parameter::Text(transfer.risk.decision.as_str()),
        Parameter::Text(&factors),
        transfer
            .reverses_id
            .map_or(Parameter::Null, Parameter::Integer),
        Parameter::Text(&transfer.operator),
        Parameter::Text(&transfer.trace_id),
    ])
}

fn text_or_null(value: &Option<String>) -> Parameter<'_> {
    match value {
        Some(text) => Parameter::Text(text),
        None => Parameter::Null,
    }
}
