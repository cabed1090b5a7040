//! The tamper-evident audit chain: each event's hash covers its content and the previous
//! event's hash, so editing or deleting any stored event breaks every later link.

use sha2::{Digest, Sha256};

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct AuditEvent {
    pub seq: i64,
    pub at_us: i64,
    pub operator: String,
    pub action: String,
    pub entity: String,
    pub details: String,
    pub trace_id: String,
    pub prev_hash: String,
    pub hash: String,
}

/// SHA-256 over the event's fields, each length-prefixed so no two events share an encoding.
pub fn chain_hash(event: &AuditEvent) -> String {
    let mut hasher = Sha256::new();
    hasher.update(event.prev_hash.as_bytes());
    hasher.update(event.seq.to_be_bytes());
    hasher.update(event.at_us.to_be_bytes());
    for field in [
        &event.operator,
        &event.action,
        &event.entity,
        &event.details,
        &event.trace_id,
    ] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    to_hex(&hasher.finalize())
}

pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(DIGITS[usize::from(byte >> 4)] as char);
        text.push(DIGITS[usize::from(byte & 0x0f)] as char);
    }
    text
}

/// Walks events in `seq` order and reports the first one that breaks the chain.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    previous_hash: String,
    pub checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            expected_seq: 1,
            previous_hash: GENESIS_HASH.to_string(),
            checked: 0,
        }
    }
}

impl ChainVerifier {
    /// Ok while intact; Err(reason) at the first broken event.
    pub fn check(&mut self, event: &AuditEvent) -> Result<(), String> {
        if event.seq != self.expected_seq {
            return Err(format!(
                "expected seq {} but found {} (an event is missing)",
                self.expected_seq, event.seq
            ));
        }
        if event.prev_hash != self.previous_hash {
            return Err("prev_hash does not match the previous event's hash".to_string());
        }
        if chain_hash(event) != event.hash {
            return Err("hash does not match the event's content (the event was edited)".into());
        }
        self.expected_seq += 1;
        self.previous_hash = event.hash.clone();
        self.checked += 1;
        Ok(())
    }

    pub fn tip(&self) -> (i64, &str) {
        (self.expected_seq - 1, &self.previous_hash)
    }
}
