//! Data-subject rights against the real PostgreSQL: the shopper's export and erasure, staff
//! requests from the command line (guests too), the append-only log, and retention.

use reqwest::Method;
use serde_json::{Value, json};

use crate::accounts::PASSWORD;
use crate::helpers::*;

/// Signs up a canary whose every personal field carries `tag`, saves an address and buys a
/// loaf signed in; answers (session, order id, order access token).
async fn canary(app: &TestApp, tag: &str, loaf: &str) -> (String, String, String) {
    let email = format!("canary-{tag}@example.org");
    let up = app.sign_up(&email, &format!("Canary {tag}")).await;
    let session = up["session"].as_str().unwrap().to_owned();
    let address = json!({"name": format!("Canary {tag}"), "line1": format!("{tag} Street 1"),
                         "city": format!("{tag}burg"), "postal_code": "10115", "country": "DE",
                         "phone": "+49 30 1234567"});
    let r = app
        .as_shopper(
            &session,
            Method::POST,
            "/v1/account/addresses",
            Some(address),
        )
        .await;
    assert_eq!(r.status(), 201);
    let mut body = checkout_body("DE", "EUR", loaf, 2, "tok_approve");
    body["shopper"]["email"] = email.into();
    body["shopper"]["name"] = format!("Canary {tag}").into();
    body["shopper"]["address"]["line1"] = format!("{tag} Street 1").into();
    body["shopper"]["address"]["city"] = format!("{tag}burg").into();
    body["shopper"]["address"]["postal_code"] = "10115".into();
    let r = app
        .http
        .post(app.url("/v1/checkouts"))
        .header("Idempotency-Key", key())
        .bearer_auth(&session)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let order: Value = r.json().await.unwrap();
    (
        session,
        order["order_id"].as_str().unwrap().to_owned(),
        order["order_access_token"].as_str().unwrap().to_owned(),
    )
}

