//! SWIFT MT940 customer statement. A field starts with a `:TAG:` line and continues on the
//! following lines; fields are applied one at a time as the file streams past.
//!
//! Written here rather than taken from the `mt940` crate (1.1.1): that crate's library drags in
//! clap, serde_with and strum for its command-line tool, rejects characters outside the SWIFT set
//! that real bank exports contain, and reports pest positions instead of file lines.

use super::super::{InputFormat, Statement, StatementBalances, StatementLine, FIELD_LENGTH_MAX};
use super::{check_line_count, detail_field, parse_amount, text_field, LineDetails};
use crate::error::{AppError, AppResult};
use crate::money::Currency;
use chrono::{Datelike, NaiveDate};
use std::io::{BufRead, BufReader, Read};

/// Tags read or deliberately passed over; any other tag is an error.
const KNOWN_TAGS: [&str; 18] = [
    "20", "21", "25", "28", "28C", "60F", "60M", "61", "86", "62F", "62M", "64", "65", "13", "13D",
    "34F", "90D", "90C",
];
/// `:61:` customer reference meaning "none".
const NO_REFERENCE: &str = "NONREF";
/// Two-digit years up to this belong to the 2000s, the rest to the 1900s.
const TWO_DIGIT_YEAR_PIVOT: i32 = 79;
/// Longest amount in `:60:`, `:61:`, `:62:` (SWIFT 15d).
const AMOUNT_LENGTH_MAX: usize = 15;

struct Field {
    tag: String,
    value: String,
    line: u64,
}

#[derive(Clone, Copy)]
struct Balance {
    amount_minor: i64,
    currency: Currency,
    date: NaiveDate,
}

#[derive(Default)]
struct Mt940Reader {
    messages: u32,
    account: Option<String>,
    currency: Option<Currency>,
    opening: Option<Balance>,
    closing: Option<Balance>,
    lines: Vec<StatementLine>,
    /// The last field was a `:61:`, so a `:86:` now describes that line.
    awaiting_details: bool,
    details: LineDetails,
}

pub(crate) fn read<R: Read>(input: R, details: LineDetails) -> AppResult<Statement> {
    let mut input = BufReader::new(input);
    let mut state = Mt940Reader {
        details,
        ..Mt940Reader::default()
    };
    let mut pending: Option<Field> = None;
    let mut raw = Vec::new();
    let mut line_number = 0u64;
    loop {
        raw.clear();
        if input.read_until(b'\n', &mut raw)? == 0 {
            break;
        }
        line_number += 1;
        let text = decode_line(&raw);
        state.feed(&mut pending, text.trim_end(), line_number)?;
    }
    if let Some(field) = pending.take() {
        state.apply_field(field)?;
    }
    state.finish()
}

/// Bank exports are UTF-8 or ISO 8859-1; a line that is not UTF-8 is read as the latter,
/// where every byte is a character, so nothing is lost or guessed.
fn decode_line(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(text) => text.to_string(),
        Err(_) => raw.iter().map(|byte| char::from(*byte)).collect(),
    }
}

impl Mt940Reader {
    /// Take one physical line: start a field, continue one, or skip framing. Completed fields
    /// are applied (their errors name the field's own line).
    fn feed(&mut self, pending: &mut Option<Field>, text: &str, line: u64) -> AppResult<()> {
        if text.starts_with(':') || is_message_end(text) {
            self.flush(pending)?;
        }
        self.read_line(pending, text, line)
            .map_err(|error| error.context(format_args!("line {line}")))
    }

    fn read_line(&mut self, pending: &mut Option<Field>, text: &str, line: u64) -> AppResult<()> {
        if text.len() > FIELD_LENGTH_MAX {
            return Err(AppError::invalid_input(format!(
                "line longer than {FIELD_LENGTH_MAX} bytes"
            )));
        }
        // Blank lines, SWIFT block headers `{1:...}{2:...}{4:` and message ends `-}` carry no data.
        if text.trim().is_empty() || text.starts_with('{') || is_message_end(text) {
            return Ok(());
        }
        if let Some(rest) = text.strip_prefix(':') {
            let (tag, value) = split_tag(rest)?;
            *pending = Some(Field {
                tag: tag.to_string(),
                value: value.to_string(),
                line,
            });
            return Ok(());
        }
        let Some(field) = pending.as_mut() else {
            return Err(AppError::invalid_input(format!(
                "text '{text}' outside any :TAG: field"
            )));
        };
        if field.value.len() + text.len() >= FIELD_LENGTH_MAX {
            return Err(AppError::invalid_input(format!(
                ":{}: is longer than {FIELD_LENGTH_MAX} bytes",
                field.tag
            )));
        }
        field.value.push('\n');
        field.value.push_str(text);
        Ok(())
    }

