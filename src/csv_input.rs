//! The quoting check every CSV input of the tool passes (transfer and account imports,
//! statements, sanctions lists, internal movement files).
//!
//! The csv crate accepts an opening quote that is never closed: the quoted field runs to the
//! end of the file and swallows every following row, so an import "succeeds" with rows
//! missing. Only the end of the file proves a quote unclosed, so this module scans the bytes
//! with the csv crate's own quoting rules (RFC 4180 with its leniencies) and names the line
//! where the quote opened:
//!
//! - a `"` opens a quoted field only as the first byte of a field (after a delimiter, a CR or
//!   LF, or at the start of the file after an optional UTF-8 byte order mark); inside a
//!   quoted field `""` is one quote and the next lone `"` closes it;
//! - a `"` inside an unquoted field (`5" pipe`, `ab"c`) is an ordinary character, as the csv
//!   crate reads it: the row stays one row and the field keeps what was written;
//! - text after a closing quote (`"ab"c`) is refused: the csv crate would silently glue it
//!   on (`"1"0.00` would read as `10.00`). Spaces and tabs before the next delimiter or line
//!   end are allowed (`"ab" ,`): every reader trims fields.
//!
//! Two ways in, one scanner: `check_file` reads a file once before it is used (the transfer
//! import commits batches while it streams, so the check must end before the first commit,
//! and before its rejects file is created);
//! `Checked` wraps a reader that is parsed completely before anything is applied and fails
//! its read at the problem, with no second pass over the bytes.
//!
//! Cost: a `memchr` search for `"` plus a SIMD count of `\n` over every byte, several GB/s
//! (see `tests::scan_speed`).

use crate::error::{AppError, AppResult};
use std::io::Read;
use std::path::{Path, PathBuf};

const QUOTE: u8 = b'"';
const UTF8_BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";
/// Bytes per read of `check_file`: large enough that the per-read cost vanishes.
const CHECK_CHUNK_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Still inside a possible byte order mark at the start of the input: how many of its
    /// bytes were seen.
    ByteOrderMark(usize),
    /// The next byte is the first of a field.
    FieldStart,
    /// Inside a field that did not start with a quote.
    Unquoted,
    /// Inside a quoted field.
    Quoted,
    /// After a `"` inside a quoted field: another `"` makes it an escaped quote, anything
    /// else means it closed the field.
    QuoteInQuoted,
    /// After a closing quote and optional spaces: only a delimiter or a line end may follow.
    Closed,
}

/// Quoting state of one CSV input fed in pieces.
#[derive(Debug, Clone)]
pub(crate) struct QuoteScanner {
    delimiter: u8,
    state: State,
    /// `\n` bytes in the pieces scanned so far.
    newlines: u64,
    /// Line of the opening quote of the quoted field being read.
    open_line: u64,
}

impl QuoteScanner {
    /// `delimiter` is the field separator the csv reader uses (`,` unless configured).
    pub(crate) fn new(delimiter: u8) -> QuoteScanner {
        QuoteScanner {
            delimiter,
            state: State::ByteOrderMark(0),
            newlines: 0,
            open_line: 0,
        }
    }

    fn ends_field(&self, byte: u8) -> bool {
        byte == self.delimiter || byte == b'\n' || byte == b'\r'
    }

