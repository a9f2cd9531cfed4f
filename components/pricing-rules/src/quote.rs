//! The quote of a cart.

use serde::{Deserialize, Serialize};

use crate::PricingError;
use crate::promotion::{self, Promotion, Rule};
use crate::rounding::{allocate, div_round_half_up, tax_in, tax_on};

/// The most a single line or cart may cost, in minor units (10^15: far beyond any grocery
/// order in any currency, far below overflow).
const MAX_AMOUNT: i128 = 1_000_000_000_000_000;

/// One line of a cart, with its price and tax rate already resolved by the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub sku: String,
    pub quantity: u32,
    /// Price of one unit as shown in the catalogue (tax included when the cart's prices
    /// include tax).
    pub unit_price_minor: i64,
    /// The tax rate for this line's category and the shopper's country.
    pub tax_rate_bp: u32,
}

/// What to quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    /// ISO 4217 code; carried through, not interpreted (amounts are already minor units).
    pub currency: String,
    /// True for VAT and GST regions (shown prices include tax), false for sales tax.
    pub prices_include_tax: bool,
    pub lines: Vec<Line>,
    pub promo_codes: Vec<String>,
    /// The time at which promotions are judged, Unix seconds.
    pub now_unix: i64,
}

/// One priced line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotedLine {
    pub sku: String,
    pub quantity: u32,
    pub unit_price_minor: i64,
    /// This line's share of every discount.
    pub discount_minor: i64,
    /// `unit_price_minor * quantity - discount_minor`.
    pub line_total_minor: i64,
    /// Tax in (inclusive) or on (exclusive) the line total.
    pub tax_minor: i64,
    pub tax_rate_bp: u32,
}

/// A priced cart. Invariants (checked by the property tests):
/// `subtotal = Σ unit × quantity`, `discount = Σ line discounts`,
/// `total = Σ line totals` (+ `tax` when prices exclude tax), `tax = Σ line taxes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub currency: String,
    pub prices_include_tax: bool,
    pub lines: Vec<QuotedLine>,
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    /// The promo codes applied, upper case, in the order they applied.
    pub promotions: Vec<String>,
}

