//! Telemetry for a short-lived CLI: every command is one root span `fincore.<command path>`,
//! metrics go out with it, and both are exported over OTLP (gRPC or HTTP/protobuf) only when an
//! endpoint variable is set — otherwise nothing waits. The flush at exit is bounded, so a
//! receiver that refuses connections or never answers cannot hold a command.
//!
//! Layers: the OpenTelemetry layer sees `fincore` spans only (never log events, so log text
//! cannot leak into exported data); the log layer writes masked lines with the trace and span
//! ids (`log.rs`). Masking rules: account numbers show their first and last 4 characters,
//! database passwords are scrubbed, holder names are never recorded.

mod filter;
mod log;

use crate::commands::{GlobalOptions, LogFormat};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use std::time::{Duration, Instant};
use tracing_subscriber::filter::{filter_fn, FilterExt};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

pub(crate) use log::mask_value as mask_text;

/// Export timeout when `OTEL_EXPORTER_OTLP_TIMEOUT` is not given: a receiver that accepts and
/// never answers must not hold the command for the library's 10 s default.
pub(crate) const EXPORT_TIMEOUT: Duration = Duration::from_millis(1_500);
/// What the flush at exit may add beyond the export timeout (2 s in all by default).
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);
/// Metrics are read once at exit; a long command also exports every minute.
const METRIC_INTERVAL_DEFAULT: Duration = Duration::from_secs(60);
const SERVICE_NAME_DEFAULT: &str = "fincore";
use crate::metrics::SCOPE;

/// Which signal an endpoint, protocol or timeout variable is looked up for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    Traces,
    Metrics,
}

impl Signal {
    fn name(self) -> &'static str {
        match self {
            Signal::Traces => "TRACES",
            Signal::Metrics => "METRICS",
        }
    }

    /// `OTEL_EXPORTER_OTLP_<SIGNAL>_<SUFFIX>`, else `OTEL_EXPORTER_OTLP_<SUFFIX>` (non-empty).
    fn variable(self, suffix: &str) -> Option<String> {
        env_value(&format!("OTEL_EXPORTER_OTLP_{}_{suffix}", self.name()))
            .or_else(|| env_value(&format!("OTEL_EXPORTER_OTLP_{suffix}")))
    }

    fn exporter_variable(self) -> &'static str {
        match self {
            Signal::Traces => "OTEL_TRACES_EXPORTER",
            Signal::Metrics => "OTEL_METRICS_EXPORTER",
        }
    }

    /// Export only with an endpoint, unless the SDK or this signal's exporter is switched off.
    fn exporting(self) -> bool {
        !sdk_disabled()
            && self.variable("ENDPOINT").is_some()
            && env_value(self.exporter_variable()).is_none_or(|value| value != "none")
    }
}

fn env_value(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
}

fn sdk_disabled() -> bool {
    env_value("OTEL_SDK_DISABLED").is_some_and(|value| value.eq_ignore_ascii_case("true"))
}

/// `grpc` or `http/protobuf` from `OTEL_EXPORTER_OTLP_[<SIGNAL>_]PROTOCOL`. Unset, the endpoint
/// decides: port 4318 or an `/v1/…` path means HTTP (the collector's conventions), anything
/// else gRPC. `http/json` is not built in and falls back to `http/protobuf`.
/// A problem worth a warning is pushed to `problems` (logged once the subscriber is up).
pub(crate) fn protocol(signal: Signal, problems: &mut Vec<String>) -> Protocol {
    let endpoint = signal.variable("ENDPOINT").unwrap_or_default();
    match signal.variable("PROTOCOL").as_deref() {
        Some("grpc") => Protocol::Grpc,
        Some("http/protobuf") => Protocol::HttpBinary,
        Some("http/json") => {
            problems.push("OTLP protocol http/json is not supported; using http/protobuf".into());
            Protocol::HttpBinary
        }
        Some(unknown) => {
            problems.push(format!(
                "unknown OTLP protocol '{unknown}' (expected grpc or http/protobuf); choosing from the endpoint"
            ));
            protocol_from_endpoint(&endpoint)
        }
        None => protocol_from_endpoint(&endpoint),
    }
}

fn protocol_from_endpoint(endpoint: &str) -> Protocol {
    let authority_and_path = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest);
    let (authority, path) = authority_and_path
        .split_once('/')
        .unwrap_or((authority_and_path, ""));
    if authority.ends_with(":4318") || path.starts_with("v1/") {
        Protocol::HttpBinary
    } else {
        Protocol::Grpc
    }
}

/// The export timeout: `OTEL_EXPORTER_OTLP_[<SIGNAL>_]TIMEOUT` in milliseconds, else 1.5 s.
pub(crate) fn export_timeout(signal: Signal) -> Duration {
    signal
        .variable("TIMEOUT")
        .and_then(|text| text.parse::<u64>().ok())
        .map_or(EXPORT_TIMEOUT, Duration::from_millis)
}

