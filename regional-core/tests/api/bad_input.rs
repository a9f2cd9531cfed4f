use serde_json::{Value, json};

use crate::helpers::*;

async fn refused(app: &TestApp, key: &str, body: Value, status: u16, code: &str) {
    let before = app.table_counts().await;
    let response = app.checkout(key, &body).await;
    assert_eq!(response.status(), status, "for {code}");
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], code, "{error}");
    assert!(error["error"]["message"].is_string());
    assert_eq!(app.table_counts().await, before, "{code} wrote something");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_checkout_is_a_clear_4xx_and_writes_nothing() {
    let app = spawn_app(Options::default()).await;
    let loaf = sku();
    app.seed(&loaf, 214, 5).await;
    let good = checkout_body("DE", "EUR", &loaf, 1, "tok_approve");
    let with = |f: &dyn Fn(&mut Value)| {
        let mut b = good.clone();
        f(&mut b);
        b
    };
    for q in [json!(0), json!(1001), json!(1.5), json!("2"), json!(-1)] {
        refused(
            &app,
            &key(),
            with(&|b| b["lines"][0]["quantity"] = q.clone()),
            422,
            "invalid_quantity",
        )
        .await;
    }
    refused(
        &app,
        &key(),
        with(&|b| b["lines"][0]["sku"] = json!("NOPE-1")),
        422,
        "unknown_sku",
    )
    .await;
    refused(
        &app,
        &key(),
        with(&|b| b["currency"] = json!("USD")),
        422,
        "currency_not_region",
    )
    .await;
    refused(
        &app,
        &key(),
        with(&|b| b["lines"][0]["unit_price_minor"] = json!(1)),
        422,
        "client_prices_refused",
    )
    .await;
    refused(
        &app,
        &key(),
        with(&|b| b["total_minor"] = json!(1)),
        422,
        "client_prices_refused",
    )
    .await;
    refused(
        &app,
        &key(),
        with(&|b| b["promo_codes"] = json!(["FREEBREAD"])),
        422,
        "unknown_promo_code",
    )
    .await;
    refused(
        &app,
        &key(),
        with(&|b| b["shopper"]["email"] = json!("not-an-email")),
        422,
        "invalid_field",
    )
    .await;
    refused(
        &app,
        &key(),
        with(&|b| b["payment"]["token"] = json!("4111111111111111")),
        422,
        "invalid_field",
    )
    .await;
    refused(
        &app,
        &key(),
        with(&|b| b["surprise"] = json!(true)),
        400,
        "malformed_body",
    )
    .await;
    refused(
        &app,
        &key(),
        with(&|b| b["lines"][0]["quantity"] = json!(6)),
        409,
        "out_of_stock",
    )
    .await;
    refused(&app, "short", good.clone(), 400, "invalid_idempotency_key").await;

    // A product without a price in the region's currency.
    let usd_only = sku();
    let r = app.http.put(app.url(&format!("/v1/admin/products/{usd_only}"))).bearer_auth(GROCER_TOKEN)
        .json(&json!({"title": "Bagel", "category": "bakery", "unit": "1", "tax_category": "food", "prices": {"USD": 100}}))
        .send().await.unwrap();
    assert_eq!(r.status(), 200);
    app.adjust(&usd_only, &app.warehouse(0), 5).await;
    refused(
        &app,
        &key(),
        with(&|b| b["lines"][0]["sku"] = json!(usd_only)),
        422,
        "sku_not_sold_in_currency",
    )
    .await;

    // Malformed JSON and a missing key.
    let before = app.table_counts().await;
    let r = app
        .http
        .post(app.url("/v1/checkouts"))
        .header("Idempotency-Key", key())
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "malformed_json"
    );
    let r = app
        .http
        .post(app.url("/v1/checkouts"))
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "missing_idempotency_key"
    );
    assert_eq!(app.table_counts().await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_stock_names_the_skus_and_what_is_available() {
    let app = spawn_app(Options::default()).await;
    let loaf = sku();
    app.seed(&loaf, 214, 2).await;
    let response = app
        .checkout(&key(), &checkout_body("DE", "EUR", &loaf, 5, "tok_approve"))
        .await;
    assert_eq!(response.status(), 409);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["lines"][0]["sku"], loaf.as_str());
    assert_eq!(body["error"]["lines"][0]["requested"], 5);
    assert_eq!(body["error"]["lines"][0]["available"], 2);
}
