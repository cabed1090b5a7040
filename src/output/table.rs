//! Tables. Without a screen (a pipe, a file) every section prints as the full grid it always
//! did. On a screen (see `screen.rs`) a person reads it:
//! - lists keep to their default columns (`--wide`: all) and fit the width, wrapping text
//!   cells, never a number: numbers are right-aligned and stay on one line;
//! - one record prints as `field: value` lines, like `kubectl describe`;
//! - digests and trace ids show their first characters (JSON and CSV have them whole);
//! - statuses are coloured when the terminal takes colour;
//! - an empty list says so in one line.

use super::{Screen, Section, Shape, View};
use comfy_table::{
    presets::{NOTHING, UTF8_FULL_CONDENSED},
    Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, ContentLineStyle, LineStyle,
    Table, TableStyle, Width,
};
use std::io::Write;

/// Hex digits a shortened digest or trace id keeps: as many as `git log --oneline` shows
/// and then some, enough to find the whole one in JSON or the audit chain.
const DIGEST_PREFIX_CHARS: usize = 12;
/// A cell of at least this many hex digits is a digest (SHA-256: 64) or a trace id (32).
const DIGEST_CHARS_MIN: usize = 32;
/// A word up to this long is never split across lines in a list (a time, an account number,
/// an error code); longer ones (raw JSON, paths) may be.
const WORD_CHARS_MAX: usize = 24;
/// An all-digit column this long is an identifier (an account number), not a quantity.
const IDENTIFIER_DIGITS_MIN: usize = 12;

pub(crate) fn render(
    view: &View,
    screen: Option<&Screen>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for (index, section) in view.sections.iter().enumerate() {
        if index > 0 {
            writeln!(out)?;
        }
        if let Some(title) = &section.title {
            write_text(out, title, screen)?;
        }
        match screen {
            None => writeln!(out, "{}", full_grid(section))?,
            Some(screen) => on_screen(section, screen, out)?,
        }
    }
    for note in &view.notes {
        write_text(out, note, screen)?;
    }
    Ok(())
}

/// A title or note: as it is for a pipe, wrapped to a screen.
fn write_text(out: &mut dyn Write, text: &str, screen: Option<&Screen>) -> std::io::Result<()> {
    match screen {
        None => writeln!(out, "{text}"),
        Some(screen) => write_lines(out, wrapped(text, screen).into_iter()),
    }
}

/// Every column, no width limit, no colour: the bytes scripts have always read.
fn full_grid(section: &Section) -> Table {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .force_no_tty()
        .set_header(&section.headers);
    for row in &section.rows {
        table.add_row(row);
    }
    table
}

fn on_screen(section: &Section, screen: &Screen, out: &mut dyn Write) -> std::io::Result<()> {
    match section.shape {
        Shape::Rows if section.rows.is_empty() => {
            let words = if section.title.is_some() {
                "(none)"
            } else {
                "no results"
            };
            writeln!(out, "{words}")
        }
        Shape::Rows => write_lines(out, list_table(section, screen).lines()),
        Shape::Record => {
            let fields = section.rows.iter().flat_map(|row| {
                section
                    .headers
                    .iter()
                    .zip(row)
                    .map(|(header, value)| (header.as_str(), value.as_str()))
            });
            write_lines(out, fields_table(fields, screen).lines())
        }
        Shape::Fields => {
            let fields = section
                .rows
                .iter()
                .map(|row| (row[0].as_str(), row[1].as_str()));
            write_lines(out, fields_table(fields, screen).lines())
        }
    }
}

