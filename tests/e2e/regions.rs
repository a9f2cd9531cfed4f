//! Regions at run time: a new `regions.toml` reaches the pages without rebuilding the
//! storefront, and a node refuses a storefront view that is not its own.

use std::path::Path;

use meridian_telemetry::Telemetry;
use region_config::RegionConfig;
use region_config::storefront::{StorefrontView, VARIABLE};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sixth_region_and_a_moved_country_are_served_from_the_file_without_a_rebuild() {
    let world = world();
    let six = Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e/six-regions.toml");
    let edge = start_edge(&world.cores, &six, &[], Telemetry::disabled()).unwrap();

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
