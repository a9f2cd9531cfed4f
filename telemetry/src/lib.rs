//! OpenTelemetry for Meridian's host processes (the edge node and the regional cores).
//!
//! A [`Telemetry`] is one service's tracer and meter, exporting over OTLP/HTTP (protobuf)
//! when an endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT`) and doing nothing
//! otherwise: with no endpoint no span is even created, so the request path pays nothing.
//!
//! Each process owns its providers instead of installing global ones, so a test can run an
//! edge node and two cores in one process and still see three services.
//!
//! Personal data never goes into an attribute. The callers record only methods, route
//! templates (never paths with their values, never query strings), component and function
//! names, status codes and the region id.
//!
//! With the `receiver` feature, [`receiver`] is an OTLP/HTTP receiver that decodes what the
//! exporters send; the end-to-end tests and the residency audit read spans from it.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanKind, TraceContextExt, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

pub use opentelemetry;

#[cfg(feature = "receiver")]
pub mod receiver;

/// The environment variable that turns export on: the collector's base URL, e.g.
/// `http://127.0.0.1:4318`. Traces go to `/v1/traces`, metrics to `/v1/metrics`.
pub const ENDPOINT_VAR: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// One service's tracer and meter; cheap to clone. Disabled: every method is a no-op.
#[derive(Clone, Default)]
pub struct Telemetry(Option<Arc<Inner>>);

struct Inner {
    service: String,
    tracer: SdkTracer,
    meter: opentelemetry::metrics::Meter,
    traces: SdkTracerProvider,
    metrics: SdkMeterProvider,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(inner) => write!(f, "Telemetry({} over OTLP)", inner.service),
            None => f.write_str("Telemetry(off)"),
        }
    }
}

impl Telemetry {
    /// No export, no spans.
    pub fn disabled() -> Self {
        Self(None)
    }

    /// Exports to `endpoint` when it is `Some` and not empty; disabled otherwise.
    /// `attributes` describe the process (the core's region), never a shopper.
    pub fn new(
        service: &str,
        attributes: &[(&'static str, String)],
        endpoint: Option<&str>,
    ) -> anyhow::Result<Self> {
        let Some(endpoint) = endpoint.map(str::trim).filter(|e| !e.is_empty()) else {
            return Ok(Self::disabled());
        };
        let base = endpoint.trim_end_matches('/');
        let resource = Resource::builder_empty()
            .with_service_name(service.to_owned())
            .with_attributes(attributes.iter().map(|(k, v)| KeyValue::new(*k, v.clone())))
            .build();
        let spans = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_endpoint(format!("{base}/v1/traces"))
            .with_timeout(Duration::from_secs(5))
            .build()
            .with_context(|| format!("failed to build the OTLP span exporter for {base}"))?;
        let metrics = opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_endpoint(format!("{base}/v1/metrics"))
            .with_timeout(Duration::from_secs(5))
            .build()
            .with_context(|| format!("failed to build the OTLP metric exporter for {base}"))?;
        let traces = SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_batch_exporter(spans)
            .build();
        let metrics = SdkMeterProvider::builder()
            .with_resource(resource)
            .with_reader(
                PeriodicReader::builder(metrics)
                    .with_interval(Duration::from_secs(10))
                    .build(),
            )
            .build();
        let tracer = traces.tracer("meridian");
        let meter = opentelemetry::metrics::MeterProvider::meter(&metrics, "meridian");
        Ok(Self(Some(Arc::new(Inner {
            service: service.to_owned(),
            tracer,
            meter,
            traces,
            metrics,
        }))))
    }

    /// As [`Telemetry::new`], with the endpoint from [`ENDPOINT_VAR`].
    pub fn from_env(service: &str, attributes: &[(&'static str, String)]) -> anyhow::Result<Self> {
        let endpoint = std::env::var(ENDPOINT_VAR).ok();
        Self::new(service, attributes, endpoint.as_deref())
    }

    pub fn is_enabled(&self) -> bool {
        self.0.is_some()
    }

    /// The meter, to make instruments once at start; `None` when disabled.
    pub fn meter(&self) -> Option<&opentelemetry::metrics::Meter> {
        self.0.as_ref().map(|i| &i.meter)
    }

    /// Starts a span under `parent` and returns the context that holds it (the span ends
    /// when the last clone of that context is dropped). Disabled: `parent` unchanged.
    pub fn span(
        &self,
        parent: &Context,
        name: impl Into<std::borrow::Cow<'static, str>>,
        kind: SpanKind,
        attributes: Vec<KeyValue>,
    ) -> Context {
        let Some(inner) = &self.0 else {
            return parent.clone();
        };
        let span = inner
            .tracer
            .span_builder(name)
            .with_kind(kind)
            .with_attributes(attributes)
            .start_with_context(&inner.tracer, parent);
        parent.with_span(span)
    }

    /// Exports everything recorded so far (tests call this before reading a receiver).
    pub fn flush(&self) {
        if let Some(inner) = &self.0 {
            let _ = inner.traces.force_flush();
            let _ = inner.metrics.force_flush();
        }
    }

    /// Flushes and stops the exporters (at process exit).
    pub fn shutdown(&self) {
        if let Some(inner) = &self.0 {
            let _ = inner.traces.shutdown();
            let _ = inner.metrics.shutdown();
        }
    }
}

/// A service's request metrics: a count and the OTel semantic-conventions server time
/// histogram (`http.server.request.duration`, seconds), with the same attributes.
#[derive(Debug)]
pub struct RequestMetrics {
    requests: opentelemetry::metrics::Counter<u64>,
    duration: opentelemetry::metrics::Histogram<f64>,
}

impl RequestMetrics {
    /// The instruments, the count named `requests`.
    pub fn new(meter: &opentelemetry::metrics::Meter, requests: &'static str) -> Self {
        Self {
            requests: meter
                .u64_counter(requests)
                .with_description("Requests answered, by route and status")
                .build(),
            duration: meter
                .f64_histogram("http.server.request.duration")
                .with_unit("s")
                .with_description("Server time of requests, by route")
                .build(),
        }
    }

    /// One request answered in `elapsed`.
    pub fn record(&self, attributes: &[KeyValue], elapsed: Duration) {
        self.requests.add(1, attributes);
        self.duration.record(elapsed.as_secs_f64(), attributes);
    }
}

/// The trace context a request carries in its W3C `traceparent` header (an empty context
/// when it carries none or a malformed one).
pub fn extract(headers: &http::HeaderMap) -> Context {
    TraceContextPropagator::new().extract(&opentelemetry_http::HeaderExtractor(headers))
}

/// Writes `cx`'s span as a W3C `traceparent` header (nothing when `cx` holds no span).
pub fn inject(cx: &Context, headers: &mut http::HeaderMap) {
    if cx.span().span_context().is_valid() {
        TraceContextPropagator::new()
            .inject_context(cx, &mut opentelemetry_http::HeaderInjector(headers));
    }
}

/// Marks `cx`'s span as failed with a short, data-free reason (an error code).
pub fn fail(cx: &Context, code: &'static str) {
    let span = cx.span();
    span.set_status(opentelemetry::trace::Status::error(code));
}

/// Records one attribute on `cx`'s span.
pub fn record(cx: &Context, attribute: KeyValue) {
    cx.span().set_attribute(attribute);
}
