//! The search index: one postings list per term, with BM25 computed when it is built.
//!
//! A product's text is its title (counted twice, so a title match outranks a description
//! match), its description and its tags. Products are numbered (document ids, in SKU order);
//! a query reads only the postings of its own terms and adds their impacts in a dense array
//! indexed by document id, so its cost grows with how many postings it reads, a few
//! nanoseconds each, not with the catalogue.

use std::collections::BTreeMap;

use crate::model::{DocsView, PostingsView, Product, SearchDocs, TermPostings};
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

/// FNV-1a, 64 bits: a stable fingerprint of a document numbering.
fn fingerprint(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Builds the index of `products` (active ones only): the document table and each term's
/// postings, with every posting's BM25 impact computed over the whole corpus.
pub fn build<'a>(
    products: impl IntoIterator<Item = &'a Product>,
) -> (SearchDocs, BTreeMap<String, TermPostings>) {
    let mut sorted: Vec<&Product> = products.into_iter().filter(|p| p.active).collect();
    sorted.sort_by(|a, b| a.sku.cmp(&b.sku));
    let generation = fingerprint(
        &sorted
            .iter()
            .map(|p| p.sku.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    );
    // term -> (document id, term frequency, product length, category)
    let mut raw: BTreeMap<String, Vec<(u32, u32, u32, &str)>> = BTreeMap::new();
    let mut total_terms = 0u64;
    for (id, product) in sorted.iter().enumerate() {
        let id = u32::try_from(id).unwrap_or(u32::MAX);
        let terms = product_terms(product);
        let length = u32::try_from(terms.len()).unwrap_or(u32::MAX);
        total_terms += u64::from(length);
        let mut frequencies: BTreeMap<String, u32> = BTreeMap::new();
        for term in terms {
            *frequencies.entry(term).or_default() += 1;
        }
        for (term, tf) in frequencies {
            raw.entry(term)
                .or_default()
                .push((id, tf, length, product.category.as_str()));
        }
    }
    let n = sorted.len().max(1) as f64;
    let average = (total_terms as f64 / n).max(1.0);
    let postings = raw
        .into_iter()
        .map(|(term, list)| {
            let df = list.len() as f64;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            let mut names: Vec<String> = Vec::new();
            let mut postings = TermPostings {
                generation,
                docs: Vec::with_capacity(list.len()),
                impacts: Vec::with_capacity(list.len()),
                categories: Vec::with_capacity(list.len()),
                category_names: Vec::new(),
            };
            for (id, tf, length, category) in list {
                let tf = f64::from(tf);
                let norm = K1 * (1.0 - B + B * f64::from(length) / average);
                let impact = idf * tf * (K1 + 1.0) / (tf + norm);
                let index = match names.iter().position(|n| n == category) {
                    Some(i) => i,
                    None => {
                        names.push(category.to_owned());
                        names.len() - 1
                    }
                };
                postings.docs.push(id);
                // Impacts are small positive numbers; times 1,000 keeps three decimals.
                postings.impacts.push((impact * 1000.0).round() as u32);
                postings
                    .categories
                    .push(u16::try_from(index).unwrap_or(u16::MAX));
            }
            postings.category_names = names;
            (term, postings)
        })
        .collect();
    let docs = SearchDocs {
        generation,
        skus: sorted.iter().map(|p| p.sku.clone()).collect(),
    };
    (docs, postings)
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
/// it has any term. `docs` names the documents; postings of another generation (a rebuild
/// half written) are left out. Only the best `want` hits are built.
pub fn rank(
    docs: &DocsView<'_>,
    postings: &[(String, Option<PostingsView<'_>>)],
    category: Option<&str>,
    want: usize,
) -> Ranked {
    let mut scores = vec![0u32; docs.len()];
    let mut matched = vec![0u32; docs.len()];
    // Each matching document once, with its category.
    let mut touched: Vec<(u32, &str)> = Vec::new();
    for (i, (_, list)) in postings.iter().enumerate().take(32) {
        let Some(list) = list.filter(|l| l.generation == docs.generation) else {
            continue;
        };
        let names = list.category_names();
        let entries = list.docs().zip(list.impacts()).zip(list.categories());
        for ((id, impact), category) in entries {
            let Some(score) = scores.get_mut(id as usize) else {
                continue;
            };
            *score = score.saturating_add(impact);
            let mask = &mut matched[id as usize];
            if *mask == 0 {
                touched.push((id, names.get(usize::from(category)).copied().unwrap_or("")));
            }
            *mask |= 1 << i;
        }
    }
    let mut facets: BTreeMap<&str, u32> = BTreeMap::new();
    for (_, c) in &touched {
        *facets.entry(c).or_default() += 1;
    }
    touched.retain(|(_, c)| category.is_none_or(|want| *c == want));
    let total = touched.len();
    // Ids are in SKU order, so comparing ids breaks ties by SKU.
    let order = |a: &(u32, &str), b: &(u32, &str)| {
        scores[b.0 as usize]
            .cmp(&scores[a.0 as usize])
            .then_with(|| a.0.cmp(&b.0))
    };
    if want < touched.len() {
        if want > 0 {
            touched.select_nth_unstable_by(want - 1, order);
        }
        touched.truncate(want);
    }
    touched.sort_by(order);
    Ranked {
        hits: touched
            .into_iter()
            .map(|(id, c)| Hit {
                sku: docs.sku(id).unwrap_or_default().to_owned(),
                category: c.to_owned(),
                score: scores[id as usize],
                matched: postings
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i < 32 && matched[id as usize] & (1 << i) != 0)
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
        let (docs, index) = build(products);
        let docs_bytes = docs.to_bytes();
        let docs = DocsView::parse("d", &docs_bytes).unwrap();
        let mut terms = text::terms(query);
        terms.dedup();
        let bytes: Vec<_> = terms
            .into_iter()
            .map(|t| {
                let b = index.get(&t).map(TermPostings::to_bytes);
                (t, b)
            })
            .collect();
        let lists: Vec<_> = bytes
            .iter()
            .map(|(t, b)| {
                (
                    t.clone(),
                    b.as_ref().map(|b| PostingsView::parse("k", b).unwrap()),
                )
            })
            .collect();
        rank(&docs, &lists, category, 10)
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
        let (docs, index) = build(&products);
        let docs_bytes = docs.to_bytes();
        let view = DocsView::parse("d", &docs_bytes).unwrap();
        let bytes = index["bread"].to_bytes();
        let lists = vec![(
            "bread".to_owned(),
            Some(PostingsView::parse("k", &bytes).unwrap()),
        )];
        let top = rank(&view, &lists, None, 3);
        assert_eq!(top.total, 30);
        assert_eq!(top.hits.len(), 3);
        let all = rank(&view, &lists, None, 30);
        // Postings of another numbering are not used.
        let other = SearchDocs {
            generation: docs.generation + 1,
            ..docs.clone()
        }
        .to_bytes();
        let other = DocsView::parse("d", &other).unwrap();
        assert_eq!(rank(&other, &lists, None, 30).total, 0);
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
