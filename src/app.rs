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
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Worker threads: the machine has two cores; more threads only add switching.
const RUNTIME_THREADS: usize = 2;

pub fn main_exit_code() -> u8 {
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
    let exit_code = runtime.block_on(run(cli));
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

async fn run(cli: Cli) -> u8 {
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
    let exit_code = match outcome {
        Ok(result) => present(result, format),
        Err(error) => {
            record_error(&span, &error);
            output::render_error(&error, format);
            error.exit_code()
        }
    };
    span.set_attribute("fincore.exit_code", i64::from(exit_code));
    if exit_code >= 2 {
        span.set_status(Status::error(format!("exit code {exit_code}")));
    }
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

fn record_error(span: &tracing::Span, error: &AppError) {
    span.add_event(
        "exception",
        vec![
            KeyValue::new("exception.type", error.code.as_str()),
            KeyValue::new(
                "exception.message",
                crate::ledger::number::mask_in_text(&crate::store::scrub(&error.message)),
            ),
            KeyValue::new("fincore.error_code", error.code.as_str()),
        ],
    );
}

fn login_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}
