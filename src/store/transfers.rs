//! Transfer and entry rows inside a write transaction. PostgreSQL takes its bulk path in
//! `postgres.rs` (typed arrays); the statements here serve SQLite.

use super::rows::{TransferRow, TRANSFER_COLUMNS, TRANSFER_COLUMN_COUNT};
use super::write::{multi_row_insert, placeholders, TxInner, WriteTx};
use super::{dispatch, postgres, INSERT_ROWS_MAX};
use crate::error::AppResult;
use crate::model::{Entry, Transfer};
use std::collections::HashMap;

impl WriteTx {
    #[tracing::instrument(target = "fincore", name = "fincore.store.transfers.read", skip_all, fields(db.system = self.system.as_str(), fincore.rows = keys.len() as i64))]
    pub async fn transfers_by_keys(
        &mut self,
        keys: &[&str],
    ) -> AppResult<HashMap<String, Transfer>> {
        let mut found = HashMap::with_capacity(keys.len());
        if let TxInner::Postgres(tx) = &mut self.inner {
            for row in postgres::transfers_by_keys(tx, keys).await? {
                let transfer = row.into_transfer()?;
                if let Some(key) = transfer.key.clone() {
                    found.insert(key, transfer);
                }
            }
            return Ok(found);
        }
        for chunk in keys.chunks(INSERT_ROWS_MAX) {
            let sql = format!(
                "SELECT {TRANSFER_COLUMNS} FROM transfers WHERE idempotency_key IN ({})",
                placeholders(self.system, 1, chunk.len())
            );
            let rows: Vec<TransferRow> = dispatch!(TxInner, &mut self.inner, tx => {
                let mut query = sqlx::query_as(&sql);
                for key in chunk {
                    query = query.bind(*key);
                }
                query.fetch_all(&mut **tx).await?
            });
            for row in rows {
                let transfer = row.into_transfer()?;
                if let Some(key) = transfer.key.clone() {
                    found.insert(key, transfer);
                }
            }
        }
        Ok(found)
    }

    #[tracing::instrument(target = "fincore", name = "fincore.store.transfers.read", skip_all, fields(db.system = self.system.as_str()))]
    pub async fn transfer_by_id(&mut self, id: i64) -> AppResult<Option<Transfer>> {
        let sql = format!("SELECT {TRANSFER_COLUMNS} FROM transfers WHERE id = $1");
        let row: Option<TransferRow> = dispatch!(TxInner, &mut self.inner, tx => {
            sqlx::query_as(&sql).bind(id).fetch_optional(&mut **tx).await?
        });
        row.map(TransferRow::into_transfer).transpose()
    }

    #[tracing::instrument(target = "fincore", name = "fincore.store.transfers.read", skip_all, fields(db.system = self.system.as_str()))]
    pub async fn reversal_of(&mut self, id: i64) -> AppResult<Option<i64>> {
        let found: Option<i64> = dispatch!(TxInner, &mut self.inner, tx => {
            sqlx::query_scalar("SELECT id FROM transfers WHERE reverses_id = $1")
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
        });
        Ok(found)
    }

    /// Transfers, their entries and the new balances of the accounts they touched. On
    /// PostgreSQL a small batch (a single post) is one statement: the ledger lock is held
    /// across as few round trips as possible.
    pub async fn write_postings(
        &mut self,
        transfers: &[Transfer],
        entries: &[Entry],
        balances: &[(String, i64)],
        now_us: i64,
    ) -> AppResult<()> {
        if let TxInner::Postgres(tx) = &mut self.inner {
            return Ok(postgres::write_postings(tx, transfers, entries, balances, now_us).await?);
        }
        self.insert_transfers(transfers).await?;
        self.insert_entries(entries).await?;
        self.set_balances(balances, now_us).await
    }

    #[tracing::instrument(target = "fincore", name = "fincore.store.transfers.write", skip_all, fields(db.system = self.system.as_str(), fincore.rows = transfers.len() as i64))]
    pub async fn insert_transfers(&mut self, transfers: &[Transfer]) -> AppResult<()> {
        if let TxInner::Postgres(tx) = &mut self.inner {
            return Ok(postgres::insert_transfers(tx, transfers).await?);
        }
        for chunk in transfers.chunks(INSERT_ROWS_MAX) {
            let sql = multi_row_insert(
                self.system,
                &format!("INSERT INTO transfers ({TRANSFER_COLUMNS}) VALUES "),
                TRANSFER_COLUMN_COUNT,
                chunk.len(),
                1,
            );
            dispatch!(TxInner, &mut self.inner, tx => {
                let mut query = sqlx::query(&sql);
                for transfer in chunk {
                    let factors = serde_json::to_string(&transfer.risk.factors)
                        .expect("risk factors serialise");
                    query = query
                        .bind(transfer.id)
                        .bind(transfer.key.as_deref())
                        .bind(&transfer.payload_hash)
                        .bind(transfer.kind.as_str())
                        .bind(&transfer.from)
                        .bind(&transfer.to)
                        .bind(transfer.amount_minor)
                        .bind(transfer.currency.code())
                        .bind(transfer.status.as_str())
                        .bind(transfer.error_code.as_deref())
                        .bind(transfer.error_message.as_deref())
                        .bind(&transfer.reference)
                        .bind(&transfer.description)
                        .bind(transfer.at_us)
                        .bind(transfer.created_at_us)
                        .bind(i64::from(transfer.risk.score))
                        .bind(transfer.risk.level.as_str())
                        .bind(transfer.risk.decision.as_str())
                        .bind(factors)
                        .bind(transfer.reverses_id)
                        .bind(&transfer.operator)
                        .bind(&transfer.trace_id);
                }
                query.execute(&mut **tx).await?.rows_affected()
            });
        }
        Ok(())
    }

    #[tracing::instrument(target = "fincore", name = "fincore.store.entries.write", skip_all, fields(db.system = self.system.as_str(), fincore.rows = entries.len() as i64))]
    pub async fn insert_entries(&mut self, entries: &[Entry]) -> AppResult<()> {
        if let TxInner::Postgres(tx) = &mut self.inner {
            return Ok(postgres::insert_entries(tx, entries).await?);
        }
        for chunk in entries.chunks(INSERT_ROWS_MAX * 2) {
            let sql = multi_row_insert(
                self.system,
                "INSERT INTO entries (transfer_id, account, amount_minor, at_us) VALUES ",
                4,
                chunk.len(),
                1,
            );
            dispatch!(TxInner, &mut self.inner, tx => {
                let mut query = sqlx::query(&sql);
                for entry in chunk {
                    query = query
                        .bind(entry.transfer_id)
                        .bind(&entry.account)
                        .bind(entry.amount_minor)
                        .bind(entry.at_us);
                }
                query.execute(&mut **tx).await?.rows_affected()
            });
        }
        Ok(())
    }
}
