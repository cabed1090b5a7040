//! Deterministic synthetic reconciliation data whose outcome is known by construction, for
//! tests and benchmarks; plus CSV writers/readers for statements and internal movements.
//!
//! Each "case" is one scenario (an exact match, a fuzzy match, one break, ...). Cases get
//! amounts in disjoint bands (`AMOUNT_STEP_MINOR` apart, far wider than the tolerance), so lines
//! and movements left over for amount/date matching can only meet inside their own case.

use crate::random::{Draw, XorShift64Star, GOLDEN_GAMMA};
use chrono::{NaiveDate, TimeDelta};
use fincore::error::{AppError, AppResult};
use fincore::money::Currency;
use fincore::reconcile::{BreakKind, InternalMovement, MatchOptions, MatchResult, StatementLine};
use std::path::Path;

/// Tolerance and window the generated data is designed for.
pub const GENERATED_TOLERANCE_MINOR: i64 = 5;
pub const GENERATED_WINDOW_DAYS: i64 = 2;
/// Width of each case's amount band, and the random part inside it.
const AMOUNT_STEP_MINOR: i64 = 1_000;
const AMOUNT_JITTER_MINOR: u64 = 500;
/// Largest extra amount of an amount mismatch beyond the tolerance (keeps the sign).
const MISMATCH_EXTRA_MAX_MINOR: u64 = 500;
/// Case weights per thousand; the remainder are exact reference matches.
const WEIGHTS_PER_MILLE: [(CaseKind, u64); 10] = [
    (CaseKind::MissingInternal, 10),
    (CaseKind::MissingExternal, 10),
    (CaseKind::AmountMismatch, 10),
    (CaseKind::Duplicate, 10),
    (CaseKind::Ambiguous, 10),
    (CaseKind::CurrencyMismatch, 10),
    (CaseKind::Fuzzy, 30),
    (CaseKind::WithinTolerance, 30),
    (CaseKind::CrossDate, 20),
    (CaseKind::Noise, 10),
];
const FIRST_TRANSFER_ID: i64 = 1_000_001;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExpectedCounts {
    pub statement_lines: u64,
    pub internal_entries: u64,
    pub matched: u64,
    pub matched_fuzzy: u64,
    pub missing_internal: u64,
    pub missing_external: u64,
    pub amount_mismatch: u64,
    pub duplicate_external: u64,
    pub ambiguous: u64,
    pub currency_mismatch: u64,
}

impl ExpectedCounts {
    /// The same counts taken from a match result, to compare with `assert_eq!`.
    pub fn from_result(result: &MatchResult) -> ExpectedCounts {
        ExpectedCounts {
            statement_lines: result.statement_lines,
            internal_entries: result.internal_entries,
            matched: result.matched,
            matched_fuzzy: result.matched_fuzzy,
            missing_internal: result.count(BreakKind::MissingInternal),
            missing_external: result.count(BreakKind::MissingExternal),
            amount_mismatch: result.count(BreakKind::AmountMismatch),
            duplicate_external: result.count(BreakKind::DuplicateExternal),
            ambiguous: result.count(BreakKind::Ambiguous),
            currency_mismatch: result.count(BreakKind::CurrencyMismatch),
        }
    }

