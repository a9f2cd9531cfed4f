//! Fulfilment through the merchant API: picking with a substitute and a missing line, the
//! picked order priced again and captured, the delivery states with their e-mails, and the
//! refusals that write nothing.

use serde_json::{Value, json};

use crate::helpers::*;

async fn merchant(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: &Value,
) -> reqwest::Response {
    app.http
        .request(method, app.url(path))
        .bearer_auth(GROCER_TOKEN)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn status(app: &TestApp, id: &str, to: &str) -> reqwest::Response {
    merchant(
        app,
        reqwest::Method::POST,
        &format!("/v1/admin/orders/{id}/status"),
        &json!({ "status": to }),
    )
    .await
}

async fn picks(app: &TestApp, id: &str, body: &Value) -> reqwest::Response {
    merchant(
        app,
        reqwest::Method::PUT,
        &format!("/v1/admin/orders/{id}/picks"),
        body,
    )
    .await
}

/// An order of 2 × A, 1 × B (substitutes allowed by the storefront's default) and 1 × E
/// (the shopper said no substitute), with C seeded as a substitute; answers the order.
async fn order(app: &TestApp, skus: &[String; 4], margin_bp: i32, email: &str) -> Value {
    let [a, b, c, e] = skus;
    app.seed(a, 250, 10).await;
    app.seed(b, 100, 10).await;
    app.seed(c, 180, 10).await;
    app.seed(e, 90, 10).await;
    let r = merchant(
        app,
        reqwest::Method::PUT,
        "/v1/admin/fulfilment-settings",
        &json!({"substitutes_by_default": true, "substitution_margin_bp": margin_bp}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let mut body = checkout_body("DE", "EUR", a, 2, "tok_approve");
    body["shopper"]["email"] = json!(email);
    body["lines"] = json!([
        {"sku": a, "quantity": 2},
        {"sku": b, "quantity": 1},
        {"sku": e, "quantity": 1, "substitute": false},
    ]);
    let r = app.checkout(&key(), &body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

async fn view(app: &TestApp, id: &str) -> Value {
    app.http
        .get(app.url(&format!("/v1/orders/{id}")))
        .bearer_auth(GROCER_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_picked_order_with_a_substitute_and_a_missing_line_is_charged_what_was_picked() {
    let app = spawn_app(Options {
        mail: true,
        ..Options::default()
    })
    .await;
    // The grocer's theme, as its merchant puts it: its e-mail takes name and colours from it.
    let r = app
        .http
        .put(app.url("/v1/admin/storefront/theme"))
        .bearer_auth(GROCER_TOKEN)
        .json(&regional_core::demo::STOREFRONTS[0].theme().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let skus = [sku(), sku(), sku(), sku()];
    let [a, b, c, e] = &skus;
    let to = "picky@example.org";
    let placed = order(&app, &skus, 2_000, to).await;
    let id = placed["order_id"].as_str().unwrap();
    // 2 × 2.50 + 1.00 + 0.90 = 6.90 EUR; 20% more is held for substitutes.
    assert_eq!(placed["total_minor"], 690);
    let v = view(&app, id).await;
    assert_eq!(v["authorized_minor"], 690 + 138);
    let allowed = |sku: &str| {
        v["picking"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["sku"] == sku)
            .map(|l| l["substitute_allowed"].as_bool().unwrap())
    };
    assert_eq!(
        (allowed(a), allowed(b), allowed(e)),
        (Some(true), Some(true), Some(false)),
        "{v}"
    );

    // Out of order, or bad picks: a 4xx, nothing written.
    let before = app.table_counts().await;
    let r = status(&app, id, "packed").await;
    assert_eq!(r.status(), 409);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "invalid_order_state"
    );
    assert_eq!(status(&app, id, "delivered").await.status(), 409);
    assert_eq!(status(&app, id, "shipped").await.status(), 422);
    assert_eq!(picks(&app, id, &json!({"lines": []})).await.status(), 409);
    assert_eq!(app.table_counts().await, before);
    assert_eq!(status(&app, id, "picking").await.status(), 200);
    let mut usd_only = json!({"title": "Imported tea", "category": "drinks", "unit": "100 g",
                              "tax_category": "food", "prices": {"USD": 500}});
    let tea = sku();
    let r = merchant(
        &app,
        reqwest::Method::PUT,
        &format!("/v1/admin/products/{tea}"),
        &usd_only,
    )
    .await;
    assert_eq!(r.status(), 200);
    usd_only["prices"] = json!({"EUR": 1});
    let before = app.table_counts().await;
    for (body, code, field) in [
        (
            json!({"lines": [{"sku": "NOPE-1", "picked": 0}]}),
            "unknown_line",
            "lines[0].sku",
        ),
        (
            json!({"lines": [{"sku": a, "picked": 3}]}),
            "invalid_field",
            "lines[0].picked",
        ),
        (
            json!({"lines": [{"sku": e, "picked": 0, "substitute": {"sku": c, "quantity": 1}}]}),
            "substitute_not_allowed",
            "lines[0].substitute",
        ),
        (
            json!({"lines": [{"sku": b, "picked": 0, "substitute": {"sku": "NOPE-2", "quantity": 1}}]}),
            "unknown_sku",
            "lines[0].substitute.sku",
        ),
        (
            json!({"lines": [{"sku": b, "picked": 0, "substitute": {"sku": tea, "quantity": 1}}]}),
            "sku_not_sold_in_currency",
            "lines[0].substitute.sku",
        ),
        (
            json!({"lines": [{"sku": b, "picked": 1, "substitute": {"sku": c, "quantity": 1}}]}),
            "invalid_field",
            "lines[0].substitute",
        ),
    ] {
        let r = picks(&app, id, &body).await;
        assert_eq!(r.status(), 422, "{body}");
        let err: Value = r.json().await.unwrap();
        assert_eq!(
            (
                err["error"]["code"].as_str(),
                err["error"]["field"].as_str()
            ),
            (Some(code), Some(field)),
            "{err}"
        );
    }
    assert_eq!(
        app.table_counts().await,
        before,
        "refused picks wrote nothing"
    );

    // B is missing and replaced by C; E is missing (no substitute allowed); A is whole.
    let r = picks(
        &app,
        id,
        &json!({"lines": [
            {"sku": b, "picked": 0, "substitute": {"sku": c, "quantity": 1}},
            {"sku": e, "picked": 0},
        ]}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(
        app.stock_row(c).await,
        (10, 1),
        "the substitute is reserved"
    );
    let r = status(&app, id, "packed").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let packed: Value = r.json().await.unwrap();
    assert_eq!(packed["status"], "packed");
    // 2 × 2.50 + 1 × 1.80 = 6.80 EUR, within the 8.28 EUR authorised.
    assert_eq!(packed["total_minor"], 680);
    assert_eq!(packed["captured_minor"], 680);
    let mut lines: Vec<(String, i64, Option<String>)> = packed["packed_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["sku"].as_str().unwrap().to_owned(),
                l["quantity"].as_i64().unwrap(),
                l["substitute_for"].as_str().map(str::to_owned),
            )
        })
        .collect();
    lines.sort();
    let mut want = [(a.clone(), 2, None), (c.clone(), 1, Some(b.clone()))];
    want.sort();
    assert_eq!(lines, want);
    let auth = app
        .psp_authorizations()
        .await
        .into_iter()
        .map(|a| a["authorization"].clone())
        .find(|a| a["status"] == "captured")
        .unwrap();
    assert_eq!(
        (
            auth["amount_minor"].as_i64(),
            auth["captured_minor"].as_i64()
        ),
        (Some(828), Some(680))
    );
    // Stock: what was picked left the shelf; the rest is free again.
    assert_eq!(app.stock_row(a).await, (8, 0));
    assert_eq!(app.stock_row(b).await, (10, 0));
    assert_eq!(app.stock_row(e).await, (10, 0));
    assert_eq!(app.stock_row(c).await, (9, 0));

    let mailbox = app.mailbox.as_ref().unwrap();
    let changes = mailbox.wait_for(to, "Changes to your order").await;
    assert!(
        changes.contains(&format!("{e}: not available")),
        "{changes}"
    );
    assert!(changes.contains(&format!("1 x {c} instead")), "{changes}");
    assert!(changes.contains("6.80 EUR"), "{changes}");
    // From the storefront's name, in its letterhead (its theme's primary colour).
    assert!(changes.contains("From: \"Meridian Grocer\""), "{changes}");
    let unfolded = changes.replace("=\r\n", "").replace("=\n", "");
    assert!(unfolded.contains("#1a6b3c"), "{changes}");

    for (next, subject) in [
        ("out_for_delivery", "is out for delivery"),
        ("delivered", "was delivered"),
    ] {
        let r = status(&app, id, next).await;
        assert_eq!(r.status(), 200);
        assert_eq!(
            status(&app, id, next).await.status(),
            200,
            "a repeat is a no-op"
        );
        mailbox.wait_for(to, subject).await;
    }
    let v = view(&app, id).await;
    let history: Vec<(String, String)> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["status"].as_str().unwrap().to_owned(),
                h["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        history[2..],
        [
            ("picking".to_owned(), "merchant".to_owned()),
            ("packed".to_owned(), "merchant".to_owned()),
            ("out_for_delivery".to_owned(), "merchant".to_owned()),
            ("delivered".to_owned(), "merchant".to_owned()),
        ]
    );
    // A delivered order is refunded from what was captured.
    let r = app
        .http
        .post(app.url(&format!("/v1/admin/orders/{id}/refund")))
        .bearer_auth(GROCER_TOKEN)
        .header("Idempotency-Key", key())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(view(&app, id).await["refunded_minor"], 680);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_substitute_beyond_the_authorisation_is_refused_and_picking_can_be_cancelled() {
    let app = spawn_app(Options::default()).await;
    let skus = [sku(), sku(), sku(), sku()];
    let [_, b, _, _] = &skus;
    // No margin: the exact amount is authorised.
    let placed = order(&app, &skus, 0, "exact@example.org").await;
    let id = placed["order_id"].as_str().unwrap();
    assert_eq!(view(&app, id).await["authorized_minor"], 690);
    let dear = sku();
    app.seed(&dear, 5_000, 3).await;
    assert_eq!(status(&app, id, "picking").await.status(), 200);
    // The shopper can no longer cancel; the merchant can.
    let r = app
        .http
        .post(app.url(&format!("/v1/orders/{id}/cancel")))
        .bearer_auth(placed["order_access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let r = picks(
        &app,
        id,
        &json!({"lines": [{"sku": b, "picked": 0, "substitute": {"sku": dear, "quantity": 1}}]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = status(&app, id, "packed").await;
    assert_eq!(r.status(), 409);
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["error"]["code"], "exceeds_authorisation");
    assert_eq!(view(&app, id).await["status"], "picking");
    // Too many of a substitute for the shelf.
    let r = picks(
        &app,
        id,
        &json!({"lines": [{"sku": b, "picked": 0, "substitute": {"sku": dear, "quantity": 4}}]}),
    )
    .await;
    assert_eq!(r.status(), 409);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "substitute_out_of_stock"
    );
    let r = app
        .http
        .post(app.url(&format!("/v1/orders/{id}/cancel")))
        .bearer_auth(GROCER_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    for s in skus.iter().chain([&dear]) {
        assert_eq!(
            app.stock_row(s).await.1,
            0,
            "{s}: everything reserved is released"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_the_warehouse_cannot_fill_is_named_and_ordered_anyway_only_with_a_substitute() {
    let app = spawn_app(Options::default()).await;
    let (plenty, scarce, other) = (sku(), sku(), sku());
    app.seed(&plenty, 200, 10).await;
    app.seed(&scarce, 300, 1).await;
    app.seed(&other, 250, 10).await;
    let body = |substitute: bool, allow_short: bool| {
        let mut b = checkout_body("DE", "EUR", &plenty, 1, "tok_approve");
        b["lines"] = json!([
            {"sku": plenty, "quantity": 1},
            {"sku": scarce, "quantity": 3, "substitute": substitute},
        ]);
        b["allow_short"] = json!(allow_short);
        b
    };
    let before = app.table_counts().await;
    let r = app.checkout(&key(), &body(true, false)).await;
    assert_eq!(r.status(), 409);
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["error"]["code"], "out_of_stock");
    let short = &err["error"]["lines"][0];
    assert_eq!(
        (
            short["sku"].as_str(),
            short["requested"].as_i64(),
            short["available"].as_i64()
        ),
        (Some(scarce.as_str()), Some(3), Some(1))
    );
    assert_eq!(short["substitute_allowed"], true);
    // Asking to order anyway is refused for a line with no substitute allowed.
    let r = app.checkout(&key(), &body(false, true)).await;
    assert_eq!(r.status(), 409);
    assert_eq!(app.table_counts().await, before, "refusals wrote nothing");
    // With a substitute allowed, the order goes ahead holding what there is.
    let r = app.checkout(&key(), &body(true, true)).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let placed: Value = r.json().await.unwrap();
    assert_eq!(app.stock_row(&scarce).await, (1, 1));
    let id = placed["order_id"].as_str().unwrap();
    assert_eq!(status(&app, id, "picking").await.status(), 200);
    let r = picks(
        &app,
        id,
        &json!({"lines": [{"sku": scarce, "picked": 1, "substitute": {"sku": other, "quantity": 2}}]}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = status(&app, id, "packed").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let packed: Value = r.json().await.unwrap();
    // 2.00 + 1 × 3.00 + 2 × 2.50 = 10.00 EUR, within the 11.00 EUR authorised (no margin
    // is set: the exact amount).
    assert_eq!(packed["captured_minor"], 1_000);
    assert_eq!(app.stock_row(&scarce).await, (0, 0));
    assert_eq!(app.stock_row(&other).await, (8, 0));
}
