//! The tamper-evident audit chain: each event's hash covers its content and the previous
//! event's hash, so editing or deleting any stored event breaks every later link.

use crate::text::to_hex;
use sha2::{Digest, Sha256};

pub(crate) const GENESIS_HASH: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct AuditEvent {
    pub(crate) seq: i64,
    pub(crate) at_us: i64,
    pub(crate) operator: String,
    pub(crate) action: String,
    pub(crate) entity: String,
    pub(crate) details: String,
    pub(crate) trace_id: String,
    pub(crate) prev_hash: String,
    pub(crate) hash: String,
    /// HMAC-SHA256 of `hash` under the operator's audit key, when one was configured.
    pub(crate) mac: Option<String>,
}

/// SHA-256 over the event's fields, each length-prefixed so no two events share an encoding.
pub(crate) fn chain_hash(event: &AuditEvent) -> String {
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

/// Shortest audit key accepted, in bytes: HMAC-SHA256 wants 32 bytes of secret.
pub(crate) const AUDIT_KEY_BYTES_MIN: usize = 32;

/// The operator's audit key (`FINCORE_AUDIT_KEY` or `FINCORE_AUDIT_KEY_FILE`): never stored in
/// the database, never printed.
#[derive(Clone)]
pub(crate) struct AuditKey(Vec<u8>);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("AuditKey(***)")
    }
}

impl AuditKey {
    pub(crate) fn new(bytes: Vec<u8>) -> Result<AuditKey, String> {
        if bytes.len() < AUDIT_KEY_BYTES_MIN {
            return Err(format!(
                "the audit key is {} bytes; at least {AUDIT_KEY_BYTES_MIN} are needed",
                bytes.len()
            ));
        }
        Ok(AuditKey(bytes))
    }

    /// HMAC-SHA256 of an event's hash, hex.
    pub(crate) fn mac(&self, hash: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(hash.as_bytes());
        to_hex(&mac.finalize().into_bytes())
    }
}

/// Walks events in `seq` order and reports the first one that breaks the chain. With a key,
/// every event from the first one that carries a MAC must carry the right one.
#[derive(Debug)]
pub(crate) struct ChainVerifier {
    expected_seq: i64,
    previous_hash: String,
    pub(crate) checked: u64,
    key: Option<AuditKey>,
    /// Events whose MAC was checked, and events that carry one (checked or not).
    pub(crate) macs_checked: u64,
    pub(crate) macs_seen: u64,
    last_had_mac: bool,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            expected_seq: 1,
            previous_hash: GENESIS_HASH.to_string(),
            checked: 0,
            key: None,
            macs_checked: 0,
            macs_seen: 0,
            last_had_mac: false,
        }
    }
}

impl ChainVerifier {
    pub(crate) fn keyed(key: Option<AuditKey>) -> ChainVerifier {
        ChainVerifier {
            key,
            ..ChainVerifier::default()
        }
    }

    /// With a key: a MAC that does not match, or a missing one after the chain became keyed
    /// (an event written by someone without the key).
    fn check_mac(&mut self, event: &AuditEvent) -> Result<(), String> {
        self.last_had_mac = event.mac.is_some();
        let Some(key) = &self.key else {
            self.macs_seen += u64::from(event.mac.is_some());
            return Ok(());
        };
        match &event.mac {
            Some(mac) if *mac == key.mac(&event.hash) => {
                self.macs_seen += 1;
                self.macs_checked += 1;
                Ok(())
            }
            Some(_) => Err(
                "MAC does not match under the audit key (rewritten without the key, or another key)"
                    .to_string(),
            ),
            None if self.macs_seen > 0 => Err(
                "no MAC, though earlier events carry one (written without the audit key)"
                    .to_string(),
            ),
            None => Ok(()),
        }
    }

    /// Ok while intact; Err(reason) at the first broken event.
    pub(crate) fn check(&mut self, event: &AuditEvent) -> Result<(), String> {
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
        self.check_mac(event)?;
        self.expected_seq += 1;
        self.previous_hash = event.hash.clone();
        self.checked += 1;
        Ok(())
    }

