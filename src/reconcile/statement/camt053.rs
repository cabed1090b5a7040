//! ISO 20022 camt messages from bank to customer, read as a stream of XML events: only the
//! current element path and the entry being built are in memory.
//!
//! - camt.053 (statement, `BkToCstmrStmt/Stmt`), camt.052 (intraday report,
//!   `BkToCstmrAcctRpt/Rpt`) and camt.054 (debit/credit notification,
//!   `BkToCstmrDbtCdtNtfctn/Ntfctn`), every version from 001.01 to 001.13, in the default
//!   namespace or under any prefix. The namespace of the root `Document` decides the message.
//! - The shapes that changed between versions are both read, whatever the version says: entry
//!   status `Sts` (text, up to 001.07) or `Sts/Cd` (001.08 on); party names `Dbtr/Nm` or
//!   `Dbtr/Pty/Nm`. Banks mix them, and either is unambiguous.
//! - Each `Stmt`/`Rpt`/`Ntfctn` block is a part of the statement (`StatementPart`): its account,
//!   its own booked balances, its period and its lines.

use super::super::{
    InputFormat, Statement, StatementBalances, StatementLine, StatementPart, FIELD_LENGTH_MAX,
    XML_DEPTH_MAX,
};
use super::{check_line_count, detail_field, text_field, CurrencyCache, LineDetails};
use crate::error::{AppError, AppResult};
use crate::money::Currency;
use chrono::NaiveDate;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use std::io::{BufRead, BufReader, Read};

const NAMESPACE_PREFIX: &str = "urn:iso:std:iso:20022:tech:xsd:camt.";
/// SEPA placeholder for "the payer gave no end-to-end reference".
const END_TO_END_NOT_PROVIDED: &str = "NOTPROVIDED";
/// Newest published version of the three messages.
const VERSION_MAX: u8 = 13;

/// The three bank-to-customer cash management messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Message {
    /// camt.052, intraday account report.
    Report,
    /// camt.053, end-of-day statement.
    Statement,
    /// camt.054, debit/credit notification.
    Notification,
}

impl Message {
    fn from_number(number: &str) -> Option<Message> {
        match number {
            "052" => Some(Message::Report),
            "053" => Some(Message::Statement),
            "054" => Some(Message::Notification),
            _ => None,
        }
    }

