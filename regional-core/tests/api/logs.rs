//! No personal data in the core's log at any level: a shopper with unique strings checks
//! out, and another signs up, signs in and uses the session, against the real binary
//! logging at `trace`; the log is searched for their details, passwords and session token.

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shoppers_details_never_reach_the_log_even_at_trace() {
    let (db_name, database_url) = create_database().await;
    let psp = spawn_psp(&[]);
    let mailbox = Mailbox::spawn();
    let core = spawn_core(
        "eu-west",
        &database_url,
        &psp.url,
        &[("RUST_LOG", "trace"), ("MERIDIAN_SMTP_URL", &mailbox.url)],
    );
    let http = reqwest::Client::new();
    let base = core.url.clone();
    let loaf = seed_loaf(&base, 5).await;

    let unique = uuid::Uuid::new_v4().simple().to_string();
    let email = format!("logcanary-{unique}@example.org");
    let name = format!("Loggy {unique}");
    let phone = "+49 30 5550 1234".to_owned();
    let street = format!("{unique} Canary Lane");
    let mut body = checkout_body("DE", "EUR", &loaf, 1, "tok_approve");
    body["shopper"]["email"] = email.clone().into();
    body["shopper"]["name"] = name.clone().into();
    body["shopper"]["phone"] = phone.clone().into();
    body["shopper"]["address"]["line1"] = street.clone().into();
    let r = http
        .post(format!("{base}/v1/checkouts"))
        .header("Idempotency-Key", key())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    // An account: signed up, signed in, its session used; a wrong password tried.
    let password = format!("pw-{unique}");
    let account_email = format!("acct-{unique}@example.org");
    let r = http
        .post(format!("{base}/v1/accounts"))
        .json(
            &serde_json::json!({"storefront": "grocer", "email": account_email, "name": name,
            "password": password, "country": "DE", "accept_privacy_notice": true}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let code = mailbox.code_for(&account_email).await;
    let up: serde_json::Value = http
        .post(format!("{base}/v1/accounts/confirm"))
        .json(&serde_json::json!({"storefront": "grocer", "email": account_email, "code": code}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = up["session"].as_str().unwrap().to_owned();
    let token = session.split('.').nth(1).unwrap().to_owned();
    for attempt in [&password, &format!("wrong-{unique}")] {
        http.post(format!("{base}/v1/sessions"))
            .json(&serde_json::json!({"storefront": "grocer", "email": account_email, "password": attempt}))
            .send()
            .await
            .unwrap();
    }
    let r = http
        .get(format!("{base}/v1/account"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let log = core.log();
    // The log really is at trace: the test would prove nothing otherwise.
    assert!(
        log.contains("\"level\":\"TRACE\"") || log.contains("\"level\":\"DEBUG\""),
        "the core logged nothing below info"
    );
    for canary in [
        &email,
        &name,
        &phone,
        &street,
        &account_email,
        &token,
        &unique,
    ] {
        assert!(!log.contains(canary.as_str()), "{canary} is in the log");
    }
    drop(core);
    drop_database(&db_name);
}

/// A core whose pool the database server cannot hold says so when it starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_larger_than_the_servers_free_connections_is_reported_at_start() {
    let (db_name, database_url) = create_database().await;
    let psp = spawn_psp(&[]);
    let core = spawn_core(
        "eu-west",
        &database_url,
        &psp.url,
        &[("MERIDIAN_DB_POOL", "100000")],
    );
    let log = core.log();
    assert!(
        log.contains("fewer free connections than this core's pool"),
        "{log}"
    );
    let fitting = spawn_core(
        "eu-west",
        &database_url,
        &psp.url,
        &[("MERIDIAN_DB_POOL", "2")],
    );
    assert!(
        !fitting.log().contains("fewer free connections"),
        "{}",
        fitting.log()
    );
    drop((core, fitting));
    drop_database(&db_name);
}