    /// Scan the next piece of the input. Fails at text after a closing quote.
    pub(crate) fn scan(&mut self, piece: &[u8]) -> AppResult<()> {
        // Lines are counted once per piece, not per quote: only the opening quote of a field
        // still open at the end of the piece can turn out unclosed.
        let mut opened_at = None;
        let mut at = 0;
        while at < piece.len() {
            match self.state {
                State::ByteOrderMark(seen) => {
                    if piece[at] == UTF8_BYTE_ORDER_MARK[seen] {
                        at += 1;
                        self.state = if seen + 1 == UTF8_BYTE_ORDER_MARK.len() {
                            State::FieldStart
                        } else {
                            State::ByteOrderMark(seen + 1)
                        };
                    } else if seen == 0 {
                        self.state = State::FieldStart;
                    } else {
                        // A partial mark is field content; this byte is read in that field.
                        self.state = State::Unquoted;
                    }
                }
                State::FieldStart => {
                    let byte = piece[at];
                    if byte == QUOTE {
                        opened_at = Some(at);
                        self.state = State::Quoted;
                    } else if !self.ends_field(byte) {
                        self.state = State::Unquoted;
                    }
                    at += 1;
                }
                State::Unquoted => match memchr::memchr(QUOTE, &piece[at..]) {
                    // Between `at` and the quote there is no quote, so the byte before it
                    // decides: a field separator there means the quote starts a field.
                    Some(offset) if offset > 0 && self.ends_field(piece[at + offset - 1]) => {
                        at += offset;
                        self.state = State::FieldStart;
                    }
                    Some(offset) => at += offset + 1,
                    None => {
                        if self.ends_field(piece[piece.len() - 1]) {
                            self.state = State::FieldStart;
                        }
                        at = piece.len();
                    }
                },
                State::Quoted => match memchr::memchr(QUOTE, &piece[at..]) {
                    Some(offset) => {
                        at += offset + 1;
                        self.state = State::QuoteInQuoted;
                    }
                    None => at = piece.len(),
                },
                State::QuoteInQuoted | State::Closed => {
                    let byte = piece[at];
                    if byte == QUOTE && self.state == State::QuoteInQuoted {
                        self.state = State::Quoted;
                    } else if self.ends_field(byte) {
                        self.state = State::FieldStart;
                    } else if byte == b' ' || byte == b'\t' {
                        self.state = State::Closed;
                    } else {
                        return Err(AppError::invalid_input(format!(
                            "line {}: text after the closing quote of a quoted field; \
                             quote the whole field and double any quote inside it (\"\")",
                            self.newlines + count_newlines(&piece[..at]) + 1
                        )));
                    }
                    at += 1;
                }
            }
        }
        // A field closing at the piece's last byte may still go on (`""` across pieces).
        let open = matches!(self.state, State::Quoted | State::QuoteInQuoted);
        if let (true, Some(opened_at)) = (open, opened_at) {
            self.open_line = self.newlines + count_newlines(&piece[..opened_at]) + 1;
        }
        self.newlines += count_newlines(piece);
        Ok(())
    }

    /// The input ended: fails when a quoted field is still open.
    pub(crate) fn finish(&self) -> AppResult<()> {
        if self.state == State::Quoted {
            return Err(AppError::invalid_input(format!(
                "line {}: a quoted field opens here and is never closed \
                 (every row after it would be read as part of that field); close the quote",
                self.open_line
            )));
        }
        Ok(())
    }
}

pub(crate) fn count_newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// A file `check_file` passed. A reader that applies rows while it streams takes this rather
/// than a path, so it cannot start on an unchecked file.
#[derive(Debug, Clone)]
pub(crate) struct CheckedFile {
    path: PathBuf,
}

impl CheckedFile {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// Scan a whole file before it is used. The error names the file.
pub(crate) fn check_file(path: &Path, delimiter: u8) -> AppResult<CheckedFile> {
    let place = path.display();
    let mut file = std::fs::File::open(path)
        .map_err(|error| AppError::invalid_input(format!("{place}: {error}")))?;
    let mut scanner = QuoteScanner::new(delimiter);
    let mut buffer = vec![0u8; CHECK_CHUNK_BYTES];
    loop {
        let count = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(count) => count,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(AppError::invalid_input(format!("{place}: {error}"))),
        };
        scanner
            .scan(&buffer[..count])
            .map_err(|error| error.context(&place))?;
    }
    scanner.finish().map_err(|error| error.context(&place))?;
    Ok(CheckedFile {
        path: path.to_path_buf(),
    })
}

/// A reader whose bytes are scanned as they pass: a quoting problem fails the read (at the
/// bad byte, or at the end for an unclosed quote) with an `io::Error` carrying the
/// `AppError`; `quoting_error` gets it back out of the csv crate's error.
pub struct Checked<R> {
    inner: R,
    scanner: QuoteScanner,
}

impl<R: Read> Checked<R> {
    pub fn new(inner: R, delimiter: u8) -> Checked<R> {
        Checked {
            inner,
            scanner: QuoteScanner::new(delimiter),
        }
    }
}

