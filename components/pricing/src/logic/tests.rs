use pricing_rules::{Promotion, Rule};
use projections::kv::MemoryKv;
use projections::model::TaxTable;
use projections::{Product, encode, fixtures};

use super::*;

fn scope(region: &str) -> Scope {
    Scope {
        region: region.into(),
        storefront: "grocer".into(),
    }
}

fn env() -> Env {
    Env {
        now: 1_000,
        ttl_seconds: 900,
        signing_key: Some(b"eu-key".to_vec()),
    }
}

fn line(sku: &str, quantity: u32) -> Line {
    Line {
        sku: sku.into(),
        quantity,
    }
}

fn product(sku: &str, tax_category: &str, prices: &[(&str, i64)]) -> Product {
    let mut p = fixtures::product(sku, "bakery");
    p.tax_category = tax_category.into();
    p.prices = prices.iter().map(|(c, p)| ((*c).to_owned(), *p)).collect();
    p
}

/// Two regions' rules and products as the core publishes them: the EU with VAT inside the
/// price (7% on food in Germany), the US with 5% sales tax added.
fn published() -> MemoryKv {
    let kv = MemoryKv::new();
    let eu = PricingRules {
        promotions: vec![
            Promotion {
                code: "BREAD10".into(),
                rule: Rule::PercentOff { bp: 1000 },
                min_spend_minor: 0,
                expires_at: None,
                stacks: false,
            },
            Promotion {
                code: "OLD".into(),
                rule: Rule::AmountOff { minor: 100 },
                min_spend_minor: 0,
                expires_at: Some(500),
                stacks: false,
            },
        ],
        ..fixtures::eu_west_rules()
    };
    let us = PricingRules {
        v: 1,
        region: "us-east".into(),
        currency: "USD".into(),
        prices_include_tax: false,
        tax: TaxTable {
            default_bp: 500,
            categories: Default::default(),
        },
        countries: Default::default(),
        promotions: vec![],
    };
    kv.set(&keys::pricing_rules("eu-west", "grocer"), &encode(&eu))
        .unwrap();
    kv.set(&keys::pricing_rules("us-east", "grocer"), &encode(&us))
        .unwrap();
    for region in ["eu-west", "us-east"] {
        for p in [
            product("LOAF", "food", &[("EUR", 214), ("USD", 299)]),
            product("WINE", "drinks", &[("EUR", 899)]),
        ] {
            kv.set(&keys::product(region, "grocer", &p.sku), &encode(&p))
                .unwrap();
        }
    }
    kv
}

#[test]
fn vat_is_inside_a_german_price_and_sales_tax_is_added_in_the_us() {
    let kv = published();
    let de = quote_cart(
        &kv,
        &scope("eu-west"),
        "DE",
        &[line("LOAF", 2)],
        &[],
        &env(),
    )
    .unwrap();
    assert_eq!(
        (de.total.minor, de.tax.minor, de.lines[0].tax_rate_bp),
        (428, 28, 700)
    );
    assert_eq!(de.total.currency, "EUR");
    let us = quote_cart(
        &kv,
        &scope("us-east"),
        "US",
        &[line("LOAF", 2)],
        &[],
        &env(),
    )
    .unwrap();
    assert_eq!(
        (us.subtotal.minor, us.tax.minor, us.total.minor),
        (598, 30, 628)
    );
    assert!(!us.prices_include_tax);
}

#[test]
fn a_promo_code_discounts_and_is_named_in_the_quote() {
    let kv = published();
    let q = quote_cart(
        &kv,
        &scope("eu-west"),
        "FR",
        &[line("LOAF", 10)],
        &["bread10".into()],
        &env(),
    )
    .unwrap();
    assert_eq!(
        (q.subtotal.minor, q.discount.minor, q.total.minor),
        (2140, 214, 1926)
    );
    assert_eq!(q.promotions, ["BREAD10"]);
}

