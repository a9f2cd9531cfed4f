//! The search index: one postings list per term, ranked with BM25 at query time.
//!
//! A product's text is its title (counted twice, so a title match outranks a description
//! match), its description and its tags. A query reads only the postings of its own terms,
//! so its cost grows with how many products match, not with the catalogue.

use std::collections::{BTreeMap, HashMap};

use crate::model::{FORMAT_VERSION, Product, TermPostings};
use crate::text;

/// BM25's term-frequency saturation.
const K1: f64 = 1.2;
/// BM25's length normalisation.
const B: f64 = 0.75;

/// The terms of a product, duplicates kept (they are the term frequencies).
pub fn product_terms(product: &Product) -> Vec<String> {
    let title = text::terms(&product.title);
    let mut all = title.clone();
    all.extend(title);
    all.extend(text::terms(&product.description));
    for tag in &product.tags {
        all.extend(text::terms(tag));
    }
    all
}

/// Builds the postings of `products` (active ones only), each list best first (ties by
/// SKU), with every posting's BM25 impact computed over the whole corpus.
pub fn build<'a>(
    products: impl IntoIterator<Item = &'a Product>,
) -> BTreeMap<String, TermPostings> {
    let mut sorted: Vec<&Product> = products.into_iter().filter(|p| p.active).collect();
    sorted.sort_by(|a, b| a.sku.cmp(&b.sku));
    // term -> (sku, term frequency, product length, category)
    let mut raw: BTreeMap<String, Vec<(&str, u32, u32, &str)>> = BTreeMap::new();
    let mut total_terms = 0u64;
    for product in &sorted {
        let terms = product_terms(product);
        let length = u32::try_from(terms.len()).unwrap_or(u32::MAX);
        total_terms += u64::from(length);
        let mut frequencies: BTreeMap<String, u32> = BTreeMap::new();
        for term in terms {
            *frequencies.entry(term).or_default() += 1;
        }
        for (term, tf) in frequencies {
            raw.entry(term).or_default().push((
                product.sku.as_str(),
                tf,
                length,
                product.category.as_str(),
            ));
        }
    }
    let n = sorted.len().max(1) as f64;
    let average = (total_terms as f64 / n).max(1.0);
    raw.into_iter()
        .map(|(term, list)| {
            let df = list.len() as f64;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            let mut scored: Vec<(u32, &str, &str)> = list
                .iter()
                .map(|(sku, tf, length, category)| {
                    let tf = f64::from(*tf);
                    let norm = K1 * (1.0 - B + B * f64::from(*length) / average);
                    let impact = idf * tf * (K1 + 1.0) / (tf + norm);
                    // Impacts are small positive numbers; times 1,000 keeps three decimals.
                    ((impact * 1000.0).round() as u32, *sku, *category)
                })
                .collect();
            scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
            let mut names: Vec<String> = Vec::new();
            let mut categories = Vec::with_capacity(scored.len());
            for (_, _, category) in &scored {
                let index = match names.iter().position(|n| n == category) {
                    Some(i) => i,
                    None => {
                        names.push((*category).to_owned());
                        names.len() - 1
                    }
                };
                categories.push(u16::try_from(index).unwrap_or(u16::MAX));
            }
            let postings = TermPostings {
                v: FORMAT_VERSION,
                skus: scored
                    .iter()
                    .map(|(_, sku, _)| *sku)
                    .collect::<Vec<_>>()
                    .join(" "),
                impacts: scored.iter().map(|(impact, _, _)| *impact).collect(),
                categories,
                category_names: names,
            };
            (term, postings)
        })
        .collect()
}

/// One ranked product.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub sku: String,
    pub category: String,
    /// BM25 score times 1,000.
    pub score: u32,
    /// The query terms it matched, in query order.
    pub matched: Vec<String>,
}

/// A ranked result: the best `want` hits in the (optional) category, best first with ties
/// by SKU; how many hits there are in all; and the hits per category before filtering.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ranked {
    pub hits: Vec<Hit>,
    pub total: usize,
    pub facets: Vec<(String, u32)>,
}