    /// With a key, the newest event must carry a MAC: a keyed chain whose MACs were all
    /// stripped (and then rewritten) would otherwise pass as one that was never keyed.
    pub(crate) fn check_keyed_tip(&self) -> Result<(), String> {
        if self.key.is_none() || self.checked == 0 || self.last_had_mac {
            return Ok(());
        }
        Err("the newest event has no MAC although an audit key is set: its MACs were removed, or no event was written with the key yet".to_string())
    }

    pub(crate) fn tip(&self) -> (i64, &str) {
        (self.expected_seq - 1, &self.previous_hash)
    }
}

/// The action of the one audit event an import batch appends (instead of one per transfer).
pub(crate) const IMPORT_ACTION: &str = "transfer.imported";

/// What an import batch's event binds: every transfer's full row (`evidence::TRANSFERS`), in
/// id order, as one batch binding.
#[derive(Clone, Default)]
pub(crate) struct TransfersDigest {
    pub(crate) batch: crate::evidence::BatchDigest,
    pub(crate) posted: u64,
}

impl TransfersDigest {
    /// Add a transfer with the digest of its row as written.
    pub(crate) fn add(&mut self, transfer: &crate::model::Transfer, row_digest: &[u8; 32]) {
        self.batch.add(transfer.id, row_digest);
        if transfer.status == crate::model::TransferStatus::Posted {
            self.posted += 1;
        }
    }
}

/// The digest of import events written before row bindings existed (`transfers_sha256`):
/// SHA-256 over some of each transfer's columns, in id order. Verify still checks it there.
#[derive(Debug, Clone, Default)]
pub(crate) struct LegacyTransfersDigest {
    hasher: Sha256,
    pub(crate) count: u64,
    pub(crate) posted: u64,
    pub(crate) first_id: Option<i64>,
    pub(crate) last_id: i64,
}

impl LegacyTransfersDigest {
    pub(crate) fn add(&mut self, transfer: &crate::model::Transfer) {
        self.first_id.get_or_insert(transfer.id);
        self.last_id = transfer.id;
        self.count += 1;
        if transfer.status == crate::model::TransferStatus::Posted {
            self.posted += 1;
        }
        let hasher = &mut self.hasher;
        for number in [
            transfer.id,
            transfer.amount_minor,
            transfer.at_us,
            i64::from(transfer.risk.score),
            transfer.reverses_id.unwrap_or(-1),
        ] {
            hasher.update(number.to_be_bytes());
        }
        for field in [
            transfer.key.as_deref().unwrap_or(""),
            &transfer.payload_hash,
            transfer.kind.as_str(),
            &transfer.from,
            &transfer.to,
            transfer.currency.code(),
            transfer.status.as_str(),
            transfer.error_code.as_deref().unwrap_or(""),
            &transfer.reference,
            &transfer.description,
        ] {
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field.as_bytes());
        }
    }

    pub(crate) fn hex(&self) -> String {
        to_hex(&self.hasher.clone().finalize())
    }
}

/// What a `transfer.imported` event records about its batch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct ImportedTransfers {
    pub(crate) first_id: i64,
    pub(crate) last_id: i64,
    pub(crate) transfers: u64,
    pub(crate) posted: u64,
    pub(crate) rejected: u64,
    /// Events written before row bindings: the legacy digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) transfers_sha256: Option<String>,
    /// The batch binding of the transfers (`evidence::Binding::Batch`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) rows: Vec<crate::evidence::Binding>,
}

impl ImportedTransfers {
    /// The batch an event covers, if it is an import event with readable details.
    pub(crate) fn of(event: &AuditEvent) -> Option<ImportedTransfers> {
        if event.action != IMPORT_ACTION {
            return None;
        }
        serde_json::from_str(&event.details).ok()
    }

    pub(crate) fn entity(first_id: i64, last_id: i64) -> String {
        format!("transfers:{first_id}-{last_id}")
    }
}

