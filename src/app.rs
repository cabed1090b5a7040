//! The one dispatcher: parse, start telemetry, open the root span, run the command, print its
//! result or error, and flush telemetry before returning the exit code.

use crate::cli::{Cli, Command};
use crate::commands::{Context, Output};
use crate::error::{AppError, AppResult};
use crate::output::{self, Format};
use crate::store::DbSystem;
use crate::telemetry::{self, Telemetry};
use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry::KeyValue;
use std::time::Instant;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Async worker threads: a command waits on one database, so two are plenty on any machine;
/// CPU-heavy work runs on rayon's pool, which is sized by the cores.
const RUNTIME_THREADS: usize = 2;

pub fn main_exit_code() -> u8 {
    let started = Instant::now();
    crate::store::configure_sqlite();
    let cli = match Cli::parse_documented() {
        Ok(cli) => cli,
        Err(error) => return usage_exit(error),
    };
    // Before anything can log: no message, log line or span may print the password.
    crate::store::register_secret_from_url(&cli.global.database_url);
    crate::store::set_lock_timeout(std::time::Duration::from_secs(
        cli.global.lock_timeout_seconds,
    ));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(RUNTIME_THREADS)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            crate::stderr_line!("error: storage_unavailable: cannot start the runtime: {error}");
            return 7;
        }
    };
    let telemetry = {
        let _guard = runtime.enter();
        Telemetry::init(&cli.global)
    };
    let exit_code = runtime.block_on(run(cli, started));
    telemetry.shutdown();
    exit_code
}

fn usage_exit(error: clap::Error) -> u8 {
    use clap::error::ErrorKind;
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                2
            } else {
                0
            }
        }
        _ => {
            let rendered = error.render().to_string();
            let body = rendered.strip_prefix("error: ").unwrap_or(&rendered);
            let label = output::error_label();
            crate::stderr_line!("{label}: usage_error: {}", body.trim_end());
            2
        }
    }
}

async fn run(cli: Cli, started: Instant) -> u8 {
    let path = cli.command.path();
    let operator = cli.global.operator.clone().unwrap_or_else(login_user);
    let system = DbSystem::from_url(&cli.global.database_url)
        .map(DbSystem::as_str)
        .unwrap_or("other_sql");
    let span = tracing::info_span!(
        target: "fincore",
        "fincore.command",
        otel.name = %format!("fincore.{path}"),
        fincore.command = %path,
        fincore.operator = %operator,
        db.system = %system,
    );
    if let Some(parent) = telemetry::parent_from_environment() {
        let _ = span.set_parent(parent);
    }
    let trace_id = span.context().span().span_context().trace_id().to_string();
    let format = cli.global.format;
    let wide = cli.global.wide;
    let writes = cli.command.writes();
    let outcome = execute(cli, operator, trace_id)
        .instrument(span.clone())
        .await;
    let (exit_code, error_code) = match outcome {
        Ok(result) => present(result, format, wide, writes, &path),
        Err(error) => {
            record_error(&span, &error);
            output::render_error(&error, format);
            (error.exit_code(), Some(error.code.as_str()))
        }
    };
    span.set_attribute("fincore.exit_code", i64::from(exit_code));
    if exit_code >= 2 {
        let description =
            error_code.map_or_else(|| format!("exit code {exit_code}"), str::to_string);
        span.set_status(Status::error(description));
    }
    let elapsed = started.elapsed();
    span.in_scope(|| {
        tracing::info!(
            target: "fincore",
            exit_code,
            elapsed_ms = (elapsed.as_secs_f64() * 1e6).round() / 1e3,
            "fincore {} finished",
            path.replace('.', " ")
        );
    });
    crate::metrics::record_command(&path, exit_code, elapsed);
    // End the root span now: background work that captured it (sqlx's SQLite worker holds
    // `Span::current()` while it serves a request) may drop its handle only after the flush.
    span.context().span().end();
    exit_code
}

async fn execute(cli: Cli, operator: String, trace_id: String) -> Result<Output, AppError> {
    let mut context = Context::new(cli.global, operator, trace_id)?;
    context.creates_database = cli.command.writes();
    let result = dispatch(cli.command, &context).await;
    context.close().await;
    result
}

