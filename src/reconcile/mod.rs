//! Reconciliation engine: reads a bank statement (CSV, camt.053, MT940) and matches its lines
//! against our ledger movements on the settlement account. The engine (`read_statement`,
//! `match_statement`, `generator`) is pure: no database, no terminal. `run` ties it to the
//! store (runs, items, resolutions); `record` holds the stored shapes.
//!
//! # Decisions where SPEC.md is silent
//!
//! Reading
//! - `StatementLine::line` is the entry's 1-based position in the statement, in file order, the
//!   same for every format (so CSV, camt.053 and MT940 copies of one statement reconcile to the
//!   same result). `StatementLine::source_line` is the physical line in the file where the entry
//!   starts (CSV record, `<Ntry>` tag, `:61:` tag); error messages always name physical lines.
//! - Every problem in a statement is exit 4 ("statement unreadable"). Amounts and currencies are
//!   read by the same functions as flags and import rows (`crate::input`), and keep their codes
//!   (`amount_precision_exceeded`, `invalid_currency`, …); everything else is `invalid_input`.
//! - `read_statement` also checks balances when the statement carries them (camt.053, MT940):
//!   opening + lines must equal closing, otherwise the statement is incomplete and unreadable.
//! - Text fields are trimmed. Longer than `FIELD_LENGTH_MAX` bytes is an error, never truncated.
//! - Reading reports `Statement::account`, it does not check it: which parts of a file belong
//!   to the run's settlement account (its recorded IBAN or bank account string) is decided by
//!   `select::select_account` after reading (rules in `select.rs`).
//! - CSV: headers are matched trimmed and case-insensitively; `counterparty` and `description`
//!   may be absent (empty) unless `--map` names them; blank lines are skipped; a header-only file
//!   is an empty statement; a 0-byte file is an error. With `,` decimals a `.` anywhere in the
//!   amount is rejected (it would be a thousands separator).
//! - camt (camt.052 report, camt.053 statement, camt.054 notification; versions 001.01 to
//!   001.13; default namespace or any prefix; the `Document` at the root or inside an envelope
//!   with its application header): only booked entries count (`Sts` BOOK, `Sts/Cd` BOOK, or no
//!   status); PDNG/INFO/FUTR entries are counted in `pending_entries`, not read as lines,
//!   because the booked balances exclude them. Opening balance OPBD, else PRCD; closing CLBD
//!   (a camt.052 report without one: ITBD); a balance without CdtDbtInd is a credit. CLAV and
//!   other available balances are read past. The line date is BookgDt (Dt or the date part of
//!   DtTm), else ValDt, else the block's `FrToDt/ToDtTm`, its `CreDtTm`, the message's
//!   `GrpHdr/CreDtTm`. An entry with several TxDtls whose amounts (`TxDtls/Amt`, else
//!   `AmtDtls/TxAmt/Amt`, in the entry's currency, signed by their own CdtDbtInd) add up to
//!   the entry becomes one line per transaction, all with the entry's number as `group`;
//!   otherwise it stays one line with the entry's AcctSvcrRef. Reference order per line:
//!   EndToEndId unless `NOTPROVIDED`, the transaction's AcctSvcrRef, the entry's AcctSvcrRef,
//!   InstrId, the remittance text (`Ustrd` lines joined by a space). The counterparty is the
//!   debtor of a credit and the creditor of a debit (`Dbtr/Nm` or `Dbtr/Pty/Nm`, in any
//!   version). Zeros beyond the currency's decimals (`8.850` EUR) are exact; a non-zero digit
//!   there is `amount_precision_exceeded`. Each `Stmt`/`Rpt`/`Ntfctn` is a `StatementPart`
//!   (account, its own balances, `FrToDt` period, its lines); a part with both balances must
//!   balance on its own lines. Parts of several accounts are all returned (`account` and
//!   `balances` of the statement are then `None`); pages of one account span opening of the
//!   first to closing of the last.
//! - MT940 (and MT942, MT950): the line date is the entry (booking) date when given, else the
//!   value date. The reference is the customer reference unless it is `NONREF`, then the
//!   end-to-end id of a structured `:86:` (German `EREF+`, Dutch `/EREF/`; not `NOTPROVIDED`),
//!   then the bank reference after `//`. `RC` (reversal of credit) is money out, `RD` money in.
//!   `:86:` with `?nn` subfields gives description `?20`–`?29` and counterparty `?32`–`?33`
//!   (else `?31`); Dutch `/KEY/` fields give description `/REMI/` and counterparty `/NAME/`
//!   (else ING's `/CNTP/` name, else `/IBAN/`); otherwise it is all description. Lines that
//!   are not UTF-8 are read as ISO 8859-1 (common in bank exports). Each `:20:` message of a
//!   file is a `StatementPart` (its account, balances, lines; no period: MT940 has no from/to)
//!   and must balance on its own; `Statement::account`/`balances` describe the file only when
//!   it is one account in one currency. The variants real banks write are listed in
//!   `statement/mt940.rs`.
//!
//! Matching
//! - References compare trimmed, by Unicode lowercase; blank references never match. Reference
//!   matching ignores dates (a movement booked on another day still matches by reference).
//! - Reference groups: when several ledger movements share a reference, lines with that
//!   reference pair first with a movement within tolerance (closest amount, then closest date,
//!   then lowest transfer id), then with any remaining movement of the group (amount or
//!   currency mismatch). A line left over once its group is used up is `duplicate_external`.
//!   A line whose reference matches no movement goes on to amount/date matching.
//! - Fuzzy matching pairs a line and a movement only when each is the other's only candidate;
//!   every other line with candidates is `ambiguous` (no transfer id). The candidates of an
//!   ambiguous line stay unmatched, so those dated the run date are also `missing_external`:
//!   each side is accounted for exactly once and resolving one never hides the other.
//!   Fuzzy pairs are listed in `MatchResult::fuzzy_matches` for audit.
//! - Grouped matches: what is left of a reference group after one-to-one pairing (lines and
//!   movements, more than one on a side) settles as a whole when its sums agree within the
//!   tolerance (a payout net of its fee; an invoice paid in parts), dates aside like every
//!   reference match. Then lines the bank booked as one entry (camt batch, same `group`), none
//!   matched by reference, settle the one open movement of their total within the date window
//!   when exactly one fits. Both count as `matched_grouped` (lines) and `grouped_entries`
//!   (movements).
//! - Runs cover days (`RunDays`): movements dated on them must be accounted for; movements of
//!   neighbouring days within the window are candidates only.
//! - When two lines tie for a movement, the one earlier in the statement (`line`) pairs first.
//! - `difference` is external − internal with an absent side counted as zero (so the sum of
//!   differences is the unexplained money), and `None` for `currency_mismatch`.
//! - `internal_entries` counts the movements dated on the run's days plus the movements from other
//!   days that matched a line; statement_lines = matched + matched_fuzzy + amount_mismatch +
//!   currency_mismatch + duplicate_external + ambiguous + missing_internal, and
//!   internal_entries = matched + matched_fuzzy + amount_mismatch + currency_mismatch +
//!   missing_external.
//! - Negative tolerance or window are treated as zero; the caller validates user input.
//! - Items are sorted by kind (declaration order of `BreakKind`), reference, statement line,
//!   transfer id, so a re-run gives the same list.
//! - Lines meet movements by a sort-merge join on a compact image of the reference rather than
//!   a hash table: on a million lines each hash probe is a cache miss, the join reads in order.

