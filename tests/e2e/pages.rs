//! Render tests of the storefront's pages through the edge node, for two regions.

use crate::harness::*;

async fn catalogue() -> &'static World {
    static SEEDED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    let world = world();
    SEEDED.get_or_init(|| seed_catalogue(world)).await;
    world
}

async fn seed_catalogue(world: &'static World) {
    for region in ["eu-west", "us-east"] {
        let core = world.core(region);
        let warehouse = if region == "eu-west" {
            "de-fra-1"
        } else {
            "us-nj-1"
        };
        seed(
            core,
            &product("MILK-PG", "Whole milk", "dairy", 129, &["milk"]),
            3,
            warehouse,
        )
        .await;
        // Two organic dairy products: the aisle's "organic" filter.
        for (sku, title, tags) in [
            ("MILK-ORG", "Organic whole milk", ["milk", "organic"]),
            ("YOG-ORG", "Organic yoghurt", ["yoghurt", "organic"]),
        ] {
            seed(
                core,
                &product(sku, title, "dairy", 199, &tags),
                10,
                warehouse,
            )
            .await;
        }
        // Apples arrive, then all go bad: out of stock, as a hint the edge knows.
        let apples = product("APPLE-PG", "Crisp apples", "produce", 250, &["fruit"]);
        seed(core, &apples, 2, warehouse).await;
        seed(core, &apples, -2, warehouse).await;
    }
    until_published(
        &format!("{}/p/MILK-PG", world.edge),
        &[("x-meridian-country", "DE")],
        "Only 3 left",
    )
    .await;
    until_published(
        &format!("{}/p/MILK-PG", world.edge),
        &[("x-meridian-country", "US")],
        "Only 3 left",
    )
    .await;
    until_published(
        &format!("{}/c/dairy", world.edge),
        &[("x-meridian-country", "DE")],
        "organic (2)",
    )
    .await;
    until_published(
        &format!("{}/p/APPLE-PG", world.edge),
        &[("x-meridian-country", "US")],
        "Out of stock",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prices_show_each_regions_currency_and_tax_rule() {
    let world = catalogue().await;
    let (status, de) = Shopper::new(&world.edge, "DE").get("/p/MILK-PG").await;
    assert_eq!(status, 200);
    assert!(de.contains("EUR") && de.contains("incl. VAT"), "{de}");
    assert!(de.contains("Only 3 left"), "{de}");
    let (status, us) = Shopper::new(&world.edge, "US").get("/p/MILK-PG").await;
    assert_eq!(status, 200);
    assert!(
        us.contains("1.29 USD") && us.contains("plus sales tax"),
        "{us}"
    );
    let (_, apples) = Shopper::new(&world.edge, "US").get("/p/APPLE-PG").await;
    assert!(apples.contains("Out of stock"), "{apples}");
    assert!(!apples.contains("Add to cart"), "{apples}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_search_and_empty_states() {
    let world = catalogue().await;
    let shopper = Shopper::new(&world.edge, "DE");
    let (status, dairy) = shopper.get("/c/dairy?sort=price").await;
    assert_eq!(status, 200);
    assert!(dairy.contains("href=\"/p/MILK-PG\""), "{dairy}");
    assert!(
        dairy.contains("aria-current=\"true\">Price: low to high"),
        "{dairy}"
    );
    let (status, _) = shopper.get("/c/dairy?sort=sideways").await;
    assert_eq!(status, 400);

    // The aisle's tag filters: counted over the whole aisle, applied with the sort kept.
    assert!(dairy.contains("aria-label=\"Filter by\""), "{dairy}");
    assert!(
        dairy.contains("href=\"/c/dairy?sort=price&amp;tag=organic\">organic (2)"),
        "{dairy}"
    );
    let (status, organic) = shopper.get("/c/dairy?sort=price&tag=Organic").await;
    assert_eq!(status, 200);
    assert!(organic.contains("2 products tagged “organic”"), "{organic}");
    assert!(organic.contains("href=\"/p/MILK-ORG\"") && organic.contains("href=\"/p/YOG-ORG\""));
    assert!(!organic.contains("href=\"/p/MILK-PG\""), "{organic}");
    assert!(
        organic.contains("href=\"/c/dairy?sort=name&amp;tag=organic\""),
        "the sort links keep the filter: {organic}"
    );
    assert!(
        organic.contains("aria-current=\"true\">organic (2)"),
        "{organic}"
    );
    let (status, none) = shopper.get("/c/dairy?tag=vegan").await;
    assert_eq!(status, 200);
    assert!(
        none.contains("No product in this aisle carries that tag."),
        "{none}"
    );
    let long = "x".repeat(65);
    let (status, _) = shopper.get(&format!("/c/dairy?tag={long}")).await;
    assert_eq!(status, 400);
    let (status, empty) = shopper.get("/search?q=caviar").await;
    assert_eq!(status, 200);
    assert!(empty.contains("Nothing matches “caviar”"), "{empty}");
    let (status, hits) = shopper.get("/search?q=milk").await;
    assert_eq!(status, 200);
    assert!(hits.contains("<mark>milk</mark>"), "{hits}");
    assert!(hits.contains("dairy (2)"), "facet: {hits}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_pages_products_and_aisles_are_real_404s() {
    let world = catalogue().await;
    let shopper = Shopper::new(&world.edge, "DE");
    for path in [
        "/p/NO-SUCH-SKU",
        "/c/no-such-aisle",
        "/nowhere",
        "/orders/not-an-id?token=x",
    ] {
        let (status, page) = shopper.get(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(page.contains("<h1>Page not found</h1>"), "{path}: {page}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_the_csrf_token_change_nothing() {
    let world = catalogue().await;
    let shopper = Shopper::new(&world.edge, "DE");
    shopper.get("/").await;
    let (status, _, page) = shopper
        .post(
            "/cart/add",
            &[("sku", "MILK-PG"), ("quantity", "1"), ("csrf", "forged")],
        )
        .await;
    assert_eq!(status, 403, "{page}");
    let (_, cart) = shopper.get("/cart").await;
    assert!(cart.contains("Your cart is empty."), "{cart}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_region_page_explains_where_data_is_kept_and_a_choice_sticks() {
    let world = catalogue().await;
    let shopper = Shopper::new(&world.edge, "");
    let (status, page) = shopper.get("/region").await;
    assert_eq!(status, 200);
    let csrf = hidden(&page, "csrf");
    let (status, location, _) = shopper
        .post("/region", &[("country", "FR"), ("csrf", &csrf)])
        .await;
    assert_eq!((status, location.as_deref()), (303, Some("/region")));
    let (_, page) = shopper.get("/region").await;
    assert!(page.contains("eu-west"), "{page}");
    assert!(page.contains("GDPR"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_storefront_has_its_own_theme_and_product_card() {
    let world = catalogue().await;
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{}/", world.edge))
        .header("host", "corner.localhost")
        .header("x-meridian-country", "DE")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("THE CORNER SHOP"), "{page}");
    assert!(page.contains("--color-primary:#4b2bb3"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_form_post_answers_malformed_input_without_a_5xx_and_orders_nothing() {
    let world = catalogue().await;
    let eu = world.core("eu-west");
    // Other tests order concurrently: this one's forms carry strings of their own.
    let unique = uuid::Uuid::new_v4().simple().to_string();
    let email = format!("sweep-{unique}@example.org");
    let street = format!("{unique} rue du Four");
    let shopper = Shopper::new(&world.edge, "FR");
    // A session with a CSRF token and a cart, so posts reach their validation.
    let (_, page) = shopper.get("/p/MILK-PG").await;
    let csrf = hidden(&page, "csrf");
    let (status, _, _) = shopper
        .post(
            "/cart/add",
            &[("sku", "MILK-PG"), ("quantity", "1"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, 303);
    let huge = "x".repeat(100_000);
    let bodies: Vec<Vec<(&str, &str)>> = vec![
        vec![],
        vec![("csrf", &csrf)],
        vec![("csrf", &csrf), ("sku", "MILK-PG\0"), ("quantity", "1")],
        vec![
            ("csrf", &csrf),
            ("sku", "MILK-PG"),
            ("quantity", "99999999999"),
        ],
        vec![("csrf", &csrf), ("sku", "MILK-PG"), ("quantity", "-1")],
        vec![("csrf", &csrf), ("sku", "MILK-PG"), ("quantity", "1e3")],
        vec![("csrf", &csrf), ("sku", &huge), ("quantity", "1")],
        vec![("csrf", &csrf), ("code", "SPRING\0")],
        vec![("csrf", &csrf), ("code", &huge)],
        vec![("csrf", &csrf), ("country", "ZZ")],
        vec![("csrf", &csrf), ("country", "F\0")],
        vec![
            ("csrf", &csrf),
            ("attempt", "x"),
            ("name", "Ada\0Lovelace"),
            ("email", &email),
            ("line1", &street),
            ("city", "Lyon"),
            ("postal_code", "69001"),
            ("country", "FR"),
            ("token", "tok_approve"),
        ],
        vec![
            ("csrf", &csrf),
            ("name", &huge),
            ("email", &huge),
            ("line1", &huge),
            ("city", &huge),
            ("postal_code", &huge),
            ("country", &huge),
            ("token", &huge),
        ],
        vec![
            ("csrf", &csrf),
            ("name", "Ada\0Lovelace"),
            ("email", &email),
            ("password", "\0\0\0\0\0\0\0\0\0\0"),
            ("country", "FR"),
            ("accept_privacy_notice", "yes"),
        ],
        vec![
            ("csrf", &csrf),
            ("name", "Ada Lovelace"),
            ("email", &email),
            ("password", &huge),
            ("country", "FR"),
            ("accept_privacy_notice", "yes"),
        ],
        vec![
            ("csrf", &csrf),
            ("csrf", "second"),
            ("sku", "MILK-PG"),
            ("sku", "x"),
        ],
    ];
    let paths = [
        "/cart/add",
        "/cart/update",
        "/cart/remove",
        "/cart/promo",
        "/cart/nonsense",
        "/checkout",
        "/region",
        "/orders/123",
        "/account/sign-up",
        "/account/confirm",
        "/account/sign-in",
        "/account/addresses",
        "/account/addresses/123",
        "/account/details",
        "/account/password",
        "/account/reset",
        "/account/reset/confirm",
        "/account/erase",
        "/account/sign-out",
    ];
    let mut problems = Vec::new();
    let mut sent = 0;
    for path in paths {
        for body in &bodies {
            let (status, _, text) = shopper.post(path, body).await;
            sent += 1;
            if status >= 500 {
                problems.push(format!("POST {path} {body:.80?}: {status} {text:.200}"));
            }
        }
        // Raw bodies a browser would never send.
        for raw in [&b"%FF%FE=%00"[..], b"csrf", &[0xff, 0xfe, 0x00]] {
            let response = shopper
                .http
                .post(format!("{}{path}", world.edge))
                .header("x-meridian-country", "FR")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(raw.to_vec())
                .send()
                .await
                .unwrap();
            sent += 1;
            if response.status().is_server_error() {
                problems.push(format!("POST {path} raw: {}", response.status()));
            }
        }
        for method in [
            reqwest::Method::PUT,
            reqwest::Method::DELETE,
            reqwest::Method::PATCH,
        ] {
            let response = shopper
                .http
                .request(method.clone(), format!("{}{path}", world.edge))
                .send()
                .await
                .unwrap();
            sent += 1;
            if response.status().is_server_error() {
                problems.push(format!("{method} {path}: {}", response.status()));
            }
        }
    }
    assert!(sent > 150);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    for canary in [&email, &street] {
        assert_eq!(
            count_in_database(&eu.database_url, canary).await,
            0,
            "a malformed form made an order"
        );
    }
}

/// The account pages: a session is needed and must be the shopper's own; another shopper's
/// order or address is not found; forged cookies and missing CSRF tokens change nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_pages_are_the_shoppers_own() {
    let world = catalogue().await;
    let eu = world.core("eu-west");
    let unique = uuid::Uuid::new_v4().simple().to_string();
    // Not signed in: the account pages send the shopper to sign in.
    let guest = Shopper::new(&world.edge, "FR");
    for path in [
        "/account",
        "/account/addresses",
        "/account/privacy",
        "/account/export",
    ] {
        let (status, _) = guest.get(path).await;
        assert_eq!(status, 303, "{path}");
    }
    let (_, home) = guest.get("/").await;
    assert!(home.contains(">Sign in</a>"), "{home}");
    // Two shoppers sign up through the edge.
    let sign_up = async |name: &str| {
        let shopper = Shopper::new(&world.edge, "FR");
        let (_, page) = shopper.get("/account/sign-up").await;
        let csrf = hidden(&page, "csrf");
        let email = format!("{name}-{unique}@example.org");
        let form = [
            ("csrf", csrf.as_str()),
            ("name", name),
            ("email", &email),
            ("password", "a long enough password"),
            ("country", "FR"),
            ("accept_privacy_notice", "yes"),
        ];
        // Without the CSRF token: refused, nothing written.
        let (status, _, _) = shopper.post("/account/sign-up", &form[1..]).await;
        assert_eq!(status, 403);
        assert_eq!(count_in_database(&eu.database_url, &email).await, 0);
        let (status, _, page) = shopper.post("/account/sign-up", &form).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("Check your e-mail"), "{page}");
        let code = mailed_code(&eu.mailbox, &email).await;
        let confirm = [
            ("csrf", csrf.as_str()),
            ("email", &email),
            ("country", "FR"),
            ("code", &code),
        ];
        let (status, _, _) = shopper.post("/account/confirm", &confirm[1..]).await;
        assert_eq!(status, 403, "the CSRF token is needed here too");
        let (status, location, _) = shopper.post("/account/confirm", &confirm).await;
        assert_eq!((status, location.as_deref()), (303, Some("/account")));
        let (_, page) = shopper.get("/account/addresses").await;
        assert!(page.contains("Your addresses"), "{page}");
        let (status, _, _) = shopper
            .post(
                "/account/addresses",
                &[
                    ("csrf", &csrf),
                    ("name", name),
                    ("line1", "1 rue du Four"),
                    ("city", "Lyon"),
                    ("postal_code", "69001"),
                    ("country", "FR"),
                ],
            )
            .await;
        assert_eq!(status, 303);
        (shopper, csrf)
    };
    let (ada, _) = sign_up("ada").await;
    let (eve, eve_csrf) = sign_up("eve").await;
    let (_, page) = ada.get("/account").await;
    assert!(
        page.contains(">Your account</a>") && page.contains("No orders yet."),
        "{page}"
    );
    // Eve tries Ada's address by its id (read from Ada's page).
    let (_, ada_addresses) = ada.get("/account/addresses").await;
    let id = ada_addresses
        .split("href=\"/account/addresses/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let (status, _) = eve.get(&format!("/account/addresses/{id}")).await;
    assert_eq!(status, 404);
    let (status, _, _) = eve
        .post(
            &format!("/account/addresses/{id}/remove"),
            &[("csrf", &eve_csrf)],
        )
        .await;
    assert_eq!(status, 404);
    let (_, still) = ada.get("/account/addresses").await;
    assert!(still.contains(&id), "Ada's address is still there");
    // An order of nobody, by id: not found.
    let (status, _) = eve
        .get("/account/orders/00000000-0000-4000-8000-000000000000")
        .await;
    assert_eq!(status, 404);
    // Ada renames herself and changes her password from the account pages.
    let (_, page) = ada.get("/account/details").await;
    let csrf = hidden(&page, "csrf");
    assert!(page.contains("value=\"ada\""), "{page}");
    let ada_email = format!("ada-{unique}@example.org");
    let (status, location, _) = ada
        .post(
            "/account/details",
            &[("csrf", &csrf), ("name", "Ada King"), ("email", &ada_email)],
        )
        .await;
    assert_eq!((status, location.as_deref()), (303, Some("/account")));
    let (_, page) = ada.get("/account").await;
    assert!(page.contains("Ada King"), "{page}");
    let (status, _, page) = ada
        .post(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", "not my password"),
                ("new_password", "an even longer password"),
            ],
        )
        .await;
    assert_eq!(status, 403);
    assert!(page.contains("The password is wrong."), "{page}");
    let (status, location, _) = ada
        .post(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", "a long enough password"),
                ("new_password", "an even longer password"),
            ],
        )
        .await;
    assert_eq!((status, location.as_deref()), (303, Some("/account")));
    let again = Shopper::new(&world.edge, "FR");
    let (_, page) = again.get("/account/sign-in").await;
    let csrf = hidden(&page, "csrf");
    let (status, location, _) = again
        .post(
            "/account/sign-in",
            &[
                ("csrf", &csrf),
                ("email", &ada_email),
                ("password", "an even longer password"),
                ("country", "FR"),
            ],
        )
        .await;
    assert_eq!((status, location.as_deref()), (303, Some("/account")));

    // She forgets it: a code mailed by eu-west sets a new one through the edge.
    let forgot = Shopper::new(&world.edge, "FR");
    let (_, page) = forgot.get("/account/sign-in").await;
    assert!(page.contains("href=\"/account/reset\""), "{page}");
    let (_, page) = forgot.get("/account/reset").await;
    let csrf = hidden(&page, "csrf");
    let (status, _, page) = forgot
        .post(
            "/account/reset",
            &[("csrf", &csrf), ("email", &ada_email), ("country", "FR")],
        )
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("Choose a new password"), "{page}");
    let code = {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let found = regional_core::audit::maildir_messages(&eu.mailbox)
                .unwrap_or_default()
                .into_iter()
                .map(|m| String::from_utf8_lossy(&m).into_owned())
                .find(|m| {
                    m.contains(&format!("To: {ada_email}"))
                        && m.contains("Your password reset code: ")
                })
                .map(|m| {
                    let start = m.find("Your password reset code: ").unwrap() + 26;
                    m[start..start + 9].to_owned()
                });
            if let Some(code) = found {
                break code;
            }
            assert!(std::time::Instant::now() < deadline, "no reset code");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    };
    let (status, location, _) = forgot
        .post(
            "/account/reset/confirm",
            &[
                ("csrf", &csrf),
                ("email", &ada_email),
                ("country", "FR"),
                ("code", &code),
                ("new_password", "the newest password of all"),
            ],
        )
        .await;
    assert_eq!((status, location.as_deref()), (303, Some("/account")));
    let (status, _) = again.get("/account").await;
    assert_eq!(status, 303, "the reset ended her other sessions");

    // A forged session cookie is no session: the shopper is asked to sign in.
    let forger = Shopper::new(&world.edge, "FR");
    let forged = format!(
        "meridian_session=eu-west.{}.{}",
        "ab".repeat(32),
        "cd".repeat(32)
    );
    let response = forger
        .http
        .get(format!("{}/account", world.edge))
        .header("cookie", forged)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/account/sign-in");
}

/// Every page carries the security headers; the one inline stylesheet is allowed by a nonce
/// that changes with every response, and no script is allowed at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_carries_the_security_headers() {
    let world = catalogue().await;
    let http = reqwest::Client::new();
    let mut nonces = Vec::new();
    for path in [
        "/",
        "/c/dairy",
        "/p/MILK-PG",
        "/cart",
        "/region",
        "/no-such-page",
    ] {
        let response = http
            .get(format!("{}{path}", world.edge))
            .header("x-meridian-country", "DE")
            .send()
            .await
            .unwrap();
        let headers = response.headers().clone();
        let policy = headers["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        let page = response.text().await.unwrap();
        // Scripts only from the storefront itself: the one enhancement, no inline script.
        for part in [
            "script-src 'self';",
            "connect-src 'self';",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ] {
            assert!(policy.contains(part), "{path}: {policy}");
        }
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .and_then(|r| r.split('\'').next())
            .unwrap()
            .to_owned();
        assert!(
            page.contains(&format!("<style nonce=\"{nonce}\">")),
            "{path}: the stylesheet carries the policy's nonce"
        );
        // The one script is the storefront's own file; no inline script anywhere.
        assert_eq!(
            page.matches("<script").count(),
            page.matches(r#"<script src="/assets/add.js" defer>"#)
                .count(),
            "{path}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(
            headers["referrer-policy"], "strict-origin-when-cross-origin",
            "{path}"
        );
        // Served over plain HTTP here: no HSTS (it would be a lie).
        assert!(!headers.contains_key("strict-transport-security"), "{path}");
        nonces.push(nonce);
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 6, "a fresh nonce per response");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopper_adds_from_the_aisle_and_comes_back_to_it() {
    let world = catalogue().await;
    let shopper = Shopper::new(&world.edge, "DE");
    let (status, aisle) = shopper.get("/c/dairy?sort=name").await;
    assert_eq!(status, 200, "{aisle}");
    // Every priced card carries its own form.
    assert!(aisle.contains("id=\"qty-YOG-ORG\""), "{aisle}");
    let csrf = hidden(&aisle, "csrf");
    let form = [
        ("csrf", csrf.as_str()),
        ("sku", "YOG-ORG"),
        ("quantity", "2"),
        ("back", "/c/dairy?sort=name"),
    ];
    let (status, location, _) = shopper.post("/cart/add", &form).await;
    assert_eq!(status, 303);
    let location = location.unwrap();
    assert_eq!(location, "/c/dairy?sort=name&added=YOG-ORG");
    let (_, page) = shopper.get(&location).await;
    assert!(page.contains("Added to your cart."), "{page}");
    let (_, cart) = shopper.get("/cart").await;
    assert!(cart.contains("Organic yoghurt"), "{cart}");
    // Back only within the storefront: another site is the cart instead.
    let form = [
        ("csrf", csrf.as_str()),
        ("sku", "MILK-ORG"),
        ("quantity", "1"),
        ("back", "//evil.example/"),
    ];
    let (status, location, _) = shopper.post("/cart/add", &form).await;
    assert_eq!((status, location.as_deref()), (303, Some("/cart")));

    // The card's script asks for JSON: the same cart, answered in place; bad input is a 4xx
    // in the JSON error shape and adds nothing.
    let add = |form: Vec<(&'static str, String)>| {
        shopper
            .http
            .post(format!("{}/cart/add", world.edge))
            .header("x-meridian-country", "DE")
            .header("accept", "application/json")
            .form(&form)
            .send()
    };
    let r = add(vec![
        ("csrf", csrf.clone()),
        ("sku", "YOG-ORG".into()),
        ("quantity", "1".into()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let answer: serde_json::Value = r.json().await.unwrap();
    assert_eq!(answer["quantity"], 1);
    let units = answer["cart_units"].as_u64().unwrap();
    assert!(units >= 4, "2 + 1 + 1 before: {answer}");
    for (form, status, code) in [
        (
            vec![("sku", "YOG-ORG".to_owned()), ("quantity", "1".to_owned())],
            403,
            "csrf",
        ),
        (
            vec![
                ("csrf", csrf.clone()),
                ("sku", "YOG-ORG".into()),
                ("quantity", "lots".into()),
            ],
            422,
            "invalid_quantity",
        ),
        (
            vec![
                ("csrf", csrf.clone()),
                ("sku", "NO-SUCH-SKU".into()),
                ("quantity", "1".into()),
            ],
            422,
            "not_added",
        ),
        (
            vec![
                ("csrf", csrf.clone()),
                ("sku", "YOG-ORG".into()),
                ("quantity", "0".into()),
            ],
            422,
            "not_added",
        ),
    ] {
        let r = add(form).await.unwrap();
        assert_eq!(r.status(), status);
        let answer: serde_json::Value = r.json().await.unwrap();
        assert_eq!(answer["error"]["code"], code, "{answer}");
        assert!(answer["error"]["message"].is_string());
    }
    let r = add(vec![
        ("csrf", csrf.clone()),
        ("sku", "YOG-ORG".into()),
        ("quantity", "1".into()),
    ])
    .await
    .unwrap();
    let answer: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        answer["cart_units"].as_u64(),
        Some(units + 1),
        "refusals added nothing"
    );
}
