//! Text rules shared by every reader below the ledger: amounts, dates, CSV fields.

/// The one rule for white space around a value: removed (Unicode `White_Space`, as `str::trim`).
/// A fast path covers the usual ASCII edges (a million-line import or statement has millions
/// of fields); non-ASCII edges such as NBSP still go through `str::trim`.
pub(crate) fn trim(text: &str) -> &str {
    let trimmed = text.trim_ascii();
    let ascii_edges = trimmed.as_bytes().first().is_none_or(u8::is_ascii)
        && trimmed.as_bytes().last().is_none_or(u8::is_ascii);
    if ascii_edges {
        trimmed
    } else {
        trimmed.trim()
    }
}

/// Lower-case hexadecimal of `bytes` (digests, hash-chain links).
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(DIGITS[usize::from(byte >> 4)] as char);
        text.push(DIGITS[usize::from(byte & 0x0f)] as char);
    }
    text
}
