use edge::bindings::pricing::{GuestIndices, PricingError};
use edge::bindings::types::Line;

use crate::helpers::{harness, memory_grocery, scope};

fn line(sku: &str, quantity: u32) -> Line {
    Line {
        sku: sku.into(),
        quantity,
    }
}

const KEY: (&str, &str) = ("quote_signing_key_eu_west", "test-only-eu-key");

#[test]
fn a_german_quote_carries_reduced_vat_a_promotion_and_a_signature_the_core_can_check() {
    let backend = memory_grocery();
    let (mut store, instance, loaded) = harness().instance("pricing", &backend, &[KEY]);
    let pricing = GuestIndices::new(&loaded.pre)
        .unwrap()
        .load(&mut store, &instance)
        .unwrap();
    let quote = pricing
        .call_quote_cart(
            &mut store,
            &scope(),
            "DE",
            &[line("LOAF-1", 10)],
            &["welcome10".into()],
        )
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            quote.subtotal.minor,
            quote.discount.minor,
            quote.total.minor
        ),
        (2140, 214, 1926)
    );
    assert_eq!(quote.lines[0].tax_rate_bp, 700);
    assert_eq!(quote.promotions, ["WELCOME10"]);
    // The core reprices with the same library and checks the signature.
    let cart = pricing_rules::Cart {
        currency: "EUR".into(),
        prices_include_tax: true,
        lines: vec![pricing_rules::Line {
            sku: "LOAF-1".into(),
            quantity: 10,
            unit_price_minor: 214,
            tax_rate_bp: 700,
        }],
        promo_codes: vec!["WELCOME10".into()],
        now_unix: quote.issued_at as i64,
    };
    let promotions = [pricing_rules::Promotion {
        code: "WELCOME10".into(),
        rule: pricing_rules::Rule::PercentOff { bp: 1000 },
        min_spend_minor: 0,
        expires_at: None,
        stacks: false,
    }];
    let repriced = pricing_rules::quote(&cart, &promotions).unwrap();
    let text = pricing_rules::signature::canonical(
        "eu-west",
        &repriced,
        quote.issued_at,
        quote.expires_at,
    );
    assert!(pricing_rules::signature::verify(
        KEY.1.as_bytes(),
        &text,
        &quote.signature
    ));
}

#[test]
fn bad_promo_codes_quantities_and_a_missing_key_are_typed_errors() {
    let backend = memory_grocery();
    let (mut store, instance, loaded) = harness().instance("pricing", &backend, &[KEY]);
    let pricing = GuestIndices::new(&loaded.pre)
        .unwrap()
        .load(&mut store, &instance)
        .unwrap();
    let bad_code = pricing
        .call_quote_cart(
            &mut store,
            &scope(),
            "DE",
            &[line("LOAF-1", 1)],
            &["FREEBREAD".into()],
        )
        .unwrap();
    assert!(
        matches!(&bad_code, Err(PricingError::UnknownPromoCode(c)) if c == "FREEBREAD"),
        "{bad_code:?}"
    );
    let zero = pricing
        .call_quote_cart(&mut store, &scope(), "DE", &[line("LOAF-1", 0)], &[])
        .unwrap();
    assert!(
        matches!(zero, Err(PricingError::BadQuantity(0))),
        "{zero:?}"
    );
    let (mut store, instance, loaded) = harness().instance("pricing", &backend, &[]);
    let unkeyed = GuestIndices::new(&loaded.pre)
        .unwrap()
        .load(&mut store, &instance)
        .unwrap();
    let no_key = unkeyed
        .call_quote_cart(&mut store, &scope(), "DE", &[line("LOAF-1", 1)], &[])
        .unwrap();
    assert!(
        matches!(no_key, Err(PricingError::NoSigningKey)),
        "{no_key:?}"
    );
}