#[test]
fn bad_codes_skus_quantities_and_countries_are_typed_errors() {
    let kv = published();
    let eu = scope("eu-west");
    let q = |country: &str, lines: &[Line], codes: &[&str]| {
        let codes: Vec<String> = codes.iter().map(|c| (*c).to_owned()).collect();
        quote_cart(&kv, &eu, country, lines, &codes, &env())
    };
    assert_eq!(
        q("DE", &[line("LOAF", 1)], &["NOPE"]),
        Err(PricingError::UnknownPromoCode("NOPE".into()))
    );
    assert_eq!(
        q("DE", &[line("LOAF", 1)], &["OLD"]),
        Err(PricingError::PromoExpired("OLD".into()))
    );
    assert_eq!(
        q("DE", &[line("CAVIAR", 1)], &[]),
        Err(PricingError::UnknownSku("CAVIAR".into()))
    );
    assert_eq!(
        q("DE", &[line("LOAF", 0)], &[]),
        Err(PricingError::BadQuantity(0))
    );
    assert!(matches!(
        q("Germany", &[line("LOAF", 1)], &[]),
        Err(PricingError::BadRequest(_))
    ));
    assert!(matches!(
        q("DE", &[], &[]),
        Err(PricingError::BadRequest(_))
    ));
    assert!(matches!(
        q("DE", &[line("LOAF", 1), line("LOAF", 2)], &[]),
        Err(PricingError::BadRequest(_))
    ));
    // A product with no price in the region's currency is not for sale there.
    assert_eq!(
        quote_cart(
            &kv,
            &scope("us-east"),
            "US",
            &[line("WINE", 1)],
            &[],
            &env()
        ),
        Err(PricingError::UnknownSku("WINE".into()))
    );
}

#[test]
fn missing_rules_keys_and_corrupt_projections_are_reported() {
    let kv = published();
    assert_eq!(
        quote_cart(
            &kv,
            &scope("ap-south"),
            "IN",
            &[line("LOAF", 1)],
            &[],
            &env()
        ),
        Err(PricingError::NoPricingRules)
    );
    let no_key = Env {
        signing_key: None,
        ..env()
    };
    assert_eq!(
        quote_cart(
            &kv,
            &scope("eu-west"),
            "DE",
            &[line("LOAF", 1)],
            &[],
            &no_key
        ),
        Err(PricingError::NoSigningKey)
    );
    let key = keys::product("eu-west", "grocer", "LOAF");
    kv.set(&key, b"[]").unwrap();
    assert_eq!(
        quote_cart(
            &kv,
            &scope("eu-west"),
            "DE",
            &[line("LOAF", 1)],
            &[],
            &env()
        ),
        Err(PricingError::CorruptProjection(key))
    );
}

#[test]
fn the_signature_is_what_the_core_recomputes_from_its_own_repricing() {
    let kv = published();
    let q = quote_cart(
        &kv,
        &scope("eu-west"),
        "DE",
        &[line("LOAF", 2)],
        &[],
        &env(),
    )
    .unwrap();
    assert_eq!(q.expires_at, 1_900);
    // The core reprices the same cart with the same library and checks the signature.
    let cart = pricing_rules::Cart {
        currency: "EUR".into(),
        prices_include_tax: true,
        lines: vec![pricing_rules::Line {
            sku: "LOAF".into(),
            quantity: 2,
            unit_price_minor: 214,
            tax_rate_bp: 700,
        }],
        promo_codes: vec![],
        now_unix: 1_000,
    };
    let repriced = pricing_rules::quote(&cart, &[]).unwrap();
    let text = signature::canonical("eu-west", &repriced, q.issued_at, q.expires_at);
    assert!(signature::verify(b"eu-key", &text, &q.signature));
    let dearer = pricing_rules::Cart {
        lines: vec![pricing_rules::Line {
            unit_price_minor: 229,
            ..cart.lines[0].clone()
        }],
        ..cart
    };
    let changed = pricing_rules::quote(&dearer, &[]).unwrap();
    let text = signature::canonical("eu-west", &changed, q.issued_at, q.expires_at);
    assert!(!signature::verify(b"eu-key", &text, &q.signature));
}

#[test]
fn the_signing_key_variable_is_a_valid_spin_variable_name() {
    assert_eq!(signing_key_variable("eu-west"), "quote_signing_key_eu_west");
}
