//! One validation for every way in. A command-line flag, a `transfer import` row, an
//! `account import` row and a statement line reach the ledger through the same functions, so
//! each rule is decided once:
//!
//! | value | function |
//! |---|---|
//! | surrounding spaces (every value) | [`crate::text::trim`] |
//! | amount | [`crate::money::parse_minor`] via `Currency::parse_positive` / `_non_negative` / `_signed` |
//! | currency | [`crate::money::Currency::parse`] |
//! | instant (RFC 3339) | [`crate::clock::parse_instant`] |
//! | date (`YYYY-MM-DD`) | [`crate::clock::parse_date`] |
//! | account number | [`crate::model::account_number::validate`] |
//! | idempotency key | [`key`] |
//! | reference, description | [`text`] |
//! | fields per row | [`check_field_count`] |
//!
//! The rules and why (README "Input validation"):
//! - Surrounding white space (Unicode `White_Space`: spaces, tabs, NBSP, …) is removed from
//!   every value before it is read; white space inside a value is part of it.
//! - An empty required value is an error of that value's type, saying "required".
//! - A row with fewer or more fields than its header is refused, naming its line.
//! - Codes (currencies, account numbers, types, statuses) are case-insensitive and stored
//!   upper-case (currencies, numbers) or lower-case (types, statuses).
//! - A leap second (`23:59:60`) is refused: chrono reads it as the next midnight.
//! - Amounts are `[+-]digits[.digits]`: `+1.00` is 1.00; `1,000.00`, `1.`, `.5`, `1e3` are not.

use crate::error::{AppError, AppResult};
use crate::model::KEY_LENGTH_MAX;
use crate::text::trim;

/// An idempotency key: trimmed, 1 to `KEY_LENGTH_MAX` characters.
pub(crate) fn key(value: &str) -> AppResult<String> {
    let key = trim(value);
    if key.is_empty() || longer_than(key, KEY_LENGTH_MAX) {
        return Err(AppError::invalid_input(format!(
            "required, 1–{KEY_LENGTH_MAX} characters"
        )));
    }
    Ok(key.to_string())
}

/// Free text (reference, description): trimmed, empty allowed, at most `length_max`
/// characters. Longer is refused, never truncated.
pub(crate) fn text(value: &str, length_max: usize) -> AppResult<String> {
    let text = trim(value);
    if longer_than(text, length_max) {
        return Err(AppError::invalid_input(format!(
            "longer than {length_max} characters"
        )));
    }
    Ok(text.to_string())
}

/// More than `length_max` characters; counted only when the bytes could be (a character is
/// at least one byte), since every import row has two such fields.
fn longer_than(text: &str, length_max: usize) -> bool {
    text.len() > length_max && text.chars().count() > length_max
}

/// A CSV row must have exactly as many fields as its header: a missing field would shift
/// meaning silently (an empty `at`, an empty description) and an extra one (a stray comma in
/// an unquoted description) would be dropped unseen.
pub(crate) fn check_field_count(fields: usize, header_fields: usize) -> AppResult<()> {
    if fields == header_fields {
        return Ok(());
    }
    Err(field_count_error(fields, header_fields))
}

/// The message for a row whose field count differs from the header's (the csv crate reports
/// the same condition for non-flexible readers; both say it this way).
pub(crate) fn field_count_error(fields: usize, header_fields: usize) -> AppError {
    AppError::invalid_input(format!(
        "{fields} fields, but the header has {header_fields}"
    ))
}

/// The csv crate's errors for a record at `line`, in the words of [`field_count_error`] when
/// the field count is wrong.
pub(crate) fn csv_record_error(error: &csv::Error, line: u64) -> AppError {
    match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => field_count_error(*len as usize, *expected_len as usize)
            .context(format_args!("line {line}")),
        csv::ErrorKind::Utf8 { err, .. } => AppError::invalid_input(format!(
            "line {line}: field {} is not valid UTF-8",
            err.field() + 1
        )),
        _ => AppError::invalid_input(format!("line {line}: {error}")),
    }
}

/// Largest file `NamedColumns` reads, in bytes: it holds the file in memory (these files are
/// small: 100,000 rows of a few fields).
pub(crate) const NAMED_COLUMNS_BYTES_MAX: u64 = 256 << 20;

/// A small CSV file of named columns (account import, bulk resolve), read row by row: columns
/// found by trimmed header name in any order, and every error naming the file, the line and
/// (from the caller) the field, as every CSV reader here names them.
pub(crate) struct NamedColumns {
    reader: csv::Reader<crate::csv_input::Checked<std::io::Cursor<std::sync::Arc<[u8]>>>>,
    bytes: std::sync::Arc<[u8]>,
    /// The last byte offset turned into a line, and its line: rows come in file order.
    counted: (usize, u64),
    positions: Vec<usize>,
    place: String,
}

