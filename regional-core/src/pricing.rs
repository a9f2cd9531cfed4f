//! Authoritative repricing at checkout, with the shared `pricing-rules` library: the same
//! arithmetic the edge pricing component shows, so edge and core cannot disagree.
//!
//! This module resolves what the library leaves to its caller: each line's tax rate (from the
//! region config, by the shopper's country and the product's tax category) and whether the
//! region's prices include tax. Promotions are not stored by the core yet, so checkout refuses
//! promo codes before pricing; the library already applies them.

use region_config::{CountryCode, Region, Slug};
use serde::Serialize;

/// What the catalogue says about one line's product.
#[derive(Debug, Clone)]
pub struct LineInput {
    pub sku: String,
    pub quantity: i32,
    pub base_price_minor: i64,
    pub tax_category: Slug,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PricedLine {
    pub sku: String,
    pub quantity: i32,
    pub unit_price_minor: i64,
    pub line_total_minor: i64,
    pub tax_minor: i64,
    pub tax_rate_bp: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Quote {
    pub currency: String,
    pub prices_include_tax: bool,
    pub lines: Vec<PricedLine>,
    pub subtotal_minor: i64,
    pub tax_minor: i64,
    pub discount_minor: i64,
    /// The delivery slot's fee, included in `total_minor`.
    pub delivery_fee_minor: i64,
    /// What is charged: the goods (after discounts, with tax) and the delivery fee.
    pub total_minor: i64,
    /// The library's quote, whose canonical text the edge signed; `None` for a quote read
    /// back from a stored order.
    #[serde(skip)]
    #[schema(ignore)]
    pub priced: Option<pricing_rules::Quote>,
}

/// Prices `lines` for a shopper of `country` in `region`, without promotions.
pub fn quote(
    region: &Region,
    country: CountryCode,
    lines: &[LineInput],
) -> Result<Quote, pricing_rules::PricingError> {
    quote_with(region, country, lines, &[], &[], 0)
}

/// Prices `lines` with the shopper's `promo_codes`, judged against `promotions` at `now`
/// (Unix seconds).
pub fn quote_with(
    region: &Region,
    country: CountryCode,
    lines: &[LineInput],
    promo_codes: &[String],
    promotions: &[pricing_rules::Promotion],
    now: i64,
) -> Result<Quote, pricing_rules::PricingError> {
    let cart = pricing_rules::Cart {
        currency: region.currency.to_string(),
        prices_include_tax: region.tax.prices_include_tax(),
        lines: lines
            .iter()
            .map(|l| pricing_rules::Line {
                sku: l.sku.clone(),
                quantity: u32::try_from(l.quantity).unwrap_or(0),
                unit_price_minor: l.base_price_minor,
                tax_rate_bp: region.tax.rate(country, &l.tax_category).get(),
            })
            .collect(),
        promo_codes: promo_codes.to_vec(),
        now_unix: now,
    };
    let q = pricing_rules::quote(&cart, promotions)?;
    let priced = q.clone();
    Ok(Quote {
        currency: q.currency,
        prices_include_tax: q.prices_include_tax,
        lines: q
            .lines
            .into_iter()
            .map(|l| PricedLine {
                sku: l.sku,
                quantity: i32::try_from(l.quantity).unwrap_or(i32::MAX),
                unit_price_minor: l.unit_price_minor,
                line_total_minor: l.line_total_minor,
                tax_minor: l.tax_minor,
                tax_rate_bp: l.tax_rate_bp,
            })
            .collect(),
        subtotal_minor: q.subtotal_minor,
        tax_minor: q.tax_minor,
        discount_minor: q.discount_minor,
        delivery_fee_minor: 0,
        total_minor: q.total_minor,
        priced: Some(priced),
    })
}

/// Why the quote a shopper saw does not stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteCheck {
    /// The shopper saw exactly this price.
    Same,
    /// The quote expired before the checkout.
    Expired,
    /// The signature does not match this price: the price changed (or the quote was
    /// tampered with).
    Changed,
}

/// Checks the quote the edge signed (`signature`, valid from `issued_at` to `expires_at`)
/// against `repriced`, this core's price of the same cart, at `now` (Unix seconds).
pub fn check_quote(
    region: &Region,
    key: &[u8],
    repriced: &Quote,
    signature: &str,
    issued_at: u64,
    expires_at: u64,
    now: u64,
) -> QuoteCheck {
    if now > expires_at {
        return QuoteCheck::Expired;
    }
    let Some(priced) = &repriced.priced else {
        return QuoteCheck::Changed;
    };
    let text =
        pricing_rules::signature::canonical(region.id.as_str(), priced, issued_at, expires_at);
    if pricing_rules::signature::verify(key, &text, signature) {
        QuoteCheck::Same
    } else {
        QuoteCheck::Changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_bread_carries_reduced_vat_inside_the_price() {
        let config =
            region_config::RegionConfig::parse(include_str!("../../region-config/regions.toml"))
                .unwrap();
        let de: CountryCode = "DE".parse().unwrap();
        let line = LineInput {
            sku: "LOAF".into(),
            quantity: 2,
            base_price_minor: 214,
            tax_category: "food".parse().unwrap(),
        };
        let q = quote(config.home_region(de), de, &[line]).unwrap();
        assert_eq!(
            (q.lines[0].tax_rate_bp, q.tax_minor, q.total_minor),
            (700, 28, 428)
        );
    }

    #[test]
    fn a_signed_quote_stands_only_for_the_same_price_and_before_it_expires() {
        let config =
            region_config::RegionConfig::parse(include_str!("../../region-config/regions.toml"))
                .unwrap();
        let de: CountryCode = "DE".parse().unwrap();
        let region = config.home_region(de);
        let line = |price| LineInput {
            sku: "LOAF".into(),
            quantity: 2,
            base_price_minor: price,
            tax_category: "food".parse().unwrap(),
        };
        let seen = quote(region, de, &[line(214)]).unwrap();
        let text =
            pricing_rules::signature::canonical("eu-west", seen.priced.as_ref().unwrap(), 100, 200);
        let signature = pricing_rules::signature::sign(b"k", &text);
        let check = |q: &Quote, now| check_quote(region, b"k", q, &signature, 100, 200, now);
        assert_eq!(check(&seen, 150), QuoteCheck::Same);
        assert_eq!(check(&seen, 201), QuoteCheck::Expired);
        let dearer = quote(region, de, &[line(229)]).unwrap();
        assert_eq!(check(&dearer, 150), QuoteCheck::Changed);
    }
}