    fn flush(&mut self, pending: &mut Option<Field>) -> AppResult<()> {
        match pending.take() {
            Some(field) => self.apply_field(field),
            None => Ok(()),
        }
    }

    fn apply_field(&mut self, field: Field) -> AppResult<()> {
        let line = field.line;
        let tag = field.tag.clone();
        self.apply(field)
            .map_err(|error| error.context(format_args!("line {line}: :{tag}:")))
    }

    fn apply(&mut self, field: Field) -> AppResult<()> {
        let awaiting_details = std::mem::replace(&mut self.awaiting_details, false);
        if field.tag == "20" {
            self.messages += 1;
            return Ok(());
        }
        if self.messages == 0 {
            return Err(AppError::invalid_input(
                "field before the :20: tag that starts a statement",
            ));
        }
        match field.tag.as_str() {
            "25" => self.set_account(&field.value),
            "60F" | "60M" => {
                let balance = self.parse_balance(&field.value)?;
                self.opening.get_or_insert(balance);
                Ok(())
            }
            "62F" | "62M" => {
                self.closing = Some(self.parse_balance(&field.value)?);
                Ok(())
            }
            "61" => {
                self.awaiting_details = true;
                self.push_entry(&field)
            }
            "86" if awaiting_details => self.attach_details(&field.value),
            _ => Ok(()),
        }
    }

    fn set_account(&mut self, value: &str) -> AppResult<()> {
        let account = text_field("account", value)?;
        match &self.account {
            Some(known) if *known != account => Err(AppError::invalid_input(format!(
                "statement covers two accounts ('{known}' and '{account}'); reconcile one account per file"
            ))),
            _ => {
                self.account = Some(account);
                Ok(())
            }
        }
    }

    /// `C261120EUR10000,00`: mark, date YYMMDD, currency, amount. The first balance fixes the
    /// statement currency; every later one must agree.
    fn parse_balance(&mut self, value: &str) -> AppResult<Balance> {
        let value = value.trim();
        let sign = match value.get(..1) {
            Some("C") => 1,
            Some("D") => -1,
            _ => {
                return Err(AppError::invalid_input(format!(
                    "balance '{value}' does not start with C or D"
                )))
            }
        };
        let date = parse_swift_date(value.get(1..7).unwrap_or_default())?;
        let currency_text = value.get(7..10).unwrap_or_default();
        let currency = Currency::parse(currency_text)?;
        if let Some(known) = self.currency.filter(|known| *known != currency) {
            return Err(AppError::invalid_input(format!(
                "balance in {currency}, but the statement is in {known}"
            )));
        }
        self.currency = Some(currency);
        let magnitude = parse_swift_amount(value.get(10..).unwrap_or_default(), currency)?;
        Ok(Balance {
            amount_minor: sign * magnitude,
            currency,
            date,
        })
    }

    fn push_entry(&mut self, field: &Field) -> AppResult<()> {
        check_line_count(self.lines.len())?;
        let currency = self.currency.ok_or_else(|| {
            AppError::invalid_input(":61: before the :60F: opening balance that gives the currency")
        })?;
        let entry = parse_entry(&field.value, currency)?;
        self.lines.push(StatementLine {
            line: self.lines.len() as u64 + 1,
            source_line: field.line,
            date: entry.date,
            reference: text_field("reference", &entry.reference)?,
            amount_minor: entry.amount_minor,
            currency,
            counterparty: String::new(),
            description: detail_field("description", &entry.supplementary, self.details)?,
            group: None,
        });
        Ok(())
    }

    fn attach_details(&mut self, value: &str) -> AppResult<()> {
        let Some(line) = self.lines.last_mut() else {
            return Ok(());
        };
        let details = parse_details(value);
        line.counterparty = detail_field("counterparty", &details.counterparty, self.details)?;
        if !details.description.is_empty() {
            line.description = detail_field("description", &details.description, self.details)?;
        }
        Ok(())
    }

