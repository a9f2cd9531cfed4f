//! E-mail through the outbox and a real SMTP receiver: a relay that is down is retried with
//! backoff and the same Message-ID; a sent message keeps no address or content.

use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

async fn ask_for_account(app: &TestApp, email: &str) {
    let r = app
        .http
        .post(app.url("/v1/accounts"))
        .json(
            &json!({"storefront": "grocer", "email": email, "name": "Mai Ling",
                      "password": "correct horse battery", "country": "DE",
                      "accept_privacy_notice": true}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_is_down_is_retried_and_the_message_keeps_its_id() {
    let app = spawn_app(Options::default()).await;
    let db = app.db.get().await.unwrap();
    ask_for_account(&app, "mai@example.org").await;
    // No relay answers on this port yet: one attempt fails and is put off.
    let mut mailbox = Mailbox::spawn();
    let url = mailbox.url.clone();
    drop(std::mem::replace(&mut mailbox, Mailbox::spawn()));
    let config = regional_core::mail::SmtpConfig {
        url: regional_core::config::Secret::new(&url),
        from: "Meridian <orders@grocer.test>".to_owned(),
        senders: vec![(
            "grocer".to_owned(),
            "Fresh Grocer <hello@grocer.example>".to_owned(),
        )],
        region: "eu-west".to_owned(),
    };
    let down = regional_core::mail::Mailer::new(&config).unwrap();
    assert_eq!(regional_core::mail::round(&app.db, &down).await.unwrap(), 0);
    let row = db
        .query_one(
            "SELECT id, state, attempts, last_error, next_attempt_at > now() + interval '5 seconds',
                    to_address IS NOT NULL
             FROM outgoing_mail",
            &[],
        )
        .await
        .unwrap();
    let id: uuid::Uuid = row.get(0);
    assert_eq!(row.get::<_, String>(1), "queued");
    assert_eq!(row.get::<_, i32>(2), 1);
    let error: String = row.get(3);
    assert!(
        !error.contains("mai@"),
        "the error never names the recipient: {error}"
    );
    assert!(
        row.get::<_, bool>(4),
        "the next attempt waits (10 s, doubling)"
    );
    assert!(row.get::<_, bool>(5));
    // Not due yet: a round sends nothing.
    let up = regional_core::mail::Mailer::new(&regional_core::mail::SmtpConfig {
        url: regional_core::config::Secret::new(&mailbox.url),
        ..config
    })
    .unwrap();
    assert_eq!(regional_core::mail::round(&app.db, &up).await.unwrap(), 0);
    db.execute("UPDATE outgoing_mail SET next_attempt_at = now()", &[])
        .await
        .unwrap();
    assert_eq!(regional_core::mail::round(&app.db, &up).await.unwrap(), 1);
    let message = mailbox
        .wait_for("mai@example.org", "Your confirmation code")
        .await;
    assert!(
        message.contains(&format!("Message-ID: <{id}@eu-west.meridian>")),
        "{message}"
    );
    // From the storefront's own sender.
    assert!(message.contains("hello@grocer.example>"), "{message}");
    assert!(
        message.contains("Content-Type: text/plain") && message.contains("Content-Type: text/html")
    );
    // Sent: only the kind and the outcome stay.
    let row = db
        .query_one(
            "SELECT state, to_address, subject, text_body, html_body, kind FROM outgoing_mail",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "sent");
    for i in 1..=4 {
        assert_eq!(row.get::<_, Option<String>>(i), None);
    }
    assert_eq!(row.get::<_, String>(5), "account_confirmation");
    assert_eq!(
        app.count_everywhere("mai@example.org").await,
        1,
        "only the pending account"
    );
    // Given up after the last attempt: failed, and cleared too.
    ask_for_account(&app, "lin@example.org").await;
    db.execute(
        "UPDATE outgoing_mail SET attempts = $1 - 1 WHERE state = 'queued'",
        &[&regional_core::mail::MAX_ATTEMPTS],
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(regional_core::mail::round(&app.db, &down).await.unwrap(), 0);
    let row = db
        .query_one(
            "SELECT state, to_address IS NULL FROM outgoing_mail WHERE kind = 'account_confirmation' AND state <> 'sent'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, bool>(1)),
        ("failed".to_owned(), true)
    );
    // The merchant sees the failure (kind and outcome, never the address); another
    // storefront sees none of it.
    let list = |token: &'static str, query: &'static str| {
        app.http
            .get(app.url(&format!("/v1/admin/mail{query}")))
            .bearer_auth(token)
            .send()
    };
    let failed: serde_json::Value = list(GROCER_TOKEN, "").await.unwrap().json().await.unwrap();
    let failed = failed["messages"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["state"], "failed");
    assert_eq!(failed[0]["kind"], "account_confirmation");
    assert!(!failed[0].to_string().contains("lin@"));
    let sent: serde_json::Value = list(GROCER_TOKEN, "?state=sent")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sent["messages"].as_array().unwrap().len(), 1);
    let other: serde_json::Value = list(OTHER_TOKEN, "?state=failed")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(other["messages"], json!([]));
    assert_eq!(
        list(GROCER_TOKEN, "?state=lost").await.unwrap().status(),
        400
    );
    assert_eq!(list("not-a-token", "").await.unwrap().status(), 401);

    // An order's message is written when sent; an order erased meanwhile is not mailed.
    let loaf = sku();
    app.seed(&loaf, 214, 5).await;
    let mut body = checkout_body("DE", "EUR", &loaf, 1, "tok_approve");
    body["shopper"]["email"] = "gone@example.org".into();
    assert_eq!(app.checkout(&key(), &body).await.status(), 201);
    let mut client = app.db.get().await.unwrap();
    let tx = client.transaction().await.unwrap();
    regional_core::privacy::erase(
        &tx,
        &regional_core::privacy::Subject::Email("gone@example.org".into()),
        "test",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    db.execute(
        "UPDATE outgoing_mail SET next_attempt_at = now() WHERE state = 'queued'",
        &[],
    )
    .await
    .unwrap();
    regional_core::mail::round(&app.db, &up).await.unwrap();
    let row = db
        .query_one(
            "SELECT state, last_error FROM outgoing_mail WHERE kind = 'order_confirmed'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "failed");
    assert!(row.get::<_, String>(1).contains("erased"));
    assert!(
        !mailbox
            .messages()
            .iter()
            .any(|m| m.contains("gone@example.org"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopper_is_mailed_once_when_their_order_is_confirmed_cancelled_and_refunded() {
    let app = spawn_app(Options {
        mail: true,
        ..Options::default()
    })
    .await;
    let mailbox = app.mailbox.as_ref().unwrap();
    let loaf = sku();
    app.seed(&loaf, 214, 10).await;
    let mut body = checkout_body("DE", "EUR", &loaf, 2, "tok_approve");
    body["shopper"]["email"] = "orders@example.org".into();
    let first = key();
    let order: serde_json::Value = app.checkout(&first, &body).await.json().await.unwrap();
    let id = order["order_id"].as_str().unwrap().to_owned();
    let short = &id.replace('-', "")[..8];
    let confirmed = mailbox
        .wait_for(
            "orders@example.org",
            &format!("Your order {short} is confirmed: 4.28 EUR"),
        )
        .await;
    assert!(confirmed.contains(&format!("2 x {loaf}")), "{confirmed}");
    // A replay of the checkout is no second order and no second message.
    assert_eq!(app.checkout(&first, &body).await.status(), 201);
    // The merchant fulfils and refunds 1.00 EUR; the shopper hears of the refund.
    let merchant = |path: String, body: serde_json::Value| {
        app.http
            .post(app.url(&path))
            .bearer_auth(GROCER_TOKEN)
            .header("Idempotency-Key", key())
            .json(&body)
            .send()
    };
    assert_eq!(
        merchant(format!("/v1/admin/orders/{id}/fulfil"), json!({}))
            .await
            .unwrap()
            .status(),
        200
    );
    let r = merchant(
        format!("/v1/admin/orders/{id}/refund"),
        json!({"amount_minor": 100}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    mailbox
        .wait_for("orders@example.org", "We refunded 1.00 EUR of your order")
        .await;
    // Another order, cancelled by its shopper.
    let other: serde_json::Value = app.checkout(&key(), &body).await.json().await.unwrap();
    let r = app
        .http
        .post(app.url(&format!(
            "/v1/orders/{}/cancel",
            other["order_id"].as_str().unwrap()
        )))
        .bearer_auth(other["order_access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    mailbox
        .wait_for("orders@example.org", "was cancelled")
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let subjects: Vec<String> = mailbox
        .messages()
        .iter()
        .filter_map(|m| {
            m.lines()
                .find(|l| l.starts_with("Subject: "))
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(subjects.len(), 4, "{subjects:#?}");
    let ids: std::collections::BTreeSet<String> = mailbox
        .messages()
        .iter()
        .filter_map(|m| {
            m.lines()
                .find(|l| l.starts_with("Message-ID: "))
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(ids.len(), 4, "one Message-ID each");
}
