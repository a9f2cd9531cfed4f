//! What the core tells OpenTelemetry: a server span per request that continues the edge's
//! W3C `traceparent`, a span per checkout step (reprice, reserve, commit, authorise,
//! settle), and request counts and latencies per route.
//!
//! Attributes carry methods, route templates (`/v1/orders/{id}`, never the id), status
//! codes and error codes; the region is on the resource. Never a body, header or query.

use std::time::Instant;

use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use axum::extract::{MatchedPath, State};
use meridian_telemetry::opentelemetry::context::FutureExt as _;
use meridian_telemetry::opentelemetry::trace::{SpanKind, TraceContextExt as _};
use meridian_telemetry::opentelemetry::{Context, KeyValue};
use meridian_telemetry::{RequestMetrics, Telemetry};

use crate::AppState;

/// Starts the core's log: JSON lines on stderr at the level `RUST_LOG` asks (default
/// `info`), never with personal data. The database driver logs every statement's parameters
/// (shoppers' e-mails, names, addresses) at `debug`, so its events below `warn` are dropped
/// whatever `RUST_LOG` says ([`never_personal`]).
pub fn init_logging() {
    let level = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let layer = tracing_subscriber::fmt::layer()
        .json()
        .with_writer(std::io::stderr)
        .with_filter(level)
        .with_filter(tracing_subscriber::filter::filter_fn(never_personal));
    tracing_subscriber::registry().with(layer).init();
}

/// Whether an event may reach the log at all: not the database driver's statement logs.
pub fn never_personal(metadata: &tracing::Metadata<'_>) -> bool {
    let driver = ["tokio_postgres", "postgres_protocol", "deadpool_postgres"]
        .iter()
        .any(|t| metadata.target().starts_with(t));
    !(driver && *metadata.level() > tracing::Level::WARN)
}

/// The core's telemetry and its instruments, made once.
#[derive(Debug, Default)]
pub struct Observe {
    telemetry: Telemetry,
    instruments: Option<RequestMetrics>,
}

impl Observe {
    pub fn new(telemetry: Telemetry) -> Self {
        let instruments = telemetry
            .meter()
            .map(|meter| RequestMetrics::new(meter, "meridian.core.requests"));
        Self {
            telemetry,
            instruments,
        }
    }

    pub fn telemetry(&self) -> &Telemetry {
        &self.telemetry
    }

    /// A span for one step of the request being served (the current context's span).
    /// Run the step's future `.with_context(...)` of it; the span ends when it is dropped.
    pub fn step(&self, name: &'static str) -> Context {
        self.telemetry
            .span(&Context::current(), name, SpanKind::Internal, Vec::new())
    }
}

/// Middleware: the request's server span (under the caller's `traceparent`), made
/// current while the handler runs, and the request metrics.
pub async fn trace_requests(
    State(app): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let observe = &app.observe;
    let Some(instruments) = &observe.instruments else {
        return next.run(request).await;
    };
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let parent = meridian_telemetry::extract(request.headers());
    let cx = observe.telemetry.span(
        &parent,
        format!("{method} {route}"),
        SpanKind::Server,
        vec![
            KeyValue::new("http.request.method", method.clone()),
            KeyValue::new("http.route", route.clone()),
        ],
    );
    let response = next.run(request).with_context(cx.clone()).await;
    let status = response.status().as_u16();
    cx.span().set_attribute(KeyValue::new(
        "http.response.status_code",
        i64::from(status),
    ));
    if status >= 500 {
        meridian_telemetry::fail(&cx, "server_error");
    }
    let attributes = [
        KeyValue::new("http.request.method", method),
        KeyValue::new("http.route", route),
        KeyValue::new("http.response.status_code", i64::from(status)),
    ];
    instruments.record(&attributes, started.elapsed());
    response
}
