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
        let mut r = app
            .http
            .post(app.url(&path))
            .bearer_auth(GROCER_TOKEN)
            .header("Idempotency-Key", key());
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

/// What the sandbox PSP says it refunded of `order`'s authorisation.
async fn psp_refunded(app: &TestApp, order: &str) -> i64 {
    let client = app.db.get().await.unwrap();
    let payment_id: String = client
        .query_one(
            "SELECT payment_id FROM orders WHERE id = $1::text::uuid",
            &[&order],
        )
        .await
        .unwrap()
        .get(0);
    let all: Value = reqwest::get(format!("{}/v1/authorizations", app.psp.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    all["authorizations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["authorization"]["id"] == payment_id.as_str())
        .map(|a| a["authorization"]["refunded_minor"].as_i64().unwrap())
        .unwrap()
}

async fn fulfilled_order(app: &TestApp, price: i64, quantity: i64) -> String {
    let item = sku();
    app.seed(&item, price, quantity as i32).await;
    let order: Value = app
        .checkout(
            &key(),
            &checkout_body("DE", "EUR", &item, quantity, "tok_approve"),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = order["order_id"].as_str().unwrap().to_owned();
    let r = app
        .http
        .post(app.url(&format!("/v1/admin/orders/{id}/fulfil")))
        .bearer_auth(GROCER_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    id
}

async fn refund(app: &TestApp, order: &str, key: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = app
        .http
        .post(app.url(&format!("/v1/admin/orders/{order}/refund")))
        .bearer_auth(GROCER_TOKEN)
        .header("Idempotency-Key", key);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refunds_never_refund_more_than_was_paid() {
    let app = spawn_app(Options::default()).await;
    for trial in 0..5 {
        let order = fulfilled_order(&app, 1000, 1).await;
        let (status, _) = refund(
            &app,
            &order,
            &key(),
            Some(serde_json::json!({"amount_minor": 100})),
        )
        .await;
        assert_eq!(status, 200);
        let (k1, k2) = (key(), key());
        let (a, b) = tokio::join!(
            refund(
                &app,
                &order,
                &k1,
                Some(serde_json::json!({"amount_minor": 200}))
            ),
            refund(
                &app,
                &order,
                &k2,
                Some(serde_json::json!({"amount_minor": 900}))
            ),
        );
        let statuses = [a.0, b.0];
        // 200 fits; 900 fits only if it came first, and then 200 no longer does.
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "trial {trial}: {a:?} {b:?}"
        );
        // The other is refused: 422 (more than is left), or 409 when the 900 finished first
        // and the order is refunded in full.
        assert!(
            statuses.contains(&422) || statuses.contains(&409),
            "trial {trial}: {a:?} {b:?}"
        );
        let view: Value = app
            .http
            .get(app.url(&format!("/v1/orders/{order}")))
            .bearer_auth(GROCER_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let refunded = view["refunded_minor"].as_i64().unwrap();
        assert!(refunded <= 1000, "trial {trial}: {refunded}");
        assert_eq!(refunded, psp_refunded(&app, &order).await, "trial {trial}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_is_once_per_idempotency_key() {
    let app = spawn_app(Options::default()).await;
    let order = fulfilled_order(&app, 500, 2).await;
    let r = app
        .http
        .post(app.url(&format!("/v1/admin/orders/{order}/refund")))
        .bearer_auth(GROCER_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "a refund needs an Idempotency-Key");
    let k = key();
    let body = Some(serde_json::json!({"amount_minor": 300}));
    let first = refund(&app, &order, &k, body.clone()).await;
    assert_eq!(first.0, 200, "{first:?}");
    let replay = refund(&app, &order, &k, body).await;
    assert_eq!(replay, first, "a replay answers the first response");
    let changed = refund(
        &app,
        &order,
        &k,
        Some(serde_json::json!({"amount_minor": 301})),
    )
    .await;
    assert_eq!(changed.0, 422);
    assert_eq!(changed.1["error"]["code"], "idempotency_key_reused");
    assert_eq!(
        psp_refunded(&app, &order).await,
        300,
        "one refund at the PSP"
    );
    // The rest, with a new key, without naming an amount.
    let rest = refund(&app, &order, &key(), None).await;
    assert_eq!(rest.0, 200);
    assert_eq!(rest.1["refunded_minor"], 1000);
    assert_eq!(rest.1["status"], "refunded");
    assert_eq!(psp_refunded(&app, &order).await, 1000);
    let more = refund(
        &app,
        &order,
        &key(),
        Some(serde_json::json!({"amount_minor": 1})),
    )
    .await;
    assert_eq!(more.0, 409, "{more:?}");
}
