use serde_json::Value;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness_answer_and_unknown_routes_are_json_404s() {
    let app = spawn_app(Options::default()).await;
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready: Value = app
        .http
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["region"], "eu-west");
    let missing = app
        .http
        .get(app.url("/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.json::<Value>().await.unwrap()["error"]["code"],
        "not_found"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_query_without_a_sku_is_a_json_400() {
    let app = spawn_app(Options::default()).await;
    let r = app.http.get(app.url("/v1/stock")).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "missing_parameter"
    );
    let r = app
        .http
        .get(app.url("/v1/stock?sku=NOPE-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
