//! Shopper accounts against the real PostgreSQL: sign-up and sign-in, limits, sessions,
//! addresses, the account's orders, and that a shopper reaches only their own.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::*;

pub const PASSWORD: &str = "correct horse battery";

impl TestApp {
    /// Asks for an account and confirms it with the code from the mailbox: the session.
    pub async fn sign_up(&self, email: &str, name: &str) -> Value {
        let response = self
            .http
            .post(self.url("/v1/accounts"))
            .json(
                &json!({"storefront": "grocer", "email": email, "name": name,
                          "password": PASSWORD, "country": "DE", "accept_privacy_notice": true}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
        let mailbox = self.mailbox.as_ref().expect("Options { mail: true, .. }");
        let code = mailbox.code_for(email).await;
        let response = self.confirm(email, &code).await;
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    pub async fn confirm(&self, email: &str, code: &str) -> reqwest::Response {
        self.http
            .post(self.url("/v1/accounts/confirm"))
            .json(&json!({"storefront": "grocer", "email": email, "code": code}))
            .send()
            .await
            .unwrap()
    }

    pub async fn sign_in(&self, email: &str, password: &str, client: &str) -> reqwest::Response {
        self.http
            .post(self.url("/v1/sessions"))
            .header("x-forwarded-for", client)
            .json(&json!({"storefront": "grocer", "email": email, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// `method path` with the session `session` as bearer token.
    pub async fn as_shopper(
        &self,
        session: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(session);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }
}

fn session(answer: &Value) -> String {
    answer["session"].as_str().unwrap().to_owned()
}

async fn code_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or_default();
    (
        status,
        body["error"]["code"].as_str().unwrap_or("").to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_signs_up_and_in_and_its_sessions_end_when_asked() {
    let app = spawn_app(Options {
        mail: true,
        ..Options::default()
    })
    .await;
    use reqwest::Method;
    let up = app.sign_up("Ada@Example.org", "Ada Lovelace").await;
    let first = session(&up);
    assert!(first.starts_with("eu-west."), "{first}");
    assert_eq!(up["account"]["region"], "eu-west");
    assert_eq!(up["account"]["email"], "Ada@Example.org");

    // The same address in another case is the same account: the answer is the same as for
    // a new address (no enumeration), the existing account is untouched, and its owner is
    // told by mail.
    let before = app.table_counts().await;
    let again = app
        .http
        .post(app.url("/v1/accounts"))
        .json(&json!({"storefront": "grocer", "email": "ada@example.ORG", "name": "Ada",
                      "password": "another password", "country": "FR", "accept_privacy_notice": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 202);
    let body: Value = again.json().await.unwrap();
    assert_eq!(
        body,
        json!({"status": "confirmation_sent", "code_expires_in_secs": 86400})
    );
    let mailbox = app.mailbox.as_ref().unwrap();
    let note = mailbox
        .wait_for("ada@example.ORG", "You already have an account")
        .await;
    assert!(!note.contains("confirmation code"));
    let mut after = app.table_counts().await;
    for table in ["sign_in_attempts", "outgoing_mail"] {
        after.insert(table.into(), before[table]);
    }
    assert_eq!(after, before);
    assert_eq!(
        app.sign_in("ada@example.org", "another password", "192.0.2.9")
            .await
            .status(),
        401
    );

    // A pending sign-up cannot sign in, and only its code confirms it.
    let pending = app
        .http
        .post(app.url("/v1/accounts"))
        .json(
            &json!({"storefront": "grocer", "email": "pending@example.org", "name": "Pen Ding",
                      "password": PASSWORD, "country": "DE", "accept_privacy_notice": true}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(pending.status(), 202);
    assert_eq!(
        pending.json::<Value>().await.unwrap(),
        body,
        "the same answer for a new address"
    );
    let code = mailbox.code_for("pending@example.org").await;
    assert_eq!(
        app.sign_in("pending@example.org", PASSWORD, "192.0.2.9")
            .await
            .status(),
        401
    );
    let r = app.confirm("pending@example.org", "ABCD-2345").await;
    assert_eq!(code_of(r).await, (401, "invalid_code".to_owned()));
    let r = app
        .confirm(
            "pending@example.org",
            &code.to_lowercase().replace('-', " "),
        )
        .await;
    assert_eq!(r.status(), 201, "case, spaces and dashes do not matter");
    let r = app.confirm("pending@example.org", &code).await;
    assert_eq!(r.status(), 401, "a code confirms once");

    // Only the hash is stored: no password, no raw token.
    let token = first.split('.').nth(1).unwrap();
    assert_eq!(app.count_everywhere(token).await, 0);
    assert_eq!(app.count_everywhere(PASSWORD).await, 0);
    let hash: String = app
        .db
        .get()
        .await
        .unwrap()
        .query_one("SELECT password_hash FROM accounts LIMIT 1", &[])
        .await
        .unwrap()
        .get(0);
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );

    // Wrong password and unknown address: the same answer.
    let wrong = app
        .sign_in("ada@example.org", "not the password", "192.0.2.1")
        .await;
    let unknown = app
        .sign_in("nobody@example.org", PASSWORD, "192.0.2.1")
        .await;
    let (wrong_status, unknown_status) = (wrong.status(), unknown.status());
    let (wrong, unknown): (Value, Value) =
        (wrong.json().await.unwrap(), unknown.json().await.unwrap());
    assert_eq!(wrong_status, 401);
    assert_eq!((unknown_status, &unknown), (wrong_status, &wrong));
    assert_eq!(wrong["error"]["code"], "invalid_credentials");

    let second = app.sign_in("ADA@example.org", PASSWORD, "192.0.2.1").await;
    assert_eq!(second.status(), 201);
    let second = session(&second.json().await.unwrap());
    assert_ne!(first, second, "a new token at every sign-in");
    let me = app
        .as_shopper(&second, Method::GET, "/v1/account", None)
        .await;
    assert_eq!(me.status(), 200);
    assert_eq!(me.json::<Value>().await.unwrap()["name"], "Ada Lovelace");

    // A new e-mail address needs the password.
    let change = json!({"email": "ada@lovelace.example"});
    let r = app
        .as_shopper(&second, Method::PATCH, "/v1/account", Some(change.clone()))
        .await;
    assert_eq!(code_of(r).await, (422, "invalid_field".to_owned()));
    let mut wrong_password = change.clone();
    wrong_password["current_password"] = "not the password".into();
    let r = app
        .as_shopper(&second, Method::PATCH, "/v1/account", Some(wrong_password))
        .await;
    assert_eq!(code_of(r).await, (403, "wrong_password".to_owned()));
    let mut right = change.clone();
    right["current_password"] = PASSWORD.into();
    right["name"] = "Augusta Ada King".into();
    let r = app
        .as_shopper(&second, Method::PATCH, "/v1/account", Some(right))
        .await;
    assert_eq!(r.status(), 200);
    let changed: Value = r.json().await.unwrap();
    assert_eq!(
        (changed["email"].as_str(), changed["name"].as_str()),
        (Some("ada@lovelace.example"), Some("Augusta Ada King"))
    );

    // Signing one session out leaves the other; a password change ends every other one.
    let r = app
        .as_shopper(&first, Method::DELETE, "/v1/sessions/current", None)
        .await;
    assert_eq!(r.status(), 204);
    let r = app
        .as_shopper(&first, Method::GET, "/v1/account", None)
        .await;
    assert_eq!(code_of(r).await, (401, "not_signed_in".to_owned()));
    assert_eq!(
        app.as_shopper(&second, Method::GET, "/v1/account", None)
            .await
            .status(),
        200
    );
    let third = session(
        &app.sign_in("ada@lovelace.example", PASSWORD, "192.0.2.1")
            .await
            .json()
            .await
            .unwrap(),
    );
    let new_password =
        json!({"current_password": PASSWORD, "new_password": "a much longer passphrase"});
    let r = app
        .as_shopper(
            &third,
            Method::PUT,
            "/v1/account/password",
            Some(new_password),
        )
        .await;
    assert_eq!(r.status(), 204);
    assert_eq!(
        app.as_shopper(&second, Method::GET, "/v1/account", None)
            .await
            .status(),
        401
    );
    assert_eq!(
        app.as_shopper(&third, Method::GET, "/v1/account", None)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.sign_in("ada@lovelace.example", PASSWORD, "192.0.2.2")
            .await
            .status(),
        401
    );
    let fourth = app
        .sign_in(
            "ada@lovelace.example",
            "a much longer passphrase",
            "192.0.2.2",
        )
        .await;
    let fourth = session(&fourth.json().await.unwrap());
    // Everywhere: both remaining sessions end.
    let r = app
        .as_shopper(&fourth, Method::DELETE, "/v1/sessions", None)
        .await;
    assert_eq!(r.status(), 204);
    for s in [&third, &fourth] {
        assert_eq!(
            app.as_shopper(s, Method::GET, "/v1/account", None)
                .await
                .status(),
            401
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_sign_ups_are_refused_with_the_field_and_write_nothing() {
    let app = spawn_app(Options {
        mail: true,
        ..Options::default()
    })
    .await;
    let good = json!({"storefront": "grocer", "email": "grace@example.org", "name": "Grace Hopper",
                      "password": PASSWORD, "country": "FR", "accept_privacy_notice": true});
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        ("password", json!("short"), 422, "invalid_field"),
        ("password", json!("x".repeat(129)), 422, "invalid_field"),
        ("email", json!("not-an-address"), 422, "invalid_field"),
        ("name", json!(""), 422, "invalid_field"),
        ("name", json!("Grace\u{0}Hopper"), 422, "invalid_field"),
        ("country", json!("US"), 421, "wrong_region"),
        ("country", json!("XX"), 422, "invalid_field"),
        ("accept_privacy_notice", json!(false), 422, "invalid_field"),
        ("storefront", json!("nobody"), 422, "invalid_field"),
        ("is_admin", json!(true), 400, "malformed_json"),
    ];
    let before = app.table_counts().await;
    for (field, value, status, expected) in cases {
        let mut body = good.clone();
        body[field] = value;
        let r = app
            .http
            .post(app.url("/v1/accounts"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(code_of(r).await, (status, expected.to_owned()), "{field}");
    }
    let r = app
        .http
        .post(app.url("/v1/accounts"))
        .body("{")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(app.table_counts().await, before);
    assert_eq!(app.count_everywhere("grace@example.org").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attempts_are_limited_per_account_and_per_client_alike_for_unknown_addresses() {
    let app = spawn_app(Options {
        mail: true,
        ..Options::default()
    })
    .await;
    app.sign_up("limit@example.org", "Lim It").await;
    for email in ["limit@example.org", "unknown@example.org"] {
        for i in 0..5 {
            let r = app
                .sign_in(email, "wrong password!", &format!("198.51.100.{i}"))
                .await;
            assert_eq!(r.status(), 401, "{email} attempt {i}");
        }
        // The sixth is refused even with the right password, from yet another address.
        let r = app.sign_in(email, PASSWORD, "198.51.100.99").await;
        assert_eq!(r.status(), 429, "{email}");
        let retry: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=900).contains(&retry), "{retry}");
        assert_eq!(code_of(r).await.1, "too_many_attempts");
    }
    // One client address: 20 attempts over any accounts, then refused.
    for i in 0..20 {
        let r = app
            .sign_in(
                &format!("someone{i}@example.org"),
                "wrong password!",
                "203.0.113.7",
            )
            .await;
        assert_eq!(r.status(), 401, "attempt {i}");
    }
    let r = app
        .sign_in("fresh@example.org", "wrong password!", "203.0.113.7")
        .await;
    assert_eq!(r.status(), 429);
    // Another client is not affected.
    let r = app
        .sign_in("fresh@example.org", "wrong password!", "203.0.113.8")
        .await;
    assert_eq!(r.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_takes_as_long_for_an_unknown_address_as_for_a_wrong_password() {
    let app = spawn_app(Options {
        mail: true,
        ..Options::default()
    })
    .await;
    app.sign_up("timing@example.org", "Tim Ing").await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..8 {
        // Four tries per account stay under its limit; each try has its own address.
        let email = if i % 2 == 0 {
            "timing@example.org".to_owned()
        } else {
            format!("ghost{i}@example.org")
        };
        let started = Instant::now();
        let r = app
            .sign_in(&email, "wrong password!", &format!("192.0.2.{}", 100 + i))
            .await;
        let took = started.elapsed();
        assert_eq!(r.status(), 401);
        if i % 2 == 0 {
            known.push(took)
        } else {
            unknown.push(took)
        }
    }
    known.sort();
    unknown.sort();
    let (k, u) = (known[known.len() / 2], unknown[unknown.len() / 2]);
    // Both verify one Argon2id hash (tens of milliseconds); without the stand-in hash an
    // unknown address would answer in about a millisecond.
    let (low, high) = (k.min(u), k.max(u));
    assert!(
        low * 2 > high && low > Duration::from_millis(5),
        "median wrong password {k:?}, unknown address {u:?}"
    );

    // Signing up: an address with an account and a new one take as long too (both hash,
    // write and queue one message).
    let mut taken = Vec::new();
    let mut fresh = Vec::new();
    for i in 0..8 {
        let email = if i % 2 == 0 {
            "timing@example.org".to_owned()
        } else {
            format!("new{i}@example.org")
        };
        let started = Instant::now();
        let r = app
            .http
            .post(app.url("/v1/accounts"))
            .header("x-forwarded-for", format!("192.0.2.{}", 200 + i))
            .json(
                &json!({"storefront": "grocer", "email": email, "name": "Tim Ing",
                          "password": PASSWORD, "country": "DE", "accept_privacy_notice": true}),
            )
            .send()
            .await
            .unwrap();
        let took = started.elapsed();
        assert_eq!(r.status(), 202);
        if i % 2 == 0 {
            taken.push(took)
        } else {
            fresh.push(took)
        }
    }
    taken.sort();
    fresh.sort();
    let (t, f) = (taken[taken.len() / 2], fresh[fresh.len() / 2]);
    let (low, high) = (t.min(f), t.max(f));
    assert!(
        low * 2 > high && low > Duration::from_millis(5),
        "median sign-up of a taken address {t:?}, of a new one {f:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_and_are_bound_to_their_region_and_signature() {
    let app = spawn_app(Options {
        quote_signing_key: Some("eu-west-key-0123456789"),
        mail: true,
        ..Options::default()
    })
    .await;
    use reqwest::Method;
    let s = session(&app.sign_up("expiry@example.org", "Ex Piry").await);
    assert_eq!(
        app.as_shopper(&s, Method::GET, "/v1/account", None)
            .await
            .status(),
        200
    );
    let parts: Vec<&str> = s.split('.').collect();
    // Another region's cookie: 421 naming it. A changed signature: 401.
    let moved = format!("us-east.{}.{}", parts[1], parts[2]);
    let r = app
        .as_shopper(&moved, Method::GET, "/v1/account", None)
        .await;
    assert_eq!(code_of(r).await, (421, "wrong_region".to_owned()));
    let forged = format!("eu-west.{}.{}", parts[1], "0".repeat(64));
    let r = app
        .as_shopper(&forged, Method::GET, "/v1/account", None)
        .await;
    assert_eq!(r.status(), 401);
    for garbage in ["", "eu-west", "eu-west.x.y"] {
        let r = app
            .as_shopper(garbage, Method::GET, "/v1/account", None)
            .await;
        assert_eq!(r.status(), 401, "{garbage:?}");
    }
    let client = app.db.get().await.unwrap();
    client
        .execute(
            "UPDATE sessions SET expires_at = now() - interval '1 second'",
            &[],
        )
        .await
        .unwrap();
    let r = app.as_shopper(&s, Method::GET, "/v1/account", None).await;
    assert_eq!(r.status(), 401);
    let left: i64 = client
        .query_one("SELECT count(*) FROM sessions", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        left, 0,
        "an expired session is deleted when it is next shown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn addresses_and_orders_belong_to_their_account_only() {
    let app = spawn_app(Options {
        mail: true,
        ..Options::default()
    })
    .await;
    use reqwest::Method;
    let ada = session(&app.sign_up("ada@example.org", "Ada Lovelace").await);
    let eve = session(&app.sign_up("eve@example.org", "Eve Snoop").await);
    let home = json!({"name": "Ada Lovelace", "line1": "1 Market Street", "city": "Berlin",
                      "postal_code": "10115", "country": "DE"});
    let r = app
        .as_shopper(
            &ada,
            Method::POST,
            "/v1/account/addresses",
            Some(home.clone()),
        )
        .await;
    assert_eq!(r.status(), 201);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["default"], true, "the first address is the default");
    let mut work = home.clone();
    work["line1"] = "2 Office Road".into();
    work["default"] = true.into();
    let r = app
        .as_shopper(&ada, Method::POST, "/v1/account/addresses", Some(work))
        .await;
    let second: Value = r.json().await.unwrap();
    let list: Value = app
        .as_shopper(&ada, Method::GET, "/v1/account/addresses", None)
        .await
        .json()
        .await
        .unwrap();
    let list = list["addresses"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        (list[0]["id"].clone(), list[0]["default"].clone()),
        (second["id"].clone(), json!(true))
    );
    assert_eq!(list[1]["default"], false);

    // Bad addresses: the field, and nothing written.
    let before = app.table_counts().await;
    for (field, value, expected) in [
        ("postal_code", json!("1234"), "invalid_field"),
        ("line1", json!(""), "invalid_field"),
        ("country", json!("US"), "address_outside_region"),
    ] {
        let mut bad = home.clone();
        bad[field] = value;
        if field == "country" {
            bad["postal_code"] = "10001".into();
        }
        let r = app
            .as_shopper(&ada, Method::POST, "/v1/account/addresses", Some(bad))
            .await;
        assert_eq!(code_of(r).await, (422, expected.to_owned()), "{field}");
    }
    assert_eq!(app.table_counts().await, before);

    // Eve cannot read, change or remove Ada's address.
    let path = format!("/v1/account/addresses/{}", first["id"].as_str().unwrap());
    let r = app
        .as_shopper(&eve, Method::PUT, &path, Some(home.clone()))
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        app.as_shopper(&eve, Method::DELETE, &path, None)
            .await
            .status(),
        404
    );
    let eves: Value = app
        .as_shopper(&eve, Method::GET, "/v1/account/addresses", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(eves["addresses"], json!([]));
    // Removing the default makes the remaining one the default.
    let path2 = format!("/v1/account/addresses/{}", second["id"].as_str().unwrap());
    assert_eq!(
        app.as_shopper(&ada, Method::DELETE, &path2, None)
            .await
            .status(),
        204
    );
    let list: Value = app
        .as_shopper(&ada, Method::GET, "/v1/account/addresses", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["addresses"][0]["default"], true);

    // Orders: a signed-in checkout joins the account; a guest one does not.
    let loaf = sku();
    app.seed(&loaf, 214, 10).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let r = app
            .http
            .post(app.url("/v1/checkouts"))
            .header("Idempotency-Key", key())
            .bearer_auth(&ada)
            .json(&checkout_body("DE", "EUR", &loaf, 1, "tok_approve"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        ids.push(
            r.json::<Value>().await.unwrap()["order_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(
        app.checkout(&key(), &checkout_body("DE", "EUR", &loaf, 1, "tok_approve"))
            .await
            .status(),
        201
    );
    let page: Value = app
        .as_shopper(&ada, Method::GET, "/v1/account/orders", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 2);
    let listed: Vec<&str> = page["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["order_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        vec![ids[1].as_str(), ids[0].as_str()],
        "newest first"
    );
    assert_eq!(page["orders"][0]["total_minor"], 214);
    let empty: Value = app
        .as_shopper(&ada, Method::GET, "/v1/account/orders?page=2", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (empty["orders"].clone(), empty["total"].clone()),
        (json!([]), json!(2))
    );
    let r = app
        .as_shopper(&ada, Method::GET, "/v1/account/orders?page=0", None)
        .await;
    assert_eq!(r.status(), 400);
    let mine = format!("/v1/account/orders/{}", ids[0]);
    assert_eq!(
        app.as_shopper(&ada, Method::GET, &mine, None)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.as_shopper(&eve, Method::GET, &mine, None)
            .await
            .status(),
        404
    );
    let evelist: Value = app
        .as_shopper(&eve, Method::GET, "/v1/account/orders", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(evelist["total"], 0);
    // A session of another storefront's account cannot check out at this one.
    let r = app
        .http
        .post(app.url("/v1/checkouts"))
        .header("Idempotency-Key", key())
        .bearer_auth("eu-west.not-a-session")
        .json(&checkout_body("DE", "EUR", &loaf, 1, "tok_approve"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a bad session is refused, not ignored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_password_is_reset_with_a_mailed_code_and_old_sessions_end() {
    let app = spawn_app(Options {
        mail: true,
        ..Options::default()
    })
    .await;
    use reqwest::Method;
    let old = session(&app.sign_up("forgetful@example.org", "Fer Getful").await);
    let ask = |email: &'static str| {
        app.http
            .post(app.url("/v1/accounts/password-reset"))
            .json(&json!({"storefront": "grocer", "email": email}))
            .send()
    };
    // The same answer for an address without an account, which gets no mail.
    let known: Value = ask("forgetful@example.org")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let unknown: Value = ask("nobody@example.org")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(known, unknown);
    let mailbox = app.mailbox.as_ref().unwrap();
    let message = mailbox
        .wait_for("forgetful@example.org", "Your password reset code: ")
        .await;
    let start = message.find("Your password reset code: ").unwrap() + 26;
    let code = message[start..start + 9].to_owned();
    let reset = |code: &str, password: &str| {
        app.http
            .post(app.url("/v1/accounts/password-reset/confirm"))
            .json(
                &json!({"storefront": "grocer", "email": "forgetful@example.org",
                          "code": code, "new_password": password}),
            )
            .send()
    };
    let r = reset("ABCD-2345", "a brand new password").await.unwrap();
    assert_eq!(code_of(r).await, (401, "invalid_code".to_owned()));
    let r = reset(&code, "short").await.unwrap();
    assert_eq!(code_of(r).await, (422, "invalid_field".to_owned()));
    let r = reset(&code, "a brand new password").await.unwrap();
    assert_eq!(r.status(), 201);
    let fresh = session(&r.json().await.unwrap());
    assert_eq!(
        app.as_shopper(&old, Method::GET, "/v1/account", None)
            .await
            .status(),
        401
    );
    assert_eq!(
        app.as_shopper(&fresh, Method::GET, "/v1/account", None)
            .await
            .status(),
        200
    );
    assert_eq!(
        reset(&code, "yet another password").await.unwrap().status(),
        401,
        "once"
    );
    assert_eq!(
        app.sign_in("forgetful@example.org", PASSWORD, "192.0.2.50")
            .await
            .status(),
        401
    );
    assert_eq!(
        app.sign_in(
            "forgetful@example.org",
            "a brand new password",
            "192.0.2.50"
        )
        .await
        .status(),
        201
    );
    assert!(
        !mailbox
            .messages()
            .iter()
            .any(|m| m.contains("nobody@example.org"))
    );
}
