//! Search (`GET /search?q=`): ranked results with category facets, the terms highlighted.

use leptos::prelude::*;

use crate::app::{Ctx, PER_PAGE, page_number};
use crate::bindings::meridian::catalogue::catalogue::SearchResults;
use crate::components::ProductCard;
use crate::http::Response;
use crate::services::catalogue::{self, PageRequest, Sort};

pub(crate) fn search(ctx: &Ctx) -> Response {
    let query = ctx.request.query_field("q").unwrap_or_default();
    let category = ctx
        .request
        .query_field("category")
        .filter(|c| !c.is_empty());
    let page = match page_number(ctx) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let results = if query.trim().is_empty() {
        None
    } else {
        let request = PageRequest {
            page,
            per_page: PER_PAGE,
            sort: Sort::Name,
        };
        match catalogue::search(&ctx.scope, &query, category.as_deref(), request) {
            Ok(r) => Some(r),
            Err(catalogue::CatalogueError::BadRequest(_)) => None,
            Err(e) => return ctx.error(503, format!("Search is unavailable ({e:?}).")),
        }
    };
    let title = if query.is_empty() {
        "Search".to_owned()
    } else {
        format!("Search: {query}")
    };
    let shown = query.clone();
    ctx.page(200, &title, &shown, move || {
        view(&query, category.as_deref(), results)
    })
}

pub fn view(query: &str, category: Option<&str>, results: Option<SearchResults>) -> AnyView {
    let Some(results) = results.filter(|r| r.total > 0) else {
        let message = if query.trim().is_empty() {
            "Type what you are looking for: bread, milk, apples…".to_owned()
        } else {
            format!(
                "Nothing matches “{query}”. Check the spelling, try fewer words, or browse the aisles."
            )
        };
        return view! {
            <h1>"Search"</h1>
            <p class="empty">{message}</p>
            <p><a href="/">"Browse the aisles"</a></p>
        }
        .into_any();
    };
    let q = crate::http::encode(query);
    let facets = results
        .facets
        .iter()
        .map(|f| {
            let current = (Some(f.category.as_str()) == category).then_some("true");
            super::list_link(
                format!("/search?q={q}&category={}", f.category),
                format!("{} ({})", f.category, f.hits),
                current,
            )
        })
        .collect_view();
    let terms = results.terms.clone();
    let cards = results
        .hits
        .into_iter()
        .map(|hit| {
            let mut marks = terms.clone();
            marks.extend(hit.matched);
            view! { <li><ProductCard product=hit.product highlight=marks/></li> }
        })
        .collect_view();
    let pages = results.total.div_ceil(results.per_page.max(1));
    let base = match category {
        Some(c) => format!("/search?q={q}&category={c}"),
        None => format!("/search?q={q}"),
    };
    view! {
        <h1>{format!("Results for “{query}”")}</h1>
        <p class="count">{format!("{} products", results.total)}</p>
        <nav class="facets" aria-label="Filter by aisle">
            <ul>
                <li><a href=format!("/search?q={q}")>"All aisles"</a></li>
                {facets}
            </ul>
        </nav>
        <ul class="grid">{cards}</ul>
        {super::pagination(&base, results.page, pages)}
    }
    .into_any()
}
