use std::sync::Arc;
use std::time::{Duration, Instant};

use edge::data::KeyValue;
use edge::data::{Backend, MemoryBackend};
use edge::runtime::Limits;
use edge::share::ShareLimits;

use crate::harness::{client, get, options, shared, start, test_limits};

#[tokio::test]
async fn an_infinite_loop_is_stopped_with_a_503_and_the_node_keeps_serving() {
    let node = shared();
    let started = Instant::now();
    let response = client()
        .get(format!("{}/probe/loop", node.url))
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["x-meridian-error"], "cpu");
    let page = response.text().await.unwrap();
    assert!(page.contains("more computing time"), "{page}");
    // The CPU budget is 100 ms (the deadline 500 ms); the epoch ticks every 10 ms.
    assert!(took < Duration::from_millis(450), "took {took:?}");
    let (status, _) = get(&format!("{}/probe/hello", node.url), &[]).await;
    assert_eq!(status, 200);
}

/// Waiting is not computing: a request that waits three times its CPU budget on the host
/// is served.
#[tokio::test]
async fn waiting_on_the_host_does_not_count_against_the_cpu_budget() {
    let (status, body) = get(&format!("{}/probe/sleep/300", shared().url), &[]).await;
    assert_eq!((status, body.as_str()), (200, "slept"));
}

