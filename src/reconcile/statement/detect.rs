//! `--input-format auto`: decide by content, never by file name (banks name files freely).

use super::super::{InputFormat, DETECT_BYTES_MAX};
use crate::error::{AppError, AppResult};
use std::io::Read;

const UTF8_BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";
/// The camt messages read (statement, intraday report, notification), as their namespaces
/// spell them.
const CAMT_MARKERS: [&[u8]; 3] = [b"camt.053", b"camt.052", b"camt.054"];

pub(crate) fn detect_format(input: &mut impl Read) -> AppResult<InputFormat> {
    let mut head = Vec::with_capacity(DETECT_BYTES_MAX);
    input
        .take(DETECT_BYTES_MAX as u64)
        .read_to_end(&mut head)
        .map_err(|error| AppError::invalid_input(format!("cannot read statement: {error}")))?;
    detect_from_head(&head)
}

/// XML with a camt.052/053/054 namespace; MT940 by a `:20:` tag line (or a SWIFT block header);
/// anything else is read as CSV, whose header check then rejects garbage.
pub(crate) fn detect_from_head(head: &[u8]) -> AppResult<InputFormat> {
    let text = head.strip_prefix(UTF8_BYTE_ORDER_MARK).unwrap_or(head);
    // SWIFT files may open with SOH (0x01) before the first block or tag.
    let start = text
        .iter()
        .position(|byte| !byte.is_ascii_whitespace() && !byte.is_ascii_control())
        .map_or(&text[text.len()..], |first| &text[first..]);
    if start.is_empty() {
        return Err(AppError::invalid_input("statement is empty"));
    }
    if start.starts_with(b"<") {
        if CAMT_MARKERS.iter().any(|marker| contains(start, marker)) {
            return Ok(InputFormat::Camt053);
        }
        return Err(AppError::invalid_input(
            "statement is XML but not a camt document (no camt.052, camt.053 or camt.054 namespace)",
        ));
    }
    let is_mt940 = start.starts_with(b"{1:")
        || start.split(|byte| *byte == b'\n').any(|line| {
            let line = line.trim_ascii_start();
            line.starts_with(b":20:") || line.starts_with(b"{4::20:") || is_swift_tag_line(line)
        });
    if is_mt940 {
        return Ok(InputFormat::Mt940);
    }
    Ok(InputFormat::Csv)
}

/// `:60F:`, `:61:`, `:940:`, `:NS:`: a SWIFT field tag (digits, an optional capital letter) opens the line.
/// A CSV header never starts so; a file of MT940 fields without `:20:` is then refused by the
/// MT940 reader, which names the field, rather than by the CSV header check.
fn is_swift_tag_line(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b":") else {
        return false;
    };
    if rest.starts_with(b"NS:") {
        return true;
    }
    let digits = rest.iter().take_while(|byte| byte.is_ascii_digit()).count();
    let after = match &rest[digits..] {
        [letter, after @ ..] if letter.is_ascii_uppercase() => after,
        after => after,
    };
    matches!(digits, 2 | 3) && after.starts_with(b":")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}
