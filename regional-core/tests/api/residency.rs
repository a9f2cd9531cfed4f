use serde_json::Value;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopper_of_another_region_gets_421_naming_it_and_leaves_no_trace() {
    let app = spawn_app(Options {
        region: "us-east",
        ..Options::default()
    })
    .await;
    let loaf = sku();
    app.seed(&loaf, 500, 5).await;
    let mut body = checkout_body("DE", "USD", &loaf, 1, "tok_approve");
    body["shopper"]["email"] = "canary-7f3a@residency.invalid".into();
    let before = app.table_counts().await;
    let response = app.checkout(&key(), &body).await;
    assert_eq!(response.status(), 421);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "wrong_region");
    assert_eq!(error["error"]["home_region"], "eu-west");
    assert_eq!(app.table_counts().await, before);
    assert_eq!(app.count_everywhere("canary-7f3a").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipping_to_a_country_of_another_region_is_refused_too() {
    let app = spawn_app(Options::default()).await;
    let loaf = sku();
    app.seed(&loaf, 500, 5).await;
    let mut body = checkout_body("DE", "EUR", &loaf, 1, "tok_approve");
    body["shopper"]["address"]["country"] = "IN".into();
    let response = app.checkout(&key(), &body).await;
    assert_eq!(response.status(), 421);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"]["home_region"],
        "ap-south"
    );
}
