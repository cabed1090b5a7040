//! ISO 20022 camt.053 (bank-to-customer statement), versions 001.02 and 001.08, read as a stream
//! of XML events: only the current element path and the entry being built are in memory.
//! The namespace of the root `Document` decides the version, and the version decides the two
//! shapes that differ: entry status (`Sts` vs `Sts/Cd`) and party names (`Dbtr/Nm` vs
//! `Dbtr/Pty/Nm`).

use super::super::{
    InputFormat, Statement, StatementBalances, StatementLine, FIELD_LENGTH_MAX, XML_DEPTH_MAX,
};
use super::{check_line_count, detail_field, text_field, CurrencyCache, LineDetails};
use crate::error::{AppError, AppResult};
use crate::money::Currency;
use chrono::NaiveDate;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use std::io::{BufRead, BufReader, Read};

const NAMESPACE_PREFIX: &str = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.";
/// SEPA placeholder for "the payer gave no end-to-end reference".
const END_TO_END_NOT_PROVIDED: &str = "NOTPROVIDED";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V02,
    V08,
}

/// Which namespace an element is in, as far as this reader cares.
enum ElementNamespace {
    Camt(Version),
    UnsupportedCamt(String),
    Other(String),
}

fn classify(namespace: &ResolveResult<'_>) -> ElementNamespace {
    let ResolveResult::Bound(namespace) = namespace else {
        return ElementNamespace::Other(String::new());
    };
    let text: &str = namespace.as_ref();
    match text.strip_prefix(NAMESPACE_PREFIX) {
        Some("02") => ElementNamespace::Camt(Version::V02),
        Some("08") => ElementNamespace::Camt(Version::V08),
        Some(_) => ElementNamespace::UnsupportedCamt(text.to_string()),
        None => ElementNamespace::Other(text.to_string()),
    }
}

/// Counts the newlines the XML parser has consumed, so entries and errors can name a line.
struct LineCountingReader<R> {
    inner: R,
    newlines: u64,
    last_byte: Option<u8>,
}

impl<R> LineCountingReader<R> {
    /// The line being read; at the end of a file that ends with a newline, its last line.
    fn current_line(&self) -> u64 {
        self.newlines + 1 - u64::from(self.last_byte == Some(b'\n') && self.newlines > 0)
    }
}

impl<R: BufRead> Read for LineCountingReader<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let count = self.inner.read(buffer)?;
        self.newlines += count_newlines(&buffer[..count]);
        self.last_byte = buffer[..count].last().copied().or(self.last_byte);
        Ok(count)
    }
}

impl<R: BufRead> BufRead for LineCountingReader<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        // fill_buf after a fill_buf returns the same buffered bytes without reading.
        if let Ok(buffered) = self.inner.fill_buf() {
            let consumed = &buffered[..amount.min(buffered.len())];
            self.newlines += count_newlines(consumed);
            self.last_byte = consumed.last().copied().or(self.last_byte);
        }
        self.inner.consume(amount);
    }
}

fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|byte| **byte == b'\n').count() as u64
}

#[derive(Default)]
struct BalanceBuilder {
    code: Option<String>,
    currency: Option<String>,
    amount: Option<String>,
    credit_debit: Option<String>,
    date: Option<String>,
}

#[derive(Debug, Clone, Copy)]
struct Balance {
    amount_minor: i64,
    currency: Currency,
    date: Option<NaiveDate>,
}

#[derive(Default)]
struct EntryBuilder {
    source_line: u64,
    currency: Option<String>,
    amount: Option<String>,
    credit_debit: Option<String>,
    status: Option<String>,
    booking_date: Option<String>,
    value_date: Option<String>,
    account_servicer_reference: Option<String>,
    transactions: u32,
    end_to_end_id: Option<String>,
    debtor_name: Option<String>,
    creditor_name: Option<String>,
    remittance: Vec<String>,
    additional_information: Option<String>,
}

