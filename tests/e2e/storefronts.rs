//! A merchant onboards a storefront as data: the operator creates it, its merchant puts its
//! products (with pictures) and theme, and the edge serves it on its host without a rebuild;
//! a theme change is live within the freshness target. No storefront shows another's
//! products or cart.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::*;

const HOST: &str = "harbour.localhost";

fn harbour_theme(primary: &str) -> Value {
    json!({
        "name": "Harbour Market",
        "logo_text": "Harbour Market",
        "logo_url": "https://img.example/harbour.svg",
        "hero": {"title": "Fish and bread by the water", "text": "Landed this morning.",
                 "cta_label": "Browse the bakery", "cta_href": "/c/bakery"},
        "colors": {"background": "#ffffff", "surface": "#ffffff", "text": "#1f2328", "muted": "#57606a",
                   "primary": primary, "primary_text": "#ffffff", "accent": "#8a4600",
                   "border": "#d0d7de", "focus": "#0a58ca"},
        "fonts": {"body": "system-ui, sans-serif", "heading": "Georgia, serif"},
        "shape": {"radius": "6px", "spacing": "1rem"},
        "layout": {"grid": "compact", "header": "bar"}
    })
}

/// Puts `body` at `path` of `core`'s merchant API as the storefront of `token`.
async fn put_as(core: &Core, token: &str, path: &str, body: &Value) {
    let r = reqwest::Client::new()
        .put(format!("{}{path}", core.url))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}: {}", r.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_onboards_a_storefront_that_is_live_at_the_edge_without_a_rebuild() {
    let world = world();
    let core = world.core("eu-west");
    let http = reqwest::Client::new();
    let created: Value = http
        .post(format!("{}/v1/operator/storefronts", core.url))
        .bearer_auth(OPERATOR_TOKEN)
        .json(&json!({"id": "harbour", "hosts": [HOST]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["merchant_token"]
        .as_str()
        .expect("a merchant token")
        .to_owned();

    let mut rye = product("HARBOUR-RYE", "Harbour rye", "bakery", 420, &["bread"]);
    rye["image"] = json!({
        "url": "https://img.example/rye.jpg", "alt": "A dark rye loaf", "width": 800, "height": 600,
        "srcset": [{"url": "https://img.example/rye-400.jpg", "width": 400},
                   {"url": "https://img.example/rye-800.jpg", "width": 800}]
    });
    seed_as(core, &token, &rye, 10, "fr-lyo-1").await;
    seed(
        core,
        &product(
            "GROCER-ONLY",
            "Grocer's own loaf",
            "bakery",
            199,
            &["bread"],
        ),
        10,
        "fr-lyo-1",
    )
    .await;
    put_as(
        core,
        &token,
        "/v1/admin/storefront/theme",
        &harbour_theme("#0b5cad"),
    )
    .await;

    // The edge serves it on its host: its theme, its logo, its catalogue, its pictures.
    let harbour = [("x-meridian-country", "FR"), ("host", HOST)];
    until_published(&format!("{}/", world.edge), &harbour, "Harbour Market").await;
    until_published(
        &format!("{}/p/HARBOUR-RYE", world.edge),
        &harbour,
        "In stock",
    )
    .await;
    let shopper = Shopper::new(&world.edge, "FR").on_host(HOST);
    let (_, home) = shopper.get("/").await;
    assert!(home.contains("--color-primary:#0b5cad"), "{home}");
    assert!(
        home.contains(r#"src="https://img.example/harbour.svg""#),
        "the logo: {home}"
    );
    let (status, page) = shopper.get("/p/HARBOUR-RYE").await;
    assert_eq!(status, 200);
    for needle in [
        r#"src="https://img.example/rye.jpg""#,
        r#"alt="A dark rye loaf""#,
        r#"width="800""#,
        r#"height="600""#,
        r#"srcset="https://img.example/rye-400.jpg 400w, https://img.example/rye-800.jpg 800w""#,
    ] {
        assert!(page.contains(needle), "{needle}: {page}");
    }
    let (status, aisle) = shopper.get("/c/bakery").await;
    assert_eq!(status, 200);
    assert!(
        aisle.contains(r#"loading="lazy""#),
        "cards load pictures lazily: {aisle}"
    );
    assert!(
        !aisle.contains("GROCER-ONLY"),
        "another storefront's product: {aisle}"
    );

    // Neither storefront shows the other's products, or the other's cart.
    let (status, _) = shopper.get("/p/GROCER-ONLY").await;
    assert_eq!(status, 404);
    let grocer = Shopper::new(&world.edge, "FR");
    until_published(
        &format!("{}/p/GROCER-ONLY", world.edge),
        &[("x-meridian-country", "FR")],
        "In stock",
    )
    .await;
    let (status, _) = grocer.get("/p/HARBOUR-RYE").await;
    assert_eq!(status, 404);
    let (_, page) = grocer.get("/p/GROCER-ONLY").await;
    let csrf = hidden(&page, "csrf");
    let (status, _, _) = grocer
        .post(
            "/cart/add",
            &[("csrf", &csrf), ("sku", "GROCER-ONLY"), ("quantity", "2")],
        )
        .await;
    assert_eq!(status, 303);
    let (_, cart) = grocer.get("/cart").await;
    assert!(
        cart.contains("Grocer&#x27;s own loaf") || cart.contains("Grocer's own loaf"),
        "{cart}"
    );
    // The same browser (same cookies) on the harbour's host: not the grocer's cart.
    let (status, cart) = grocer.on_host(HOST).get("/cart").await;
    assert_eq!(status, 200);
    assert!(!cart.contains("own loaf"), "{cart}");

    // A grocer order, even with its token, is not shown on the harbour's pages.
    let placed: Value = http
        .post(format!("{}/v1/checkouts", core.url))
        .header("Idempotency-Key", format!("harbour-{}", uuid::Uuid::new_v4().simple()))
        .json(&json!({
            "storefront": "grocer", "currency": "EUR",
            "lines": [{"sku": "GROCER-ONLY", "quantity": 1}],
            "shopper": {"email": "isolation@shopper.invalid", "name": "Iso Lation", "country": "FR",
                        "address": {"line1": "1 quai du Port", "city": "Lyon", "postal_code": "69002", "country": "FR"}},
            "payment": {"method": "card", "token": "tok_approve"},
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let order = format!(
        "/orders/{}?token={}",
        placed["order_id"].as_str().expect("an order"),
        placed["order_access_token"].as_str().unwrap()
    );
    let (status, _) = shopper.get(&order).await;
    assert_eq!(status, 404);
    let (status, page) = Shopper::new(&world.edge, "FR").get(&order).await;
    assert_eq!(status, 200, "{page}");

    // A theme change is live at the edge without a rebuild.
    let started = Instant::now();
    put_as(
        core,
        &token,
        "/v1/admin/storefront/theme",
        &harbour_theme("#7a1f5c"),
    )
    .await;
    until_published(
        &format!("{}/", world.edge),
        &harbour,
        "--color-primary:#7a1f5c",
    )
    .await;
    let live = started.elapsed();
    eprintln!("theme change live at the edge after {live:?}");
    assert!(live < Duration::from_secs(20));

    // Given up, the host is served by the default storefront again.
    put_as(
        core,
        &token,
        "/v1/admin/storefront/hosts",
        &json!({"hosts": ["harbour2.localhost"]}),
    )
    .await;
    until_published(
        &format!("{}/", world.edge),
        &harbour,
        "Fresh groceries, next door",
    )
    .await;
    until_published(
        &format!("{}/", world.edge),
        &[("x-meridian-country", "FR"), ("host", "harbour2.localhost")],
        "Harbour Market",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_storefront_serves_the_demo_illustrations_and_its_script() {
    let world = world();
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{}/images/aisle/bakery.svg", world.edge))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    let r = http
        .get(format!("{}/assets/add.js", world.edge))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let policy = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(r.text().await.unwrap().contains("card-add"));
}
