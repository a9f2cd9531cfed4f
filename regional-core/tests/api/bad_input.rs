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

/// Every route of the core, as `(method, path)`, with ids that parse and ids that do not.
fn routes(order: &str) -> Vec<(reqwest::Method, String)> {
    use reqwest::Method;
    let mut out = Vec::new();
    for id in [order, "not-a-uuid", "%00"] {
        out.push((Method::GET, format!("/v1/orders/{id}")));
        out.push((Method::POST, format!("/v1/orders/{id}/cancel")));
        out.push((Method::POST, format!("/v1/admin/orders/{id}/fulfil")));
        out.push((Method::POST, format!("/v1/admin/orders/{id}/refund")));
    }
    for sku in ["SWEEP-1", "bad%20sku", "%00"] {
        out.push((Method::PUT, format!("/v1/admin/products/{sku}")));
        out.push((Method::GET, format!("/v1/stock?sku={sku}")));
    }
    for code in ["SWEEP10", "bad%00code"] {
        out.push((Method::PUT, format!("/v1/admin/promotions/{code}")));
        out.push((Method::DELETE, format!("/v1/admin/promotions/{code}")));
    }
    out.push((Method::POST, "/v1/checkouts".to_owned()));
    out.push((Method::GET, "/v1/stock".to_owned()));
    out.push((Method::GET, "/v1/admin/products".to_owned()));
    out.push((Method::POST, "/v1/admin/products:import".to_owned()));
    out.push((Method::POST, "/v1/admin/stock".to_owned()));
    out.push((Method::GET, "/v1/admin/promotions".to_owned()));
    out.push((Method::GET, "/v1/no/such/route".to_owned()));
    out
}

/// Bodies no route accepts: not JSON, the wrong JSON, numbers out of range, NUL characters.
fn malformed_bodies() -> Vec<(&'static str, Vec<u8>)> {
    let bodies: Vec<(&'static str, Vec<u8>)> = vec![
        ("json", b"{not json".to_vec()),
        ("json", b"[]".to_vec()),
        ("json", b"null".to_vec()),
        ("json", b"\"text\"".to_vec()),
        ("json", br#"{"unknown": 1}"#.to_vec()),
        ("json", br#"{"amount_minor": 99999999999999999999999}"#.to_vec()),
        ("json", br#"{"amount_minor": -1, "delta": 1e309}"#.to_vec()),
        ("json", br#"{"amount_minor": "12"}"#.to_vec()),
        ("json", br#"{"sku": "A\u0000", "warehouse": "de-fra-1", "delta": 1, "reason": "x"}"#.to_vec()),
        ("json", br#"{"sku": "A", "warehouse": "de-fra-1", "delta": 1, "reason": "in\u0000side"}"#.to_vec()),
        ("json", br#"{"title": "Ch\u0000eese", "category": "dairy", "unit": "1", "tax_category": "food", "prices": {"EUR": 1}}"#.to_vec()),
        ("json", br#"{"rule": {"kind": "percent_off", "bp": 99999999999}}"#.to_vec()),
        ("json", b"{\"a\": \"\xff\xfe\"}".to_vec()),
        ("json", format!("{}1{}", "[".repeat(200), "]".repeat(200)).into_bytes()),
        ("json", b"{\"sku\":\"A\\u0000\"}\n{broken\n".to_vec()),
        ("text", b"sku=A&quantity=1".to_vec()),
    ];
    bodies
}

/// Sends `method path` declaring a body over the core's 8 MiB limit, writes none of it, and
/// reads the answer (status and body) from the raw connection: the core must refuse it from
/// the header alone.
async fn declared_oversize(app: &TestApp, method: &str, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: core\r\nAuthorization: Bearer {GROCER_TOKEN}\r\n\
         Content-Type: application/json\r\nIdempotency-Key: {}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        key(),
        9 * 1024 * 1024
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_malformed_input_with_a_json_4xx_and_writes_nothing() {
    let app = spawn_app(Options::default()).await;
    let loaf = sku();
    app.seed(&loaf, 214, 5).await;
    // A real order, so order routes reach their body and state checks.
    let placed = app
        .checkout(&key(), &checkout_body("DE", "EUR", &loaf, 1, "tok_approve"))
        .await;
    assert_eq!(placed.status(), 201);
    let order = placed.json::<Value>().await.unwrap()["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = app.table_counts().await;
    let mut seen = 0;
    let mut problems = Vec::new();
    for (method, path) in routes(&order) {
        for merchant in [true, false] {
            let mut requests = Vec::new();
            for (kind, body) in malformed_bodies() {
                let content_type = if kind == "json" {
                    "application/json"
                } else {
                    "text/plain"
                };
                requests.push(
                    app.http
                        .request(method.clone(), app.url(&path))
                        .header("content-type", content_type)
                        .header("Idempotency-Key", key())
                        .body(body),
                );
            }
            // The wrong methods for this path.
            for wrong in [
                reqwest::Method::PATCH,
                reqwest::Method::DELETE,
                reqwest::Method::GET,
            ] {
                if wrong != method {
                    requests.push(app.http.request(wrong, app.url(&path)));
                }
            }
            for request in requests {
                let request = if merchant {
                    request.bearer_auth(GROCER_TOKEN)
                } else {
                    request
                };
                let response = match request.send().await {
                    Ok(response) => response,
                    Err(e) => {
                        problems.push(format!("{method} {path}: no answer: {e}"));
                        continue;
                    }
                };
                seen += 1;
                let status = response.status();
                let text = response.text().await.unwrap();
                let shaped = serde_json::from_str::<Value>(&text).is_ok_and(|v| {
                    v["error"]["code"].is_string() && v["error"]["message"].is_string()
                });
                // A malformed request to a real order may still be a valid one (an empty
                // refund body refunds in full): only 4xx and 2xx are acceptable, never 5xx.
                if status.is_server_error() || (status.is_client_error() && !shaped) {
                    problems.push(format!("{method} {path}: {status} {text:.200}"));
                }
            }
        }
    }
    for (method, path) in routes(&order) {
        if !matches!(method.as_str(), "POST" | "PUT") {
            continue;
        }
        let (status, body) = declared_oversize(&app, method.as_str(), &path).await;
        let shaped = serde_json::from_str::<Value>(&body)
            .is_ok_and(|v| v["error"]["code"].is_string() && v["error"]["message"].is_string());
        if !(400..500).contains(&status) || !shaped {
            problems.push(format!(
                "{method} {path} over the limit: {status} {body:.200}"
            ));
        }
        seen += 1;
    }
    assert!(seen > 500, "only {seen} requests");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let after = app.table_counts().await;
    // Requests that were valid may have moved the one real order (cancelled, say); nothing
    // else may have been written: no new product, stock row, promotion, order or key.
    for table in [
        "products",
        "stock",
        "promotions",
        "orders",
        "idempotency_keys",
        "order_shoppers",
    ] {
        assert_eq!(before.get(table), after.get(table), "{table} changed");
    }
}