/// Service name: `OTEL_SERVICE_NAME`, else `service.name` in `OTEL_RESOURCE_ATTRIBUTES`, else
/// `fincore`. Other `OTEL_RESOURCE_ATTRIBUTES` pass through; `service.version` is added.
pub(crate) fn resource() -> Resource {
    let has = |key: &'static str| {
        env_value("OTEL_RESOURCE_ATTRIBUTES").is_some_and(|attributes| {
            attributes
                .split(',')
                .any(|pair| pair.split('=').next().map(str::trim) == Some(key))
        })
    };
    let mut builder = Resource::builder();
    if let Some(name) = env_value("OTEL_SERVICE_NAME") {
        builder = builder.with_service_name(name);
    } else if !has("service.name") {
        builder = builder.with_service_name(SERVICE_NAME_DEFAULT);
    }
    if !has("service.version") {
        builder =
            builder.with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")));
    }
    builder.build()
}

fn span_exporter(problems: &mut Vec<String>) -> Result<opentelemetry_otlp::SpanExporter, String> {
    let timeout = export_timeout(Signal::Traces);
    let exporter = match protocol(Signal::Traces, problems) {
        Protocol::Grpc => opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_timeout(timeout)
            .build(),
        _ => opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_timeout(timeout)
            .build(),
    };
    exporter.map_err(|error| error.to_string())
}

/// Cumulative unless `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` says `delta` or
/// `lowmemory`.
fn temporality() -> Temporality {
    match env_value("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE")
        .map(|value| value.to_ascii_lowercase())
        .as_deref()
    {
        Some("delta") => Temporality::Delta,
        Some("lowmemory") => Temporality::LowMemory,
        _ => Temporality::Cumulative,
    }
}

fn metric_exporter(
    problems: &mut Vec<String>,
) -> Result<opentelemetry_otlp::MetricExporter, String> {
    let timeout = export_timeout(Signal::Metrics);
    let exporter = match protocol(Signal::Metrics, problems) {
        Protocol::Grpc => opentelemetry_otlp::MetricExporter::builder()
            .with_tonic()
            .with_temporality(temporality())
            .with_timeout(timeout)
            .build(),
        _ => opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_temporality(temporality())
            .with_timeout(timeout)
            .build(),
    };
    exporter.map_err(|error| error.to_string())
}

fn metric_interval() -> Duration {
    env_value("OTEL_METRIC_EXPORT_INTERVAL")
        .and_then(|text| text.parse::<u64>().ok())
        .filter(|millis| *millis > 0)
        .map_or(METRIC_INTERVAL_DEFAULT, Duration::from_millis)
}

pub(crate) struct Telemetry {
    tracer_provider: SdkTracerProvider,
    meter_provider: Option<SdkMeterProvider>,
    exporting_traces: bool,
}

impl Telemetry {
    /// Must run inside the tokio runtime's context (gRPC channels are created on it).
    pub(crate) fn init(global: &GlobalOptions) -> Telemetry {
        let mut problems = Vec::new();
        let resource = resource();
        let mut exporting_traces = Signal::Traces.exporting();
        let mut builder = SdkTracerProvider::builder().with_resource(resource.clone());
        if exporting_traces {
            match span_exporter(&mut problems) {
                Ok(exporter) => builder = builder.with_batch_exporter(exporter),
                Err(error) => {
                    exporting_traces = false;
                    problems.push(format!("trace export disabled: {error}"));
                }
            }
        }
        // Without an exporter the provider still creates real trace ids: they are stored on
        // every record and printed in logs.
        let tracer_provider = builder.build();
        let meter_provider = if Signal::Metrics.exporting() {
            match metric_exporter(&mut problems) {
                Ok(exporter) => {
                    let reader = PeriodicReader::builder(exporter)
                        .with_interval(metric_interval())
                        .build();
                    let provider = SdkMeterProvider::builder()
                        .with_resource(resource)
                        .with_reader(reader)
                        .build();
                    crate::metrics::install(&provider);
                    Some(provider)
                }
                Err(error) => {
                    problems.push(format!("metric export disabled: {error}"));
                    None
                }
            }
        } else {
            None
        };
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        install_subscriber(global, &tracer_provider);
        for problem in problems {
            tracing::warn!("{problem}");
        }
        Telemetry {
            tracer_provider,
            meter_provider,
            exporting_traces,
        }
    }

