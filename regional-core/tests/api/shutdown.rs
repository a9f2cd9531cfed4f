use std::time::Duration;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_an_in_flight_checkout_finish_then_exits() {
    let (db_name, database_url) = create_database().await;
    // The PSP takes a second to answer, so the checkout is in flight when the signal comes.
    let psp = spawn_psp(&["--slow-ms", "1000"]);
    let mut core = spawn_core("eu-west", &database_url, &psp.url, &[]);
    let http = reqwest::Client::new();
    let base = core.url.clone();
    let loaf = seed_loaf(&base, 5).await;

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
