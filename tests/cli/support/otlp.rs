//! An in-process OTLP receiver: gRPC (tonic, the `opentelemetry-proto` services) and
//! HTTP/protobuf (axum, `POST /v1/traces` and `/v1/metrics`, prost-decoded), on their own
//! runtime so tests stay synchronous and the binary runs as a plain child process. It keeps
//! the raw requests, so a test can look at everything that was exported, resource included.
//! Also: a closed port and a listener that accepts and never answers.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::serve::ListenerExt;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};
use prost::Message;
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Grpc,
    HttpProtobuf,
}

impl Protocol {
    pub const ALL: [Protocol; 2] = [Protocol::Grpc, Protocol::HttpProtobuf];

    pub fn name(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
        }
    }
}

#[derive(Default)]
struct Received {
    traces: Vec<(Protocol, ExportTraceServiceRequest)>,
    metrics: Vec<(Protocol, ExportMetricsServiceRequest)>,
    /// Request headers (gRPC metadata) per export, lower-case names.
    headers: Vec<(Protocol, BTreeMap<String, String>)>,
}

type Shared = Arc<Mutex<Received>>;

/// A span as exported, flattened with its resource.
#[derive(Debug, Clone)]
pub struct Span {
    pub protocol: Protocol,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    pub name: String,
    pub attributes: BTreeMap<String, Value>,
    pub events: Vec<(String, BTreeMap<String, Value>)>,
    /// 0 unset, 1 ok, 2 error.
    pub status_code: i32,
    pub status_message: String,
    pub resource: BTreeMap<String, Value>,
}

impl Span {
    pub fn attribute(&self, key: &str) -> &Value {
        self.attributes
            .get(key)
            .unwrap_or_else(|| panic!("span {} has no attribute {key}: {self:#?}", self.name))
    }

    pub fn is_root(&self) -> bool {
        self.parent_span_id.is_empty()
    }
}

/// One data point of a metric: its attributes and value (sum value or histogram count).
#[derive(Debug, Clone)]
pub struct Point {
    pub protocol: Protocol,
    pub metric: String,
    pub unit: String,
    pub attributes: BTreeMap<String, Value>,
    pub value: f64,
    pub histogram_sum: Option<f64>,
}

pub struct Receiver {
    runtime: tokio::runtime::Runtime,
    grpc: SocketAddr,
    http: SocketAddr,
    received: Shared,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn value_of(value: Option<&opentelemetry_proto::tonic::common::v1::AnyValue>) -> Value {
    match value.and_then(|value| value.value.as_ref()) {
        Some(any_value::Value::StringValue(text)) => Value::from(text.clone()),
        Some(any_value::Value::BoolValue(flag)) => Value::from(*flag),
        Some(any_value::Value::IntValue(number)) => Value::from(*number),
        Some(any_value::Value::DoubleValue(number)) => Value::from(*number),
        Some(other) => Value::from(format!("{other:?}")),
        None => Value::Null,
    }
}

fn attributes(list: &[KeyValue]) -> BTreeMap<String, Value> {
    list.iter()
        .map(|pair| (pair.key.clone(), value_of(pair.value.as_ref())))
        .collect()
}

struct Grpc(Shared);

#[tonic::async_trait]
impl TraceService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let headers = request
            .metadata()
            .clone()
            .into_headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_string(),
                    value.to_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let mut received = self.0.lock().unwrap();
        received.headers.push((Protocol::Grpc, headers));
        received.traces.push((Protocol::Grpc, request.into_inner()));
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.0
            .lock()
            .unwrap()
            .metrics
            .push((Protocol::Grpc, request.into_inner()));
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

fn header_map(headers: &HeaderMap) -> BTreeMap<String, String> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                value.to_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

async fn http_traces(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, [(&'static str, &'static str); 1], Vec<u8>) {
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return (
            StatusCode::BAD_REQUEST,
            [("content-type", "text/plain")],
            Vec::new(),
        );
    };
    let mut received = shared.lock().unwrap();
    received
        .headers
        .push((Protocol::HttpProtobuf, header_map(&headers)));
    received.traces.push((Protocol::HttpProtobuf, request));
    (
        StatusCode::OK,
        [("content-type", "application/x-protobuf")],
        ExportTraceServiceResponse::default().encode_to_vec(),
    )
}

