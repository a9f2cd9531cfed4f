use projections::kv::{Kv, MemoryKv};
use projections::{Product, encode, fixtures, keys};

use super::*;

fn scope() -> Scope {
    Scope {
        region: "eu-west".into(),
        storefront: "grocer".into(),
    }
}

fn item(sku: &str, title: &str, category: &str, eur: i64) -> Product {
    let mut p = fixtures::product(sku, category);
    p.title = title.into();
    p.description = format!("{title} from the market");
    p.tags = vec!["fresh".into()];
    p.prices = [("EUR".to_owned(), eur), ("USD".to_owned(), eur + 10)].into();
    p
}

/// A store as the relay leaves it: products, derived projections and pricing rules.
fn published(products: &[Product]) -> MemoryKv {
    let kv = MemoryKv::new();
    for p in products {
        kv.set(&keys::product("eu-west", "grocer", &p.sku), &encode(p))
            .unwrap();
    }
    for (k, v) in projections::build::storefront("eu-west", "grocer", "EUR", products) {
        kv.set(&k, &v).unwrap();
    }
    let rules = fixtures::eu_west_rules();
    kv.set(&keys::pricing_rules("eu-west", "grocer"), &encode(&rules))
        .unwrap();
    kv
}

fn page(page: u32, per_page: u32, sort: Sort) -> PageRequest {
    PageRequest {
        page,
        per_page,
        sort,
    }
}

fn produce() -> Vec<Product> {
    vec![
        item("APL", "Apples", "produce", 300),
        item("BAN", "Bananas", "produce", 150),
        item("CHR", "Cherries", "produce", 600),
        item("LOAF", "Rye loaf", "bakery", 214),
    ]
}

#[test]
fn a_product_is_priced_in_the_regions_currency_with_its_stock_hint() {
    let kv = published(&produce());
    kv.set(
        &keys::stock("eu-west", "grocer", "LOAF"),
        br#"{"v":1,"sku":"LOAF","available":3}"#,
    )
    .unwrap();
    let detail = product(&kv, &scope(), "LOAF").unwrap();
    assert_eq!(
        detail.summary.price,
        Some(Money {
            minor: 214,
            currency: "EUR".into()
        })
    );
    assert_eq!(detail.stock, Hint::Low(3));
    assert_eq!(product(&kv, &scope(), "APL").unwrap().stock, Hint::Unknown);
}

#[test]
fn unknown_and_malformed_skus_are_typed_errors() {
    let kv = published(&produce());
    assert_eq!(
        product(&kv, &scope(), "NOPE"),
        Err(CatalogueError::UnknownSku("NOPE".into()))
    );
    assert!(matches!(
        product(&kv, &scope(), "../x"),
        Err(CatalogueError::BadRequest(_))
    ));
}