impl<R: Read> Read for Checked<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let count = self.inner.read(buffer)?;
        let checked = if count == 0 && !buffer.is_empty() {
            self.scanner.finish()
        } else {
            self.scanner.scan(&buffer[..count])
        };
        checked.map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidData, error))?;
        Ok(count)
    }
}

/// The quoting problem a `Checked` reader raised, if that is what stopped the csv reader.
pub fn quoting_error(error: &csv::Error) -> Option<AppError> {
    match error.kind() {
        csv::ErrorKind::Io(io_error) => io_error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<AppError>())
            .cloned(),
        _ => None,
    }
}

/// Ends the input with a newline if the file does not, so every record ends with one and its
/// first line can be computed from the line after it.
pub(crate) struct NewlineTerminated<R> {
    inner: R,
    last_byte: Option<u8>,
    finished: bool,
}

impl<R> NewlineTerminated<R> {
    pub(crate) fn new(inner: R) -> NewlineTerminated<R> {
        NewlineTerminated {
            inner,
            last_byte: None,
            finished: false,
        }
    }
}

impl<R: Read> Read for NewlineTerminated<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if self.finished || buffer.is_empty() {
            return Ok(0);
        }
        let count = self.inner.read(buffer)?;
        if count > 0 {
            self.last_byte = Some(buffer[count - 1]);
            return Ok(count);
        }
        self.finished = true;
        if self.last_byte.is_some_and(|byte| byte != b'\n') {
            buffer[0] = b'\n';
            return Ok(1);
        }
        Ok(0)
    }
}

