//! SWIFT MT940 customer statement, MT942 interim report and MT950 statement, as banks write
//! them. A field starts with a `:TAG:` line and continues on the following lines; fields are
//! applied one at a time as the file streams past.
//!
//! Written here rather than taken from the `mt940` crate (1.1.1): that crate's library drags in
//! clap, serde_with and strum for its command-line tool, rejects characters outside the SWIFT set
//! that real bank exports contain, and reports pest positions instead of file lines.
//!
//! What real files hold besides the standard, and how it is read:
//! - Framing: bank header lines before `:20:` (`ABNANL2A`, `940`, `0000 01INGBNL2A…`, Rabobank's
//!   `:940:`), SWIFT envelopes `{1:…}{2:…}{4:` and trailers `-}`, `-}{5:…}` (the next `{1:` may
//!   follow on the same line), control characters (SOH, ETX, SUB, a byte order mark): skipped.
//!   Text outside a message is skipped; inside one it continues the open field or is refused.
//! - Several messages in a file (pages, days, accounts): each `:20:` starts one, and each is a
//!   `StatementPart` with its own account and balances, and must balance on its own.
//! - `:86:` continuation lines that start like a tag (`:12:`, `:KO:`) are text when the tag is
//!   not one of the message's; a lone `-` inside `:86:` is text when more text follows.
//! - `:61:` type code: `N`/`F`/`S` and three characters, where banks also write two letters and
//!   a space (`NOV `), put a blank before it, or leave it out (`D20,00NONREF`).
//! - Bank-calendar dates (`30 February`) are read as the last day of the month.
//! - Amounts zero-padded past 15 characters are read when their digits fit; the old Rabobank
//!   format's decimal point (`000000000300.00`) is read when the amount has no comma.
//! - Structured `:86:`: German `?nn` subfields and Dutch `/KEY/value` fields give the
//!   reference (end-to-end id), counterparty and description (see `parse_details`).
//! - MT942 has no `:60F:`/`:62F:`: its currency comes from `:34F:` or `:90D:`/`:90C:`, and its
//!   section has no balances.

use super::super::{
    check_lines_balance, InputFormat, Statement, StatementBalances, StatementLine, StatementPart,
    FIELD_LENGTH_MAX,
};
use super::{check_line_count, detail_field, parse_amount, text_field, LineDetails};
use crate::error::{AppError, AppResult};
use crate::money::Currency;
use chrono::{Datelike, Months, NaiveDate};
use std::io::{BufRead, BufReader, Read};

/// Tags read or deliberately passed over; any other tag is an error, except as the text of a
/// field that continues over several lines (`:86:`, `:NS:`, `:61:`).
const KNOWN_TAGS: [&str; 21] = [
    "20", "21", "25", "28", "28C", "60F", "60M", "61", "86", "62F", "62M", "64", "65", "13", "13D",
    "34F", "90D", "90C", "NS", "23", "25P",
];
/// `:61:` customer reference meaning "none".
const NO_REFERENCE: &str = "NONREF";
/// `:61:` customer references that name where the reference is rather than give it: `NONREF`
/// (none; the `:86:` end-to-end id if any), and the Dutch banks' `EREF`, `MARF` (mandate),
/// `PREF` (batch), whose value is the `:86:` field of that name.
const REFERENCE_PLACEHOLDERS: [(&str, DutchReference); 4] = [
    ("NONREF", DutchReference::EndToEnd),
    ("EREF", DutchReference::EndToEnd),
    ("MARF", DutchReference::Mandate),
    ("PREF", DutchReference::Batch),
];
/// Longest customer reference (SWIFT 16x).
const CUSTOMER_REFERENCE_LENGTH: usize = 16;
/// End-to-end reference meaning "none" (SEPA).
const NOT_PROVIDED: &str = "NOTPROVIDED";
/// Two-digit years up to this belong to the 2000s, the rest to the 1900s.
const TWO_DIGIT_YEAR_PIVOT: i32 = 79;
/// Longest amount in `:60:`, `:61:`, `:62:` (SWIFT 15d), not counting leading zeros.
const AMOUNT_LENGTH_MAX: usize = 15;

