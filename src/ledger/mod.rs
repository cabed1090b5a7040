//! Posting: the rules that turn a transfer request into balanced entries or a recorded
//! rejection. Requests are applied to an in-memory book of the accounts they touch (loaded
//! under the write lock), then the batch is written in the same transaction.

pub mod accounts;
mod apply;
pub mod import;
mod import_batch;
pub mod number;
pub mod post;
pub mod risk;
pub mod verify;

pub use apply::{
    apply, apply_in_place, assert_balanced, audit_transfers, rejection_error, tally_transfers,
    write_balances, write_batch, Applied, ApplyContext, Batch, Book, Outcome,
};

use crate::audit::to_hex;
use crate::model::TransferKind;
use crate::money::Currency;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRequest {
    pub kind: TransferKind,
    pub key: Option<String>,
    pub from: String,
    pub to: String,
    pub amount_minor: i64,
    pub currency: Currency,
    pub reference: String,
    pub description: String,
    /// Booking instant; `None` means "now".
    pub at_us: Option<i64>,
    pub reverses_id: Option<i64>,
}

/// Longest idempotency key, reference or description we store.
pub const KEY_LENGTH_MAX: usize = 128;
pub const TEXT_LENGTH_MAX: usize = 512;

impl TransferRequest {
    /// Fingerprint of everything the caller said; the same key with another fingerprint is an
    /// idempotency conflict. An omitted `--at` is part of the payload as "omitted".
    pub fn payload_hash(&self) -> String {
        let mut hasher = Sha256::new();
        let at = self
            .at_us
            .map_or_else(|| "-".to_string(), |at| at.to_string());
        for field in [
            self.kind.as_str(),
            &self.from,
            &self.to,
            &self.amount_minor.to_string(),
            self.currency.code(),
            &self.reference,
            &self.description,
            &at,
        ] {
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field.as_bytes());
        }
        to_hex(&hasher.finalize()[..16])
    }
}