    fn finish(self) -> AppResult<Statement> {
        if self.messages == 0 {
            return Err(AppError::invalid_input(
                "no :20: tag: this is not an MT940 statement",
            ));
        }
        let opening = self
            .opening
            .ok_or_else(|| AppError::invalid_input("missing :60F: opening balance"))?;
        let closing = self
            .closing
            .ok_or_else(|| AppError::invalid_input("missing :62F: closing balance"))?;
        Ok(Statement {
            format: InputFormat::Mt940,
            account: self.account,
            balances: Some(StatementBalances {
                opening_minor: opening.amount_minor,
                closing_minor: closing.amount_minor,
                currency: opening.currency,
                closing_date: Some(closing.date),
            }),
            lines: self.lines,
            parts: Vec::new(),
            pending_entries: 0,
        })
    }
}

/// `-` or `-}` closes a message; other lines starting with `-` are text of the open field.
fn is_message_end(text: &str) -> bool {
    matches!(text.trim(), "-" | "-}")
}

/// `20:STMT-1` -> ("20", "STMT-1"). A tag is two digits and an optional capital letter.
fn split_tag(rest: &str) -> AppResult<(&str, &str)> {
    let malformed = || AppError::invalid_input(format!("malformed tag line ':{rest}'"));
    let (tag, value) = rest.split_once(':').ok_or_else(malformed)?;
    let bytes = tag.as_bytes();
    let well_formed = matches!(bytes.len(), 2 | 3)
        && bytes[..2].iter().all(u8::is_ascii_digit)
        && bytes.get(2).is_none_or(u8::is_ascii_uppercase);
    if !well_formed {
        return Err(malformed());
    }
    if !KNOWN_TAGS.contains(&tag) {
        return Err(AppError::invalid_input(format!("unknown tag :{tag}:")));
    }
    Ok((tag, value))
}

struct ParsedEntry {
    date: NaiveDate,
    amount_minor: i64,
    reference: String,
    supplementary: String,
}

/// `:61:` = value date YYMMDD, [entry date MMDD], mark C|D|RC|RD, [funds code letter],
/// amount `1234,56`, transaction type (N|F|S + 3), customer reference [`//` bank reference],
/// then optionally a second line of supplementary details.
fn parse_entry(value: &str, currency: Currency) -> AppResult<ParsedEntry> {
    let (first, supplementary) = value.split_once('\n').unwrap_or((value, ""));
    let mut cursor = Cursor { text: first.trim() };
    let value_date = parse_swift_date(cursor.take(6))?;
    let entry_date = match cursor.peek_digits(4) {
        Some(month_day) => Some(entry_date(value_date, month_day)?),
        None => None,
    };
    let sign = cursor.take_mark()?;
    if cursor
        .text
        .starts_with(|character: char| character.is_ascii_alphabetic())
    {
        cursor.take(1); // funds code, the third letter of the currency code
    }
    let amount_text = cursor.take_while(|character| character.is_ascii_digit() || character == ',');
    let magnitude = parse_swift_amount(amount_text, currency)?;
    cursor.take_transaction_type()?;
    let (customer, bank) = cursor.text.split_once("//").unwrap_or((cursor.text, ""));
    let customer = customer.trim();
    let reference = if customer.is_empty() || customer.eq_ignore_ascii_case(NO_REFERENCE) {
        bank.trim()
    } else {
        customer
    };
    Ok(ParsedEntry {
        date: entry_date.unwrap_or(value_date),
        amount_minor: sign * magnitude,
        reference: reference.to_string(),
        supplementary: supplementary.trim().to_string(),
    })
}

struct Cursor<'t> {
    text: &'t str,
}

impl<'t> Cursor<'t> {
    fn take(&mut self, count: usize) -> &'t str {
        let end = self
            .text
            .char_indices()
            .nth(count)
            .map_or(self.text.len(), |(index, _)| index);
        let (taken, rest) = self.text.split_at(end);
        self.text = rest;
        taken
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'t str {
        let end = self
            .text
            .find(|character| !keep(character))
            .unwrap_or(self.text.len());
        let (taken, rest) = self.text.split_at(end);
        self.text = rest;
        taken
    }

    /// The next `count` characters when they are all digits, consumed.
    fn peek_digits(&mut self, count: usize) -> Option<&'t str> {
        let candidate = self.text.get(..count)?;
        candidate
            .bytes()
            .all(|byte| byte.is_ascii_digit())
            .then(|| self.take(count))
    }

    /// C and RD bring money in; D and RC (reversal of a credit) take it out.
    fn take_mark(&mut self) -> AppResult<i64> {
        for (mark, sign) in [("RC", -1), ("RD", 1), ("C", 1), ("D", -1)] {
            if self.text.starts_with(mark) {
                self.take(mark.len());
                return Ok(sign);
            }
        }
        Err(AppError::invalid_input(format!(
            "expected debit/credit mark C, D, RC or RD at '{}'",
            self.text
        )))
    }

    fn take_transaction_type(&mut self) -> AppResult<()> {
        let code = self.take(4);
        let bytes = code.as_bytes();
        let valid = bytes.len() == 4
            && matches!(bytes[0], b'N' | b'F' | b'S')
            && bytes[1..].iter().all(u8::is_ascii_alphanumeric);
        if !valid {
            return Err(AppError::invalid_input(format!(
                "transaction type '{code}' is not N, F or S followed by 3 characters"
            )));
        }
        Ok(())
    }
}