struct Field {
    tag: String,
    value: String,
    line: u64,
}

impl Field {
    /// Fields whose value runs over several lines; the others take one line.
    fn continues(&self) -> bool {
        matches!(self.tag.as_str(), "86" | "NS" | "61")
    }
}

#[derive(Clone, Copy)]
struct Balance {
    amount_minor: i64,
    currency: Currency,
    date: NaiveDate,
}

/// The message being read: from its `:20:` to its end.
struct Message {
    source_line: u64,
    reference: String,
    account: Option<String>,
    currency: Option<Currency>,
    opening: Option<Balance>,
    closing: Option<Balance>,
    /// `:34F:`, `:13D:`, `:90D:`/`:90C:` seen: an interim report (MT942), which has no balances.
    interim: bool,
    first_line: usize,
}

#[derive(Default)]
struct Mt940Reader {
    message: Option<Message>,
    parts: Vec<StatementPart>,
    lines: Vec<StatementLine>,
    /// The last field was a `:61:`, so a `:86:` now describes that line.
    awaiting_details: bool,
    details: LineDetails,
    /// A lone `-` line seen: the end of the message, unless more text of the open field follows.
    dash_pending: bool,
    balance_check: BalanceCheck,
    /// The last `:61:` had no customer reference of its own: where to take it from `:86:`.
    reference_placeholder: Option<DutchReference>,
}

pub(crate) fn read<R: Read>(input: R, details: LineDetails) -> AppResult<Statement> {
    read_with(input, details, BalanceCheck::EachMessage)
}

/// `read`, without refusing a message that does not balance: the real-file corpus test
/// compares the lines of anonymised files whose balances were edited.
#[cfg(test)]
pub(crate) fn read_unbalanced<R: Read>(input: R, details: LineDetails) -> AppResult<Statement> {
    read_with(input, details, BalanceCheck::Skip)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum BalanceCheck {
    /// Every message with both balances must balance on its own lines.
    #[default]
    EachMessage,
    #[cfg_attr(not(test), allow(dead_code))]
    Skip,
}

fn read_with<R: Read>(
    input: R,
    details: LineDetails,
    balance_check: BalanceCheck,
) -> AppResult<Statement> {
    let mut input = BufReader::new(input);
    let mut state = Mt940Reader {
        details,
        balance_check,
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
        let text = decode_line(&raw, line_number == 1);
        // A line ending in CR alone (old Mac exports) is several lines.
        for segment in text.split('\r') {
            state.feed_physical(&mut pending, segment.trim_end(), line_number)?;
        }
    }
    state.flush(&mut pending)?;
    state.end_message()?;
    state.finish()
}

/// Bank exports are UTF-8 or ISO 8859-1; a line that is not UTF-8 is read as the latter,
/// where every byte is a character, so nothing is lost or guessed. ASCII control characters
/// (SOH and ETX around a message, SUB at the end of a DOS file) and the byte order mark are
/// dropped; a tab is a space.
fn decode_line(raw: &[u8], first: bool) -> String {
    let is_dropped = |byte: &u8| byte.is_ascii_control() && !matches!(byte, b'\n' | b'\r');
    let cleaned: Vec<u8>;
    let raw = if raw.iter().any(is_dropped) {
        cleaned = raw
            .iter()
            .filter_map(|byte| match byte {
                b'\t' => Some(b' '),
                _ if is_dropped(byte) => None,
                _ => Some(*byte),
            })
            .collect();
        &cleaned[..]
    } else {
        raw
    };
    let raw = if first {
        raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
    } else {
        raw
    };
    match std::str::from_utf8(raw) {
        Ok(text) => text.to_string(),
        Err(_) => raw.iter().map(|byte| char::from(*byte)).collect(),
    }
}

/// `{1:F01…}` and the like: a SWIFT block opener, a digit or two and a colon after the brace.
fn starts_block(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.first() == Some(&b'{')
        && bytes.get(1).is_some_and(u8::is_ascii_alphanumeric)
        && (bytes.get(2) == Some(&b':')
            || (bytes.get(2).is_some_and(u8::is_ascii_alphanumeric) && bytes.get(3) == Some(&b':')))
}

/// Length of the balanced `{…}` block at the start of `text` (blocks nest: `{3:{108:X}}`), or
/// the whole text when it is not closed on this line.
fn block_length(text: &str) -> usize {
    let mut depth = 0usize;
    for (index, byte) in text.bytes().enumerate() {
        match byte {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return index + 1;
                }
            }
            _ => {}
        }
    }
    text.len()
}