/// Balances of one `Stmt` block.
#[derive(Default)]
struct StatementBlock {
    opening: Option<Balance>,
    opening_is_previous_closing: bool,
    closing: Option<Balance>,
}

#[derive(Default)]
struct CamtReader {
    version: Option<Version>,
    /// Local names from the root; elements of other namespaces are kept as "" so they never
    /// match a camt.053 path.
    path: Vec<String>,
    text: String,
    text_overflow: bool,
    account: Option<String>,
    statements: u32,
    block: Option<StatementBlock>,
    opening: Option<Balance>,
    closing: Option<Balance>,
    balance: Option<BalanceBuilder>,
    balance_depth: usize,
    entry: Option<EntryBuilder>,
    entry_depth: usize,
    lines: Vec<StatementLine>,
    currencies: CurrencyCache,
    details: LineDetails,
}

pub(crate) fn read<R: Read>(input: R, details: LineDetails) -> AppResult<Statement> {
    let counting = LineCountingReader {
        inner: BufReader::new(input),
        newlines: 0,
        last_byte: None,
    };
    let mut reader = NsReader::from_reader(counting);
    reader.config_mut().expand_empty_elements = true;
    let mut state = CamtReader {
        details,
        ..CamtReader::default()
    };
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        let (namespace, event) = match reader.read_resolved_event_into(&mut buffer) {
            Ok((namespace, event)) => (classify(&namespace), event),
            Err(error) => return Err(xml_error(&reader, &state, &error)),
        };
        let line = reader.get_ref().current_line();
        let handled = match event {
            Event::Start(start) => state.start(namespace, &start, line),
            Event::End(_) => state.end(),
            Event::Text(text) => state.push_text(&text.xml10_content()),
            Event::CData(data) => state.push_text(&data.xml10_content()),
            Event::GeneralRef(reference) => state.push_reference(&reference),
            Event::Eof => break,
            _ => Ok(()),
        };
        handled.map_err(|error| error.context(state.location(line)))?;
    }
    let line = reader.get_ref().current_line();
    state.finish(line)
}

fn xml_error<R: BufRead>(
    reader: &NsReader<LineCountingReader<R>>,
    state: &CamtReader,
    error: &quick_xml::Error,
) -> AppError {
    let line = reader.get_ref().current_line();
    AppError::invalid_input(format!(
        "malformed XML (byte {}): {error}",
        reader.error_position()
    ))
    .context(state.location(line))
}

fn path_is(path: &[String], names: &[&str]) -> bool {
    path.len() == names.len() && path.iter().zip(names).all(|(have, want)| have == want)
}

fn ends_with(path: &[String], names: &[&str]) -> bool {
    path.len() >= names.len() && path_is(&path[path.len() - names.len()..], names)
}

impl CamtReader {
    fn location(&self, line: u64) -> String {
        if self.path.is_empty() {
            return format!("line {line}");
        }
        format!("line {line}, in <{}>", self.path.join("/"))
    }

    fn start(
        &mut self,
        namespace: ElementNamespace,
        start: &BytesStart<'_>,
        line: u64,
    ) -> AppResult<()> {
        if self.path.len() >= XML_DEPTH_MAX {
            return Err(AppError::invalid_input(format!(
                "elements nested deeper than {XML_DEPTH_MAX}"
            )));
        }
        let local = start.local_name().as_ref().to_string();
        if self.path.is_empty() {
            self.version = Some(root_version(&namespace, &local)?);
        }
        let in_document_namespace =
            matches!(namespace, ElementNamespace::Camt(version) if Some(version) == self.version);
        self.path.push(if in_document_namespace {
            local
        } else {
            String::new()
        });
        self.text.clear();
        self.text_overflow = false;
        self.on_start(start, line)
    }