/// Prices `cart` under `promotions` (the promotions in force; the cart's codes choose among
/// them).
pub fn quote(cart: &Cart, promotions: &[Promotion]) -> Result<Quote, PricingError> {
    let mut gross: Vec<i64> = Vec::with_capacity(cart.lines.len());
    for line in &cart.lines {
        if line.quantity == 0 {
            return Err(PricingError::ZeroQuantity {
                sku: line.sku.clone(),
            });
        }
        if line.unit_price_minor < 0 {
            return Err(PricingError::NegativePrice {
                sku: line.sku.clone(),
            });
        }
        if line.tax_rate_bp > 10_000 {
            return Err(PricingError::TaxRateTooHigh {
                rate_bp: line.tax_rate_bp,
            });
        }
        let amount = i128::from(line.unit_price_minor) * i128::from(line.quantity);
        if amount > MAX_AMOUNT {
            return Err(PricingError::Overflow);
        }
        gross.push(i64::try_from(amount).map_err(|_| PricingError::Overflow)?);
    }
    let subtotal: i128 = gross.iter().map(|g| i128::from(*g)).sum();
    if subtotal > MAX_AMOUNT {
        return Err(PricingError::Overflow);
    }
    let subtotal = i64::try_from(subtotal).map_err(|_| PricingError::Overflow)?;
    let skus: Vec<&str> = cart.lines.iter().map(|l| l.sku.as_str()).collect();
    let applied = promotion::select(
        &cart.promo_codes,
        promotions,
        subtotal,
        &skus,
        cart.now_unix,
    )?;

    let mut discounts = vec![0i64; cart.lines.len()];
    for promotion in &applied {
        let remaining: Vec<i64> = gross.iter().zip(&discounts).map(|(g, d)| g - d).collect();
        match &promotion.rule {
            Rule::BuyXGetY { sku, buy, get } => {
                let group = u64::from(*buy) + u64::from(*get);
                for (i, line) in cart.lines.iter().enumerate() {
                    if line.sku != *sku || group == 0 {
                        continue;
                    }
                    let free = u64::from(line.quantity) / group * u64::from(*get);
                    let value = i128::from(free) * i128::from(line.unit_price_minor);
                    let value = i64::try_from(value).map_err(|_| PricingError::Overflow)?;
                    discounts[i] += value.min(remaining[i]);
                }
            }
            Rule::PercentOff { bp } => {
                let left: i64 = remaining.iter().sum();
                let off =
                    div_round_half_up(i128::from(left) * i128::from((*bp).min(10_000)), 10_000);
                let off = i64::try_from(off).map_err(|_| PricingError::Overflow)?;
                spread(&mut discounts, off, &remaining);
            }
            Rule::AmountOff { minor } => {
                let left: i64 = remaining.iter().sum();
                spread(&mut discounts, (*minor).clamp(0, left), &remaining);
            }
        }
    }

    let lines: Vec<QuotedLine> = cart
        .lines
        .iter()
        .zip(gross.iter().zip(&discounts))
        .map(|(line, (g, d))| {
            let total = g - d;
            let tax = if cart.prices_include_tax {
                tax_in(total, line.tax_rate_bp)
            } else {
                tax_on(total, line.tax_rate_bp)
            };
            QuotedLine {
                sku: line.sku.clone(),
                quantity: line.quantity,
                unit_price_minor: line.unit_price_minor,
                discount_minor: *d,
                line_total_minor: total,
                tax_minor: tax,
                tax_rate_bp: line.tax_rate_bp,
            }
        })
        .collect();
    let discount: i64 = lines.iter().map(|l| l.discount_minor).sum();
    let tax: i64 = lines.iter().map(|l| l.tax_minor).sum();
    let net_of_discount: i64 = lines.iter().map(|l| l.line_total_minor).sum();
    Ok(Quote {
        currency: cart.currency.clone(),
        prices_include_tax: cart.prices_include_tax,
        lines,
        subtotal_minor: subtotal,
        discount_minor: discount,
        tax_minor: tax,
        total_minor: if cart.prices_include_tax {
            net_of_discount
        } else {
            net_of_discount + tax
        },
        promotions: applied.iter().map(|p| p.code.to_uppercase()).collect(),
    })
}