impl Mt940Reader {
    /// Take one physical line: peel SWIFT envelope blocks and trailers off it, then read the
    /// text that is left.
    fn feed_physical(
        &mut self,
        pending: &mut Option<Field>,
        text: &str,
        line: u64,
    ) -> AppResult<()> {
        let mut rest = text;
        loop {
            if let Some(after) = rest.strip_prefix("-}") {
                // End of a SWIFT text block; a trailer `{5:…}` or the next `{1:` may follow.
                self.end_of_message(pending)?;
                rest = after.trim_start();
                continue;
            }
            if starts_block(rest) {
                if let Some(after) = rest.strip_prefix("{4:") {
                    self.end_of_message(pending)?;
                    rest = after;
                    continue;
                }
                rest = rest[block_length(rest)..].trim_start();
                continue;
            }
            break;
        }
        if rest.is_empty() && text != rest {
            return Ok(());
        }
        self.feed(pending, rest, line)
    }

    /// A message ends: the open field is applied and the message is closed (its errors name
    /// the line of its `:20:`).
    fn end_of_message(&mut self, pending: &mut Option<Field>) -> AppResult<()> {
        self.dash_pending = false;
        self.flush(pending)?;
        self.end_message()
    }

    /// Take one line of text: start a field, continue one, or skip framing. Completed fields
    /// are applied (their errors name the field's own line).
    fn feed(&mut self, pending: &mut Option<Field>, text: &str, line: u64) -> AppResult<()> {
        if text.len() > FIELD_LENGTH_MAX {
            return Err(AppError::invalid_input(format!(
                "line {line}: line longer than {FIELD_LENGTH_MAX} bytes"
            )));
        }
        if text.trim().is_empty() {
            return Ok(());
        }
        if text.trim() == "-" {
            // The end of the message, or a dash inside `:86:`: the next line tells.
            if self.dash_pending {
                return self.end_of_message(pending);
            }
            self.dash_pending = true;
            return Ok(());
        }
        let field_start = text.strip_prefix(':').and_then(split_tag);
        let continues = pending.as_ref().is_some_and(Field::continues);
        match field_start {
            Some((tag, value)) if KNOWN_TAGS.contains(&tag) => {
                // A dash before a tag was an end of message; the `:20:` that follows, if any,
                // ends the message anyway.
                self.dash_pending = false;
                self.flush(pending)?;
                if tag == "20" {
                    // The message before ends here (its errors name its own `:20:` line).
                    self.end_message()?;
                }
                *pending = Some(Field {
                    tag: tag.to_string(),
                    value: value.to_string(),
                    line,
                });
                return Ok(());
            }
            Some(("940", _)) | Some(("942", _)) | Some(("950", _)) => {
                // Rabobank's first line names the message type.
                return self.end_of_message(pending);
            }
            Some((tag, _)) if !continues && self.message.is_some() => {
                return Err(AppError::invalid_input(format!(
                    "line {line}: unknown tag :{tag}:"
                )));
            }
            _ => {}
        }
        if let Some(field) = pending.as_mut().filter(|field| field.continues()) {
            if std::mem::take(&mut self.dash_pending) {
                field.value.push_str("\n-");
            }
            if field.value.len() + text.len() >= FIELD_LENGTH_MAX {
                return Err(AppError::invalid_input(format!(
                    "line {line}: :{}: is longer than {FIELD_LENGTH_MAX} bytes",
                    field.tag
                )));
            }
            field.value.push('\n');
            field.value.push_str(text);
            return Ok(());
        }
        if std::mem::take(&mut self.dash_pending) {
            self.end_of_message(pending)?;
        }
        // Text outside a message (bank header lines, trailers) or after its closing balance
        // (the header of a next message with no `-` before it) carries no data. Inside a
        // message, before its closing balance, it is text outside any field.
        self.flush(pending)?;
        if self
            .message
            .as_ref()
            .is_some_and(|message| message.closing.is_none() && !message.interim)
        {
            return Err(AppError::invalid_input(format!(
                "line {line}: text '{text}' outside any :TAG: field"
            )));
        }
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
            self.end_message()?;
            self.message = Some(Message {
                source_line: field.line,
                reference: text_field("reference", &field.value)?,
                account: None,
                currency: None,
                opening: None,
                closing: None,
                interim: false,
                first_line: self.lines.len(),
            });
            return Ok(());
        }
        let details = self.details;
        let Some(message) = self.message.as_mut() else {
            return Err(AppError::invalid_input(
                "field before the :20: tag that starts a statement",
            ));
        };
        match field.tag.as_str() {
            "25" => {
                message.account = Some(text_field("account", &field.value)?);
                Ok(())
            }
            "60F" | "60M" => {
                let balance = parse_balance(message, &field.value)?;
                message.opening.get_or_insert(balance);
                Ok(())
            }
            "62F" | "62M" => {
                message.closing = Some(parse_balance(message, &field.value)?);
                Ok(())
            }
            "34F" => {
                message.interim = true;
                // `EUR0,` or `EURD0,`: the currency is all this reader needs of it.
                let text = field.value.trim();
                let currency = Currency::parse_on_statement(text.get(..3).unwrap_or(text))?;
                message.currency.get_or_insert(currency);
                Ok(())
            }
            "90D" | "90C" => {
                message.interim = true;
                // `3EUR12,50`: number of entries, currency, sum.
                let text = field.value.trim();
                let digits = text.bytes().take_while(u8::is_ascii_digit).count();
                let currency_text = text.get(digits..digits + 3).unwrap_or_default();
                let currency = Currency::parse_on_statement(currency_text)?;
                message.currency.get_or_insert(currency);
                Ok(())
            }
            "13" | "13D" => {
                message.interim = true;
                Ok(())
            }
            "61" => {
                self.awaiting_details = true;
                self.push_entry(&field)
            }
            "86" if awaiting_details => self.attach_details(&field.value, details),
            _ => Ok(()),
        }
    }

    fn push_entry(&mut self, field: &Field) -> AppResult<()> {
        check_line_count(self.lines.len())?;
        let message = self.message.as_ref().expect("a :61: is inside a message");
        let currency = message.currency.ok_or_else(|| {
            AppError::invalid_input(
                ":61: before the :60F: opening balance (or MT942 :34F:) that gives the currency",
            )
        })?;
        let entry = parse_entry(&field.value, currency)?;
        self.reference_placeholder = entry.placeholder;
        self.lines.push(StatementLine {
            line: self.lines.len() as u64 + 1,
            source_line: field.line,
            date: entry.date,
            reference: text_field("reference", &entry.reference)?,
            amount_minor: entry.amount_minor,
            currency,
            counterparty: detail_field("counterparty", &entry.overflow, self.details)?,
            description: detail_field("description", &entry.supplementary, self.details)?,
            group: None,
        });
        Ok(())
    }

    fn attach_details(&mut self, value: &str, details: LineDetails) -> AppResult<()> {
        let first_line = self
            .message
            .as_ref()
            .map_or(0, |message| message.first_line);
        if self.lines.len() <= first_line {
            return Ok(());
        }
        let Some(line) = self.lines.last_mut() else {
            return Ok(());
        };
        let parsed = parse_details(value);
        if !parsed.counterparty.is_empty() {
            line.counterparty = detail_field("counterparty", &parsed.counterparty, details)?;
        }
        if !parsed.description.is_empty() {
            line.description = detail_field("description", &parsed.description, details)?;
        }
        // The `:61:` reference stands unless it is none; then the end-to-end id of `:86:`.
        if let Some(placeholder) = self.reference_placeholder {
            let reference = match placeholder {
                DutchReference::EndToEnd => parsed.reference,
                DutchReference::Mandate => parsed.mandate,
                DutchReference::Batch => parsed.batch,
            };
            if let Some(reference) = reference.filter(|text| !text.is_empty()) {
                line.reference = text_field("reference", &reference)?;
            }
        }
        Ok(())
    }

    /// Close the open message: it becomes a section. A message with an opening balance and no
    /// closing one was cut off; one with neither must be an interim report (MT942).
    fn end_message(&mut self) -> AppResult<()> {
        let Some(message) = self.message.take() else {
            return Ok(());
        };
        let named = |error: AppError| {
            error.context(format_args!(
                "line {}: message :20:{}",
                message.source_line, message.reference
            ))
        };
        let balances = match (message.opening, message.closing) {
            (Some(opening), Some(closing)) => Some(StatementBalances {
                opening_minor: opening.amount_minor,
                closing_minor: closing.amount_minor,
                currency: opening.currency,
                closing_date: Some(closing.date),
            }),
            (Some(_), None) => {
                return Err(named(AppError::invalid_input(
                    "missing :62F: closing balance (is the file cut off?)",
                )))
            }
            (None, Some(_)) => {
                return Err(named(AppError::invalid_input(
                    "missing :60F: opening balance",
                )))
            }
            (None, None) if message.interim => None,
            (None, None) => {
                return Err(named(AppError::invalid_input(
                    "missing :60F: opening and :62F: closing balance",
                )))
            }
        };
        self.awaiting_details = false;
        let lines = message.first_line..self.lines.len();
        // Each message balances on its own: a file may hold several accounts, or pages with
        // a gap between them.
        let checked = balances.filter(|_| self.balance_check == BalanceCheck::EachMessage);
        if let Some(balances) = &checked {
            check_lines_balance(balances, &self.lines[lines.clone()]).map_err(|error| {
                error.context(format_args!(
                    "line {}: message :20:{}",
                    message.source_line, message.reference
                ))
            })?;
        }
        self.parts.push(StatementPart {
            account: message.account,
            balances,
            period: None,
            lines,
            pending_entries: 0,
        });
        Ok(())
    }

    fn finish(self) -> AppResult<Statement> {
        if self.parts.is_empty() {
            return Err(AppError::invalid_input(
                "no :20: tag: this is not an MT940 statement",
            ));
        }
        let first = &self.parts[0];
        let one_account = self.parts.iter().all(|part| part.account == first.account);
        let account = if one_account {
            first.account.clone()
        } else {
            None
        };
        let balances = self.whole_file_balances(one_account);
        Ok(Statement {
            format: InputFormat::Mt940,
            account,
            balances,
            lines: self.lines,
            parts: self.parts,
            pending_entries: 0,
        })
    }

    /// One account in one currency: the first opening and the last closing balance.
    fn whole_file_balances(&self, one_account: bool) -> Option<StatementBalances> {
        if !one_account {
            return None;
        }
        let mut with_balances = self.parts.iter().filter_map(|part| part.balances);
        let first = with_balances.next()?;
        let last = with_balances.next_back().unwrap_or(first);
        let one_currency = self
            .parts
            .iter()
            .filter_map(|part| part.balances)
            .all(|balances| balances.currency == first.currency);
        let all_lines_in_it = self
            .lines
            .iter()
            .all(|line| line.currency == first.currency);
        (one_currency && all_lines_in_it).then_some(StatementBalances {
            opening_minor: first.opening_minor,
            closing_minor: last.closing_minor,
            currency: first.currency,
            closing_date: last.closing_date,
        })
    }
}