    /// Flush spans and metrics, together bounded by the export timeout plus 0.5 s (2 s by
    /// default). Call outside async code: the exporters run on the runtime's worker threads
    /// and their own threads while this thread waits. Failures are not the command's: they
    /// are logged at INFO (shown with `-v`) and the exit code stands.
    pub(crate) fn shutdown(self) {
        let timeout = export_timeout(Signal::Traces).max(export_timeout(Signal::Metrics));
        let deadline = Instant::now() + timeout + SHUTDOWN_GRACE;
        let metrics_done = self.meter_provider.map(|provider| {
            let (done, finished) = std::sync::mpsc::channel();
            let spawned = std::thread::Builder::new()
                .name("fincore-metrics-flush".into())
                .spawn(move || {
                    let _ = done.send(provider.shutdown());
                });
            spawned.ok().map(|_| finished)
        });
        if self.exporting_traces {
            if let Err(error) = self
                .tracer_provider
                .shutdown_with_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                tracing::info!("trace export incomplete: {error}");
            }
        }
        if let Some(Some(finished)) = metrics_done {
            match finished.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::info!("metric export incomplete: {error}"),
                Err(_) => tracing::info!("metric export gave up after {timeout:?}"),
            }
        }
    }
}

/// The OpenTelemetry layer and the log layer, each with its own filter: the log level must
/// never drop the INFO root span from export, and log events never reach the exported spans.
fn install_subscriber(global: &GlobalOptions, tracer_provider: &SdkTracerProvider) {
    let tracer = tracer_provider.tracer(SCOPE);
    let otel_layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_threads(false)
        .with_tracked_inactivity(false)
        .with_filter(FreshInterest(filter::ExportedSpans));
    // The log layer sees every fincore span (so a line can name its trace and span even when
    // the level hides the spans themselves) and the events the log filter allows.
    let log_filter =
        filter_fn(|metadata| metadata.is_span() && filter::is_fincore(metadata.target()))
            .or(log_filter(global));
    let log_layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        // A log line that cannot be written (`2>/dev/full`) is dropped; reporting it would
        // mean `eprintln!`, which panics on the same stderr.
        .log_internal_errors(false)
        .event_format(log::MaskedFormat {
            json: global.log_format == LogFormat::Json,
        })
        .with_filter(FreshInterest(log_filter));
    let _ = tracing_subscriber::registry()
        .with(otel_layer)
        .with(log_layer)
        .try_init();
}

/// `FINCORE_LOG` (EnvFilter directives) when set, else by flags: `-q` error, default warn, `-v`
/// info, `-vv` debug. The exporter's own complaints (a refused connection) stay hidden unless
/// `-v` or `FINCORE_LOG` asks: they are not the command's failure.
fn log_filter(global: &GlobalOptions) -> EnvFilter {
    let directives = env_value("FINCORE_LOG")
        .unwrap_or_else(|| default_log_directives(global.quiet, global.verbose));
    EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("warn"))
}

/// sqlx's slow-statement warnings (the whole multi-row INSERT) only from `-v`.
fn default_log_directives(quiet: bool, verbose: u8) -> String {
    let (level, exporter_level, sqlx_level) = match (quiet, verbose) {
        (true, _) => ("error", "off", "error"),
        (false, 0) => ("warn", "off", "warn,sqlx::query=error"),
        (false, 1) => ("info", "warn", "warn"),
        (false, _) => ("debug", "info", "warn"),
    };
    format!(
        "{level},opentelemetry={exporter_level},opentelemetry_sdk={exporter_level},\
         opentelemetry-otlp={exporter_level},opentelemetry-http={exporter_level},\
         h2=warn,tonic=warn,hyper=warn,reqwest=warn,sqlx={sqlx_level}"
    )
}

/// The upstream trace from `TRACEPARENT` (W3C, with `TRACESTATE`), if valid.
pub(crate) fn parent_from_environment() -> Option<opentelemetry::Context> {
    let traceparent = env_value("TRACEPARENT")?;
    let mut carrier = std::collections::HashMap::new();
    carrier.insert("traceparent".to_string(), traceparent);
    if let Some(tracestate) = env_value("TRACESTATE") {
        carrier.insert("tracestate".to_string(), tracestate);
    }
    let context =
        opentelemetry::global::get_text_map_propagator(|propagator| propagator.extract(&carrier));
    context.span().span_context().is_valid().then_some(context)
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

    fn max_level_hint(&self) -> Option<tracing_subscriber::filter::LevelFilter> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_log_directives_parse() {
        for quiet in [false, true] {
            for verbose in 0..3 {
                let directives = default_log_directives(quiet, verbose);
                assert!(EnvFilter::try_new(&directives).is_ok(), "{directives}");
            }
        }
    }

    #[test]
    fn protocol_follows_the_endpoint_when_unset() {
        assert_eq!(
            protocol_from_endpoint("http://collector:4318"),
            Protocol::HttpBinary
        );
        assert_eq!(
            protocol_from_endpoint("http://collector:9000/v1/traces"),
            Protocol::HttpBinary
        );
        assert_eq!(
            protocol_from_endpoint("http://collector:4317"),
            Protocol::Grpc
        );
        assert_eq!(
            protocol_from_endpoint("http://127.0.0.1:43180"),
            Protocol::Grpc
        );
    }
}
