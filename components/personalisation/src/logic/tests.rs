use projections::kv::MemoryKv;
use projections::model::Pair;
use projections::{Product, encode, fixtures};

use super::*;

fn scope() -> Scope {
    Scope {
        region: "eu-west".into(),
        storefront: "grocer".into(),
    }
}

fn product(sku: &str, category: &str, tags: &[&str], popularity: u32) -> Product {
    let mut p = fixtures::product(sku, category);
    p.tags = tags.iter().map(|t| (*t).to_owned()).collect();
    p.popularity = popularity;
    p
}

/// A region where bread goes with butter (12 orders) and jam (6), cheese is popular,
/// and the rye loaf is another bakery item.
fn published() -> MemoryKv {
    let kv = MemoryKv::new();
    let products = [
        product("BREAD", "bakery", &["loaf"], 50),
        product("RYE", "bakery", &["loaf"], 10),
        product("BUTTER", "dairy", &[], 20),
        product("JAM", "pantry", &[], 5),
        product("CHEESE", "dairy", &[], 90),
        product("SOLDOUT", "dairy", &[], 80),
    ];
    for p in &products {
        kv.set(&keys::product("eu-west", "grocer", &p.sku), &encode(p))
            .unwrap();
    }
    for (k, v) in projections::build::storefront("eu-west", "grocer", "EUR", &products) {
        kv.set(&k, &v).unwrap();
    }
    kv.set(
        &keys::stock("eu-west", "grocer", "SOLDOUT"),
        br#"{"v":1,"available":0}"#,
    )
    .unwrap();
    let model = Recommendations {
        v: 1,
        min_orders: 5,
        together: [(
            "BREAD".to_owned(),
            vec![
                Pair {
                    sku: "BUTTER".into(),
                    orders: 12,
                },
                Pair {
                    sku: "JAM".into(),
                    orders: 6,
                },
                Pair {
                    sku: "SOLDOUT".into(),
                    orders: 30,
                },
            ],
        )]
        .into(),
        popular: vec!["CHEESE".into(), "SOLDOUT".into(), "BREAD".into()],
    };
    kv.set(&keys::recommendations("eu-west", "grocer"), &encode(&model))
        .unwrap();
    let rules = fixtures::eu_west_rules();
    kv.set(&keys::pricing_rules("eu-west", "grocer"), &encode(&rules))
        .unwrap();
    kv
}

fn session(cart: &[&str], viewed: &[&str]) -> SessionSignals {
    SessionSignals {
        cart: cart.iter().map(|s| (*s).to_owned()).collect(),
        recently_viewed: viewed.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn skus(recs: &[Recommendation]) -> Vec<&str> {
    recs.iter().map(|r| r.product.sku.as_str()).collect()
}

#[test]
fn a_product_page_leads_with_what_is_bought_with_it_and_never_out_of_stock_items() {
    let kv = published();
    let page = PageContext::Product("BREAD".into());
    let recs = recommend(
        &kv,
        &scope(),
        &page,
        &session(&[], &[]),
        10,
        Weights::default(),
    )
    .unwrap();
    assert_eq!(skus(&recs)[..2], ["BUTTER", "JAM"]);
    assert_eq!(recs[0].reason, RecommendationReason::BoughtTogether);
    assert!(!skus(&recs).contains(&"SOLDOUT"));
    assert!(!skus(&recs).contains(&"BREAD"));
    assert!(skus(&recs).contains(&"RYE"));
    assert_eq!(recs[0].product.price.as_ref().unwrap().minor, 100);
}

#[test]
fn the_cart_page_never_recommends_what_is_in_the_cart() {
    let kv = published();
    let recs = recommend(
        &kv,
        &scope(),
        &PageContext::Cart,
        &session(&["BREAD", "BUTTER"], &[]),
        10,
        Weights::default(),
    )
    .unwrap();
    assert_eq!(skus(&recs)[0], "JAM");
    assert!(!skus(&recs).contains(&"BUTTER"));
}

#[test]
fn the_home_page_without_signals_shows_what_is_popular_in_the_region() {
    let kv = published();
    let recs = recommend(
        &kv,
        &scope(),
        &PageContext::Home,
        &session(&[], &[]),
        2,
        Weights::default(),
    )
    .unwrap();
    assert_eq!(skus(&recs), ["CHEESE", "BREAD"]);
    assert!(
        recs.iter()
            .all(|r| r.reason == RecommendationReason::Popular)
    );
}

#[test]
fn weights_change_the_blend() {
    let kv = published();
    let page = PageContext::Product("BREAD".into());
    let content_only = Weights {
        collaborative: 0,
        content: 100,
        rules: 0,
    };
    let recs = recommend(&kv, &scope(), &page, &session(&[], &[]), 10, content_only).unwrap();
    assert_eq!(skus(&recs), ["RYE"]);
    assert_eq!(recs[0].reason, RecommendationReason::Similar);
    assert_eq!(Weights::parse("60, 30, 10"), Some(Weights::default()));
    assert_eq!(Weights::parse("60,30"), None);
    assert_eq!(Weights::parse("60,30,20"), None);
}

#[test]
fn no_model_yet_is_not_an_error_and_bad_input_is() {
    let kv = MemoryKv::new();
    let recs = recommend(
        &kv,
        &scope(),
        &PageContext::Home,
        &session(&[], &[]),
        5,
        Weights::default(),
    )
    .unwrap();
    assert!(recs.is_empty());
    for (page, s, limit) in [
        (PageContext::Home, session(&[], &[]), 0),
        (PageContext::Home, session(&[], &[]), 51),
        (PageContext::Product("../x".into()), session(&[], &[]), 5),
        (PageContext::Cart, session(&["BAD SKU"], &[]), 5),
    ] {
        assert!(matches!(
            recommend(&kv, &scope(), &page, &s, limit, Weights::default()),
            Err(PersonalisationError::BadRequest(_))
        ));
    }
    let corrupt = published();
    let key = keys::recommendations("eu-west", "grocer");
    corrupt.set(&key, b"{}").unwrap();
    assert_eq!(
        recommend(
            &corrupt,
            &scope(),
            &PageContext::Home,
            &session(&[], &[]),
            5,
            Weights::default()
        ),
        Err(PersonalisationError::CorruptProjection(key))
    );
}
