//! Every derived projection of one storefront in one region, from its products: what the
//! relay writes beside the per-product and stock keys.

use std::collections::BTreeMap;

use crate::keys;
use crate::model::{
    Categories, Category, CategoryIndex, FORMAT_VERSION, MAX_TAG_FILTERS, Product, Recommendations,
    TagFilter, Together, encode,
};
use crate::search;

/// A key and its encoded value.
pub type Entry = (String, Vec<u8>);

fn join<'a>(skus: impl Iterator<Item = &'a str>) -> String {
    skus.collect::<Vec<_>>().join(" ")
}

/// A category's title from its slug: `frozen-food` → `Frozen food`.
pub fn category_title(slug: &str) -> String {
    let words = slug.replace('-', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The category list, the category indexes and the search index of the storefront's
/// active `products` in `region`, whose prices sort in `currency`, as keys and encoded
/// values. Keys of categories and terms that no longer exist are not in the result: the
/// writer deletes what it wrote before and is not here (see [`stale_keys`]).
pub fn storefront(
    region: &str,
    storefront: &str,
    currency: &str,
    products: &[Product],
) -> Vec<(String, Vec<u8>)> {
    let active: Vec<&Product> = products.iter().filter(|p| p.active).collect();
    let mut by_category: BTreeMap<&str, Vec<&Product>> = BTreeMap::new();
    for p in &active {
        by_category.entry(p.category.as_str()).or_default().push(p);
    }
    let mut out = Vec::new();
    let mut categories = Vec::new();
    for (slug, mut members) in by_category {
        members.sort_by(|a, b| a.sku.cmp(&b.sku));
        let mut by_name = members.clone();
        by_name.sort_by(|a, b| {
            a.title
                .to_lowercase()
                .cmp(&b.title.to_lowercase())
                .then_with(|| a.sku.cmp(&b.sku))
        });
        let mut by_price: Vec<&&Product> = members
            .iter()
            .filter(|p| p.price(currency).is_some())
            .collect();
        by_price.sort_by_key(|p| (p.price(currency), p.sku.clone()));
        let mut by_popularity = members.clone();
        by_popularity.sort_by(|a, b| {
            b.popularity
                .cmp(&a.popularity)
                .then_with(|| a.sku.cmp(&b.sku))
        });
        let title = category_title(slug);
        let index = CategoryIndex {
            v: FORMAT_VERSION,
            slug: slug.into(),
            title: title.as_str().into(),
            currency: currency.into(),
            by_name: join(by_name.iter().map(|p| p.sku.as_str())).into(),
            by_price: join(by_price.iter().map(|p| p.sku.as_str())).into(),
            by_popularity: join(by_popularity.iter().map(|p| p.sku.as_str())).into(),
            products: u32::try_from(by_name.len()).unwrap_or(u32::MAX),
            priced: u32::try_from(by_price.len()).unwrap_or(u32::MAX),
            tags: tag_filters(&members),
        };
        out.push((keys::category(region, storefront, slug), encode(&index)));
        categories.push(Category {
            slug: slug.to_owned(),
            title,
            products: u32::try_from(members.len()).unwrap_or(u32::MAX),
        });
    }
    categories.sort_by(|a, b| a.title.cmp(&b.title));
    out.push((
        keys::categories(region, storefront),
        encode(&Categories {
            v: FORMAT_VERSION,
            categories,
        }),
    ));
    let (docs, postings) = search::build(active);
    out.push((keys::search_docs(region, storefront), docs.to_bytes()));
    for (term, list) in postings {
        out.push((
            keys::search_term(region, storefront, &term),
            list.to_bytes(),
        ));
    }
    out
}

/// The tags worth filtering `members` (in SKU order) by: shared by two or more products
/// but not by all, most common first (ties by tag), [`MAX_TAG_FILTERS`] at most.
fn tag_filters(members: &[&Product]) -> Vec<TagFilter<'static>> {
    let mut carriers: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for p in members {
        let mut tags: Vec<String> = p.tags.iter().map(|t| t.trim().to_lowercase()).collect();
        tags.sort();
        tags.dedup();
        for tag in tags.into_iter().filter(|t| !t.is_empty()) {
            carriers.entry(tag).or_default().push(&p.sku);
        }
    }
    let mut useful: Vec<(String, Vec<&str>)> = carriers
        .into_iter()
        .filter(|(_, skus)| skus.len() >= 2 && skus.len() < members.len())
        .collect();
    useful.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
    useful
        .into_iter()
        .take(MAX_TAG_FILTERS)
        .map(|(tag, skus)| TagFilter {
            tag: tag.into(),
            skus: skus.join(" ").into(),
            count: u32::try_from(skus.len()).unwrap_or(u32::MAX),
        })
        .collect()
}

/// The recommendation model of the storefront in `region` as keys and encoded values: each
/// SKU's pairs under `keys::together`, then the model's own value (`keys::recommendations`)
/// with its `together` emptied (`docs/projections.md`, "The recommendation model's pairs").
pub fn model(region: &str, storefront: &str, mut model: Recommendations) -> (Vec<Entry>, Entry) {
    let together = std::mem::take(&mut model.together)
        .into_iter()
        .map(|(sku, pairs)| {
            let value = Together {
                v: FORMAT_VERSION,
                pairs,
            };
            (keys::together(region, storefront, &sku), encode(&value))
        })
        .collect();
    let own = (keys::recommendations(region, storefront), encode(&model));
    (together, own)
}

/// The keys among `previous` (written by an earlier build) that `current` no longer has:
/// categories and terms that went away, to delete.
pub fn stale_keys<'a>(previous: &'a [String], current: &[(String, Vec<u8>)]) -> Vec<&'a str> {
    let now: std::collections::HashSet<&str> = current.iter().map(|(k, _)| k.as_str()).collect();
    previous
        .iter()
        .map(String::as_str)
        .filter(|k| !now.contains(k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CategoryIndex, DocsView, PostingsView, decode};

    fn product(
        sku: &str,
        title: &str,
        category: &str,
        eur: Option<i64>,
        popularity: u32,
    ) -> Product {
        let mut p = crate::fixtures::product(sku, category);
        p.title = title.into();
        p.tags = vec!["organic".into()];
        p.prices = eur.map(|p| ("EUR".to_owned(), p)).into_iter().collect();
        p.popularity = popularity;
        p
    }

    fn value<'a>(out: &'a [(String, Vec<u8>)], key: &str) -> &'a [u8] {
        &out.iter().find(|(k, _)| k == key).unwrap().1
    }

    #[test]
    fn aisles_filter_by_the_tags_some_but_not_all_products_share() {
        let mut products: Vec<Product> = ["A1", "A2", "A3", "A4"]
            .iter()
            .map(|sku| product(sku, sku, "bakery", Some(100), 0))
            .collect();
        // Every product is "organic": no use as a filter. Two are rye, one is vegan
        // (a filter of one is left out), "Rye " normalises to "rye".
        products[0].tags.push("rye".into());
        products[2].tags.push("Rye ".into());
        products[3].tags.push("vegan".into());
        let out = storefront("eu-west", "grocer", "EUR", &products);
        let key = keys::category("eu-west", "grocer", "bakery");
        let index: CategoryIndex = decode(&key, value(&out, &key)).unwrap();
        assert_eq!(
            index.tags,
            [TagFilter {
                tag: "rye".into(),
                skus: "A1 A3".into(),
                count: 2,
            }]
        );
        // An index written before filters still decodes, with none.
        let old = br#"{"v":1,"slug":"x","title":"X","currency":"EUR","by_name":"","by_price":"","by_popularity":""}"#;
        let old = decode::<CategoryIndex>("old", old).unwrap();
        assert!(old.tags.is_empty());
        assert_eq!(old.products, 0);
    }

    #[test]
    fn each_sort_order_is_stable_and_unpriced_products_do_not_sort_by_price() {
        let products = [
            product("C", "apple", "produce", Some(50), 1),
            product("A", "Banana", "produce", Some(50), 9),
            product("B", "apple", "produce", None, 9),
        ];
        let out = storefront("eu-west", "grocer", "EUR", &products);
        let index: CategoryIndex = decode(
            "k",
            value(&out, "meridian/v1/eu-west/grocer/category/produce"),
        )
        .unwrap();
        assert_eq!(index.by_name, "B C A");
        assert_eq!(index.by_price, "A C");
        assert_eq!(index.by_popularity, "A B C");
        assert_eq!(index.title, "Produce");
        assert_eq!((index.products, index.priced), (3, 2));
        // Read in place: the lists borrow the stored value.
        assert!(matches!(index.by_name, std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn postings_and_the_category_list_cover_active_products_only() {
        let mut products = vec![
            product("A", "Oat milk", "drinks", Some(100), 0),
            product("B", "Whole milk", "dairy", Some(90), 0),
        ];
        products[1].active = false;
        let out = storefront("eu-west", "grocer", "EUR", &products);
        let docs =
            DocsView::parse("k", value(&out, "meridian/v1/eu-west/grocer/search/docs")).unwrap();
        assert_eq!((docs.len(), docs.sku(0)), (1, Some("A")));
        let milk = PostingsView::parse(
            "k",
            value(&out, "meridian/v1/eu-west/grocer/search/term/milk"),
        )
        .unwrap();
        assert_eq!(milk.docs().collect::<Vec<_>>(), [0]);
        assert_eq!(milk.generation, docs.generation);
        assert_eq!(milk.category_names(), ["drinks"]);
        assert!(!out.iter().any(|(k, _)| k.ends_with("category/dairy")));
    }

    #[test]
    fn keys_that_went_away_are_stale() {
        let out = storefront(
            "r",
            "s",
            "EUR",
            &[product("A", "Oat", "drinks", Some(1), 0)],
        );
        let previous = vec![
            "meridian/v1/r/s/search/term/oat".to_owned(),
            "meridian/v1/r/s/search/term/rye".to_owned(),
        ];
        assert_eq!(
            stale_keys(&previous, &out),
            ["meridian/v1/r/s/search/term/rye"]
        );
    }

    #[test]
    fn titles_come_from_slugs() {
        assert_eq!(category_title("frozen-food"), "Frozen food");
    }

    #[test]
    fn each_skus_pairs_are_a_key_of_their_own_and_the_model_keeps_the_rest() {
        let pair = |sku: &str, orders| crate::model::Pair {
            sku: sku.into(),
            orders,
        };
        let model = Recommendations {
            v: FORMAT_VERSION,
            min_orders: 5,
            together: [
                ("A".to_owned(), vec![pair("B", 9), pair("C", 5)]),
                ("B".to_owned(), vec![pair("A", 9)]),
            ]
            .into(),
            popular: vec!["B".into()],
        };
        let (together, (key, value)) = super::model("r", "s", model);
        let keys: Vec<&str> = together.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["meridian/v1/r/s/together/A", "meridian/v1/r/s/together/B"]
        );
        let a: Together = decode(&together[0].0, &together[0].1).unwrap();
        assert_eq!(a.pairs, [pair("B", 9), pair("C", 5)]);
        assert_eq!(key, "meridian/v1/r/s/recommendations");
        let own: Recommendations = decode(&key, &value).unwrap();
        assert!(own.together.is_empty());
        assert_eq!((own.min_orders, own.popular), (5, vec!["B".to_owned()]));
    }
}