async fn http_metrics(
    State(shared): State<Shared>,
    body: Bytes,
) -> (StatusCode, [(&'static str, &'static str); 1], Vec<u8>) {
    let Ok(request) = ExportMetricsServiceRequest::decode(body) else {
        return (
            StatusCode::BAD_REQUEST,
            [("content-type", "text/plain")],
            Vec::new(),
        );
    };
    shared
        .lock()
        .unwrap()
        .metrics
        .push((Protocol::HttpProtobuf, request));
    (
        StatusCode::OK,
        [("content-type", "application/x-protobuf")],
        ExportMetricsServiceResponse::default().encode_to_vec(),
    )
}

impl Receiver {
    pub fn start() -> Receiver {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("receiver runtime");
        let received = Shared::default();
        let (grpc, http) = runtime.block_on(async {
            let grpc_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let http_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addresses = (
                grpc_listener.local_addr().unwrap(),
                http_listener.local_addr().unwrap(),
            );
            // TCP_NODELAY as real collectors do: without it a response can wait out the
            // peer's delayed ACK (40 ms).
            let incoming =
                tonic::transport::server::TcpIncoming::from(grpc_listener).with_nodelay(Some(true));
            let service = Grpc(received.clone());
            let metrics = Grpc(received.clone());
            tokio::spawn(async move {
                tonic::transport::Server::builder()
                    .add_service(TraceServiceServer::new(service))
                    .add_service(MetricsServiceServer::new(metrics))
                    .serve_with_incoming(incoming)
                    .await
                    .expect("gRPC receiver");
            });
            let router = axum::Router::new()
                .route("/v1/traces", post(http_traces))
                .route("/v1/metrics", post(http_metrics))
                .with_state(received.clone());
            let http_listener = http_listener.tap_io(|stream| {
                let _ = stream.set_nodelay(true);
            });
            tokio::spawn(async move {
                axum::serve(http_listener, router)
                    .await
                    .expect("HTTP receiver");
            });
            addresses
        });
        Receiver {
            runtime,
            grpc,
            http,
            received,
        }
    }

    pub fn endpoint(&self, protocol: Protocol) -> String {
        match protocol {
            Protocol::Grpc => format!("http://{}", self.grpc),
            Protocol::HttpProtobuf => format!("http://{}", self.http),
        }
    }

