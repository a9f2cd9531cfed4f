use edge::bindings::personalisation::{
    GuestIndices, PageContext, PersonalisationError, SessionSignals,
};
use edge::bindings::types::RecommendationReason;
use projections::model::{Pair, Recommendations, Together};
use projections::{encode, keys};

use crate::helpers::{harness, memory_grocery, scope};

fn session(cart: &[&str]) -> SessionSignals {
    SessionSignals {
        cart: cart.iter().map(|s| (*s).to_owned()).collect(),
        recently_viewed: vec![],
    }
}

#[test]
fn bread_goes_with_butter_and_weights_come_from_the_variable() {
    let backend = memory_grocery();
    // The model as the core writes it: the region's popular list, and each SKU's pairs
    // under a key of its own.
    let model = Recommendations {
        v: 1,
        min_orders: 5,
        together: Default::default(),
        popular: vec!["MILK-1".into()],
    };
    let together = Together {
        v: 1,
        pairs: vec![Pair {
            sku: "BUTTER-1".into(),
            orders: 9,
        }],
    };
    backend
        .set(&keys::recommendations("eu-west", "grocer"), &encode(&model))
        .unwrap();
    backend
        .set(
            &keys::together("eu-west", "grocer", "LOAF-1"),
            &encode(&together),
        )
        .unwrap();
    let (mut store, instance, loaded) = harness().instance("personalisation", &backend, &[]);
    let guest = GuestIndices::new(&loaded.pre)
        .unwrap()
        .load(&mut store, &instance)
        .unwrap();
    let page = PageContext::Product("LOAF-1".into());
    let recs = guest
        .call_recommend(&mut store, &scope(), &page, &session(&[]), 5)
        .unwrap()
        .unwrap();
    assert_eq!(recs[0].product.sku, "BUTTER-1");
    assert_eq!(recs[0].reason, RecommendationReason::BoughtTogether);
    assert!(recs.iter().all(|r| r.product.sku != "LOAF-1"));

    let weights = [("recommendation_weights", "0,100,0")];
    let (mut store, instance, loaded) = harness().instance("personalisation", &backend, &weights);
    let guest = GuestIndices::new(&loaded.pre)
        .unwrap()
        .load(&mut store, &instance)
        .unwrap();
    let recs = guest
        .call_recommend(&mut store, &scope(), &page, &session(&[]), 5)
        .unwrap()
        .unwrap();
    assert_eq!(recs[0].product.sku, "RYE-1");
    assert_eq!(recs[0].reason, RecommendationReason::Similar);
}

#[test]
fn a_bad_limit_is_a_typed_error() {
    let backend = memory_grocery();
    let (mut store, instance, loaded) = harness().instance("personalisation", &backend, &[]);
    let guest = GuestIndices::new(&loaded.pre)
        .unwrap()
        .load(&mut store, &instance)
        .unwrap();
    let bad = guest
        .call_recommend(&mut store, &scope(), &PageContext::Home, &session(&[]), 0)
        .unwrap();
    assert!(matches!(bad, Err(PersonalisationError::BadRequest(_))));
}
