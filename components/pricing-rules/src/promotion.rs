//! Promotions and which promo codes apply to a cart.

use serde::{Deserialize, Serialize};

use crate::PricingError;

/// A promotion merchants configure, reached by its code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Promotion {
    /// The code shoppers type; matched case-insensitively.
    pub code: String,
    pub rule: Rule,
    /// The cart must cost at least this much before discounts (minor units); 0 for none.
    #[serde(default)]
    pub min_spend_minor: i64,
    /// Unix seconds after which the code is refused; `None` never expires.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// Whether it may be combined with other codes. A promotion that does not stack is
    /// refused when the shopper also enters another code.
    #[serde(default)]
    pub stacks: bool,
}

/// What a promotion takes off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rule {
    /// Buy `buy` units of `sku`, get `get` more free, as often as the quantity allows.
    BuyXGetY { sku: String, buy: u32, get: u32 },
    /// A percentage of what the cart still costs, in basis points (1000 = 10%).
    PercentOff { bp: u32 },
    /// A fixed amount off what the cart still costs, never below zero.
    AmountOff { minor: i64 },
}

impl Rule {
    /// The order in which promotions apply: item promotions first, then percentage, then
    /// fixed amounts, so a percentage never discounts a fixed discount away.
    pub(crate) fn precedence(&self) -> u8 {
        match self {
            Self::BuyXGetY { .. } => 0,
            Self::PercentOff { .. } => 1,
            Self::AmountOff { .. } => 2,
        }
    }
}

/// The promotions the shopper's `codes` select, in the order they apply; refuses unknown,
/// expired, below-minimum and non-stacking combinations and item promotions for SKUs not in
/// the cart.
pub(crate) fn select<'a>(
    codes: &[String],
    promotions: &'a [Promotion],
    subtotal_minor: i64,
    skus: &[&str],
    now_unix: i64,
) -> Result<Vec<&'a Promotion>, PricingError> {
    let mut wanted: Vec<String> = codes
        .iter()
        .map(|c| c.trim().to_uppercase())
        .filter(|c| !c.is_empty())
        .collect();
    wanted.sort();
    wanted.dedup();
    let mut chosen = Vec::new();
    for code in &wanted {
        let promotion = promotions
            .iter()
            .find(|p| p.code.to_uppercase() == *code)
            .ok_or_else(|| PricingError::UnknownPromoCode { code: code.clone() })?;
        if promotion.expires_at.is_some_and(|t| now_unix >= t) {
            return Err(PricingError::PromoExpired { code: code.clone() });
        }
        if subtotal_minor < promotion.min_spend_minor {
            return Err(PricingError::MinimumSpendNotMet {
                code: code.clone(),
                minimum_minor: promotion.min_spend_minor,
            });
        }
        if let Rule::BuyXGetY { sku, .. } = &promotion.rule
            && !skus.contains(&sku.as_str())
        {
            return Err(PricingError::PromoNotApplicable {
                code: code.clone(),
                sku: sku.clone(),
            });
        }
        chosen.push(promotion);
    }
    if chosen.len() > 1
        && let Some(lonely) = chosen.iter().find(|p| !p.stacks)
    {
        return Err(PricingError::PromotionsDoNotStack {
            code: lonely.code.to_uppercase(),
        });
    }
    chosen.sort_by_key(|p| (p.rule.precedence(), p.code.to_uppercase()));
    Ok(chosen)
}
