use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinSet;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_requests_with_one_key_make_one_order_and_one_authorisation() {
    let app = Arc::new(spawn_app(Options::default()).await);
    let loaf = sku();
    app.seed(&loaf, 214, 100).await;
    let k = key();
    let body = checkout_body("DE", "EUR", &loaf, 1, "tok_approve");
    let mut set = JoinSet::new();
    for _ in 0..50 {
        let (app, k, body) = (app.clone(), k.clone(), body.clone());
        set.spawn(async move {
            let r = app.checkout(&k, &body).await;
            (r.status().as_u16(), r.bytes().await.unwrap())
        });
    }
    let mut created = BTreeSet::new();
    while let Some(result) = set.join_next().await {
        let (status, bytes) = result.unwrap();
        match status {
            201 => {
                created.insert(bytes);
            }
            409 => {
                let v: Value = serde_json::from_slice(&bytes).unwrap();
                assert_eq!(v["error"]["code"], "checkout_in_progress");
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(
        created.len(),
        1,
        "every 201 is the same response, byte for byte"
    );
    let client = app.db.get().await.unwrap();
    let orders: i64 = client
        .query_one("SELECT count(*) FROM orders", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(orders, 1);
    assert_eq!(app.psp_authorizations().await.len(), 1);

    // The same key with another body is refused, and writes nothing.
    let before = app.table_counts().await;
    let other = checkout_body("DE", "EUR", &loaf, 2, "tok_approve");
    let r = app.checkout(&k, &other).await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "idempotency_key_reused"
    );
    assert_eq!(app.table_counts().await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_psp_that_loses_a_fifth_of_its_answers_still_charges_every_order_exactly_once() {
    let app = Arc::new(
        spawn_app(Options {
            psp_args: vec!["--fail-after-commit-percent", "20"],
            ..Options::default()
        })
        .await,
    );
    let loaf = sku();
    app.seed(&loaf, 214, 200).await;
    let mut set = JoinSet::new();
    for _ in 0..60 {
        let app = app.clone();
        let loaf = loaf.clone();
        set.spawn(async move {
            let k = key();
            let body = checkout_body("DE", "EUR", &loaf, 1, "tok_approve");
            // A client that retries with the same key until it gets a final answer.
            for _ in 0..100 {
                let r = app.checkout(&k, &body).await;
                match r.status().as_u16() {
                    201 => return,
                    409 | 502 => tokio::time::sleep(Duration::from_millis(100)).await,
                    other => panic!("unexpected {other}: {}", r.text().await.unwrap()),
                }
            }
            panic!("checkout never completed");
        });
    }
    while let Some(result) = set.join_next().await {
        result.unwrap();
    }
    let client = app.db.get().await.unwrap();
    let statuses = client
        .query("SELECT status, count(*) FROM orders GROUP BY status", &[])
        .await
        .unwrap();
    let statuses: Vec<(String, i64)> = statuses.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(statuses, vec![("confirmed".to_owned(), 60)]);
    let authorizations = app.psp_authorizations().await;
    assert_eq!(authorizations.len(), 60, "one authorisation per checkout");
    let paid: BTreeSet<String> = client
        .query("SELECT payment_id FROM orders", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let authorized: BTreeSet<String> = authorizations
        .iter()
        .map(|a| a["authorization"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        paid, authorized,
        "every order is paid by its own authorisation"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_stranded_after_reserving_is_settled_by_the_recovery_worker() {
    // The core starts with an unreachable PSP: checkouts reserve, then cannot pay.
    let app = spawn_app(Options {
        psp_urls: vec!["http://127.0.0.1:9".to_owned()],
        ..Options::default()
    })
    .await;
    let loaf = sku();
    app.seed(&loaf, 214, 5).await;
    let k = key();
    let body = checkout_body("DE", "EUR", &loaf, 2, "tok_approve");
    let r = app.checkout(&k, &body).await;
    assert_eq!(r.status(), 502);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "payment_unavailable"
    );
    assert_eq!(
        app.checkout(&k, &body).await.status(),
        409,
        "still in flight"
    );
    assert_eq!(app.stock_row(&loaf).await, (5, 2));

    // A restarted core that can reach the PSP settles it.
    let options = Options::default();
    let (state, address) = start_core(
        &options,
        &app.database_url,
        std::slice::from_ref(&app.psp.url),
    )
    .await;
    let mut settled = 0;
    for _ in 0..50 {
        settled += regional_core::recovery::round(&state, Duration::from_millis(0))
            .await
            .unwrap();
        if settled > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(settled, 1);
    let replay = app
        .http
        .post(format!("{address}/v1/checkouts"))
        .header("Idempotency-Key", &k)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 201);
    assert_eq!(replay.json::<Value>().await.unwrap()["status"], "confirmed");
    assert_eq!(app.psp_authorizations().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_psp_timeout_is_retried_under_the_same_key_and_charges_once() {
    // The sandbox commits, then answers after 2.5 s; the core gives up after 2 s and asks
    // again with the same derived key, which returns the committed authorisation.
    let app = spawn_app(Options {
        psp_args: vec!["--slow-ms", "2500"],
        ..Options::default()
    })
    .await;
    let loaf = sku();
    app.seed(&loaf, 214, 5).await;
    let r = app
        .checkout(&key(), &checkout_body("DE", "EUR", &loaf, 1, "tok_timeout"))
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(app.psp_authorizations().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_first_provider_is_down_new_checkouts_fail_over_to_the_second() {
    // Provider 1 refuses connections; provider 2 is a second sandbox process.
    let psp_b = spawn_psp(&[]);
    let app = spawn_app(Options {
        psp_urls: vec!["http://127.0.0.1:9".to_owned(), psp_b.url.clone()],
        ..Options::default()
    })
    .await;
    let loaf = sku();
    app.seed(&loaf, 214, 10).await;
    // The first two checkouts exhaust the first provider's retries and open its breaker.
    for _ in 0..2 {
        let r = app
            .checkout(&key(), &checkout_body("DE", "EUR", &loaf, 1, "tok_approve"))
            .await;
        assert_eq!(r.status(), 502);
    }
    let r = app
        .checkout(&key(), &checkout_body("DE", "EUR", &loaf, 1, "tok_approve"))
        .await;
    assert_eq!(r.status(), 201, "the second provider takes new checkouts");
    let client = app.db.get().await.unwrap();
    let provider: String = client
        .query_one(
            "SELECT payment_provider FROM orders WHERE status = 'confirmed'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(provider, "psp-2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_whose_psp_never_answers_gives_its_stock_back_when_the_reservation_expires() {
    let app = spawn_app(Options {
        psp_urls: vec!["http://127.0.0.1:9".to_owned()],
        reservation_ttl_secs: 1,
        ..Options::default()
    })
    .await;
    let loaf = sku();
    app.seed(&loaf, 214, 3).await;
    let k = key();
    let body = checkout_body("DE", "EUR", &loaf, 3, "tok_approve");
    assert_eq!(app.checkout(&k, &body).await.status(), 502);
    assert_eq!(app.stock_row(&loaf).await, (3, 3));
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let settled = regional_core::recovery::round(&app.state, Duration::from_millis(0))
        .await
        .unwrap();
    assert_eq!(settled, 1);
    assert_eq!(app.stock_row(&loaf).await, (3, 0));
    let replay = app.checkout(&k, &body).await;
    assert_eq!(replay.status(), 409);
    assert_eq!(
        replay.json::<Value>().await.unwrap()["error"]["code"],
        "checkout_expired"
    );
}