    /// The variables that point fincore at this receiver over `protocol`.
    pub fn env(&self, protocol: Protocol) -> Vec<(&'static str, String)> {
        vec![
            ("OTEL_EXPORTER_OTLP_ENDPOINT", self.endpoint(protocol)),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.name().to_string()),
        ]
    }

    /// Forget everything received so far.
    pub fn clear(&self) {
        *self.received.lock().unwrap() = Received::default();
    }

    pub fn spans(&self) -> Vec<Span> {
        let received = self.received.lock().unwrap();
        let mut spans = Vec::new();
        for (protocol, request) in &received.traces {
            for resource_spans in &request.resource_spans {
                let resource = resource_spans
                    .resource
                    .as_ref()
                    .map(|resource| attributes(&resource.attributes))
                    .unwrap_or_default();
                for scope in &resource_spans.scope_spans {
                    for span in &scope.spans {
                        let status = span.status.clone().unwrap_or_default();
                        spans.push(Span {
                            protocol: *protocol,
                            trace_id: hex(&span.trace_id),
                            span_id: hex(&span.span_id),
                            parent_span_id: hex(&span.parent_span_id),
                            name: span.name.clone(),
                            attributes: attributes(&span.attributes),
                            events: span
                                .events
                                .iter()
                                .map(|event| (event.name.clone(), attributes(&event.attributes)))
                                .collect(),
                            status_code: status.code,
                            status_message: status.message,
                            resource: resource.clone(),
                        });
                    }
                }
            }
        }
        spans
    }

    pub fn points(&self) -> Vec<Point> {
        let received = self.received.lock().unwrap();
        let mut points = Vec::new();
        for (protocol, request) in &received.metrics {
            for resource_metrics in &request.resource_metrics {
                for scope in &resource_metrics.scope_metrics {
                    for metric in &scope.metrics {
                        let mut push = |attrs: &[KeyValue], value: f64, sum: Option<f64>| {
                            points.push(Point {
                                protocol: *protocol,
                                metric: metric.name.clone(),
                                unit: metric.unit.clone(),
                                attributes: attributes(attrs),
                                value,
                                histogram_sum: sum,
                            })
                        };
                        match &metric.data {
                            Some(metric::Data::Sum(sum)) => {
                                for point in &sum.data_points {
                                    let value = match point.value {
                                        Some(number_data_point::Value::AsInt(n)) => n as f64,
                                        Some(number_data_point::Value::AsDouble(n)) => n,
                                        None => f64::NAN,
                                    };
                                    push(&point.attributes, value, None);
                                }
                            }
                            Some(metric::Data::Gauge(gauge)) => {
                                for point in &gauge.data_points {
                                    let value = match point.value {
                                        Some(number_data_point::Value::AsInt(n)) => n as f64,
                                        Some(number_data_point::Value::AsDouble(n)) => n,
                                        None => f64::NAN,
                                    };
                                    push(&point.attributes, value, None);
                                }
                            }
                            Some(metric::Data::Histogram(histogram)) => {
                                for point in &histogram.data_points {
                                    push(&point.attributes, point.count as f64, point.sum);
                                }
                            }
                            other => panic!("unexpected metric data {other:?}"),
                        }
                    }
                }
            }
        }
        points
    }

    /// Every header set seen with a trace export.
    pub fn trace_headers(&self) -> Vec<(Protocol, BTreeMap<String, String>)> {
        self.received.lock().unwrap().headers.clone()
    }

    /// Everything received, as text (every string and attribute as exported), to search for
    /// what must never be there.
    pub fn dump(&self) -> String {
        let received = self.received.lock().unwrap();
        format!("{:?}\n{:?}", received.traces, received.metrics)
    }

    /// Wait until `ready` holds for the received data (exports finish before the process
    /// exits, so this is normally immediate).
    /// Wait (at most 5 s) until `ready` holds, then until no new export request has arrived for
    /// a moment: a command's spans may come in several requests, and the receiver may still be
    /// recording the last one when the first already satisfies `ready`.
    pub fn wait_until(&self, ready: impl Fn(&Receiver) -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if ready(self) {
                self.settle(deadline);
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        ready(self)
    }

    fn request_count(&self) -> usize {
        let received = self.received.lock().unwrap();
        received.traces.len() + received.metrics.len()
    }

    fn settle(&self, deadline: Instant) {
        const QUIET: Duration = Duration::from_millis(150);
        let mut count = self.request_count();
        let mut quiet_since = Instant::now();
        while Instant::now() < deadline && quiet_since.elapsed() < QUIET {
            std::thread::sleep(Duration::from_millis(20));
            let now = self.request_count();
            if now != count {
                count = now;
                quiet_since = Instant::now();
            }
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        // Let the runtime's tasks go without waiting for open connections.
        let runtime = std::mem::replace(
            &mut self.runtime,
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
        );
        runtime.shutdown_background();
    }
}

/// A port nothing listens on: connections are refused at once.
pub fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}")
}

/// A listener that accepts connections and never reads or answers.
pub struct SilentListener {
    pub endpoint: String,
    _held: Arc<Mutex<Vec<std::net::TcpStream>>>,
}

impl SilentListener {
    pub fn start() -> SilentListener {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let held = Arc::new(Mutex::new(Vec::new()));
        let keep = held.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                keep.lock().unwrap().push(stream);
            }
        });
        SilentListener {
            endpoint,
            _held: held,
        }
    }
}
