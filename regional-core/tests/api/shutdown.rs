use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_an_in_flight_checkout_finish_then_exits() {
    let (db_name, database_url) = create_database().await;
    // The PSP takes a second to answer, so the checkout is in flight when the signal comes.
    let psp = spawn_psp(&["--slow-ms", "1000"]);
    let config = region_config_path();
    let mut core = spawn_binary(
        &[
            "serve",
            "--region",
            "eu-west",
            "--region-config",
            config.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--psp-url",
            &psp.url,
            "--merchant-token",
            &format!("grocer={GROCER_TOKEN}"),
        ],
        &[("DATABASE_URL", &database_url)],
    );
    let http = reqwest::Client::new();
    let base = core.url.clone();
    let loaf = sku();
    let r = http.put(format!("{base}/v1/admin/products/{loaf}")).bearer_auth(GROCER_TOKEN)
        .json(&json!({"title": "Loaf", "category": "bakery", "unit": "1", "tax_category": "food", "prices": {"EUR": 214}}))
        .send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .post(format!("{base}/v1/admin/stock"))
        .bearer_auth(GROCER_TOKEN)
        .json(&json!({"sku": loaf, "warehouse": "de-fra-1", "delta": 5, "reason": "delivery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let in_flight = tokio::spawn({
        let (http, base) = (http.clone(), base.clone());
        let body = checkout_body("DE", "EUR", &loaf, 1, "tok_timeout");
        async move {
            http.post(format!("{base}/v1/checkouts"))
                .header("Idempotency-Key", key())
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &core.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert_eq!(
        in_flight.await.unwrap(),
        201,
        "the in-flight checkout completes"
    );
    let status = core
        .wait_exit(Duration::from_secs(10))
        .expect("the core exits after SIGTERM");
    assert!(status.success(), "{status:?}");
    drop_database(&db_name);
}