/// `C261120EUR10000,00`: mark, date YYMMDD, currency, amount. The first balance fixes the
/// message currency; every later one must agree.
fn parse_balance(message: &mut Message, value: &str) -> AppResult<Balance> {
    let value = value.lines().next().unwrap_or_default().trim();
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
    // Some exports leave the currency out of a balance after the first (`C020315105000,00`).
    let (currency, amount_start) = match message.currency {
        Some(known) if currency_text.starts_with(|c: char| c.is_ascii_digit()) => (known, 7),
        _ => (Currency::parse_on_statement(currency_text)?, 10),
    };
    if let Some(known) = message
        .opening
        .map(|balance| balance.currency)
        .filter(|known| *known != currency)
    {
        return Err(AppError::invalid_input(format!(
            "balance in {currency}, but the statement is in {known}"
        )));
    }
    message.currency = Some(currency);
    let magnitude = parse_swift_amount(
        value.get(amount_start..).unwrap_or_default().trim(),
        currency,
    )?;
    Ok(Balance {
        amount_minor: sign * magnitude,
        currency,
        date,
    })
}

/// `20:STMT-1` -> ("20", "STMT-1"). A tag is two or three digits and an optional capital
/// letter, or `NS`; `None` when the line does not start like a tag.
fn split_tag(rest: &str) -> Option<(&str, &str)> {
    let (tag, value) = rest.split_once(':')?;
    let bytes = tag.as_bytes();
    let digits = bytes
        .iter()
        .take_while(|byte| byte.is_ascii_digit())
        .count();
    let well_formed = tag == "NS"
        || (matches!(digits, 2 | 3)
            && bytes.len() <= digits + 1
            && bytes.get(digits).is_none_or(u8::is_ascii_uppercase));
    well_formed.then_some((tag, value))
}

