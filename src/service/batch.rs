//! Writing a batch the ledger applied: its transfers, entries and new balances, and one audit
//! event per transfer, in the caller's transaction.

use crate::error::AppResult;
use crate::ledger::{assert_balanced, tally_transfers, touched_balances, Batch, Book};
use crate::model::{Transfer, TransferStatus};
use crate::store::WriteTx;

/// Write a batch's transfers, entries, balances and one audit event per transfer.
pub(crate) async fn write_batch(tx: &mut WriteTx, book: &Book, batch: Batch) -> AppResult<()> {
    assert_balanced(&batch.transfers, &batch.entries);
    batch.assert_balances_follow_entries(book);
    // One call so PostgreSQL can write a single post in one statement while the lock is held.
    let balances = touched_balances(book, &batch);
    let now_us = tx.actor.now_us;
    tx.tally(batch.tally.clone());
    tx.write_postings(&batch.transfers, &batch.entries, &balances, now_us)
        .await?;
    audit_transfers(tx, &batch.transfers);
    Ok(())
}

/// The new balances of every account the batch touched.
pub(crate) async fn write_balances(tx: &mut WriteTx, book: &Book, batch: &Batch) -> AppResult<()> {
    batch.assert_balances_follow_entries(book);
    let balances = touched_balances(book, batch);
    let now_us = tx.actor.now_us;
    tx.tally(batch.tally.clone());
    tx.set_balances(&balances, now_us).await
}

/// One audit event per transfer, in order, and the transfers counted for the commit's metrics.
pub(crate) fn audit_transfers(tx: &mut WriteTx, transfers: &[Transfer]) {
    for transfer in transfers {
        let action = match transfer.status {
            TransferStatus::Posted => "transfer.posted",
            TransferStatus::Rejected => "transfer.rejected",
        };
        tx.audit_text(
            action,
            &format!("transfer:{}", transfer.id),
            audit_details(transfer),
        );
    }
    tx.tally(tally_transfers(transfers));
}

/// What a transfer's audit event records; serialised straight to text (no JSON tree per row).
#[derive(serde::Serialize)]
struct TransferAudit<'a> {
    id: i64,
    key: Option<&'a str>,
    kind: &'static str,
    from: &'a str,
    to: &'a str,
    amount: String,
    currency: &'a str,
    error_code: Option<&'a str>,
    risk_score: u32,
    reverses_id: Option<i64>,
    /// The transfer's row as written (`ledger verify` proves the table against it).
    rows: [crate::evidence::Binding; 1],
}

fn audit_details(transfer: &Transfer) -> String {
    let details = TransferAudit {
        id: transfer.id,
        key: transfer.key.as_deref(),
        kind: transfer.kind.as_str(),
        from: &transfer.from,
        to: &transfer.to,
        amount: transfer.currency.format(transfer.amount_minor),
        currency: transfer.currency.code(),
        error_code: transfer.error_code.as_deref(),
        risk_score: transfer.risk.score,
        reverses_id: transfer.reverses_id,
        rows: [crate::store::transfer_binding(transfer)],
    };
    serde_json::to_string(&details).expect("audit details serialise")
}
