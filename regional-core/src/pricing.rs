//! Authoritative repricing at checkout.
//!
//! Until the shared pricing library (used by the edge pricing component too) exists, a line
//! costs the product's base price in the region's currency, taxed by the region's rules for
//! the shopper's country and the product's tax category. Promotions are not priced yet, so
//! promo codes are refused as unknown. The library will replace `quote` with the same
//! signature, so edge and core cannot disagree.
//!
//! All amounts are integers in minor units. With tax-inclusive display (VAT, GST) the tax is
//! the part of the price that is tax and `total = subtotal`; with tax-exclusive display
//! (sales tax) `total = subtotal + tax`. Tax is rounded half up per line.

use region_config::{BasisPoints, CountryCode, Region, Slug};
use serde::Serialize;

/// What the catalogue says about one line's product.
#[derive(Debug, Clone)]
pub struct LineInput {
    pub sku: String,
    pub quantity: i32,
    pub base_price_minor: i64,
    pub tax_category: Slug,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PricedLine {
    pub sku: String,
    pub quantity: i32,
    pub unit_price_minor: i64,
    pub line_total_minor: i64,
    pub tax_minor: i64,
    pub tax_rate_bp: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Quote {
    pub currency: String,
    pub prices_include_tax: bool,
    pub lines: Vec<PricedLine>,
    pub subtotal_minor: i64,
    pub tax_minor: i64,
    pub discount_minor: i64,
    pub total_minor: i64,
}

/// Prices `lines` for a shopper of `country` in `region`.
pub fn quote(region: &Region, country: CountryCode, lines: &[LineInput]) -> Quote {
    let inclusive = region.tax.prices_include_tax();
    let lines: Vec<PricedLine> = lines
        .iter()
        .map(|line| {
            let rate = region.tax.rate(country, &line.tax_category);
            let line_total = line.base_price_minor * i64::from(line.quantity);
            PricedLine {
                sku: line.sku.clone(),
                quantity: line.quantity,
                unit_price_minor: line.base_price_minor,
                line_total_minor: line_total,
                tax_minor: tax_of(line_total, rate, inclusive),
                tax_rate_bp: rate.get(),
            }
        })
        .collect();
    let subtotal: i64 = lines.iter().map(|l| l.line_total_minor).sum();
    let tax: i64 = lines.iter().map(|l| l.tax_minor).sum();
    Quote {
        currency: region.currency.to_string(),
        prices_include_tax: inclusive,
        lines,
        subtotal_minor: subtotal,
        tax_minor: tax,
        discount_minor: 0,
        total_minor: if inclusive { subtotal } else { subtotal + tax },
    }
}

/// The tax in `amount` (inclusive) or on `amount` (exclusive), rounded half up.
fn tax_of(amount: i64, rate: BasisPoints, inclusive: bool) -> i64 {
    let amount = i128::from(amount);
    let rate = i128::from(rate.get());
    let (numerator, denominator) = if inclusive {
        (amount * rate, 10_000 + rate)
    } else {
        (amount * rate, 10_000)
    };
    // Half up for non-negative amounts: (2n + d) / 2d.
    let rounded = (2 * numerator + denominator) / (2 * denominator);
    i64::try_from(rounded).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bp(v: u32) -> BasisPoints {
        BasisPoints::try_from(v).unwrap()
    }

    #[test]
    fn inclusive_tax_is_the_tax_part_of_the_price() {
        // 2.14 EUR at 7%: net 2.00, tax 0.14.
        assert_eq!(tax_of(214, bp(700), true), 14);
        // 1.00 at 19%: 100 * 1900 / 11900 = 15.97 -> 16.
        assert_eq!(tax_of(100, bp(1900), true), 16);
    }

    #[test]
    fn exclusive_tax_is_added_and_rounds_half_up() {
        assert_eq!(tax_of(1000, bp(725), false), 73); // 72.5 -> 73
        assert_eq!(tax_of(1000, bp(0), false), 0);
        assert_eq!(tax_of(199, bp(700), false), 14); // 13.93 -> 14
    }
}
