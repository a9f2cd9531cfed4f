//! An OTLP/HTTP receiver: accepts `POST /v1/traces` and `POST /v1/metrics` with protobuf
//! bodies, decodes them with the OTLP schema and keeps what it received in memory.
//!
//! It is what a collector would see, so tests check real exported payloads (span parents,
//! attributes, metric names) and the residency audit can search spans for personal data.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use prost::Message;

/// One received span, flattened.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedSpan {
    /// The resource's `service.name`.
    pub service: String,
    /// The resource's other attributes, as text.
    pub resource: Vec<(String, String)>,
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    pub name: String,
    /// OTLP's span kind number: 1 internal, 2 server, 3 client.
    pub kind: i32,
    pub attributes: Vec<(String, String)>,
    /// OTLP's status code: 0 unset, 1 ok, 2 error.
    pub status: i32,
    pub status_message: String,
    /// How long the span lasted (end minus start).
    pub duration: std::time::Duration,
}

impl ReceivedSpan {
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn resource_attribute(&self, key: &str) -> Option<&str> {
        self.resource
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every string this span carries: names, ids and attribute values (for searching).
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        [
            self.service.as_str(),
            self.name.as_str(),
            self.status_message.as_str(),
        ]
        .into_iter()
        .chain(
            self.attributes
                .iter()
                .chain(&self.resource)
                .flat_map(|(k, v)| [k.as_str(), v.as_str()]),
        )
    }
}

/// One received metric data stream: its name and its resource's service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMetric {
    pub service: String,
    pub name: String,
    /// The attribute sets of its data points, as text.
    pub points: Vec<Vec<(String, String)>>,
}

#[derive(Debug, Default)]
struct Received {
    spans: Vec<ReceivedSpan>,
    metrics: Vec<ReceivedMetric>,
    /// Raw payload bytes, so a search covers fields this flattening leaves out.
    raw: Vec<Vec<u8>>,
    /// Where raw payloads are appended too, when given.
    file: Option<std::fs::File>,
}

impl Received {
    fn keep(&mut self, payload: &[u8]) {
        use std::io::Write as _;
        if let Some(file) = &mut self.file {
            // A sink that cannot write would hide spans from the audit: say so loudly.
            if let Err(e) = file.write_all(payload).and_then(|()| file.flush()) {
                eprintln!("otlp receiver: failed to append a payload: {e}");
            }
        } else {
            self.raw.push(payload.to_vec());
        }
    }
}

/// What the receiver has been sent; clone it to read while it serves.
#[derive(Debug, Clone, Default)]
pub struct Inbox(Arc<Mutex<Received>>);

impl Inbox {
    /// An inbox that appends every raw payload to `path` (created or appended to) instead
    /// of keeping it in memory: a long-running sink whose file the residency audit reads.
    pub fn appending_to(path: &std::path::Path) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Self(Arc::new(Mutex::new(Received {
            file: Some(file),
            ..Received::default()
        }))))
    }

    fn lock(&self) -> MutexGuard<'_, Received> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.lock().spans.clone()
    }

    pub fn metrics(&self) -> Vec<ReceivedMetric> {
        self.lock().metrics.clone()
    }

    /// The raw payloads received (none when appending to a file).
    pub fn payloads(&self) -> Vec<Vec<u8>> {
        self.lock().raw.clone()
    }
}

/// The receiver's routes, writing into `inbox`.
pub fn router(inbox: Inbox) -> axum::Router {
    axum::Router::new()
        .route("/v1/traces", post(traces))
        .route("/v1/metrics", post(metrics))
        .with_state(inbox)
}

/// Serves the receiver on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, inbox: Inbox) -> std::io::Result<()> {
    axum::serve(listener, router(inbox)).await
}

/// Whether the body is OTLP protobuf (the only encoding this receiver decodes).
fn is_protobuf(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-protobuf"))
}

fn unsupported() -> Response {
    (
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "only application/x-protobuf is accepted",
    )
        .into_response()
}

fn answer(message: impl Message) -> Response {
    (
        [(header::CONTENT_TYPE, "application/x-protobuf")],
        message.encode_to_vec(),
    )
        .into_response()
}

