//! Promotions: a merchant creates codes, checkout applies them with the pricing library,
//! and the relay publishes them in the storefront's pricing rules for the edge.

use projections::model::PricingRules;
use projections::{decode, keys};
use serde_json::{Value, json};

use crate::helpers::*;

async fn put_promotion(app: &TestApp, token: &str, code: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .put(app.url(&format!("/v1/admin/promotions/{code}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchants_code_discounts_the_checkout_and_bad_codes_write_nothing() {
    let app = spawn_app(Options::default()).await;
    let loaf = sku();
    app.seed(&loaf, 1_000, 20).await;
    let created = put_promotion(
        &app,
        GROCER_TOKEN,
        "bread-10",
        json!({"rule": {"kind": "percent_off", "bp": 1000}, "min_spend_minor": 500}),
    )
    .await;
    assert_eq!(created.status(), 200, "{}", created.text().await.unwrap());
    let expired = put_promotion(
        &app,
        GROCER_TOKEN,
        "OLD",
        json!({"rule": {"kind": "amount_off", "minor": 100}, "expires_at": 1}),
    )
    .await;
    assert_eq!(expired.status(), 200);

    // Lower-case as typed: 10% off 2 × 10.00 EUR.
    let mut body = checkout_body("DE", "EUR", &loaf, 2, "tok_approve");
    body["promo_codes"] = json!(["bread-10"]);
    let response = app.checkout(&key(), &body).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["discount_minor"], 200, "{order}");
    assert_eq!(order["total_minor"], 1_800, "{order}");

    for (code, expected) in [
        ("NOPE", "unknown_promo_code"),
        ("OLD", "promo_expired"),
        ("not a code!", "unknown_promo_code"),
    ] {
        let before = app.table_counts().await;
        let mut body = checkout_body("DE", "EUR", &loaf, 2, "tok_approve");
        body["promo_codes"] = json!([code]);
        let response = app.checkout(&key(), &body).await;
        assert_eq!(response.status(), 422, "{code}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], expected, "{error}");
        assert_eq!(app.table_counts().await, before, "{code} wrote something");
    }
    // Below the minimum spend (one loaf, 10.00 of the 5.00 minimum is fine; 0.50 is not).
    let cheap = sku();
    app.seed(&cheap, 50, 5).await;
    let mut body = checkout_body("DE", "EUR", &cheap, 1, "tok_approve");
    body["promo_codes"] = json!(["BREAD-10"]);
    let response = app.checkout(&key(), &body).await;
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "minimum_spend_not_met", "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_promotions_are_refused_and_each_storefront_sees_its_own() {
    let app = spawn_app(Options::default()).await;
    for (code, body, status) in [
        (
            "ZERO",
            json!({"rule": {"kind": "percent_off", "bp": 0}}),
            422,
        ),
        (
            "TOO-MUCH",
            json!({"rule": {"kind": "percent_off", "bp": 10001}}),
            422,
        ),
        (
            "NEGATIVE",
            json!({"rule": {"kind": "amount_off", "minor": -5}}),
            422,
        ),
        (
            "GHOST",
            json!({"rule": {"kind": "buy_x_get_y", "sku": "NOPE-1", "buy": 2, "get": 1}}),
            422,
        ),
        (
            "FLOAT",
            json!({"rule": {"kind": "amount_off", "minor": 1.5}}),
            400,
        ),
        (
            "EXTRA",
            json!({"rule": {"kind": "percent_off", "bp": 10}, "colour": "red"}),
            400,
        ),
        (
            "bad code!",
            json!({"rule": {"kind": "percent_off", "bp": 10}}),
            400,
        ),
    ] {
        let response = put_promotion(&app, GROCER_TOKEN, code, body).await;
        assert_eq!(
            response.status(),
            status,
            "{code}: {}",
            response.text().await.unwrap()
        );
    }
    assert_eq!(
        put_promotion(
            &app,
            GROCER_TOKEN,
            "MINE",
            json!({"rule": {"kind": "percent_off", "bp": 500}})
        )
        .await
        .status(),
        200
    );
    let list = |token: &'static str| {
        let url = app.url("/v1/admin/promotions");
        async move {
            let r = reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            r.json::<Value>().await.unwrap()
        }
    };
    assert_eq!(list(GROCER_TOKEN).await["promotions"][0]["code"], "MINE");
    assert_eq!(list(OTHER_TOKEN).await["promotions"], json!([]));
    let gone = reqwest::Client::new()
        .delete(app.url("/v1/admin/promotions/MINE"))
        .bearer_auth(OTHER_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404, "another storefront cannot withdraw it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_storefronts_pricing_rules_carry_its_promotions() {
    let app = spawn_app(Options::default()).await;
    let response = put_promotion(
        &app,
        GROCER_TOKEN,
        "WELCOME",
        json!({"rule": {"kind": "percent_off", "bp": 1500}, "stacks": true}),
    )
    .await;
    assert_eq!(response.status(), 200);
    // A region id of this test's own, so parallel tests never share these keys.
    let mut region = region_config::Region::clone(&app.state.region);
    region.id = format!("test-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
        .parse()
        .unwrap();
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let mut redis = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let client = app.db.get().await.unwrap();
    let all = regional_core::edge_index::Rebuild {
        catalogue: true,
        model: false,
    };
    regional_core::edge_index::publish(&client, &mut redis, &region, "grocer", all)
        .await
        .unwrap();
    let key = keys::pricing_rules(region.id.as_str(), "grocer");
    let bytes: Vec<u8> = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .unwrap();
    let rules: PricingRules = decode(&key, &bytes).unwrap();
    let welcome = rules
        .promotions
        .iter()
        .find(|p| p.code == "WELCOME")
        .unwrap();
    assert!(welcome.stacks);
    assert_eq!(welcome.rule, pricing_rules::Rule::PercentOff { bp: 1500 });
}
