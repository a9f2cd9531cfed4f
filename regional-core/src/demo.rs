//! Demo data for the local run: a deterministic (seeded) grocery catalogue, stock in every
//! warehouse of a region, and a history of synthetic orders that trains the recommendation
//! model. Nobody real is in it: shoppers are generated names at `.invalid` addresses.
//!
//! `regional-core demo-seed --core-url URL --storefront grocer|corner --token TOKEN
//! [--operator-token TOKEN]` sets up one of the demo's two storefronts (created with the
//! operator token when the region lacks it, then its hosts and theme) and loads it into a
//! running core over its own operator, merchant and checkout APIs, so the data goes through
//! the same validation, outbox and relay as a merchant's. Each picture is an illustration of
//! its aisle that the storefront serves (`/images/aisle/{aisle}.svg`).

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// A small deterministic generator (SplitMix64): the same seed gives the same catalogue on
/// every machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// One aisle: its slug, tax category, units, and the words its products are made of.
struct Aisle {
    slug: &'static str,
    tax: &'static str,
    units: &'static [&'static str],
    adjectives: &'static [&'static str],
    nouns: &'static [&'static str],
    /// Price range in euro cents.
    cents: (i64, i64),
}

const AISLES: [Aisle; 7] = [
    Aisle {
        slug: "produce",
        tax: "food",
        units: &["1 kg", "500 g", "each", "bunch", "250 g"],
        adjectives: &[
            "organic", "ripe", "crisp", "sweet", "local", "heirloom", "baby", "red", "green",
        ],
        nouns: &[
            "apples",
            "pears",
            "bananas",
            "carrots",
            "tomatoes",
            "spinach",
            "onions",
            "potatoes",
            "lemons",
            "grapes",
            "courgettes",
            "peppers",
            "strawberries",
            "leeks",
            "mushrooms",
        ],
        cents: (49, 499),
    },
    Aisle {
        slug: "dairy",
        tax: "food",
        units: &["1 l", "500 ml", "250 g", "200 g", "6 pack"],
        adjectives: &[
            "whole",
            "semi-skimmed",
            "greek",
            "aged",
            "creamy",
            "salted",
            "unsalted",
            "organic",
            "mild",
        ],
        nouns: &[
            "milk",
            "yoghurt",
            "butter",
            "cheddar",
            "mozzarella",
            "cream",
            "eggs",
            "feta",
            "brie",
            "kefir",
        ],
        cents: (79, 699),
    },
    Aisle {
        slug: "bakery",
        tax: "food",
        units: &["800 g", "400 g", "each", "4 pack", "6 pack"],
        adjectives: &[
            "sourdough",
            "wholegrain",
            "rye",
            "seeded",
            "white",
            "spelt",
            "toasted",
            "butter",
        ],
        nouns: &[
            "loaf",
            "baguette",
            "bagels",
            "croissants",
            "rolls",
            "muffins",
            "brioche",
            "pitta",
            "crumpets",
            "focaccia",
        ],
        cents: (99, 549),
    },
    Aisle {
        slug: "pantry",
        tax: "food",
        units: &["500 g", "1 kg", "400 g", "750 ml", "250 g"],
        adjectives: &[
            "basmati",
            "durum",
            "extra virgin",
            "red",
            "smoked",
            "wildflower",
            "roasted",
            "chopped",
        ],
        nouns: &[
            "rice",
            "pasta",
            "olive oil",
            "lentils",
            "paprika",
            "honey",
            "peanuts",
            "tomatoes",
            "oats",
            "flour",
            "chickpeas",
            "coffee beans",
        ],
        cents: (89, 1299),
    },
    Aisle {
        slug: "frozen",
        tax: "food",
        units: &["500 g", "1 kg", "400 g", "each"],
        adjectives: &[
            "garden",
            "mixed",
            "stone-baked",
            "vanilla",
            "breaded",
            "wild",
        ],
        nouns: &[
            "peas",
            "berries",
            "pizza",
            "ice cream",
            "fish fingers",
            "sweetcorn",
            "chips",
            "dumplings",
        ],
        cents: (149, 899),
    },
    Aisle {
        slug: "drinks",
        tax: "drinks",
        units: &["1 l", "330 ml", "6 pack", "750 ml", "2 l"],
        adjectives: &[
            "sparkling",
            "still",
            "cloudy",
            "cold-pressed",
            "diet",
            "ginger",
            "elderflower",
        ],
        nouns: &[
            "water",
            "lemonade",
            "apple juice",
            "orange juice",
            "cola",
            "iced tea",
            "kombucha",
            "tonic",
        ],
        cents: (59, 499),
    },
    Aisle {
        slug: "household",
        tax: "standard",
        units: &["each", "500 ml", "20 pack", "1 l", "3 pack"],
        adjectives: &[
            "eco",
            "lavender",
            "citrus",
            "unscented",
            "heavy-duty",
            "bamboo",
        ],
        nouns: &[
            "washing-up liquid",
            "sponges",
            "bin bags",
            "kitchen roll",
            "laundry detergent",
            "candles",
            "dishwasher tablets",
        ],
        cents: (99, 1499),
    },
];

