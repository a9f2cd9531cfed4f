//! An aisle (`GET /c/{slug}`): a category's products, sorted, filtered by tag and paged.

use leptos::prelude::*;

use crate::app::{Ctx, PER_PAGE, page_number};
use crate::bindings::meridian::catalogue::catalogue::Listing;
use crate::components::ProductCard;
use crate::http::Response;
use crate::services::catalogue::{self, PageRequest, Sort};

pub(crate) fn category(ctx: &Ctx, slug: &str) -> Response {
    let page = match page_number(ctx) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let sort_key = ctx
        .request
        .query_field("sort")
        .unwrap_or_else(|| "name".into());
    let sort = match sort_key.as_str() {
        "name" => Sort::Name,
        "price" => Sort::PriceAscending,
        "price-desc" => Sort::PriceDescending,
        "popularity" => Sort::Popularity,
        _ => return ctx.error(400, "Sort by name, price, price-desc or popularity.".into()),
    };
    let tag = ctx
        .request
        .query_field("tag")
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty());
    if tag.as_ref().is_some_and(|t| t.len() > 64) {
        return ctx.error(400, "A tag filter has at most 64 characters.".into());
    }
    let request = PageRequest {
        page,
        per_page: PER_PAGE,
        sort,
    };
    match catalogue::category_page(&ctx.scope, slug, tag.as_deref(), request) {
        Ok(listing) => {
            // The aisle's title from its slug (`frozen-food` → `Frozen food`): one catalogue
            // call fewer per listing page.
            let title = aisle_title(slug);
            let slug = slug.to_owned();
            ctx.page(200, &title.clone(), "", move || {
                view(title, &slug, &sort_key, tag.as_deref(), listing)
            })
        }
        Err(
            catalogue::CatalogueError::UnknownCategory(_)
            | catalogue::CatalogueError::BadRequest(_),
        ) => ctx.not_found("this aisle"),
        Err(e) => ctx.error(503, format!("The catalogue is unavailable ({e:?}).")),
    }
}

pub(crate) fn aisle_title(slug: &str) -> String {
    let words = slug.replace('-', " ");
    let mut chars = words.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// An aisle: its sort orders, its tag filters (`tag` is the one applied) and a page of
/// products.
pub fn view(title: String, slug: &str, sort: &str, tag: Option<&str>, listing: Listing) -> AnyView {
    let pages = listing.total.div_ceil(listing.per_page.max(1));
    // `&tag=…` for links that keep the filter.
    let keep_tag = tag.map_or(String::new(), |t| {
        format!("&tag={}", crate::http::encode(t))
    });
    let sorts = [
        ("name", "Name"),
        ("price", "Price: low to high"),
        ("price-desc", "Price: high to low"),
        ("popularity", "Popularity"),
    ]
    .into_iter()
    .map(|(key, label)| {
        let current = (key == sort).then_some("true");
        super::list_link(
            format!("/c/{slug}?sort={key}{keep_tag}"),
            label.to_owned(),
            current,
        )
    })
    .collect_view();
    let filters = (!listing.tags.is_empty()).then(|| {
        let all = super::list_link(
            format!("/c/{slug}?sort={sort}"),
            "All".to_owned(),
            tag.is_none().then_some("true"),
        );
        let links = listing
            .tags
            .iter()
            .map(|f| {
                let current = (Some(f.tag.as_str()) == tag).then_some("true");
                super::list_link(
                    format!("/c/{slug}?sort={sort}&tag={}", crate::http::encode(&f.tag)),
                    format!("{} ({})", f.tag, f.products),
                    current,
                )
            })
            .collect_view();
        view! { <nav class="facets" aria-label="Filter by"><ul>{all}{links}</ul></nav> }
    });
    let count = match tag {
        Some(t) => format!("{} products tagged “{t}”", listing.total),
        None => format!("{} products", listing.total),
    };
    let body = if listing.total == 0 {
        let all = format!("/c/{slug}?sort={sort}");
        view! {
            <p class="empty">"No product in this aisle carries that tag. "
                <a href=all>"Show the whole aisle"</a></p>
        }
        .into_any()
    } else {
        let cards = listing
            .items
            .into_iter()
            .map(|p| view! { <li><ProductCard product=p/></li> })
            .collect_view();
        view! { <ul class="grid">{cards}</ul> }.into_any()
    };
    let base = format!("/c/{slug}?sort={sort}{keep_tag}");
    view! {
        <h1>{title}</h1>
        <p class="count">{count}</p>
        <nav class="sort" aria-label="Sort by"><ul>{sorts}</ul></nav>
        {filters}
        {body}
        {super::pagination(&base, listing.page, pages)}
    }
    .into_any()
}
