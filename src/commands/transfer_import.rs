//! `fincore transfer import`: check the flags and the rejects path, report rejected rows
//! (to `--rejects`, else the first few on stderr), stop cleanly on SIGINT/SIGTERM, and
//! present what became of the rows. The import itself is `ledger::import`.

use super::transfer::RulesArg;
use super::{progress, Context, Output};
use crate::csv_input::CheckedFile;
use crate::error::{AppError, AppResult};
use crate::output::{to_json, Column, Record, Section, View};
use crate::service::transfer_import::{
    import_file, ImportObserver, ImportOptions, ImportSummary, RejectedRow, IMPORT_BATCH_ROWS,
    IMPORT_BATCH_ROWS_MIN, IMPORT_COLUMNS,
};
use crate::store::Store;
use clap::Args;
use indicatif::ProgressBar;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use tokio::signal::unix::{signal, SignalKind};

/// Without `--rejects`, this many rejected rows are shown on stderr; the rest are counted.
pub(crate) const REJECTS_SHOWN_MAX: usize = 10;

/// Exit codes of an import stopped by a signal: 128 + the signal's number, as a shell
/// reports a process the signal killed, so that no script mistakes it for success.
pub(crate) const EXIT_INTERRUPTED_SIGINT: u8 = 130;
pub(crate) const EXIT_INTERRUPTED_SIGTERM: u8 = 143;

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// CSV with the header key,from,to,amount,currency,at,reference,description
    file: PathBuf,
    /// Write rejected rows here with their error code (refused if it exists, unless --force)
    #[arg(long)]
    rejects: Option<PathBuf>,
    /// Overwrite an existing --rejects file
    #[arg(long)]
    force: bool,
    /// Validate and assess every row and report what would be posted, replayed and rejected,
    /// writing nothing to the database
    #[arg(long)]
    dry_run: bool,
    /// Rows per transaction (a signal stops the import between two)
    #[arg(
        long,
        value_name = "N",
        default_value_t = IMPORT_BATCH_ROWS,
        value_parser = parse_batch_rows,
    )]
    batch_rows: usize,
    #[command(flatten)]
    risk: RulesArg,
}

impl ImportArgs {
    /// `--dry-run`: the command reads the ledger and changes nothing.
    pub(crate) fn is_dry_run(&self) -> bool {
        self.dry_run
    }
}

fn parse_batch_rows(text: &str) -> Result<usize, String> {
    let range = IMPORT_BATCH_ROWS_MIN..=IMPORT_BATCH_ROWS;
    text.parse::<usize>()
        .ok()
        .filter(|rows| range.contains(rows))
        .ok_or_else(|| {
            format!("expected a whole number of rows from {IMPORT_BATCH_ROWS_MIN} to {IMPORT_BATCH_ROWS}")
        })
}

pub(super) async fn import_for_demo(
    context: &Context,
    file: &Path,
    rejects: &Path,
) -> AppResult<Output> {
    let arguments = ImportArgs {
        file: file.to_path_buf(),
        rejects: Some(rejects.to_path_buf()),
        // The demo's folder is its own: a second run rewrites its rejects files.
        force: true,
        dry_run: false,
        batch_rows: IMPORT_BATCH_ROWS,
        risk: RulesArg::default(),
    };
    // No signal handler: Ctrl-C keeps ending the whole demo (its ledger is a scratch copy),
    // and a handler, once installed, would swallow Ctrl-C in the demo's later steps too.
    run_import(context, arguments, WatchSignals::No).await
}

