//! Values for tests of this crate, the components and the hosts (feature `fixtures`): one
//! product and one region's pricing rules as the relay writes them, to adjust per test; and
//! the benchmarks' deterministic catalogue with everything the edge reads of it.

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

const ADJECTIVES: [&str; 16] = [
    "organic",
    "fresh",
    "smoked",
    "wholegrain",
    "sparkling",
    "frozen",
    "free-range",
    "ripe",
    "salted",
    "spiced",
    "roasted",
    "creamy",
    "crunchy",
    "wild",
    "golden",
    "mild",
];
const NOUNS: [(&str, &str); 28] = [
    ("apples", "produce"),
    ("bananas", "produce"),
    ("tomatoes", "produce"),
    ("carrots", "produce"),
    ("milk", "dairy"),
    ("yoghurt", "dairy"),
    ("cheddar", "dairy"),
    ("butter", "dairy"),
    ("sourdough", "bakery"),
    ("bagels", "bakery"),
    ("croissants", "bakery"),
    ("rye bread", "bakery"),
    ("pasta", "pantry"),
    ("rice", "pantry"),
    ("lentils", "pantry"),
    ("olive oil", "pantry"),
    ("peas", "frozen"),
    ("pizza", "frozen"),
    ("berries", "frozen"),
    ("ice cream", "frozen"),
    ("lemonade", "drinks"),
    ("coffee", "drinks"),
    ("green tea", "drinks"),
    ("water", "drinks"),
    ("dish soap", "household"),
    ("sponges", "household"),
    ("bin bags", "household"),
    ("candles", "household"),
];
const WORDS: [&str; 12] = [
    "great",
    "for",
    "breakfast",
    "family",
    "size",
    "farm",
    "local",
    "classic",
    "recipe",
    "everyday",
    "value",
    "premium",
];

/// The benchmarks' deterministic catalogue of `n` products of the storefront `grocer`,
/// priced in EUR (a linear congruential generator, seed 42).
pub fn demo_catalogue(n: usize) -> Vec<Product> {
    let mut state: u64 = 42;
    let mut next = move |m: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as usize) % m
    };
    (0..n)
        .map(|i| {
            let adjective = ADJECTIVES[next(ADJECTIVES.len())];
            let (noun, category) = NOUNS[next(NOUNS.len())];
            let description: Vec<&str> = (0..10).map(|_| WORDS[next(WORDS.len())]).collect();
            Product {
                v: 1,
                sku: format!("SKU-{i:05}"),
                storefront: "grocer".into(),
                title: format!("{adjective} {noun} no. {}", i % 97),
                description: description.join(" "),
                category: category.into(),
                tags: vec![adjective.into(), category.into()],
                image_url: None,
                unit: "1".into(),
                tax_category: "food".into(),
                active: true,
                prices: [("EUR".to_owned(), 100 + (i as i64 % 900))].into(),
                popularity: (i % 50) as u32,
            }
        })
        .collect()
}

/// Every key-value entry the edge reads for the benchmarks' storefront: `n` products of
/// [`demo_catalogue`] in eu-west's `grocer` storefront, its category, search and stock
/// projections, and eu-west's pricing rules.
pub fn demo_storefront(n: usize) -> Vec<(String, Vec<u8>)> {
    let products = demo_catalogue(n);
    let mut entries: Vec<(String, Vec<u8>)> = products
        .iter()
        .map(|p| {
            (
                crate::keys::product("eu-west", "grocer", &p.sku),
                crate::encode(p),
            )
        })
        .collect();
    entries.extend(crate::build::storefront(
        "eu-west", "grocer", "EUR", &products,
    ));
    entries.push((
        crate::keys::pricing_rules("eu-west", "grocer"),
        crate::encode(&eu_west_rules()),
    ));
    entries
}
