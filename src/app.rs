//! The one dispatcher: parse, start telemetry, open the root span, run the command, print its
//! result or error, and flush telemetry before returning the exit code.

use crate::cli::{Cli, Format};
use crate::commands::{self, Context, Output};
use crate::error::AppError;
use crate::output;
use crate::store::DbSystem;
use crate::telemetry::{self, Telemetry};
use clap::Parser;
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_exit(error),
    };
    // Before anything can log: no message, log line or span may print the password.
    crate::store::register_secret_from_url(&cli.global.database_url);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(RUNTIME_THREADS)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: storage_unavailable: cannot start the runtime: {error}");
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
            eprint!("error: usage_error: {body}");
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
    let outcome = execute(cli, operator, trace_id)
        .instrument(span.clone())
        .await;
    let (exit_code, error_code) = match outcome {
        Ok(result) => (present(result, format), None),
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
    telemetry::metrics::record_command(&path, exit_code, elapsed);
    // End the root span now: background work that captured it (sqlx's SQLite worker holds
    // `Span::current()` while it serves a request) may drop its handle only after the flush.
    span.context().span().end();
    exit_code
}

async fn execute(cli: Cli, operator: String, trace_id: String) -> Result<Output, AppError> {
    let context = Context::new(cli.global, operator, trace_id)?;
    let result = commands::dispatch(cli.command, &context).await;
    context.close().await;
    result
}

fn present(result: Output, format: Format) -> u8 {
    if let Some(view) = &result.view {
        // Stdout is line-buffered; a 10,000-row report would be 80,000 write calls without this.
        let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        let written = output::render(view, format, &mut stdout)
            .and_then(|()| std::io::Write::flush(&mut stdout));
        if let Err(error) = written {
            // A closed pipe (`| head`) is not the command's failure.
            if error.kind() != std::io::ErrorKind::BrokenPipe {
                eprintln!("error: invalid_input: cannot write output: {error}");
                return 4;
            }
        }
    }
    result.exit_code
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

fn login_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}
