//! A transfer as asked for: by an operator, an import row, a reconciliation adjustment. The
//! ledger turns it into a posted or rejected `Transfer`.

use super::TransferKind;
use crate::money::Currency;
use crate::text::to_hex;
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
    pub(crate) fn payload_hash(&self) -> String {
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
