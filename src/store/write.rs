//! A write transaction: takes the global write lock first (SQLite `BEGIN IMMEDIATE`,
//! PostgreSQL `ledger_head … FOR UPDATE`), reads the ledger head (audit chain tip, last transfer
//! id), buffers audit events, and on commit writes them and the new head with the change.
//! How each backend starts and ends one is in `backend.rs`.

use super::{backend, dispatch, Actor, DbSystem, Store};
use crate::audit::{chain_hash, AuditEvent};
use crate::error::AppResult;
use crate::metrics::Tally;
use crate::model::TransferIds;

/// The ledger head a write transaction starts from: audit chain tip (seq, hash) and the last
/// transfer id.
pub(crate) type LedgerHead = (i64, String, i64);

pub(crate) enum TxInner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

pub(crate) struct WriteTx {
    pub(crate) inner: TxInner,
    pub(crate) system: DbSystem,
    pub(crate) actor: Actor,
    audit_seq: i64,
    audit_seq_at_begin: i64,
    audit_hash: String,
    transfer_seq: i64,
    pending_audit: Vec<AuditEvent>,
    /// The operator's audit key: events get a MAC when it is set.
    audit_key: Option<crate::audit::AuditKey>,
    /// Metrics counted when (and only if) this transaction commits.
    tally: Tally,
}

impl WriteTx {
    /// Waits for the ledger's write lock: a long `fincore.store.begin` span is contention.
    #[tracing::instrument(target = "fincore", name = "fincore.store.begin", skip_all, fields(db.system = store.system.as_str()))]
    pub(crate) async fn begin(store: &Store, actor: Actor) -> Result<WriteTx, sqlx::Error> {
        let (inner, (audit_seq, audit_hash, transfer_seq)) = backend::begin(&store.pool).await?;
        Ok(WriteTx {
            inner,
            system: store.system,
            actor,
            audit_seq,
            audit_seq_at_begin: audit_seq,
            audit_hash,
            transfer_seq,
            pending_audit: Vec::new(),
            audit_key: store.audit_key.clone(),
            tally: Tally::default(),
        })
    }

    /// The ledger's version when this transaction took the write lock. Every state change
    /// appends an audit event, so the chain's last `seq` is a global version number: if it
    /// still equals what a process left behind after its previous commit, nobody else wrote.
    pub(crate) fn version_at_begin(&self) -> i64 {
        self.audit_seq_at_begin
    }

    /// The version this transaction leaves behind once committed.
    pub(crate) fn version_after(&self) -> i64 {
        self.audit_seq
    }

    /// Hand out transfer ids away from the transaction (while it writes something else);
    /// `set_transfer_ids` takes them back before anything else uses ids or commits.
    pub(crate) fn transfer_ids(&self) -> TransferIds {
        TransferIds::after(self.transfer_seq)
    }

    pub(crate) fn set_transfer_ids(&mut self, ids: &TransferIds) {
        assert!(ids.last() >= self.transfer_seq, "transfer ids only grow");
        self.transfer_seq = ids.last();
    }

    /// Append an audit event to the chain; it is written with the rest at commit.
    pub(crate) fn audit(&mut self, action: &str, entity: &str, details: serde_json::Value) {
        self.audit_at(action, entity, details, self.actor.now_us);
    }

    /// Append an event whose details are already JSON text.
    pub(crate) fn audit_text(&mut self, action: &str, entity: &str, details: String) {
        self.append_audit(action, entity, details, self.actor.now_us);
    }

    pub(crate) fn audit_at(
        &mut self,
        action: &str,
        entity: &str,
        details: serde_json::Value,
        at_us: i64,
    ) {
        self.append_audit(action, entity, details.to_string(), at_us);
    }

    fn append_audit(&mut self, action: &str, entity: &str, details: String, at_us: i64) {
        let seq = self.audit_seq + 1;
        let mut event = AuditEvent {
            seq,
            at_us,
            operator: self.actor.operator.clone(),
            action: action.to_string(),
            entity: entity.to_string(),
            details,
            trace_id: self.actor.trace_id.clone(),
            prev_hash: std::mem::take(&mut self.audit_hash),
            hash: String::new(),
            mac: None,
        };
        event.hash = chain_hash(&event);
        event.mac = self.audit_key.as_ref().map(|key| key.mac(&event.hash));
        self.audit_seq = seq;
        self.audit_hash = event.hash.clone();
        self.pending_audit.push(event);
    }

    #[tracing::instrument(target = "fincore", name = "fincore.store.commit", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn commit(mut self) -> Result<(), sqlx::Error> {
        let events = std::mem::take(&mut self.pending_audit);
        let tally = std::mem::take(&mut self.tally);
        let head = (self.audit_seq, self.audit_hash.as_str(), self.transfer_seq);
        backend::commit(self.inner, &events, head).await?;
        tally.record();
        // End this span now: sqlx's SQLite worker keeps the span of the last request it served
        // (the commit) until the connection closes, which may be after the exit flush.
        use opentelemetry::trace::TraceContextExt;
        use tracing_opentelemetry::OpenTelemetrySpanExt;
        tracing::Span::current().context().span().end();
        Ok(())
    }

    /// Add counts to record when this transaction commits.
    pub(crate) fn tally(&mut self, tally: Tally) {
        self.tally.merge(tally);
    }
}

/// The `index`-th bind parameter. SQLite gets anonymous `?`: its `sqlite3_bind_parameter_name`
/// scans a list per call, so numbered parameters make a 20,000-value statement quadratic.
/// Parameters must therefore be bound in the order they appear in the SQL text.
pub(crate) fn placeholder(system: DbSystem, index: usize) -> String {
    match system {
        DbSystem::Sqlite => "?".to_string(),
        DbSystem::Postgresql => format!("${index}"),
    }
}

/// `PREFIX (p1,…,pn),(pn+1,…)` for `rows` rows of `columns` columns, numbering from `first`.
pub(crate) fn multi_row_insert(
    system: DbSystem,
    prefix: &str,
    columns: usize,
    rows: usize,
    first: usize,
) -> String {
    let mut sql = String::with_capacity(prefix.len() + rows * columns * 7);
    sql.push_str(prefix);
    let mut index = first;
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push(',');
            }
            sql.push_str(&placeholder(system, index));
            index += 1;
        }
        sql.push(')');
    }
    sql
}

pub(crate) fn placeholders(system: DbSystem, first: usize, count: usize) -> String {
    (first..first + count)
        .map(|index| placeholder(system, index))
        .collect::<Vec<_>>()
        .join(",")
}

impl WriteTx {
    pub(crate) fn is_postgres(&self) -> bool {
        self.system == DbSystem::Postgresql
    }

    #[tracing::instrument(target = "fincore", name = "fincore.store.rollback", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn rollback(self) -> AppResult<()> {
        dispatch!(TxInner, self.inner, tx => tx.rollback().await?);
        Ok(())
    }
}

impl WriteTx {
    /// Append an audit event whose details carry the bindings of the rows it created or
    /// changed (`evidence::ROWS_FIELD`).
    pub(crate) fn audit_rows(
        &mut self,
        action: &str,
        entity: &str,
        mut details: serde_json::Value,
        rows: Vec<crate::evidence::Binding>,
    ) {
        if let Some(object) = details.as_object_mut() {
            let rows = serde_json::to_value(rows).expect("bindings serialise");
            object.insert(crate::evidence::ROWS_FIELD.to_string(), rows);
        }
        self.audit(action, entity, details);
    }
}