/// Print the command's result; the exit code and, when stdout could not be written and nothing
/// was committed, the error code. The exit code reports the command's effect (SPEC "Exit
/// codes"):
/// - a closed pipe (`| head`) ends the output quietly with the command's own exit code, as git
///   and ripgrep do;
/// - any other failure (full disk, `>/dev/full`) after a committed change names what was
///   committed on stderr and keeps the command's own exit code: an input-error code would
///   invite a blind retry (retrying the same `--key` replays anyway);
/// - the same failure on a command that changed nothing is `storage_unavailable` (exit 7)
///   naming stdout: nothing happened, running it again is safe.
fn present(
    result: Output,
    format: Format,
    wide: bool,
    writes: bool,
    path: &str,
) -> (u8, Option<&'static str>) {
    let Err(error) = write_stdout(&result, format, wide) else {
        return (result.exit_code, None);
    };
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        return (result.exit_code, None);
    }
    let committed = result.committed.clone().or_else(|| {
        writes.then(|| {
            format!(
                "fincore {} completed and its changes were committed",
                path.replace('.', " ")
            )
        })
    });
    match committed {
        Some(sentence) => {
            crate::stderr_line!("warning: {sentence}; its output could not be written: {error}");
            (result.exit_code, None)
        }
        None => {
            let code = crate::error::ErrorCode::StorageUnavailable;
            crate::stderr_line!("error: {code}: cannot write the output to stdout: {error}");
            (code.exit_code(), Some(code.as_str()))
        }
    }
}

/// `wide`: `--wide`, every table column on a screen.
fn write_stdout(result: &Output, format: Format, wide: bool) -> std::io::Result<()> {
    use std::io::Write;
    // Stdout is line-buffered; a 10,000-row report would be 80,000 write calls without this.
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    if let Some(view) = &result.view {
        let screen = output::Screen::of_stdout(wide);
        output::render_on(view, format, screen.as_ref(), &mut stdout)?;
    }
    if let Some(bytes) = &result.raw {
        stdout.write_all(bytes)?;
    }
    // Flushes the line buffer beneath too: every byte reaches the file while a failure can
    // still be reported.
    stdout.flush()
}

/// The error on the root span (`error.type`, an `exception` event with the code and the
/// masked message) and in the log (`-v`), with the trace id.
fn record_error(span: &tracing::Span, error: &AppError) {
    let message = telemetry::mask_text(&error.message);
    span.set_attribute("error.type", error.code.as_str());
    span.add_event(
        "exception",
        vec![
            KeyValue::new("exception.type", error.code.as_str()),
            KeyValue::new("exception.message", message.clone()),
            KeyValue::new("fincore.error_code", error.code.as_str()),
        ],
    );
    let code = error.code.as_str();
    span.in_scope(|| tracing::info!(target: "fincore", error_code = code, "{message}"));
}

/// The default operator: `USER`, else `LOGNAME`, else (cron, systemd units, containers set
/// neither) the account name of the process's user id from the system's user database,
/// else `uid:N` for a user id without a name.
fn login_user() -> String {
    ["USER", "LOGNAME"]
        .into_iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|name| !name.is_empty())
        .unwrap_or_else(account_name)
}

fn account_name() -> String {
    let uid = nix::unistd::Uid::current();
    match nix::unistd::User::from_uid(uid) {
        Ok(Some(user)) if !user.name.is_empty() => user.name,
        _ => format!("uid:{uid}"),
    }
}

async fn dispatch(command: Command, context: &Context) -> AppResult<Output> {
    match command {
        Command::Account(command) => command.run(context).await,
        Command::Transfer(command) => command.run(context).await,
        Command::Report(command) => command.run(context).await,
        Command::Reconcile(command) => command.run(context).await,
        Command::Ledger(command) => command.run(context).await,
        Command::Audit(command) => command.run(context).await,
        Command::Risk(command) => command.run(context).await,
        Command::Alerts(command) => command.run(context).await,
        Command::Events(command) => command.run(context).await,
        Command::Db(command) => command.run(context).await,
        Command::Completions(arguments) => arguments.run(crate::commands::help::completable(
            <Cli as clap::CommandFactory>::command(),
        )),
        Command::Demo(arguments) => arguments.run(context).await,
        Command::Man(arguments) => arguments.run(crate::commands::help::documented(
            <Cli as clap::CommandFactory>::command(),
        )),
        Command::Help(arguments) => arguments.run(<Cli as clap::CommandFactory>::command()),
    }
}
