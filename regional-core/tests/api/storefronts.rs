//! Storefronts as data: created by the operator, themed and hosted by their merchant, each
//! change published to the edge store; every refusal names what is wrong and writes
//! nothing; no merchant reaches another's storefront.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::*;

/// A theme that passes every check.
fn theme(name: &str) -> Value {
    json!({
        "name": name,
        "logo_text": name,
        "logo_url": "https://img.example/logo.svg",
        "hero": {"title": "Fresh", "text": "Fresh food.", "cta_label": "Shop", "cta_href": "/c/bakery"},
        "colors": {
            "background": "#ffffff", "surface": "#ffffff", "text": "#1f2328", "muted": "#57606a",
            "primary": "#4b2bb3", "primary_text": "#ffffff", "accent": "#9c1f5c",
            "border": "#c9c2e6", "focus": "#b3541e"
        },
        "fonts": {"body": "system-ui, sans-serif", "heading": "Georgia, serif"},
        "shape": {"radius": "4px", "spacing": "1rem"},
        "layout": {"grid": "compact", "header": "centered"}
    })
}

/// A fresh storefront id and host, so tests sharing the edge store never meet.
fn fresh() -> (String, String) {
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..10];
    (format!("shop-{tag}"), format!("shop-{tag}.example"))
}

async fn edge() -> redis::aio::MultiplexedConnection {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .expect("Redis is not reachable: start it (scripts/test does)")
}