fn write_lines(out: &mut dyn Write, lines: impl Iterator<Item = String>) -> std::io::Result<()> {
    for line in lines {
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// A list on a screen, like `kubectl get`: a header in words (`risk score`, so it can wrap)
/// over a rule, columns two spaces apart; no box, whose borders cost three columns each.
const SCREEN_LIST_STYLE: TableStyle = TableStyle::new()
    .header_lines(ContentLineStyle::none().junction(' '))
    .header_separator(LineStyle::none().fill('─').junction(' '))
    .content_lines(ContentLineStyle::none().junction(' '));
/// Each cell's padding on the left and right: with the junction's space, two spaces apart.
const SCREEN_CELL_PADDING: (u16, u16) = (0, 1);

/// A list fitted to the screen: its default columns (all with `--wide`), numbers
/// right-aligned, and no column of single words (ids, account numbers, amounts) ever split:
/// text columns wrap at spaces to make room.
fn list_table(section: &Section, screen: &Screen) -> Table {
    let shown: Vec<usize> = (0..section.headers.len())
        .filter(|&index| screen.wide || !section.wide_only.get(index).copied().unwrap_or(false))
        .collect();
    let headers: Vec<String> = shown
        .iter()
        .map(|&index| section.headers[index].replace('_', " "))
        .collect();
    let mut table = screen_table(screen);
    table.load_style(SCREEN_LIST_STYLE).set_header(&headers);
    for row in &section.rows {
        table.add_row(
            shown
                .iter()
                .map(|&index| styled(&section.headers[index], &row[index], screen)),
        );
    }
    let cells: Vec<Vec<String>> = shown
        .iter()
        .map(|&index| {
            section
                .rows
                .iter()
                .map(|row| on_screen_text(&row[index]))
                .collect()
        })
        .collect();
    let numeric: Vec<bool> = cells
        .iter()
        .map(|column| is_numeric_column(column.iter().map(String::as_str)))
        .collect();
    let bounds = word_bounds(&headers, &cells, &numeric, screen.width);
    let last = shown.len().saturating_sub(1);
    for (position, bound) in bounds.into_iter().enumerate() {
        let column = table.column_mut(position).expect("a column per header");
        // The last column has nothing to keep apart: no padding, so the rule under the
        // header ends with the text.
        column.set_padding(if position == last {
            (0, 0)
        } else {
            SCREEN_CELL_PADDING
        });
        if numeric[position] && !is_identifier_column(&cells[position]) {
            column.set_cell_alignment(CellAlignment::Right);
        }
        if let Some(width) = bound {
            // comfy-table's bound counts the cell's padding.
            let padding = if position == last {
                0
            } else {
                SCREEN_CELL_PADDING.0 + SCREEN_CELL_PADDING.1
            };
            column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(
                width + padding,
            )));
        }
    }
    table
}

/// Per column, the width that keeps its widest word whole, so lists wrap at spaces and never
/// inside an amount, an account number or a time; a number column's cells are one word each
/// (`4200.00 USD`). A word longer than `WORD_CHARS_MAX` (raw JSON, a path) may be split. The
/// first of these that fits the screen wins: every word whole, headers included; the cells'
/// words whole (a header may split); only columns without spaces and numbers whole.
fn word_bounds(
    headers: &[String],
    cells: &[Vec<String>],
    numeric: &[bool],
    width: Option<u16>,
) -> Vec<Option<u16>> {
    let widest_word = |words: &mut dyn Iterator<Item = &str>| {
        let widest = words.map(console::measure_text_width).max().unwrap_or(0);
        (widest <= WORD_CHARS_MAX).then(|| u16::try_from(widest).unwrap_or(u16::MAX))
    };
    let words_of = |column: usize| -> Vec<&str> {
        if numeric[column] {
            cells[column].iter().map(String::as_str).collect()
        } else {
            cells[column]
                .iter()
                .flat_map(|cell| cell.split_whitespace())
                .collect()
        }
    };
    let with_headers: Vec<Option<u16>> = headers
        .iter()
        .enumerate()
        .map(|(column, header)| {
            widest_word(
                &mut words_of(column)
                    .into_iter()
                    .chain(header.split_whitespace()),
            )
        })
        .collect();
    let cells_only: Vec<Option<u16>> = (0..cells.len())
        .map(|column| widest_word(&mut words_of(column).into_iter()))
        .collect();
    let single_words: Vec<Option<u16>> = (0..cells.len())
        .map(|column| {
            let has_spaces = cells[column]
                .iter()
                .any(|cell| cell.contains(char::is_whitespace));
            if has_spaces && !numeric[column] {
                None
            } else {
                cells_only[column]
            }
        })
        .collect();
    let gaps = 2 * headers.len().saturating_sub(1);
    let fits = |bounds: &Vec<Option<u16>>| {
        let needed = bounds
            .iter()
            .flatten()
            .map(|&w| usize::from(w))
            .sum::<usize>()
            + gaps;
        width.is_none_or(|width| needed <= usize::from(width))
    };
    [with_headers, cells_only]
        .into_iter()
        .find(fits)
        .unwrap_or(single_words)
}

