//! CSV statements: a header row, then one statement line per record. Columns are found by
//! header name (renamed with `--map`), so their order in the file does not matter.

use super::super::{CsvOptions, InputFormat, Statement, StatementLine};
use super::{check_line_count, detail_field, parse_amount, text_field, CurrencyCache, LineDetails};
use crate::error::{AppError, AppResult};
use chrono::format::{Item, Parsed, StrftimeItems};
use chrono::NaiveDate;
use std::io::Read;

const ISO_DATE_FORMAT: &str = "%Y-%m-%d";

/// Where each internal column sits in a record.
struct Columns {
    date: usize,
    reference: usize,
    amount: usize,
    currency: usize,
    counterparty: Option<usize>,
    description: Option<usize>,
}

/// Everything parsing one record needs besides the record.
struct RecordParser<'o> {
    columns: Columns,
    date_format: &'o str,
    date_items: Vec<Item<'static>>,
    decimal_separator: char,
    currencies: CurrencyCache,
    details: LineDetails,
}

/// Lines read before the rest of the file's lines are reserved at once (see `read`).
const SAMPLE_LINES: usize = 256;

/// `input_bytes` is the size of the whole input, when known (0 if not): a big file's lines are
/// reserved once its first lines tell their average length, instead of the vector doubling
/// (and copying a few hundred MiB) twenty times on a million lines.
pub(crate) fn read<R: Read>(
    input: R,
    options: &CsvOptions,
    details: LineDetails,
    input_bytes: u64,
) -> AppResult<Statement> {
    // No `Trim` here: fields are trimmed when read, so newlines inside quoted fields stay
    // countable for line numbers.
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(options.delimiter)
        .has_headers(true)
        .from_reader(crate::csv_input::NewlineTerminated::new(
            crate::csv_input::Checked::new(input, options.delimiter),
        ));
    let headers = reader
        .byte_headers()
        .map_err(|error| csv_error(&error, 1))?
        .clone();
    let mut parser = RecordParser {
        columns: resolve_columns(&headers, options)?,
        date_format: &options.date_format,
        date_items: parse_date_format(&options.date_format)?,
        decimal_separator: options.decimal_separator,
        currencies: CurrencyCache::default(),
        details,
    };
    // StringRecord checks UTF-8 once per record (all-ASCII records in one pass).
    let mut record = ::csv::StringRecord::new();
    let mut lines = Vec::new();
    loop {
        let more = reader.read_record(&mut record);
        // The position after the record's final newline; the csv crate's own record position
        // points at any blank lines skipped before the record instead.
        let next_line = reader.position().line();
        if !more.map_err(|error| csv_error(&error, next_line - 1))? {
            break;
        }
        let source_line = crate::csv_input::record_start_line(next_line, &record);
        check_line_count(lines.len())
            .and_then(|()| parser.parse(&record, lines.len() as u64 + 1, source_line))
            .map(|line| lines.push(line))
            .map_err(|error| error.context(format_args!("line {source_line}")))?;
        if lines.len() == SAMPLE_LINES {
            reserve_rest(&mut lines, reader.position().byte(), input_bytes);
        }
    }
    Ok(Statement {
        format: InputFormat::Csv,
        account: None,
        balances: None,
        lines,
        parts: Vec::new(),
        pending_entries: 0,
    })
}

/// Room for the lines of the unread `input_bytes - bytes_read`, at the average length so far
/// plus a little; never more than the line limit allows.
fn reserve_rest(lines: &mut Vec<StatementLine>, bytes_read: u64, input_bytes: u64) {
    let per_line = (bytes_read / lines.len() as u64).max(1);
    let rest = input_bytes.saturating_sub(bytes_read) / per_line;
    let wanted = (rest + rest / 16).min(super::super::STATEMENT_LINES_MAX);
    lines.reserve(usize::try_from(wanted).unwrap_or(0));
}

fn parse_date_format(format: &str) -> AppResult<Vec<Item<'static>>> {
    StrftimeItems::new(format)
        .parse_to_owned()
        .map_err(|_| AppError::invalid_input(format!("date format '{format}' is not valid")))
}

