//! Import progress on stderr (only when it is a terminal: `Context::progress_enabled`): a bar
//! in rows with rows/s and ETA as wide as the terminal, and the summary line left when it is
//! cleared, with the elapsed time.

use super::transfer_import::thousands;
use crate::error::{AppError, AppResult};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fs::File;
use std::path::Path;
use std::time::Duration;

/// How often a bar redraws on its own, so it moves (spinner, rate, ETA) while a batch of
/// thousands of rows commits.
const PROGRESS_TICK: Duration = Duration::from_millis(100);

/// The bar of a row-by-row import of `file`. Its length is the file's lines less the header,
/// counted at memchr speed before the import (a quoted field with a newline makes it an
/// estimate; the import raises it when it reads more).
pub(super) fn import_bar(file: &Path) -> AppResult<ProgressBar> {
    let rows = count_lines(file)
        .map_err(|e| AppError::invalid_input(format!("{}: {e}", file.display())))?
        .saturating_sub(1);
    let bar = ProgressBar::with_draw_target(Some(rows), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} importing {wide_bar} {human_pos}/{human_len} rows, {rows_per_second} rows/s, eta {eta}",
        )
        .expect("valid progress template")
        .with_key(
            "rows_per_second",
            |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                let _ = write!(out, "{}", thousands(state.per_sec().round() as u64));
            },
        ),
    );
    bar.enable_steady_tick(PROGRESS_TICK);
    Ok(bar)
}

/// A spinner for an import that commits all its rows in one transaction (`account import`):
/// nothing to count until it ends, so it says how many rows and for how long.
pub(super) fn transaction_spinner(rows: usize) -> ProgressBar {
    let spinner = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    spinner.set_style(
        ProgressStyle::with_template(
            "{spinner} importing {msg} rows in one transaction, {elapsed}",
        )
        .expect("valid progress template"),
    );
    spinner.set_message(thousands(rows as u64));
    spinner.enable_steady_tick(PROGRESS_TICK);
    spinner
}

/// Lines of a file, the last one counted without its newline too; read in blocks, so a
/// large file is never held in memory.
fn count_lines(file: &Path) -> std::io::Result<u64> {
    use std::io::Read;
    let mut reader = File::open(file)?;
    let mut block = vec![0u8; 1 << 20];
    let (mut lines, mut last) = (0u64, b'\n');
    loop {
        let read = reader.read(&mut block)?;
        if read == 0 {
            return Ok(lines + u64::from(last != b'\n'));
        }
        lines += memchr::memchr_iter(b'\n', &block[..read]).count() as u64;
        last = block[read - 1];
    }
}

/// The line left when the bar is cleared: `imported 200,000 rows in 12.3 s (16,260 rows/s);
/// 31 of them need review`.
pub(super) fn import_summary_line(rows: u64, elapsed: Duration, outcome: &str) -> String {
    let seconds = elapsed.as_secs_f64();
    // A rate to show, not money: a float is fine here.
    let rate = if seconds > 0.0 {
        (rows as f64 / seconds).round() as u64
    } else {
        rows
    };
    format!(
        "imported {} rows in {seconds:.1} s ({} rows/s); {outcome}",
        thousands(rows),
        thousands(rate)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_with_or_without_a_last_newline() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("rows.csv");
        for (text, lines) in [("", 0), ("a\n", 1), ("a\nb", 2), ("a\nb\n", 2)] {
            std::fs::write(&file, text).expect("write");
            assert_eq!(count_lines(&file).expect("count"), lines, "{text:?}");
        }
    }

    #[test]
    fn the_summary_line_has_the_elapsed_time_and_the_rate() {
        assert_eq!(
            import_summary_line(
                20_000,
                Duration::from_millis(2_000),
                "3 of them need review"
            ),
            "imported 20,000 rows in 2.0 s (10,000 rows/s); 3 of them need review"
        );
    }
}