pub(super) async fn import(context: &Context, arguments: ImportArgs) -> AppResult<Output> {
    run_import(context, arguments, WatchSignals::Yes).await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WatchSignals {
    Yes,
    No,
}

async fn run_import(
    context: &Context,
    arguments: ImportArgs,
    watch: WatchSignals,
) -> AppResult<Output> {
    // The input must be there before anything else is looked at (exit 4 naming it).
    std::fs::metadata(&arguments.file)
        .map_err(|e| AppError::invalid_input(format!("{}: {e}", arguments.file.display())))?;
    // Before the database or the rejects file is touched: an unclosed quote is found only
    // at the end of the file, and batches commit while it streams.
    let checked = crate::csv_input::check_file(&arguments.file, b',')?;
    let database = sqlite_file(&context.global.database_url);
    if let Some(rejects) = &arguments.rejects {
        check_rejects_path(
            rejects,
            &arguments.file,
            database.as_deref(),
            arguments.force,
        )?;
    }
    let options = ImportOptions {
        batch_rows: arguments.batch_rows,
        dry_run: arguments.dry_run,
        risk: arguments.risk.options()?,
    };
    // A dry run opens the database as it is (no migration, no new file) and closes it itself,
    // also after a failure, so that SQLite removes its WAL and shared-memory files.
    if arguments.dry_run {
        let store = open_for_dry_run(context, database.as_deref()).await?;
        let imported = import_into(&store, context, &arguments, &checked, options, watch).await;
        store.close().await;
        return imported;
    }
    let store = context.store().await?;
    import_into(store, context, &arguments, &checked, options, watch).await
}

async fn import_into(
    store: &Store,
    context: &Context,
    arguments: &ImportArgs,
    checked: &CheckedFile,
    options: ImportOptions,
    watch: WatchSignals,
) -> AppResult<Output> {
    let rejects = arguments.rejects.as_deref().map(open_rejects).transpose()?;
    let progress = if context.progress_enabled() {
        progress::import_bar(&arguments.file)?
    } else {
        ProgressBar::hidden()
    };
    let mut reporter = ImportReporter::new(rejects, progress);
    let stop = match watch {
        WatchSignals::Yes => Some(StopListener::start()?),
        WatchSignals::No => None,
    };
    reporter.stop = stop.as_ref().map(|stop| stop.received.clone());
    let imported = import_file(store, &context.actor, checked, &mut reporter, options).await;
    drop(stop);
    let summary = reporter.finish(imported)?;
    Ok(present(arguments, &summary))
}

/// `--rejects` must not destroy anything: not the input (today's bug: the rejects writer
/// truncated it before reading), not the database, and no existing file unless `--force`.
/// Files are compared by device and inode, so a symlink or hard link to them is caught too.
/// Refused with a usage error (exit 2) before anything is opened or written.
fn check_rejects_path(
    rejects: &Path,
    input: &Path,
    database: Option<&Path>,
    force: bool,
) -> AppResult<()> {
    let Ok(existing) = std::fs::metadata(rejects) else {
        return Ok(()); // Nothing there yet: creating it (exclusively) destroys nothing.
    };
    let is_existing = |other: &Path| {
        std::fs::metadata(other)
            .is_ok_and(|m| m.dev() == existing.dev() && m.ino() == existing.ino())
    };
    let shown = rejects.display();
    if is_existing(input) {
        return Err(AppError::usage(format!(
            "--rejects {shown}: is the input file {}; choose another path for the rejected rows",
            input.display()
        )));
    }
    if database.is_some_and(is_existing) {
        return Err(AppError::usage(format!(
            "--rejects {shown}: is the database file; choose another path for the rejected rows"
        )));
    }
    if !force {
        return Err(refuse_existing(rejects));
    }
    Ok(())
}

fn refuse_existing(rejects: &Path) -> AppError {
    AppError::usage(format!(
        "--rejects {}: already exists; pass --force to overwrite it, or choose another path",
        rejects.display()
    ))
}

/// Create the rejects file with its header. Without `--force` it is created exclusively, so a
/// file that appeared since the check is not overwritten either.
fn open_rejects(path: &Path) -> AppResult<csv::Writer<File>> {
    let file = File::options()
        .write(true)
        .create_new(true)
        .open(path)
        .or_else(|error| match error.kind() {
            // Only reachable with --force (checked before) or in a race (refused).
            std::io::ErrorKind::AlreadyExists if std::fs::metadata(path).is_ok() => {
                File::create(path)
            }
            _ => Err(error),
        })
        .map_err(|e| AppError::invalid_input(format!("--rejects {}: {e}", path.display())))?;
    let mut writer = csv::Writer::from_writer(file);
    let mut header = vec!["line"];
    header.extend(IMPORT_COLUMNS);
    header.extend(["error_code", "error_message"]);
    writer
        .write_record(&header)
        .map_err(|e| AppError::invalid_input(format!("--rejects {}: {e}", path.display())))?;
    Ok(writer)
}

/// The database for a dry run, exactly as it is: a SQLite file that does not exist is not
/// created (exit 7), and a schema that is not this binary's is not migrated (exit 7).
async fn open_for_dry_run(context: &Context, database: Option<&Path>) -> AppResult<Store> {
    if let Some(path) = database {
        if !path.exists() {
            return Err(AppError::storage(format!(
                "database {} does not exist; --dry-run creates nothing (import for real, or check --db)",
                path.display()
            )));
        }
    }
    let store = Store::open_as_is(&context.open_options(false)).await?;
    let status = store.schema_status().await?;
    if status.pending > 0 || status.applied_version != status.binary_version {
        store.close().await;
        return Err(AppError::storage(format!(
            "--dry-run: the database schema is at version {}, this fincore's is {}; a dry run migrates nothing (run `fincore db migrate` first)",
            status.applied_version, status.binary_version
        )));
    }
    Ok(store)
}

/// The file of a `sqlite://PATH[?…]` URL; None for PostgreSQL and in-memory SQLite.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" || rest.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

/// SIGINT and SIGTERM during an import: the first asks the import to stop at the next batch
/// boundary; a second stops the process at once (the open batch is then rolled back by the
/// database, as after a crash). Without this, either signal would kill the process with the
/// rejects file unflushed and the operator told nothing.
struct StopListener {
    /// The signal's number once one arrived, else 0.
    received: Arc<AtomicI32>,
    task: tokio::task::JoinHandle<()>,
}

impl StopListener {
    fn start() -> AppResult<StopListener> {
        let cannot =
            |e: std::io::Error| AppError::storage(format!("cannot watch for signals: {e}"));
        let mut interrupt = signal(SignalKind::interrupt()).map_err(cannot)?;
        let mut terminate = signal(SignalKind::terminate()).map_err(cannot)?;
        let received = Arc::new(AtomicI32::new(0));
        let seen = received.clone();
        let task = tokio::spawn(async move {
            loop {
                let number = tokio::select! {
                    _ = interrupt.recv() => SignalKind::interrupt().as_raw_value(),
                    _ = terminate.recv() => SignalKind::terminate().as_raw_value(),
                };
                let name = signal_name(number);
                if seen.swap(number, Ordering::SeqCst) != 0 {
                    say(&format!(
                        "fincore: {name} again: stopping now; the open batch is rolled back, committed batches stay"
                    ));
                    std::process::exit(i32::from(exit_code_of(number)));
                }
                say(&format!(
                    "fincore: {name} received: stopping after the current batch commits (send it again to stop at once)"
                ));
            }
        });
        Ok(StopListener { received, task })
    }
}

impl Drop for StopListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn signal_name(number: i32) -> &'static str {
    if number == SignalKind::terminate().as_raw_value() {
        "SIGTERM"
    } else {
        "SIGINT"
    }
}