/// What `audit anchor` writes: the chain's head at one moment, to keep outside the database.
/// A hash chain alone cannot notice its newest events being cut off, nor a rewrite that
/// recomputes every hash; an anchor kept elsewhere can.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Anchor {
    /// Always `ANCHOR_FORMAT`, so a stray JSON file is not taken for an anchor.
    pub(crate) format: String,
    pub(crate) seq: i64,
    pub(crate) hash: String,
    /// The anchored event's time (RFC 3339), for the operator; not checked.
    pub(crate) at: String,
    /// When the anchor was taken (RFC 3339); not checked.
    pub(crate) taken_at: String,
}

pub(crate) const ANCHOR_FORMAT: &str = "fincore-audit-anchor/1";
/// Largest anchor file read, in bytes (one is about 250).
pub(crate) const ANCHOR_BYTES_MAX: usize = 4096;

impl Anchor {
    /// Parse an anchor file's text; the error names the field.
    pub(crate) fn parse(text: &str) -> Result<Anchor, String> {
        if text.len() > ANCHOR_BYTES_MAX {
            return Err(format!(
                "longer than {ANCHOR_BYTES_MAX} bytes: not an anchor"
            ));
        }
        let anchor: Anchor = serde_json::from_str(text).map_err(|error| error.to_string())?;
        if anchor.format != ANCHOR_FORMAT {
            return Err(format!(
                "format: '{}' is not '{ANCHOR_FORMAT}'",
                anchor.format
            ));
        }
        if anchor.seq < 0 {
            return Err(format!("seq: {} is negative", anchor.seq));
        }
        let is_hash = anchor.hash.len() == 64
            && anchor
                .hash
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
        if !is_hash {
            return Err("hash: not 64 lowercase hexadecimal digits".to_string());
        }
        if anchor.seq == 0 && anchor.hash != GENESIS_HASH {
            return Err("hash: seq 0 is the empty chain, whose hash is all zeros".to_string());
        }
        Ok(anchor)
    }
}

/// Checks a walk of the chain against anchors: each anchored seq must be in the chain with the
/// anchored hash.
#[derive(Debug, Default)]
pub(crate) struct AnchorCheck {
    /// (seq, hash, where the anchor came from), sorted by seq.
    anchors: Vec<(i64, String, String)>,
    /// The first anchor the chain contradicts: (seq, why).
    pub(crate) broken: Option<(i64, String)>,
    matched: usize,
}

impl AnchorCheck {
    pub(crate) fn new(anchors: Vec<(Anchor, String)>) -> AnchorCheck {
        let mut anchors: Vec<(i64, String, String)> = anchors
            .into_iter()
            .map(|(anchor, source)| (anchor.seq, anchor.hash, source))
            .collect();
        anchors.sort();
        AnchorCheck {
            anchors,
            broken: None,
            matched: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.anchors.len()
    }

    /// Look at one event of the walk (in seq order).
    pub(crate) fn see(&mut self, seq: i64, hash: &str) {
        for (anchored_seq, anchored_hash, source) in &self.anchors {
            if *anchored_seq != seq || self.broken.is_some() {
                continue;
            }
            if anchored_hash == hash {
                self.matched += 1;
            } else {
                self.broken = Some((
                    seq,
                    format!(
                        "seq {seq} has hash {hash}, but anchor {source} recorded {anchored_hash} (history was rewritten)"
                    ),
                ));
            }
        }
    }

    /// After the walk: anchors beyond the chain's end mean its newest events were cut off.
    pub(crate) fn finish(&mut self, tip_seq: i64) {
        if self.broken.is_some() {
            return;
        }
        let genesis = self.anchors.iter().filter(|(seq, _, _)| *seq == 0).count();
        self.matched += genesis;
        if let Some((seq, _, source)) = self.anchors.iter().find(|(seq, _, _)| *seq > tip_seq) {
            self.broken = Some((
                *seq,
                format!(
                    "the chain ends at seq {tip_seq}, but anchor {source} recorded seq {seq} (events were removed)"
                ),
            ));
            return;
        }
        assert_eq!(
            self.matched,
            self.anchors.len(),
            "every anchor within the chain was seen"
        );
    }
}
