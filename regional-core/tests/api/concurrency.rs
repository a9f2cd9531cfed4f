use std::sync::Arc;

use serde_json::Value;
use tokio::task::JoinSet;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_shoppers_racing_for_fifty_loaves_never_oversell() {
    let app = Arc::new(spawn_app(Options::default()).await);
    let loaf = sku();
    app.seed(&loaf, 214, 50).await;
    let mut set = JoinSet::new();
    for _ in 0..500 {
        let app = app.clone();
        let loaf = loaf.clone();
        set.spawn(async move {
            let response = app
                .checkout(&key(), &checkout_body("DE", "EUR", &loaf, 1, "tok_approve"))
                .await;
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            (status, body)
        });
    }
    let mut confirmed = Vec::new();
    let mut out_of_stock = 0;
    while let Some(result) = set.join_next().await {
        let (status, body) = result.unwrap();
        match status {
            201 => confirmed.push(body["order_id"].as_str().unwrap().to_owned()),
            409 => {
                assert_eq!(body["error"]["code"], "out_of_stock");
                out_of_stock += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(confirmed.len(), 50);
    assert_eq!(out_of_stock, 450);
    assert_eq!(app.stock_row(&loaf).await, (50, 50));

    // Fulfil every order: sold stock leaves, nothing stays reserved.
    for id in &confirmed {
        let r = app
            .http
            .post(app.url(&format!("/v1/admin/orders/{id}/fulfil")))
            .bearer_auth(GROCER_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!(app.stock_row(&loaf).await, (0, 0));
    let client = app.db.get().await.unwrap();
    let moved: i64 = client
        .query_one(
            "SELECT coalesce(sum(on_hand_delta), 0) FROM stock_movements WHERE sku = $1",
            &[&loaf],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        moved, 0,
        "movements must account for every unit: +50 delivered, -50 sold"
    );
}
