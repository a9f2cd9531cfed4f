//! The search index: one postings list per term, ranked with BM25 at query time.
//!
//! A product's text is its title (counted twice, so a title match outranks a description
//! match), its description and its tags. A query reads only the postings of its own terms,
//! so its cost grows with how many products match, not with the catalogue.

use std::collections::{BTreeMap, HashMap};

use crate::model::{FORMAT_VERSION, Product, SearchStats, TermPostings};
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

/// Builds the index of `products` (active ones only): the statistics and each term's
/// postings, in SKU order.
pub fn build<'a>(
    products: impl IntoIterator<Item = &'a Product>,
) -> (SearchStats, BTreeMap<String, TermPostings>) {
    let mut postings: BTreeMap<String, TermPostings> = BTreeMap::new();
    let mut documents = 0u32;
    let mut total_terms = 0u64;
    let mut sorted: Vec<&Product> = products.into_iter().filter(|p| p.active).collect();
    sorted.sort_by(|a, b| a.sku.cmp(&b.sku));
    for product in sorted {
        let terms = product_terms(product);
        let length = u32::try_from(terms.len()).unwrap_or(u32::MAX);
        documents += 1;
        total_terms += u64::from(length);
        let mut frequencies: BTreeMap<String, u32> = BTreeMap::new();
        for term in terms {
            *frequencies.entry(term).or_default() += 1;
        }
        for (term, tf) in frequencies {
            postings
                .entry(term)
                .or_insert_with(|| TermPostings {
                    v: FORMAT_VERSION,
                    postings: Vec::new(),
                })
                .postings
                .push((product.sku.clone(), tf, length, product.category.clone()));
        }
    }
    let stats = SearchStats {
        v: FORMAT_VERSION,
        documents,
        total_terms,
    };
    (stats, postings)
}

/// One ranked product.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub sku: String,
    pub category: String,
    /// BM25 score times 1,000, rounded down.
    pub score: u32,
    /// The query terms it matched, in query order.
    pub matched: Vec<String>,
}

/// A ranked result: every hit in the (optional) category, best first with ties by SKU, and
/// the hits per category before filtering.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ranked {
    pub hits: Vec<Hit>,
    pub facets: Vec<(String, u32)>,
}

/// Ranks the products in `postings` (one entry per distinct query term, `None` where the
/// term is in no product) with BM25 over `stats`. A product matches if it has any term.
pub fn rank(
    stats: &SearchStats,
    postings: &[(String, Option<TermPostings>)],
    category: Option<&str>,
) -> Ranked {
    struct Acc<'a> {
        category: &'a str,
        score: f64,
        matched: Vec<&'a str>,
    }
    let n = f64::from(stats.documents.max(1));
    let average = (stats.total_terms as f64 / n).max(1.0);
    let mut acc: HashMap<&str, Acc> = HashMap::new();
    for (term, list) in postings {
        let Some(list) = list else { continue };
        let df = list.postings.len() as f64;
        let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
        for (sku, tf, length, cat) in &list.postings {
            let tf = f64::from(*tf);
            let norm = K1 * (1.0 - B + B * f64::from(*length) / average);
            let entry = acc.entry(sku.as_str()).or_insert_with(|| Acc {
                category: cat,
                score: 0.0,
                matched: Vec::new(),
            });
            entry.score += idf * tf * (K1 + 1.0) / (tf + norm);
            entry.matched.push(term);
        }
    }
    let mut facets: BTreeMap<&str, u32> = BTreeMap::new();
    for a in acc.values() {
        *facets.entry(a.category).or_default() += 1;
    }
    let mut hits: Vec<Hit> = acc
        .into_iter()
        .filter(|(_, a)| category.is_none_or(|c| a.category == c))
        .map(|(sku, a)| Hit {
            sku: sku.to_owned(),
            category: a.category.to_owned(),
            // Scores are small positive numbers; saturating is fine for display.
            score: (a.score * 1000.0) as u32,
            matched: a.matched.into_iter().map(str::to_owned).collect(),
        })
        .collect();
    hits.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.sku.cmp(&b.sku)));
    Ranked {
        hits,
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
        let (stats, index) = build(products);
        let mut terms = text::terms(query);
        terms.dedup();
        let lists: Vec<_> = terms
            .into_iter()
            .map(|t| {
                let l = index.get(&t).cloned();
                (t, l)
            })
            .collect();
        rank(&stats, &lists, category)
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
        assert_eq!(ranked.hits.len(), 1);
        assert_eq!(ranked.facets.len(), 2);
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
