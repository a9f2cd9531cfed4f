//! Regions at run time: a new `regions.toml` reaches the pages without rebuilding the
//! storefront, and a node refuses a storefront view that is not its own.

use std::collections::BTreeMap;
use std::path::Path;

use meridian_telemetry::Telemetry;
use region_config::RegionConfig;
use region_config::storefront::{StorefrontView, VARIABLE};

use regional_core::audit::{self, Canary, Places};

use crate::harness::*;

fn root_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn six_regions() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e/six-regions.toml")
}

/// `spin.toml` with its per-region parts generated for `config` (`region-config
/// spin-manifest`), written under `target/` with its sources pointing back at the build.
fn six_region_manifest(config: &RegionConfig) -> std::path::PathBuf {
    let shipped = std::fs::read_to_string(root_path().join("spin.toml")).unwrap();
    let generated = region_config::spin_manifest::apply(&shipped, config).unwrap();
    assert!(
        generated.contains("quote_signing_key_me_central"),
        "{generated}"
    );
    let manifest = root_path().join(format!(
        "target/e2e-six-regions-{}.spin.toml",
        std::process::id()
    ));
    std::fs::write(
        &manifest,
        generated.replace("source = \"components/", "source = \"../components/"),
    )
    .unwrap();
    manifest
}