/// Adds an order-level discount to the lines in proportion to what each still costs.
fn spread(discounts: &mut [i64], amount: i64, remaining: &[i64]) {
    for (d, share) in discounts.iter_mut().zip(allocate(amount, remaining)) {
        *d += share;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cart(include: bool, lines: &[(&str, u32, i64, u32)], codes: &[&str]) -> Cart {
        Cart {
            currency: "EUR".into(),
            prices_include_tax: include,
            lines: lines
                .iter()
                .map(|(sku, q, p, r)| Line {
                    sku: (*sku).into(),
                    quantity: *q,
                    unit_price_minor: *p,
                    tax_rate_bp: *r,
                })
                .collect(),
            promo_codes: codes.iter().map(|c| (*c).to_string()).collect(),
            now_unix: 1_000,
        }
    }

    fn promo(code: &str, rule: Rule) -> Promotion {
        Promotion {
            code: code.into(),
            rule,
            min_spend_minor: 0,
            expires_at: None,
            stacks: false,
        }
    }

    #[test]
    fn a_loaf_with_vat_included_carries_its_tax_inside_the_price() {
        let q = quote(&cart(true, &[("LOAF", 2, 214, 700)], &[]), &[]).unwrap();
        assert_eq!(
            (q.subtotal_minor, q.tax_minor, q.total_minor),
            (428, 28, 428)
        );
    }

    #[test]
    fn sales_tax_is_added_on_top() {
        let q = quote(&cart(false, &[("SOAP", 1, 1000, 700)], &[]), &[]).unwrap();
        assert_eq!(
            (q.subtotal_minor, q.tax_minor, q.total_minor),
            (1000, 70, 1070)
        );
    }

    #[test]
    fn buy_two_get_one_free_gives_every_third_unit_free() {
        let promos = [promo(
            "BREAD3",
            Rule::BuyXGetY {
                sku: "LOAF".into(),
                buy: 2,
                get: 1,
            },
        )];
        let q = quote(
            &cart(
                true,
                &[("LOAF", 7, 200, 700), ("MILK", 1, 100, 700)],
                &["bread3"],
            ),
            &promos,
        )
        .unwrap();
        assert_eq!(q.lines[0].discount_minor, 400); // 2 free of 7
        assert_eq!(q.lines[1].discount_minor, 0);
        assert_eq!(q.total_minor, 1100);
        assert_eq!(q.promotions, vec!["BREAD3"]);
    }

    #[test]
    fn percentage_applies_before_a_fixed_amount_when_both_stack() {
        let mut ten = promo("TEN", Rule::PercentOff { bp: 1000 });
        let mut five = promo("FIVE", Rule::AmountOff { minor: 500 });
        ten.stacks = true;
        five.stacks = true;
        let q = quote(
            &cart(false, &[("A", 1, 10_000, 0)], &["FIVE", "TEN"]),
            &[ten, five],
        )
        .unwrap();
        // 10% of 100.00 = 10.00, then 5.00 off: 85.00.
        assert_eq!(q.total_minor, 8_500);
        assert_eq!(q.promotions, vec!["TEN", "FIVE"]);
    }

    #[test]
    fn a_promotion_that_does_not_stack_refuses_company() {
        let mut ten = promo("TEN", Rule::PercentOff { bp: 1000 });
        ten.stacks = true;
        let five = promo("FIVE", Rule::AmountOff { minor: 500 });
        let err = quote(
            &cart(false, &[("A", 1, 10_000, 0)], &["TEN", "FIVE"]),
            &[ten, five],
        )
        .unwrap_err();
        assert_eq!(
            err,
            PricingError::PromotionsDoNotStack {
                code: "FIVE".into()
            }
        );
    }

    #[test]
    fn bad_codes_are_typed_errors() {
        let mut old = promo("OLD", Rule::PercentOff { bp: 1000 });
        old.expires_at = Some(1_000);
        let mut big = promo("BIG", Rule::AmountOff { minor: 100 });
        big.min_spend_minor = 5_000;
        let item = promo(
            "ITEM",
            Rule::BuyXGetY {
                sku: "CAKE".into(),
                buy: 1,
                get: 1,
            },
        );
        let promos = [old, big, item];
        let c =
            |code: &str| quote(&cart(true, &[("A", 1, 1_000, 0)], &[code]), &promos).unwrap_err();
        assert_eq!(
            c("NOPE"),
            PricingError::UnknownPromoCode {
                code: "NOPE".into()
            }
        );
        assert_eq!(c("old"), PricingError::PromoExpired { code: "OLD".into() });
        assert_eq!(
            c("BIG"),
            PricingError::MinimumSpendNotMet {
                code: "BIG".into(),
                minimum_minor: 5_000
            }
        );
        assert_eq!(
            c("ITEM"),
            PricingError::PromoNotApplicable {
                code: "ITEM".into(),
                sku: "CAKE".into()
            }
        );
    }

    #[test]
    fn a_fixed_amount_never_takes_the_cart_below_zero() {
        let promos = [promo("HUGE", Rule::AmountOff { minor: 1_000_000 })];
        let q = quote(
            &cart(true, &[("A", 2, 150, 700), ("B", 1, 99, 0)], &["HUGE"]),
            &promos,
        )
        .unwrap();
        assert_eq!((q.total_minor, q.discount_minor, q.tax_minor), (0, 399, 0));
    }

    #[test]
    fn bad_lines_are_typed_errors() {
        assert!(matches!(
            quote(&cart(true, &[("A", 0, 100, 0)], &[]), &[]),
            Err(PricingError::ZeroQuantity { .. })
        ));
        assert!(matches!(
            quote(&cart(true, &[("A", 1, -1, 0)], &[]), &[]),
            Err(PricingError::NegativePrice { .. })
        ));
        assert!(matches!(
            quote(&cart(true, &[("A", 1, 1, 10_001)], &[]), &[]),
            Err(PricingError::TaxRateTooHigh { .. })
        ));
        assert!(matches!(
            quote(&cart(true, &[("A", 1_000, i64::MAX / 10, 0)], &[]), &[]),
            Err(PricingError::Overflow)
        ));
    }
}
