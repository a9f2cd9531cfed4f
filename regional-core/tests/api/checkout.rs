use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopper_buys_a_loaf_of_bread_with_vat_included() {
    let app = spawn_app(Options::default()).await;
    let loaf = sku();
    app.seed(&loaf, 214, 10).await;
    let response = app
        .checkout(&key(), &checkout_body("DE", "EUR", &loaf, 2, "tok_approve"))
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "confirmed");
    assert_eq!(body["currency"], "EUR");
    // 2 x 2.14 EUR, German food VAT 7% included: tax = 428 * 7/107 = 28.
    assert_eq!(body["lines"][0]["line_total_minor"], 428);
    assert_eq!(body["lines"][0]["tax_rate_bp"], 700);
    assert_eq!(body["tax_minor"], 28);
    assert_eq!(body["total_minor"], 428);
    assert_eq!(app.stock_row(&loaf).await, (10, 2));

    // The shopper reads the order with its access token; a wrong token learns nothing.
    let id = body["order_id"].as_str().unwrap();
    let token = body["order_access_token"].as_str().unwrap();
    let order: Value = app
        .http
        .get(app.url(&format!("/v1/orders/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(order["status"], "confirmed");
    assert_eq!(order["history"].as_array().unwrap().len(), 2);
    let wrong = app
        .http
        .get(app.url(&format!("/v1/orders/{id}")))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sales_tax_is_added_on_top_in_the_us() {
    let app = spawn_app(Options {
        region: "us-east",
        ..Options::default()
    })
    .await;
    let soap = sku();
    app.seed(&soap, 1000, 5).await;
    // Re-price as a standard-rated good.
    let response = app
        .http
        .put(app.url(&format!("/v1/admin/products/{soap}")))
        .bearer_auth(GROCER_TOKEN)
        .json(&serde_json::json!({"title": "Soap", "category": "household", "unit": "1 bar", "tax_category": "standard", "prices": {"USD": 1000}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = app
        .checkout(&key(), &checkout_body("US", "USD", &soap, 1, "tok_approve"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["subtotal_minor"], 1000);
    assert_eq!(body["tax_minor"], 70);
    assert_eq!(body["total_minor"], 1070);
    assert_eq!(body["prices_include_tax"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_payment_releases_the_stock_and_replays_the_decline() {
    let app = spawn_app(Options::default()).await;
    let loaf = sku();
    app.seed(&loaf, 300, 3).await;
    let k = key();
    let body = checkout_body("FR", "EUR", &loaf, 3, "tok_decline");
    let first = app.checkout(&k, &body).await;
    assert_eq!(first.status(), 402);
    let first_body = first.bytes().await.unwrap();
    let v: Value = serde_json::from_slice(&first_body).unwrap();
    assert_eq!(v["error"]["code"], "payment_declined");
    assert_eq!(app.stock_row(&loaf).await, (3, 0));
    let again = app.checkout(&k, &body).await;
    assert_eq!(again.status(), 402);
    assert_eq!(again.bytes().await.unwrap(), first_body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_too_big_for_one_warehouse_is_split_across_warehouses() {
    let app = spawn_app(Options::default()).await;
    let milk = sku();
    app.seed(&milk, 119, 2).await;
    assert_eq!(app.adjust(&milk, &app.warehouse(1), 3).await.status(), 200);
    let response = app
        .checkout(&key(), &checkout_body("NL", "EUR", &milk, 4, "tok_approve"))
        .await;
    assert_eq!(response.status(), 201);
    let client = app.db.get().await.unwrap();
    let rows = client
        .query(
            "SELECT warehouse, quantity FROM reservations ORDER BY warehouse",
            &[],
        )
        .await
        .unwrap();
    let split: Vec<(String, i32)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    // NL ships from the Amsterdam warehouse first (3), the rest from Frankfurt (1).
    assert_eq!(split, vec![(app.warehouse(0), 1), (app.warehouse(1), 3)]);
}

/// The edge pricing component's signature over a quote of `quantity` loaves at 214 for a
/// German shopper, valid from `issued_at` to `expires_at`.
fn edge_signature(key: &str, sku: &str, quantity: u32, issued_at: u64, expires_at: u64) -> String {
    let cart = pricing_rules::Cart {
        currency: "EUR".into(),
        prices_include_tax: true,
        lines: vec![pricing_rules::Line {
            sku: sku.into(),
            quantity,
            unit_price_minor: 214,
            tax_rate_bp: 700,
        }],
        promo_codes: vec![],
        now_unix: 0,
    };
    let quote = pricing_rules::quote(&cart, &[]).unwrap();
    let text = pricing_rules::signature::canonical("eu-west", &quote, issued_at, expires_at);
    pricing_rules::signature::sign(key.as_bytes(), &text)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_with_the_quote_the_shopper_saw_commits_only_at_that_price() {
    let app = spawn_app(Options {
        quote_signing_key: Some("eu-quote-key"),
        ..Options::default()
    })
    .await;
    let loaf = sku();
    app.seed(&loaf, 214, 10).await;
    let (issued, expires) = (now() - 5, now() + 600);

    // The edge showed 2 loaves for 4.28 and the price is still 2.14 each: committed.
    let mut body = checkout_body("DE", "EUR", &loaf, 2, "tok_approve");
    body["quote"] = json!({
        "signature": edge_signature("eu-quote-key", &loaf, 2, issued, expires),
        "issued_at": issued, "expires_at": expires,
    });
    let response = app.checkout(&key(), &body).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());

    // A quote for 1 loaf does not stand for 2: the price the shopper saw is not this one.
    let before = app.table_counts().await;
    let mut body = checkout_body("DE", "EUR", &loaf, 2, "tok_approve");
    body["quote"] = json!({
        "signature": edge_signature("eu-quote-key", &loaf, 1, issued, expires),
        "issued_at": issued, "expires_at": expires,
    });
    let response = app.checkout(&key(), &body).await;
    assert_eq!(response.status(), 409);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "price_changed");
    assert_eq!(error["error"]["total_minor"], 428);

    // An expired quote is refused too, and neither refusal wrote anything.
    let mut body = checkout_body("DE", "EUR", &loaf, 2, "tok_approve");
    body["quote"] = json!({
        "signature": edge_signature("eu-quote-key", &loaf, 2, issued - 1000, issued - 100),
        "issued_at": issued - 1000, "expires_at": issued - 100,
    });
    let response = app.checkout(&key(), &body).await;
    assert_eq!(response.status(), 409);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "quote_expired");
    assert_eq!(app.table_counts().await, before);
}
