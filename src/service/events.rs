//! `events export`: the audit chain from a cursor on, each change as a CloudEvents line, handed
//! to a sink in commit order. Import batches are expanded to one event per transfer, read in
//! id order straight from the transfers table. The sink decides when what it was given is
//! delivered (`checkpoint`): only then may a cursor move past it.

use crate::audit::ImportedTransfers;
use crate::error::AppResult;
use crate::events::{self, Cursor, Envelope, Position, TransferEncoder};
use crate::model::Actor;
use crate::store::Store;
use serde_json::json;

/// Audit events read per query: a page of ordinary events is small; an import event's
/// transfers are streamed separately.
const AUDIT_PAGE_EVENTS: i64 = 1_000;

/// Where exported lines go.
pub(crate) trait EventSink: Send {
    /// One NDJSON line (with its newline) for the change at `position`.
    fn write(&mut self, position: Position, line: &[u8]) -> AppResult<()>;
    /// Everything written so far should now reach its reader (flush); a cursor may then move.
    fn checkpoint(&mut self) -> AppResult<()>;
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct ExportRequest {
    pub(crate) cursor: Cursor,
    /// Most events to hand to the sink.
    pub(crate) limit: u64,
    pub(crate) unmask: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ExportOutcome {
    pub(crate) events: u64,
    /// The cursor after the last event written (the request's when none was).
    pub(crate) cursor: Cursor,
}

/// Hand every change after `request.cursor` (at most `limit`) to `sink`, checkpointing after
/// each page of audit events and each import batch.
pub(crate) async fn export(
    store: &Store,
    request: &ExportRequest,
    sink: &mut dyn EventSink,
) -> AppResult<ExportOutcome> {
    let mut state = Export {
        cursor: request.cursor,
        written: 0,
        limit: request.limit,
        unmask: request.unmask,
        line: Vec::with_capacity(1 << 10),
        encoder: TransferEncoder::default(),
    };
    // A cursor inside a batch reads that batch's event again (its later transfers are due).
    let mut after_seq = match request.cursor.delivered {
        Position { seq, index } if index == i64::MAX || seq == 0 => seq,
        Position { seq, .. } => seq - 1,
    };
    while state.written < state.limit {
        let page = store
            .audit_events_after(after_seq, AUDIT_PAGE_EVENTS)
            .await?;
        let Some(last) = page.last() else { break };
        after_seq = last.seq;
        for event in &page {
            if state.written >= state.limit {
                break;
            }
            state.event(store, event, sink).await?;
        }
        sink.checkpoint()?;
    }
    Ok(ExportOutcome {
        events: state.written,
        cursor: state.cursor,
    })
}

struct Export {
    cursor: Cursor,
    written: u64,
    limit: u64,
    unmask: bool,
    line: Vec<u8>,
    encoder: TransferEncoder,
}

impl Export {
    async fn event(
        &mut self,
        store: &Store,
        event: &crate::audit::AuditEvent,
        sink: &mut dyn EventSink,
    ) -> AppResult<()> {
        let Some(first_index) = self.cursor.first_index_of(event.seq) else {
            return Ok(());
        };
        let time = crate::clock::format_instant(event.at_us);
        if let Some(batch) = ImportedTransfers::of(event) {
            self.batch(store, event.seq, &time, &batch, first_index, sink)
                .await?;
            return sink.checkpoint();
        }
        if first_index > 0 {
            return Ok(());
        }
        let position = Position {
            seq: event.seq,
            index: 0,
        };
        let subject = events::subject(&event.entity, self.unmask);
        let data = events::details_data(&event.details, self.unmask);
        let envelope = Envelope {
            position,
            action: &event.action,
            time: &time,
            subject: &subject,
            trace_id: &event.trace_id,
        };
        self.line.clear();
        events::write_line(&mut self.line, &envelope, &data);
        self.deliver(position, sink)
    }

    fn deliver(&mut self, position: Position, sink: &mut dyn EventSink) -> AppResult<()> {
        sink.write(position, &self.line)?;
        self.cursor = Cursor::after(position);
        self.written += 1;
        Ok(())
    }

    /// The transfers of one import batch from `first_index` on, one event each.
    async fn batch(
        &mut self,
        store: &Store,
        seq: i64,
        time: &str,
        batch: &ImportedTransfers,
        first_index: i64,
        sink: &mut dyn EventSink,
    ) -> AppResult<()> {
        let first_id = batch.first_id.saturating_add(first_index);
        let remaining = i64::try_from(self.limit - self.written).unwrap_or(i64::MAX);
        let unmask = self.unmask;
        let mut visit = |transfer: &events::ImportedTransfer<'_>| {
            let position = Position {
                seq,
                index: transfer.id - batch.first_id,
            };
            self.line.clear();
            self.encoder
                .write_line(&mut self.line, position, time, transfer, unmask);
            self.deliver(position, sink)
        };
        store
            .exported_transfers_between(first_id, batch.last_id, remaining, &mut visit)
            .await
    }
}

/// `--unmask` shows full account numbers: recorded in the audit chain before anything is shown.
pub(crate) async fn record_unmask(store: &Store, actor: &Actor, cursor: Cursor) -> AppResult<()> {
    let mut tx = store.begin_write(actor).await?;
    tx.audit(
        "events.unmasked",
        "events:export",
        json!({ "since": cursor.to_string() }),
    );
    tx.commit().await?;
    Ok(())
}