fn exit_code_of(number: i32) -> u8 {
    if number == SignalKind::terminate().as_raw_value() {
        EXIT_INTERRUPTED_SIGTERM
    } else {
        EXIT_INTERRUPTED_SIGINT
    }
}

/// One line on stderr; a stderr that cannot be written is no reason to fail (or panic).
fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Writes rejected rows to `--rejects` (or the first few to stderr), draws the progress bar
/// and relays a stop request.
struct ImportReporter {
    rejects: Option<csv::Writer<File>>,
    /// Rejected rows shown on stderr (no `--rejects`).
    shown: usize,
    progress: ProgressBar,
    stop: Option<Arc<AtomicI32>>,
}

impl ImportReporter {
    fn new(rejects: Option<csv::Writer<File>>, progress: ProgressBar) -> ImportReporter {
        ImportReporter {
            rejects,
            shown: 0,
            progress,
            stop: None,
        }
    }

    /// After the import (finished, stopped or failed): the rejects file flushed, the count of
    /// rejected rows not shown on stderr, then the import's own result.
    fn finish(mut self, imported: AppResult<ImportSummary>) -> AppResult<ImportSummary> {
        let elapsed = self.progress.elapsed();
        let shown = !self.progress.is_hidden();
        self.progress.finish_and_clear();
        if let (true, Ok(summary)) = (shown, &imported) {
            say(&progress::import_summary_line(
                summary.rows,
                elapsed,
                &format!("{} of them need review", thousands(summary.review)),
            ));
        }
        let flushed = match &mut self.rejects {
            Some(writer) => writer
                .flush()
                .map_err(|e| AppError::invalid_input(format!("--rejects: {e}"))),
            None => Ok(()),
        };
        if let Ok(summary) = &imported {
            let hidden = summary.rejected.saturating_sub(self.shown as u64);
            if self.rejects.is_none() && hidden > 0 {
                say(&format!(
                    "… and {} more rejected rows; use --rejects FILE to keep every rejected row",
                    thousands(hidden)
                ));
            }
        }
        let summary = imported?;
        flushed?;
        Ok(summary)
    }
}

impl ImportObserver for ImportReporter {
    fn rejected(&mut self, row: &RejectedRow) -> AppResult<()> {
        let Some(writer) = &mut self.rejects else {
            if self.shown < REJECTS_SHOWN_MAX {
                self.shown += 1;
                let line = rejected_line(row);
                self.progress.suspend(|| say(&line));
            }
            return Ok(());
        };
        let mut record = vec![row.line.to_string()];
        record.extend(
            (0..IMPORT_COLUMNS.len()).map(|i| row.fields.get(i).cloned().unwrap_or_default()),
        );
        record.push(row.error.code.as_str().to_string());
        record.push(row.error.message.clone());
        writer
            .write_record(&record)
            .map_err(|e| AppError::invalid_input(format!("--rejects: {e}")))
    }

