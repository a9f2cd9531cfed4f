//! The benchmarks' deterministic catalogue (a linear congruential generator, seed 42).

use projections::Product;

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

/// A deterministic catalogue of `n` products (a linear congruential generator, seed 42).
pub fn catalogue(n: usize) -> Vec<Product> {
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
