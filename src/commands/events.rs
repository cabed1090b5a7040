//! `fincore events export`: the change feed as NDJSON CloudEvents on stdout, from a cursor on.
//!
//! Delivery is at least once: with `--cursor-file` the cursor moves only after the lines before
//! it were written and flushed to stdout (then the file is replaced atomically: a temporary file,
//! fsync, rename, fsync of the folder). A crash or a closed pipe may repeat the lines written
//! since the last move, never skip one; each event's id is stable for deduplication.

use super::{Context, Output};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::events::{Cursor, Position};
use crate::service::events::{self as export_service, EventSink, ExportRequest};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Largest cursor file read, in bytes (a cursor is about 20).
const CURSOR_FILE_BYTES_MAX: u64 = 1024;
/// Stdout buffer: large writes, and a flush at every checkpoint.
const STDOUT_BUFFER_BYTES: usize = 1 << 18;
/// `--follow` looks for new changes this often unless `--poll-ms` says otherwise.
const FOLLOW_POLL_MS_DEFAULT: u64 = 1_000;

#[derive(Debug, Subcommand)]
pub(crate) enum EventsCommand {
    /// Print every change since a cursor as NDJSON CloudEvents 1.0, in commit order
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// Start after this cursor: an event id (SEQ.INDEX), an audit seq (SEQ), or 0 for the start
    #[arg(long, value_name = "CURSOR", conflicts_with = "cursor_file")]
    since: Option<String>,
    /// Read the cursor from FILE (missing: the start) and advance it after each flushed batch
    #[arg(long = "cursor-file", value_name = "FILE")]
    cursor_file: Option<PathBuf>,
    /// Print at most N events (with --follow: in all)
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
    /// Keep polling for new changes until interrupted (Ctrl-C, SIGTERM)
    #[arg(long)]
    follow: bool,
    /// With --follow: milliseconds between polls
    #[arg(long = "poll-ms", value_name = "MS", default_value_t = FOLLOW_POLL_MS_DEFAULT, requires = "follow")]
    poll_ms: u64,
    /// Show full account numbers (recorded in the audit chain)
    #[arg(long)]
    unmask: bool,
}

impl EventsCommand {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            EventsCommand::Export(_) => "export",
        }
    }

    pub(crate) async fn run(self, context: &Context) -> AppResult<Output> {
        match self {
            EventsCommand::Export(arguments) => export(context, arguments).await,
        }
    }
}

async fn export(context: &Context, arguments: ExportArgs) -> AppResult<Output> {
    if arguments.limit == Some(0) {
        return Err(AppError::usage("--limit must be at least 1"));
    }
    let cursor = match (&arguments.since, &arguments.cursor_file) {
        (Some(text), _) => Cursor::parse(text)
            .map_err(|message| AppError::invalid_input(format!("--since: {message}")))?,
        (None, Some(path)) => read_cursor_file(path)?,
        (None, None) => Cursor::default(),
    };
    let store = context.store().await?;
    if arguments.unmask {
        export_service::record_unmask(store, &context.actor, cursor).await?;
    }
    let mut sink = StdoutSink::new(cursor, arguments.cursor_file.clone());
    let mut request = ExportRequest {
        cursor,
        limit: arguments.limit.unwrap_or(u64::MAX),
        unmask: arguments.unmask,
    };
    // Listen before the first poll: a signal that comes while a poll runs is kept until the
    // wait after it, which then ends at once.
    let mut stop = arguments.follow.then(StopSignals::install).transpose()?;
    loop {
        let outcome = export_service::export(store, &request, &mut sink).await;
        if sink.failure.is_some() {
            break;
        }
        let outcome = outcome?;
        request.cursor = outcome.cursor;
        request.limit -= outcome.events;
        let Some(stop) = stop.as_mut().filter(|_| request.limit > 0) else {
            break;
        };
        if stop
            .arrives_within(Duration::from_millis(arguments.poll_ms))
            .await
        {
            break;
        }
    }
    sink.finish()
}

/// SIGINT (Ctrl-C) and SIGTERM end `--follow` between two polls, with the cursor saved.
struct StopSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> AppResult<StopSignals> {
        use tokio::signal::unix::{signal, SignalKind};
        let listen = |kind: SignalKind| {
            signal(kind)
                .map_err(|error| AppError::storage(format!("cannot listen for signals: {error}")))
        };
        Ok(StopSignals {
            interrupt: listen(SignalKind::interrupt())?,
            terminate: listen(SignalKind::terminate())?,
        })
    }

    /// Wait for the next poll; true when a stop signal came first (or while polling).
    async fn arrives_within(&mut self, wait: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(wait) => false,
            _ = self.interrupt.recv() => true,
            _ = self.terminate.recv() => true,
        }
    }
}