fn parse_swift_date(text: &str) -> AppResult<NaiveDate> {
    let invalid = || AppError::invalid_input(format!("'{text}' is not a date YYMMDD"));
    if text.len() != 6 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(invalid());
    }
    let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().unwrap_or_default();
    let two_digit_year = number(0..2) as i32;
    let century = if two_digit_year <= TWO_DIGIT_YEAR_PIVOT {
        2000
    } else {
        1900
    };
    NaiveDate::from_ymd_opt(century + two_digit_year, number(2..4), number(4..6))
        .ok_or_else(invalid)
}

/// The entry date has no year: it is the value date's year, except across New Year.
fn entry_date(value_date: NaiveDate, month_day: &str) -> AppResult<NaiveDate> {
    let month: u32 = month_day[..2].parse().unwrap_or_default();
    let day: u32 = month_day[2..].parse().unwrap_or_default();
    let year = match (value_date.month(), month) {
        (12, 1) => value_date.year() + 1,
        (1, 12) => value_date.year() - 1,
        _ => value_date.year(),
    };
    NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| AppError::invalid_input(format!("entry date '{month_day}' is not MMDD")))
}

/// SWIFT amounts use a decimal comma, which may end the amount (`100,`).
fn parse_swift_amount(text: &str, currency: Currency) -> AppResult<i64> {
    if text.is_empty() || text.len() > AMOUNT_LENGTH_MAX {
        return Err(AppError::invalid_input(format!(
            "amount '{text}' is not 1 to {AMOUNT_LENGTH_MAX} characters"
        )));
    }
    if text.starts_with(['+', '-']) {
        return Err(AppError::invalid_input(format!(
            "amount '{text}' must be unsigned (the sign is the D/C mark)"
        )));
    }
    let without_empty_decimals = text.strip_suffix(',').unwrap_or(text);
    parse_amount(without_empty_decimals, currency, ',').map_err(|error| {
        AppError::new(
            error.code,
            error.message.replace(without_empty_decimals, text),
        )
    })
}

struct Details {
    counterparty: String,
    description: String,
}

/// `:86:` either carries `?nn` subfields (German/SEPA structure: `?20`–`?29` remittance text,
/// `?32`–`?33` counterparty name) or is free text.
fn parse_details(value: &str) -> Details {
    let bytes = value.as_bytes();
    let structured =
        bytes.len() > 3 && bytes[..3].iter().all(u8::is_ascii_digit) && bytes[3] == b'?';
    if !structured {
        let lines: Vec<&str> = value.lines().map(str::trim).collect();
        return Details {
            counterparty: String::new(),
            description: lines.join(" "),
        };
    }
    // Subfields are fixed-width chunks, so line breaks inside them are not spaces.
    let joined: String = value.lines().collect();
    let mut counterparty = String::new();
    let mut description = String::new();
    for (code, content) in subfields(&joined) {
        match code {
            20..=29 | 60..=63 => description.push_str(content),
            32 | 33 => counterparty.push_str(content),
            _ => {}
        }
    }
    Details {
        counterparty,
        description,
    }
}

/// `166?00GUTSCHRIFT?20Rechnung 1` -> [(0, "GUTSCHRIFT"), (20, "Rechnung 1")].
fn subfields(text: &str) -> Vec<(u8, &str)> {
    let bytes = text.as_bytes();
    let is_marker = |index: usize| {
        bytes[index] == b'?'
            && bytes.get(index + 1).is_some_and(u8::is_ascii_digit)
            && bytes.get(index + 2).is_some_and(u8::is_ascii_digit)
    };
    let markers: Vec<usize> = (0..bytes.len()).filter(|index| is_marker(*index)).collect();
    markers
        .iter()
        .enumerate()
        .map(|(position, start)| {
            let end = markers.get(position + 1).copied().unwrap_or(bytes.len());
            let code = (bytes[start + 1] - b'0') * 10 + (bytes[start + 2] - b'0');
            (code, &text[start + 3..end])
        })
        .collect()
}