/// A cell's text on a screen: a digest shortened, an instant with a space for its `T`
/// (RFC 3339 allows it) so a narrow column wraps it as date over time.
fn on_screen_text(text: &str) -> String {
    let text = shortened(text);
    if is_instant(&text) {
        return text.replacen('T', " ", 1);
    }
    text
}

/// `2026-11-20T12:00:00Z`, with or without fractions of a second.
fn is_instant(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 20
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes[10] == b'T'
        && bytes[13] == b':'
        && text.ends_with('Z')
        && bytes[..4].iter().all(u8::is_ascii_digit)
}

/// A title or note wrapped at spaces to the screen's width.
fn wrapped(text: &str, screen: &Screen) -> Vec<String> {
    let Some(width) = screen.width else {
        return vec![text.to_string()];
    };
    if console::measure_text_width(text) <= usize::from(width) {
        return vec![text.to_string()];
    }
    let mut table = screen_table(screen);
    table.load_style(NOTHING).add_row(vec![text]);
    if let Some(column) = table.column_mut(0) {
        column.set_padding((0, 0));
    }
    table
        .lines()
        .map(|line| line.trim_end().to_string())
        .collect()
}

/// One record as `field: value` lines, values aligned and wrapped to the screen.
fn fields_table<'a>(fields: impl Iterator<Item = (&'a str, &'a str)>, screen: &Screen) -> Table {
    let mut table = screen_table(screen);
    table.load_style(NOTHING);
    for (field, value) in fields {
        table.add_row(vec![
            Cell::new(format!("{field}:")),
            styled(field, value, screen),
        ]);
    }
    if let Some(names) = table.column_mut(0) {
        names.set_padding((0, 1));
        names.set_constraint(ColumnConstraint::ContentWidth);
    }
    if let Some(values) = table.column_mut(1) {
        values.set_padding((0, 0));
    }
    table
}

fn screen_table(screen: &Screen) -> Table {
    let mut table = Table::new();
    table.force_no_tty();
    if screen.colour {
        // The word coloured, not the padding after it.
        table.enforce_styling().style_text_only();
    }
    match screen.width {
        Some(width) => table
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(width),
        None => table.set_content_arrangement(ContentArrangement::Disabled),
    };
    table
}

/// A cell as a screen shows it: a digest shortened, a status coloured.
fn styled(header: &str, text: &str, screen: &Screen) -> Cell {
    let cell = Cell::new(on_screen_text(text));
    match status_colour(header, text) {
        Some(colour) if screen.colour => cell.fg(colour),
        _ => cell,
    }
}

/// A hex digest or trace id cut to its first characters, with `…` saying so; other text as
/// it is. `sha256:<hex>` keeps its prefix.
fn shortened(text: &str) -> String {
    let (prefix, hex) = text.split_once(':').unwrap_or(("", text));
    let is_digest = hex.len() >= DIGEST_CHARS_MIN && hex.bytes().all(|b| b.is_ascii_hexdigit());
    if !is_digest || prefix.contains(char::is_whitespace) {
        return text.to_string();
    }
    let separator = if prefix.is_empty() { "" } else { ":" };
    format!("{prefix}{separator}{}…", &hex[..DIGEST_PREFIX_CHARS])
}

/// Numbers (amounts, counts, ids) in every filled cell of the column, at least one.
fn is_numeric_column<'a>(mut cells: impl Iterator<Item = &'a str>) -> bool {
    let mut filled = 0;
    let all_numbers = cells.all(|cell| {
        if cell.is_empty() {
            return true;
        }
        filled += 1;
        is_number(cell)
    });
    all_numbers && filled > 0
}