    /// The element under `Document` and the repeated block under it.
    fn elements(self) -> (&'static str, &'static str) {
        match self {
            Message::Report => ("BkToCstmrAcctRpt", "Rpt"),
            Message::Statement => ("BkToCstmrStmt", "Stmt"),
            Message::Notification => ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DocumentKind {
    message: Message,
    version: u8,
}

/// Which namespace an element is in, as far as this reader cares.
enum ElementNamespace {
    Camt(DocumentKind),
    UnsupportedCamt(String),
    Other(String),
}

fn classify(namespace: &ResolveResult<'_>) -> ElementNamespace {
    let ResolveResult::Bound(namespace) = namespace else {
        return ElementNamespace::Other(String::new());
    };
    let text: &str = namespace.as_ref();
    let Some(rest) = text.strip_prefix(NAMESPACE_PREFIX) else {
        return ElementNamespace::Other(text.to_string());
    };
    // `053.001.08`
    let kind = rest.split_once(".001.").and_then(|(number, version)| {
        let message = Message::from_number(number)?;
        let valid = version.len() == 2 && version.bytes().all(|byte| byte.is_ascii_digit());
        let version: u8 = version.parse().ok().filter(|_| valid)?;
        (1..=VERSION_MAX)
            .contains(&version)
            .then_some(DocumentKind { message, version })
    });
    match kind {
        Some(kind) => ElementNamespace::Camt(kind),
        None => ElementNamespace::UnsupportedCamt(text.to_string()),
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
        self.newlines += crate::csv_input::count_newlines(&buffer[..count]);
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
            self.newlines += crate::csv_input::count_newlines(consumed);
            self.last_byte = consumed.last().copied().or(self.last_byte);
        }
        self.inner.consume(amount);
    }
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

/// One `TxDtls` of an entry.
#[derive(Default)]
struct TransactionBuilder {
    source_line: u64,
    currency: Option<String>,
    amount: Option<String>,
    /// `AmtDtls/TxAmt/Amt`, the older place of the transaction amount.
    detail_currency: Option<String>,
    detail_amount: Option<String>,
    credit_debit: Option<String>,
    end_to_end_id: Option<String>,
    account_servicer_reference: Option<String>,
    instruction_id: Option<String>,
    debtor_name: Option<String>,
    creditor_name: Option<String>,
    remittance: Vec<String>,
    additional_information: Option<String>,
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
    additional_information: Option<String>,
    transactions: Vec<TransactionBuilder>,
}

/// One `Stmt`, `Rpt` or `Ntfctn` block.
#[derive(Default)]
struct Block {
    account: Option<String>,
    opening: Option<Balance>,
    opening_is_previous_closing: bool,
    closing: Option<Balance>,
    /// `ITBD`, the closing of an intraday report that has no `CLBD`.
    interim_closing: Option<Balance>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    /// `CreDtTm` of the block.
    created: Option<NaiveDate>,
    first_line: usize,
    pending_entries: u64,
}

#[derive(Default)]
struct CamtReader {
    kind: Option<DocumentKind>,
    /// Local names from the root; elements of other namespaces are kept as "" so they never
    /// match a camt path.
    path: Vec<String>,
    text: String,
    text_overflow: bool,
    block: Option<Block>,
    blocks: u32,
    parts: Vec<StatementPart>,
    /// Raw balances of each part, for the statement-wide figures.
    part_balances: Vec<(Option<Balance>, Option<Balance>)>,
    balance: Option<BalanceBuilder>,
    entry: Option<EntryBuilder>,
    entries_seen: u64,
    pending_entries: u64,
    /// Index in `path` of the camt `Document` element (0 unless in an envelope).
    base: Option<usize>,
    /// The root element and its namespace, for the error when no camt `Document` is found.
    root: Option<(String, String)>,
    /// `GrpHdr/CreDtTm` of the message.
    message_created: Option<NaiveDate>,
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

/// `BkToCstmrStmt`, or `BkToCstmrStmtV01` as version 001.01 names it.
fn is_message_element(name: &str, message_element: &str) -> bool {
    name.strip_prefix(message_element).is_some_and(|rest| {
        rest.is_empty()
            || rest.strip_prefix('V').is_some_and(|digits| {
                !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit())
            })
    })
}

/// Where in a block an element is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Block,
    Balance,
    Entry,
    Transaction,
}

/// Depth of the block element below `Document`: `Document/<message>/<block>`.
const BLOCK_DEPTH: usize = 3;
/// Deepest path below a block that carries something read (`Ntry/NtryDtls/TxDtls/RltdPties/
/// Dbtr/Pty/Nm` is 7); deeper elements are read past.
const RELATIVE_DEPTH_MAX: usize = 10;

/// The names of `path` below the block as `&str`, without allocating; `None` when deeper than
/// anything read.
fn relative_names<'a>(
    path: &'a [String],
    names: &mut [&'a str; RELATIVE_DEPTH_MAX],
) -> Option<usize> {
    if path.len() > RELATIVE_DEPTH_MAX {
        return None;
    }
    for (slot, name) in names.iter_mut().zip(path) {
        *slot = name.as_str();
    }
    Some(path.len())
}

/// What the element at `relative` (the path below the block element) is inside of.
fn place_of(relative: &[&str]) -> Place {
    match relative {
        [] => Place::Block,
        ["Bal", ..] => Place::Balance,
        ["Ntry", "NtryDtls", "TxDtls", ..] => Place::Transaction,
        ["Ntry", ..] => Place::Entry,
        _ => Place::Block,
    }
}

impl CamtReader {
    fn location(&self, line: u64) -> String {
        if self.path.is_empty() {
            return format!("line {line}");
        }
        format!("line {line}, in <{}>", self.path.join("/"))
    }

    /// The path from `Document` down; empty before the camt `Document` starts.
    fn document_path(path: &[String], base: Option<usize>) -> &[String] {
        match base {
            Some(base) if path.len() > base => &path[base..],
            _ => &[],
        }
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
        if self.kind.is_none() {
            self.find_document(&namespace, &local)?;
        }
        let in_document_namespace =
            matches!(namespace, ElementNamespace::Camt(kind) if Some(kind) == self.kind);
        self.path.push(if in_document_namespace {
            local
        } else {
            String::new()
        });
        self.text.clear();
        self.text_overflow = false;
        self.on_start(start, line)
    }

    /// The camt `Document` is the root, or inside an envelope (a business application header
    /// and the document in one wrapper element, as SWIFT delivers them).
    fn find_document(&mut self, namespace: &ElementNamespace, local: &str) -> AppResult<()> {
        match namespace {
            ElementNamespace::Camt(kind) if local == "Document" => {
                self.kind = Some(*kind);
                self.base = Some(self.path.len());
                Ok(())
            }
            ElementNamespace::UnsupportedCamt(_) | ElementNamespace::Camt(_) => {
                root_kind(namespace, local).map(|_| ())
            }
            ElementNamespace::Other(other) => {
                if self.path.is_empty() {
                    self.root = Some((local.to_string(), other.clone()));
                }
                Ok(())
            }
        }
    }

    fn on_start(&mut self, start: &BytesStart<'_>, line: u64) -> AppResult<()> {
        let Some(kind) = self.kind else {
            return Ok(());
        };
        let path = std::mem::take(&mut self.path);
        let result = self.on_document_start(kind, &path, start, line);
        self.path = path;
        result
    }

    fn on_document_start(
        &mut self,
        kind: DocumentKind,
        path: &[String],
        start: &BytesStart<'_>,
        line: u64,
    ) -> AppResult<()> {
        let document = Self::document_path(path, self.base);
        let (message_element, block_element) = kind.message.elements();
        let is_block = document.len() == BLOCK_DEPTH
            && document[0] == "Document"
            && is_message_element(&document[1], message_element)
            && document[2] == block_element;
        if is_block {
            self.blocks += 1;
            self.block = Some(Block {
                first_line: self.lines.len(),
                ..Block::default()
            });
            return Ok(());
        }
        if self.block.is_none() || document.len() < BLOCK_DEPTH {
            return Ok(());
        }
        let mut names = [""; RELATIVE_DEPTH_MAX];
        let Some(count) = relative_names(&document[BLOCK_DEPTH..], &mut names) else {
            return Ok(());
        };
        let relative = &names[..count];
        match (place_of(relative), relative) {
            (Place::Balance, ["Bal"]) => self.balance = Some(BalanceBuilder::default()),
            (Place::Balance, ["Bal", "Amt"]) => {
                let currency = currency_attribute(start)?;
                if let Some(balance) = self.balance.as_mut() {
                    balance.currency = currency;
                }
            }
            (Place::Entry, ["Ntry"]) => {
                check_line_count(self.lines.len())?;
                self.entries_seen += 1;
                self.entry = Some(EntryBuilder {
                    source_line: line,
                    ..EntryBuilder::default()
                });
            }
            (Place::Entry, ["Ntry", "Amt"]) => {
                let currency = currency_attribute(start)?;
                if let Some(entry) = self.entry.as_mut() {
                    entry.currency = currency;
                }
            }
            (Place::Transaction, ["Ntry", "NtryDtls", "TxDtls", rest @ ..]) => {
                let Some(entry) = self.entry.as_mut() else {
                    return Ok(());
                };
                match rest {
                    [] => entry.transactions.push(TransactionBuilder {
                        source_line: line,
                        ..TransactionBuilder::default()
                    }),
                    ["Amt"] => {
                        let currency = currency_attribute(start)?;
                        if let Some(transaction) = entry.transactions.last_mut() {
                            transaction.currency = currency;
                        }
                    }
                    ["AmtDtls", "TxAmt", "Amt"] => {
                        let currency = currency_attribute(start)?;
                        if let Some(transaction) = entry.transactions.last_mut() {
                            transaction.detail_currency = currency;
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
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
        if self.kind.is_none() {
            return Ok(());
        }
        let path = std::mem::take(&mut self.path);
        let result = self.on_document_end(&path);
        self.path = path;
        result
    }

    fn on_document_end(&mut self, path: &[String]) -> AppResult<()> {
        let document = Self::document_path(path, self.base);
        if self.block.is_none() || document.len() < BLOCK_DEPTH {
            return self.on_header_field(document);
        }
        let mut names = [""; RELATIVE_DEPTH_MAX];
        let Some(count) = relative_names(&document[BLOCK_DEPTH..], &mut names) else {
            return Ok(());
        };
        let relative = &names[..count];
        match place_of(relative) {
            Place::Block if relative.is_empty() => self.finish_block(),
            Place::Block => self.on_block_field(relative),
            Place::Balance => self.on_balance_field(&relative[1..]),
            Place::Entry => self.on_entry_field(&relative[1..]),
            Place::Transaction => self.on_transaction_field(&relative[3..]),
        }
    }

    /// `GrpHdr/CreDtTm`: the date of last resort for entries without one.
    fn on_header_field(&mut self, document: &[String]) -> AppResult<()> {
        let is_creation =
            document.len() == 4 && document[2] == "GrpHdr" && document[3] == "CreDtTm";
        if is_creation {
            self.message_created = Some(parse_iso_date(&self.take_text()?)?);
        }
        Ok(())
    }

    fn on_block_field(&mut self, relative: &[&str]) -> AppResult<()> {
        match relative {
            ["CreDtTm"] => {
                let date = parse_iso_date(&self.take_text()?)?;
                if let Some(block) = self.block.as_mut() {
                    block.created = Some(date);
                }
            }
            ["Acct", "Id", "IBAN"] | ["Acct", "Id", "Othr", "Id"] => {
                let account = text_field("account", &self.take_text()?)?;
                if let Some(block) = self.block.as_mut() {
                    block.account.get_or_insert(account);
                }
            }
            ["FrToDt", "FrDtTm"] => {
                let date = parse_iso_date(&self.take_text()?)?;
                if let Some(block) = self.block.as_mut() {
                    block.from = Some(date);
                }
            }
            ["FrToDt", "ToDtTm"] => {
                let date = parse_iso_date(&self.take_text()?)?;
                if let Some(block) = self.block.as_mut() {
                    block.to = Some(date);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn on_balance_field(&mut self, relative: &[&str]) -> AppResult<()> {
        let field = match relative {
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
        // CLAV, ITAV and the other types are available balances, not booked ones.
        if !matches!(code.as_str(), "OPBD" | "PRCD" | "CLBD" | "ITBD") {
            return Ok(());
        }
        let balance = self.parse_balance(builder)?;
        let Some(block) = self.block.as_mut() else {
            return Ok(());
        };
        match code.as_str() {
            "CLBD" => block.closing = Some(balance),
            "ITBD" => block.interim_closing = Some(balance),
            _ if block.opening.is_none()
                || (code == "OPBD" && block.opening_is_previous_closing) =>
            {
                block.opening = Some(balance);
                block.opening_is_previous_closing = code == "PRCD";
            }
            _ => {}
        }
        Ok(())
    }

    fn parse_balance(&mut self, builder: BalanceBuilder) -> AppResult<Balance> {
        let currency = self
            .currencies
            .parse(&required(builder.currency, "Bal/Amt@Ccy")?)
            .map_err(|error| error.context("Bal/Amt@Ccy"))?;
        let magnitude = parse_unsigned_amount(&required(builder.amount, "Bal/Amt")?, currency)
            .map_err(|error| error.context("Bal/Amt"))?;
        // A balance without CdtDbtInd is read as a credit (some banks leave it out of
        // positive balances); a wrong guess fails the balance check.
        let sign = match builder.credit_debit.filter(|text| !text.is_empty()) {
            Some(text) => {
                credit_debit_sign(&text).map_err(|error| error.context("Bal/CdtDbtInd"))?
            }
            None => 1,
        };
        let date = builder
            .date
            .as_deref()
            .map(parse_iso_date)
            .transpose()
            .map_err(|error| error.context("Bal/Dt"))?;
        Ok(Balance {
            amount_minor: sign * magnitude,
            currency,
            date,
        })
    }

    fn finish_block(&mut self) -> AppResult<()> {
        let Some(block) = self.block.take() else {
            return Ok(());
        };
        let is_report = self
            .kind
            .is_some_and(|kind| kind.message == Message::Report);
        let closing = match block.closing {
            Some(closing) => Some(closing),
            None if is_report => block.interim_closing,
            None => None,
        };
        let balances = match (block.opening, closing) {
            (Some(opening), Some(closing)) => Some(balances(opening, closing)?),
            _ => None,
        };
        let period = match (block.from, block.to) {
            (Some(from), Some(to)) => Some((from, to)),
            _ => None,
        };
        self.part_balances.push((block.opening, closing));
        self.parts.push(StatementPart {
            account: block.account,
            balances,
            period,
            lines: block.first_line..self.lines.len(),
            pending_entries: block.pending_entries,
        });
        Ok(())
    }

    fn on_entry_field(&mut self, relative: &[&str]) -> AppResult<()> {
        let field = match relative {
            [] => return self.finish_entry(),
            ["Amt"] => EntryField::Amount,
            ["CdtDbtInd"] => EntryField::CreditDebit,
            // `Sts` holds the code up to 001.07, `Sts/Cd` from 001.08; the text directly in
            // `Sts` of a newer file is the blank between its children.
            ["Sts"] | ["Sts", "Cd" | "Prtry"] => EntryField::Status,
            ["BookgDt", "Dt" | "DtTm"] => EntryField::BookingDate,
            ["ValDt", "Dt" | "DtTm"] => EntryField::ValueDate,
            ["AcctSvcrRef"] => EntryField::AccountServicerReference,
            ["AddtlNtryInf"] => EntryField::AdditionalInformation,
            _ => return Ok(()),
        };
        let value = self.take_text()?;
        let Some(entry) = self.entry.as_mut() else {
            return Ok(());
        };
        let slot = match field {
            EntryField::Amount => &mut entry.amount,
            EntryField::CreditDebit => &mut entry.credit_debit,
            EntryField::Status => {
                if value.is_empty() {
                    return Ok(());
                }
                &mut entry.status
            }
            EntryField::BookingDate => &mut entry.booking_date,
            EntryField::ValueDate => &mut entry.value_date,
            EntryField::AccountServicerReference => &mut entry.account_servicer_reference,
            EntryField::AdditionalInformation => &mut entry.additional_information,
        };
        *slot = Some(value);
        Ok(())
    }

    fn on_transaction_field(&mut self, relative: &[&str]) -> AppResult<()> {
        if relative.is_empty() {
            return Ok(());
        }
        let field = match relative {
            ["Amt"] => TransactionField::Amount,
            ["AmtDtls", "TxAmt", "Amt"] => TransactionField::DetailAmount,
            ["CdtDbtInd"] => TransactionField::CreditDebit,
            ["Refs", "EndToEndId"] => TransactionField::EndToEndId,
            ["Refs", "AcctSvcrRef"] => TransactionField::AccountServicerReference,
            ["Refs", "InstrId"] => TransactionField::InstructionId,
            ["RltdPties", "Dbtr", "Nm"] | ["RltdPties", "Dbtr", "Pty", "Nm"] => {
                TransactionField::DebtorName
            }
            ["RltdPties", "Cdtr", "Nm"] | ["RltdPties", "Cdtr", "Pty", "Nm"] => {
                TransactionField::CreditorName
            }
            ["RmtInf", "Ustrd"] => TransactionField::Remittance,
            ["AddtlTxInf"] => TransactionField::AdditionalInformation,
            _ => return Ok(()),
        };
        let value = self.take_text()?;
        let Some(transaction) = self
            .entry
            .as_mut()
            .and_then(|entry| entry.transactions.last_mut())
        else {
            return Ok(());
        };
        let slot = match field {
            TransactionField::Remittance => {
                if !value.is_empty() {
                    transaction.remittance.push(value);
                }
                return Ok(());
            }
            TransactionField::Amount => &mut transaction.amount,
            TransactionField::DetailAmount => &mut transaction.detail_amount,
            TransactionField::CreditDebit => &mut transaction.credit_debit,
            TransactionField::EndToEndId => &mut transaction.end_to_end_id,
            TransactionField::AccountServicerReference => {
                &mut transaction.account_servicer_reference
            }
            TransactionField::InstructionId => &mut transaction.instruction_id,
            TransactionField::DebtorName => &mut transaction.debtor_name,
            TransactionField::CreditorName => &mut transaction.creditor_name,
            TransactionField::AdditionalInformation => &mut transaction.additional_information,
        };
        *slot = Some(value);
        Ok(())
    }

    fn finish_entry(&mut self) -> AppResult<()> {
        let Some(entry) = self.entry.take() else {
            return Ok(());
        };
        // Pending and information-only entries are not in the booked balances: counted, not
        // read as lines.
        if entry
            .status
            .as_deref()
            .is_some_and(|status| status != "BOOK")
        {
            self.pending_entries += 1;
            if let Some(block) = self.block.as_mut() {
                block.pending_entries += 1;
            }
            return Ok(());
        }
        let source_line = entry.source_line;
        self.push_entry(entry)
            .map_err(|error| error.context(format_args!("entry at line {source_line}")))
    }

    fn push_entry(&mut self, mut entry: EntryBuilder) -> AppResult<()> {
        let currency = self
            .currencies
            .parse(&required(entry.currency.take(), "Ntry/Amt@Ccy")?)
            .map_err(|error| error.context("Ntry/Amt@Ccy"))?;
        let magnitude =
            parse_unsigned_amount(&required(entry.amount.take(), "Ntry/Amt")?, currency)
                .map_err(|error| error.context("Ntry/Amt"))?;
        let sign = credit_debit_sign(&required(entry.credit_debit.take(), "Ntry/CdtDbtInd")?)
            .map_err(|error| error.context("Ntry/CdtDbtInd"))?;
        let date = match entry.booking_date.take().or(entry.value_date.take()) {
            Some(text) => parse_iso_date(&text).map_err(|error| error.context("Ntry/BookgDt"))?,
            None => self.fallback_date().ok_or_else(|| {
                AppError::invalid_input(
                    "missing <BookgDt> and <ValDt>, and the message has no date to take instead",
                )
            })?,
        };
        let amount_minor = sign * magnitude;
        let split = self.split_amounts(&entry, currency, amount_minor)?;
        let transactions = std::mem::take(&mut entry.transactions);
        match split {
            Some(amounts) => {
                let group = Some(self.entries_seen);
                for (transaction, amount_minor) in transactions.into_iter().zip(amounts) {
                    let source_line = transaction.source_line;
                    let line = LineParts {
                        source_line,
                        date,
                        amount_minor,
                        currency,
                        group,
                    };
                    self.push_line(line, Some(transaction), &entry)
                        .map_err(|error| {
                            error.context(format_args!("TxDtls at line {source_line}"))
                        })?;
                }
            }
            None => {
                // One line for the entry; a single transaction describes it, several do not.
                let single = if transactions.len() == 1 {
                    transactions.into_iter().next()
                } else {
                    None
                };
                let line = LineParts {
                    source_line: entry.source_line,
                    date,
                    amount_minor,
                    currency,
                    group: None,
                };
                self.push_line(line, single, &entry)?;
            }
        }
        Ok(())
    }

    /// The date of an entry without booking or value date (notifications often have none):
    /// the end of the block's period, else the block's creation date, else the message's.
    fn fallback_date(&self) -> Option<NaiveDate> {
        let block = self.block.as_ref();
        block
            .and_then(|block| block.to.or(block.created))
            .or(self.message_created)
    }

    /// The signed amount of each transaction of a batch entry, when there are several and they
    /// add up to the entry in its currency; otherwise the entry stays one line.
    fn split_amounts(
        &mut self,
        entry: &EntryBuilder,
        currency: Currency,
        amount_minor: i64,
    ) -> AppResult<Option<Vec<i64>>> {
        if entry.transactions.len() < 2 {
            return Ok(None);
        }
        let entry_sign = amount_minor.signum();
        let mut amounts = Vec::with_capacity(entry.transactions.len());
        for transaction in &entry.transactions {
            let (amount, amount_currency) = match (&transaction.amount, &transaction.currency) {
                (Some(amount), Some(code)) => (amount, code),
                _ => match (&transaction.detail_amount, &transaction.detail_currency) {
                    (Some(amount), Some(code)) => (amount, code),
                    _ => return Ok(None),
                },
            };
            if self.currencies.parse(amount_currency).ok() != Some(currency) {
                return Ok(None);
            }
            let magnitude = parse_unsigned_amount(amount, currency).map_err(|error| {
                error.context(format_args!(
                    "TxDtls at line {}: TxDtls/Amt",
                    transaction.source_line
                ))
            })?;
            let sign = match transaction.credit_debit.as_deref() {
                Some(text) if !text.is_empty() => {
                    credit_debit_sign(text).map_err(|error| error.context("TxDtls/CdtDbtInd"))?
                }
                _ if entry_sign == 0 => 1,
                _ => entry_sign,
            };
            amounts.push(sign * magnitude);
        }
        let total: i128 = amounts.iter().map(|amount| i128::from(*amount)).sum();
        Ok((total == i128::from(amount_minor)).then_some(amounts))
    }

    fn push_line(
        &mut self,
        parts: LineParts,
        transaction: Option<TransactionBuilder>,
        entry: &EntryBuilder,
    ) -> AppResult<()> {
        check_line_count(self.lines.len())?;
        let transaction = transaction.unwrap_or_default();
        let remittance = transaction.remittance.join(" ");
        let reference = transaction
            .end_to_end_id
            .filter(|id| !id.is_empty() && id != END_TO_END_NOT_PROVIDED)
            .or(transaction
                .account_servicer_reference
                .filter(|id| !id.is_empty()))
            .or(entry
                .account_servicer_reference
                .clone()
                .filter(|id| !id.is_empty()))
            .or(transaction.instruction_id.filter(|id| !id.is_empty()))
            .unwrap_or_else(|| remittance.clone());
        let (own_party, other_party) = if parts.amount_minor >= 0 {
            (transaction.debtor_name, transaction.creditor_name)
        } else {
            (transaction.creditor_name, transaction.debtor_name)
        };
        let description = if !remittance.is_empty() {
            remittance
        } else {
            transaction
                .additional_information
                .or(entry.additional_information.clone())
                .unwrap_or_default()
        };
        let line = StatementLine {
            line: self.lines.len() as u64 + 1,
            source_line: parts.source_line,
            date: parts.date,
            reference: text_field("reference", &reference)?,
            amount_minor: parts.amount_minor,
            currency: parts.currency,
            counterparty: detail_field(
                "counterparty",
                &own_party.or(other_party).unwrap_or_default(),
                self.details,
            )?,
            description: detail_field("description", &description, self.details)?,
            group: parts.group,
        };
        self.lines.push(line);
        Ok(())
    }

    fn finish(self, line: u64) -> AppResult<Statement> {
        if !self.path.is_empty() {
            return Err(AppError::invalid_input(format!(
                "unexpected end of file at line {line} inside <{}>: the document is truncated",
                self.path.join("/")
            )));
        }
        let Some(kind) = self.kind else {
            return Err(match &self.root {
                Some((local, namespace)) => {
                    root_kind(&ElementNamespace::Other(namespace.clone()), local)
                        .err()
                        .unwrap_or_else(|| AppError::invalid_input("no camt <Document>"))
                }
                None => AppError::invalid_input("statement is empty: no XML document"),
            });
        };
        if self.blocks == 0 {
            let (message, block) = kind.message.elements();
            return Err(AppError::invalid_input(format!(
                "camt document has no <{message}/{block}>"
            )));
        }
        let account = single_account(&self.parts);
        let balances = if self.parts.iter().all(|part| part.account == account) {
            statement_balances(&self.part_balances, &self.lines)
        } else {
            None
        };
        Ok(Statement {
            format: InputFormat::Camt053,
            account,
            balances,
            lines: self.lines,
            parts: self.parts,
            pending_entries: self.pending_entries,
        })
    }
}

/// What a line is made of besides the transaction's texts.
struct LineParts {
    source_line: u64,
    date: NaiveDate,
    amount_minor: i64,
    currency: Currency,
    group: Option<u64>,
}

/// The account of every part, when they name at most one.
fn single_account(parts: &[StatementPart]) -> Option<String> {
    let mut accounts = parts.iter().filter_map(|part| part.account.as_ref());
    let first = accounts.next()?;
    accounts.all(|other| other == first).then(|| first.clone())
}

/// Pages of one account: the first opening and the last closing balance span them all, when
/// they and every line are in one currency.
fn statement_balances(
    parts: &[(Option<Balance>, Option<Balance>)],
    lines: &[StatementLine],
) -> Option<StatementBalances> {
    let opening = parts.iter().find_map(|(opening, _)| *opening)?;
    let closing = parts.iter().rev().find_map(|(_, closing)| *closing)?;
    let one_currency = opening.currency == closing.currency
        && lines.iter().all(|line| line.currency == closing.currency);
    one_currency.then_some(StatementBalances {
        opening_minor: opening.amount_minor,
        closing_minor: closing.amount_minor,
        currency: closing.currency,
        closing_date: closing.date,
    })
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TransactionField {
    Amount,
    DetailAmount,
    CreditDebit,
    EndToEndId,
    AccountServicerReference,
    InstructionId,
    DebtorName,
    CreditorName,
    Remittance,
    AdditionalInformation,
}

fn root_kind(namespace: &ElementNamespace, local: &str) -> AppResult<DocumentKind> {
    match namespace {
        ElementNamespace::Camt(kind) if local == "Document" => Ok(*kind),
        ElementNamespace::UnsupportedCamt(namespace) => Err(AppError::invalid_input(format!(
            "camt version '{namespace}' is not supported (camt.052, camt.053 and camt.054, 001.01 to 001.{VERSION_MAX} are)"
        ))),
        ElementNamespace::Camt(_) => Err(AppError::invalid_input(format!(
            "root element <{local}> is not a camt <Document>"
        ))),
        ElementNamespace::Other(other) => Err(AppError::invalid_input(format!(
            "root element <{local}> in namespace '{other}' is not a camt.052, camt.053 or camt.054 <Document> ({NAMESPACE_PREFIX}053.001.NN)"
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

/// camt amounts are not negative; the sign comes from CdtDbtInd. A `+` is allowed, as
/// everywhere (and by the schema's `xs:decimal`). Zeros beyond the currency's decimals
/// (`8.850` EUR) are exact and dropped: banks write amounts with a fixed number of decimals.
/// A non-zero digit there is `amount_precision_exceeded`, never rounded.
fn parse_unsigned_amount(text: &str, currency: Currency) -> AppResult<i64> {
    let text = crate::text::trim(text);
    if text.starts_with('-') {
        return Err(AppError::invalid_input(format!(
            "amount '{text}' must be unsigned (the sign is in CdtDbtInd)"
        )));
    }
    currency.parse_signed(without_extra_zeros(text, currency.minor_units()))
}

/// `8.850` → `8.85` for a currency of 2 decimals; `8.855` and `8.85` unchanged.
fn without_extra_zeros(text: &str, minor_units: u32) -> &str {
    let Some((whole, fraction)) = text.split_once('.') else {
        return text;
    };
    let keep = minor_units as usize;
    if fraction.len() <= keep || !fraction.as_bytes()[keep..].iter().all(|byte| *byte == b'0') {
        return text;
    }
    if keep == 0 {
        return whole;
    }
    &text[..whole.len() + 1 + keep]
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
