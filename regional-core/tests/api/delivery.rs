//! Delivery slots: the merchant's zones and template, slots materialised from it, booking
//! at checkout (never beyond capacity), holds before the cart, releases, the projection.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::*;

/// Every day, two windows; capacity and fee as given.
fn every_day(capacity: i32, fee_minor: i64) -> Value {
    let windows: Vec<Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .flat_map(|day| {
            [("08:00", "10:00"), ("18:00", "20:00")].map(|(start, end)| {
                json!({"day": day, "start": start, "end": end, "capacity": capacity, "fee_minor": fee_minor})
            })
        })
        .collect();
    json!({"time_zone": "Europe/Berlin", "days_ahead": 3, "hold_minutes": 30, "windows": windows})
}

async fn put(app: &TestApp, path: &str, body: &Value) -> reqwest::Response {
    app.http
        .put(app.url(path))
        .bearer_auth(GROCER_TOKEN)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// The storefront's slots that have not started.
async fn slots(app: &TestApp) -> Vec<Value> {
    all_slots(app)
        .await
        .into_iter()
        .filter(|s| s["started"] == false)
        .collect()
}

async fn all_slots(app: &TestApp) -> Vec<Value> {
    let body: Value = app
        .http
        .get(app.url("/v1/admin/slots"))
        .bearer_auth(GROCER_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["slots"].as_array().unwrap().clone()
}

async fn slot(app: &TestApp, id: &str) -> Value {
    all_slots(app)
        .await
        .into_iter()
        .find(|s| s["id"] == id)
        .unwrap()
}

/// Zones (all of DE) and the template for the region's first warehouse; the first coming
/// slot's id.
async fn delivering(app: &TestApp, capacity: i32, fee_minor: i64) -> String {
    let w = app.warehouse(0);
    let zones = json!({"zones": [{"country": "DE"}, {"country": "FR", "postal_prefixes": ["75"]}]});
    let r = put(app, &format!("/v1/admin/warehouses/{w}/zones"), &zones).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = put(
        app,
        &format!("/v1/admin/warehouses/{w}/slot-template"),
        &every_day(capacity, fee_minor),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    slots(app).await[0]["id"].as_str().unwrap().to_owned()
}

fn with_slot(mut body: Value, slot: &str) -> Value {
    body["delivery"] = json!({ "slot_id": slot });
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_materialises_local_slots_and_bad_ones_write_nothing() {
    let app = spawn_app(Options::default()).await;
    let w = app.warehouse(0);
    let before = app.table_counts().await;
    let zones = format!("/v1/admin/warehouses/{w}/zones");
    let template = format!("/v1/admin/warehouses/{w}/slot-template");
    let refused = [
        (
            zones.clone(),
            json!({"zones": [{"country": "US"}]}),
            "cannot_ship_to",
            "zones[0].country",
        ),
        (
            zones.clone(),
            json!({"zones": [{"country": "DE", "postal_prefixes": ["10/"]}]}),
            "invalid_field",
            "zones[0].postal_prefixes[0]",
        ),
        (
            zones.clone(),
            json!({"zones": []}),
            "invalid_field",
            "zones",
        ),
        (
            template.clone(),
            json!({"time_zone": "Europe/Berlin", "windows": [
            {"day": "mon", "start": "08:00", "end": "10:00", "capacity": 5, "fee_minor": 0},
            {"day": "mon", "start": "09:00", "end": "11:00", "capacity": 5, "fee_minor": 0}]}),
            "invalid_field",
            "windows[1].start",
        ),
        (
            template.clone(),
            json!({"time_zone": "Europe/Berlin", "windows": [
            {"day": "mon", "start": "08:00", "end": "10:00", "capacity": 0, "fee_minor": 0}]}),
            "invalid_field",
            "windows[0].capacity",
        ),
        (
            template.clone(),
            json!({"time_zone": "Europe/Berlin", "windows": [
            {"day": "mon", "start": "08:00", "end": "10:00", "capacity": -4, "fee_minor": 0}]}),
            "invalid_field",
            "windows[0].capacity",
        ),
        (
            template.clone(),
            json!({"time_zone": "Mars/Olympus", "windows": [
            {"day": "mon", "start": "08:00", "end": "10:00", "capacity": 5, "fee_minor": 0}]}),
            "invalid_field",
            "time_zone",
        ),
    ];
    for (path, body, code, field) in refused {
        let r = put(&app, &path, &body).await;
        assert_eq!(r.status(), 422, "{body}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["code"], code, "{e}");
        assert_eq!(e["error"]["field"], field, "{e}");
    }
    let r = put(
        &app,
        "/v1/admin/warehouses/nowhere/zones",
        &json!({"zones": [{"country": "DE"}]}),
    )
    .await;
    assert_eq!(r.status(), 404);
    let r = app
        .http
        .put(app.url(&zones))
        .bearer_auth(OTHER_TOKEN.to_owned() + "x")
        .json(&json!({"zones": [{"country": "DE"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(app.table_counts().await, before, "refusals wrote nothing");

    delivering(&app, 20, 399).await;
    let all = all_slots(&app).await;
    // Two windows a day for three days, less today's that are over.
    assert!((4..=6).contains(&all.len()), "{all:?}");
    for s in &all {
        assert!(
            ["08:00", "18:00"].contains(&s["start"].as_str().unwrap()),
            "{s}"
        );
        assert_eq!(s["capacity"], 20);
        assert_eq!(s["fee_minor"], 399);
        assert_eq!(s["currency"], "EUR");
        assert_eq!(s["state"], "available");
    }
    // Local 08:00 in Berlin is 07:00 or 06:00 UTC, by season.
    let morning = all.iter().find(|s| s["start"] == "08:00").unwrap();
    let utc = morning["starts_at"].as_str().unwrap();
    assert!(
        utc.contains("T07:00:00") || utc.contains("T06:00:00"),
        "{utc}"
    );

    // Putting the template again replaces unheld slots; materialising again adds nothing.
    let again = put(&app, &template, &every_day(20, 399)).await;
    assert_eq!(again.status(), 200);
    assert_eq!(all_slots(&app).await.len(), all.len());
    assert_eq!(
        regional_core::delivery::admin::materialise_all(&app.state)
            .await
            .unwrap(),
        0
    );
    // Another storefront sees none of them.
    let theirs: Value = app
        .http
        .get(app.url("/v1/admin/slots"))
        .bearer_auth(OTHER_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["slots"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkouts_book_a_slot_never_beyond_its_capacity_and_release_it() {
    let app = spawn_app(Options::default()).await;
    let loaf = sku();
    app.seed(&loaf, 250, 100).await;
    let slot_id = delivering(&app, 3, 499).await;

    // Without a slot, a storefront with a template refuses the checkout.
    let before = app.table_counts().await;
    let r = app
        .checkout(&key(), &checkout_body("DE", "EUR", &loaf, 1, "tok_approve"))
        .await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "slot_required");
    // Outside the warehouse's zones, or an unknown slot: refused, nothing written.
    let mut paris = with_slot(
        checkout_body("FR", "EUR", &loaf, 1, "tok_approve"),
        &slot_id,
    );
    paris["shopper"]["address"]["postal_code"] = json!("69001");
    let r = app.checkout(&key(), &paris).await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "slot_not_delivering_here"
    );
    let unknown = with_slot(
        checkout_body("DE", "EUR", &loaf, 1, "tok_approve"),
        &uuid::Uuid::new_v4().to_string(),
    );
    assert_eq!(app.checkout(&key(), &unknown).await.status(), 422);
    assert_eq!(app.table_counts().await, before, "refusals wrote nothing");

    // Ten checkouts race for three places.
    let mut racing = Vec::new();
    for _ in 0..10 {
        let body = with_slot(
            checkout_body("DE", "EUR", &loaf, 1, "tok_approve"),
            &slot_id,
        );
        let app_http = app.http.clone();
        let url = app.url("/v1/checkouts");
        racing.push(tokio::spawn(async move {
            let r = app_http
                .post(url)
                .header("Idempotency-Key", key())
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }));
    }
    let mut confirmed = Vec::new();
    for task in racing {
        let (status, body) = task.await.unwrap();
        match status {
            201 => confirmed.push(body),
            409 => assert_eq!(body["error"]["code"], "slot_full", "{body}"),
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(confirmed.len(), 3);
    let s = slot(&app, &slot_id).await;
    assert_eq!(
        (s["booked"].as_i64(), s["state"].as_str()),
        (Some(3), Some("full"))
    );
    // The fee is charged with the goods and the order shows its slot.
    let order = &confirmed[0];
    assert_eq!(order["delivery_fee_minor"], 499);
    assert_eq!(order["total_minor"], 250 + 499);
    let auths = app.psp_authorizations().await;
    assert!(
        auths
            .iter()
            .all(|a| a["authorization"]["amount_minor"] == 749),
        "{auths:?}"
    );
    let id = order["order_id"].as_str().unwrap();
    let view: Value = app
        .http
        .get(app.url(&format!("/v1/orders/{id}")))
        .bearer_auth(order["order_access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["slot"]["id"], slot_id);
    assert_eq!(view["slot"]["date"], s["date"]);
    assert_eq!(view["slot"]["start"], s["start"]);
    assert_eq!(view["delivery_fee_minor"], 499);

    // The merchant cannot cut capacity below what is booked.
    let patch = |body: Value| {
        app.http
            .patch(app.url(&format!("/v1/admin/slots/{slot_id}")))
            .bearer_auth(GROCER_TOKEN)
            .json(&body)
            .send()
    };
    let r = patch(json!({"capacity": 2})).await.unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "capacity_below_booked"
    );

    // Cancelling gives the place back; a declined payment takes none.
    let r = app
        .http
        .post(app.url(&format!("/v1/orders/{id}/cancel")))
        .bearer_auth(order["order_access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(slot(&app, &slot_id).await["booked"], 2);
    let declined = with_slot(
        checkout_body("DE", "EUR", &loaf, 1, "tok_decline"),
        &slot_id,
    );
    assert_eq!(app.checkout(&key(), &declined).await.status(), 402);
    assert_eq!(slot(&app, &slot_id).await["booked"], 2);
    // Closed: full to shoppers whatever its count.
    let r = patch(json!({"closed": true, "capacity": 10}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let closed = with_slot(
        checkout_body("DE", "EUR", &loaf, 1, "tok_approve"),
        &slot_id,
    );
    let r = app.checkout(&key(), &closed).await;
    assert_eq!(r.status(), 409);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "slot_full"
    );
    let (on_hand, reserved) = app.stock_row(&loaf).await;
    assert_eq!(
        (on_hand, reserved),
        (100, 2),
        "only the two live orders hold stock"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slot_held_before_the_cart_is_kept_by_checkout_or_released_when_it_expires() {
    let app = spawn_app(Options::default()).await;
    let loaf = sku();
    app.seed(&loaf, 250, 10).await;
    let slot_id = delivering(&app, 2, 0).await;
    let hold = |replaces: Option<String>| {
        let body = json!({"storefront": "grocer", "slot_id": slot_id, "country": "DE",
                          "postal_code": "10115", "replaces": replaces});
        app.http.post(app.url("/v1/slot-holds")).json(&body).send()
    };
    let r = hold(None).await.unwrap();
    assert_eq!(r.status(), 201);
    let first: Value = r.json().await.unwrap();
    let r = hold(None).await.unwrap();
    assert_eq!(r.status(), 201);
    let second: Value = r.json().await.unwrap();
    assert_eq!(slot(&app, &slot_id).await["booked"], 2);
    // Full now for anyone without a hold.
    let r = hold(None).await.unwrap();
    assert_eq!(r.status(), 409);
    let walk_in = with_slot(
        checkout_body("DE", "EUR", &loaf, 1, "tok_approve"),
        &slot_id,
    );
    assert_eq!(app.checkout(&key(), &walk_in).await.status(), 409);

    // The first holder checks out with their hold: no new place is taken.
    let mut body = with_slot(
        checkout_body("DE", "EUR", &loaf, 1, "tok_approve"),
        &slot_id,
    );
    body["delivery"]["hold_token"] = first["hold_token"].clone();
    let r = app.checkout(&key(), &body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_eq!(slot(&app, &slot_id).await["booked"], 2);

    // The second hold expires: its place comes back; the order's never expires.
    let client = app.db.get().await.unwrap();
    client
        .execute(
            "UPDATE slot_holds SET expires_at = now() - interval '1 second' WHERE order_id IS NULL",
            &[],
        )
        .await
        .unwrap();
    let released = regional_core::delivery::booking::expire_holds(&app.state)
        .await
        .unwrap();
    assert_eq!(released, 1);
    assert_eq!(slot(&app, &slot_id).await["booked"], 1);
    // An expired hold's token books afresh at checkout when there is room.
    let mut late = with_slot(
        checkout_body("DE", "EUR", &loaf, 1, "tok_approve"),
        &slot_id,
    );
    late["delivery"]["hold_token"] = second["hold_token"].clone();
    assert_eq!(app.checkout(&key(), &late).await.status(), 201);
    assert_eq!(slot(&app, &slot_id).await["booked"], 2);

    // Replacing a hold releases the one it replaces.
    let other_slot = slots(&app).await[1]["id"].as_str().unwrap().to_owned();
    let r = app
        .http
        .post(app.url("/v1/slot-holds"))
        .json(&json!({"storefront": "grocer", "slot_id": other_slot, "country": "DE"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let held: Value = r.json().await.unwrap();
    let third_slot = slots(&app).await[2]["id"].as_str().unwrap().to_owned();
    let r = app
        .http
        .post(app.url("/v1/slot-holds"))
        .json(
            &json!({"storefront": "grocer", "slot_id": third_slot, "country": "DE",
                      "replaces": held["hold_token"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(slot(&app, &other_slot).await["booked"], 0);
    assert_eq!(slot(&app, &third_slot).await["booked"], 1);
    // Bad holds: a foreign country, a malformed postal code, a slot of nowhere.
    for (body, status) in [
        (
            json!({"storefront": "grocer", "slot_id": third_slot, "country": "US"}),
            421,
        ),
        (
            json!({"storefront": "grocer", "slot_id": third_slot, "country": "DE", "postal_code": "??"}),
            422,
        ),
        (
            json!({"storefront": "grocer", "slot_id": "x", "country": "DE"}),
            422,
        ),
        (
            json!({"storefront": "other", "slot_id": third_slot, "country": "DE"}),
            422,
        ),
    ] {
        let r = app
            .http
            .post(app.url("/v1/slot-holds"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_publishes_slot_states_without_personal_data() {
    let app = spawn_app(Options {
        redis: true,
        ..Options::default()
    })
    .await;
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let mut redis = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .expect("Redis is not reachable: start it (scripts/test does)");
    let loaf = sku();
    app.seed(&loaf, 250, 10).await;
    let slot_id = delivering(&app, 1, 0).await;
    let key_name = projections::keys::delivery(&app.region, "grocer");
    let state_of = |delivery: &Value| {
        delivery["warehouses"][0]["slots"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == slot_id)
            .map(|s| s["state"].clone())
    };
    let wait_for = |want: &'static str| {
        let key_name = key_name.clone();
        let mut redis = redis.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let bytes: Option<Vec<u8>> = redis::cmd("GET")
                    .arg(&key_name)
                    .query_async(&mut redis)
                    .await
                    .unwrap();
                let value: Option<Value> = bytes.map(|b| serde_json::from_slice(&b).unwrap());
                if let Some(v) = value
                    .as_ref()
                    .filter(|v| state_of(v).is_some_and(|s| s == want))
                {
                    return v.clone();
                }
                assert!(
                    Instant::now() < deadline,
                    "slot never became {want}: {value:?}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    let published = wait_for("few_left").await;
    assert_eq!(published["currency"], "EUR");
    assert_eq!(published["warehouses"][0]["zones"][0]["country"], "DE");
    let body = with_slot(
        checkout_body("DE", "EUR", &loaf, 1, "tok_approve"),
        &slot_id,
    );
    assert_eq!(app.checkout(&key(), &body).await.status(), 201);
    let full = wait_for("full").await;
    let text = full.to_string();
    assert!(
        !text.contains("ada@example.org") && !text.contains("Lovelace"),
        "{text}"
    );
    redis::cmd("DEL")
        .arg(&key_name)
        .query_async::<()>(&mut redis)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopper_is_reminded_of_their_slot_the_day_before_once() {
    let app = spawn_app(Options {
        mail: true,
        ..Options::default()
    })
    .await;
    let loaf = sku();
    app.seed(&loaf, 250, 10).await;
    // Two windows a day: the first coming slot starts within a day.
    let slot_id = delivering(&app, 5, 0).await;
    let mut body = with_slot(
        checkout_body("DE", "EUR", &loaf, 1, "tok_approve"),
        &slot_id,
    );
    body["shopper"]["email"] = json!("remind-me@example.org");
    let r = app.checkout(&key(), &body).await;
    assert_eq!(r.status(), 201);
    let order: Value = r.json().await.unwrap();
    let id: uuid::Uuid = order["order_id"].as_str().unwrap().parse().unwrap();
    let reminders = || regional_core::delivery::booking::queue_reminders(&app.state);
    assert_eq!(
        reminders().await.unwrap(),
        0,
        "placed within the day: no reminder"
    );
    let client = app.db.get().await.unwrap();
    client
        .execute(
            "UPDATE orders SET created_at = now() - interval '3 days' WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(reminders().await.unwrap(), 1);
    assert_eq!(reminders().await.unwrap(), 0, "once per order");
    let mail = app
        .mailbox
        .as_ref()
        .unwrap()
        .wait_for("remind-me@example.org", "A reminder")
        .await;
    let s = slot(&app, &slot_id).await;
    assert!(mail.contains(s["start"].as_str().unwrap()), "{mail}");
}
