//! Property tests over 10,000 random carts: totals add up, no rounding drift, and
//! tax-inclusive and tax-exclusive pricing agree on the net.

use pricing_rules::{Cart, Line, Promotion, Rule, div_round_half_up, quote, tax_on};
use proptest::prelude::*;

fn line() -> impl Strategy<Value = Line> {
    (
        "[A-Z]{1,3}-[0-9]{1,4}",
        1u32..=1_000,
        0i64..=500_000,
        prop_oneof![
            Just(0u32),
            Just(500),
            Just(700),
            Just(1_000),
            Just(1_900),
            Just(2_550),
            0u32..=10_000
        ],
    )
        .prop_map(|(sku, quantity, unit_price_minor, tax_rate_bp)| Line {
            sku,
            quantity,
            unit_price_minor,
            tax_rate_bp,
        })
}

fn cart(include: bool) -> impl Strategy<Value = Cart> {
    prop::collection::vec(line(), 1..=30).prop_map(move |mut lines| {
        lines.sort_by(|a, b| a.sku.cmp(&b.sku));
        lines.dedup_by(|a, b| a.sku == b.sku);
        Cart {
            currency: "EUR".into(),
            prices_include_tax: include,
            lines,
            promo_codes: Vec::new(),
            now_unix: 0,
        }
    })
}

fn rule() -> impl Strategy<Value = Rule> {
    prop_oneof![
        (0u32..=10_000).prop_map(|bp| Rule::PercentOff { bp }),
        (0i64..=10_000_000).prop_map(|minor| Rule::AmountOff { minor }),
    ]
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 10_000,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn totals_equal_the_sum_of_the_lines(c in prop::bool::ANY.prop_flat_map(cart), r in rule()) {
        let mut c = c;
        c.promo_codes = vec!["P".into()];
        let promos = [Promotion { code: "P".into(), rule: r, min_spend_minor: 0, expires_at: None, stacks: false }];
        let q = quote(&c, &promos).unwrap();
        let gross: i64 = c.lines.iter().map(|l| l.unit_price_minor * i64::from(l.quantity)).sum();
        let line_totals: i64 = q.lines.iter().map(|l| l.line_total_minor).sum();
        prop_assert_eq!(q.subtotal_minor, gross);
        prop_assert_eq!(q.discount_minor, q.lines.iter().map(|l| l.discount_minor).sum::<i64>());
        prop_assert_eq!(q.tax_minor, q.lines.iter().map(|l| l.tax_minor).sum::<i64>());
        prop_assert_eq!(line_totals, gross - q.discount_minor);
        let expected_total = if c.prices_include_tax { line_totals } else { line_totals + q.tax_minor };
        prop_assert_eq!(q.total_minor, expected_total);
        for l in &q.lines {
            prop_assert!(l.line_total_minor >= 0 && l.discount_minor >= 0 && l.tax_minor >= 0);
            prop_assert!(!c.prices_include_tax || l.tax_minor <= l.line_total_minor);
        }
    }

    #[test]
    fn order_discounts_have_no_rounding_drift(c in cart(true), bp in 0u32..=10_000, minor in 0i64..=10_000_000) {
        let mut c = c;
        c.promo_codes = vec!["P".into()];
        let percent = [Promotion { code: "P".into(), rule: Rule::PercentOff { bp }, min_spend_minor: 0, expires_at: None, stacks: false }];
        let q = quote(&c, &percent).unwrap();
        let exact = div_round_half_up(i128::from(q.subtotal_minor) * i128::from(bp), 10_000);
        prop_assert_eq!(i128::from(q.discount_minor), exact);
        let amount = [Promotion { code: "P".into(), rule: Rule::AmountOff { minor }, min_spend_minor: 0, expires_at: None, stacks: false }];
        let q = quote(&c, &amount).unwrap();
        prop_assert_eq!(q.discount_minor, minor.min(q.subtotal_minor));
    }

    #[test]
    fn inclusive_and_exclusive_pricing_agree_on_the_net(c in cart(false)) {
        // The same goods priced net (tax added) and gross (tax included, the gross price
        // being net plus its tax): per unit, both leave the same net.
        let mut per_unit = c.clone();
        for l in &mut per_unit.lines {
            l.quantity = 1;
        }
        let exclusive = quote(&per_unit, &[]).unwrap();
        let mut inclusive_cart = per_unit.clone();
        inclusive_cart.prices_include_tax = true;
        for l in &mut inclusive_cart.lines {
            l.unit_price_minor += tax_on(l.unit_price_minor, l.tax_rate_bp);
        }
        let inclusive = quote(&inclusive_cart, &[]).unwrap();
        for (e, i) in exclusive.lines.iter().zip(&inclusive.lines) {
            prop_assert_eq!(e.line_total_minor, i.line_total_minor - i.tax_minor, "net of {}", e.sku);
            prop_assert_eq!(e.tax_minor, i.tax_minor);
        }
        prop_assert_eq!(exclusive.total_minor, inclusive.total_minor);
    }
}
