//! The change feed of `events export`: positions in the audit chain (event ids and cursors),
//! and the CloudEvents 1.0 envelope of each change, written as one NDJSON line. No I/O here:
//! the service reads the chain, this module only turns what it read into bytes.
//!
//! Every change is an audit event (`seq` = commit order). A `transfer.imported` event stands
//! for a batch of transfers and is expanded to one event per transfer; its position inside the
//! batch is the transfer id less the batch's first id. So `(seq, index)` names every change
//! for ever: it is the event id, and the cursor is the id of the last change delivered.

use crate::model::account_number::mask_in_text;
use serde::Serialize;
use std::fmt;

/// CloudEvents `specversion`.
pub(crate) const SPEC_VERSION: &str = "1.0";
/// CloudEvents `source` of every event: the ledger, as a URI reference.
pub(crate) const SOURCE: &str = "/fincore/ledger";
/// Every event type is the audit action under this prefix (`fincore.transfer.posted`).
pub(crate) const TYPE_PREFIX: &str = "fincore.";

/// Keys of event data whose string values may hold account numbers (masked unless unmasked).
const ACCOUNT_KEYS: [&str; 8] = [
    "number",
    "from",
    "to",
    "account",
    "via",
    "fee_account",
    "counterparty",
    "statement_account",
];

/// Where a change sits in the feed: the audit event's `seq` and, for an import batch, the
/// transfer's index in it (0 for every other event). Ordered as the feed is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) struct Position {
    pub(crate) seq: i64,
    pub(crate) index: i64,
}

/// What the cursor names: everything up to and including `delivered` was written. The start
/// of the feed is seq 0 (no change has it). `SEQ` alone means all of that seq's changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Cursor {
    pub(crate) delivered: Position,
}

impl Cursor {
    pub(crate) fn after(delivered: Position) -> Cursor {
        Cursor { delivered }
    }

    /// Parse `SEQ.INDEX` (an event id), `SEQ` (the whole audit event) or an empty text (the
    /// start). The error says what is wrong, without naming where the text came from.
    pub(crate) fn parse(text: &str) -> Result<Cursor, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Cursor::default());
        }
        let number = |part: &str, what: &str| {
            part.parse::<i64>()
                .ok()
                .filter(|value| *value >= 0 && part.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| {
                    format!("'{text}' is not a cursor (SEQ or SEQ.INDEX, an event id): {what} '{part}' is not a whole number")
                })
        };
        let delivered = match text.split_once('.') {
            Some((seq, index)) => Position {
                seq: number(seq, "seq")?,
                index: number(index, "index")?,
            },
            None => Position {
                seq: number(text, "seq")?,
                index: i64::MAX,
            },
        };
        Ok(Cursor { delivered })
    }

    /// The first index of audit event `seq` still to deliver: 0 for an event after the cursor,
    /// the next one inside the cursor's own batch, None when `seq` was delivered whole.
    pub(crate) fn first_index_of(&self, seq: i64) -> Option<i64> {
        match seq.cmp(&self.delivered.seq) {
            std::cmp::Ordering::Greater => Some(0),
            std::cmp::Ordering::Equal => self.delivered.index.checked_add(1),
            std::cmp::Ordering::Less => None,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}.{}", self.seq, self.index)
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.delivered {
            Position { seq: 0, .. } => formatter.write_str("0"),
            Position { seq, index } if index == i64::MAX => write!(formatter, "{seq}"),
            position => write!(formatter, "{position}"),
        }
    }
}

/// The envelope of one change (CloudEvents 1.0 context attributes).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Envelope<'a> {
    pub(crate) position: Position,
    /// The audit action (`transfer.posted`); the type is it under `TYPE_PREFIX`.
    pub(crate) action: &'a str,
    /// RFC 3339, the commit time of the audit event.
    pub(crate) time: &'a str,
    pub(crate) subject: &'a str,
    /// The trace of the command that made the change (32 hex digits), if it has a valid one.
    pub(crate) trace_id: &'a str,
}

