//! Meridian's pricing rules: one plain Rust library (no wasm, no I/O) that the edge pricing
//! component uses to show prices and the regional core uses to reprice authoritatively at
//! checkout, so the two can never disagree.
//!
//! Every amount is an integer in minor units of the cart's currency; nothing here is a float.
//! The caller resolves each line's tax rate (from the region config: country and tax
//! category) and whether shown prices include tax; this crate does the arithmetic.
//!
//! How a cart is quoted:
//!
//! 1. Promo codes are matched case-insensitively against the promotions in force; unknown,
//!    expired or below-minimum-spend codes are refused with a typed error, and a promotion
//!    that does not stack cannot be combined with another code.
//! 2. Promotions apply in a fixed order: buy-X-get-Y (free units of one SKU), then
//!    percentage off, then fixed amount off, each on what the previous left.
//! 3. An order-level discount is spread over the lines in proportion to what each line still
//!    costs, by largest remainder, so line discounts add up to it exactly.
//! 4. Tax is computed per line on the discounted line total, rounded half up: the tax part of
//!    the price when prices include tax (VAT, GST), added on top otherwise (sales tax).
//!
//! # Layout
//!
//! - `promotion`: promotions, their rules, and which codes apply.
//! - `quote`: the quote of a cart and its invariants.
//! - `rounding`: integer division rounded half up, and largest-remainder allocation.
//! - `signature`: the canonical text of a quote and its HMAC signature.
//! - `session`: the signed session cookie of a signed-in shopper (same key, other text).

mod promotion;
mod quote;
mod rounding;
pub mod session;
pub mod signature;

pub use promotion::{Promotion, Rule};
pub use quote::{Cart, Line, Quote, QuotedLine, quote};
pub use rounding::{allocate, div_round_half_up, tax_in, tax_on};

/// Why a cart cannot be quoted. Every variant is something the shopper or merchant can act
/// on; none is a bug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("promo code {code} does not exist")]
    UnknownPromoCode { code: String },
    #[error("promo code {code} has expired")]
    PromoExpired { code: String },
    #[error("promo code {code} needs a spend of at least {minimum_minor} (minor units)")]
    MinimumSpendNotMet { code: String, minimum_minor: i64 },
    #[error("promo code {code} applies to {sku}, which is not in the cart")]
    PromoNotApplicable { code: String, sku: String },
    #[error("promo code {code} cannot be combined with other codes")]
    PromotionsDoNotStack { code: String },
    #[error("line {sku} has quantity 0")]
    ZeroQuantity { sku: String },
    #[error("line {sku} has a negative price")]
    NegativePrice { sku: String },
    #[error("tax rate {rate_bp} basis points is over 100%")]
    TaxRateTooHigh { rate_bp: u32 },
    #[error("the cart's amounts are too large to price")]
    Overflow,
}
