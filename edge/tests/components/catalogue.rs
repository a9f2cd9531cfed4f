use edge::bindings::catalogue::{CatalogueError, GuestIndices, PageRequest, Sort};
use edge::bindings::types::StockHint;
use projections::keys;

use crate::helpers::{harness, memory_grocery, scope};

fn page(page: u32, per_page: u32, sort: Sort) -> PageRequest {
    PageRequest {
        page,
        per_page,
        sort,
    }
}

#[test]
fn a_product_comes_back_priced_with_its_stock_hint() {
    let backend = memory_grocery();
    backend
        .set(
            &keys::stock("eu-west", "grocer", "LOAF-1"),
            br#"{"v":1,"available":2}"#,
        )
        .unwrap();
    let (mut store, instance, loaded) = harness().instance("catalogue", &backend, &[]);
    let catalogue = GuestIndices::new(&loaded.pre)
        .unwrap()
        .load(&mut store, &instance)
        .unwrap();
    let detail = catalogue
        .call_product(&mut store, &scope(), &"LOAF-1".to_owned())
        .unwrap()
        .unwrap();
    assert_eq!(detail.summary.title, "Sourdough loaf");
    let price = detail.summary.price.unwrap();
    assert_eq!((price.minor, price.currency.as_str()), (214, "EUR"));
    assert!(matches!(detail.stock, StockHint::Low(2)));
}

#[test]
fn bad_input_and_corrupt_projections_are_typed_errors_not_traps() {
    let backend = memory_grocery();
    let key = keys::product("eu-west", "grocer", "MILK-1");
    backend.set(&key, b"\x00\x01 not json").unwrap();
    let (mut store, instance, loaded) = harness().instance("catalogue", &backend, &[]);
    let catalogue = GuestIndices::new(&loaded.pre)
        .unwrap()
        .load(&mut store, &instance)
        .unwrap();
    let unknown = catalogue
        .call_product(&mut store, &scope(), &"CAVIAR".to_owned())
        .unwrap();
    assert!(matches!(unknown, Err(CatalogueError::UnknownSku(s)) if s == "CAVIAR"));
    let corrupt = catalogue
        .call_product(&mut store, &scope(), &"MILK-1".to_owned())
        .unwrap();
    assert!(matches!(corrupt, Err(CatalogueError::CorruptProjection(k)) if k == key));
    let malformed = catalogue
        .call_product(&mut store, &scope(), &"a/b".to_owned())
        .unwrap();
    assert!(matches!(malformed, Err(CatalogueError::BadRequest(_))));
    let bad_page = catalogue
        .call_category_page(
            &mut store,
            &scope(),
            "bakery",
            None,
            page(0, 24, Sort::Name),
        )
        .unwrap();
    assert!(matches!(bad_page, Err(CatalogueError::BadRequest(_))));
    // The instance is still usable after every error.
    assert!(
        catalogue
            .call_categories(&mut store, &scope())
            .unwrap()
            .is_ok()
    );
}

#[test]
fn a_category_pages_in_price_order_and_search_ranks_with_facets() {
    let backend = memory_grocery();
    let (mut store, instance, loaded) = harness().instance("catalogue", &backend, &[]);
    let catalogue = GuestIndices::new(&loaded.pre)
        .unwrap()
        .load(&mut store, &instance)
        .unwrap();
    let listing = catalogue
        .call_category_page(
            &mut store,
            &scope(),
            "bakery",
            None,
            page(1, 24, Sort::PriceAscending),
        )
        .unwrap()
        .unwrap();
    let skus: Vec<_> = listing.items.iter().map(|i| i.sku.as_str()).collect();
    assert_eq!(skus, ["RYE-1", "LOAF-1"]);
    let results = catalogue
        .call_search(
            &mut store,
            &scope(),
            "Breads",
            None,
            page(1, 10, Sort::Name),
        )
        .unwrap()
        .unwrap();
    assert_eq!(results.terms, ["bread"]);
    assert_eq!(results.total, 2);
    assert_eq!(results.hits[0].product.sku, "RYE-1");
    assert_eq!(results.facets.len(), 1);
    let categories = catalogue
        .call_categories(&mut store, &scope())
        .unwrap()
        .unwrap();
    assert_eq!(categories.len(), 3);
}