    pub fn count(&self, kind: BreakKind) -> u64 {
        match kind {
            BreakKind::MissingInternal => self.missing_internal,
            BreakKind::MissingExternal => self.missing_external,
            BreakKind::AmountMismatch => self.amount_mismatch,
            BreakKind::DuplicateExternal => self.duplicate_external,
            BreakKind::Ambiguous => self.ambiguous,
            BreakKind::CurrencyMismatch => self.currency_mismatch,
            // Matching compares lines with movements, never balances.
            BreakKind::BalanceMismatch => 0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Generated {
    pub internal: Vec<InternalMovement>,
    pub statement: Vec<StatementLine>,
    pub expected: ExpectedCounts,
    /// The options `expected` holds for.
    pub options: MatchOptions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CaseKind {
    Exact,
    WithinTolerance,
    CrossDate,
    Fuzzy,
    MissingInternal,
    MissingExternal,
    AmountMismatch,
    Duplicate,
    Ambiguous,
    CurrencyMismatch,
    Noise,
}

/// The generator's stream for `seed` (xorshift64* may not start from 0).
fn seeded(seed: u64) -> XorShift64Star {
    XorShift64Star::new(match seed ^ GOLDEN_GAMMA {
        0 => 0x2545_F491_4F6C_DD1D,
        state => state,
    })
}

struct Builder {
    random: XorShift64Star,
    run_date: NaiveDate,
    currency: Currency,
    other_currency: Currency,
    case_number: u64,
    next_transfer_id: i64,
    internal: Vec<InternalMovement>,
    statement: Vec<StatementLine>,
    expected: ExpectedCounts,
}

/// Generate `lines` statement lines and their ledger movements for `run_date`.
pub fn generate(seed: u64, lines: usize, run_date: NaiveDate, currency: Currency) -> Generated {
    let mut builder = Builder::new(seed, run_date, currency, lines);
    while builder.statement.len() < lines {
        let remaining = lines - builder.statement.len();
        let kind = builder.pick_kind(remaining);
        builder.add_case(kind);
        builder.case_number += 1;
    }
    builder.finish()
}

/// Lines and movements of several booking days, as one bank statement over a period has them.
#[derive(Debug, Clone)]
pub struct GeneratedPeriod {
    pub internal: Vec<InternalMovement>,
    /// In date order (the order of `days`), shuffled within each day, numbered from 1.
    pub statement: Vec<StatementLine>,
}

/// `generate` for several days at once: `days` lists each booking day with its number of
/// statement lines, and each day gets the cases `generate` would give a run of that day, with
/// amount bands, references and transfer ids unique over the whole period (so no case meets
/// another day's case except through the dates of its own movements). No ground truth: which
/// movements a run counts depends on the run's dates, so the caller asks the engine.
pub fn generate_period(
    seed: u64,
    days: &[(NaiveDate, usize)],
    currency: Currency,
) -> GeneratedPeriod {
    let total: usize = days.iter().map(|(_, lines)| lines).sum();
    let mut builder = Builder::new(
        seed,
        days.first().map_or(NaiveDate::MIN, |(day, _)| *day),
        currency,
        total,
    );
    for &(day, lines) in days {
        builder.run_date = day;
        let first = builder.statement.len();
        while builder.statement.len() - first < lines {
            let remaining = lines - (builder.statement.len() - first);
            let kind = builder.pick_kind(remaining);
            builder.add_case(kind);
            builder.case_number += 1;
        }
        shuffle(&mut builder.random, &mut builder.statement[first..]);
    }
    shuffle(&mut builder.random, &mut builder.internal);
    number_lines(&mut builder.statement);
    GeneratedPeriod {
        internal: builder.internal,
        statement: builder.statement,
    }
}

/// Statement positions from 1 in slice order, source lines after a CSV header.
pub fn number_lines(lines: &mut [StatementLine]) {
    for (index, line) in lines.iter_mut().enumerate() {
        line.line = index as u64 + 1;
        line.source_line = index as u64 + 2;
    }
}

impl Builder {
    fn new(seed: u64, run_date: NaiveDate, currency: Currency, lines: usize) -> Builder {
        let other_code = if currency.code() == "USD" {
            "EUR"
        } else {
            "USD"
        };
        Builder {
            random: seeded(seed),
            run_date,
            currency,
            other_currency: Currency::parse(other_code)
                .expect("USD and EUR are ISO 4217 currencies"),
            case_number: 0,
            next_transfer_id: FIRST_TRANSFER_ID,
            internal: Vec::with_capacity(lines + lines / 20),
            statement: Vec::with_capacity(lines),
            expected: ExpectedCounts::default(),
        }
    }

    fn pick_kind(&mut self, remaining_lines: usize) -> CaseKind {
        let mut roll = self.random.below(1000);
        for (kind, weight) in WEIGHTS_PER_MILLE {
            if roll < weight {
                // Two-line cases cannot fill the last slot.
                let two_lines = matches!(kind, CaseKind::Duplicate | CaseKind::Ambiguous);
                return if two_lines && remaining_lines < 2 {
                    CaseKind::Exact
                } else {
                    kind
                };
            }
            roll -= weight;
        }
        CaseKind::Exact
    }

    fn add_case(&mut self, kind: CaseKind) {
        match kind {
            CaseKind::Exact => self.add_exact(),
            CaseKind::WithinTolerance => self.add_within_tolerance(),
            CaseKind::CrossDate => self.add_cross_date(),
            CaseKind::Fuzzy => self.add_fuzzy(),
            CaseKind::MissingInternal => self.add_missing_internal(),
            CaseKind::MissingExternal => self.add_missing_external(),
            CaseKind::AmountMismatch => self.add_amount_mismatch(),
            CaseKind::Duplicate => self.add_duplicate(),
            CaseKind::Ambiguous => self.add_ambiguous(),
            CaseKind::CurrencyMismatch => self.add_currency_mismatch(),
            CaseKind::Noise => self.add_noise(),
        }
    }

    /// This case's amount band: unique magnitude, random sign.
    fn amount(&mut self) -> i64 {
        let magnitude = (self.case_number as i64 + 1) * AMOUNT_STEP_MINOR
            + self.random.below(AMOUNT_JITTER_MINOR) as i64;
        if self.random.per_mille(500) {
            -magnitude
        } else {
            magnitude
        }
    }

    fn reference(&self, prefix: &str) -> String {
        format!("{prefix}-{:08}", self.case_number)
    }

    fn day(&self, offset_days: i64) -> NaiveDate {
        self.run_date + TimeDelta::days(offset_days)
    }

    /// A day inside the window other than the run date.
    fn neighbour_day(&mut self) -> NaiveDate {
        let distance = self.random.between(1, GENERATED_WINDOW_DAYS);
        let offset = if self.random.per_mille(500) {
            -distance
        } else {
            distance
        };
        self.day(offset)
    }

    fn movement(&mut self, reference: String, amount_minor: i64, date: NaiveDate) {
        self.internal.push(InternalMovement {
            transfer_id: self.next_transfer_id,
            date,
            reference,
            amount_minor,
            currency: self.currency,
        });
        self.next_transfer_id += 1;
        if date == self.run_date {
            self.expected.internal_entries += 1;
        }
    }

    fn line(&mut self, reference: String, amount_minor: i64, currency: Currency) {
        let number = self.case_number;
        self.statement.push(StatementLine {
            line: 0,
            source_line: 0,
            date: self.run_date,
            reference,
            amount_minor,
            currency,
            counterparty: format!("Customer {}", number % 997),
            description: format!("Invoice {number}"),
            group: None,
        });
        self.expected.statement_lines += 1;
    }

    fn add_exact(&mut self) {
        let reference = self.reference("INV");
        let amount = self.amount();
        // Some banks change the case of references; matching must not care.
        let shown = if self.random.per_mille(100) {
            reference.to_lowercase()
        } else {
            reference.clone()
        };
        self.movement(reference, amount, self.run_date);
        self.line(shown, amount, self.currency);
        self.expected.matched += 1;
    }

    fn add_within_tolerance(&mut self) {
        let reference = self.reference("TOL");
        let amount = self.amount();
        let mut difference = self
            .random
            .between(-GENERATED_TOLERANCE_MINOR, GENERATED_TOLERANCE_MINOR);
        if difference == 0 {
            difference = GENERATED_TOLERANCE_MINOR;
        }
        self.movement(reference.clone(), amount, self.run_date);
        self.line(reference, amount + difference, self.currency);
        self.expected.matched += 1;
    }

    /// Booked by us on a neighbouring day: still matched by reference, and counted.
    fn add_cross_date(&mut self) {
        let reference = self.reference("XDT");
        let amount = self.amount();
        let date = self.neighbour_day();
        self.movement(reference.clone(), amount, date);
        self.line(reference, amount, self.currency);
        self.expected.matched += 1;
        self.expected.internal_entries += 1;
    }

    fn add_fuzzy(&mut self) {
        let amount = self.amount();
        let difference = self
            .random
            .between(-GENERATED_TOLERANCE_MINOR, GENERATED_TOLERANCE_MINOR);
        let offset = self
            .random
            .between(-GENERATED_WINDOW_DAYS, GENERATED_WINDOW_DAYS);
        let date = self.day(offset);
        self.movement(self.reference("FZI"), amount + difference, date);
        let bank_reference = if self.random.per_mille(500) {
            self.reference("BNK")
        } else {
            String::new()
        };
        self.line(bank_reference, amount, self.currency);
        self.expected.matched_fuzzy += 1;
        if offset != 0 {
            self.expected.internal_entries += 1;
        }
    }

    fn add_missing_internal(&mut self) {
        let amount = self.amount();
        self.line(self.reference("MIN"), amount, self.currency);
        self.expected.missing_internal += 1;
    }

    fn add_missing_external(&mut self) {
        let amount = self.amount();
        self.movement(self.reference("MEX"), amount, self.run_date);
        self.expected.missing_external += 1;
    }

    fn add_amount_mismatch(&mut self) {
        let reference = self.reference("AMM");
        let amount = self.amount();
        let extra =
            GENERATED_TOLERANCE_MINOR + 1 + self.random.below(MISMATCH_EXTRA_MAX_MINOR) as i64;
        let difference = if self.random.per_mille(500) {
            -extra
        } else {
            extra
        };
        self.movement(reference.clone(), amount, self.run_date);
        self.line(reference, amount + difference, self.currency);
        self.expected.amount_mismatch += 1;
    }

    fn add_duplicate(&mut self) {
        let reference = self.reference("DUP");
        let amount = self.amount();
        self.movement(reference.clone(), amount, self.run_date);
        self.line(reference.clone(), amount, self.currency);
        self.line(reference, amount, self.currency);
        self.expected.matched += 1;
        self.expected.duplicate_external += 1;
    }

    /// Either one line with two candidate movements, or two lines competing for one movement.
    /// The candidates stay unmatched; those on the run date are also missing on the statement.
    fn add_ambiguous(&mut self) {
        let amount = self.amount();
        let close = |random: &mut XorShift64Star| random.between(0, GENERATED_TOLERANCE_MINOR / 2);
        if self.random.per_mille(500) {
            let second_offset = self
                .random
                .between(-GENERATED_WINDOW_DAYS, GENERATED_WINDOW_DAYS);
            let second_date = self.day(second_offset);
            let first_amount = amount + close(&mut self.random);
            let second_amount = amount + close(&mut self.random);
            self.movement(self.reference("AMA"), first_amount, self.run_date);
            self.movement(self.reference("AMB"), second_amount, second_date);
            self.line(String::new(), amount, self.currency);
            self.expected.ambiguous += 1;
            self.expected.missing_external += 1 + u64::from(second_date == self.run_date);
        } else {
            let movement_amount = amount + close(&mut self.random);
            let second_line_amount = amount + close(&mut self.random);
            self.movement(self.reference("AMC"), movement_amount, self.run_date);
            self.line(String::new(), amount, self.currency);
            self.line(String::new(), second_line_amount, self.currency);
            self.expected.ambiguous += 2;
            self.expected.missing_external += 1;
        }
    }

    fn add_currency_mismatch(&mut self) {
        let reference = self.reference("CUR");
        let amount = self.amount();
        self.movement(reference.clone(), amount, self.run_date);
        self.line(reference, amount, self.other_currency);
        self.expected.currency_mismatch += 1;
    }

    /// A movement of a neighbouring day with no line: belongs to another run, never reported.
    fn add_noise(&mut self) {
        let amount = self.amount();
        let date = self.neighbour_day();
        self.movement(self.reference("NOI"), amount, date);
    }

    fn finish(mut self) -> Generated {
        shuffle(&mut self.random, &mut self.statement);
        shuffle(&mut self.random, &mut self.internal);
        number_lines(&mut self.statement);
        Generated {
            internal: self.internal,
            statement: self.statement,
            expected: self.expected,
            options: MatchOptions::one_day(
                self.run_date,
                GENERATED_TOLERANCE_MINOR,
                GENERATED_WINDOW_DAYS,
            ),
        }
    }
}

/// Fisher–Yates, so the order of the input carries no hint.
fn shuffle<T>(random: &mut XorShift64Star, items: &mut [T]) {
    for index in (1..items.len()).rev() {
        let other = random.below(index as u64 + 1) as usize;
        items.swap(index, other);
    }
}

fn write_error(path: &Path, error: impl std::fmt::Display) -> AppError {
    AppError::invalid_input(format!("cannot write {}: {error}", path.display()))
}

/// Write statement lines as a spec CSV statement (`date,reference,amount,currency,counterparty,description`).
pub fn write_csv(path: &Path, lines: &[StatementLine]) -> AppResult<()> {
    let mut writer = csv::Writer::from_path(path).map_err(|error| write_error(path, error))?;
    writer
        .write_record(fincore::reconcile::CSV_COLUMNS)
        .map_err(|error| write_error(path, error))?;
    for line in lines {
        let date = line.date.format("%Y-%m-%d").to_string();
        let amount = line.currency.format(line.amount_minor);
        let record = [
            date.as_str(),
            &line.reference,
            &amount,
            line.currency.code(),
            &line.counterparty,
            &line.description,
        ];
        writer
            .write_record(record)
            .map_err(|error| write_error(path, error))?;
    }
    writer.flush().map_err(|error| write_error(path, error))
}

/// Columns of an internal movements file.
pub const INTERNAL_CSV_COLUMNS: [&str; 5] =
    ["transfer_id", "date", "reference", "amount", "currency"];

pub fn write_internal_csv(path: &Path, movements: &[InternalMovement]) -> AppResult<()> {
    let mut writer = csv::Writer::from_path(path).map_err(|error| write_error(path, error))?;
    writer
        .write_record(INTERNAL_CSV_COLUMNS)
        .map_err(|error| write_error(path, error))?;
    for movement in movements {
        let record = [
            movement.transfer_id.to_string(),
            movement.date.format("%Y-%m-%d").to_string(),
            movement.reference.clone(),
            movement.currency.format(movement.amount_minor),
            movement.currency.code().to_string(),
        ];
        writer
            .write_record(&record)
            .map_err(|error| write_error(path, error))?;
    }
    writer.flush().map_err(|error| write_error(path, error))
}

/// Read `transfer_id,date,reference,amount,currency` (fixtures, benchmarks).
pub fn read_internal_csv(path: &Path) -> AppResult<Vec<InternalMovement>> {
    let place = path.display();
    let file = std::fs::File::open(path)
        .map_err(|error| AppError::invalid_input(format!("{place}: {error}")))?;
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(
        fincore::csv_input::Checked::new(std::io::BufReader::new(file), b','),
    );
    let csv_error = |error: csv::Error| {
        fincore::csv_input::quoting_error(&error)
            .unwrap_or_else(|| AppError::invalid_input(error.to_string()))
            .context(&place)
    };
    let headers = reader.headers().map_err(csv_error)?;
    if headers.iter().ne(INTERNAL_CSV_COLUMNS) {
        return Err(AppError::invalid_input(format!(
            "{place}: header must be {}",
            INTERNAL_CSV_COLUMNS.join(",")
        )));
    }
    let mut movements = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let line = record.position().map_or(0, |position| position.line());
        let movement = parse_internal_record(&record)
            .map_err(|error| error.context(format_args!("{place}: line {line}")))?;
        movements.push(movement);
    }
    Ok(movements)
}

fn parse_internal_record(record: &csv::StringRecord) -> AppResult<InternalMovement> {
    let field = |index: usize| record.get(index).unwrap_or_default();
    let transfer_id = field(0).parse().map_err(|_| {
        AppError::invalid_input(format!("transfer_id '{}' is not an integer", field(0)))
    })?;
    let currency = Currency::parse(field(4))?;
    Ok(InternalMovement {
        transfer_id,
        date: fincore::clock::parse_date(field(1))?,
        reference: field(2).to_string(),
        amount_minor: currency.parse_signed(field(3))?,
        currency,
    })
}

const MILLIS_PER_DAY: i64 = 86_400_000;

/// Write movements as a `transfer import` file that books each one on `settlement` against
/// `counterparty`: a positive amount debits the settlement account (money in), a negative one
/// credits it. Rows are in transfer id order, so the ledger numbers them in the same order and
/// every tie the matcher breaks by transfer id falls the same way. Booking times grow with the
/// transfer id within each date (as a ledger posted in time order has them), spread over the day.
pub fn write_transfers_csv(
    path: &Path,
    movements: &[InternalMovement],
    settlement: &str,
    counterparty: &str,
) -> AppResult<()> {
    let mut ordered: Vec<&InternalMovement> = movements.iter().collect();
    ordered.sort_by_key(|movement| movement.transfer_id);
    let first_id = ordered.first().map_or(0, |movement| movement.transfer_id);
    let last_id = ordered.last().map_or(0, |movement| movement.transfer_id);
    let step_ms = (MILLIS_PER_DAY / (last_id - first_id + 1)).max(1);
    let file = std::fs::File::create(path).map_err(|error| write_error(path, error))?;
    let mut writer = csv::Writer::from_writer(std::io::BufWriter::with_capacity(1 << 20, file));
    writer
        .write_record(fincore::service::transfer_import::IMPORT_COLUMNS)
        .map_err(|error| write_error(path, error))?;
    for movement in ordered {
        let (from, to) = if movement.amount_minor >= 0 {
            (settlement, counterparty)
        } else {
            (counterparty, settlement)
        };
        let millis = ((movement.transfer_id - first_id) * step_ms).min(MILLIS_PER_DAY - 1);
        let at = format!(
            "{}T{:02}:{:02}:{:02}.{:03}Z",
            movement.date.format("%Y-%m-%d"),
            millis / 3_600_000,
            millis / 60_000 % 60,
            millis / 1000 % 60,
            millis % 1000
        );
        let key = format!("m{}", movement.transfer_id);
        let amount = movement
            .currency
            .format(movement.amount_minor.saturating_abs());
        let record = [
            key.as_str(),
            from,
            to,
            &amount,
            movement.currency.code(),
            &at,
            &movement.reference,
            "",
        ];
        writer
            .write_record(record)
            .map_err(|error| write_error(path, error))?;
    }
    writer.flush().map_err(|error| write_error(path, error))
}