impl NamedColumns {
    /// Open `path` and find each of `columns` in its header (exit 4 naming the missing one).
    pub(crate) fn open(path: &std::path::Path, columns: &[&str]) -> AppResult<NamedColumns> {
        let place = path.display().to_string();
        let unreadable =
            |error: std::io::Error| AppError::invalid_input(format!("{place}: {error}"));
        let size = std::fs::metadata(path).map_err(unreadable)?.len();
        if size > NAMED_COLUMNS_BYTES_MAX {
            return Err(AppError::invalid_input(format!(
                "{place}: {size} bytes, more than {NAMED_COLUMNS_BYTES_MAX}; split the file"
            )));
        }
        let bytes: std::sync::Arc<[u8]> = std::fs::read(path).map_err(unreadable)?.into();
        let mut reader = csv::ReaderBuilder::new().from_reader(crate::csv_input::Checked::new(
            std::io::Cursor::new(bytes.clone()),
            b',',
        ));
        let headers = reader
            .headers()
            .map_err(|error| {
                crate::csv_input::quoting_error(&error)
                    .unwrap_or_else(|| AppError::invalid_input(format!("header: {error}")))
                    .context(&place)
            })?
            .clone();
        let positions = columns
            .iter()
            .map(|name| {
                headers
                    .iter()
                    .position(|header| crate::text::trim(header) == *name)
                    .ok_or_else(|| {
                        AppError::invalid_input(format!(
                            "{place}: header: missing column '{name}' (expected {})",
                            columns.join(",")
                        ))
                    })
            })
            .collect::<AppResult<_>>()?;
        Ok(NamedColumns {
            reader,
            bytes,
            counted: (0, 1),
            positions,
            place,
        })
    }

    /// The file as error messages name it.
    pub(crate) fn place(&self) -> &str {
        &self.place
    }

    /// The physical line of a record the csv crate places at `byte`. The crate skips blank
    /// lines without counting them, and places the next record at the first blank line: skip
    /// them here and count every newline before the record.
    fn line_at(&mut self, byte: u64) -> u64 {
        let mut start = (byte as usize).min(self.bytes.len());
        while matches!(self.bytes.get(start), Some(b'\n' | b'\r')) {
            start += 1;
        }
        let (counted_byte, counted_line) = self.counted;
        if start < counted_byte {
            return counted_line;
        }
        let newlines = self.bytes[counted_byte..start]
            .iter()
            .filter(|byte| **byte == b'\n')
            .count() as u64;
        self.counted = (start, counted_line + newlines);
        self.counted.1
    }

    /// The next row and its line, `None` at the end. A row with fewer or more fields than the
    /// header, or a broken quote, is exit 4 naming the line.
    pub(crate) fn next_row(&mut self) -> AppResult<Option<(csv::StringRecord, u64)>> {
        let mut record = csv::StringRecord::new();
        let read = match self.reader.read_record(&mut record) {
            Ok(read) => read,
            Err(error) => {
                if let Some(quoting) = crate::csv_input::quoting_error(&error) {
                    return Err(quoting.context(&self.place));
                }
                let line = error
                    .position()
                    .map_or(0, |position| self.line_at(position.byte()));
                return Err(csv_record_error(&error, line).context(&self.place));
            }
        };
        let line = record
            .position()
            .map_or(0, |position| self.line_at(position.byte()));
        Ok(read.then_some((record, line)))
    }

    /// The value of the `slot`th requested column in `record`, untrimmed.
    pub(crate) fn field<'r>(&self, record: &'r csv::StringRecord, slot: usize) -> &'r str {
        record.get(self.positions[slot]).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn named_columns_name_the_physical_line_after_blank_lines() {
        let path = std::env::temp_dir().join(format!("named-columns-{}.csv", std::process::id()));
        std::fs::write(&path, "a,b\n1,2\n\n3,4\r\n\r\n\n5,6\n").unwrap();
        let mut file = NamedColumns::open(&path, &["b", "a"]).unwrap();
        let mut found = Vec::new();
        while let Some((record, line)) = file.next_row().unwrap() {
            found.push((file.field(&record, 0).to_string(), line));
        }
        std::fs::remove_file(&path).unwrap();
        let expected =
            [("2", 2), ("4", 4), ("6", 7)].map(|(field, line)| (field.to_string(), line));
        assert_eq!(found, expected);
    }

    use super::*;

    #[test]
    fn trims_every_kind_of_space() {
        assert_eq!(trim("  a b \t"), "a b");
        assert_eq!(trim("\u{a0}x\u{a0}"), "x");
        assert_eq!(trim(" \t "), "");
    }

    #[test]
    fn keys_and_texts() {
        assert_eq!(key(" k1 ").unwrap(), "k1");
        assert!(key("  ").is_err());
        assert!(key(&"k".repeat(KEY_LENGTH_MAX + 1)).is_err());
        assert_eq!(
            key(&"é".repeat(KEY_LENGTH_MAX)).unwrap().chars().count(),
            128
        );
        assert_eq!(text(" note ", 4).unwrap(), "note");
        assert_eq!(text("ééé", 3).unwrap(), "ééé");
        assert!(text("abcd", 3).is_err());
    }

    #[test]
    fn field_counts() {
        assert!(check_field_count(8, 8).is_ok());
        let error = check_field_count(7, 8).unwrap_err();
        assert_eq!(error.message, "7 fields, but the header has 8");
    }
}