fn resolve_columns(headers: &::csv::ByteRecord, options: &CsvOptions) -> AppResult<Columns> {
    let shown: Vec<String> = headers
        .iter()
        .map(|name| String::from_utf8_lossy(name).trim().to_string())
        .collect();
    let names: Vec<String> = shown.iter().map(|name| name.to_lowercase()).collect();
    if names.iter().all(String::is_empty) {
        return Err(AppError::invalid_input(
            "statement is empty: no header line",
        ));
    }
    let find = |internal: &str, required: bool| -> AppResult<Option<usize>> {
        let mapped = options.columns.get(internal);
        let external = mapped.map_or(internal, String::as_str);
        let wanted = external.trim().to_lowercase();
        let mut positions = names
            .iter()
            .enumerate()
            .filter(|(_, name)| **name == wanted);
        match (positions.next(), positions.next()) {
            (Some(_), Some(_)) => Err(AppError::invalid_input(format!(
                "header line: column '{external}' appears more than once"
            ))),
            (Some((index, _)), None) => Ok(Some(index)),
            (None, _) if required || mapped.is_some() => Err(AppError::invalid_input(format!(
                "header line: no column '{external}' for {internal} (found: {})",
                shown.join(", ")
            ))),
            (None, _) => Ok(None),
        }
    };
    let required = |internal: &str| find(internal, true).map(|index| index.unwrap_or(0));
    Ok(Columns {
        date: required("date")?,
        reference: required("reference")?,
        amount: required("amount")?,
        currency: required("currency")?,
        counterparty: find("counterparty", false)?,
        description: find("description", false)?,
    })
}

impl RecordParser<'_> {
    fn parse(
        &mut self,
        record: &::csv::StringRecord,
        position: u64,
        source_line: u64,
    ) -> AppResult<StatementLine> {
        let currency = self
            .currencies
            .parse(field(record, self.columns.currency))
            .map_err(|error| error.context("field 'currency'"))?;
        let amount_text = field(record, self.columns.amount);
        let amount_minor = parse_amount(amount_text, currency, self.decimal_separator)
            .map_err(|error| error.context("field 'amount'"))?;
        Ok(StatementLine {
            line: position,
            source_line,
            date: self.parse_date(field(record, self.columns.date))?,
            reference: text_field("reference", field(record, self.columns.reference))?,
            amount_minor,
            currency,
            counterparty: optional_text(
                record,
                self.columns.counterparty,
                "counterparty",
                self.details,
            )?,
            description: optional_text(
                record,
                self.columns.description,
                "description",
                self.details,
            )?,
            group: None,
        })
    }

    fn parse_date(&self, text: &str) -> AppResult<NaiveDate> {
        if self.date_format == ISO_DATE_FORMAT {
            // The default format is the date every other way in reads (`clock::parse_date`):
            // exactly `YYYY-MM-DD`, where chrono's `%Y-%m-%d` would also take `2026-11-5`.
            return crate::clock::parse_date(text).map_err(|error| error.context("field 'date'"));
        }
        let mut parsed = Parsed::new();
        chrono::format::parse(&mut parsed, text, self.date_items.iter())
            .and_then(|()| parsed.to_naive_date())
            .map_err(|_| {
                AppError::invalid_input(format!(
                    "field 'date': '{text}' is not a date in format '{}'",
                    self.date_format
                ))
            })
    }
}

fn field(record: &::csv::StringRecord, index: usize) -> &str {
    record.get(index).map_or("", crate::text::trim)
}

fn optional_text(
    record: &::csv::StringRecord,
    index: Option<usize>,
    name: &str,
    details: LineDetails,
) -> AppResult<String> {
    match index {
        Some(index) => detail_field(name, field(record, index), details),
        None => Ok(String::new()),
    }
}

/// Unclosed quotes (`crate::csv_input`), field counts and UTF-8 in the words every CSV reader
/// uses (`crate::input`).
fn csv_error(error: &::csv::Error, line: u64) -> AppError {
    if let Some(quoting) = crate::csv_input::quoting_error(error) {
        return quoting;
    }
    match error.kind() {
        ::csv::ErrorKind::Io(io_error) => {
            AppError::invalid_input(format!("cannot read statement: {io_error}"))
        }
        _ => crate::input::csv_record_error(error, line),
    }
}