    fn on_start(&mut self, start: &BytesStart<'_>, line: u64) -> AppResult<()> {
        if ends_with(&self.path, &["BkToCstmrStmt", "Stmt"]) {
            self.statements += 1;
            self.block = Some(StatementBlock::default());
        } else if ends_with(&self.path, &["Stmt", "Bal"]) {
            self.balance_depth = self.path.len();
            self.balance = Some(BalanceBuilder::default());
        } else if ends_with(&self.path, &["Stmt", "Bal", "Amt"]) {
            let currency = currency_attribute(start)?;
            if let Some(balance) = self.balance.as_mut() {
                balance.currency = currency;
            }
        } else if ends_with(&self.path, &["Stmt", "Ntry"]) {
            check_line_count(self.lines.len())?;
            self.entry_depth = self.path.len();
            self.entry = Some(EntryBuilder {
                source_line: line,
                ..EntryBuilder::default()
            });
        } else if let Some(entry) = self.entry.as_mut() {
            let relative = &self.path[self.entry_depth..];
            if path_is(relative, &["Amt"]) {
                entry.currency = currency_attribute(start)?;
            } else if path_is(relative, &["NtryDtls", "TxDtls"]) {
                entry.transactions += 1;
            }
        }
        Ok(())
    }

    fn push_text(&mut self, text: &str) -> AppResult<()> {
        // Keep at most FIELD_LENGTH_MAX bytes: long text in elements we ignore (attachments in
        // supplementary data) must neither fail the file nor fill memory.
        if self.text.len() + text.len() > FIELD_LENGTH_MAX {
            self.text_overflow = true;
            return Ok(());
        }
        self.text.push_str(text);
        Ok(())
    }

    fn push_reference(&mut self, reference: &BytesRef<'_>) -> AppResult<()> {
        let invalid = || AppError::invalid_input(format!("unknown entity '&{};'", &**reference));
        if let Some(character) = reference.resolve_char_ref().map_err(|_| invalid())? {
            return self.push_text(character.encode_utf8(&mut [0; 4]));
        }
        let resolved =
            quick_xml::escape::resolve_predefined_entity(reference).ok_or_else(invalid)?;
        self.push_text(resolved)
    }

    /// The text of the element that just ended, refused if it was too long to keep.
    fn take_text(&mut self) -> AppResult<String> {
        if self.text_overflow {
            return Err(AppError::invalid_input(format!(
                "text longer than {FIELD_LENGTH_MAX} bytes"
            )));
        }
        Ok(self.text.trim().to_string())
    }

    fn end(&mut self) -> AppResult<()> {
        self.on_end()?;
        self.path.pop();
        self.text.clear();
        self.text_overflow = false;
        Ok(())
    }

    fn on_end(&mut self) -> AppResult<()> {
        if self.entry.is_some() {
            return self.on_entry_end();
        }
        if self.balance.is_some() {
            return self.on_balance_end();
        }
        let path = &self.path;
        if ends_with(path, &["Stmt", "Acct", "Id", "IBAN"])
            || ends_with(path, &["Stmt", "Acct", "Id", "Othr", "Id"])
        {
            let account = self.take_text()?;
            return self.set_account(account);
        }
        if ends_with(path, &["BkToCstmrStmt", "Stmt"]) {
            self.finish_block();
        }
        Ok(())
    }

    fn set_account(&mut self, account: String) -> AppResult<()> {
        match &self.account {
            Some(known) if *known != account => Err(AppError::invalid_input(format!(
                "statement covers two accounts ('{known}' and '{account}'); reconcile one account per file"
            ))),
            _ => {
                self.account = Some(text_field("account", &account)?);
                Ok(())
            }
        }
    }