struct ParsedEntry {
    /// No customer reference of its own: where `:86:` has it.
    placeholder: Option<DutchReference>,
    /// Text after a blank-padded 16-character customer reference: the old Rabobank format
    /// writes the counterparty's name there.
    overflow: String,
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
    let amount_text = cursor
        .take_while(|character| character.is_ascii_digit() || character == ',' || character == '.');
    let magnitude = parse_swift_amount(amount_text, currency)?;
    cursor.text = cursor.text.trim_start();
    cursor.take_transaction_type()?;
    let (customer, bank) = cursor.text.split_once("//").unwrap_or((cursor.text, ""));
    let (customer, overflow) = split_customer_reference(customer);
    // The bank reference ends at a blank (Rabobank writes the counterparty after it).
    let bank = bank.split_whitespace().next().unwrap_or_default();
    let placeholder = if customer.is_empty() {
        Some(DutchReference::EndToEnd)
    } else {
        REFERENCE_PLACEHOLDERS
            .iter()
            .find(|(word, _)| customer.eq_ignore_ascii_case(word))
            .map(|(_, kind)| *kind)
    };
    let reference = if placeholder.is_some() {
        bank
    } else {
        customer
    };
    Ok(ParsedEntry {
        placeholder,
        overflow: overflow.to_string(),
        date: entry_date.unwrap_or(value_date),
        amount_minor: sign * magnitude,
        reference: reference.to_string(),
        supplementary: supplementary
            .lines()
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" ")
            .trim()
            .to_string(),
    })
}