/// The OTLP request in `body`, or the answer refusing it (not protobuf, or malformed).
fn decode<M: Message + Default>(headers: &HeaderMap, body: &[u8]) -> Result<M, Box<Response>> {
    if !is_protobuf(headers) {
        return Err(Box::new(unsupported()));
    }
    M::decode(body).map_err(|e| Box::new((StatusCode::BAD_REQUEST, e.to_string()).into_response()))
}

/// A resource's attributes as text, and its `service.name`.
fn resource(
    resource: Option<opentelemetry_proto::tonic::resource::v1::Resource>,
) -> (Vec<(String, String)>, String) {
    let attributes = resource
        .map(|r| attributes(&r.attributes))
        .unwrap_or_default();
    let service = service_name(&attributes);
    (attributes, service)
}

async fn traces(State(inbox): State<Inbox>, headers: HeaderMap, body: Bytes) -> Response {
    let request: ExportTraceServiceRequest = match decode(&headers, &body) {
        Ok(r) => r,
        Err(refused) => return *refused,
    };
    let mut spans = Vec::new();
    for resource_spans in request.resource_spans {
        let (resource, service) = resource(resource_spans.resource);
        for scope in resource_spans.scope_spans {
            for span in scope.spans {
                let status = span.status.unwrap_or_default();
                spans.push(ReceivedSpan {
                    service: service.clone(),
                    resource: resource.clone(),
                    trace_id: hex::encode(&span.trace_id),
                    span_id: hex::encode(&span.span_id),
                    parent_span_id: hex::encode(&span.parent_span_id),
                    name: span.name,
                    kind: span.kind,
                    attributes: attributes(&span.attributes),
                    status: status.code,
                    status_message: status.message,
                    duration: std::time::Duration::from_nanos(
                        span.end_time_unix_nano
                            .saturating_sub(span.start_time_unix_nano),
                    ),
                });
            }
        }
    }
    let mut received = inbox.lock();
    received.spans.extend(spans);
    received.keep(&body);
    drop(received);
    answer(ExportTraceServiceResponse::default())
}

async fn metrics(State(inbox): State<Inbox>, headers: HeaderMap, body: Bytes) -> Response {
    use opentelemetry_proto::tonic::metrics::v1::metric::Data;
    let request: ExportMetricsServiceRequest = match decode(&headers, &body) {
        Ok(r) => r,
        Err(refused) => return *refused,
    };
    let mut metrics = Vec::new();
    for resource_metrics in request.resource_metrics {
        let (_, service) = resource(resource_metrics.resource);
        for scope in resource_metrics.scope_metrics {
            for metric in scope.metrics {
                let points = match &metric.data {
                    Some(Data::Sum(s)) => s
                        .data_points
                        .iter()
                        .map(|p| attributes(&p.attributes))
                        .collect(),
                    Some(Data::Gauge(g)) => g
                        .data_points
                        .iter()
                        .map(|p| attributes(&p.attributes))
                        .collect(),
                    Some(Data::Histogram(h)) => h
                        .data_points
                        .iter()
                        .map(|p| attributes(&p.attributes))
                        .collect(),
                    Some(Data::ExponentialHistogram(h)) => h
                        .data_points
                        .iter()
                        .map(|p| attributes(&p.attributes))
                        .collect(),
                    Some(Data::Summary(s)) => s
                        .data_points
                        .iter()
                        .map(|p| attributes(&p.attributes))
                        .collect(),
                    None => Vec::new(),
                };
                metrics.push(ReceivedMetric {
                    service: service.clone(),
                    name: metric.name,
                    points,
                });
            }
        }
    }
    let mut received = inbox.lock();
    received.metrics.extend(metrics);
    received.keep(&body);
    drop(received);
    answer(ExportMetricsServiceResponse::default())
}

fn service_name(resource: &[(String, String)]) -> String {
    resource
        .iter()
        .find(|(k, _)| k == "service.name")
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn attributes(list: &[KeyValue]) -> Vec<(String, String)> {
    list.iter()
        .map(|kv| {
            (
                kv.key.clone(),
                kv.value.as_ref().map(text).unwrap_or_default(),
            )
        })
        .collect()
}

fn text(value: &AnyValue) -> String {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(any_value::Value::BytesValue(b)) => hex::encode(b),
        Some(any_value::Value::ArrayValue(a)) => {
            a.values.iter().map(text).collect::<Vec<_>>().join(",")
        }
        Some(any_value::Value::KvlistValue(l)) => attributes(&l.values)
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
        _ => String::new(),
    }
}