/// Account numbers and the like: digits only, `IDENTIFIER_DIGITS_MIN` or more. Read as names,
/// left-aligned, where amounts and counts line up on the right.
fn is_identifier_column(cells: &[String]) -> bool {
    cells
        .iter()
        .filter(|cell| !cell.is_empty())
        .all(|cell| cell.len() >= IDENTIFIER_DIGITS_MIN && cell.bytes().all(|b| b.is_ascii_digit()))
}

/// `-1500.00`, `42`, `+3`, `4200.00 USD`: an optional sign, digits, an optional fraction, an
/// optional currency code.
fn is_number(text: &str) -> bool {
    let text = match text.split_once(' ') {
        Some((number, code)) if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) => {
            number
        }
        _ => text,
    };
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// The colour of a status a person scans for: green when all is well, yellow when someone
/// should look, red when it stopped. Only status-like columns; the first word counts
/// (`rejected (insufficient_funds)`).
fn status_colour(header: &str, text: &str) -> Option<Color> {
    let is_status = header == "status"
        || header.ends_with("_status")
        || matches!(
            header,
            "decision" | "risk_decision" | "level" | "risk_level"
        );
    if !is_status {
        return None;
    }
    match text.split_whitespace().next()? {
        "active" | "posted" | "approve" | "low" | "matched" | "resolved" | "ok" => {
            Some(Color::Green)
        }
        "frozen" | "review" | "medium" | "pending" | "unresolved" | "reversed" => {
            Some(Color::Yellow)
        }
        "closed" | "rejected" | "reject" | "block" | "high" | "critical" | "failed" => {
            Some(Color::Red)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_and_trace_ids_are_shortened_other_text_is_not() {
        let trace = "745a8f074e7b0841d0da99cc3801852e";
        assert_eq!(shortened(trace), "745a8f074e7b…");
        assert_eq!(shortened(&"0".repeat(64)), "000000000000…");
        assert_eq!(
            shortened(&format!("sha256:{}", "ab".repeat(32))),
            "sha256:abababababab…"
        );
        for text in [
            "sha256:eeb1f915ec83cdd1",
            "4000000000000010",
            "Alice Martin",
            "note: 745a8f074e7b0841d0da99cc3801852e",
        ] {
            assert_eq!(shortened(text), text);
        }
    }

    #[test]
    fn numbers_are_signs_digits_and_a_fraction() {
        for text in [
            "0",
            "-1500.00",
            "164900.00",
            "+3",
            "4000000000000010",
            "4200.00 USD",
        ] {
            assert!(is_number(text), "{text}");
        }
        for text in [
            "",
            "-",
            "1.",
            ".5",
            "1,000.00",
            "2026-11-20",
            "12 usd",
            "1e5",
        ] {
            assert!(!is_number(text), "{text}");
        }
        assert!(is_numeric_column(["1.00", "", "-2.50"].into_iter()));
        assert!(!is_numeric_column(["", ""].into_iter()));
        assert!(!is_numeric_column(["1.00", "n/a"].into_iter()));
    }

    #[test]
    fn account_numbers_are_identifiers_amounts_and_ids_are_not() {
        let column = |cells: &[&str]| cells.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert!(is_identifier_column(&column(&["4000000000000010", ""])));
        assert!(!is_identifier_column(&column(&["4000000000000010", "12"])));
        assert!(!is_identifier_column(&column(&["3651.99"])));
    }

    #[test]
    fn statuses_have_colours_other_columns_none() {
        assert_eq!(status_colour("status", "active"), Some(Color::Green));
        assert_eq!(
            status_colour("status", "rejected (insufficient_funds)"),
            Some(Color::Red)
        );
        assert_eq!(
            status_colour("risk_decision", "review"),
            Some(Color::Yellow)
        );
        assert_eq!(status_colour("holder", "active"), None);
        assert_eq!(status_colour("status", "something new"), None);
    }
}