mod matching;
mod period;
pub(crate) mod record;
mod reference;
pub(crate) mod rules;
mod select;
mod statement;
#[cfg(test)]
mod tests;

pub(crate) use statement::LineDetails;

pub use select::{part_belongs_to, select_account, Selection, SkippedPart};

pub use matching::{
    match_statement, BreakItem, BreakKind, FuzzyMatch, GroupedMatch, InternalMovement,
    MatchOptions, MatchResult, RunDays,
};
pub use period::{closing_balances, statement_period, statement_period_with};

use crate::error::{AppError, AppResult};
use crate::money::{format_minor_wide, Currency};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::Path;
use std::str::FromStr;

/// Most statement lines accepted in one file; beyond this it is not a daily statement.
pub(crate) const STATEMENT_LINES_MAX: u64 = 5_000_000;
/// Longest text field (reference, counterparty, description, XML text) in bytes.
pub(crate) const FIELD_LENGTH_MAX: usize = 4096;
/// Deepest XML element nesting accepted (camt.053 needs about 12).
pub(crate) const XML_DEPTH_MAX: usize = 64;
/// Bytes looked at to detect the format of a statement.
pub(crate) const DETECT_BYTES_MAX: usize = 64 * 1024;
/// Progress is reported at most once per this many bytes read.
pub(crate) const PROGRESS_STEP_BYTES: u64 = 1 << 20;

/// Internal column names of a CSV statement, in default order.
pub const CSV_COLUMNS: [&str; 6] = [
    "date",
    "reference",
    "amount",
    "currency",
    "counterparty",
    "description",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputFormat {
    Auto,
    Csv,
    Camt053,
    Mt940,
}

impl InputFormat {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            InputFormat::Auto => "auto",
            InputFormat::Csv => "csv",
            InputFormat::Camt053 => "camt053",
            InputFormat::Mt940 => "mt940",
        }
    }
}

