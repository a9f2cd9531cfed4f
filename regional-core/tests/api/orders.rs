use serde_json::Value;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_is_fulfilled_then_refunded_in_two_parts() {
    let app = spawn_app(Options::default()).await;
    let loaf = sku();
    app.seed(&loaf, 250, 4).await;
    let order: Value = app
        .checkout(&key(), &checkout_body("DE", "EUR", &loaf, 4, "tok_approve"))
        .await
        .json()
        .await
        .unwrap();
    let id = order["order_id"].as_str().unwrap();
    let post = |path: String, body: Option<Value>| {
        let mut r = app.http.post(app.url(&path)).bearer_auth(GROCER_TOKEN);
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send()
    };
    let r = post(format!("/v1/admin/orders/{id}/refund"), None)
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        409,
        "a confirmed order is not refundable before fulfilment"
    );
    let fulfilled: Value = post(format!("/v1/admin/orders/{id}/fulfil"), None)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fulfilled["status"], "fulfilled");
    assert_eq!(app.stock_row(&loaf).await, (0, 0));
    let part: Value = post(
        format!("/v1/admin/orders/{id}/refund"),
        Some(serde_json::json!({"amount_minor": 250})),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(part["status"], "partially_refunded");
    let rest: Value = post(format!("/v1/admin/orders/{id}/refund"), None)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest["status"], "refunded");
    assert_eq!(rest["refunded_minor"], 1000);
    let history: Vec<&str> = rest["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        history,
        vec![
            "pending_payment",
            "confirmed",
            "fulfilled",
            "partially_refunded",
            "refunded"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopper_cancels_a_confirmed_order_and_the_stock_comes_back() {
    let app = spawn_app(Options::default()).await;
    let loaf = sku();
    app.seed(&loaf, 250, 2).await;
    let order: Value = app
        .checkout(&key(), &checkout_body("DE", "EUR", &loaf, 2, "tok_approve"))
        .await
        .json()
        .await
        .unwrap();
    let (id, token) = (
        order["order_id"].as_str().unwrap(),
        order["order_access_token"].as_str().unwrap(),
    );
    assert_eq!(app.stock_row(&loaf).await, (2, 2));
    let cancelled: Value = app
        .http
        .post(app.url(&format!("/v1/orders/{id}/cancel")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(app.stock_row(&loaf).await, (2, 0));
    let voided = app.psp_authorizations().await;
    assert_eq!(voided[0]["authorization"]["status"], "voided");
    let r = app
        .http
        .post(app.url(&format!("/v1/admin/orders/{id}/fulfil")))
        .bearer_auth(GROCER_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
}