/// A component given a larger budget of its own loops until the wall-clock deadline stops
/// it; the others keep the node's budget.
#[tokio::test]
async fn a_component_may_have_a_cpu_budget_of_its_own_and_the_deadline_still_holds() {
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::default());
    let node = start(
        Limits {
            cpu_per_component: [("probe".to_owned(), Duration::from_secs(10))].into(),
            ..test_limits()
        },
        options(KeyValue::Shared(backend.clone()), &[]),
        backend,
    );
    let response = client()
        .get(format!("{}/probe/loop", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["x-meridian-error"], "deadline");
    let response = client()
        .get(format!("{}/isolated/loop", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-meridian-error"], "cpu");
}

#[tokio::test]
async fn a_memory_bomb_is_stopped_with_a_503() {
    let node = shared();
    let response = client()
        .get(format!("{}/probe/bomb", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["x-meridian-error"], "memory");
    let page = response.text().await.unwrap();
    assert!(page.contains("more memory than the shop allows"), "{page}");
    let (status, _) = get(&format!("{}/probe/hello", node.url), &[]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_request_head_over_32_kib_is_refused_with_431() {
    let url = format!("{}/probe/hello", shared().url);
    let big = client()
        .get(&url)
        .header("x-padding", "x".repeat(40 << 10))
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 431);
    let fine = client()
        .get(&url)
        .header("x-padding", "x".repeat(8 << 10))
        .send()
        .await
        .unwrap();
    assert_eq!(fine.status(), 200);
}

#[tokio::test]
async fn a_trap_is_a_500_page() {
    let response = client()
        .get(format!("{}/probe/trap", shared().url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    assert_eq!(response.headers()["x-meridian-error"], "trap");
    let text = response.text().await.unwrap();
    assert!(text.contains("<h1>Something went wrong</h1>"), "{text}");
}

#[tokio::test]
async fn a_body_over_the_cap_is_refused_with_413() {
    let response = client()
        .put(format!("{}/probe/kv/too-big", shared().url))
        .body(vec![b'x'; 65 << 10])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert!(shared().backend.get("too-big").unwrap().is_none());
}

#[tokio::test]
async fn a_long_body_streams_in_full() {
    let (status, body) = get(&format!("{}/probe/stream/256", shared().url), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(body.len(), 256 << 10);
    assert!(body.bytes().all(|b| b == b'x'));
}

#[tokio::test]
async fn beyond_the_instance_limit_requests_get_a_fast_503() {
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::default());
    let node = start(
        Limits {
            max_instances: 2,
            deadline: Duration::from_secs(5),
            ..test_limits()
        },
        options(KeyValue::Shared(backend.clone()), &[]),
        backend,
    );
    let sleep = format!("{}/probe/sleep/1500", node.url);
    let slow: Vec<_> = (0..2)
        .map(|_| tokio::spawn(client().get(sleep.clone()).send()))
        .collect();
    // Let both take their instance.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let started = Instant::now();
    // Another component of another storefront: within their shares, but the node is full.
    let response = client()
        .get(format!("{}/hello", node.url))
        .header("host", "other.localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["x-meridian-error"], "busy");
    assert!(started.elapsed() < Duration::from_millis(500));
    for s in slow {
        assert_eq!(s.await.unwrap().unwrap().status(), 200);
    }
    // Once they finish, the node serves again. An instance gives its permit back just
    // after its last body byte leaves, so allow that moment.
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let (status, _) = get(&format!("{}/probe/hello", node.url), &[]).await;
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {status} after the slow requests ended"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn no_request_finds_anything_an_earlier_one_left_in_memory() {
    // Sequential requests reuse the same few memory slots of the pool; each instance
    // bumps a static and dirties 1 MiB of grown memory before it ends.
    let node = shared();
    for _ in 0..20 {
        let (status, body) = get(&format!("{}/probe/leftovers", node.url), &[]).await;
        assert_eq!((status, body.as_str()), (200, "visits=1 dirty=0"));
    }
}

/// A component at its share of the node's instances gets a fast 503 of its own; another
/// component is still served.
#[tokio::test]
async fn a_component_at_its_share_is_refused_and_the_others_are_served() {
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::default());
    let node = start(
        Limits {
            max_instances: 4,
            deadline: Duration::from_secs(5),
            shares: ShareLimits::default(),
            ..test_limits()
        },
        options(KeyValue::Shared(backend.clone()), &[]),
        backend,
    );
    let sleep = format!("{}/probe/sleep/1000", node.url);
    let slow: Vec<_> = (0..2)
        .map(|_| tokio::spawn(client().get(sleep.clone()).send()))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = client()
        .get(format!("{}/probe/hello", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["x-meridian-error"], "share");
    let (status, _) = get(
        &format!("{}/hello", node.url),
        &[("host", "other.localhost")],
    )
    .await;
    assert_eq!(
        status, 200,
        "another component of another host keeps its share"
    );
    let same_host = client()
        .get(format!("{}/hello", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            same_host.status().as_u16(),
            same_host.headers()["x-meridian-error"].to_str().unwrap()
        ),
        (503, "share"),
        "the storefront (host) is at its share too"
    );
    for s in slow {
        assert_eq!(s.await.unwrap().unwrap().status(), 200);
    }
}

/// A component that keeps hitting its CPU budget runs one request at a time for a while,
/// then comes back by itself; the others are not touched.
#[tokio::test]
async fn a_component_that_keeps_hitting_limits_is_quarantined_and_comes_back() {
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::default());
    let node = start(
        Limits {
            deadline: Duration::from_secs(5),
            shares: ShareLimits {
                quarantine_after: 2,
                quarantine_for: Duration::from_millis(1500),
                quarantine_interval: Duration::from_millis(100),
                ..ShareLimits::default()
            },
            ..test_limits()
        },
        options(KeyValue::Shared(backend.clone()), &[]),
        backend,
    );
    for _ in 0..2 {
        let (status, _) = get(&format!("{}/probe/loop", node.url), &[]).await;
        assert_eq!(status, 503);
    }
    let sleep = format!("{}/probe/sleep/600", node.url);
    let one = tokio::spawn(client().get(sleep.clone()).send());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = client().get(&sleep).send().await.unwrap();
    assert_eq!(second.status(), 503);
    assert_eq!(second.headers()["x-meridian-error"], "quarantined");
    let (status, _) = get(
        &format!("{}/hello", node.url),
        &[("host", "other.localhost")],
    )
    .await;
    assert_eq!(status, 200, "only the offender is cut");
    assert_eq!(one.await.unwrap().unwrap().status(), 200);
    // After the quarantine, two at once again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let both: Vec<_> = (0..2)
        .map(|_| tokio::spawn(client().get(sleep.clone()).send()))
        .collect();
    for b in both {
        assert_eq!(b.await.unwrap().unwrap().status(), 200);
    }
}