/// The customer reference is 16 characters; a longer one padded with blanks to 16 and followed
/// by more text (`NONREF          MR AND MRS DAVIDS`) ends at the padding. One longer than 16
/// without a blank there (an IBAN) is kept whole: banks write those too.
fn split_customer_reference(text: &str) -> (&str, &str) {
    let boundary = text
        .char_indices()
        .nth(CUSTOMER_REFERENCE_LENGTH)
        .map(|(index, _)| index);
    match boundary {
        Some(index)
            if text[..index].ends_with(char::is_whitespace)
                || text[index..].starts_with(char::is_whitespace) =>
        {
            (text[..index].trim(), text[index..].trim())
        }
        _ => (text.trim(), ""),
    }
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

    /// `N`, `F` or `S` and three characters (`NTRF`, `S051`), or two letters and a blank
    /// (`NOV `), or nothing at all when the reference follows the amount (`NONREF`, `//REF`);
    /// a type code is refused only when it does not start with a capital letter.
    fn take_transaction_type(&mut self) -> AppResult<()> {
        let text = self.text;
        if text.is_empty()
            || text.starts_with("//")
            || text
                .get(..NO_REFERENCE.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(NO_REFERENCE))
        {
            return Ok(());
        }
        // The standard's N, F and S; banks also write other capitals (`MCI0`), and blanks
        // in the code (`S   X`, Sberbank).
        let bytes = text.as_bytes();
        let code = bytes.get(1..4).unwrap_or(&bytes[1..]);
        let valid = bytes[0].is_ascii_uppercase()
            && !code.is_empty()
            && code
                .iter()
                .all(|byte| byte.is_ascii_alphanumeric() || *byte == b' ');
        if valid {
            self.take(1 + code.len());
            return Ok(());
        }
        Err(AppError::invalid_input(format!(
            "transaction type '{}' is not N, F or S followed by 3 characters",
            text.get(..4).unwrap_or(text)
        )))
    }
}

