//! A grocery order from slot to doorstep, at the edge: a merchant's template at a core
//! becomes slots on the storefront's checkout page (by day, with fees); the shopper books
//! one with "substitute if unavailable" ticked; the merchant picks with one substitute and
//! one missing line, packs (the picked total is captured), sends it out and delivers it; the
//! shopper sees each step on the order page and in their e-mail (read from the core's SMTP
//! receiver); a slot that fills shows as full to the next shopper. On the Corner Shop in
//! us-east, so the other walks' storefronts keep checking out without slots.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::*;

/// How many places of `slot` at `core` are held or booked.
async fn booked_of(core: &Core, slot: &str) -> i64 {
    corner_slots(core)
        .await
        .iter()
        .find(|s| s["id"] == slot)
        .and_then(|s| s["booked"].as_i64())
        .unwrap()
}

/// The picking app moves order `id` at `core` to `to`; answers the order.
async fn step(http: &reqwest::Client, core: &Core, id: &str, to: &str) -> serde_json::Value {
    let r = http
        .post(format!("{}/v1/admin/orders/{id}/status", core.url))
        .bearer_auth(CORNER_TOKEN)
        .json(&json!({ "status": to }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{to}: {}", r.text().await.unwrap());
    r.json().await.unwrap()
}

/// The picking app picks order `id` with `picks` and packs it; answers the packed order.
async fn pick_and_pack(
    http: &reqwest::Client,
    core: &Core,
    id: &str,
    picks: &serde_json::Value,
) -> serde_json::Value {
    step(http, core, id, "picking").await;
    let r = http
        .put(format!("{}/v1/admin/orders/{id}/picks", core.url))
        .bearer_auth(CORNER_TOKEN)
        .json(picks)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    step(http, core, id, "packed").await
}

/// A core's SMTP receiver.
struct Mail {
    dir: std::path::PathBuf,
}

impl Mail {
    fn of(core: &Core) -> Self {
        Self {
            dir: core.mailbox.clone(),
        }
    }

    /// Waits up to 20 s for a message to `to` holding `needle`.
    async fn wait_for(&self, to: &str, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let found = regional_core::audit::maildir_messages(&self.dir)
                .unwrap_or_default()
                .into_iter()
                .map(|m| String::from_utf8_lossy(&m).into_owned())
                .find(|m| m.contains(&format!("To: {to}")) && m.contains(needle));
            if let Some(m) = found {
                return m;
            }
            assert!(Instant::now() < deadline, "no mail to {to} with {needle:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The first slot of a checkout page that is not full.
fn open_slot(page: &str) -> Option<String> {
    regional_core::audit::first_open_slot(page)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grocery_order_goes_from_slot_to_doorstep_with_a_substitute_and_a_missing_line() {
    let world = world();
    let us = world.core("us-east");
    let sku = "SLOT-APPLE";
    let (pear, quince) = ("SLOT-PEAR", "SLOT-QUINCE");
    for (s, title, price) in [
        (sku, "Slot apples", 199),
        (pear, "Slot pears", 249),
        (quince, "Slot quinces", 229),
    ] {
        let p = product(s, title, "produce", price, &["fruit"]);
        seed_as(us, CORNER_TOKEN, &p, 20, "us-nj-1").await;
    }
    let http = reqwest::Client::new();
    let r = http
        .put(format!("{}/v1/admin/fulfilment-settings", us.url))
        .bearer_auth(CORNER_TOKEN)
        .json(&json!({"substitutes_by_default": true, "substitution_margin_bp": 1000}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    corner_delivers(
        us,
        "us-nj-1",
        "US",
        "America/New_York",
        &[("09:00", "11:00", 5, 599), ("17:00", "19:00", 5, 0)],
    )
    .await;
    // The aisle is rebuilt with the storefront's pricing rules: the edge then quotes as
    // the core prices.
    until_published(
        &format!("{}/c/produce", world.edge),
        &[("x-meridian-country", "US"), ("host", "corner.localhost")],
        "Slot apples",
    )
    .await;

    let shopper = Shopper::new(&world.edge, "US").on_host("corner.localhost");
    let (_, page) = shopper.get(&format!("/p/{sku}")).await;
    let csrf = hidden(&page, "csrf");
    for (s, quantity) in [(sku, "2"), (pear, "1")] {
        let form = [("sku", s), ("quantity", quantity), ("csrf", &csrf)];
        let (status, _, _) = shopper.post("/cart/add", &form).await;
        assert_eq!(status, 303);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let form = loop {
        let (status, form) = shopper.get("/checkout").await;
        assert_eq!(status, 200, "{form}");
        if form.contains("Delivery slot") {
            break form;
        }
        assert!(
            Instant::now() < deadline,
            "no slots on the checkout page: {form}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        form.contains("5.99 USD") && form.contains("free"),
        "fees: {form}"
    );
    // "Substitute if unavailable" is offered per line, ticked.
    for s in [sku, pear] {
        assert!(
            form.contains(&format!("value=\"{s}\" checked")),
            "{s}: {form}"
        );
    }
    let slot = open_slot(&form).expect("an open slot");
    // The shopper holds the slot first, on the delivery page (as before filling a cart);
    // checkout then has it chosen, and keeps the hold rather than taking a second place.
    let (status, page) = shopper.get("/delivery").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(&format!("value=\"{slot}\"")), "{page}");
    let (status, held, page) = shopper
        .post(
            "/delivery",
            &[("csrf", &csrf), ("slot_id", &slot), ("postal_code", "")],
        )
        .await;
    assert_eq!(status, 303, "{page}");
    let (_, page) = shopper.get(&held.unwrap()).await;
    assert!(page.contains("Held for you"), "{page}");
    let (_, form) = shopper.get("/checkout").await;
    assert!(
        form.contains(&format!("value=\"{slot}\" checked")),
        "the held slot is chosen: {form}"
    );
    let attempt = hidden(&form, "attempt");
    let mut fields = vec![
        ("csrf", csrf.clone()),
        ("attempt", attempt),
        ("name", "Sam Slotter".to_owned()),
        ("email", "slot-walk@shopper.invalid".to_owned()),
        ("line1", "5 Orchard Road".to_owned()),
        ("city", "Newark".to_owned()),
        ("postal_code", "07102".to_owned()),
        ("country", "US".to_owned()),
        ("token", "tok_approve".to_owned()),
        ("choices", "1".to_owned()),
        ("substitute", sku.to_owned()),
        ("substitute", pear.to_owned()),
    ];
    // Without a slot: refused next to the slot list, nothing placed.
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, page) = shopper.post("/checkout", &borrowed).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("id=\"slot_id-error\""), "{page}");
    fields.push(("slot_id", slot.clone()));
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, location, page) = shopper.post("/checkout", &borrowed).await;
    assert_eq!(status, 303, "{page}");
    let location = location.unwrap();
    let (_, order) = shopper.get(&location).await;
    assert!(order.contains("class=\"delivery\""), "{order}");
    assert!(order.contains("Delivery: "), "{order}");
    let id = location
        .trim_start_matches("/orders/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let booked = booked_of(us, &slot).await;
    assert_eq!(booked, 1, "the hold became the order's place");
    let mail = Mail::of(us);
    mail.wait_for("slot-walk@shopper.invalid", "is confirmed")
        .await;

    // The picking app: one apple of two found (no substitute), the pear replaced by a quince.
    let picks = json!({"lines": [
        {"sku": sku, "picked": 1},
        {"sku": pear, "picked": 0, "substitute": {"sku": quince, "quantity": 1}},
    ]});
    let packed = pick_and_pack(&http, us, &id, &picks).await;
    let captured = packed["captured_minor"].as_i64().unwrap();
    assert_eq!(captured, packed["total_minor"].as_i64().unwrap());
    let goods: i64 = packed["packed_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line_total_minor"].as_i64().unwrap() + l["tax_minor"].as_i64().unwrap())
        .sum();
    assert_eq!(
        captured,
        goods + packed["delivery_fee_minor"].as_i64().unwrap()
    );
    let psp: serde_json::Value = http
        .get(format!("{}/v1/authorizations", world.psp))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let capture = psp["authorizations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["authorization"]["captured_minor"] == captured)
        .expect("the PSP captured the picked total");
    assert!(capture["authorization"]["amount_minor"].as_i64().unwrap() > captured);
    let changes = mail
        .wait_for("slot-walk@shopper.invalid", "Changes to your order")
        .await;
    assert!(
        changes.contains(&format!("{pear}: not available; 1 x {quince} instead")),
        "{changes}"
    );
    let (_, order) = shopper.get(&location).await;
    assert!(order.contains("data-status=\"packed\""), "{order}");
    assert!(order.contains("Changes from picking"), "{order}");
    assert!(order.contains(&format!("{sku}: 1 of 2 found")), "{order}");
    for (to, subject, shows) in [
        ("out_for_delivery", "is out for delivery", "on its way"),
        ("delivered", "was delivered", "Delivered."),
    ] {
        step(&http, us, &id, to).await;
        mail.wait_for("slot-walk@shopper.invalid", subject).await;
        let (_, order) = shopper.get(&location).await;
        assert!(order.contains(shows), "{order}");
    }

    // The same shopper's part in Chromium, with and without JavaScript: hold a slot on the
    // delivery page, fill the cart, check out with substitutes allowed; after picking, the
    // order page shows what changed and what was charged.
    let port = world.edge.rsplit(':').next().unwrap();
    let corner = format!("http://corner.localhost:{port}");
    for mode in ["nojs", "js"] {
        let email = format!("chromium-{mode}@shopper.invalid");
        let args = [&corner, mode, "buy", &email, sku, pear].map(str::to_owned);
        let out = tokio::task::spawn_blocking(move || {
            crate::browser::node("fulfilment.mjs", &args.each_ref().map(String::as_str))
        })
        .await
        .unwrap();
        let bought: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        let order = bought["order"].as_str().unwrap().to_owned();
        let id = order
            .trim_start_matches("/orders/")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let packed = pick_and_pack(&http, us, &id, &picks).await;
        for to in ["out_for_delivery", "delivered"] {
            step(&http, us, &id, to).await;
        }
        mail.wait_for(&email, "Changes to your order").await;
        mail.wait_for(&email, "was delivered").await;
        let args = [&corner, mode, "read", &order].map(str::to_owned);
        let out = tokio::task::spawn_blocking(move || {
            crate::browser::node("fulfilment.mjs", &args.each_ref().map(String::as_str))
        })
        .await
        .unwrap();
        let text = serde_json::from_str::<serde_json::Value>(out.trim()).unwrap()["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(text.contains("Delivered."), "{mode}: {text}");
        assert!(
            text.contains(&format!("{sku}: 1 of 2 found")),
            "{mode}: {text}"
        );
        assert!(
            text.contains(&format!("{pear}: not available; 1 × {quince} instead")),
            "{mode}: {text}"
        );
        assert_eq!(packed["captured_minor"], packed["total_minor"], "{packed}");
        let charged = packed["captured_minor"].as_i64().unwrap();
        assert!(
            text.contains(&format!("{}.{:02} USD", charged / 100, charged % 100)),
            "{mode}: {text}"
        );
    }

    // A line the slot's warehouse cannot fill is named before payment, with the choice to
    // order anyway when the shopper allowed it a substitute.
    let figs = "SLOT-FIGS";
    let p = product(figs, "Slot figs", "produce", 450, &["fruit"]);
    seed_as(us, CORNER_TOKEN, &p, 1, "us-nj-1").await;
    until_published(
        &format!("{}/p/{figs}", world.edge),
        &[("x-meridian-country", "US"), ("host", "corner.localhost")],
        "Only 1 left",
    )
    .await;
    let short = Shopper::new(&world.edge, "US").on_host("corner.localhost");
    let (_, page) = short.get(&format!("/p/{figs}")).await;
    let csrf = hidden(&page, "csrf");
    let form = [("sku", figs), ("quantity", "3"), ("csrf", csrf.as_str())];
    assert_eq!(short.post("/cart/add", &form).await.0, 303);
    let (_, form) = short.get("/checkout").await;
    let slot_now = open_slot(&form).unwrap();
    let mut fields = vec![
        ("csrf", csrf.clone()),
        ("attempt", hidden(&form, "attempt")),
        ("name", "Fig Fancier".to_owned()),
        ("email", "fig-walk@shopper.invalid".to_owned()),
        ("line1", "7 Orchard Road".to_owned()),
        ("city", "Newark".to_owned()),
        ("postal_code", "07102".to_owned()),
        ("country", "US".to_owned()),
        ("token", "tok_approve".to_owned()),
        ("slot_id", slot_now),
        ("choices", "1".to_owned()),
        ("substitute", figs.to_owned()),
    ];
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, page) = short.post("/checkout", &borrowed).await;
    assert_eq!(status, 409, "{page}");
    assert!(
        page.contains(&format!("{figs} (you asked for 3, 1 can be delivered)")),
        "{page}"
    );
    assert!(
        page.contains("Order anyway: substitute what is missing"),
        "{page}"
    );
    fields[1].1 = hidden(&page, "attempt");
    fields.push(("allow_short", "1".to_owned()));
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, location, page) = short.post("/checkout", &borrowed).await;
    assert_eq!(status, 303, "{page}");
    assert!(location.unwrap().starts_with("/orders/"));

    // The merchant fills the slot to its bookings; the next shopper sees it full.
    let booked = booked_of(us, &slot).await;
    let r = http
        .patch(format!("{}/v1/admin/slots/{slot}", us.url))
        .bearer_auth(CORNER_TOKEN)
        .json(&json!({ "capacity": booked }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let next = Shopper::new(&world.edge, "US").on_host("corner.localhost");
    let (_, page) = next.get(&format!("/p/{sku}")).await;
    let csrf = hidden(&page, "csrf");
    next.post(
        "/cart/add",
        &[("sku", sku), ("quantity", "1"), ("csrf", &csrf)],
    )
    .await;
    let marker = format!("value=\"{slot}\"");
    loop {
        let (_, form) = next.get("/checkout").await;
        let tag = form
            .split(&marker)
            .nth(1)
            .and_then(|rest| rest.split('>').next())
            .unwrap_or_default()
            .to_owned();
        if tag.contains("disabled") {
            assert_ne!(open_slot(&form).as_deref(), Some(slot.as_str()));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the slot never showed as full: {form}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