/// Append one NDJSON line: the envelope, then `data` (already JSON). Hand-written rather than a
/// derived struct so a million-event export formats each attribute once, straight into `out`.
pub(crate) fn write_line(out: &mut Vec<u8>, envelope: &Envelope<'_>, data_json: &[u8]) {
    use std::io::Write;
    let _ = write!(
        out,
        "{{\"specversion\":\"{SPEC_VERSION}\",\"id\":\"{}\",\"source\":\"{SOURCE}\",\"type\":",
        envelope.position
    );
    write_json_strings(out, &[TYPE_PREFIX, envelope.action]);
    out.extend_from_slice(b",\"time\":");
    write_json_string(out, envelope.time);
    out.extend_from_slice(b",\"subject\":");
    write_json_string(out, envelope.subject);
    out.extend_from_slice(b",\"datacontenttype\":\"application/json\"");
    if let Some(traceparent) = traceparent(envelope.trace_id, envelope.position) {
        out.extend_from_slice(b",\"traceparent\":\"");
        out.extend_from_slice(traceparent.as_bytes());
        out.push(b'"');
    }
    out.extend_from_slice(b",\"data\":");
    out.extend_from_slice(data_json);
    out.extend_from_slice(b"}\n");
}

fn write_json_string(out: &mut Vec<u8>, text: &str) {
    write_json_strings(out, &[text]);
}

/// The parts, joined, as one JSON string. Most texts need no escaping (ids, times, actions,
/// account numbers): those are copied as they are, the rest go through serde_json.
fn write_json_strings(out: &mut Vec<u8>, parts: &[&str]) {
    let plain = |text: &str| {
        text.bytes()
            .all(|byte| byte >= 0x20 && byte != b'"' && byte != b'\\')
    };
    if parts.iter().all(|part| plain(part)) {
        out.push(b'"');
        for part in parts {
            out.extend_from_slice(part.as_bytes());
        }
        out.push(b'"');
        return;
    }
    let joined: String = parts.concat();
    serde_json::to_writer(&mut *out, &joined).expect("a string serialises into memory");
}

/// W3C `traceparent` (version 00, sampled) from the change's trace id. The parent span id is
/// derived from the change's position (stable, never zero): the command's own span id is not
/// stored, and a consumer that continues the trace needs only the trace id to join it.
/// None when the stored trace id is not 32 lowercase hex digits or is all zeros.
pub(crate) fn traceparent(trace_id: &str, position: Position) -> Option<String> {
    let valid = trace_id.len() == 32
        && trace_id
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
        && trace_id.bytes().any(|byte| byte != b'0');
    if !valid {
        return None;
    }
    let span_id = ((position.seq as u64) << 24) ^ (position.index as u64) | 1 << 63;
    Some(format!("00-{trace_id}-{span_id:016x}-01"))
}

/// The subject of a change: the audit event's entity, account numbers masked unless unmasked.
pub(crate) fn subject(entity: &str, unmask: bool) -> String {
    if unmask {
        entity.to_string()
    } else {
        mask_in_text(entity)
    }
}

/// The data of a change that is not an imported transfer: the audit event's details (JSON),
/// account numbers masked unless unmasked. Details that are not JSON become a JSON string.
pub(crate) fn details_data(details: &str, unmask: bool) -> Vec<u8> {
    match serde_json::from_str::<serde_json::Value>(details) {
        Ok(mut value) => {
            if !unmask {
                mask_accounts(&mut value);
            }
            serde_json::to_vec(&value).expect("a JSON value serialises")
        }
        Err(_) => serde_json::to_vec(&serde_json::Value::String(details.to_string()))
            .expect("a string serialises"),
    }
}

/// Key of the stored rows an audit event's details carry as evidence.
const EVIDENCE_ROWS_KEY: &str = "rows";

fn mask_every_string(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) => *text = mask_in_text(text),
        serde_json::Value::Array(items) => items.iter_mut().for_each(mask_every_string),
        serde_json::Value::Object(map) => map.values_mut().for_each(mask_every_string),
        _ => {}
    }
}

fn mask_accounts(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                match field {
                    serde_json::Value::String(text) if ACCOUNT_KEYS.contains(&key.as_str()) => {
                        *text = mask_in_text(text);
                    }
                    // The stored rows an audit event binds (issue 14): their values are
                    // positional, so every number-like token in them is masked.
                    _ if key == EVIDENCE_ROWS_KEY => mask_every_string(field),
                    _ => mask_accounts(field),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(mask_accounts),
        _ => {}
    }
}

/// One transfer of an import batch as stored, borrowed from the row being read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ImportedTransfer<'a> {
    pub(crate) id: i64,
    pub(crate) key: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) from: &'a str,
    pub(crate) to: &'a str,
    pub(crate) amount_minor: i64,
    pub(crate) currency: &'a str,
    pub(crate) status: &'a str,
    pub(crate) error_code: &'a str,
    pub(crate) reference: &'a str,
    pub(crate) description: &'a str,
    pub(crate) at_us: i64,
    pub(crate) risk_score: i64,
    pub(crate) trace_id: &'a str,
}

