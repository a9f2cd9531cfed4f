//! A shopper in France buys a loaf of bread: pages rendered at the edge, the order committed
//! by the eu-west core, and nothing of the shopper left anywhere but eu-west's database.

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopper_buys_a_loaf_of_bread_end_to_end() {
    let world = world();
    let eu = world.core("eu-west");
    seed(
        eu,
        &product(
            "BREAD-E2E",
            "Country sourdough loaf",
            "bakery",
            349,
            &["bread", "sourdough"],
        ),
        40,
        "de-fra-1",
    )
    .await;
    let france = [("x-meridian-country", "FR")];
    // The product and its stock are published in separate relay batches: wait for both.
    until_published(&format!("{}/p/BREAD-E2E", world.edge), &france, "In stock").await;

    let shopper = Shopper::new(&world.edge, "FR");
    // Home → search → product.
    let (status, home) = shopper.get("/").await;
    assert_eq!(status, 200, "{home}");
    assert!(home.contains("Fresh groceries, next door"), "{home}");
    let (status, results) = shopper.get("/search?q=sourdough").await;
    assert_eq!(status, 200);
    assert!(results.contains("href=\"/p/BREAD-E2E\""), "{results}");
    assert!(results.contains("<mark>sourdough</mark>"), "{results}");
    let (status, page) = shopper.get("/p/BREAD-E2E").await;
    assert_eq!(status, 200);
    assert!(page.contains("In stock"), "{page}");
    // France's reduced food VAT, included in the price shown.
    assert!(page.contains("EUR"), "{page}");
    assert!(page.contains("incl. VAT"), "{page}");

    // Add two loaves.
    let csrf = hidden(&page, "csrf");
    let (status, location, body) = shopper
        .post(
            "/cart/add",
            &[("sku", "BREAD-E2E"), ("quantity", "2"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some("/cart")),
        "{body}"
    );
    let (status, cart) = shopper.get("/cart").await;
    assert_eq!(status, 200);
    assert!(cart.contains("Country sourdough loaf"), "{cart}");
    assert!(cart.contains("value=\"2\""), "{cart}");
    assert!(cart.contains("6.98 EUR"), "two loaves at 3.49: {cart}");

    // A promo code the region does not have is refused, next to the cart.
    let (status, _, _) = shopper
        .post("/cart/promo", &[("code", "NOPE10"), ("csrf", &csrf)])
        .await;
    assert_eq!(status, 303);
    let (_, cart) = shopper.get("/cart").await;
    assert!(
        cart.contains("The promo code NOPE10 does not exist."),
        "{cart}"
    );

    // The merchant starts a 10% promotion at the eu-west core; once its relay has
    // republished the pricing rules, the code takes 10% off at the edge.
    let created = reqwest::Client::new()
        .put(format!("{}/v1/admin/promotions/BREAD10", eu.url))
        .bearer_auth(GROCER_TOKEN)
        .json(&serde_json::json!({"rule": {"kind": "percent_off", "bp": 1000}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200, "{}", created.text().await.unwrap());
    wait_for_edge_key("meridian/v1/eu-west/grocer/pricing", "BREAD10").await;
    let (status, _, _) = shopper
        .post("/cart/promo", &[("code", "bread10"), ("csrf", &csrf)])
        .await;
    assert_eq!(status, 303);
    let (_, cart) = shopper.get("/cart").await;
    assert!(cart.contains("Discount (BREAD10)"), "{cart}");
    assert!(cart.contains("−0.70 EUR"), "{cart}");
    assert!(cart.contains("6.28 EUR"), "{cart}");

    // Checkout: a missing field is shown next to it, with the rest kept.
    let (status, form) = shopper.get("/checkout").await;
    assert_eq!(status, 200, "{form}");
    assert!(
        form.contains("6.28 EUR"),
        "the promotion is in the total to pay: {form}"
    );
    let attempt = hidden(&form, "attempt");
    let canary_email = format!("canary-{}@shopper.invalid", &attempt[..8]);
    let mut fields = vec![
        ("csrf", csrf.clone()),
        ("attempt", attempt.clone()),
        ("name", "Camille Canary".to_owned()),
        ("email", canary_email.clone()),
        ("line1", "12 rue du Four".to_owned()),
        ("city", "Lyon".to_owned()),
        ("postal_code", String::new()),
        ("country", "FR".to_owned()),
        ("token", "tok_approve".to_owned()),
    ];
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, page) = shopper.post("/checkout", &borrowed).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("Enter your postal code."), "{page}");
    assert!(
        page.contains("value=\"Camille Canary\""),
        "input kept: {page}"
    );

    fields[6].1 = "69001".to_owned();
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, location, body) = shopper.post("/checkout", &borrowed).await;
    assert_eq!(status, 303, "{body}");
    let location = location.unwrap();
    assert!(location.starts_with("/orders/"), "{location}");

    // A double submit of the same form makes no second order.
    let (status, again, _) = shopper.post("/checkout", &borrowed).await;
    assert_eq!((status, again.as_deref()), (303, Some(location.as_str())));

    let (status, order) = shopper.get(&location).await;
    assert_eq!(status, 200, "{order}");
    assert!(order.contains("data-status=\"confirmed\""), "{order}");
    assert!(
        order.contains("6.28 EUR"),
        "the promotion is in the order: {order}"
    );
    let (_, cart) = shopper.get("/cart").await;
    assert!(cart.contains("Your cart is empty."), "{cart}");

    // The shopper's details are in eu-west's database, once, and nowhere else.
    assert!(count_in_database(&eu.database_url, &canary_email).await >= 1);
    let us = world.core("us-east");
    assert_eq!(count_in_database(&us.database_url, &canary_email).await, 0);
    assert_eq!(count_in_edge_store(&canary_email).await, 0);
    assert_eq!(count_in_edge_store("Camille Canary").await, 0);
}
