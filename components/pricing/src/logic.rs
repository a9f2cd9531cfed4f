//! The pricing component's quote over any key-value store.

use pricing_rules::{PricingError as RuleError, signature};
use projections::kv::Kv;
use projections::model::PricingRules;
use projections::{Product, ProjectionError, decode, keys};

use crate::bindings::exports::meridian::pricing::pricing::PricingError;
use crate::bindings::meridian::types::types::{Line, Money, Quote, QuotedLine, Scope};

/// Most lines in one quote (a cart's limit).
pub const MAX_LINES: usize = 100;
/// Most units of one line.
pub const MAX_QUANTITY: u32 = 1_000;
/// How long a quote is valid when no variable says otherwise: 15 minutes.
pub const DEFAULT_TTL_SECONDS: u64 = 15 * 60;

type Result<T> = std::result::Result<T, PricingError>;

/// What a quote needs besides the store.
#[derive(Debug, Clone)]
pub struct Env {
    /// Unix seconds now.
    pub now: u64,
    pub ttl_seconds: u64,
    /// The region's quote signing key, if configured.
    pub signing_key: Option<Vec<u8>>,
}

/// The variable that holds `region`'s signing key.
pub fn signing_key_variable(region: &str) -> String {
    format!("quote_signing_key_{}", region.replace('-', "_"))
}

fn bad(message: impl Into<String>) -> PricingError {
    PricingError::BadRequest(message.into())
}

fn corrupt(e: ProjectionError) -> PricingError {
    PricingError::CorruptProjection(e.key().to_owned())
}

fn rule_error(e: RuleError) -> PricingError {
    match e {
        RuleError::UnknownPromoCode { code } => PricingError::UnknownPromoCode(code),
        RuleError::PromoExpired { code } => PricingError::PromoExpired(code),
        RuleError::MinimumSpendNotMet { code, .. } => PricingError::MinimumSpendNotMet(code),
        RuleError::PromoNotApplicable { code, .. } => PricingError::PromoNotApplicable(code),
        RuleError::PromotionsDoNotStack { code } => PricingError::PromotionsDoNotStack(code),
        RuleError::ZeroQuantity { .. } => PricingError::BadQuantity(0),
        RuleError::NegativePrice { sku } => {
            PricingError::CorruptProjection(format!("negative price for {sku}"))
        }
        RuleError::TaxRateTooHigh { rate_bp } => {
            PricingError::CorruptProjection(format!("tax rate of {rate_bp} basis points"))
        }
        RuleError::Overflow => bad("the cart's amounts are too large to price"),
    }
}

fn check(scope: &Scope, country: &str, lines: &[Line], codes: &[String]) -> Result<()> {
    if !projections::valid_slug(&scope.region) || !projections::valid_slug(&scope.storefront) {
        return Err(bad("scope names no valid region and storefront"));
    }
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(bad("country must be an ISO 3166-1 alpha-2 code, e.g. DE"));
    }
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(bad(format!("a quote needs 1 to {MAX_LINES} lines")));
    }
    for (i, line) in lines.iter().enumerate() {
        if !projections::valid_sku(&line.sku) {
            return Err(bad(format!("line {i} has a malformed sku")));
        }
        if !(1..=MAX_QUANTITY).contains(&line.quantity) {
            return Err(PricingError::BadQuantity(line.quantity));
        }
        if lines[..i].iter().any(|l| l.sku == line.sku) {
            return Err(bad(format!("{} is on two lines", line.sku)));
        }
    }
    if codes.len() > 5 || codes.iter().any(|c| c.is_empty() || c.len() > 32) {
        return Err(bad("give at most 5 promo codes of 1 to 32 characters"));
    }
    Ok(())
}

fn money(minor: i64, currency: &str) -> Money {
    Money {
        minor,
        currency: currency.to_owned(),
    }
}

/// Quotes `lines` for a shopper in `country`, with `codes`, signed.
pub fn quote_cart(
    kv: &impl Kv,
    scope: &Scope,
    country: &str,
    lines: &[Line],
    codes: &[String],
    env: &Env,
) -> Result<Quote> {
    check(scope, country, lines, codes)?;
    let (r, s) = (scope.region.as_str(), scope.storefront.as_str());
    let mut wanted = vec![keys::pricing_rules(r, s)];
    wanted.extend(lines.iter().map(|l| keys::product(r, s, &l.sku)));
    let values = kv
        .get_many(&wanted)
        .map_err(|e| PricingError::StoreUnavailable(e.0))?;
    let rules: PricingRules = match &values[0] {
        Some(bytes) => decode(&wanted[0], bytes).map_err(corrupt)?,
        None => return Err(PricingError::NoPricingRules),
    };
    let mut priced = Vec::with_capacity(lines.len());
    for ((line, key), value) in lines.iter().zip(&wanted[1..]).zip(&values[1..]) {
        let product: Option<Product> = value
            .as_ref()
            .map(|bytes| decode(key, bytes))
            .transpose()
            .map_err(corrupt)?;
        let Some((product, price)) = product
            .filter(|p| p.active)
            .and_then(|p| p.price(&rules.currency).map(|price| (p, price)))
        else {
            return Err(PricingError::UnknownSku(line.sku.clone()));
        };
        priced.push(pricing_rules::Line {
            sku: line.sku.clone(),
            quantity: line.quantity,
            unit_price_minor: price,
            tax_rate_bp: rules.rate(country, &product.tax_category),
        });
    }
    let cart = pricing_rules::Cart {
        currency: rules.currency.clone(),
        prices_include_tax: rules.prices_include_tax,
        lines: priced,
        promo_codes: codes.to_vec(),
        now_unix: i64::try_from(env.now).unwrap_or(i64::MAX),
    };
    let q = pricing_rules::quote(&cart, &rules.promotions).map_err(rule_error)?;
    let Some(key) = &env.signing_key else {
        return Err(PricingError::NoSigningKey);
    };
    let expires_at = env.now.saturating_add(env.ttl_seconds);
    let text = signature::canonical(r, &q, env.now, expires_at);
    let c = q.currency.as_str();
    Ok(Quote {
        region: r.to_owned(),
        currency: q.currency.clone(),
        prices_include_tax: q.prices_include_tax,
        lines: q
            .lines
            .iter()
            .map(|l| QuotedLine {
                sku: l.sku.clone(),
                quantity: l.quantity,
                unit_price: money(l.unit_price_minor, c),
                discount: money(l.discount_minor, c),
                line_total: money(l.line_total_minor, c),
                tax: money(l.tax_minor, c),
                tax_rate_bp: l.tax_rate_bp,
            })
            .collect(),
        subtotal: money(q.subtotal_minor, c),
        discount: money(q.discount_minor, c),
        tax: money(q.tax_minor, c),
        total: money(q.total_minor, c),
        promotions: q.promotions.clone(),
        issued_at: env.now,
        expires_at,
        signature: signature::sign(key, &text),
    })
}

#[cfg(test)]
mod tests;
