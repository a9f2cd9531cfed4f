use crate::harness::{get, shared, upstreams};

#[tokio::test]
async fn an_allowed_host_is_reached() {
    let up = upstreams();
    let (status, body) = get(
        &format!("{}/probe/fetch?http://{}/ping", shared().url, up.upstream),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("status 200\nupstream /ping"), "{body}");
    // Host is the URL's authority, set by the host, never by the guest.
    assert!(body.ends_with(&format!("host={}", up.upstream)), "{body}");
}

#[tokio::test]
async fn hosts_not_allowed_are_refused() {
    let node = shared();
    for url in [
        "http://127.0.0.1:9/x",
        "http://example.invalid/x",
        "https://127.0.0.1/x",
    ] {
        let (status, body) = get(&format!("{}/probe/fetch?{url}", node.url), &[]).await;
        assert_eq!(status, 502, "{url}: {body}");
        assert!(body.contains("HttpRequestDenied"), "{url}: {body}");
    }
}

#[tokio::test]
async fn a_request_without_an_authority_is_not_steered_by_host() {
    // CVE-2024-32980: a request with no authority must not go wherever `Host` points
    // (here it would be the node itself). The node refuses it.
    let (status, body) = get(
        &format!("{}/probe/fetch?http:///probe/hello", shared().url),
        &[],
    )
    .await;
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("denied"), "{body}");
}

#[tokio::test]
async fn service_chaining_runs_a_private_component_for_the_same_shopper() {
    let (status, body) = get(
        &format!(
            "{}/probe/fetch?http://hidden.spin.internal/hello",
            shared().url
        ),
        &[("x-meridian-country", "FR")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.starts_with("status 200\nmethod: Method::Get"),
        "{body}"
    );
    assert!(body.contains("x-meridian-region: eu-west"), "{body}");
}

#[tokio::test]
async fn chaining_to_a_component_not_allowed_is_refused() {
    let (status, body) = get(
        &format!(
            "{}/probe/fetch?http://greeter.spin.internal/hello",
            shared().url
        ),
        &[],
    )
    .await;
    assert_eq!(status, 502, "{body}");
}

#[tokio::test]
async fn a_pinned_shopper_reaches_only_the_home_regions_core() {
    let node = shared();
    let up = upstreams();
    let eu = format!("{}/probe/fetch?http://{}/orders", node.url, up.eu_west);
    let us = format!("{}/probe/fetch?http://{}/orders", node.url, up.us_east);
    let france = [("x-meridian-country", "FR")];
    let (status, body) = get(&eu, &france).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("eu-west-core /orders"), "{body}");
    // Both cores are in allowed_outbound_hosts, yet an eu-west shopper's request never
    // goes to us-east's core.
    let (status, body) = get(&us, &france).await;
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("HttpRequestDenied"), "{body}");
    let (status, body) = get(&us, &[("x-meridian-country", "US")]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("us-east-core /orders"), "{body}");
}

#[tokio::test]
async fn https_reaches_a_server_whose_certificate_the_node_trusts() {
    use std::sync::Arc;

    use edge::data::KeyValue;
    use edge::data::{Backend, MemoryBackend};
    use edge::host::outbound::Tls;
    use meridian_telemetry::Telemetry;

    use crate::harness::{options, start_node, test_limits};

    let up = upstreams();
    let url = format!("https://{}/secure-ping", up.secure);
    // The machine's trust store does not know the throwaway CA: the handshake fails, and
    // the component is told it was the certificate.
    let (status, body) = get(&format!("{}/probe/fetch?{url}", shared().url), &[]).await;
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("TlsCertificateError"), "{body}");

    // A node told to trust the CA (as `edge up --ca-cert` does) gets through.
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::default());
    let node = start_node(
        test_limits(),
        options(KeyValue::Shared(backend.clone()), &[]),
        backend,
        Telemetry::disabled(),
        Tls::trusting_only(&up.secure_ca).unwrap(),
    );
    let (status, body) = get(&format!("{}/probe/fetch?{url}", node.url), &[]).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.starts_with(&format!(
            "status 200\nsecure /secure-ping host={}",
            up.secure
        )),
        "{body}"
    );
}
