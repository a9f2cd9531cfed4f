//! Values for tests of this crate, the components and the hosts (feature `fixtures`): one
//! product and one region's pricing rules as the relay writes them, to adjust per test; and
//! the benchmarks' deterministic catalogue with everything the edge reads of it.

use crate::model::{Pair, PricingRules, Product, Recommendations, TaxTable};

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
        image: None,
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
                image: None,
                unit: "1".into(),
                tax_category: "food".into(),
                active: true,
                prices: [("EUR".to_owned(), 100 + (i as i64 % 900))].into(),
                popularity: (i % 50) as u32,
            }
        })
        .collect()
}

/// The recommendation model of a mature storefront over `products`: every product bought
/// with ten others (five of its own category, five of any) in 5 to 60 distinct orders, best
/// first; and the 24 most popular products.
pub fn demo_model(products: &[Product]) -> Recommendations {
    let n = products.len();
    let mut together = std::collections::BTreeMap::new();
    for (i, p) in products.iter().enumerate() {
        let same: Vec<&Product> = (1..n)
            .map(|step| &products[(i + step * 7) % n])
            .filter(|q| q.category == p.category)
            .take(5)
            .collect();
        let any = (1..=5).map(|k| &products[(i + k * 131) % n]);
        let mut seen = std::collections::BTreeSet::from([p.sku.as_str()]);
        let mut pairs: Vec<Pair> = same
            .into_iter()
            .chain(any)
            .filter(|q| seen.insert(q.sku.as_str()))
            .enumerate()
            .map(|(k, q)| Pair {
                sku: q.sku.clone(),
                orders: 5 + ((i * 13 + k * 29) % 56) as u32,
            })
            .collect();
        pairs.sort_by(|a, b| b.orders.cmp(&a.orders).then_with(|| a.sku.cmp(&b.sku)));
        together.insert(p.sku.clone(), pairs);
    }
    let mut popular: Vec<&Product> = products.iter().collect();
    popular.sort_by(|a, b| {
        b.popularity
            .cmp(&a.popularity)
            .then_with(|| a.sku.cmp(&b.sku))
    });
    Recommendations {
        v: 1,
        min_orders: 5,
        together,
        popular: popular.iter().take(24).map(|p| p.sku.clone()).collect(),
    }
}

/// Every key-value entry the edge reads for the benchmarks' storefront: `n` products of
/// [`demo_catalogue`] in eu-west's `grocer` storefront, its category, search and stock
/// projections, eu-west's pricing rules and its recommendation model ([`demo_model`]).
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
    let (together, model) = crate::build::model("eu-west", "grocer", demo_model(&products));
    entries.extend(together);
    entries.push(model);
    // Its site, as the relay publishes it: the default theme, on `localhost`.
    let site = crate::theme::Site::new(
        "grocer",
        vec!["localhost".into()],
        crate::theme::default_theme("grocer"),
    );
    let site = serde_json::to_vec(&site).unwrap_or_default();
    entries.push((crate::keys::host("eu-west", "localhost"), site.clone()));
    entries.push((crate::keys::site("eu-west", "grocer"), site));
    entries
}
