//! What the node tells OpenTelemetry: a server span per shopper request (continuing a
//! CDN's `traceparent` when there is one), a span per component run and per dependency
//! call, a client span per outbound request (which carries `traceparent` on to the
//! regional core), and request and call counts and latencies per route and component.
//!
//! Attributes name methods, route templates, components, functions, status codes and
//! regions: never a path's values, a query string, a header or a body.

use std::sync::Arc;
use std::time::Duration;

use meridian_telemetry::opentelemetry::metrics::{Counter, Histogram};
use meridian_telemetry::opentelemetry::trace::SpanKind;
use meridian_telemetry::opentelemetry::{Context, KeyValue};
use meridian_telemetry::{RequestMetrics, Telemetry};

/// The node's telemetry and its instruments, made once.
#[derive(Debug, Default)]
pub struct Observe {
    telemetry: Telemetry,
    instruments: Option<Instruments>,
}

#[derive(Debug)]
struct Instruments {
    requests: RequestMetrics,
    call_duration: Histogram<f64>,
    limits: Counter<u64>,
}

impl Observe {
    pub fn new(telemetry: Telemetry) -> Self {
        let instruments = telemetry.meter().map(|meter| Instruments {
            requests: RequestMetrics::new(meter, "meridian.edge.requests"),
            call_duration: meter
                .f64_histogram("meridian.edge.component.duration")
                .with_unit("s")
                .with_description("Time of component runs and dependency calls")
                .build(),
            limits: meter
                .u64_counter("meridian.edge.limits")
                .with_description("Limit hits per component: cpu, memory, and quarantines")
                .build(),
        });
        Self {
            telemetry,
            instruments,
        }
    }

    pub fn telemetry(&self) -> &Telemetry {
        &self.telemetry
    }

    pub fn is_enabled(&self) -> bool {
        self.telemetry.is_enabled()
    }

    /// Counts one hit of `limit` in `lane` (a component's id, or `host NAME`).
    pub fn limit_hit(&self, lane: &str, limit: &'static str) {
        if let Some(instruments) = &self.instruments {
            instruments.limits.add(
                1,
                &[
                    KeyValue::new("meridian.lane", lane.to_owned()),
                    KeyValue::new("meridian.limit", limit),
                ],
            );
        }
    }

    /// The server span of a shopper request, under the trace context it carried.
    pub fn request_span(&self, headers: &http::HeaderMap, method: &http::Method) -> Context {
        if !self.is_enabled() {
            return Context::new();
        }
        let parent = meridian_telemetry::extract(headers);
        self.telemetry.span(
            &parent,
            method.to_string(),
            SpanKind::Server,
            vec![KeyValue::new("http.request.method", method.to_string())],
        )
    }

    /// Records the end of a shopper request on its span and in the request metrics.
    pub fn request_done(
        &self,
        cx: &Context,
        method: &http::Method,
        route: Option<&str>,
        component: Option<&str>,
        status: u16,
        elapsed: Duration,
    ) {
        let Some(instruments) = &self.instruments else {
            return;
        };
        use meridian_telemetry::opentelemetry::trace::TraceContextExt as _;
        let span = cx.span();
        let route = route.unwrap_or("unmatched");
        span.update_name(format!("{method} {route}"));
        span.set_attribute(KeyValue::new("http.route", route.to_owned()));
        span.set_attribute(KeyValue::new(
            "http.response.status_code",
            i64::from(status),
        ));
        if let Some(component) = component {
            span.set_attribute(KeyValue::new("meridian.component", component.to_owned()));
        }
        if status >= 500 {
            meridian_telemetry::fail(cx, "server_error");
        }
        let attributes = [
            KeyValue::new("http.request.method", method.to_string()),
            KeyValue::new("http.route", route.to_owned()),
            KeyValue::new("meridian.component", component.unwrap_or("-").to_owned()),
            KeyValue::new("http.response.status_code", i64::from(status)),
        ];
        instruments.requests.record(&attributes, elapsed);
    }

    /// The span of one run of `component` (its instantiation and handler) under `parent`.
    pub fn component_span(&self, parent: &Context, component: &str) -> Context {
        self.telemetry.span(
            parent,
            format!("component {component}"),
            SpanKind::Internal,
            vec![KeyValue::new("meridian.component", component.to_owned())],
        )
    }

    /// The span of one call into a dependency's `function` of `interface`.
    pub fn call_span(&self, parent: &Context, interface: &str, function: &str) -> Context {
        self.telemetry.span(
            parent,
            format!("{interface}#{function}"),
            SpanKind::Internal,
            vec![
                KeyValue::new("rpc.service", interface.to_owned()),
                KeyValue::new("rpc.method", function.to_owned()),
            ],
        )
    }

    /// Records how long a component run or a dependency call took.
    pub fn call_done(&self, component: &str, function: &str, elapsed: Duration) {
        if let Some(instruments) = &self.instruments {
            instruments.call_duration.record(
                elapsed.as_secs_f64(),
                &[
                    KeyValue::new("meridian.component", component.to_owned()),
                    KeyValue::new("rpc.method", function.to_owned()),
                ],
            );
        }
    }

    /// The client span of an outbound request to `origin` (scheme, host and port only).
    pub fn outbound_span(&self, parent: &Context, method: &http::Method, origin: &str) -> Context {
        self.telemetry.span(
            parent,
            method.to_string(),
            SpanKind::Client,
            vec![
                KeyValue::new("http.request.method", method.to_string()),
                KeyValue::new("server.address", origin.to_owned()),
            ],
        )
    }
}

/// The trace of the request a store is serving: where its spans go and their parent.
#[derive(Debug, Clone)]
pub struct Trace {
    pub observe: Arc<Observe>,
    pub cx: Context,
}