/// The data of an imported transfer: the same keys as a `transfer.posted` event's details,
/// plus its status, reference, description and time.
#[derive(Serialize)]
struct TransferData<'a> {
    id: i64,
    key: Option<&'a str>,
    kind: &'a str,
    from: &'a str,
    to: &'a str,
    amount: &'a str,
    currency: &'a str,
    status: &'a str,
    error_code: Option<&'a str>,
    reference: &'a str,
    description: &'a str,
    at: &'a str,
    risk_score: i64,
    reverses_id: Option<i64>,
}

/// The event type of an imported transfer: what a single post of it would have recorded.
pub(crate) fn imported_action(status: &str) -> &'static str {
    if status == "posted" {
        "transfer.posted"
    } else {
        "transfer.rejected"
    }
}

/// Encodes the imported transfers of one export, reusing its buffers and remembering the
/// minor units of each currency it met (one ISO 4217 lookup per currency, not per row).
#[derive(Default)]
pub(crate) struct TransferEncoder {
    minor_units: Vec<([u8; 3], u32)>,
    data: Vec<u8>,
    amount: String,
    at: String,
    masked_from: String,
    masked_to: String,
}

impl TransferEncoder {
    /// Append the line of `transfer` at `position` of a batch committed at `time`.
    pub(crate) fn write_line(
        &mut self,
        out: &mut Vec<u8>,
        position: Position,
        time: &str,
        transfer: &ImportedTransfer<'_>,
        unmask: bool,
    ) {
        let minor_units = self.minor_units_of(transfer.currency);
        self.amount.clear();
        write_minor(&mut self.amount, transfer.amount_minor, minor_units);
        self.at.clear();
        write_instant(&mut self.at, transfer.at_us);
        let (from, to) = if unmask {
            (transfer.from, transfer.to)
        } else {
            self.masked_from = mask_in_text(transfer.from);
            self.masked_to = mask_in_text(transfer.to);
            (self.masked_from.as_str(), self.masked_to.as_str())
        };
        let data = TransferData {
            id: transfer.id,
            key: (!transfer.key.is_empty()).then_some(transfer.key),
            kind: transfer.kind,
            from,
            to,
            amount: &self.amount,
            currency: transfer.currency,
            status: transfer.status,
            error_code: (!transfer.error_code.is_empty()).then_some(transfer.error_code),
            reference: transfer.reference,
            description: transfer.description,
            at: &self.at,
            risk_score: transfer.risk_score,
            reverses_id: None,
        };
        self.data.clear();
        serde_json::to_writer(&mut self.data, &data).expect("transfer data serialises");
        let subject = format!("transfer:{}", transfer.id);
        let envelope = Envelope {
            position,
            action: imported_action(transfer.status),
            time,
            subject: &subject,
            trace_id: transfer.trace_id,
        };
        write_line(out, &envelope, &self.data);
    }

    fn minor_units_of(&mut self, code: &str) -> u32 {
        let key: [u8; 3] = code.as_bytes().try_into().unwrap_or([0; 3]);
        if let Some((_, units)) = self.minor_units.iter().find(|(known, _)| *known == key) {
            return *units;
        }
        // A stored currency fincore cannot have written shows with no decimals rather than
        // stopping the feed; `ledger verify` is where such a row is reported.
        let units =
            crate::money::Currency::parse(code).map_or(0, |currency| currency.minor_units());
        self.minor_units.push((key, units));
        units
    }
}

/// Minor units as a decimal string with the currency's decimals (`money::format_minor`, into
/// a reused buffer).
fn write_minor(out: &mut String, minor: i64, minor_units: u32) {
    use std::fmt::Write;
    let sign = if minor < 0 { "-" } else { "" };
    let magnitude = minor.unsigned_abs();
    if minor_units == 0 {
        let _ = write!(out, "{sign}{magnitude}");
        return;
    }
    let divisor = 10u64.pow(minor_units);
    let _ = write!(
        out,
        "{sign}{}.{:0width$}",
        magnitude / divisor,
        magnitude % divisor,
        width = minor_units as usize
    );
}

