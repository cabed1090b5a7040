//! Whether stdout is a screen a person reads, how wide it is and whether it takes colour.
//!
//! A pipe or a file gets the tables it always got, byte for byte: scripts that read them keep
//! working. `COLUMNS` set to a number makes any stdout a screen of that width (`COLUMNS=100
//! fincore account list | less`), and wins over the terminal's own width.

use std::io::IsTerminal;

/// How a person's screen shows tables: fitted to `width`, the default columns unless `wide`,
/// statuses in colour when `colour`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Screen {
    /// Columns available; None when the terminal does not say (tables then do not wrap).
    pub(crate) width: Option<u16>,
    pub(crate) colour: bool,
    /// `--wide`: every column, as CSV has them.
    pub(crate) wide: bool,
}

impl Screen {
    /// The screen stdout is, or None for a pipe or a file without `COLUMNS`.
    pub(crate) fn of_stdout(wide: bool) -> Option<Screen> {
        let terminal = std::io::stdout().is_terminal();
        let columns = columns_from_environment();
        if !terminal && columns.is_none() {
            return None;
        }
        let width = columns.or_else(|| {
            console::Term::stdout()
                .size_checked()
                .map(|(_rows, columns)| columns)
        });
        Some(Screen {
            width,
            colour: terminal && colour_allowed(),
            wide,
        })
    }
}

/// `COLUMNS` when it holds a positive number of columns.
fn columns_from_environment() -> Option<u16> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|text| text.trim().parse::<u16>().ok())
        .filter(|&columns| columns > 0)
}

/// NO_COLOR (https://no-color.org): set to anything but the empty string, no colour.
fn colour_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

/// `error` in red when stderr is a terminal that takes colour, else plain: the word a person
/// looks for first, and the prefix scripts match on (`error: <code>: …`) stays the same text.
pub(crate) fn error_label() -> String {
    if std::io::stderr().is_terminal() && colour_allowed() {
        console::style("error")
            .red()
            .bold()
            .force_styling(true)
            .to_string()
    } else {
        "error".to_string()
    }
}