    fn on_balance_end(&mut self) -> AppResult<()> {
        let relative: Vec<&str> = self.path[self.balance_depth..]
            .iter()
            .map(String::as_str)
            .collect();
        let field = match relative.as_slice() {
            [] => return self.finish_balance(),
            ["Tp", "CdOrPrtry", "Cd"] => BalanceField::Code,
            ["Amt"] => BalanceField::Amount,
            ["CdtDbtInd"] => BalanceField::CreditDebit,
            ["Dt", "Dt" | "DtTm"] => BalanceField::Date,
            _ => return Ok(()),
        };
        let value = Some(self.take_text()?);
        let Some(balance) = self.balance.as_mut() else {
            return Ok(());
        };
        match field {
            BalanceField::Code => balance.code = value,
            BalanceField::Amount => balance.amount = value,
            BalanceField::CreditDebit => balance.credit_debit = value,
            BalanceField::Date => balance.date = value,
        }
        Ok(())
    }

    fn finish_balance(&mut self) -> AppResult<()> {
        let Some(builder) = self.balance.take() else {
            return Ok(());
        };
        let code = builder.code.clone().unwrap_or_default();
        let is_opening = matches!(code.as_str(), "OPBD" | "PRCD");
        // CLAV and the other types are available or interim balances, not booked ones.
        if !is_opening && code != "CLBD" {
            return Ok(());
        }
        let balance = self.parse_balance(builder)?;
        let Some(block) = self.block.as_mut() else {
            return Ok(());
        };
        if code == "CLBD" {
            block.closing = Some(balance);
        } else if block.opening.is_none() || (code == "OPBD" && block.opening_is_previous_closing) {
            block.opening = Some(balance);
            block.opening_is_previous_closing = code == "PRCD";
        }
        Ok(())
    }

    fn parse_balance(&mut self, builder: BalanceBuilder) -> AppResult<Balance> {
        let currency = self
            .currencies
            .parse(&required(builder.currency, "Bal/Amt@Ccy")?)?;
        let magnitude = parse_unsigned_amount(&required(builder.amount, "Bal/Amt")?, currency)?;
        let sign = credit_debit_sign(&required(builder.credit_debit, "Bal/CdtDbtInd")?)?;
        let date = builder.date.as_deref().map(parse_iso_date).transpose()?;
        Ok(Balance {
            amount_minor: sign * magnitude,
            currency,
            date,
        })
    }

    /// Pages of one statement: the first opening and the last closing balance span them all.
    fn finish_block(&mut self) {
        let Some(block) = self.block.take() else {
            return;
        };
        if self.opening.is_none() {
            self.opening = block.opening;
        }
        if block.closing.is_some() {
            self.closing = block.closing;
        }
    }

    fn on_entry_end(&mut self) -> AppResult<()> {
        let relative: Vec<&str> = self.path[self.entry_depth..]
            .iter()
            .map(String::as_str)
            .collect();
        if relative.is_empty() {
            return self.finish_entry();
        }
        let version = self.version.unwrap_or(Version::V02);
        let field = entry_field(&relative, version);
        if field == EntryField::Ignored {
            return Ok(());
        }
        let value = Some(self.take_text()?);
        let Some(entry) = self.entry.as_mut() else {
            return Ok(());
        };
        let first_transaction = entry.transactions <= 1;
        match field {
            EntryField::Amount => entry.amount = value,
            EntryField::CreditDebit => entry.credit_debit = value,
            EntryField::Status => entry.status = value,
            EntryField::BookingDate => entry.booking_date = value,
            EntryField::ValueDate => entry.value_date = value,
            EntryField::AccountServicerReference => entry.account_servicer_reference = value,
            EntryField::AdditionalInformation => entry.additional_information = value,
            EntryField::EndToEndId if first_transaction => entry.end_to_end_id = value,
            EntryField::DebtorName if first_transaction => entry.debtor_name = value,
            EntryField::CreditorName if first_transaction => entry.creditor_name = value,
            EntryField::Remittance if first_transaction => entry.remittance.extend(value),
            _ => {}
        }
        Ok(())
    }

