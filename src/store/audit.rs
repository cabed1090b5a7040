//! Audit and integrity queries.

use super::columns::{self, Names};
use super::{dispatch, Pool, Store};
use crate::audit::{AuditEvent, ImportedTransfers, IMPORT_ACTION};
use crate::error::AppResult;
use sqlx::Row;

#[derive(Debug, Default, Clone)]
pub(crate) struct AuditFilter {
    pub(crate) from_us: Option<i64>,
    pub(crate) to_us: Option<i64>,
    pub(crate) entity: Option<String>,
    pub(crate) limit: i64,
}

/// Batch size when walking the whole chain, so memory stays flat on big ledgers.
const AUDIT_PAGE_ROWS: i64 = 10_000;

const AUDIT_COLUMNS: Names<'static, AuditEvent> = Names(&columns::AUDIT_EVENT);

/// An `audit_events` row as sqlx decodes it: the chain's `AuditEvent` knows no database.
#[derive(sqlx::FromRow)]
pub(super) struct AuditRow {
    seq: i64,
    at_us: i64,
    operator: String,
    action: String,
    entity: String,
    details: String,
    trace_id: String,
    prev_hash: String,
    hash: String,
    mac: Option<String>,
}

impl From<AuditRow> for AuditEvent {
    fn from(row: AuditRow) -> AuditEvent {
        AuditEvent {
            seq: row.seq,
            at_us: row.at_us,
            operator: row.operator,
            action: row.action,
            entity: row.entity,
            details: row.details,
            trace_id: row.trace_id,
            prev_hash: row.prev_hash,
            hash: row.hash,
            mac: row.mac,
        }
    }
}