/// Fixed demo exchange rates: thousandths of a unit of each currency per euro (integers:
/// money is never a float). A region config may name any of these currencies; demo data for
/// another is refused, naming it.
const RATES: [(&str, i64); 24] = [
    ("EUR", 1_000),
    ("USD", 1_080),
    ("INR", 90_000),
    ("BRL", 5_400),
    ("AUD", 1_650),
    ("GBP", 850),
    ("CHF", 950),
    ("CAD", 1_470),
    ("MXN", 18_500),
    ("JPY", 160_000),
    ("KRW", 1_450_000),
    ("CNY", 7_800),
    ("HKD", 8_400),
    ("SGD", 1_450),
    ("NZD", 1_800),
    ("ZAR", 20_000),
    ("SEK", 11_500),
    ("NOK", 11_500),
    ("DKK", 7_460),
    ("PLN", 4_300),
    ("KWD", 330),
    ("SAR", 4_050),
    ("AED", 3_970),
    ("IDR", 17_000_000),
];

/// A demo price in `currency`'s minor units for `cents` euro cents, rounded up.
fn convert(cents: i64, currency: &region_config::Currency) -> anyhow::Result<i64> {
    let Some((_, rate)) = RATES.iter().find(|(code, _)| *code == currency.as_str()) else {
        bail!(
            "the demo has no exchange rate for {currency}: add it to RATES in regional-core/src/demo.rs, or seed this region's catalogue through the merchant API"
        );
    };
    let scale = 10i64.pow(u32::from(currency.exponent()));
    // cents / 100 euros × rate / 1000 units × scale minor units, rounded up.
    let numerator = cents * rate * scale;
    let denominator = 100 * 1_000;
    Ok((numerator + denominator - 1) / denominator)
}

/// A demo product, ready for `POST /v1/admin/products:import`, and its demo stock.
#[derive(Debug, Clone)]
pub struct DemoProduct {
    pub sku: String,
    pub json: Value,
    /// Units per warehouse: most plenty, some scarce (1 to 4), some none.
    pub stock: i32,
}

