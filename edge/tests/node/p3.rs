//! WASIp3 components: the node serves a guest built with spin-sdk 7
//! (`components/edge-p3`, exporting `wasi:http/handler@0.3.0`) beside the WASIp2 ones, with
//! Spin's v3 key-value and variables, outbound HTTP under the allow-list, chaining, streamed
//! bodies and the same limits.

use std::time::{Duration, Instant};

use crate::harness::{client, get, on_redis, shared, upstreams};

#[tokio::test]
async fn a_spin_sdk_7_component_answers_with_its_query_and_the_shoppers_region() {
    let (status, body) = get(
        &format!("{}/p3/hello?name=ada", shared().url),
        &[("x-meridian-country", "FR")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("hello ada from wasi:http@0.3\n"), "{body}");
    assert!(body.contains("region: eu-west"), "{body}");
}

#[tokio::test]
async fn spin_key_value_v3_shares_the_store_with_wasip2_components() {
    let node = shared();
    let url = format!("{}/p3/kv/p3-loaf", node.url);
    let response = client().put(&url).body("sourdough").send().await.unwrap();
    assert_eq!(response.status(), 200);
    // The same raw key, seen by the store, by the WASIp2 probe and by the guest itself.
    assert_eq!(
        node.backend.get("p3-loaf").unwrap().as_deref(),
        Some(&b"sourdough"[..])
    );
    let (status, body) = get(&format!("{}/probe/kv/p3-loaf", node.url), &[]).await;
    assert_eq!((status, body.as_str()), (200, "sourdough"));
    let (status, body) = get(&url, &[]).await;
    assert_eq!((status, body.as_str()), (200, "sourdough"));

    // get-keys streams every key.
    node.backend.set("p3-other", b"x").unwrap();
    let (status, keys) = get(&format!("{}/p3/kv-keys", node.url), &[]).await;
    assert_eq!(status, 200);
    let keys: Vec<&str> = keys.lines().collect();
    assert!(
        keys.contains(&"p3-loaf") && keys.contains(&"p3-other"),
        "{keys:?}"
    );

    let response = client().delete(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(node.backend.get("p3-loaf").unwrap(), None);
    let (status, _) = get(&url, &[]).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_store_the_manifest_does_not_grant_is_access_denied() {
    let (status, body) = get(&format!("{}/p3/kv-open/secrets", shared().url), &[]).await;
    assert_eq!(status, 403);
    assert!(body.contains("AccessDenied"), "{body}");
    let (status, body) = get(&format!("{}/p3/kv-open/default", shared().url), &[]).await;
    assert_eq!((status, body.as_str()), (200, "opened"));
}

#[tokio::test]
async fn spin_variables_v3_resolve_like_spin() {
    let node = shared();
    let (status, body) = get(&format!("{}/p3/var/greeting", node.url), &[]).await;
    assert_eq!((status, body.as_str()), (200, "hello from the manifest"));
    // Declared by the application but not given to this component.
    let (status, body) = get(&format!("{}/p3/var/upstream", node.url), &[]).await;
    assert_eq!(status, 404);
    assert!(body.contains("Undefined(\"upstream\")"), "{body}");
    let (status, body) = get(&format!("{}/p3/var/Not-A-Name", node.url), &[]).await;
    assert_eq!(status, 404);
    assert!(body.contains("InvalidName"), "{body}");
}

#[tokio::test]
async fn outbound_requests_from_a_p3_component_obey_the_allow_list() {
    let node = shared();
    let up = upstreams();
    let (status, body) = get(
        &format!("{}/p3/fetch?http://{}/from-p3", node.url, up.upstream),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("status 200\n"), "{body}");
    assert!(body.contains("/from-p3"), "{body}");

    // The eu-west core is not in this component's allow-list.
    let (status, body) = get(
        &format!("{}/p3/fetch?http://{}/v1/orders", node.url, up.eu_west),
        &[],
    )
    .await;
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("HttpRequestDenied"), "{body}");

    // Naming an allowed host in the Host header steers nothing.
    let (status, body) = get(
        &format!("{}/p3/fetch?http://127.0.0.1:9/", node.url),
        &[("host", &up.upstream.to_string())],
    )
    .await;
    assert_eq!(status, 502, "{body}");
}

#[tokio::test]
async fn a_p3_component_chains_to_a_wasip2_component_in_process() {
    let (status, body) = get(
        &format!(
            "{}/p3/fetch?http://hidden.spin.internal/hello",
            shared().url
        ),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("status 200\n"), "{body}");
    assert!(body.contains("path: /hello"), "{body}");
}

#[tokio::test]
async fn a_streamed_body_arrives_whole_and_a_request_body_is_read() {
    let node = shared();
    let response = client()
        .get(format!("{}/p3/stream/300", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.unwrap();
    assert_eq!(body.len(), 300 << 10);
    assert!(body.iter().all(|b| *b == b'x'));

    let response = client()
        .post(format!("{}/p3/echo", node.url))
        .body(vec![b'y'; 10_000])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "10000 bytes");

    let response = client()
        .post(format!("{}/p3/echo", node.url))
        .body(vec![b'y'; 65 << 10])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn a_trap_mid_body_cuts_the_response_rather_than_ending_it() {
    let response = client()
        .get(format!("{}/p3/stream-trap", shared().url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // A body that ended normally would read as a whole (if short) page.
    let read = response.bytes().await;
    assert!(read.is_err(), "the body ended normally: {read:?}");
}

#[tokio::test]
async fn a_looping_or_trapping_p3_component_gets_a_clean_error_page() {
    let node = shared();
    let started = Instant::now();
    let response = client()
        .get(format!("{}/p3/loop", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    // Its event loop runs on the request's thread: the CPU budget (100 ms) stops it.
    assert_eq!(response.headers()["x-meridian-error"], "cpu");
    assert!(started.elapsed() < Duration::from_secs(3));

    let response = client()
        .get(format!("{}/p3/trap", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    assert_eq!(response.headers()["x-meridian-error"], "trap");

    let (status, _) = get(&format!("{}/p3/hello", node.url), &[]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn concurrent_p3_requests_each_get_their_own_instance() {
    let node = shared();
    let requests: Vec<_> = (0..12)
        .map(|i| {
            let url = format!("{}/p3/hello?name=n{i}", node.url);
            tokio::spawn(async move { get(&url, &[]).await })
        })
        .collect();
    for (i, request) in requests.into_iter().enumerate() {
        let (status, body) = request.await.unwrap();
        assert_eq!(status, 200);
        assert!(body.starts_with(&format!("hello n{i} ")), "{body}");
    }
}

#[tokio::test]
async fn spin_key_value_v3_on_redis_uses_raw_keys() {
    let node = on_redis();
    let backend = &node.backend;
    let key = format!("edge-p3-test-{}", std::process::id());
    let url = format!("{}/p3/kv/{key}", node.url);
    let response = client().put(&url).body("rye").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(backend.get(&key).unwrap().as_deref(), Some(&b"rye"[..]));
    let (status, body) = get(&url, &[]).await;
    assert_eq!((status, body.as_str()), (200, "rye"));
    backend.delete(&key).unwrap();
}

#[tokio::test]
async fn a_p3_component_calls_its_dependency_through_the_typed_interface() {
    let node = shared();
    crate::stores::publish_grocery(node.backend.as_ref());
    let url = |sku: &str| format!("{}/p3-deps/product/{sku}", node.url);
    let (status, body) = get(&url("LOAF-1"), &[("x-meridian-country", "FR")]).await;
    assert_eq!((status, body.as_str()), (200, "Sourdough loaf"));
    let (status, body) = get(&url("NOPE-1"), &[("x-meridian-country", "FR")]).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("UnknownSku"), "{body}");

    // Several at once (fewer than the node's instance limit): each request's store has
    // its own instance of the catalogue.
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..8 {
        let url = url(if i % 2 == 0 { "LOAF-1" } else { "NOPE-1" });
        calls.spawn(async move { (i, get(&url, &[("x-meridian-country", "FR")]).await) });
    }
    while let Some(call) = calls.join_next().await {
        let (i, (status, body)) = call.unwrap();
        if i % 2 == 0 {
            assert_eq!((status, body.as_str()), (200, "Sourdough loaf"));
        } else {
            assert!(status == 404 && body.contains("UnknownSku"), "{body}");
        }
    }
}

#[tokio::test]
async fn a_p3_components_dependency_over_the_memory_cap_is_a_503_naming_memory() {
    let node = shared();
    // More than the test limits' 32 MiB: the catalogue cannot take it into its memory.
    let sku = "HUGE-P3-1";
    node.backend
        .set(
            &projections::keys::product("eu-west", "grocer", sku),
            &vec![b' '; 40 << 20],
        )
        .unwrap();
    let response = client()
        .get(format!("{}/p3-deps/product/{sku}", node.url))
        .header("x-meridian-country", "FR")
        .send()
        .await
        .unwrap();
    node.backend
        .delete(&projections::keys::product("eu-west", "grocer", sku))
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["x-meridian-error"], "memory");
    let (status, _) = get(&format!("{}/p3/hello", node.url), &[]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_p3_components_dependency_that_inherits_nothing_cannot_open_the_store() {
    let node = shared();
    crate::stores::publish_grocery(node.backend.as_ref());
    let (status, body) = get(
        &format!("{}/p3-isolated/product/LOAF-1", node.url),
        &[("x-meridian-country", "FR")],
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("StoreUnavailable"), "{body}");
}
