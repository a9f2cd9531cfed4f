use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_token_only_reaches_its_own_storefront() {
    let app = spawn_app(Options::default()).await;
    let loaf = sku();
    app.seed(&loaf, 214, 5).await;
    let product = json!({"title": "Stolen loaf", "category": "bakery", "unit": "1", "tax_category": "food", "prices": {"EUR": 1}});
    let r = app
        .http
        .put(app.url(&format!("/v1/admin/products/{loaf}")))
        .bearer_auth(OTHER_TOKEN)
        .json(&product)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = app
        .http
        .post(app.url("/v1/admin/stock"))
        .bearer_auth(OTHER_TOKEN)
        .json(&json!({"sku": loaf, "warehouse": app.warehouse(0), "delta": -5, "reason": "theft"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = app
        .http
        .get(app.url("/v1/admin/products"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = app
        .http
        .get(app.url("/v1/admin/products"))
        .bearer_auth("wrong-token-000000000")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let listed: Value = app
        .http
        .get(app.url("/v1/admin/products"))
        .bearer_auth(OTHER_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["products"].as_array().unwrap().len(), 0);
    let listed: Value = app
        .http
        .get(app.url("/v1/admin/products"))
        .bearer_auth(GROCER_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["products"][0]["sku"], loaf.as_str());
    assert_eq!(listed["products"][0]["prices"]["EUR"], 214);

    // Another storefront's merchant cannot see or fulfil a grocer order.
    let order: Value = app
        .checkout(&key(), &checkout_body("DE", "EUR", &loaf, 1, "tok_approve"))
        .await
        .json()
        .await
        .unwrap();
    let id = order["order_id"].as_str().unwrap();
    let r = app
        .http
        .post(app.url(&format!("/v1/admin/orders/{id}/fulfil")))
        .bearer_auth(OTHER_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = app
        .http
        .get(app.url(&format!("/v1/orders/{id}")))
        .bearer_auth(GROCER_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_is_all_or_nothing_and_names_every_bad_line() {
    let app = spawn_app(Options::default()).await;
    let (a, b) = (sku(), sku());
    let good = |s: &str| {
        json!({"sku": s, "title": "Oat milk", "category": "dairy", "unit": "1 l", "tax_category": "drinks", "prices": {"EUR": 189}}).to_string()
    };
    let body = format!(
        "{}\n{}\n{}\n{}\n",
        good(&a),
        json!({"sku": b, "title": "", "category": "dairy", "unit": "1 l", "tax_category": "drinks", "prices": {"EUR": 1}}),
        "{broken",
        json!({"sku": "X-1", "title": "Cheese", "category": "dairy", "unit": "1", "tax_category": "food", "prices": {"EUR": -5}}),
    );
    let before = app.table_counts().await;
    let r = app
        .http
        .post(app.url("/v1/admin/products:import"))
        .bearer_auth(GROCER_TOKEN)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let error: Value = r.json().await.unwrap();
    let lines: Vec<i64> = error["error"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, vec![2, 3, 4]);
    assert_eq!(app.table_counts().await, before);

    let r = app
        .http
        .post(app.url("/v1/admin/products:import"))
        .bearer_auth(GROCER_TOKEN)
        .body(format!("{}\n{}\n", good(&a), good(&b)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["imported"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_adjustments_are_audited_and_never_go_below_what_is_reserved() {
    let app = spawn_app(Options::default()).await;
    let loaf = sku();
    app.seed(&loaf, 214, 3).await;
    assert_eq!(
        app.checkout(&key(), &checkout_body("DE", "EUR", &loaf, 2, "tok_approve"))
            .await
            .status(),
        201
    );
    let r = app.adjust(&loaf, &app.warehouse(0), -2).await;
    assert_eq!(r.status(), 409);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "insufficient_stock"
    );
    assert_eq!(app.adjust(&loaf, &app.warehouse(0), -1).await.status(), 200);
    let r = app.adjust(&loaf, "no-such-warehouse", 1).await;
    assert_eq!(r.status(), 422);
    let stock: Value = app
        .http
        .get(app.url(&format!("/v1/stock?sku={loaf}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stock["available"], 0);
    let client = app.db.get().await.unwrap();
    let reasons: Vec<String> = client
        .query(
            "SELECT reason FROM stock_movements WHERE sku = $1 ORDER BY id",
            &[&loaf],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(reasons, vec!["delivery", "reserve", "delivery"]);
}