impl fmt::Display for InputFormat {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for InputFormat {
    type Err = AppError;
    fn from_str(text: &str) -> AppResult<InputFormat> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(InputFormat::Auto),
            "csv" => Ok(InputFormat::Csv),
            "camt053" => Ok(InputFormat::Camt053),
            "mt940" => Ok(InputFormat::Mt940),
            _ => Err(AppError::invalid_input(format!(
                "input format '{text}' is not one of: auto, csv, camt053, mt940"
            ))),
        }
    }
}

/// How to read a CSV statement. `Default` is the spec's CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    /// Internal column name -> header in the file; unmapped columns keep their internal name.
    pub columns: HashMap<String, String>,
    /// chrono format of the date column.
    pub date_format: String,
    /// `.` or `,`.
    pub decimal_separator: char,
    /// `b','` or `b';'`.
    pub delimiter: u8,
}

impl Default for CsvOptions {
    fn default() -> CsvOptions {
        CsvOptions {
            columns: HashMap::new(),
            date_format: "%Y-%m-%d".to_string(),
            decimal_separator: '.',
            delimiter: b',',
        }
    }
}

impl CsvOptions {
    /// Parse `--map date=Booking Date,amount=Betrag` into internal -> external names.
    pub fn parse_map(text: &str) -> AppResult<HashMap<String, String>> {
        let mut columns = HashMap::new();
        for pair in text.split(',').filter(|pair| !pair.trim().is_empty()) {
            let (internal, external) = pair.split_once('=').ok_or_else(|| {
                AppError::invalid_input(format!("--map entry '{pair}' is not internal=external"))
            })?;
            let internal = internal.trim().to_ascii_lowercase();
            let external = external.trim();
            if !CSV_COLUMNS.contains(&internal.as_str()) {
                return Err(AppError::invalid_input(format!(
                    "--map: unknown column '{internal}' (known: {})",
                    CSV_COLUMNS.join(", ")
                )));
            }
            if external.is_empty() {
                return Err(AppError::invalid_input(format!(
                    "--map: column '{internal}' is mapped to an empty header"
                )));
            }
            if columns
                .insert(internal.clone(), external.to_string())
                .is_some()
            {
                return Err(AppError::invalid_input(format!(
                    "--map: column '{internal}' is mapped twice"
                )));
            }
        }
        Ok(columns)
    }

    /// Reject separator combinations that cannot be read unambiguously.
    fn validate(&self) -> AppResult<()> {
        if !matches!(self.decimal_separator, '.' | ',') {
            return Err(AppError::invalid_input(format!(
                "decimal separator '{}' is not '.' or ','",
                self.decimal_separator
            )));
        }
        if !matches!(self.delimiter, b',' | b';' | b'\t' | b'|') {
            return Err(AppError::invalid_input(format!(
                "CSV delimiter '{}' is not one of , ; tab |",
                self.delimiter.escape_ascii()
            )));
        }
        Ok(())
    }
}

/// One booked entry of the statement, amount signed from the bank's side (+ money in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementLine {
    /// 1-based position of the entry in the statement (same for every format).
    pub line: u64,
    /// Physical line in the file where the entry starts.
    pub source_line: u64,
    pub date: NaiveDate,
    pub reference: String,
    pub amount_minor: i64,
    pub currency: Currency,
    pub counterparty: String,
    pub description: String,
    /// Lines read from one bank entry that books several transactions (a camt batch entry
    /// with several `TxDtls`) share the entry's number here (1-based, in file order); a line
    /// that is a whole entry has none.
    pub group: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementBalances {
    pub(crate) opening_minor: i64,
    pub(crate) closing_minor: i64,
    pub(crate) currency: Currency,
    pub(crate) closing_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The format actually read, never `Auto`.
    pub format: InputFormat,
    /// The bank's account identifier (IBAN, other id, MT940 `:25:`), when the format has one.
    pub account: Option<String>,
    /// Opening and closing booked balances, when the format has them.
    pub balances: Option<StatementBalances>,
    pub lines: Vec<StatementLine>,
    /// The blocks of the file (camt `Stmt`/`Rpt`/`Ntfctn`), each with its account, balances
    /// and lines; empty for formats that do not say (CSV). With parts of several accounts,
    /// `account` and `balances` above are `None`.
    pub parts: Vec<StatementPart>,
    /// Entries that are not booked (pending, information): counted, not read as lines.
    pub pending_entries: u64,
}

impl Statement {
    /// The distinct bank accounts of its parts (MT940 `:25:`, camt `Acct`), in file order.
    pub fn part_accounts(&self) -> Vec<&str> {
        let mut accounts: Vec<&str> = Vec::new();
        for account in self.parts.iter().filter_map(|part| part.account.as_deref()) {
            if !accounts.contains(&account) {
                accounts.push(account);
            }
        }
        accounts
    }
}

