use crate::harness::{get, shared};

#[tokio::test]
async fn wildcard_routes_get_the_full_path_and_spin_headers() {
    let node = shared();
    let (status, body) = get(&format!("{}/probe/hello/there?x=1", node.url), &[]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("path: /probe/hello/there?x=1"), "{body}");
    assert!(body.contains("spin-matched-route: /probe/..."), "{body}");
    assert!(body.contains("spin-component-route: /probe\n"), "{body}");
    assert!(body.contains("spin-path-info: /hello/there\n"), "{body}");
    assert!(body.contains("spin-full-url: http://127.0.0.1:"), "{body}");
}

#[tokio::test]
async fn an_exact_route_beats_the_wildcard() {
    let node = shared();
    // `/probe/hello/exact` is the `greeter` component, whose greeting differs.
    let (status, body) = get(&format!("{}/probe/hello/exact", node.url), &[]).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("spin-matched-route: /probe/hello/exact"),
        "{body}"
    );
    let (_, body) = get(&format!("{}/probe/var/greeting", node.url), &[]).await;
    assert_eq!(body, "hello from the manifest");
}

#[tokio::test]
async fn unrouted_and_private_paths_are_404_pages() {
    let node = shared();
    for path in ["/", "/nothing/here", "/hidden/hello", "/probex"] {
        let response = reqwest::get(format!("{}{path}", node.url)).await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(response.headers()["x-meridian-error"], "not_found");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("<h1>Page not found</h1>")
        );
    }
}

#[tokio::test]
async fn health_answers_without_a_component() {
    let (status, body) = get(&format!("{}/_edge/healthz", shared().url), &[]).await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));
}

#[tokio::test]
async fn the_region_comes_from_the_cdn_header_then_the_cookie_and_cannot_be_forged() {
    let url = format!("{}/probe/hello", shared().url);
    let (_, body) = get(&url, &[("x-meridian-country", "FR")]).await;
    assert!(body.contains("x-meridian-region: eu-west"), "{body}");
    let (_, body) = get(&url, &[("cookie", "meridian_country=IN")]).await;
    assert!(body.contains("x-meridian-region: ap-south"), "{body}");
    // A shopper cannot name their own region: the node replaces the header.
    let (_, body) = get(
        &url,
        &[
            ("x-meridian-region", "ap-south"),
            ("x-meridian-country", "DE"),
        ],
    )
    .await;
    assert!(body.contains("x-meridian-region: eu-west"), "{body}");
    assert!(!body.contains("x-meridian-region: ap-south"), "{body}");
}

#[tokio::test]
async fn a_dependency_is_called_through_its_typed_interface() {
    let node = shared();
    crate::stores::publish_grocery(node.backend.as_ref());
    let (status, body) = get(
        &format!("{}/probe/product/LOAF-1", node.url),
        &[("x-meridian-country", "FR")],
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "Sourdough loaf"));
    let (status, body) = get(
        &format!("{}/probe/product/NOPE-1", node.url),
        &[("x-meridian-country", "FR")],
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("UnknownSku"), "{body}");
}

#[tokio::test]
async fn a_dependency_that_inherits_nothing_cannot_open_the_store() {
    let node = shared();
    crate::stores::publish_grocery(node.backend.as_ref());
    let (status, body) = get(
        &format!("{}/isolated/product/LOAF-1", node.url),
        &[("x-meridian-country", "FR")],
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("StoreUnavailable"), "{body}");
}