/// YYMMDD. Banks count 30 days to every month in their calendar and write `30 February`:
/// a day past the end of a real month is the month's last day.
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
    bank_calendar_date(century + two_digit_year, number(2..4), number(4..6)).ok_or_else(invalid)
}

/// A date, where day 29 to 31 past the end of the month is the month's last day.
fn bank_calendar_date(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    if !(1..=31).contains(&day) {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, day).or_else(|| {
        let next_month =
            NaiveDate::from_ymd_opt(year, month, 1)?.checked_add_months(Months::new(1))?;
        next_month.pred_opt()
    })
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
    bank_calendar_date(year, month, day)
        .ok_or_else(|| AppError::invalid_input(format!("entry date '{month_day}' is not MMDD")))
}

/// SWIFT amounts use a decimal comma, which may end the amount (`100,`). Leading zeros past
/// the 15 characters are padding; an amount with a point and no comma is the old Rabobank
/// format's decimal point.
fn parse_swift_amount(text: &str, currency: Currency) -> AppResult<i64> {
    let mut significant = text.trim_start_matches('0');
    let padded = significant.len() < text.len();
    if padded && (significant.is_empty() || significant.starts_with([',', '.'])) {
        // Keep one zero before the decimal separator: `000,50` is `0,50`.
        significant = &text[text.len() - significant.len() - 1..];
    }
    if text.is_empty() || significant.len() > AMOUNT_LENGTH_MAX {
        return Err(AppError::invalid_input(format!(
            "amount '{text}' is not 1 to {AMOUNT_LENGTH_MAX} characters"
        )));
    }
    if text.starts_with(['+', '-']) {
        return Err(AppError::invalid_input(format!(
            "amount '{text}' must be unsigned (the sign is the D/C mark)"
        )));
    }
    let separator = if !significant.contains(',') && significant.matches('.').count() == 1 {
        '.'
    } else {
        ','
    };
    let without_empty_decimals = significant.strip_suffix(separator).unwrap_or(significant);
    parse_amount(without_empty_decimals, currency, separator).map_err(|error| {
        AppError::new(
            error.code,
            error.message.replace(without_empty_decimals, text),
        )
    })
}

/// Which `:86:` reference a `:61:` placeholder points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DutchReference {
    EndToEnd,
    Mandate,
    Batch,
}

#[derive(Default)]
struct Details {
    /// End-to-end id (`/EREF/`, `EREF+`).
    reference: Option<String>,
    /// Mandate reference (`/MARF/`, `MREF+`).
    mandate: Option<String>,
    /// Batch / payment information id (`/PREF/`).
    batch: Option<String>,
    counterparty: String,
    description: String,
}

/// `:86:` read in one of three shapes:
/// - German `?nn` subfields (`166?00GUTSCHRIFT?20EREF+X?21SVWZ+Rechnung?32Name`): description
///   `?20`–`?29` and `?60`–`?63`, counterparty `?32`–`?33` (else the account `?31`), reference
///   the SEPA `EREF+` inside the remittance text;
/// - Dutch `/KEY/value` fields (`/EREF/X/IBAN/NL…/NAME/Name/REMI/Text`, ING's
///   `/CNTP/IBAN/BIC/NAME/CITY/`): description `REMI`, counterparty `NAME` (else `CNTP`'s name,
///   else `IBAN`), reference `EREF`;
/// - anything else is free text: all description.
///
/// `NOTPROVIDED` is no reference.
fn parse_details(value: &str) -> Details {
    let bytes = value.as_bytes();
    let german = (bytes.len() > 3 && bytes[..3].iter().all(u8::is_ascii_digit) && bytes[3] == b'?')
        || (bytes.len() > 2 && bytes[0] == b'?' && bytes[1..3].iter().all(u8::is_ascii_digit));
    // Subfields are fixed-width chunks, so line breaks inside them are not spaces.
    let joined: String = value.lines().collect();
    if german {
        return german_details(&joined);
    }
    if joined.trim_start().starts_with('/') {
        if let Some(details) = dutch_details(joined.trim()) {
            return details;
        }
    }
    let lines: Vec<&str> = value.lines().map(str::trim).collect();
    Details {
        description: lines.join(" ").trim().to_string(),
        ..Details::default()
    }
}