/// RFC 3339 in UTC, as `clock::format_instant` writes it (fraction only when not zero).
pub(crate) fn write_instant(out: &mut String, instant_us: i64) {
    use std::fmt::Write;
    let _ = write!(
        out,
        "{}",
        crate::clock::to_datetime(instant_us).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_order() {
        for text in ["0", "42", "42.0", "42.17"] {
            assert_eq!(Cursor::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Cursor::parse("").unwrap(), Cursor::default());
        for bad in ["-1", "4.x", "a", "1.2.3", "+1", "1.-2"] {
            let error = Cursor::parse(bad).unwrap_err();
            assert!(error.contains(bad), "{error}");
        }
        let cursor = Cursor::parse("42.17").unwrap();
        assert_eq!(cursor.first_index_of(41), None);
        assert_eq!(cursor.first_index_of(42), Some(18));
        assert_eq!(cursor.first_index_of(43), Some(0));
        assert_eq!(Cursor::parse("42").unwrap().first_index_of(42), None);
        assert_eq!(Cursor::default().first_index_of(1), Some(0));
        assert!(Position { seq: 1, index: 9 } < Position { seq: 2, index: 0 });
    }

    #[test]
    fn lines_are_cloudevents_with_a_traceparent() {
        let mut out = Vec::new();
        let envelope = Envelope {
            position: Position { seq: 7, index: 0 },
            action: "account.opened",
            time: "2026-11-21T06:00:00Z",
            subject: "4000********0010",
            trace_id: "94f70eb9a274855f279bbc7db21e473e",
        };
        write_line(&mut out, &envelope, br#"{"a":1}"#);
        let line: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(line["specversion"], "1.0");
        assert_eq!(line["id"], "7.0");
        assert_eq!(line["type"], "fincore.account.opened");
        assert_eq!(line["data"]["a"], 1);
        let traceparent = line["traceparent"].as_str().unwrap();
        assert!(traceparent.starts_with("00-94f70eb9a274855f279bbc7db21e473e-"));
        assert_eq!(traceparent.len(), 55);
        assert!(out.ends_with(b"}\n"));
        assert_eq!(traceparent_of(""), None);
        assert_eq!(traceparent_of(&"0".repeat(32)), None);
    }

    fn traceparent_of(trace_id: &str) -> Option<String> {
        traceparent(trace_id, Position { seq: 1, index: 0 })
    }

    #[test]
    fn account_numbers_are_masked_unless_unmasked() {
        let details = r#"{"number":"4000000000000051","from":"active","to":"frozen","nested":[{"account":"9000000000000001"}],"reason":"x","rows":[{"key":"4000000000000051","values":["4000000000000051","x"]}]}"#;
        let masked: serde_json::Value =
            serde_json::from_slice(&details_data(details, false)).unwrap();
        assert_eq!(masked["number"], "4000********0051");
        assert_eq!(masked["from"], "active");
        assert_eq!(masked["nested"][0]["account"], "9000********0001");
        assert_eq!(masked["rows"][0]["key"], "4000********0051");
        assert_eq!(masked["rows"][0]["values"][0], "4000********0051");
        let shown: serde_json::Value =
            serde_json::from_slice(&details_data(details, true)).unwrap();
        assert_eq!(shown["number"], "4000000000000051");
        assert_eq!(subject("4000000000000051", false), "4000********0051");
        assert_eq!(subject("transfer:48", false), "transfer:48");
    }

    #[test]
    fn imported_transfers_have_decimal_amounts() {
        let transfer = ImportedTransfer {
            id: 12,
            key: "k-12",
            kind: "transfer",
            from: "4000000000000010",
            to: "4000000000000028",
            amount_minor: -5,
            currency: "USD",
            status: "rejected",
            error_code: "insufficient_funds",
            reference: "",
            description: "d\"q",
            at_us: 0,
            risk_score: 3,
            trace_id: "",
        };
        let mut out = Vec::new();
        let mut encoder = TransferEncoder::default();
        let position = Position { seq: 3, index: 2 };
        encoder.write_line(&mut out, position, "1970-01-01T00:00:00Z", &transfer, false);
        let line: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(line["type"], "fincore.transfer.rejected");
        assert_eq!(line["id"], "3.2");
        assert_eq!(line["data"]["amount"], "-0.05");
        assert_eq!(line["data"]["from"], "4000********0010");
        assert_eq!(line["data"]["key"], "k-12");
        assert_eq!(line["data"]["description"], "d\"q");
        assert_eq!(line["data"]["at"], "1970-01-01T00:00:00Z");
        assert!(line.get("traceparent").is_none());
    }
}