impl Store {
    /// The newest `filter.limit` matching events, in chain (`seq`) order.
    #[tracing::instrument(target = "fincore", name = "fincore.store.audit.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn audit_events(&self, filter: &AuditFilter) -> AppResult<Vec<AuditEvent>> {
        let entity = filter.entity.clone().unwrap_or_default();
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE at_us >= $1 AND at_us <= $2 \
             AND ($3 = '' OR entity = $3 OR details LIKE $4) ORDER BY seq DESC LIMIT $5"
        );
        let events = dispatch!(Pool, &self.pool, pool => {
            sqlx::query_as::<_, AuditRow>(&sql)
                .bind(filter.from_us.unwrap_or(i64::MIN))
                .bind(filter.to_us.unwrap_or(i64::MAX))
                .bind(&entity)
                .bind(format!("%\"{entity}\"%"))
                .bind(filter.limit)
                .fetch_all(pool)
                .await?
        });
        let events = events.into_iter().rev().map(AuditEvent::from).collect();
        if entity.is_empty() {
            return Ok(events);
        }
        self.with_covering_imports(events, &entity, filter).await
    }

    /// How many events `audit_events` would list without a limit (no `entity`: events that
    /// cover an entity through an import batch are found only by reading them).
    #[tracing::instrument(target = "fincore", name = "fincore.store.audit.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn count_audit_events(
        &self,
        from_us: Option<i64>,
        to_us: Option<i64>,
    ) -> AppResult<i64> {
        let count: i64 = dispatch!(Pool, &self.pool, pool => {
            sqlx::query_scalar(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_events WHERE at_us >= $1 AND at_us <= $2",
            )
            .bind(from_us.unwrap_or(i64::MIN))
            .bind(to_us.unwrap_or(i64::MAX))
            .fetch_one(pool)
            .await?
        });
        Ok(count)
    }

    /// Imported transfers have no events of their own: add the `transfer.imported` event of
    /// every batch that recorded the transfer `transfer:ID`, or a transfer naming the account.
    async fn with_covering_imports(
        &self,
        mut events: Vec<AuditEvent>,
        entity: &str,
        filter: &AuditFilter,
    ) -> AppResult<Vec<AuditEvent>> {
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE action = $1 AND at_us >= $2 AND at_us <= $3 ORDER BY seq"
        );
        let imports = dispatch!(Pool, &self.pool, pool => {
            sqlx::query_as::<_, AuditRow>(&sql)
                .bind(IMPORT_ACTION)
                .bind(filter.from_us.unwrap_or(i64::MIN))
                .bind(filter.to_us.unwrap_or(i64::MAX))
                .fetch_all(pool)
                .await?
        });
        let transfer_id = entity
            .strip_prefix("transfer:")
            .and_then(|id| id.parse::<i64>().ok());
        for event in imports.into_iter().map(AuditEvent::from) {
            let Some(batch) = ImportedTransfers::of(&event) else {
                continue;
            };
            let covers = match transfer_id {
                Some(id) => batch.first_id <= id && id <= batch.last_id,
                None => self.names_account_between(entity, &batch).await?,
            };
            if covers {
                events.push(event);
            }
        }
        events.sort_by_key(|event| event.seq);
        events.dedup_by_key(|event| event.seq);
        // The newest `limit`, as without an entity.
        let limit = usize::try_from(filter.limit).unwrap_or(usize::MAX);
        let excess = events.len().saturating_sub(limit);
        events.drain(..excess);
        Ok(events)
    }

    /// Whether a transfer of `batch` names `account` (a range of the primary key: at most one
    /// batch of rows read).
    async fn names_account_between(
        &self,
        account: &str,
        batch: &ImportedTransfers,
    ) -> AppResult<bool> {
        let found: Option<i64> = dispatch!(Pool, &self.pool, pool => {
            sqlx::query_scalar(
                "SELECT id FROM transfers WHERE id >= $1 AND id <= $2 \
                 AND (from_account = $3 OR to_account = $3) LIMIT 1",
            )
            .bind(batch.first_id)
            .bind(batch.last_id)
            .bind(account)
            .fetch_optional(pool)
            .await?
        });
        Ok(found.is_some())
    }

    /// Walk the whole chain in `seq` order, page by page.
    #[tracing::instrument(target = "fincore", name = "fincore.store.audit.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn for_each_audit_event(
        &self,
        mut visit: impl FnMut(&AuditEvent) -> bool,
    ) -> AppResult<()> {
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2"
        );
        let mut after_seq = i64::MIN;
        loop {
            let page = dispatch!(Pool, &self.pool, pool => {
                sqlx::query_as::<_, AuditRow>(&sql)
                    .bind(after_seq)
                    .bind(AUDIT_PAGE_ROWS)
                    .fetch_all(pool)
                    .await?
            });
            let Some(last) = page.last() else {
                return Ok(());
            };
            after_seq = last.seq;
            for event in page.into_iter().map(AuditEvent::from) {
                if !visit(&event) {
                    return Ok(());
                }
            }
        }
    }

    /// The event of one seq, if the chain has it.
    #[tracing::instrument(target = "fincore", name = "fincore.store.audit.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn audit_event(&self, seq: i64) -> AppResult<Option<AuditEvent>> {
        let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_events WHERE seq = $1");
        let row = dispatch!(Pool, &self.pool, pool => {
            sqlx::query_as::<_, AuditRow>(&sql)
                .bind(seq)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(AuditEvent::from))
    }

    #[tracing::instrument(target = "fincore", name = "fincore.store.audit.read", skip_all, fields(db.system = self.system.as_str()))]
    /// The chain's tip as the ledger head records it (None: the head row is gone, which only
    /// an edit behind fincore's back does).
    pub(crate) async fn ledger_head(&self) -> AppResult<Option<(i64, String)>> {
        let row = dispatch!(Pool, &self.pool, pool => {
            match sqlx::query("SELECT audit_seq, audit_hash FROM ledger_head WHERE id = 1")
                .fetch_optional(pool)
                .await?
            {
                Some(row) => Some((row.try_get::<i64, _>(0)?, row.try_get::<String, _>(1)?)),
                None => None,
            }
        });
        Ok(row)
    }
}