fn german_details(joined: &str) -> Details {
    let mut name = String::new();
    let mut account = String::new();
    let mut description = String::new();
    for (code, content) in subfields(joined) {
        match code {
            20..=29 | 60..=63 => description.push_str(content),
            32 | 33 => name.push_str(content),
            31 => account.push_str(content),
            _ => {}
        }
    }
    Details {
        reference: sepa_keyword(&description, "EREF+"),
        mandate: sepa_keyword(&description, "MREF+"),
        batch: None,
        counterparty: if name.trim().is_empty() {
            account
        } else {
            name
        },
        description,
    }
}

/// The value after a SEPA keyword (`EREF+`) in German remittance text, up to the next keyword.
fn sepa_keyword(text: &str, keyword: &str) -> Option<String> {
    let start = text.find(keyword)? + keyword.len();
    let rest = &text[start..];
    let end = [
        "KREF+", "MREF+", "CRED+", "DEBT+", "SVWZ+", "ABWA+", "ABWE+", "COAM+", "OAMT+",
    ]
    .iter()
    .filter_map(|next| rest.find(next))
    .min()
    .unwrap_or(rest.len());
    let value = rest[..end].trim();
    (!value.is_empty() && !value.eq_ignore_ascii_case(NOT_PROVIDED)).then(|| value.to_string())
}

/// Keys of the Dutch structured `:86:` (ABN AMRO, ING, Rabobank, Triodos, Knab, SNS).
const DUTCH_KEYS: [&str; 24] = [
    "TRTP", "IBAN", "BIC", "NAME", "REMI", "EREF", "MARF", "CSID", "CNTP", "ORDP", "BENM", "ULTC",
    "ULTD", "ULTB", "PURP", "ISDT", "RTRN", "CREF", "SVCL", "ADDR", "PREF", "RTYP", "BUSP", "FX",
];

fn dutch_details(joined: &str) -> Option<Details> {
    let parts: Vec<&str> = joined.split('/').collect();
    let mut fields: Vec<(&str, Vec<&str>)> = Vec::new();
    for part in parts.iter().skip(1) {
        let is_key = DUTCH_KEYS.contains(&part.trim());
        match fields.last_mut() {
            // ING's `/CNTP/IBAN/BIC/NAME/CITY/` holds four positional values.
            Some(("CNTP", values)) if values.len() < 4 => values.push(part),
            _ if is_key => fields.push((part.trim(), Vec::new())),
            Some((_, values)) => values.push(part),
            None => return None,
        }
    }
    let value = |key: &str| {
        fields
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, values)| values.join("/").trim_matches('/').trim().to_string())
    };
    let provided = |key: &str| {
        value(key).filter(|text| !text.is_empty() && !text.eq_ignore_ascii_case(NOT_PROVIDED))
    };
    let cntp_name = fields
        .iter()
        .find(|(name, _)| *name == "CNTP")
        .and_then(|(_, values)| values.get(2).map(|name| name.trim().to_string()));
    let counterparty = value("NAME")
        .filter(|name| !name.is_empty())
        .or(cntp_name.filter(|name| !name.is_empty()))
        .or_else(|| value("IBAN"))
        .unwrap_or_default();
    let remittance = value("REMI").unwrap_or_default();
    // ING: `/REMI/USTD//text/` (unstructured) or `/REMI/STRD/CUR/reference/` (structured).
    let description = remittance
        .strip_prefix("USTD//")
        .or_else(|| remittance.strip_prefix("STRD/CUR/"))
        .unwrap_or(&remittance)
        .trim_matches('/')
        .trim()
        .to_string();
    Some(Details {
        reference: provided("EREF"),
        mandate: provided("MARF"),
        batch: provided("PREF"),
        counterparty,
        description,
    })
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