/// `count` products, priced in each of `currencies`, the same for the same `seed`.
pub fn catalogue(
    seed: u64,
    count: usize,
    currencies: &[region_config::Currency],
    sku_prefix: &str,
) -> anyhow::Result<Vec<DemoProduct>> {
    let mut rng = Rng::new(seed);
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::with_capacity(count);
    let mut i = 0usize;
    while out.len() < count {
        i += 1;
        let aisle = &AISLES[out.len() % AISLES.len()];
        let adjective = *rng.pick(aisle.adjectives);
        let noun = *rng.pick(aisle.nouns);
        let unit = *rng.pick(aisle.units);
        // Titles repeat after a while: number the later ones like a real range does.
        let mut title = format!("{} {noun}", capitalise(adjective));
        if !seen.insert(format!("{title} {unit}")) {
            title = format!("{title} no. {}", i % 97 + 2);
            if !seen.insert(format!("{title} {unit}")) {
                continue;
            }
        }
        let sku = format!(
            "{sku_prefix}{}-{:05}",
            &aisle.slug[..3].to_ascii_uppercase(),
            out.len() + 1
        );
        let (low, high) = aisle.cents;
        let cents = low + (rng.next_u64() % (high - low + 1) as u64) as i64;
        // Prices end in 9, as shelf prices do.
        let cents = cents - cents % 10 + 9;
        let mut prices: BTreeMap<&str, i64> = BTreeMap::new();
        for currency in currencies {
            prices.insert(currency.as_str(), convert(cents, currency)?);
        }
        let tags = vec![adjective.to_owned(), noun.to_owned(), aisle.slug.to_owned()];
        let stock = match rng.below(20) {
            0 => 0,
            1 | 2 => 1 + rng.below(4) as i32,
            _ => 20 + rng.below(200) as i32,
        };
        out.push(DemoProduct {
            json: json!({
                "sku": sku,
                "title": title,
                "description": format!(
                    "{title}, {unit}. A {adjective} favourite from our {} aisle.",
                    aisle.slug
                ),
                "category": aisle.slug,
                "tags": tags,
                "image": {
                    "url": format!("/images/aisle/{}.svg", aisle.slug),
                    "alt": format!("Illustration of the {} aisle", aisle.slug),
                    "width": 320,
                    "height": 240,
                },
                "unit": unit,
                "tax_category": aisle.tax,
                "prices": prices,
            }),
            sku,
            stock,
        });
    }
    Ok(out)
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

const FIRST: [&str; 12] = [
    "Alex", "Sam", "Robin", "Charlie", "Jordan", "Morgan", "Kim", "Noor", "Ilya", "Ana", "Tomás",
    "Mei",
];
const LAST: [&str; 10] = [
    "Example",
    "Sample",
    "Tester",
    "Demo",
    "Placeholder",
    "Fictive",
    "Madeup",
    "Notreal",
    "Invented",
    "Synthetic",
];

/// Baskets that repeat, so pairs reach the model's threshold (seen in 5 or more orders).
fn basket(rng: &mut Rng, products: &[DemoProduct]) -> Vec<(String, i64)> {
    let in_stock: Vec<&DemoProduct> = products.iter().filter(|p| p.stock >= 20).collect();
    // A few "recipes": fixed pairs from the first in-stock products of the catalogue.
    let recipe = rng.below(6);
    let mut lines: Vec<(String, i64)> = in_stock
        .iter()
        .skip(recipe * 2)
        .take(2)
        .map(|p| (p.sku.clone(), 1 + rng.below(2) as i64))
        .collect();
    for _ in 0..rng.below(3) {
        let extra = rng.pick(&in_stock);
        if !lines.iter().any(|(s, _)| *s == extra.sku) {
            lines.push((extra.sku.clone(), 1));
        }
    }
    lines
}

/// Loads the demo data into the core at `core_url` (region `region`, whose warehouses and
/// countries are given), printing progress.
/// One of the demo's storefronts: what `scripts/up` creates and fills in every region.
#[derive(Debug, Clone, Copy)]
pub struct DemoStorefront {
    pub id: &'static str,
    pub hosts: &'static [&'static str],
    /// Its theme file (`web/themes/*.toml`), put through the merchant API as JSON.
    pub theme: &'static str,
    /// Put before every SKU: SKUs are unique in a region, across storefronts.
    pub sku_prefix: &'static str,
}

/// The demo's storefronts: Meridian Grocer (the default for unknown hosts) and The Corner
/// Shop, with its own smaller catalogue.
pub const STOREFRONTS: [DemoStorefront; 2] = [
    DemoStorefront {
        id: "grocer",
        hosts: &["localhost", "127.0.0.1", "grocer.localhost"],
        theme: include_str!("../../web/themes/grocer.toml"),
        sku_prefix: "",
    },
    DemoStorefront {
        id: "corner",
        hosts: &["corner.localhost"],
        theme: include_str!("../../web/themes/corner.toml"),
        sku_prefix: "CS-",
    },
];

impl DemoStorefront {
    /// The demo storefront with this id.
    pub fn named(id: &str) -> anyhow::Result<Self> {
        STOREFRONTS
            .into_iter()
            .find(|s| s.id == id)
            .with_context(|| format!("the demo has no storefront {id:?} (grocer or corner)"))
    }