    fn finish_entry(&mut self) -> AppResult<()> {
        let Some(entry) = self.entry.take() else {
            return Ok(());
        };
        // Pending and information-only entries are not in the booked balances.
        if entry
            .status
            .as_deref()
            .is_some_and(|status| status != "BOOK")
        {
            return Ok(());
        }
        let position = self.lines.len() as u64 + 1;
        let source_line = entry.source_line;
        let line = self
            .build_line(entry, position)
            .map_err(|error| error.context(format_args!("entry at line {source_line}")))?;
        self.lines.push(line);
        Ok(())
    }

    fn build_line(&mut self, entry: EntryBuilder, position: u64) -> AppResult<StatementLine> {
        let currency = self
            .currencies
            .parse(&required(entry.currency, "Ntry/Amt@Ccy")?)?;
        let magnitude = parse_unsigned_amount(&required(entry.amount, "Ntry/Amt")?, currency)?;
        let sign = credit_debit_sign(&required(entry.credit_debit, "Ntry/CdtDbtInd")?)?;
        let date_text = entry
            .booking_date
            .or(entry.value_date)
            .ok_or_else(|| AppError::invalid_input("missing <BookgDt> and <ValDt>"))?;
        let end_to_end = entry.end_to_end_id.filter(|id| {
            !id.is_empty() && id != END_TO_END_NOT_PROVIDED && entry.transactions <= 1
        });
        let reference = end_to_end
            .or(entry.account_servicer_reference)
            .unwrap_or_default();
        let (own_party, other_party) = if sign > 0 {
            (entry.debtor_name, entry.creditor_name)
        } else {
            (entry.creditor_name, entry.debtor_name)
        };
        let description = if entry.remittance.is_empty() {
            entry.additional_information.unwrap_or_default()
        } else {
            entry.remittance.join(" ")
        };
        Ok(StatementLine {
            line: position,
            source_line: entry.source_line,
            date: parse_iso_date(&date_text)?,
            reference: text_field("reference", &reference)?,
            amount_minor: sign * magnitude,
            currency,
            counterparty: detail_field(
                "counterparty",
                &own_party.or(other_party).unwrap_or_default(),
                self.details,
            )?,
            description: detail_field("description", &description, self.details)?,
        })
    }

    fn finish(mut self, line: u64) -> AppResult<Statement> {
        if !self.path.is_empty() {
            return Err(AppError::invalid_input(format!(
                "unexpected end of file at line {line} inside <{}>: the document is truncated",
                self.path.join("/")
            )));
        }
        if self.version.is_none() {
            return Err(AppError::invalid_input(
                "statement is empty: no XML document",
            ));
        }
        if self.statements == 0 {
            return Err(AppError::invalid_input("camt.053 document has no <Stmt>"));
        }
        let balances = match (self.opening.take(), self.closing.take()) {
            (Some(opening), Some(closing)) => Some(balances(opening, closing)?),
            _ => None,
        };
        Ok(Statement {
            format: InputFormat::Camt053,
            account: self.account,
            balances,
            lines: self.lines,
        })
    }
}

