//! OpenTelemetry from the node, received by a real OTLP receiver: the node continues a
//! CDN's trace, nests component runs and outbound calls under the request, passes
//! `traceparent` on to the upstream, marks failures, and records request metrics, with no
//! path values or query strings in any attribute.

use std::sync::Arc;
use std::time::Duration;

use edge::data::KeyValue;
use edge::data::{Backend, MemoryBackend};
use meridian_telemetry::Telemetry;
use meridian_telemetry::receiver::ReceivedSpan;

use crate::harness::*;

const CDN_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CDN_SPAN: &str = "00f067aa0ba902b7";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_one_trace_from_the_cdn_through_the_component_to_the_upstream() {
    let (otlp, inbox) = otlp_receiver();
    let telemetry = Telemetry::new("meridian-edge", &[], Some(&otlp)).unwrap();
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::default());
    let node = start_with(
        test_limits(),
        options(KeyValue::Shared(backend.clone()), &[]),
        backend,
        telemetry.clone(),
    );
    let up = upstreams();
    let traceparent = format!("00-{CDN_TRACE}-{CDN_SPAN}-01");
    let (status, body) = get(
        &format!(
            "{}/probe/fetch?http://{}/secret-path",
            node.url, up.upstream
        ),
        &[("traceparent", &traceparent)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = get(&format!("{}/probe/trap", node.url), &[]).await;
    assert_eq!(status, 500);

    let spans = received(&telemetry, &inbox, 5).await;
    let request = spans
        .iter()
        .find(|s| s.trace_id == CDN_TRACE && s.kind == 2)
        .expect("the request's span continues the CDN's trace");
    assert_eq!(request.parent_span_id, CDN_SPAN);
    assert_eq!(request.name, "GET /probe/...");
    assert_eq!(request.attribute("http.route"), Some("/probe/..."));
    assert_eq!(request.attribute("meridian.component"), Some("probe"));
    let component = spans
        .iter()
        .find(|s| s.parent_span_id == request.span_id)
        .unwrap();
    assert_eq!(component.name, "component probe");
    let client = spans
        .iter()
        .find(|s| s.parent_span_id == component.span_id && s.kind == 3)
        .unwrap();
    assert_eq!(client.trace_id, CDN_TRACE);
    assert_eq!(
        client.attribute("server.address"),
        Some(format!("http://{}", up.upstream).as_str())
    );
    assert_eq!(client.attribute("http.response.status_code"), Some("200"));
    // The upstream got the client span as its parent.
    assert!(
        body.contains(&format!("traceparent=00-{CDN_TRACE}-{}-01", client.span_id)),
        "{body}"
    );

    // A trap marks the request's and the component's spans as failed.
    let trapped = spans
        .iter()
        .find(|s| s.kind == 2 && s.attribute("http.response.status_code") == Some("500"))
        .expect("the trapped request's span");
    assert_eq!(trapped.status, 2, "{trapped:?}");
    let trapped_run = spans
        .iter()
        .find(|s| s.parent_span_id == trapped.span_id)
        .unwrap();
    assert_eq!(
        (trapped_run.status, trapped_run.status_message.as_str()),
        (2, "trap")
    );

    // Nothing of a path's values or a query string in any span.
    for span in &spans {
        for text in span.texts() {
            assert!(
                !text.contains("secret-path") && !text.contains('?'),
                "{span:?}"
            );
        }
    }
    let metrics = inbox.metrics();
    let requests = metrics
        .iter()
        .find(|m| m.name == "meridian.edge.requests")
        .expect("request counts");
    assert!(requests.points.iter().any(|p| {
        p.contains(&("http.route".to_owned(), "/probe/...".to_owned()))
            && p.contains(&("http.response.status_code".to_owned(), "500".to_owned()))
    }));
    assert!(
        metrics
            .iter()
            .any(|m| m.name == "meridian.edge.component.duration")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wasip3_component_is_traced_like_any_other() {
    let (otlp, inbox) = otlp_receiver();
    let telemetry = Telemetry::new("meridian-edge", &[], Some(&otlp)).unwrap();
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::default());
    let node = start_with(
        test_limits(),
        options(KeyValue::Shared(backend.clone()), &[]),
        backend,
        telemetry.clone(),
    );
    let up = upstreams();
    let traceparent = format!("00-{CDN_TRACE}-{CDN_SPAN}-01");
    let (status, body) = get(
        &format!("{}/p3/fetch?http://{}/p3-secret", node.url, up.upstream),
        &[("traceparent", &traceparent)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    crate::stores::publish_grocery(node.backend.as_ref());
    let (status, title) = get(
        &format!("{}/p3-deps/product/LOAF-1", node.url),
        &[("x-meridian-country", "FR")],
    )
    .await;
    assert_eq!((status, title.as_str()), (200, "Sourdough loaf"));

    let spans = received(&telemetry, &inbox, 6).await;
    let request = spans
        .iter()
        .find(|s| s.trace_id == CDN_TRACE && s.kind == 2)
        .expect("the request's span continues the CDN's trace");
    assert_eq!(request.name, "GET /p3/...");
    // A dependency call from a WASIp3 component nests under the component's run.
    let call = spans
        .iter()
        .find(|s| s.name == "meridian:catalogue/catalogue@0.1.0#product")
        .expect("the dependency call's span");
    let run = spans
        .iter()
        .find(|s| s.span_id == call.parent_span_id)
        .expect("the call's parent");
    assert_eq!(run.name, "component p3-deps");
    assert_eq!(run.trace_id, call.trace_id);
    let component = spans
        .iter()
        .find(|s| s.parent_span_id == request.span_id)
        .unwrap();
    assert_eq!(component.name, "component p3");
    let client = spans
        .iter()
        .find(|s| s.parent_span_id == component.span_id && s.kind == 3)
        .expect("the WASIp3 guest's outbound request is a client span under its run");
    // The upstream got the client span as its parent.
    assert!(
        body.contains(&format!("traceparent=00-{CDN_TRACE}-{}-01", client.span_id)),
        "{body}"
    );
    for span in &spans {
        for text in span.texts() {
            assert!(
                !text.contains("p3-secret") && !text.contains('?'),
                "{span:?}"
            );
        }
    }
}

/// Flushes until the receiver has at least `count` spans (a component's span ends when its
/// instance is dropped, just after the response).
async fn received(
    telemetry: &Telemetry,
    inbox: &meridian_telemetry::receiver::Inbox,
    count: usize,
) -> Vec<ReceivedSpan> {
    for _ in 0..50 {
        let t = telemetry.clone();
        tokio::task::spawn_blocking(move || t.flush())
            .await
            .unwrap();
        let spans = inbox.spans();
        if spans.len() >= count {
            return spans;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("only {} spans received", inbox.spans().len());
}