/// One block of a statement file: one account's statement, report or notification page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementPart {
    /// The bank's account identifier (IBAN or other id).
    pub account: Option<String>,
    /// This block's own opening and closing booked balances.
    pub balances: Option<StatementBalances>,
    /// From/to dates the block says it covers (`FrToDt`).
    pub period: Option<(NaiveDate, NaiveDate)>,
    /// Its lines: indexes into `Statement::lines`.
    pub lines: std::ops::Range<usize>,
    /// Entries of this block that are not booked.
    pub pending_entries: u64,
}

/// Read and check a statement file. `on_progress` receives the bytes read so far, about once per
/// `PROGRESS_STEP_BYTES` and once at the end. Balances, when present, are verified.
pub fn read_statement(
    path: &Path,
    format: InputFormat,
    options: &CsvOptions,
    on_progress: &mut dyn FnMut(u64),
) -> AppResult<Statement> {
    read_statement_with(path, format, options, LineDetails::Keep, on_progress)
}

/// `read_statement`, keeping or skipping each line's counterparty and description (matching
/// needs neither; they are validated either way).
#[tracing::instrument(name = "reconcile.read_statement", skip_all, fields(format = %format))]
pub(crate) fn read_statement_with(
    path: &Path,
    format: InputFormat,
    options: &CsvOptions,
    details: LineDetails,
    on_progress: &mut dyn FnMut(u64),
) -> AppResult<Statement> {
    let place = path.display();
    let mut file = File::open(path)
        .map_err(|error| AppError::invalid_input(format!("cannot open statement: {error}")))
        .map_err(|error| error.context(&place))?;
    let resolved = match format {
        InputFormat::Auto => {
            statement::detect::detect_format(&mut file).map_err(|error| error.context(&place))?
        }
        explicit => explicit,
    };
    file.seek(SeekFrom::Start(0))?;
    let input_bytes = file.metadata().map_or(0, |metadata| metadata.len());
    let input = statement::ProgressReader::new(file, on_progress);
    let statement = match resolved {
        InputFormat::Csv => options
            .validate()
            .and_then(|()| statement::csv::read(input, options, details, input_bytes)),
        InputFormat::Camt053 => statement::camt053::read(input, details),
        InputFormat::Mt940 => statement::mt940::read(input, details),
        InputFormat::Auto => unreachable!("detect_format never answers Auto"),
    }
    .map_err(|error| error.context(&place))?;
    check_balances(&statement).map_err(|error| error.context(&place))?;
    Ok(statement)
}

/// Opening balance + the sum of the lines must equal the closing balance. A statement without
/// balances (CSV) passes. When the file's parts carry balances, each part must balance on its
/// own lines (pages with a gap between them still do); otherwise the statement as a whole.
pub(crate) fn check_balances(statement: &Statement) -> AppResult<()> {
    let mut checked = false;
    for (index, part) in statement.parts.iter().enumerate() {
        let (Some(balances), Some(lines)) =
            (&part.balances, statement.lines.get(part.lines.clone()))
        else {
            continue;
        };
        checked = true;
        check_lines_balance(balances, lines).map_err(|error| {
            let account = part.account.as_deref().unwrap_or("no account id");
            error.context(format_args!("statement part {} ({account})", index + 1))
        })?;
    }
    match &statement.balances {
        Some(balances) if !checked => check_lines_balance(balances, &statement.lines),
        _ => Ok(()),
    }
}

pub(crate) fn check_lines_balance(
    balances: &StatementBalances,
    lines: &[StatementLine],
) -> AppResult<()> {
    let mut movements_minor: i128 = 0;
    for line in lines {
        if line.currency != balances.currency {
            return Err(AppError::invalid_input(format!(
                "statement line {} is in {}, but the balances are in {}",
                line.line, line.currency, balances.currency
            )));
        }
        movements_minor += i128::from(line.amount_minor);
    }
    let computed_minor = i128::from(balances.opening_minor) + movements_minor;
    if computed_minor == i128::from(balances.closing_minor) {
        return Ok(());
    }
    let units = balances.currency.minor_units();
    let show = |minor: i128| format_minor_wide(minor, units);
    Err(AppError::invalid_input(format!(
        "statement does not balance: opening {} + movements {} = {} {}, but the closing balance is {} {} (difference {})",
        show(balances.opening_minor.into()),
        show(movements_minor),
        show(computed_minor),
        balances.currency,
        show(balances.closing_minor.into()),
        balances.currency,
        show(computed_minor - i128::from(balances.closing_minor)),
    )))
}