#[test]
fn a_malformed_projection_is_reported_with_its_key() {
    let kv = published(&produce());
    let key = keys::product("eu-west", "grocer", "APL");
    kv.set(&key, b"not json").unwrap();
    assert_eq!(
        product(&kv, &scope(), "APL"),
        Err(CatalogueError::CorruptProjection(key.clone()))
    );
    kv.set(&key, br#"{"v":9}"#).unwrap();
    assert_eq!(
        product(&kv, &scope(), "APL"),
        Err(CatalogueError::CorruptProjection(key))
    );
}

#[test]
fn listings_page_stably_in_every_sort_order() {
    let kv = published(&produce());
    let skus = |l: Listing| l.items.into_iter().map(|i| i.sku).collect::<Vec<_>>();
    let first = listing(
        &kv,
        &scope(),
        "produce",
        None,
        page(1, 2, Sort::PriceAscending),
    )
    .unwrap();
    assert_eq!(first.total, 3);
    assert_eq!(skus(first), ["BAN", "APL"]);
    let second = listing(
        &kv,
        &scope(),
        "produce",
        None,
        page(2, 2, Sort::PriceAscending),
    )
    .unwrap();
    assert_eq!(skus(second), ["CHR"]);
    let past = listing(&kv, &scope(), "produce", None, page(9, 2, Sort::Name)).unwrap();
    assert!(past.items.is_empty());
    assert_eq!(past.total, 3);
    let desc = listing(
        &kv,
        &scope(),
        "produce",
        None,
        page(1, 10, Sort::PriceDescending),
    )
    .unwrap();
    assert_eq!(skus(desc), ["CHR", "APL", "BAN"]);
    let desc_second = listing(
        &kv,
        &scope(),
        "produce",
        None,
        page(2, 2, Sort::PriceDescending),
    )
    .unwrap();
    assert_eq!(skus(desc_second), ["BAN"]);
}

#[test]
fn an_index_written_before_counts_lists_and_counts_the_same() {
    let kv = published(&produce());
    let every = |kv: &MemoryKv| {
        [
            Sort::Name,
            Sort::PriceAscending,
            Sort::PriceDescending,
            Sort::Popularity,
        ]
        .into_iter()
        .flat_map(|sort| [1, 2].map(|n| (sort, n)))
        .map(|(sort, n)| listing(kv, &scope(), "produce", None, page(n, 2, sort)).unwrap())
        .collect::<Vec<_>>()
    };
    let with_counts = every(&kv);
    // The same index as an older writer left it: no `products`, `priced` or tag `count`.
    let key = keys::category("eu-west", "grocer", "produce");
    let mut old: serde_json::Value =
        serde_json::from_slice(&kv.get(&key).unwrap().unwrap()).unwrap();
    let object = old.as_object_mut().unwrap();
    object.remove("products");
    object.remove("priced");
    for tag in object["tags"].as_array_mut().unwrap() {
        tag.as_object_mut().unwrap().remove("count");
    }
    kv.set(&key, &serde_json::to_vec(&old).unwrap()).unwrap();
    assert_eq!(every(&kv), with_counts);
    assert_eq!(with_counts[0].total, 3);
}

#[test]
fn a_listing_filters_by_a_tag_and_counts_every_tag() {
    let mut products = produce();
    products[0].tags.push("Organic".into());
    products[2].tags.push("organic".into());
    let kv = published(&products);
    let skus = |l: &Listing| l.items.iter().map(|i| i.sku.clone()).collect::<Vec<_>>();
    let all = listing(&kv, &scope(), "produce", None, page(1, 10, Sort::Name)).unwrap();
    assert_eq!(
        all.tags,
        [TagFacet {
            tag: "organic".into(),
            products: 2
        }],
        "\"fresh\" is on every product: no use as a filter"
    );
    // Case and spaces do not matter; the sort still applies.
    let organic = listing(
        &kv,
        &scope(),
        "produce",
        Some(" ORGANIC"),
        page(1, 10, Sort::PriceDescending),
    )
    .unwrap();
    assert_eq!(
        (skus(&organic), organic.total),
        (vec!["CHR".into(), "APL".into()], 2)
    );
    assert_eq!(
        organic.tags, all.tags,
        "the facets are counted before the filter"
    );
    // A tag the aisle does not offer lists nothing; an overlong one is refused.
    let none = listing(
        &kv,
        &scope(),
        "produce",
        Some("vegan"),
        page(1, 10, Sort::Name),
    )
    .unwrap();
    assert_eq!((none.items.len(), none.total), (0, 0));
    assert!(matches!(
        listing(
            &kv,
            &scope(),
            "produce",
            Some(&"x".repeat(65)),
            page(1, 10, Sort::Name)
        ),
        Err(CatalogueError::BadRequest(_))
    ));
}

#[test]
fn bad_page_requests_and_unknown_categories_are_refused() {
    let kv = published(&produce());
    for bad in [
        page(0, 10, Sort::Name),
        page(1, 0, Sort::Name),
        page(1, 101, Sort::Name),
    ] {
        assert!(matches!(
            listing(&kv, &scope(), "produce", None, bad),
            Err(CatalogueError::BadRequest(_))
        ));
    }
    assert_eq!(
        listing(&kv, &scope(), "toys", None, page(1, 10, Sort::Name)),
        Err(CatalogueError::UnknownCategory("toys".into()))
    );
}

#[test]
fn search_folds_case_and_plurals_and_reports_facets() {
    let kv = published(&produce());
    let results = search(&kv, &scope(), "CHERRY", None, page(1, 10, Sort::Name)).unwrap();
    assert_eq!(results.terms, ["cherry"]);
    assert_eq!(results.hits[0].product.sku, "CHR");
    assert_eq!(results.hits[0].matched, ["cherry"]);
    let fresh = search(
        &kv,
        &scope(),
        "fresh",
        Some("bakery"),
        page(1, 10, Sort::Name),
    )
    .unwrap();
    assert_eq!(fresh.total, 1);
    assert_eq!(fresh.facets.len(), 2);
}

#[test]
fn an_empty_or_overlong_query_is_a_bad_request_and_no_match_is_empty() {
    let kv = published(&produce());
    for q in ["", "  the  ", &"x".repeat(201)] {
        assert!(matches!(
            search(&kv, &scope(), q, None, page(1, 10, Sort::Name)),
            Err(CatalogueError::BadRequest(_))
        ));
    }
    let none = search(&kv, &scope(), "caviar", None, page(1, 10, Sort::Name)).unwrap();
    assert_eq!((none.total, none.hits.len()), (0, 0));
}

#[test]
fn categories_are_listed_and_empty_before_publication() {
    let kv = published(&produce());
    let list = categories(&kv, &scope()).unwrap();
    let slugs: Vec<_> = list.iter().map(|c| c.slug.as_str()).collect();
    assert_eq!(slugs, ["bakery", "produce"]);
    assert!(categories(&MemoryKv::new(), &scope()).unwrap().is_empty());
}

#[test]
fn delivery_slots_are_those_of_the_warehouses_serving_the_address_and_still_to_come() {
    let kv = MemoryKv::new();
    assert_eq!(
        delivery_slots(&kv, &scope(), "FR", None, 0),
        Ok(Vec::new()),
        "nothing published: no slots"
    );
    kv.set(
        &keys::delivery("eu-west", "grocer"),
        br#"{"v":1,"currency":"EUR","warehouses":[
            {"warehouse":"paris","zones":[{"country":"FR","postal_prefixes":["75"]}],
             "slots":[{"id":"a","date":"2026-12-08","start":"08:00","end":"10:00","starts_at":100,"fee_minor":399,"state":"available"},
                      {"id":"b","date":"2026-12-08","start":"18:00","end":"20:00","starts_at":200,"fee_minor":0,"state":"full"}]},
            {"warehouse":"berlin","zones":[{"country":"DE"}],
             "slots":[{"id":"c","date":"2026-12-08","start":"09:00","end":"11:00","starts_at":150,"fee_minor":250,"state":"few_left"}]}]}"#,
    )
    .unwrap();
    let paris = delivery_slots(&kv, &scope(), "FR", Some("75011"), 150).unwrap();
    assert_eq!(paris.len(), 1, "slot a has started");
    assert_eq!(paris[0].id, "b");
    assert_eq!(paris[0].state, SlotState::Full);
    assert_eq!(paris[0].fee.currency, "EUR");
    assert!(
        delivery_slots(&kv, &scope(), "FR", None, 0)
            .unwrap()
            .is_empty()
    );
    let berlin = delivery_slots(&kv, &scope(), "de", None, 0).unwrap();
    assert_eq!(
        (berlin[0].id.as_str(), berlin[0].state),
        ("c", SlotState::FewLeft)
    );
    assert_eq!(berlin[0].fee.minor, 250);
    assert!(matches!(
        delivery_slots(&kv, &scope(), "France", None, 0),
        Err(CatalogueError::BadRequest(_))
    ));
    assert!(matches!(
        delivery_slots(&kv, &scope(), "FR", Some("75/01"), 0),
        Err(CatalogueError::BadRequest(_))
    ));
}
