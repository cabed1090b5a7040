//! Statement readers and what they share: progress reporting, exact amounts, field limits.

pub(crate) mod camt053;
pub(crate) mod csv;
pub(crate) mod detect;
pub(crate) mod mt940;

use super::{FIELD_LENGTH_MAX, PROGRESS_STEP_BYTES, STATEMENT_LINES_MAX};
use crate::error::{AppError, AppResult};
use crate::money::Currency;
use std::io::Read;

/// Counts the bytes read and reports them to the caller's progress callback.
pub(crate) struct ProgressReader<'a, R> {
    inner: R,
    bytes_read: u64,
    bytes_reported: Option<u64>,
    on_progress: &'a mut dyn FnMut(u64),
}

impl<'a, R: Read> ProgressReader<'a, R> {
    pub(crate) fn new(inner: R, on_progress: &'a mut dyn FnMut(u64)) -> ProgressReader<'a, R> {
        ProgressReader {
            inner,
            bytes_read: 0,
            bytes_reported: None,
            on_progress,
        }
    }

    fn report(&mut self) {
        self.bytes_reported = Some(self.bytes_read);
        (self.on_progress)(self.bytes_read);
    }
}

impl<R: Read> Read for ProgressReader<'_, R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let count = self.inner.read(buffer)?;
        self.bytes_read += count as u64;
        let last = self.bytes_reported;
        let step_reached = last.is_none_or(|last| self.bytes_read - last >= PROGRESS_STEP_BYTES);
        // End of input (count 0) always reports, once, so the caller sees 100 %.
        let finished = count == 0 && last != Some(self.bytes_read);
        if step_reached || finished {
            self.report();
        }
        Ok(count)
    }
}

/// Remembers parsed currencies: a statement uses one or two, and parsing is the costly part.
#[derive(Default)]
pub(crate) struct CurrencyCache {
    entries: Vec<(String, Currency)>,
}

/// Distinct currency spellings remembered; more are parsed every time.
const CURRENCY_CACHE_ENTRIES_MAX: usize = 16;

impl CurrencyCache {
    pub(crate) fn parse(&mut self, text: &str) -> AppResult<Currency> {
        if let Some((_, currency)) = self.entries.iter().find(|(known, _)| known == text) {
            return Ok(*currency);
        }
        let currency = Currency::parse(text)?;
        if self.entries.len() < CURRENCY_CACHE_ENTRIES_MAX {
            self.entries.push((text.to_string(), currency));
        }
        Ok(currency)
    }
}

/// Parse an amount written with `decimal_separator` exactly into minor units of `currency`.
/// With `,` decimals a `.` is rejected: it can only be a thousands separator, and accepting it
/// silently would read `1.234,50` as something else on the next bank's file.
pub(crate) fn parse_amount(
    text: &str,
    currency: Currency,
    decimal_separator: char,
) -> AppResult<i64> {
    if decimal_separator == ',' {
        if text.contains('.') {
            return Err(AppError::invalid_input(format!(
                "amount '{text}' contains '.', but the decimal separator is ',' (thousands separators are not accepted)"
            )));
        }
        let normalized = text.replace(',', ".");
        // The money module quotes the text it saw; show the user the text they wrote. The
        // code is the money module's, as for every other amount.
        return currency
            .parse_signed(&normalized)
            .map_err(|error| AppError::new(error.code, error.message.replace(&normalized, text)));
    }
    currency.parse_signed(text)
}

/// Whether readers keep the counterparty and description of each line. Matching needs neither,
/// so a reconciliation run skips them (a million lines hold two million fewer strings); they
/// are checked either way, so both modes accept and refuse the same files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum LineDetails {
    #[default]
    Keep,
    Skip,
}

/// `text_field` for counterparty and description: checked always, kept only with `Keep`.
pub(crate) fn detail_field(name: &str, text: &str, details: LineDetails) -> AppResult<String> {
    match details {
        LineDetails::Keep => text_field(name, text),
        LineDetails::Skip => {
            let length = crate::text::trim(text).len();
            if length > FIELD_LENGTH_MAX {
                return Err(AppError::invalid_input(format!(
                    "field '{name}' is {length} bytes long; at most {FIELD_LENGTH_MAX} are accepted"
                )));
            }
            Ok(String::new())
        }
    }
}

/// Trimmed copy of a text field, refused when longer than `FIELD_LENGTH_MAX`.
pub(crate) fn text_field(name: &str, text: &str) -> AppResult<String> {
    let trimmed = crate::text::trim(text);
    if trimmed.len() > FIELD_LENGTH_MAX {
        return Err(AppError::invalid_input(format!(
            "field '{name}' is {} bytes long; at most {FIELD_LENGTH_MAX} are accepted",
            trimmed.len()
        )));
    }
    Ok(trimmed.to_string())
}

/// Refuse to grow a statement past `STATEMENT_LINES_MAX` lines.
pub(crate) fn check_line_count(lines_so_far: usize) -> AppResult<()> {
    if lines_so_far as u64 >= STATEMENT_LINES_MAX {
        return Err(AppError::invalid_input(format!(
            "statement has more than {STATEMENT_LINES_MAX} lines"
        )));
    }
    Ok(())
}