    /// Its theme, as the merchant API takes it.
    pub fn theme(&self) -> anyhow::Result<Value> {
        let theme: projections::theme::Theme =
            toml::from_str(self.theme).with_context(|| format!("the {} theme file", self.id))?;
        Ok(serde_json::to_value(theme)?)
    }
}

/// Creates `storefront` in the core with the operator token (when given; an existing one is
/// kept), then gives it its hosts and theme with its merchant token.
pub async fn set_up_storefront(
    http: &reqwest::Client,
    base: &str,
    operator_token: Option<&str>,
    token: &str,
    storefront: &DemoStorefront,
) -> anyhow::Result<()> {
    if let Some(operator) = operator_token {
        let r = http
            .post(format!("{base}/v1/operator/storefronts"))
            .bearer_auth(operator)
            .json(
                &json!({ "id": storefront.id, "hosts": storefront.hosts, "merchant_token": token }),
            )
            .send()
            .await?;
        if !(r.status().is_success() || r.status() == reqwest::StatusCode::CONFLICT) {
            bail!(
                "creating the storefront {} was refused: {}",
                storefront.id,
                r.text().await?
            );
        }
    }
    for (path, body) in [
        ("hosts", json!({ "hosts": storefront.hosts })),
        ("theme", storefront.theme()?),
    ] {
        let r = http
            .put(format!("{base}/v1/admin/storefront/{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?;
        if !r.status().is_success() {
            bail!(
                "the {} storefront's {path} were refused: {}",
                storefront.id,
                r.text().await?
            );
        }
    }
    Ok(())
}

/// What `seed` fills one storefront of one region with.
#[derive(Debug, Clone, Copy)]
pub struct SeedPlan {
    pub seed: u64,
    pub products: usize,
    pub orders: usize,
}

/// Sets up `storefront` in the region's core and fills it: products priced in every region's
/// currency, stock in every warehouse, synthetic orders, delivery slots.
pub async fn seed(
    core_url: &str,
    operator_token: Option<&str>,
    token: &str,
    regions: &region_config::RegionConfig,
    region: &region_config::Region,
    storefront: &DemoStorefront,
    plan: SeedPlan,
) -> anyhow::Result<()> {
    let SeedPlan {
        seed,
        products: count,
        orders,
    } = plan;
    let http = reqwest::Client::new();
    let base = core_url.trim_end_matches('/');
    let started = Instant::now();
    set_up_storefront(&http, base, operator_token, token, storefront).await?;
    // Priced in every region's currency: the catalogue is the same everywhere.
    let mut currencies: Vec<region_config::Currency> = Vec::new();
    for region in regions.regions() {
        if !currencies.contains(&region.currency) {
            currencies.push(region.currency);
        }
    }
    let products = catalogue(seed, count, &currencies, storefront.sku_prefix)?;
    let mut body = String::new();
    for p in &products {
        body.push_str(&p.json.to_string());
        body.push('\n');
    }
    let response = http
        .post(format!("{base}/v1/admin/products:import"))
        .bearer_auth(token)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .context("the core did not answer the product import")?;
    if !response.status().is_success() {
        bail!("product import refused: {}", response.text().await?);
    }
    eprintln!(
        "  {} {}: {count} products imported",
        region.id, storefront.id
    );

    // Stock: every product in every warehouse of the region, 16 requests at a time.
    let mut adjustments = Vec::new();
    for p in &products {
        for w in &region.warehouses {
            if p.stock > 0 {
                adjustments.push(json!({
                    "sku": p.sku, "warehouse": w.id.as_str(), "delta": p.stock, "reason": "demo delivery",
                }));
            }
        }
    }
    let total = adjustments.len();
    for (i, chunk) in adjustments.chunks(16).enumerate() {
        let sends = chunk.iter().map(|a| {
            http.post(format!("{base}/v1/admin/stock"))
                .bearer_auth(token)
                .json(a)
                .send()
        });
        for r in futures_join(sends).await {
            let r = r?;
            if !r.status().is_success() {
                bail!("stock adjustment refused: {}", r.text().await?);
            }
        }
        if (i + 1) % 100 == 0 {
            eprintln!("  {}: stock {}/{total}", region.id, (i + 1) * 16);
        }
    }
    eprintln!(
        "  {}: stock in {} warehouses ({total} adjustments)",
        region.id,
        region.warehouses.len()
    );

    // Orders from synthetic shoppers, so the model has pairs to publish.
    let Some(country) = region.countries.first() else {
        bail!("region {} lists no country to ship to", region.id);
    };
    let currency = region.currency.as_str();
    let mut rng = Rng::new(seed ^ 0x5EED);
    let mut placed = 0;
    let mut first_refusal = None;
    for n in 0..orders {
        let lines = basket(&mut rng, &products);
        let name = format!("{} {}", rng.pick(&FIRST), rng.pick(&LAST));
        let email = format!("shopper{n}@demo.invalid");
        let postal_code = crate::audit::postal_code_of(country.as_str());
        let body = json!({
            "storefront": storefront.id,
            "currency": currency,
            "lines": lines.iter().map(|(s, q)| json!({"sku": s, "quantity": q})).collect::<Vec<_>>(),
            "shopper": {
                "email": email, "name": name, "country": country.as_str(),
                "address": {"line1": format!("{} Demo Street", n + 1), "city": "Demo City", "postal_code": postal_code, "country": country.as_str()},
            },
            "payment": {"method": "card", "token": "tok_approve"},
        });
        let response = http
            .post(format!("{base}/v1/checkouts"))
            .header(
                "idempotency-key",
                format!("demo-order-{}-{seed}-{}-{n:06}", storefront.id, region.id),
            )
            .json(&body)
            .send()
            .await?;
        if response.status().is_success() {
            placed += 1;
        } else if first_refusal.is_none() {
            first_refusal = Some(response.text().await.unwrap_or_default());
        }
    }
    eprintln!(
        "  {}: {placed} demo orders; done in {:.1} s",
        region.id,
        started.elapsed().as_secs_f64()
    );
    // Some baskets meet empty shelves; none at all placed means the region cannot sell.
    if placed == 0
        && let Some(refusal) = first_refusal
    {
        bail!(
            "region {}: none of {orders} demo orders was accepted; the first was refused with {refusal}",
            region.id
        );
    }
    // Delivery slots last: the demo's orders above are history, placed before slots existed.
    let slots = seed_delivery(&http, base, token, region).await?;
    eprintln!("  {}: {slots} delivery slots", region.id);
    Ok(())
}

/// The demo's delivery: every warehouse delivers to every country of the region, in five
/// windows a day for a week, 30 orders each, 3.99 EUR (converted) before noon and free after.
async fn seed_delivery(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    region: &region_config::Region,
) -> anyhow::Result<usize> {
    let fee = convert(399, &region.currency)?;
    let windows: Vec<Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .flat_map(|day| {
            [
                ("08:00", "10:00", fee),
                ("10:00", "12:00", fee),
                ("14:00", "16:00", 0),
                ("18:00", "20:00", 0),
                ("20:00", "22:00", 0),
            ]
            .map(|(start, end, fee_minor)| {
                json!({"day": day, "start": start, "end": end, "capacity": 30, "fee_minor": fee_minor})
            })
        })
        .collect();
    let zones: Vec<Value> = region
        .countries
        .iter()
        .map(|c| json!({"country": c.as_str()}))
        .collect();
    let mut created = 0;
    for w in &region.warehouses {
        let template = json!({
            "time_zone": time_zone_of(w.country.as_str()), "days_ahead": 7, "hold_minutes": 120,
            "windows": windows,
        });
        for (path, body) in [
            ("zones", json!({ "zones": zones })),
            ("slot-template", template),
        ] {
            let r = http
                .put(format!("{base}/v1/admin/warehouses/{}/{path}", w.id))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await?;
            if !r.status().is_success() {
                bail!("delivery {path} refused: {}", r.text().await?);
            }
            let answer: Value = r.json().await?;
            created += answer["slots_created"].as_u64().unwrap_or(0) as usize;
        }
    }
    Ok(created)
}

/// The time zone of a demo warehouse in `country`; UTC where the demo knows none.
fn time_zone_of(country: &str) -> &'static str {
    match country {
        "FR" | "BE" | "LU" => "Europe/Paris",
        "DE" | "AT" => "Europe/Berlin",
        "NL" => "Europe/Amsterdam",
        "IE" => "Europe/Dublin",
        "ES" => "Europe/Madrid",
        "PT" => "Europe/Lisbon",
        "IT" => "Europe/Rome",
        "FI" => "Europe/Helsinki",
        "GB" => "Europe/London",
        "US" => "America/New_York",
        "CA" => "America/Toronto",
        "IN" => "Asia/Kolkata",
        "BR" => "America/Sao_Paulo",
        "AU" => "Australia/Sydney",
        "NZ" => "Pacific/Auckland",
        "KW" => "Asia/Kuwait",
        _ => "UTC",
    }
}

/// Runs the futures concurrently and answers their outputs in order.
async fn futures_join<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.expect("a demo request task panicked"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_is_deterministic_and_realistic() {
        let currencies = currencies(&["EUR", "USD", "INR", "BRL", "AUD"]);
        let a = catalogue(7, 2_000, &currencies, "").unwrap();
        let b = catalogue(7, 2_000, &currencies, "").unwrap();
        assert_eq!(a.len(), 2_000);
        assert!(
            a.iter()
                .zip(&b)
                .all(|(x, y)| x.json == y.json && x.stock == y.stock)
        );
        let skus: std::collections::BTreeSet<&str> = a.iter().map(|p| p.sku.as_str()).collect();
        assert_eq!(skus.len(), 2_000, "SKUs are unique");
        for aisle in [
            "produce",
            "dairy",
            "bakery",
            "pantry",
            "frozen",
            "drinks",
            "household",
        ] {
            assert!(a.iter().any(|p| p.json["category"] == aisle), "{aisle}");
        }
        assert!(a.iter().any(|p| p.stock == 0), "some are out of stock");
        assert!(
            a.iter().any(|p| (1..5).contains(&p.stock)),
            "some are scarce"
        );
        for p in &a {
            let prices = p.json["prices"].as_object().unwrap();
            assert_eq!(prices.len(), 5, "priced in every region's currency");
            assert!(prices.values().all(|v| v.as_i64().unwrap() > 0));
            assert!(crate::products::valid_sku(&p.sku), "{}", p.sku);
        }
        assert_ne!(
            catalogue(8, 10, &currencies, "").unwrap()[0].json,
            a[0].json
        );
    }

    #[test]
    fn the_demo_storefronts_have_checked_themes_free_hosts_and_their_own_skus() {
        let mut hosts = std::collections::BTreeSet::new();
        for storefront in STOREFRONTS {
            let theme: projections::theme::Theme =
                serde_json::from_value(storefront.theme().unwrap()).unwrap();
            theme.check().unwrap();
            assert!(crate::storefronts::valid_id(storefront.id));
            for host in storefront.hosts {
                assert!(projections::theme::valid_host(host), "{host}");
                assert!(hosts.insert(*host), "{host} is one storefront's");
            }
        }
        let eur = currencies(&["EUR"]);
        let corner = catalogue(9, 3, &eur, "CS-").unwrap();
        assert!(corner.iter().all(|p| p.sku.starts_with("CS-")));
        let image: projections::theme::Image =
            serde_json::from_value(corner[0].json["image"].clone()).unwrap();
        image.check().unwrap();
        assert!(DemoStorefront::named("elsewhere").is_err());
    }

    fn currencies(codes: &[&str]) -> Vec<region_config::Currency> {
        codes.iter().map(|c| c.parse().unwrap()).collect()
    }

    #[test]
    fn any_currency_with_a_rate_is_priced_in_its_own_minor_units_and_others_are_named() {
        let some = currencies(&["KWD", "JPY", "EUR"]);
        let product = &catalogue(7, 1, &some, "").unwrap()[0];
        let eur = product.json["prices"]["EUR"].as_i64().unwrap();
        let fils = product.json["prices"]["KWD"].as_i64().unwrap();
        let yen = product.json["prices"]["JPY"].as_i64().unwrap();
        // 1 EUR = 0.330 KWD = 330 fils; 1 EUR = 160 JPY (no minor unit).
        assert_eq!(fils, (eur * 330 + 99) / 100);
        assert_eq!(yen, (eur * 160 + 99) / 100);
        let error = catalogue(7, 1, &currencies(&["EUR", "BHD"]), "")
            .unwrap_err()
            .to_string();
        assert!(error.contains("BHD"), "{error}");
    }
}
