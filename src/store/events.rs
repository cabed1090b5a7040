//! Reads of the change feed (`events export`): audit events after a seq, and the transfers of
//! an import batch from a position on, streamed row by row (the raw SQLite path: a million
//! imported transfers are read without sqlx's per-row handover).

use super::audit::AuditRow;
use super::columns::{self, Names, Value};
use super::rows::StoredRow;
use super::{backend, dispatch, Pool, Store};
use crate::audit::AuditEvent;
use crate::error::AppResult;
use crate::events::ImportedTransfer;

const AUDIT_COLUMNS: Names<'static, AuditEvent> = Names(&columns::AUDIT_EVENT);

/// The columns an exported transfer shows, NULLs as '' so both backends read them as text.
const EXPORTED_TRANSFER_COLUMNS: &str = "id, COALESCE(idempotency_key, ''), kind, from_account, \
     to_account, amount_minor, currency, status, COALESCE(error_code, ''), reference, \
     description, at_us, risk_score, trace_id";

/// Called with each transfer read; an error stops the read and is returned.
pub(crate) type TransferVisitor<'v> = dyn FnMut(&ImportedTransfer<'_>) -> AppResult<()> + Send + 'v;

impl Store {
    /// Up to `limit` audit events with a seq above `after_seq`, in seq order.
    #[tracing::instrument(target = "fincore", name = "fincore.store.audit.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn audit_events_after(
        &self,
        after_seq: i64,
        limit: i64,
    ) -> AppResult<Vec<AuditEvent>> {
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2"
        );
        let rows = dispatch!(Pool, &self.pool, pool => {
            sqlx::query_as::<_, AuditRow>(&sql)
                .bind(after_seq)
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(AuditEvent::from).collect())
    }

    /// The transfers with ids `first_id..=last_id`, in id order, at most `limit` of them,
    /// each handed to `visit` while its row is current.
    #[tracing::instrument(target = "fincore", name = "fincore.store.transfers.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn exported_transfers_between(
        &self,
        first_id: i64,
        last_id: i64,
        limit: i64,
        visit: &mut TransferVisitor<'_>,
    ) -> AppResult<()> {
        let sql = format!(
            "SELECT {EXPORTED_TRANSFER_COLUMNS} FROM transfers WHERE id >= $1 AND id <= $2 ORDER BY id LIMIT $3"
        );
        let parameters = vec![
            Value::Integer(first_id),
            Value::Integer(last_id),
            Value::Integer(limit),
        ];
        let read = |visit: &mut &mut TransferVisitor<'_>, row: &dyn StoredRow| {
            let transfer = ImportedTransfer {
                id: row.integer(0)?,
                key: row.text(1)?,
                kind: row.text(2)?,
                from: row.text(3)?,
                to: row.text(4)?,
                amount_minor: row.integer(5)?,
                currency: row.text(6)?,
                status: row.text(7)?,
                error_code: row.text(8)?,
                reference: row.text(9)?,
                description: row.text(10)?,
                at_us: row.integer(11)?,
                risk_score: row.integer(12)?,
                trace_id: row.text(13)?,
            };
            visit(&transfer)
        };
        backend::scan_parallel(&self.pool, &sql, vec![(parameters, visit)], &read).await?;
        Ok(())
    }
}
