//! Tracing for a short-lived CLI: every command is one root span `fincore.<command path>`,
//! exported over OTLP only when an endpoint variable is set (otherwise nothing waits), and
//! flushed with a bounded shutdown before the process exits.

use crate::cli::{GlobalOptions, LogFormat};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{filter, EnvFilter, Layer};

/// Export timeout when `OTEL_EXPORTER_OTLP_TIMEOUT` is not given: a receiver that accepts and
/// never answers must not hold the command for the library's 10 s default.
pub const EXPORT_TIMEOUT: Duration = Duration::from_millis(1_500);
/// Upper bound on the flush at exit.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_millis(2_000);
const SERVICE_NAME_DEFAULT: &str = "fincore";

pub struct Telemetry {
    tracer_provider: SdkTracerProvider,
    exporting: bool,
}

fn env_set(name: &str) -> bool {
    std::env::var(name)
        .map(|value| !value.trim().is_empty())
        .unwrap_or(false)
}

fn sdk_disabled() -> bool {
    std::env::var("OTEL_SDK_DISABLED")
        .map(|value| value.trim().eq_ignore_ascii_case("true"))
        .unwrap_or(false)
}

/// `grpc` or `http/protobuf` from `OTEL_EXPORTER_OTLP_PROTOCOL`; unset, port 4318 in the
/// endpoint means HTTP and anything else gRPC (what collectors listen on by convention).
fn protocol() -> Protocol {
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .or_else(|_| std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT"))
        .unwrap_or_default();
    let chosen = std::env::var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        .or_else(|_| std::env::var("OTEL_EXPORTER_OTLP_PROTOCOL"))
        .unwrap_or_default();
    match chosen.trim() {
        "grpc" => Protocol::Grpc,
        "http/protobuf" => Protocol::HttpBinary,
        "http/json" => Protocol::HttpJson,
        _ if endpoint.contains(":4318") => Protocol::HttpBinary,
        _ => Protocol::Grpc,
    }
}

fn span_exporter() -> Result<opentelemetry_otlp::SpanExporter, String> {
    let timeout_given =
        env_set("OTEL_EXPORTER_OTLP_TIMEOUT") || env_set("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT");
    let exporter = match protocol() {
        Protocol::Grpc => {
            let builder = opentelemetry_otlp::SpanExporter::builder().with_tonic();
            let builder = if timeout_given {
                builder
            } else {
                builder.with_timeout(EXPORT_TIMEOUT)
            };
            builder.build()
        }
        protocol => {
            let builder = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(protocol);
            let builder = if timeout_given {
                builder
            } else {
                builder.with_timeout(EXPORT_TIMEOUT)
            };
            builder.build()
        }
    };
    exporter.map_err(|error| error.to_string())
}

pub fn resource() -> Resource {
    let builder = Resource::builder();
    if env_set("OTEL_SERVICE_NAME") {
        builder.build()
    } else {
        builder.with_service_name(SERVICE_NAME_DEFAULT).build()
    }
}

impl Telemetry {
    /// Must run inside the tokio runtime's context (the gRPC channel is created on it).
    pub fn init(global: &GlobalOptions) -> Telemetry {
        let exporting = !sdk_disabled()
            && (env_set("OTEL_EXPORTER_OTLP_ENDPOINT")
                || env_set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"));
        let mut builder = SdkTracerProvider::builder().with_resource(resource());
        let mut export_problem = None;
        if exporting {
            match span_exporter() {
                Ok(exporter) => builder = builder.with_batch_exporter(exporter),
                Err(error) => export_problem = Some(error),
            }
        }
        let tracer_provider = builder.build();
        let tracer = tracer_provider.tracer("fincore");
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        // Separate filters: the log filter must never drop the INFO root span from export.
        let span_filter =
            FreshInterest(filter::Targets::new().with_target("fincore", tracing::Level::TRACE));
        let otel_layer = tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(span_filter);
        let registry = tracing_subscriber::registry().with(otel_layer);
        let log_filter = FreshInterest(log_filter(global));
        let _ = match global.log_format {
            LogFormat::Text => registry
                .with(
                    tracing_subscriber::fmt::layer()
                        .with_writer(ScrubbedStderr)
                        .with_ansi(std::env::var_os("NO_COLOR").is_none())
                        .with_filter(log_filter),
                )
                .try_init(),
            LogFormat::Json => registry
                .with(
                    tracing_subscriber::fmt::layer()
                        .json()
                        .with_writer(ScrubbedStderr)
                        .with_filter(log_filter),
                )
                .try_init(),
        };
        if let Some(problem) = export_problem {
            tracing::warn!("telemetry export disabled: {problem}");
        }
        Telemetry {
            tracer_provider,
            exporting,
        }
    }

    /// Flush spans, bounded. Call outside async code: the exporter runs on the runtime's
    /// worker threads while this thread waits.
    pub fn shutdown(self) {
        if self.exporting {
            let _ = self.tracer_provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT);
        }
    }
}

/// A per-layer filter that never lets a callsite's interest be cached as "always".
///
/// Per-layer filters pass their verdict from `enabled` to `on_event` through a thread-local
/// bitmap. For an "always" callsite the `tracing` macros skip `enabled`, so the layer reads the
/// verdict left by the previous `enabled` call, and sqlx calls `enabled!` after every query
/// without emitting an event when its statement log is off. The next event or span on that
/// thread (a retry notice, an import batch span) was then silently dropped
/// (tokio-rs/tracing#2519, #2704). "Sometimes" makes every dispatch ask `enabled` afresh.
struct FreshInterest<F>(F);

impl<S, F: tracing_subscriber::layer::Filter<S>> tracing_subscriber::layer::Filter<S>
    for FreshInterest<F>
{
    fn enabled(
        &self,
        metadata: &tracing::Metadata<'_>,
        context: &tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        self.0.enabled(metadata, context)
    }

    fn callsite_enabled(
        &self,
        metadata: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        let interest = self.0.callsite_enabled(metadata);
        if interest.is_always() {
            tracing::subscriber::Interest::sometimes()
        } else {
            interest
        }
    }

    fn event_enabled(
        &self,
        event: &tracing::Event<'_>,
        context: &tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        self.0.event_enabled(event, context)
    }

    fn max_level_hint(&self) -> Option<filter::LevelFilter> {
        self.0.max_level_hint()
    }

    fn on_new_span(
        &self,
        attributes: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        context: tracing_subscriber::layer::Context<'_, S>,
    ) {
        self.0.on_new_span(attributes, id, context)
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        context: tracing_subscriber::layer::Context<'_, S>,
    ) {
        self.0.on_record(id, values, context)
    }

    fn on_enter(&self, id: &tracing::span::Id, context: tracing_subscriber::layer::Context<'_, S>) {
        self.0.on_enter(id, context)
    }

    fn on_exit(&self, id: &tracing::span::Id, context: tracing_subscriber::layer::Context<'_, S>) {
        self.0.on_exit(id, context)
    }

    fn on_close(&self, id: tracing::span::Id, context: tracing_subscriber::layer::Context<'_, S>) {
        self.0.on_close(id, context)
    }
}

/// Log lines go to stderr with every registered database password replaced by `***`. The fmt
/// layer formats each event completely and hands it over in one write, so a secret is never
/// split across two calls.
struct ScrubbedStderr;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for ScrubbedStderr {
    type Writer = ScrubbedStderr;

    fn make_writer(&'a self) -> Self::Writer {
        ScrubbedStderr
    }
}

impl std::io::Write for ScrubbedStderr {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(bytes);
        std::io::stderr()
            .lock()
            .write_all(crate::store::scrub(&text).as_bytes())?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

fn log_filter(global: &GlobalOptions) -> EnvFilter {
    // sqlx reports statements slower than 1 s at WARN: a 20,000-row import batch is not news.
    let (level, sqlx) = match (global.quiet, global.verbose) {
        (true, _) => ("error", "error"),
        (false, 0) => ("warn", "error"),
        (false, 1) => ("info", "warn"),
        (false, _) => ("debug", "info"),
    };
    let directives = std::env::var("FINCORE_LOG")
        .ok()
        .filter(|text| !text.trim().is_empty())
        .unwrap_or_else(|| {
            format!("{level},opentelemetry_sdk=off,opentelemetry_otlp=off,sqlx={sqlx}")
        });
    EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("warn"))
}

/// The upstream trace from `TRACEPARENT` (W3C), if any.
pub fn parent_from_environment() -> Option<opentelemetry::Context> {
    let traceparent = std::env::var("TRACEPARENT")
        .ok()
        .filter(|value| !value.trim().is_empty())?;
    let mut carrier = std::collections::HashMap::new();
    carrier.insert("traceparent".to_string(), traceparent.trim().to_string());
    if let Ok(tracestate) = std::env::var("TRACESTATE") {
        carrier.insert("tracestate".to_string(), tracestate);
    }
    let context =
        opentelemetry::global::get_text_map_propagator(|propagator| propagator.extract(&carrier));
    use opentelemetry::trace::TraceContextExt;
    context.span().span_context().is_valid().then_some(context)
}
