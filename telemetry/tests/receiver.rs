//! Real export to a real receiver: spans from two services, linked by `traceparent`, come
//! back decoded from OTLP protobuf with their parent, resource and attributes.
#![allow(clippy::unwrap_used)]

use meridian_telemetry::opentelemetry::trace::SpanKind;
use meridian_telemetry::opentelemetry::{Context, KeyValue};
use meridian_telemetry::receiver::{self, Inbox};
use meridian_telemetry::{Telemetry, extract, inject};

async fn start_receiver() -> (String, Inbox) {
    let inbox = Inbox::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(receiver::serve(listener, inbox.clone()));
    (url, inbox)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_continues_across_services_through_traceparent() {
    let (url, inbox) = start_receiver().await;
    let edge = Telemetry::new("edge-under-test", &[], Some(&url)).unwrap();
    let core = Telemetry::new(
        "core-under-test",
        &[("meridian.region", "eu-west".to_owned())],
        Some(&url),
    )
    .unwrap();

    let request = edge.span(&Context::new(), "GET /", SpanKind::Server, vec![]);
    let call = edge.span(
        &request,
        "POST",
        SpanKind::Client,
        vec![KeyValue::new("http.request.method", "POST")],
    );
    let mut headers = http::HeaderMap::new();
    inject(&call, &mut headers);
    assert!(headers.contains_key("traceparent"), "{headers:?}");
    let served = core.span(
        &extract(&headers),
        "POST /v1/checkouts",
        SpanKind::Server,
        vec![],
    );
    drop((served, call, request));
    let (edge2, core2) = (edge.clone(), core.clone());
    tokio::task::spawn_blocking(move || {
        edge2.flush();
        core2.flush();
    })
    .await
    .unwrap();

    let spans = inbox.spans();
    let find = |name: &str| spans.iter().find(|s| s.name == name).unwrap();
    let (root, client, server) = (find("GET /"), find("POST"), find("POST /v1/checkouts"));
    assert_eq!(root.parent_span_id, "");
    assert_eq!(client.parent_span_id, root.span_id);
    assert_eq!(server.parent_span_id, client.span_id);
    assert!(spans.iter().all(|s| s.trace_id == root.trace_id));
    // The root lasts at least as long as the spans inside it.
    assert!(root.duration >= client.duration && client.duration >= server.duration);
    assert!(root.duration > std::time::Duration::ZERO);
    assert_eq!((root.service.as_str(), root.kind), ("edge-under-test", 2));
    assert_eq!(
        (client.kind, client.attribute("http.request.method")),
        (3, Some("POST"))
    );
    assert_eq!(server.service, "core-under-test");
    assert_eq!(
        server.resource_attribute("meridian.region"),
        Some("eu-west")
    );
    assert!(!inbox.payloads().is_empty());
}

#[tokio::test]
async fn off_without_an_endpoint_and_nothing_injected() {
    for endpoint in [None, Some(""), Some("  ")] {
        let telemetry = Telemetry::new("svc", &[], endpoint).unwrap();
        assert!(!telemetry.is_enabled());
        assert!(telemetry.meter().is_none());
        let cx = telemetry.span(&Context::new(), "x", SpanKind::Server, vec![]);
        let mut headers = http::HeaderMap::new();
        inject(&cx, &mut headers);
        assert!(headers.is_empty(), "no span, no traceparent");
    }
    // A malformed traceparent starts a new trace rather than failing.
    let mut headers = http::HeaderMap::new();
    headers.insert("traceparent", "00-nonsense".parse().unwrap());
    let (url, inbox) = start_receiver().await;
    let telemetry = Telemetry::new("svc", &[], Some(&url)).unwrap();
    drop(telemetry.span(&extract(&headers), "root", SpanKind::Server, vec![]));
    let t = telemetry.clone();
    tokio::task::spawn_blocking(move || t.flush())
        .await
        .unwrap();
    assert_eq!(inbox.spans()[0].parent_span_id, "");
}

#[tokio::test]
async fn the_receiver_accepts_only_protobuf() {
    let (url, inbox) = start_receiver().await;
    let response = reqwest::Client::new()
        .post(format!("{url}/v1/traces"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let response = reqwest::Client::new()
        .post(format!("{url}/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(vec![0xff, 0xff, 0xff])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(inbox.spans().is_empty() && inbox.payloads().is_empty());
}