/// A shopper in Kuwait buys from the sixth region: the cores, the node and the storefront
/// read the new file, `spin.toml`'s per-region parts are generated from it
/// (`region-config spin-manifest`), prices show three decimals, and the order and the
/// shopper's details are stored by the me-central core only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopper_in_the_sixth_region_buys_in_kuwaiti_dinars() {
    let world = world();
    let six = six_regions();
    let config = RegionConfig::from_path(&six).unwrap();
    let me = start_core("me-central", &six, &world.psp, &world.otlp_url).await;
    // The manifest for six regions, beside the real one so its sources resolve.
    let shipped = std::fs::read_to_string(root_path().join("spin.toml")).unwrap();
    let generated = region_config::spin_manifest::apply(&shipped, &config).unwrap();
    assert!(
        generated.contains("quote_signing_key_me_central"),
        "{generated}"
    );
    let manifest = root_path().join("target/e2e-six-regions.spin.toml");
    std::fs::write(
        &manifest,
        generated.replace("source = \"components/", "source = \"../components/"),
    )
    .unwrap();
    let mut cores = BTreeMap::new();
    cores.insert("me-central".to_owned(), me);
    let edge = start_edge(&manifest, &cores, &six, &[], Telemetry::disabled()).unwrap();
    let me = &cores["me-central"];

    let mut loaf = product("BREAD-KWD", "Arabic flatbread", "bakery", 1, &["bread"]);
    loaf["prices"] = serde_json::json!({ "KWD": 1_250 });
    seed(me, &loaf, 10, "kw-kwi-1").await;
    let kuwait = [("x-meridian-country", "KW")];
    until_published(&format!("{edge}/p/BREAD-KWD"), &kuwait, "In stock").await;

    let shopper = Shopper::new(&edge, "KW");
    let (status, page) = shopper.get("/p/BREAD-KWD").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("1.250 KWD"), "three decimals: {page}");
    let csrf = hidden(&page, "csrf");
    let (status, _, body) = shopper
        .post(
            "/cart/add",
            &[("sku", "BREAD-KWD"), ("quantity", "2"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, 303, "{body}");
    let (status, form) = shopper.get("/checkout").await;
    assert_eq!(status, 200, "{form}");
    assert!(form.contains("2.500 KWD"), "{form}");
    let attempt = hidden(&form, "attempt");
    let email = format!("kw-{}@shopper.invalid", &attempt[..8]);
    let postal = shopper_input::Country::parse("KW")
        .map(|c| shopper_input::PostalCode::example(c).to_string())
        .unwrap();
    let fields = [
        ("csrf", csrf.as_str()),
        ("attempt", attempt.as_str()),
        ("name", "Noor Kuwaiti"),
        ("email", email.as_str()),
        ("line1", "Block 3, Street 12"),
        ("city", "Kuwait City"),
        ("postal_code", postal.as_str()),
        ("country", "KW"),
        ("token", "tok_approve"),
    ];
    let (status, location, body) = shopper.post("/checkout", &fields).await;
    assert_eq!(status, 303, "{body}");
    let (status, order) = shopper.get(&location.unwrap()).await;
    assert_eq!(status, 200, "{order}");
    assert!(order.contains("data-status=\"confirmed\""), "{order}");
    assert!(order.contains("2.500 KWD"), "{order}");

    // Stored in fils by me-central, and nowhere else.
    let client = pool_for(&me.database_url).get().await.unwrap();
    let row = client
        .query_one(
            "SELECT currency, total_minor FROM orders ORDER BY created_at DESC LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, i64>(1)),
        ("KWD".to_owned(), 2_500)
    );
    assert!(count_in_database(&me.database_url, &email).await >= 1);
    for core in world.cores.values() {
        assert_eq!(count_in_database(&core.database_url, &email).await, 0);
    }
    assert_eq!(count_in_edge_store(&email).await, 0);

    // The residency audit, as `scripts/audit` runs it, for the sixth region: a canary
    // shopper from Kuwait checks out through this node; its details are then in me-central's
    // database and in no other database, the edge store or the logs.
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..10];
    let canaries = [Canary::new(
        "me-central".parse().unwrap(),
        "KW".parse().unwrap(),
        tag,
    )];
    let report = audit::run(
        &edge,
        &canaries,
        "bakery",
        async || {
            Ok(Places {
                databases: world
                    .cores
                    .values()
                    .chain(cores.values())
                    .map(|c| (c.region.parse().unwrap(), c.database_url.clone()))
                    .collect(),
                edge_store: Some(redis_url()),
                logs: vec![("e2e processes".to_owned(), world.logs.text())],
                telemetry: Vec::new(),
                mailboxes: world
                    .cores
                    .values()
                    .chain(cores.values())
                    .map(|c| (c.region.parse().unwrap(), c.mailbox.clone()))
                    .collect(),
            })
        },
        &BTreeMap::new(),
    )
    .await
    .unwrap();
    assert!(report.passes(), "{report}");
    assert!(
        report.to_string().contains("database me-central"),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sixth_region_and_a_moved_country_are_served_from_the_file_without_a_rebuild() {
    let world = world();
    let six = six_regions();
    let manifest = six_region_manifest(&RegionConfig::from_path(&six).unwrap());
    let edge = start_edge(&manifest, &world.cores, &six, &[], Telemetry::disabled()).unwrap();

    let (status, page) = Shopper::new(&edge, "KW").get("/region").await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Middle East (Central) region (me-central); prices are in KWD"),
        "{page}"
    );
    // Portugal moved: the new file's node serves it from me-central, the shipped one from
    // eu-west, from the same storefront.wasm.
    let (_, moved) = Shopper::new(&edge, "PT").get("/region").await;
    assert!(moved.contains("(me-central)"), "{moved}");
    let (_, shipped) = Shopper::new(&world.edge, "PT").get("/region").await;
    assert!(shipped.contains("(eu-west)"), "{shipped}");
    // Shoppers see regions by name, never a core's address.
    for page in [&page, &moved, &shipped] {
        assert!(
            !page.contains("127.0.0.1") && !page.contains("http://"),
            "{page}"
        );
    }

    // A node handed the shipped file's view while it routes by the new file refuses to start.
    let stale = StorefrontView::of(
        &RegionConfig::from_path(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../region-config/regions.toml"),
        )
        .unwrap(),
    )
    .to_json();
    let refused = start_edge(
        &manifest,
        &world.cores,
        &six,
        &[(VARIABLE.to_owned(), stale)],
        Telemetry::disabled(),
    )
    .unwrap_err();
    assert!(
        format!("{refused:#}").contains("describes regions"),
        "{refused:#}"
    );
}