    fn progress(&mut self, rows_done: u64, _bytes_read: u64) {
        // The row count is estimated from newlines: a quoted field may hold more.
        if rows_done > self.progress.length().unwrap_or(0) {
            self.progress.set_length(rows_done);
        }
        self.progress.set_position(rows_done);
    }

    fn stop_requested(&self) -> Option<String> {
        let number = self.stop.as_ref()?.load(Ordering::SeqCst);
        (number != 0).then(|| signal_name(number).to_string())
    }
}

/// `rejected: line 7: insufficient_funds: …` (the message's own `line 7: ` is not repeated).
fn rejected_line(row: &RejectedRow) -> String {
    let prefix = format!("line {}: ", row.line);
    let message = row
        .error
        .message
        .strip_prefix(&prefix)
        .unwrap_or(&row.error.message);
    format!("rejected: line {}: {}: {message}", row.line, row.error.code)
}

/// 1234567 → "1,234,567".
pub(super) fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn present(arguments: &ImportArgs, summary: &ImportSummary) -> Output {
    let import = ImportView {
        rows: summary.rows,
        posted: summary.posted,
        replayed: summary.replayed,
        rejected: summary.rejected,
        dry_run: summary.dry_run,
        interrupted: summary.interrupted.clone(),
        file: arguments.file.display().to_string(),
        rejects_file: arguments.rejects.as_ref().map(|p| p.display().to_string()),
    };
    let mut view = View::new(to_json(&import), vec![Section::of_fields(&import)]);
    if summary.dry_run {
        view = view
            .with_note("dry run: the counts say what an import would do now; nothing was written");
    }
    let mut exit_code = if summary.rejected > 0 { 1 } else { 0 };
    if let Some(signal) = &summary.interrupted {
        say(&interrupted_message(arguments, summary, signal));
        exit_code = if signal == "SIGTERM" {
            EXIT_INTERRUPTED_SIGTERM
        } else {
            EXIT_INTERRUPTED_SIGINT
        };
    }
    let output = Output::view(view).with_exit_code(exit_code);
    if summary.dry_run {
        return output; // Nothing committed: unwritable output is then exit 7 (`app::present`).
    }
    let stopped = match &summary.interrupted {
        Some(signal) => format!(" (stopped by {signal}: the rest of the file was not read)"),
        None => String::new(),
    };
    output.committed(format!(
        "the import of {} was committed: {} posted, {} replayed, {} rejected{stopped}",
        arguments.file.display(),
        summary.posted,
        summary.replayed,
        summary.rejected
    ))
}

/// What an operator needs after stopping an import: what is committed and how to go on.
fn interrupted_message(arguments: &ImportArgs, summary: &ImportSummary, signal: &str) -> String {
    let done = if summary.dry_run {
        "assessed"
    } else {
        "committed"
    };
    let mut message = format!(
        "fincore: import stopped by {signal}: {} rows {done} (posted {}, replayed {}, rejected {}); the rest of {} was not read.",
        thousands(summary.rows),
        thousands(summary.posted),
        thousands(summary.replayed),
        thousands(summary.rejected),
        arguments.file.display()
    );
    if summary.dry_run {
        message.push_str(" Nothing was written (dry run).");
        return message;
    }
    message.push_str(
        " Re-running the same command resumes: rows already posted are replayed by their keys, never posted twice",
    );
    match &arguments.rejects {
        Some(rejects) if !arguments.force => message.push_str(&format!(
            " (add --force to rewrite {}: the re-run reports every rejected row again).",
            rejects.display()
        )),
        _ => message.push('.'),
    }
    message
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}

/// `transfer import`: what became of the rows of which file. Tables show the counts, and
/// `dry run` only for a dry run.
#[derive(serde::Serialize)]
struct ImportView {
    rows: u64,
    posted: u64,
    replayed: u64,
    rejected: u64,
    dry_run: bool,
    interrupted: Option<String>,
    file: String,
    rejects_file: Option<String>,
}

impl Record for ImportView {
    const COLUMNS: &'static [Column<ImportView>] = &[
        Column::field("rows"),
        Column::field("posted"),
        Column::field("replayed"),
        Column::field("rejected"),
        Column::optional_text("dry run", |import| {
            import
                .dry_run
                .then(|| "yes: nothing was written".to_string())
        }),
    ];
}
