//! A write transaction: takes the global write lock first (SQLite `BEGIN IMMEDIATE`,
//! PostgreSQL `ledger_head … FOR UPDATE`), reads the ledger head (audit chain tip, last transfer
//! id), buffers audit events, and on commit writes them and the new head with the change.

use super::{dispatch, postgres, sqlite, Actor, DbSystem, Pool, Store, INSERT_ROWS_MAX};
use crate::audit::{chain_hash, AuditEvent};
use crate::error::AppResult;
use crate::telemetry::metrics::Tally;
use sqlx::Row;

pub(crate) enum TxInner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

pub struct WriteTx {
    pub(crate) inner: TxInner,
    pub(crate) system: DbSystem,
    pub actor: Actor,
    audit_seq: i64,
    audit_hash: String,
    transfer_seq: i64,
    pending_audit: Vec<AuditEvent>,
    /// Metrics counted when (and only if) this transaction commits.
    tally: Tally,
}

impl WriteTx {
    /// Waits for the ledger's write lock: a long `fincore.store.begin` span is contention.
    #[tracing::instrument(target = "fincore", name = "fincore.store.begin", skip_all, fields(db.system = store.system.as_str()))]
    pub(crate) async fn begin(store: &Store, actor: Actor) -> Result<WriteTx, sqlx::Error> {
        let (inner, row) = match &store.pool {
            Pool::Sqlite(pool) => {
                let mut tx = pool.begin_with(sqlite::BEGIN_WRITE).await?;
                let row = sqlx::query(
                    "SELECT audit_seq, audit_hash, transfer_seq FROM ledger_head WHERE id = 1",
                )
                .fetch_one(&mut *tx)
                .await?;
                (
                    TxInner::Sqlite(tx),
                    (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?),
                )
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let row = sqlx::query(postgres::LOCK_HEAD).fetch_one(&mut *tx).await?;
                (
                    TxInner::Postgres(tx),
                    (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?),
                )
            }
        };
        let (audit_seq, audit_hash, transfer_seq) = row;
        Ok(WriteTx {
            inner,
            system: store.system,
            actor,
            audit_seq,
            audit_hash,
            transfer_seq,
            pending_audit: Vec::new(),
            tally: Tally::default(),
        })
    }

    pub fn next_transfer_id(&mut self) -> i64 {
        self.transfer_seq += 1;
        self.transfer_seq
    }

    /// Append an audit event to the chain; it is written with the rest at commit.
    pub fn audit(&mut self, action: &str, entity: &str, details: serde_json::Value) {
        self.audit_at(action, entity, details, self.actor.now_us);
    }

    pub fn audit_at(&mut self, action: &str, entity: &str, details: serde_json::Value, at_us: i64) {
        let seq = self.audit_seq + 1;
        let mut event = AuditEvent {
            seq,
            at_us,
            operator: self.actor.operator.clone(),
            action: action.to_string(),
            entity: entity.to_string(),
            details: details.to_string(),
            trace_id: self.actor.trace_id.clone(),
            prev_hash: self.audit_hash.clone(),
            hash: String::new(),
        };
        event.hash = chain_hash(&event);
        self.audit_seq = seq;
        self.audit_hash = event.hash.clone();
        self.pending_audit.push(event);
    }

    #[tracing::instrument(target = "fincore", name = "fincore.store.commit", skip_all, fields(db.system = self.system.as_str()))]
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        self.flush_audit().await?;
        let (audit_seq, audit_hash, transfer_seq) =
            (self.audit_seq, self.audit_hash.clone(), self.transfer_seq);
        let tally = std::mem::take(&mut self.tally);
        dispatch!(TxInner, self.inner, mut tx => {
            sqlx::query(
                "UPDATE ledger_head SET audit_seq = $1, audit_hash = $2, transfer_seq = $3 WHERE id = 1",
            )
            .bind(audit_seq)
            .bind(audit_hash)
            .bind(transfer_seq)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?
        });
        tally.record();
        Ok(())
    }

    /// Add counts to record when this transaction commits.
    pub fn tally(&mut self, tally: Tally) {
        self.tally.merge(tally);
    }

    async fn flush_audit(&mut self) -> Result<(), sqlx::Error> {
        let events = std::mem::take(&mut self.pending_audit);
        for chunk in events.chunks(INSERT_ROWS_MAX) {
            let sql = bulk_insert(
                self.system,
                "INSERT INTO audit_events (seq, at_us, operator, action, entity, details, trace_id, prev_hash, hash) VALUES ",
                9,
                chunk.len(),
            );
            dispatch!(TxInner, &mut self.inner, tx => {
                let mut query = sqlx::query(&sql);
                for event in chunk {
                    query = query
                        .bind(event.seq)
                        .bind(event.at_us)
                        .bind(&event.operator)
                        .bind(&event.action)
                        .bind(&event.entity)
                        .bind(&event.details)
                        .bind(&event.trace_id)
                        .bind(&event.prev_hash)
                        .bind(&event.hash);
                }
                query.execute(&mut **tx).await?;
            });
        }
        Ok(())
    }
}

/// `PREFIX ($1,…,$n),($n+1,…)` for `rows` rows of `columns` columns.
pub(crate) fn multi_row_insert(prefix: &str, columns: usize, rows: usize) -> String {
    let mut sql = String::with_capacity(prefix.len() + rows * columns * 6);
    sql.push_str(prefix);
    let mut placeholder = 0;
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push(',');
            }
            placeholder += 1;
            sql.push('$');
            sql.push_str(&placeholder.to_string());
        }
        sql.push(')');
    }
    sql
}

pub(crate) fn placeholders(start: usize, count: usize) -> String {
    (start..start + count)
        .map(|index| format!("${index}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// `multi_row_insert` for the big batch statements, with anonymous `?` placeholders on
/// SQLite. SQLite looks named and numbered parameters up linearly, at prepare and again at
/// every bind (`sqlite3_bind_parameter_name`), so a 1,000-row, 22,000-parameter INSERT takes
/// quadratic time: three quarters of a `transfer import` went there. Only for statements
/// whose parameters are all bound in textual order.
pub(crate) fn bulk_insert(system: DbSystem, prefix: &str, columns: usize, rows: usize) -> String {
    match system {
        DbSystem::Postgresql => multi_row_insert(prefix, columns, rows),
        DbSystem::Sqlite => {
            let row = format!("({})", vec!["?"; columns].join(","));
            let mut sql = String::with_capacity(prefix.len() + rows * (row.len() + 1));
            sql.push_str(prefix);
            sql.push_str(&vec![row.as_str(); rows].join(","));
            sql
        }
    }
}

/// `placeholders(1, count)` for an `IN (…)` list, anonymous on SQLite (see `bulk_insert`).
pub(crate) fn bulk_list(system: DbSystem, count: usize) -> String {
    match system {
        DbSystem::Postgresql => placeholders(1, count),
        DbSystem::Sqlite => vec!["?"; count].join(","),
    }
}

impl WriteTx {
    pub(crate) fn is_postgres(&self) -> bool {
        self.system == DbSystem::Postgresql
    }

    #[tracing::instrument(target = "fincore", name = "fincore.store.rollback", skip_all, fields(db.system = self.system.as_str()))]
    pub async fn rollback(self) -> AppResult<()> {
        dispatch!(TxInner, self.inner, tx => tx.rollback().await?);
        Ok(())
    }
}
