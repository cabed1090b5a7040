//! What every list shares: `--limit N` / `--all`, the "showing N of M" footer, and the
//! writer that streams `--all` page by page (JSON and CSV), so a list has no row cap and
//! never holds more than a page in memory.

use super::{Context, Output};
use crate::error::{AppError, AppResult};
use crate::output::{to_json, Format, Record, Section};
use std::io::Write;

/// Rows a list shows without `--limit` or `--all`.
pub(crate) const LIST_LIMIT_DEFAULT: i64 = 100;
/// The largest `--limit`: beyond it `--all` streams instead of building one page in memory.
pub(crate) const LIST_LIMIT_MAX: i64 = 100_000;
/// Rows read from the database per page when streaming with `--all`.
pub(crate) const STREAM_PAGE_ROWS: i64 = 10_000;

/// `--limit N` or `--all` (never both).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Paging {
    /// Show at most N rows, newest first (1–100000) [default: 100]
    #[arg(long, value_name = "N", conflicts_with = "all")]
    limit: Option<i64>,
    /// Show every matching row, newest first, streamed without a cap
    #[arg(long)]
    all: bool,
}

/// How many rows a list reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rows {
    AtMost(i64),
    All,
}

impl Paging {
    pub(crate) fn rows(&self) -> AppResult<Rows> {
        if self.all {
            return Ok(Rows::All);
        }
        let limit = self.limit.unwrap_or(LIST_LIMIT_DEFAULT);
        if !(1..=LIST_LIMIT_MAX).contains(&limit) {
            return Err(AppError::usage(format!(
                "--limit must be 1–{LIST_LIMIT_MAX}; --all lists every row"
            )));
        }
        Ok(Rows::AtMost(limit))
    }
}

/// `1234567` → `1,234,567`.
pub(crate) fn group_thousands(count: i64) -> String {
    let digits = count.unsigned_abs().to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if count < 0 {
        grouped.insert(0, '-');
    }
    grouped
}

/// The footer of a list that shows fewer rows than match; `None` when it shows them all.
pub(crate) fn truncation_footer(shown: usize, total: i64) -> Option<String> {
    (i64::try_from(shown).unwrap_or(i64::MAX) < total).then(|| {
        format!(
            "showing {} of {}; --limit N or --all",
            group_thousands(shown as i64),
            group_thousands(total)
        )
    })
}

/// A list's output with its footer: under the table, or on stderr for JSON and CSV (never in
/// their data, which scripts read).
pub(crate) fn with_footer(
    context: &Context,
    view: crate::output::View,
    footer: Option<String>,
) -> Output {
    match footer {
        Some(footer) if context.global.format == Format::Table => {
            Output::view(view.with_note(footer))
        }
        Some(footer) => {
            if !context.global.quiet {
                crate::stderr_line!("note: {footer}");
            }
            Output::view(view)
        }
        None => Output::view(view),
    }
}

/// JSON or CSV written to stdout page by page: one JSON array (pretty-printed exactly as a
/// whole document would be) or one CSV header and its rows.
pub(crate) struct RecordStream {
    out: std::io::BufWriter<std::io::Stdout>,
    format: Format,
    /// Records written so far.
    written: u64,
    header_written: bool,
}

impl RecordStream {
    /// `None` for tables: they need every row to size their columns.
    pub(crate) fn new(format: Format) -> Option<RecordStream> {
        (format != Format::Table).then(|| RecordStream {
            out: std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()),
            format,
            written: 0,
            header_written: false,
        })
    }

    /// Write one page; the CSV header comes with the first (or `finish` when none came).
    pub(crate) fn page<R: Record>(&mut self, records: &[R]) -> std::io::Result<()> {
        match self.format {
            Format::Json => {
                for record in records {
                    let separator: &[u8] = if self.written == 0 { b"[\n" } else { b",\n" };
                    self.out.write_all(separator)?;
                    write_indented(&mut self.out, &to_json(record))?;
                    self.written += 1;
                }
            }
            _ => {
                let section = Section::of_records(records);
                let mut writer = csv::Writer::from_writer(&mut self.out);
                if !self.header_written {
                    writer.write_record(&section.headers)?;
                    self.header_written = true;
                }
                for row in &section.rows {
                    writer.write_record(row)?;
                }
                writer.flush()?;
                self.written += section.rows.len() as u64;
            }
        }
        Ok(())
    }

    /// Close the document (`]`, or the header of an empty CSV) and flush.
    pub(crate) fn finish<R: Record>(mut self) -> std::io::Result<()> {
        match self.format {
            Format::Json if self.written == 0 => self.out.write_all(b"[]\n")?,
            Format::Json => self.out.write_all(b"\n]\n")?,
            _ if !self.header_written => self.page::<R>(&[])?,
            _ => {}
        }
        self.out.flush()
    }
}

/// One array element as `serde_json::to_writer_pretty` writes it inside an array: every line
/// indented by two spaces.
fn write_indented(out: &mut impl Write, value: &serde_json::Value) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    for (index, line) in text.lines().enumerate() {
        if index > 0 {
            out.write_all(b"\n")?;
        }
        out.write_all(b"  ")?;
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// The result of a streamed list: a closed pipe (`| head`) ends it quietly, as for any
/// output; another write failure is exit 7 naming stdout (the list changed nothing).
pub(crate) fn streamed(result: std::io::Result<()>) -> AppResult<Output> {
    match result {
        Ok(()) => Ok(Output::empty()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(Output::empty()),
        Err(error) => Err(AppError::storage(format!(
            "cannot write the output to stdout: {error}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(100), "100");
        assert_eq!(group_thousands(1_000), "1,000");
        assert_eq!(group_thousands(200_000), "200,000");
        assert_eq!(group_thousands(1_234_567), "1,234,567");
        assert_eq!(group_thousands(-1_234), "-1,234");
    }

    #[test]
    fn footer_only_when_rows_are_left_out() {
        assert_eq!(
            truncation_footer(100, 200_000).as_deref(),
            Some("showing 100 of 200,000; --limit N or --all")
        );
        assert_eq!(truncation_footer(100, 100), None);
        assert_eq!(truncation_footer(0, 0), None);
    }

    #[test]
    fn streamed_json_is_what_the_whole_document_prints() {
        let value = serde_json::json!([{"a": 1, "b": {"c": [1, 2]}}, {"a": 2, "b": null}]);
        let mut streamed = b"[\n".to_vec();
        write_indented(&mut streamed, &value[0]).unwrap();
        streamed.extend_from_slice(b",\n");
        write_indented(&mut streamed, &value[1]).unwrap();
        streamed.extend_from_slice(b"\n]\n");
        let mut whole = serde_json::to_vec_pretty(&value).unwrap();
        whole.push(b'\n');
        assert_eq!(
            String::from_utf8(streamed).unwrap(),
            String::from_utf8(whole).unwrap()
        );
    }
}