fn balances(opening: Balance, closing: Balance) -> AppResult<StatementBalances> {
    if opening.currency != closing.currency {
        return Err(AppError::invalid_input(format!(
            "opening balance in {} but closing balance in {}",
            opening.currency, closing.currency
        )));
    }
    Ok(StatementBalances {
        opening_minor: opening.amount_minor,
        closing_minor: closing.amount_minor,
        currency: closing.currency,
        closing_date: closing.date,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BalanceField {
    Code,
    Amount,
    CreditDebit,
    Date,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryField {
    Amount,
    CreditDebit,
    Status,
    BookingDate,
    ValueDate,
    AccountServicerReference,
    AdditionalInformation,
    EndToEndId,
    DebtorName,
    CreditorName,
    Remittance,
    Ignored,
}

/// What an element inside `<Ntry>` (path relative to it) carries, per version.
fn entry_field(relative: &[&str], version: Version) -> EntryField {
    match (relative, version) {
        (["Amt"], _) => EntryField::Amount,
        (["CdtDbtInd"], _) => EntryField::CreditDebit,
        (["Sts"], Version::V02) | (["Sts", "Cd"], Version::V08) => EntryField::Status,
        (["BookgDt", "Dt" | "DtTm"], _) => EntryField::BookingDate,
        (["ValDt", "Dt" | "DtTm"], _) => EntryField::ValueDate,
        (["AcctSvcrRef"], _) => EntryField::AccountServicerReference,
        (["AddtlNtryInf"], _) => EntryField::AdditionalInformation,
        (["NtryDtls", "TxDtls", rest @ ..], _) => transaction_field(rest, version),
        _ => EntryField::Ignored,
    }
}

fn transaction_field(relative: &[&str], version: Version) -> EntryField {
    match (relative, version) {
        (["Refs", "EndToEndId"], _) => EntryField::EndToEndId,
        (["RltdPties", "Dbtr", "Nm"], Version::V02)
        | (["RltdPties", "Dbtr", "Pty", "Nm"], Version::V08) => EntryField::DebtorName,
        (["RltdPties", "Cdtr", "Nm"], Version::V02)
        | (["RltdPties", "Cdtr", "Pty", "Nm"], Version::V08) => EntryField::CreditorName,
        (["RmtInf", "Ustrd"], _) => EntryField::Remittance,
        _ => EntryField::Ignored,
    }
}

fn root_version(namespace: &ElementNamespace, local: &str) -> AppResult<Version> {
    match namespace {
        ElementNamespace::Camt(version) if local == "Document" => Ok(*version),
        ElementNamespace::UnsupportedCamt(namespace) => Err(AppError::invalid_input(format!(
            "camt.053 version '{namespace}' is not supported (001.02 and 001.08 are)"
        ))),
        ElementNamespace::Camt(_) => Err(AppError::invalid_input(format!(
            "root element <{local}> is not a camt.053 <Document>"
        ))),
        ElementNamespace::Other(other) => Err(AppError::invalid_input(format!(
            "root element <{local}> in namespace '{other}' is not a camt.053 <Document> ({NAMESPACE_PREFIX}02 or 08)"
        ))),
    }
}

fn currency_attribute(start: &BytesStart<'_>) -> AppResult<Option<String>> {
    let attribute = start
        .try_get_attribute("Ccy")
        .map_err(|error| AppError::invalid_input(format!("malformed attribute: {error}")))?;
    attribute
        .map(|attribute| {
            attribute
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|value| value.trim().to_string())
                .map_err(|error| {
                    AppError::invalid_input(format!("malformed Ccy attribute: {error}"))
                })
        })
        .transpose()
}

fn required(value: Option<String>, name: &str) -> AppResult<String> {
    value
        .filter(|value| !value.is_empty())
        .ok_or_else(|| AppError::invalid_input(format!("missing {name}")))
}

/// camt.053 amounts are not negative; the sign comes from CdtDbtInd. A `+` is allowed, as
/// everywhere (and by the schema's `xs:decimal`).
fn parse_unsigned_amount(text: &str, currency: Currency) -> AppResult<i64> {
    if text.starts_with('-') {
        return Err(AppError::invalid_input(format!(
            "amount '{text}' must be unsigned (the sign is in CdtDbtInd)"
        )));
    }
    currency.parse_signed(text)
}

fn credit_debit_sign(text: &str) -> AppResult<i64> {
    match text {
        "CRDT" => Ok(1),
        "DBIT" => Ok(-1),
        other => Err(AppError::invalid_input(format!(
            "CdtDbtInd '{other}' is not CRDT or DBIT"
        ))),
    }
}

/// `2026-11-20`, `2026-11-20+01:00` or `2026-11-20T10:15:00+01:00`: the date as written.
fn parse_iso_date(text: &str) -> AppResult<NaiveDate> {
    text.get(..10)
        .and_then(crate::clock::iso_date)
        .ok_or_else(|| AppError::invalid_input(format!("'{text}' is not an ISO date")))
}