/// Waits until the edge key's JSON satisfies `done` (or is absent, for `None`).
async fn wait_for(key: &str, done: impl Fn(Option<&Value>) -> bool) -> Option<Value> {
    let mut redis = edge().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let bytes: Option<Vec<u8>> = redis::cmd("GET")
            .arg(key)
            .query_async(&mut redis)
            .await
            .unwrap();
        let value = bytes.map(|b| serde_json::from_slice::<Value>(&b).unwrap());
        if done(value.as_ref()) {
            return value;
        }
        assert!(Instant::now() < deadline, "{key} never arrived: {value:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl TestApp {
    async fn create(&self, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut request = self
            .http
            .post(self.url("/v1/operator/storefronts"))
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let r = request.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn get_as(&self, token: &str, path: &str) -> Value {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        r.json().await.unwrap()
    }

    async fn put_as(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .put(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storefront_is_created_themed_and_moved_between_hosts_at_the_edge() {
    let app = spawn_app(Options {
        redis: true,
        ..Options::default()
    })
    .await;
    let (id, host) = fresh();
    let before = app.table_counts().await;

    // Only the operator creates storefronts, and only well-formed ones.
    let body = json!({"id": id, "hosts": [host]});
    assert_eq!(app.create(None, &body).await.0, 401);
    assert_eq!(app.create(Some(GROCER_TOKEN), &body).await.0, 401);
    for (bad, field) in [
        (json!({"id": "Bad_Id", "hosts": []}), "id"),
        (json!({"id": id, "hosts": ["shop.example:3000"]}), "hosts"),
        (json!({"id": id, "hosts": ["Ünicode.example"]}), "hosts"),
        (
            json!({"id": id, "merchant_token": "short"}),
            "merchant_token",
        ),
        (
            json!({"id": id, "merchant_token": GROCER_TOKEN}),
            "merchant_token",
        ),
    ] {
        let (status, answer) = app.create(Some(OPERATOR_TOKEN), &bad).await;
        assert_eq!(status, 422, "{bad}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{answer}");
    }
    let (status, answer) = app
        .create(Some(OPERATOR_TOKEN), &json!({"id": "grocer", "hosts": []}))
        .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("storefront_exists"))
    );
    assert_eq!(app.table_counts().await, before, "refusals write nothing");

    let (status, created) = app.create(Some(OPERATOR_TOKEN), &body).await;
    assert_eq!(status, 201, "{created}");
    let token = created["merchant_token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 64);
    assert_eq!(created["hosts"], json!([host]));

    // A host is one storefront's.
    let (other, _) = fresh();
    let counts = app.table_counts().await;
    let (status, answer) = app
        .create(Some(OPERATOR_TOKEN), &json!({"id": other, "hosts": [host]}))
        .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("host_taken"))
    );
    assert_eq!(answer["error"]["host"], host.as_str());
    let (status, answer) = app
        .put_as(
            GROCER_TOKEN,
            "/v1/admin/storefront/hosts",
            &json!({"hosts": [host]}),
        )
        .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("host_taken"))
    );
    assert_eq!(app.table_counts().await, counts, "refusals write nothing");

    // Until a theme is put, the edge has the plain default one.
    let host_key = format!("meridian/v1/{}/_hosts/{host}", app.region);
    let site = wait_for(&host_key, |v| v.is_some()).await.unwrap();
    assert_eq!(site["storefront"], id.as_str());
    assert_eq!(site["theme"]["name"], id.as_str());

    // Each failing token is named; nothing is written.
    let counts = app.table_counts().await;
    let mut broken = Vec::new();
    let mut pale = theme("Pale");
    pale["colors"]["text"] = json!("#eeeeee");
    broken.push((pale, "colors.text"));
    let mut escape = theme("Escape");
    escape["shape"]["radius"] = json!("1px}body{display:none");
    broken.push((escape, "shape.radius"));
    let mut logo = theme("Logo");
    logo["logo_url"] = json!("http://img.example/logo.svg");
    broken.push((logo, "logo_url"));
    let mut long = theme("Long");
    long["logo_url"] = json!(format!("https://img.example/{}", "a".repeat(600)));
    broken.push((long, "logo_url"));
    let mut link = theme("Link");
    link["hero"]["cta_href"] = json!("javascript:alert(1)");
    broken.push((link, "hero.cta_href"));
    for (bad, token_name) in broken {
        let (status, answer) = app.put_as(&token, "/v1/admin/storefront/theme", &bad).await;
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["error"]["field"], token_name, "{answer}");
    }
    let mut unknown = theme("Unknown");
    unknown["colours"] = json!({});
    assert_eq!(
        app.put_as(&token, "/v1/admin/storefront/theme", &unknown)
            .await
            .0,
        400
    );
    assert_eq!(app.table_counts().await, counts, "refusals write nothing");

    // A good theme is live at the edge without a rebuild, under the host and the id.
    let started = Instant::now();
    let (status, answer) = app
        .put_as(
            &token,
            "/v1/admin/storefront/theme",
            &theme("Harbour Market"),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["theme_set"], true);
    let site = wait_for(&host_key, |v| {
        v.is_some_and(|v| v["theme"]["name"] == "Harbour Market")
    })
    .await
    .unwrap();
    eprintln!("theme live at the edge after {:?}", started.elapsed());
    assert_eq!(site["theme"]["colors"]["primary"], "#4b2bb3");
    assert_eq!(site["hosts"], json!([host]));
    let id_key = format!("meridian/v1/{}/{id}/site", app.region);
    wait_for(&id_key, |v| {
        v.is_some_and(|v| v["theme"]["name"] == "Harbour Market")
    })
    .await;

    // Moving to another host takes the old one off the edge.
    let (_, moved) = fresh();
    let (status, answer) = app
        .put_as(
            &token,
            "/v1/admin/storefront/hosts",
            &json!({"hosts": [moved]}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    wait_for(&host_key, |v| v.is_none()).await;
    let moved_key = format!("meridian/v1/{}/_hosts/{moved}", app.region);
    wait_for(&moved_key, |v| {
        v.is_some_and(|v| v["storefront"] == id.as_str())
    })
    .await;

    // The freed host is anyone's again.
    let (status, answer) = app
        .create(Some(OPERATOR_TOKEN), &json!({"id": other, "hosts": [host]}))
        .await;
    assert_eq!(status, 201, "{answer}");
    wait_for(&host_key, |v| {
        v.is_some_and(|v| v["storefront"] == other.as_str())
    })
    .await;

    let view = app.get_as(&token, "/v1/admin/storefront").await;
    assert_eq!(view["id"], id.as_str());
    assert_eq!(view["hosts"], json!([moved]));
    assert_eq!(view["theme"]["name"], "Harbour Market");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_storefront_never_reaches_another_storefronts_products_themes_orders_or_mail() {
    let app = spawn_app(Options::default()).await;
    let (id, host) = fresh();
    let (_, created) = app
        .create(Some(OPERATOR_TOKEN), &json!({"id": id, "hosts": [host]}))
        .await;
    let token = created["merchant_token"].as_str().unwrap().to_owned();
    let loaf = sku();
    app.seed(&loaf, 214, 5).await;
    let order: Value = app
        .checkout(&key(), &checkout_body("DE", "EUR", &loaf, 1, "tok_approve"))
        .await
        .json()
        .await
        .unwrap();
    let order_id = order["order_id"].as_str().unwrap();
    let counts = app.table_counts().await;

    // Its theme is its own: the grocer's stays as it was.
    let (status, _) = app
        .put_as(&token, "/v1/admin/storefront/theme", &theme("Intruder"))
        .await;
    assert_eq!(status, 200);
    let grocer = app.get_as(GROCER_TOKEN, "/v1/admin/storefront").await;
    assert_eq!(grocer["id"], "grocer");
    assert_eq!(grocer["theme_set"], false);
    assert_ne!(grocer["theme"]["name"], "Intruder");

    // The grocer's products, orders and mail are not there for it.
    let (status, _) = app
        .put_as(
            &token,
            &format!("/v1/admin/products/{loaf}"),
            &json!({"title": "Taken", "category": "bakery", "unit": "1", "tax_category": "food", "prices": {"EUR": 1}}),
        )
        .await;
    assert_eq!(status, 403);
    let listed = app.get_as(&token, "/v1/admin/products").await;
    assert_eq!(listed["products"], json!([]));
    for (path, body) in [
        (
            format!("/v1/admin/orders/{order_id}/status"),
            json!({"status": "picking"}),
        ),
        (
            format!("/v1/admin/orders/{order_id}/refund"),
            json!({"amount_minor": 1}),
        ),
    ] {
        let r = app
            .http
            .post(app.url(&path))
            .bearer_auth(&token)
            .header("idempotency-key", key())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    let mail = app.get_as(&token, "/v1/admin/mail").await;
    assert!(
        !mail.to_string().contains(order_id),
        "no mail of the grocer's order: {mail}"
    );
    let mut after = app.table_counts().await;
    // Only the theme was written: its outbox event.
    assert_eq!(after.remove("outbox"), counts.get("outbox").map(|n| n + 1));
    let mut counts = counts;
    counts.remove("outbox");
    assert_eq!(after, counts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn product_pictures_are_https_or_paths_with_a_size_and_an_alternative() {
    let app = spawn_app(Options::default()).await;
    let product = |image: Value| {
        json!({"title": "Rye", "category": "bakery", "unit": "500 g", "tax_category": "food",
               "prices": {"EUR": 300}, "image": image})
    };
    let before = app.table_counts().await;
    let long = format!("https://img.example/{}", "a".repeat(600));
    for (image, field) in [
        (
            json!({"url": "http://img.example/rye.jpg", "alt": "Rye", "width": 400, "height": 300}),
            "image.url",
        ),
        (
            json!({"url": long, "alt": "Rye", "width": 400, "height": 300}),
            "image.url",
        ),
        (
            json!({"url": "//img.example/rye.jpg", "alt": "Rye", "width": 400, "height": 300}),
            "image.url",
        ),
        (
            json!({"url": "/images/rye.svg", "alt": "Rye", "width": 0, "height": 300}),
            "image.width",
        ),
        (
            json!({"url": "/images/rye.svg", "alt": "Rye", "width": 400, "height": 300,
                "srcset": [{"url": "ftp://img.example/rye.jpg", "width": 200}]}),
            "image.srcset[0].url",
        ),
    ] {
        let (status, answer) = app
            .put_as(
                GROCER_TOKEN,
                &format!("/v1/admin/products/{}", sku()),
                &product(image),
            )
            .await;
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["error"]["field"], field, "{answer}");
    }
    let (status, _) = app
        .put_as(
            GROCER_TOKEN,
            &format!("/v1/admin/products/{}", sku()),
            &product(json!({"url": "https://img.example/rye.jpg", "width": 400, "height": 300})),
        )
        .await;
    assert_eq!(
        status, 400,
        "the alternative text is required (it may be empty)"
    );
    assert_eq!(app.table_counts().await, before, "refusals write nothing");

    let rye = sku();
    let image = json!({"url": "https://img.example/rye.jpg", "alt": "A dark rye loaf", "width": 800,
                       "height": 600, "srcset": [{"url": "https://img.example/rye-400.jpg", "width": 400}]});
    let (status, answer) = app
        .put_as(
            GROCER_TOKEN,
            &format!("/v1/admin/products/{rye}"),
            &product(image.clone()),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let listed = app.get_as(GROCER_TOKEN, "/v1/admin/products").await;
    assert_eq!(listed["products"][0]["image"], image);
}
