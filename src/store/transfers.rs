//! Transfer and entry rows inside a write transaction. The writes differ per backend
//! (`backend.rs`); every writer takes its columns from `columns.rs`.

use super::rows::{TransferRow, TRANSFER_COLUMNS};
use super::write::{TxInner, WriteTx};
use super::{backend, dispatch};
use crate::error::AppResult;
use crate::model::{Entry, Transfer};
use std::collections::HashMap;

impl WriteTx {
    #[tracing::instrument(target = "fincore", name = "fincore.store.transfers.read", skip_all, fields(db.system = self.system.as_str(), fincore.rows = keys.len() as i64))]
    pub(crate) async fn transfers_by_keys(
        &mut self,
        keys: &[&str],
    ) -> AppResult<HashMap<String, Transfer>> {
        let mut found = HashMap::with_capacity(keys.len());
        for row in backend::transfers_by_keys(&mut self.inner, keys).await? {
            let transfer = row.into_transfer()?;
            if let Some(key) = transfer.key.clone() {
                found.insert(key, transfer);
            }
        }
        Ok(found)
    }

    #[tracing::instrument(target = "fincore", name = "fincore.store.transfers.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn transfer_by_id(&mut self, id: i64) -> AppResult<Option<Transfer>> {
        let sql = format!("SELECT {TRANSFER_COLUMNS} FROM transfers WHERE id = $1");
        let row: Option<TransferRow> = dispatch!(TxInner, &mut self.inner, tx => {
            sqlx::query_as(&sql).bind(id).fetch_optional(&mut **tx).await?
        });
        row.map(TransferRow::into_transfer).transpose()
    }

    #[tracing::instrument(target = "fincore", name = "fincore.store.transfers.read", skip_all, fields(db.system = self.system.as_str()))]
    pub(crate) async fn reversal_of(&mut self, id: i64) -> AppResult<Option<i64>> {
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
    pub(crate) async fn write_postings(
        &mut self,
        transfers: &[Transfer],
        entries: &[Entry],
        balances: &[(String, i64)],
        now_us: i64,
    ) -> AppResult<()> {
        backend::write_postings(self, transfers, entries, balances, now_us).await
    }

    /// Every column from the one map (`columns::TRANSFER`): SQLite multi-row `VALUES`,
    /// PostgreSQL `COPY`.
    #[tracing::instrument(target = "fincore", name = "fincore.store.transfers.write", skip_all, fields(db.system = self.system.as_str(), fincore.rows = transfers.len() as i64))]
    pub(crate) async fn insert_transfers(&mut self, transfers: &[Transfer]) -> AppResult<()> {
        backend::insert_transfers(&mut self.inner, transfers).await
    }

    #[tracing::instrument(target = "fincore", name = "fincore.store.entries.write", skip_all, fields(db.system = self.system.as_str(), fincore.rows = entries.len() as i64))]
    pub(crate) async fn insert_entries(&mut self, entries: &[Entry]) -> AppResult<()> {
        backend::insert_entries(&mut self.inner, entries).await
    }
}
