//! How a case changes a value: a different value of the same type that a forger might write,
//! and the seeded generator that picks each table's row.

use super::database::Value;

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, deterministic, good enough to pick rows.
pub struct Random(u64);

impl Random {
    pub fn new(seed: u64) -> Random {
        Random(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in 0..count (count > 0).
    pub fn below(&mut self, count: usize) -> usize {
        (self.next() % count as u64) as usize
    }
}

/// Plausible other values of the ledger's enumerations: a forger writes a valid status, type,
/// currency or decision, not noise.
const ALTERNATIVES: &[(&str, &str)] = &[
    ("active", "frozen"),
    ("frozen", "active"),
    ("closed", "active"),
    ("checking", "savings"),
    ("savings", "checking"),
    ("credit", "checking"),
    ("settlement", "internal"),
    ("internal", "settlement"),
    ("USD", "EUR"),
    ("EUR", "USD"),
    ("posted", "rejected"),
    ("rejected", "posted"),
    ("accepted", "posted"),
    ("transfer", "deposit"),
    ("deposit", "transfer"),
    ("withdrawal", "transfer"),
    ("reversal", "transfer"),
    ("adjustment", "transfer"),
    ("low", "high"),
    ("medium", "low"),
    ("high", "low"),
    ("critical", "low"),
    ("approve", "review"),
    ("review", "approve"),
    ("reject", "approve"),
    ("block", "approve"),
    ("missing_internal", "missing_external"),
    ("missing_external", "missing_internal"),
    ("amount_mismatch", "missing_internal"),
    ("insufficient_funds", "currency_mismatch"),
    ("currency_mismatch", "insufficient_funds"),
    ("csv", "mt940"),
    ("database", "file"),
];

/// A different value of the same type: an integer + 1, a text changed (see `changed_text`).
pub fn changed(value: &Value) -> Value {
    let changed = match value {
        Value::Null => panic!("a NULL is replaced, not changed"),
        Value::Integer(number) => Value::Integer(number.checked_add(1).unwrap_or(number - 1)),
        Value::Text(text) => Value::Text(changed_text(text)),
        Value::Other(literal) => Value::Other(changed_text(literal)),
    };
    assert_ne!(&changed, value, "a changed value differs");
    changed
}

/// A changed text: one hex digit of a hash, one leaf of a JSON document, another value of an
/// enumeration, the first digit of a number or date + 1, else a suffix.
pub fn changed_text(text: &str) -> String {
    if text.is_empty() {
        return "tampered".to_string();
    }
    if let Some(flipped) = flip_trailing_hex(text) {
        return flipped;
    }
    if let Some(json) = changed_json(text) {
        return json;
    }
    if let Some((_, other)) = ALTERNATIVES.iter().find(|(from, _)| *from == text) {
        return other.to_string();
    }
    if let Some(position) = text.find(|c: char| c.is_ascii_digit()) {
        let digit = text.as_bytes()[position] - b'0';
        let mut changed = text.to_string();
        changed.replace_range(position..position + 1, &((digit + 1) % 10).to_string());
        return changed;
    }
    format!("{text} (edited)")
}

/// A text ending in 16 or more hex digits (hashes, MACs, trace ids, fingerprints): its last
/// digit changed within its class (0-9 stays a digit, a-f a letter), so it stays well-formed.
fn flip_trailing_hex(text: &str) -> Option<String> {
    let trailing = text
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_hexdigit())
        .count();
    let letters = text.chars().any(|c| c.is_ascii_alphabetic());
    if trailing < 16 || (trailing == text.len() && !letters && trailing < 32) {
        return None;
    }
    let last = text.chars().last()?;
    let flipped = match last {
        '0'..='8' | 'a'..='e' | 'A'..='E' => (last as u8 + 1) as char,
        '9' => '0',
        'f' => 'a',
        _ => 'A',
    };
    Some(format!("{}{flipped}", &text[..text.len() - 1]))
}

/// A JSON object or array with its first leaf changed (keys in serde_json's sorted order).
fn changed_json(text: &str) -> Option<String> {
    if !(text.starts_with('{') || text.starts_with('[')) {
        return None;
    }
    let mut document: serde_json::Value = serde_json::from_str(text).ok()?;
    if !change_first_leaf(&mut document) {
        document = serde_json::json!(["tampered"]);
    }
    Some(document.to_string())
}

fn change_first_leaf(value: &mut serde_json::Value) -> bool {
    use serde_json::Value as Json;
    match value {
        Json::Object(map) => map.values_mut().any(change_first_leaf),
        Json::Array(items) => items.iter_mut().any(change_first_leaf),
        Json::Null => {
            *value = Json::String("tampered".into());
            true
        }
        Json::Bool(flag) => {
            *flag = !*flag;
            true
        }
        Json::Number(number) => {
            *value = match number.as_i64() {
                Some(integer) => Json::from(integer.wrapping_add(1)),
                None => Json::from(number.as_f64().unwrap_or(0.0) + 1.0),
            };
            true
        }
        Json::String(text) => {
            *text = changed_text(text);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_keep_the_shape() {
        let hash = "ab".repeat(32);
        assert_eq!(changed_text(&hash).len(), 64);
        assert_ne!(changed_text(&hash), hash);
        assert_eq!(
            changed_text("sha256:eeb1f915ec83cdd1"),
            "sha256:eeb1f915ec83cdd2"
        );
        assert_eq!(changed_text("active"), "frozen");
        assert_eq!(changed_text("2026-11-20"), "3026-11-20");
        assert_eq!(changed_text("ACCT0001"), "ACCT1001");
        assert_eq!(changed_text("Bob Baker"), "Bob Baker (edited)");
        assert_eq!(changed_text("[]"), "[\"tampered\"]");
        assert_eq!(
            changed_text("{\"a\":\"1.00\",\"b\":2}"),
            "{\"a\":\"2.00\",\"b\":2}"
        );
        assert_eq!(changed_text("4111111111111111"), "5111111111111111");
    }
}