/// Ranks the products in `postings` (one entry per distinct query term, at most 32, `None`
/// where the term is in no product) by the sum of their terms' impacts; a product matches if
/// it has any term. Only the best `want` hits are built.
pub fn rank(
    postings: &[(String, Option<TermPostings>)],
    category: Option<&str>,
    want: usize,
) -> Ranked {
    struct Acc<'a> {
        score: u32,
        matched: u32,
        category: &'a str,
    }
    let capacity = postings
        .iter()
        .filter_map(|(_, l)| l.as_ref())
        .map(|l| l.impacts.len())
        .max()
        .unwrap_or(0);
    let mut acc: HashMap<&str, Acc> = HashMap::with_capacity(capacity);
    for (i, (_, list)) in postings.iter().enumerate().take(32) {
        let Some(list) = list else { continue };
        let entries = crate::model::sku_list(&list.skus)
            .zip(&list.impacts)
            .zip(&list.categories);
        for ((sku, impact), category) in entries {
            let category = list
                .category_names
                .get(usize::from(*category))
                .map_or("", String::as_str);
            let entry = acc.entry(sku).or_insert(Acc {
                score: 0,
                matched: 0,
                category,
            });
            entry.score = entry.score.saturating_add(*impact);
            entry.matched |= 1 << i;
        }
    }
    let mut facets: BTreeMap<&str, u32> = BTreeMap::new();
    for a in acc.values() {
        *facets.entry(a.category).or_default() += 1;
    }
    let mut hits: Vec<(&str, &Acc)> = acc
        .iter()
        .filter(|(_, a)| category.is_none_or(|c| a.category == c))
        .map(|(sku, a)| (*sku, a))
        .collect();
    let total = hits.len();
    let order =
        |a: &(&str, &Acc), b: &(&str, &Acc)| b.1.score.cmp(&a.1.score).then_with(|| a.0.cmp(b.0));
    if want < hits.len() {
        if want > 0 {
            hits.select_nth_unstable_by(want - 1, order);
        }
        hits.truncate(want);
    }
    hits.sort_by(order);
    Ranked {
        hits: hits
            .into_iter()
            .map(|(sku, a)| Hit {
                sku: sku.to_owned(),
                category: a.category.to_owned(),
                score: a.score,
                matched: postings
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i < 32 && a.matched & (1 << i) != 0)
                    .map(|(_, (term, _))| term.clone())
                    .collect(),
            })
            .collect(),
        total,
        facets: facets.into_iter().map(|(c, n)| (c.to_owned(), n)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(sku: &str, title: &str, description: &str, category: &str) -> Product {
        let mut p = crate::fixtures::product(sku, category);
        p.title = title.into();
        p.description = description.into();
        p
    }

    fn search(products: &[Product], query: &str, category: Option<&str>) -> Ranked {
        let index = build(products);
        let mut terms = text::terms(query);
        terms.dedup();
        let lists: Vec<_> = terms
            .into_iter()
            .map(|t| {
                let l = index.get(&t).cloned();
                (t, l)
            })
            .collect();
        rank(&lists, category, 10)
    }

    #[test]
    fn a_title_match_outranks_a_description_match() {
        let products = [
            product("A", "Oat milk", "creamy drink", "drinks"),
            product("B", "Porridge", "made with oat flakes and milk", "pantry"),
            product("C", "Sourdough", "crusty loaf", "bakery"),
        ];
        let ranked = search(&products, "OAT", None);
        let skus: Vec<_> = ranked.hits.iter().map(|h| h.sku.as_str()).collect();
        assert_eq!(skus, ["A", "B"]);
        assert_eq!(ranked.facets, [("drinks".into(), 1), ("pantry".into(), 1)]);
    }

    #[test]
    fn matching_more_terms_ranks_higher_and_reports_them() {
        let products = [
            product("A", "Oat milk", "", "drinks"),
            product("B", "Whole milk", "", "dairy"),
        ];
        let ranked = search(&products, "oat milks", None);
        assert_eq!(ranked.hits[0].sku, "A");
        assert_eq!(ranked.hits[0].matched, ["oat", "milk"]);
        assert_eq!(ranked.hits[1].matched, ["milk"]);
    }

    #[test]
    fn a_category_filter_keeps_facets_of_the_whole_result() {
        let products = [
            product("A", "Oat milk", "", "drinks"),
            product("B", "Whole milk", "", "dairy"),
        ];
        let ranked = search(&products, "milk", Some("dairy"));
        assert_eq!((ranked.hits.len(), ranked.total), (1, 1));
        assert_eq!(ranked.facets.len(), 2);
    }

    #[test]
    fn only_the_best_hits_asked_for_are_built_but_all_are_counted() {
        let products: Vec<Product> = (0..30)
            .map(|i| {
                product(
                    &format!("P{i:02}"),
                    "Bread",
                    &"crusty ".repeat(i % 5),
                    "bakery",
                )
            })
            .collect();
        let index = build(&products);
        let lists = vec![("bread".to_owned(), index.get("bread").cloned())];
        let top = rank(&lists, None, 3);
        assert_eq!(top.total, 30);
        assert_eq!(top.hits.len(), 3);
        let all = rank(&lists, None, 30);
        assert_eq!(top.hits[..], all.hits[..3]);
    }

    #[test]
    fn equal_scores_are_ordered_by_sku_and_inactive_products_are_not_indexed() {
        let mut products = vec![
            product("B", "Bread", "", "bakery"),
            product("A", "Bread", "", "bakery"),
            product("C", "Bread", "", "bakery"),
        ];
        products[2].active = false;
        let ranked = search(&products, "bread", None);
        let skus: Vec<_> = ranked.hits.iter().map(|h| h.sku.as_str()).collect();
        assert_eq!(skus, ["A", "B"]);
    }
}