/// The physical line where `record` starts, given the reader's line right after reading it
/// (the reader's input `NewlineTerminated`, so every record ends with a newline). The csv
/// crate's own record position points at the blank lines it skipped before the record.
pub(crate) fn record_start_line(line_after: u64, record: &csv::StringRecord) -> u64 {
    line_after.saturating_sub(1 + count_newlines(record.as_slice().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &[u8]) -> Result<(), String> {
        let mut scanner = QuoteScanner::new(b',');
        scanner
            .scan(text)
            .and_then(|()| scanner.finish())
            .map_err(|error| error.message)
    }

    /// Every split of `text` into two pieces gives the same answer as one piece.
    fn check_split(text: &[u8]) -> Result<(), String> {
        let whole = check(text);
        for split in 0..=text.len() {
            let mut scanner = QuoteScanner::new(b',');
            let split_answer = scanner
                .scan(&text[..split])
                .and_then(|()| scanner.scan(&text[split..]))
                .and_then(|()| scanner.finish())
                .map_err(|error| error.message);
            assert_eq!(split_answer, whole, "split at {split} of {text:?}");
        }
        whole
    }

    #[test]
    fn well_formed_files_pass() {
        for text in [
            &b""[..],
            b"a,b\n1,2\n",
            b"a,b\r\n\"1,\"\"x\"\"\",2\r\n",
            b"\"a\nb\",c\n",
            b"\"\",\"\"\n\"\"",
            b"a,\"b\"",
            b"a,\"b\"\r",
            b"a,\"b\" ,c\n\"d\"\t\n",
            b"\xEF\xBB\xBF\"a\",b\n",
        ] {
            assert_eq!(check_split(text), Ok(()), "{}", text.escape_ascii());
        }
    }

    #[test]
    fn an_unclosed_quote_names_its_line() {
        let text = b"key,from\nk1,A\nk2,\"B\nk3,C\nk4,D\n";
        let message = check_split(text).unwrap_err();
        assert!(message.starts_with("line 3: a quoted field opens here and is never closed"));
        // At the start of the file, of a line after CR, after an escaped quote, after a BOM.
        assert!(check_split(b"\"abc").unwrap_err().starts_with("line 1:"));
        assert!(check_split(b"a\r\"b,c\n")
            .unwrap_err()
            .starts_with("line 1:"));
        assert!(check_split(b"a\n\n\"x\"\"y\n")
            .unwrap_err()
            .starts_with("line 3:"));
        assert!(check_split(b"\xEF\xBB\xBF\"a,b\n")
            .unwrap_err()
            .starts_with("line 1:"));
        // A field holding newlines moves the line of the next opening quote down.
        assert!(check_split(b"\"a\nb\nc\",\"d\ne\n")
            .unwrap_err()
            .starts_with("line 3:"));
    }

    #[test]
    fn a_quote_inside_an_unquoted_field_is_a_character() {
        // What the csv crate reads, one row: `ab"c`, `5" pipe`.
        assert_eq!(check_split(b"ab\"c,5\" pipe\n"), Ok(()));
        assert_eq!(check_split(b"a \"b,c\n"), Ok(()));
        // A partial byte order mark is content, so the quote after it is too.
        assert_eq!(check_split(b"\xEF\xBB\"a\n"), Ok(()));
    }

    #[test]
    fn text_after_a_closing_quote_is_refused() {
        let message = check_split(b"a,b\n\"1\"0.00,x\n").unwrap_err();
        assert!(
            message.starts_with("line 2: text after the closing quote"),
            "{message}"
        );
        assert!(check_split(b"\"ab\" c\n").is_err());
        assert!(check_split(b"\"ab\"  \"\n").is_err());
    }

    #[test]
    fn the_delimiter_is_the_readers() {
        let mut scanner = QuoteScanner::new(b';');
        // With `;` a quote after a comma is inside an unquoted field.
        scanner.scan(b"a,\"b;c\n").unwrap();
        scanner.finish().unwrap();
        let mut scanner = QuoteScanner::new(b';');
        scanner.scan(b"a;\"b,c\n").unwrap();
        assert!(scanner.finish().is_err());
    }

    /// The scanner agrees with the csv crate on every short input over the bytes that
    /// matter: where it passes, the crate reads the rows the quoting shows; where it says
    /// unclosed, the crate's last field ran to the end of the input.
    #[test]
    fn agrees_with_the_csv_crate() {
        let alphabet = [b'a', b',', b'"', b'\n', b'\r', b' '];
        let mut text = Vec::new();
        for length in 0..=5u32 {
            for mut code in 0..alphabet.len().pow(length) {
                text.clear();
                for _ in 0..length {
                    text.push(alphabet[code % alphabet.len()]);
                    code /= alphabet.len();
                }
                let verdict = check(&text);
                if verdict
                    .as_ref()
                    .is_err_and(|message| message.contains("text after"))
                {
                    // Refused before the end; the crate's reading no longer matters.
                    continue;
                }
                let unclosed = verdict.is_err();
                assert_eq!(
                    unclosed,
                    csv_reads_an_unclosed_quote(&text),
                    "{}",
                    text.escape_ascii()
                );
            }
        }
    }

    /// Whether the csv crate ends the input inside a quoted field: a record appended after
    /// a line break adds its two fields, unless an open quoted field swallows it.
    fn csv_reads_an_unclosed_quote(text: &[u8]) -> bool {
        let fields = |bytes: &[u8]| -> usize {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(bytes);
            reader
                .byte_records()
                .map(|record| record.unwrap().len())
                .sum()
        };
        let mut extended = text.to_vec();
        extended.extend_from_slice(b"\nz,z");
        fields(&extended) != fields(text) + 2
    }

    /// Throughput of the scan over import-shaped files: the benchmark's rows (no quotes) and
    /// rows with a quoted description holding escaped quotes.
    /// `cargo test --release --lib scan_speed -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn scan_speed() {
        let plain = &b"t123456,1234567890123456,6543210987654321,123.45,USD,2026-11-20T12:00:00Z,REF-123456,\n"[..];
        let quoted = &b"t123456,1234567890123456,6543210987654321,123.45,USD,2026-11-20T12:00:00Z,REF-123456,\"coffee, \"\"large\"\"\"\n"[..];
        for row in [plain, quoted] {
            let text: Vec<u8> = row.iter().copied().cycle().take(80 << 20).collect();
            let started = std::time::Instant::now();
            let mut scanner = QuoteScanner::new(b',');
            for piece in text.chunks(CHECK_CHUNK_BYTES) {
                scanner.scan(piece).unwrap();
            }
            scanner.finish().unwrap();
            let elapsed = started.elapsed();
            println!(
                "{} MB in {elapsed:?}: {:.2} GB/s ({})",
                text.len() >> 20,
                text.len() as f64 / elapsed.as_secs_f64() / 1e9,
                row.escape_ascii()
            );
        }
    }
}
