//! What a command prints: one document that renders as a table, JSON or CSV. Each format has
//! its own file; `record` turns one view type per record into both its JSON object and its
//! table/CSV row; `screen` says whether stdout is a screen a person reads (tables then fit it).

mod csv;
mod json;
mod record;
mod screen;
mod table;

pub(crate) use record::{to_json, Column, Record};
pub(crate) use screen::{error_label, Screen};

use crate::error::AppError;
use std::io::Write;

/// How results are printed (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    Table,
    Json,
    Csv,
}

impl Format {
    /// Table and CSV print sections; JSON prints only the document, so a command may skip
    /// building cells it would never print.
    pub(crate) fn prints_sections(self) -> bool {
        self != Format::Json
    }
}

/// A titled grid of strings, the shape tables and CSV share.
#[derive(Debug, Clone, Default)]
pub(crate) struct Section {
    pub(crate) title: Option<String>,
    pub(crate) headers: Vec<String>,
    pub(crate) rows: Vec<Vec<String>>,
    /// Per header: shown on a screen only with `--wide` (CSV and piped tables show them all).
    pub(crate) wide_only: Vec<bool>,
    pub(crate) shape: Shape,
}

/// What a section's grid holds, which decides how a screen shows it (CSV and piped tables
/// print every shape as the grid it is).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A list: one row per record, a table on a screen.
    #[default]
    Rows,
    /// One record as one row under its headers: `header: value` lines on a screen.
    Record,
    /// One record as `field`/`value` rows: `field: value` lines on a screen.
    Fields,
}

impl Section {
    pub(crate) fn new(headers: &[&str]) -> Section {
        Section {
            title: None,
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            wide_only: vec![false; headers.len()],
            shape: Shape::Rows,
        }
    }

    /// These columns show on a screen only with `--wide`: the default view keeps to the
    /// columns that answer the list's question, so it fits 80 columns.
    pub(crate) fn wide_only(mut self, headers: &[&str]) -> Section {
        for (header, wide_only) in self.headers.iter().zip(&mut self.wide_only) {
            *wide_only |= headers.contains(&header.as_str());
        }
        debug_assert!(
            headers
                .iter()
                .all(|h| self.headers.iter().any(|own| own == h)),
            "wide_only names headers the section has"
        );
        self
    }

    pub(crate) fn titled(mut self, title: impl Into<String>) -> Section {
        self.title = Some(title.into());
        self
    }

    pub(crate) fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.headers.len(), "row width matches headers");
        self.rows.push(row);
    }

    /// A two-column field/value grid for one record.
    pub(crate) fn record(fields: &[(&str, String)]) -> Section {
        let mut section = Section::new(&["field", "value"]);
        section.shape = Shape::Fields;
        for (name, value) in fields {
            section.push(vec![name.to_string(), value.clone()]);
        }
        section
    }
}

/// One command's output: the JSON document and the sections for table/CSV.
#[derive(Debug, Clone)]
pub(crate) struct View {
    pub(crate) json: serde_json::Value,
    pub(crate) sections: Vec<Section>,
    /// Extra lines shown under tables only (summaries, hints).
    pub(crate) notes: Vec<String>,
}

impl View {
    pub(crate) fn new(json: serde_json::Value, sections: Vec<Section>) -> View {
        View {
            json,
            sections,
            notes: Vec::new(),
        }
    }

    /// A list of records: the JSON array, and their table when `format` prints one.
    pub(crate) fn of_records<R: Record>(records: &[R], format: Format) -> View {
        let sections = if format.prints_sections() {
            vec![Section::of_records(records)]
        } else {
            Vec::new()
        };
        View::new(to_json(&records), sections)
    }

    pub(crate) fn with_note(mut self, note: impl Into<String>) -> View {
        self.notes.push(note.into());
        self
    }
}

/// The view as bytes for a file or any writer that is not a screen: tables print in full.
pub(crate) fn render(view: &View, format: Format, out: &mut dyn Write) -> std::io::Result<()> {
    render_on(view, format, None, out)
}

/// The view for stdout: on a screen (`Screen::of_stdout`) tables fit its width; JSON and CSV
/// are the same bytes wherever they go.
pub(crate) fn render_on(
    view: &View,
    format: Format,
    screen: Option<&Screen>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Table => table::render(view, screen, out),
        Format::Json => json::render(&view.json, out),
        Format::Csv => csv::render(&view.sections, out),
    }
}

/// `error: <code>: <message>` on stderr; with JSON output also `{"error":{…}}` on stdout.
/// Neither write can fail the command further: the exit code already says what happened.
pub(crate) fn render_error(error: &AppError, format: Format) {
    let message = crate::store::scrub(&error.message).replace(['\n', '\r'], " ");
    let label = error_label();
    stderr_line(format_args!("{label}: {}: {}", error.code, message));
    if format == Format::Json {
        let document =
            serde_json::json!({ "error": { "code": error.code.as_str(), "message": message } });
        let mut stdout = std::io::stdout().lock();
        let _ = json::render(&document, &mut stdout).and_then(|()| stdout.flush());
    }
}

/// One line on stderr, the only way fincore writes there outside the log layer. Unlike
/// `eprintln!`, which panics (exit 101) when stderr cannot be written (`2>/dev/full`, a closed
/// pipe), a failed write is dropped: there is nowhere left to report it, and the exit code
/// still tells the command's result.
pub(crate) fn stderr_line(line: std::fmt::Arguments<'_>) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr
        .write_fmt(line)
        .and_then(|()| stderr.write_all(b"\n"));
}

/// `stderr_line(format_args!(…))` with `eprintln!`'s syntax.
#[macro_export]
macro_rules! stderr_line {
    ($($arg:tt)*) => {
        $crate::output::stderr_line(format_args!($($arg)*))
    };
}