fn staff(app: &TestApp, command: &str, email: &str) -> (bool, Value, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_regional-core"))
        .args([
            "privacy",
            command,
            "--region",
            "eu-west",
            "--email",
            email,
            "--by",
            "ticket-4711",
        ])
        .args(["--region-config", region_config_path().to_str().unwrap()])
        .env("DATABASE_URL", &app.database_url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let value = serde_json::from_str(&stdout).unwrap_or_default();
    (
        output.status.success(),
        value,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopper_exports_everything_then_erasure_leaves_amounts_and_no_trace() {
    let app = spawn_app(Options {
        mail: true,
        ..Options::default()
    })
    .await;
    let loaf = sku();
    app.seed(&loaf, 214, 10).await;
    let tag = format!("k{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let (session, order_id, order_token) = canary(&app, &tag, &loaf).await;

    let r = app
        .as_shopper(&session, Method::GET, "/v1/account/export", None)
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let export: Value = r.json().await.unwrap();
    assert_eq!(export["format"], "meridian-export/1");
    let account = &export["accounts"][0];
    assert_eq!(
        account["account"]["email"],
        format!("canary-{tag}@example.org")
    );
    assert_eq!(account["addresses"][0]["line1"], format!("{tag} Street 1"));
    assert_eq!(account["consents"][1]["kind"], "privacy_notice");
    assert_eq!(account["sessions"].as_array().unwrap().len(), 1);
    assert!(account["sessions"][0]["created_at"].is_string());
    let order = &export["orders"][0];
    assert_eq!(order["order"]["order_id"], order_id);
    assert_eq!(order["order"]["total_minor"], 428);
    assert_eq!(order["shopper"]["name"], format!("Canary {tag}"));
    assert!(order["payment"]["reference"].is_string());
    assert!(order["order"]["history"].as_array().unwrap().len() >= 2);
    let text = export.to_string();
    assert!(!text.contains("tok_approve") && !text.contains(PASSWORD) && !text.contains("argon2"));

    // A wrong password erases nothing.
    let before = app.table_counts().await;
    let r = app
        .as_shopper(
            &session,
            Method::POST,
            "/v1/account/erasure",
            Some(json!({"password": "not the password"})),
        )
        .await;
    assert_eq!(r.status(), 403);
    let mut after = app.table_counts().await;
    after.insert("sign_in_attempts".into(), before["sign_in_attempts"]);
    assert_eq!(after, before);

    let r = app
        .as_shopper(
            &session,
            Method::POST,
            "/v1/account/erasure",
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let erased: Value = r.json().await.unwrap();
    assert_eq!(
        erased,
        json!({"accounts": 1, "addresses": 1, "sessions": 1, "consents": 2, "orders": 1})
    );
    assert_eq!(
        app.count_everywhere(&tag).await,
        0,
        "the canary is nowhere in the database"
    );
    assert_eq!(
        app.as_shopper(&session, Method::GET, "/v1/account", None)
            .await
            .status(),
        401
    );
    // The order keeps what the accounts need, and its page says it was erased.
    let client = app.db.get().await.unwrap();
    let row = client
        .query_one(
            "SELECT o.total_minor, o.tax_minor, o.currency, o.payment_id IS NOT NULL, s.country, s.address
             FROM orders o JOIN order_shoppers s ON s.order_id = o.id WHERE o.id = $1::text::uuid",
            &[&order_id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 428);
    assert!(row.get::<_, i64>(1) > 0);
    assert_eq!(row.get::<_, String>(2), "EUR");
    assert!(row.get::<_, bool>(3), "the PSP reference stays");
    assert_eq!(row.get::<_, String>(4), "DE");
    assert_eq!(
        row.get::<_, Value>(5),
        json!({"country": "DE", "postal_code": "10", "erased": true})
    );
    let r = app
        .http
        .get(app.url(&format!("/v1/orders/{order_id}")))
        .bearer_auth(&order_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 410);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "erased");
    let r = app
        .http
        .get(app.url(&format!("/v1/orders/{order_id}")))
        .bearer_auth(GROCER_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the merchant still sees the amounts");

    // The log: an export and an erasure, no personal data, and it cannot be rewritten.
    let kinds: Vec<String> = client
        .query(
            "SELECT kind || '/' || requested_by FROM privacy_requests ORDER BY at",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(kinds, ["export/shopper", "erasure/shopper"]);
    assert!(
        client
            .execute("UPDATE privacy_requests SET requested_by = 'x'", &[])
            .await
            .is_err()
    );
    assert!(
        client
            .execute("DELETE FROM privacy_requests", &[])
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_export_and_erase_a_guest_by_e_mail_from_the_command_line() {
    let app = spawn_app(Options {
        mail: true,
        ..Options::default()
    })
    .await;
    let loaf = sku();
    app.seed(&loaf, 214, 10).await;
    let tag = format!("g{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let email = format!("Guest-{tag}@Example.org");
    for _ in 0..2 {
        let mut body = checkout_body("FR", "EUR", &loaf, 1, "tok_approve");
        body["shopper"]["email"] = email.clone().into();
        body["shopper"]["name"] = format!("Guest {tag}").into();
        body["shopper"]["address"]["line1"] = format!("{tag} rue").into();
        assert_eq!(app.checkout(&key(), &body).await.status(), 201);
    }
    // Someone else's order stays as it is.
    assert_eq!(
        app.checkout(&key(), &checkout_body("FR", "EUR", &loaf, 1, "tok_approve"))
            .await
            .status(),
        201
    );

    let (ok, export, stderr) = staff(&app, "export", &email.to_lowercase());
    assert!(ok, "{stderr}");
    assert_eq!(export["orders"].as_array().unwrap().len(), 2);
    assert_eq!(export["accounts"], json!([]));
    assert_eq!(
        export["orders"][0]["shopper"]["address"]["line1"],
        format!("{tag} rue")
    );

    let (ok, erased, stderr) = staff(&app, "erase", &email);
    assert!(ok, "{stderr}");
    assert_eq!(erased["orders"], 2);
    assert_eq!(erased["accounts"], 0);
    assert_eq!(app.count_everywhere(&tag).await, 0);
    let untouched: i64 = app
        .db
        .get()
        .await
        .unwrap()
        .query_one(
            "SELECT count(*) FROM order_shoppers WHERE email = 'ada@example.org'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(untouched, 1, "the other shopper's order is untouched");
    let (ok, again, _) = staff(&app, "export", &email);
    assert!(ok);
    assert_eq!(again["orders"], json!([]));
    let log: Vec<(String, String, String)> = app
        .db
        .get()
        .await
        .unwrap()
        .query(
            "SELECT kind, subject, requested_by FROM privacy_requests ORDER BY at",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let by = "staff: ticket-4711".to_owned();
    assert_eq!(
        log,
        [
            ("export".to_owned(), "guest".to_owned(), by.clone()),
            ("erasure".to_owned(), "guest".to_owned(), by.clone()),
            ("export".to_owned(), "guest".to_owned(), by),
        ]
    );
    // A malformed address or a missing handle is refused before anything is read.
    let (ok, _, stderr) = staff(&app, "erase", "not an address");
    assert!(!ok && stderr.contains("--email"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeper_applies_the_regions_retention_periods() {
    let app = spawn_app(Options {
        mail: true,
        ..Options::default()
    })
    .await;
    let loaf = sku();
    app.seed(&loaf, 214, 10).await;
    let old_tag = format!("o{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let new_tag = format!("n{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let mut ids = Vec::new();
    for tag in [&old_tag, &new_tag] {
        let mut body = checkout_body("DE", "EUR", &loaf, 1, "tok_approve");
        body["shopper"]["name"] = format!("Guest {tag}").into();
        let r = app.checkout(&key(), &body).await;
        ids.push(
            r.json::<Value>().await.unwrap()["order_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let idle_tag = format!("i{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let active_tag = format!("a{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let (idle, _, _) = canary(&app, &idle_tag, &loaf).await;
    canary(&app, &active_tag, &loaf).await;
    let client = app.db.get().await.unwrap();
    // eu-west keeps guest orders 365 days after completion and idle accounts 1095 days.
    client
        .execute(
            "UPDATE orders SET status = 'fulfilled', updated_at = now() - interval '366 days'
             WHERE id = $1::text::uuid",
            &[&ids[0]],
        )
        .await
        .unwrap();
    client
        .execute("UPDATE orders SET status = 'fulfilled', updated_at = now() - interval '364 days' WHERE id = $1::text::uuid", &[&ids[1]])
        .await
        .unwrap();
    client
        .execute(
            "UPDATE accounts SET last_sign_in_at = now() - interval '1096 days' WHERE email LIKE $1",
            &[&format!("%{idle_tag}%")],
        )
        .await
        .unwrap();

    let erased = regional_core::privacy::sweep(&app.state).await.unwrap();
    assert_eq!((erased.orders, erased.accounts), (2, 1), "{erased:?}");
    assert_eq!(app.count_everywhere(&old_tag).await, 0);
    assert_eq!(app.count_everywhere(&idle_tag).await, 0);
    assert!(app.count_everywhere(&new_tag).await > 0);
    assert!(app.count_everywhere(&active_tag).await > 0);
    assert_eq!(
        app.as_shopper(&idle, Method::GET, "/v1/account", None)
            .await
            .status(),
        401
    );
    let logged: Value = client
        .query_one(
            "SELECT changes FROM privacy_requests WHERE kind = 'retention'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(logged["guest_order_days"], 365);
    // A second round finds nothing and records nothing.
    assert_eq!(
        regional_core::privacy::sweep(&app.state).await.unwrap(),
        Default::default()
    );
    let rounds: i64 = client
        .query_one("SELECT count(*) FROM privacy_requests", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rounds, 1);
}
