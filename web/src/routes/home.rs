//! The home page (`GET /`): the hero, the aisles and popular products.

use leptos::prelude::*;

use crate::app::Ctx;
use crate::bindings::Recommendation;
use crate::bindings::meridian::catalogue::catalogue::Category;
use crate::bindings::meridian::types::types::Cart;
use crate::components::{Hero, RecommendationRail};
use crate::http::Response;
use crate::services::catalogue::{self};
use crate::services::personalisation::PageContext;

pub(crate) fn home(ctx: &Ctx, cart: Option<&Cart>) -> Response {
    let categories = catalogue::categories(&ctx.scope).unwrap_or_default();
    let popular = ctx.recommend(PageContext::Home, cart, 8);
    ctx.page(200, "Home", "", move || view(categories, popular))
}

pub fn view(categories: Vec<Category>, popular: Vec<Recommendation>) -> AnyView {
    let links = categories
        .into_iter()
        .map(|c| {
            let href = format!("/c/{}", c.slug);
            view! { <li><a href=href>{c.title}</a> <small>{format!("{} products", c.products)}</small></li> }
        })
        .collect_view();
    view! {
        <Hero/>
        <section aria-labelledby="categories">
            <h2 id="categories">"Shop by aisle"</h2>
            <ul class="aisles">{links}</ul>
        </section>
        <RecommendationRail title="Popular in your region" id="popular" items=popular/>
    }
    .into_any()
}
