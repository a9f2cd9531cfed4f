//! Values for tests of this crate, the components and the hosts (feature `fixtures`): one
//! product and one region's pricing rules as the relay writes them, to adjust per test.

use crate::model::{PricingRules, Product, TaxTable};

/// An active product of the storefront `grocer` in `category`, titled after its SKU, priced
/// 100 EUR minor units, taxed as `food`.
pub fn product(sku: &str, category: &str) -> Product {
    Product {
        v: 1,
        sku: sku.into(),
        storefront: "grocer".into(),
        title: sku.into(),
        description: String::new(),
        category: category.into(),
        tags: Vec::new(),
        image_url: None,
        unit: "1".into(),
        tax_category: "food".into(),
        active: true,
        prices: [("EUR".to_owned(), 100)].into(),
        popularity: 0,
    }
}

/// eu-west's rules: prices include VAT; food at 9% (Germany: 7%), otherwise 21% (19%).
pub fn eu_west_rules() -> PricingRules {
    PricingRules {
        v: 1,
        region: "eu-west".into(),
        currency: "EUR".into(),
        prices_include_tax: true,
        tax: TaxTable {
            default_bp: 2100,
            categories: [("food".to_owned(), 900)].into(),
        },
        countries: [(
            "DE".to_owned(),
            TaxTable {
                default_bp: 1900,
                categories: [("food".to_owned(), 700)].into(),
            },
        )]
        .into(),
        promotions: Vec::new(),
    }
}
