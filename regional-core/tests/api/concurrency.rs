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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shoppers_of_two_countries_racing_for_a_sku_in_two_warehouses_never_get_a_500() {
    // US shoppers try us-nj-1 first, Canadians ca-on-1: opposite orders over the same rows.
    let app = Arc::new(
        spawn_app(Options {
            region: "us-east",
            ..Options::default()
        })
        .await,
    );
    let mut statuses = std::collections::BTreeMap::new();
    for _round in 0..20 {
        let item = sku();
        app.seed(&item, 300, 0).await;
        for warehouse in ["us-nj-1", "ca-on-1"] {
            assert_eq!(app.adjust(&item, warehouse, 2).await.status(), 200);
        }
        let mut set = JoinSet::new();
        for i in 0..8 {
            let app = app.clone();
            let item = item.clone();
            set.spawn(async move {
                let country = if i % 2 == 0 { "US" } else { "CA" };
                let response = app
                    .checkout(
                        &key(),
                        &checkout_body(country, "USD", &item, 3, "tok_approve"),
                    )
                    .await;
                let status = response.status().as_u16();
                (status, response.text().await.unwrap())
            });
        }
        let mut confirmed = 0;
        while let Some(result) = set.join_next().await {
            let (status, body) = result.unwrap();
            assert!(status < 500, "{status}: {body}");
            confirmed += usize::from(status == 201);
            *statuses.entry(status).or_insert(0) += 1;
        }
        // Four units, three per checkout: exactly one shopper gets them.
        assert_eq!(confirmed, 1, "{statuses:?}");
        let (on_hand, reserved) = app.stock_row(&item).await;
        assert!(reserved <= on_hand);
    }
    assert_eq!(statuses.get(&201), Some(&20), "{statuses:?}");
}
