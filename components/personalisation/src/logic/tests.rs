use projections::kv::MemoryKv;
use projections::model::{Pair, Together};
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

/// Bread's pairs: butter (12 orders), jam (6) and the sold-out item (30).
fn bread_pairs() -> Vec<Pair> {
    [("BUTTER", 12), ("JAM", 6), ("SOLDOUT", 30)]
        .into_iter()
        .map(|(sku, orders)| Pair {
            sku: sku.into(),
            orders,
        })
        .collect()
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
        together: BTreeMap::new(),
        popular: vec!["CHEESE".into(), "SOLDOUT".into(), "BREAD".into()],
    };
    kv.set(&keys::recommendations("eu-west", "grocer"), &encode(&model))
        .unwrap();
    let together = Together {
        v: 1,
        pairs: bread_pairs(),
    };
    kv.set(
        &keys::together("eu-west", "grocer", "BREAD"),
        &encode(&together),
    )
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

fn bread_page(kv: &MemoryKv) -> Vec<String> {
    let page = PageContext::Product("BREAD".into());
    let recs = recommend(
        kv,
        &scope(),
        &page,
        &session(&[], &[]),
        10,
        Weights::default(),
    );
    skus(&recs.unwrap())
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

#[test]
fn pairs_are_read_from_the_anchors_own_keys_or_else_from_the_models_first_layout() {
    let kv = published();
    let with_own_keys = bread_page(&kv);
    assert_eq!(with_own_keys[..2], ["BUTTER", "JAM"]);

    // A core that still writes every pair into the model's value, and no per-SKU keys.
    kv.delete(&keys::together("eu-west", "grocer", "BREAD"))
        .unwrap();
    assert!(
        !bread_page(&kv).contains(&"JAM".to_owned()),
        "without pairs, jam (neither similar nor popular) is not recommended"
    );
    let first_layout = Recommendations {
        v: 1,
        min_orders: 5,
        together: [("BREAD".to_owned(), bread_pairs())].into(),
        popular: vec!["CHEESE".into(), "SOLDOUT".into(), "BREAD".into()],
    };
    let key = keys::recommendations("eu-west", "grocer");
    kv.set(&key, &encode(&first_layout)).unwrap();
    assert_eq!(bread_page(&kv), with_own_keys);

    // Where both exist, the anchor's own key wins.
    let only_jam = Together {
        v: 1,
        pairs: vec![Pair {
            sku: "JAM".into(),
            orders: 40,
        }],
    };
    kv.set(
        &keys::together("eu-west", "grocer", "BREAD"),
        &encode(&only_jam),
    )
    .unwrap();
    let page = bread_page(&kv);
    assert_eq!(page[0], "JAM");
    assert!(
        !page.contains(&"BUTTER".to_owned()),
        "butter is no longer bought with bread: {page:?}"
    );
}

/// A store that counts the keys read from it.
struct Counting {
    inner: MemoryKv,
    read: std::cell::Cell<usize>,
}

impl Kv for Counting {
    fn get(&self, key: &str) -> std::result::Result<Option<Vec<u8>>, projections::kv::KvError> {
        self.read.set(self.read.get() + 1);
        self.inner.get(key)
    }
    fn set(&self, key: &str, value: &[u8]) -> std::result::Result<(), projections::kv::KvError> {
        self.inner.set(key, value)
    }
    fn delete(&self, key: &str) -> std::result::Result<(), projections::kv::KvError> {
        self.inner.delete(key)
    }
    fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        value: &[u8],
    ) -> std::result::Result<projections::kv::Swap, projections::kv::KvError> {
        self.inner.compare_and_swap(key, expected, value)
    }
}

/// The benchmarks' storefront (2,000 products, every one bought with ten others), with
/// every fifth product out of stock and every seventh inactive, so reading in batches has
/// candidates to skip.
fn demo() -> Counting {
    let kv = MemoryKv::new();
    for (k, v) in fixtures::demo_storefront(2_000) {
        kv.set(&k, &v).unwrap();
    }
    for (i, mut p) in fixtures::demo_catalogue(2_000).into_iter().enumerate() {
        if i % 5 == 0 {
            kv.set(
                &keys::stock("eu-west", "grocer", &p.sku),
                br#"{"v":1,"available":0}"#,
            )
            .unwrap();
        }
        if i % 7 == 0 {
            p.active = false;
            kv.set(&keys::product("eu-west", "grocer", &p.sku), &encode(&p))
                .unwrap();
        }
    }
    Counting {
        inner: kv,
        read: std::cell::Cell::new(0),
    }
}

#[test]
fn reading_the_most_promising_candidates_first_answers_exactly_what_reading_all_does() {
    let kv = demo();
    let sku = |i: usize| format!("SKU-{i:05}");
    let mut pages = vec![
        (PageContext::Home, session(&[], &[])),
        (
            PageContext::Cart,
            session(&[&sku(3), &sku(8), &sku(1500)], &[]),
        ),
    ];
    for i in (1..2_000).step_by(97) {
        pages.push((PageContext::Product(sku(i)), session(&[], &[])));
        let viewed = [sku(i + 1), sku(i / 2)];
        let viewed: Vec<&str> = viewed.iter().map(String::as_str).collect();
        pages.push((PageContext::Product(sku(i)), session(&[], &viewed)));
    }
    let blends = [
        Weights::default(),
        Weights::parse("0,100,0").unwrap(),
        Weights::parse("0,0,100").unwrap(),
        Weights::parse("20,70,10").unwrap(),
    ];
    for (page, signals) in &pages {
        for weights in blends {
            for limit in [1, 6, 20] {
                let all =
                    recommend_in_batches(&kv, &scope(), page, signals, limit, weights, usize::MAX);
                let batched = recommend(&kv, &scope(), page, signals, limit, weights);
                assert_eq!(batched, all, "{page:?} {signals:?} {weights:?} {limit}");
            }
        }
    }
}

#[test]
fn product_pages_read_a_fraction_of_their_candidates() {
    let kv = demo();
    let (mut all, mut batched) = (0, 0);
    for i in (1..2_000).step_by(97) {
        let page = PageContext::Product(format!("SKU-{i:05}"));
        let signals = session(&[], &[]);
        let weights = Weights::default();
        recommend_in_batches(&kv, &scope(), &page, &signals, 6, weights, usize::MAX).unwrap();
        all += kv.read.replace(0);
        recommend(&kv, &scope(), &page, &signals, 6, weights).unwrap();
        batched += kv.read.replace(0);
    }
    assert!(
        batched * 2 < all,
        "read {batched} keys in batches, {all} all at once"
    );
}