/// A cursor file holds one cursor; a missing file is the start of the feed.
fn read_cursor_file(path: &Path) -> AppResult<Cursor> {
    let shown = path.display();
    let text = match std::fs::metadata(path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Cursor::default()),
        Err(error) => return Err(AppError::invalid_input(format!("--cursor-file {shown}: {error}"))),
        Ok(metadata) if metadata.len() > CURSOR_FILE_BYTES_MAX => {
            return Err(AppError::invalid_input(format!(
                "--cursor-file {shown}: longer than {CURSOR_FILE_BYTES_MAX} bytes: not a cursor file"
            )))
        }
        Ok(_) => std::fs::read_to_string(path)
            .map_err(|error| AppError::invalid_input(format!("--cursor-file {shown}: {error}")))?,
    };
    Cursor::parse(&text)
        .map_err(|message| AppError::invalid_input(format!("--cursor-file {shown}: {message}")))
}

/// Replace the cursor file atomically: a crash leaves the old cursor or the new one, never a
/// torn one.
fn write_cursor_file(path: &Path, cursor: Cursor) -> std::io::Result<()> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().map_or_else(
        || "cursor".into(),
        |name| name.to_string_lossy().into_owned(),
    );
    let temporary = folder.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(format!("{cursor}\n").as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, path)?;
    std::fs::File::open(&folder)?.sync_all()
}

/// Lines go to stdout through a buffer; `checkpoint` flushes it, then moves the cursor file to
/// the last line written. The first write failure stops the export and is kept here.
struct StdoutSink {
    out: std::io::BufWriter<std::io::Stdout>,
    cursor_file: Option<PathBuf>,
    written: Option<Position>,
    saved: Cursor,
    failure: Option<Failure>,
}

enum Failure {
    Stdout(std::io::Error),
    CursorFile(std::io::Error),
}

impl StdoutSink {
    fn new(cursor: Cursor, cursor_file: Option<PathBuf>) -> StdoutSink {
        StdoutSink {
            out: std::io::BufWriter::with_capacity(STDOUT_BUFFER_BYTES, std::io::stdout()),
            cursor_file,
            written: None,
            saved: cursor,
            failure: None,
        }
    }

    fn fail(&mut self, failure: Failure) -> AppError {
        let message = match &failure {
            Failure::Stdout(error) => format!("cannot write the events to stdout: {error}"),
            Failure::CursorFile(error) => format!("cannot write the cursor file: {error}"),
        };
        self.failure = Some(failure);
        AppError::storage(message)
    }

    /// The command's result: a closed pipe ends quietly (exit 0, the cursor where the last
    /// flush left it); any other write failure is exit 7.
    fn finish(mut self) -> AppResult<Output> {
        if self.failure.is_none() {
            let _ = self.checkpoint();
        }
        match self.failure {
            None => Ok(Output::raw(Vec::new())),
            Some(Failure::Stdout(error)) if error.kind() == std::io::ErrorKind::BrokenPipe => {
                Ok(Output::raw(Vec::new()))
            }
            Some(Failure::Stdout(error)) => Err(AppError::new(
                ErrorCode::StorageUnavailable,
                format!("cannot write the events to stdout: {error}"),
            )),
            Some(Failure::CursorFile(error)) => {
                let shown = self
                    .cursor_file
                    .as_deref()
                    .unwrap_or(Path::new(""))
                    .display();
                Err(AppError::storage(format!(
                    "--cursor-file {shown}: cannot write the cursor: {error}"
                )))
            }
        }
    }
}

impl EventSink for StdoutSink {
    fn write(&mut self, position: Position, line: &[u8]) -> AppResult<()> {
        if let Err(error) = self.out.write_all(line) {
            return Err(self.fail(Failure::Stdout(error)));
        }
        self.written = Some(position);
        Ok(())
    }

    fn checkpoint(&mut self) -> AppResult<()> {
        if let Err(error) = self.out.flush() {
            return Err(self.fail(Failure::Stdout(error)));
        }
        let (Some(path), Some(written)) = (self.cursor_file.clone(), self.written) else {
            return Ok(());
        };
        let cursor = Cursor::after(written);
        if cursor == self.saved {
            return Ok(());
        }
        if let Err(error) = write_cursor_file(&path, cursor) {
            return Err(self.fail(Failure::CursorFile(error)));
        }
        self.saved = cursor;
        Ok(())
    }
}
