//! The region page (`GET /region`, `POST /region`): where the shopper is served and their data kept, and choosing a country.

use leptos::prelude::*;

use crate::app::{CART_COOKIE, COUNTRY_COOKIE, Ctx, PROMO_COOKIE, YEAR, all_countries};
use crate::components::Csrf;
use crate::http::{Response, field};
use crate::site::{self, Site};

pub(crate) fn region_page(ctx: &Ctx) -> Response {
    let country = ctx
        .site
        .country
        .or_else(|| ctx.site.region.countries.first());
    let explanation = country.map_or_else(String::new, |c| c.explanation.to_owned());
    let site = ctx.site.clone();
    ctx.page(200, "Your region", "", move || {
        view(&site, explanation, all_countries())
    })
}

pub(crate) fn choose_region(ctx: &mut Ctx) -> Response {
    let form = ctx.request.form();
    if !ctx.csrf_ok(&form) {
        return ctx.error(
            403,
            "This form expired. Please go back, reload the page and try again.".into(),
        );
    }
    match field(&form, "country").and_then(site::country) {
        Some(c) => {
            ctx.set(COUNTRY_COOKIE, &c.code, YEAR);
            // A cart belongs to one region's catalogue and prices.
            if site::home_region(&c.code).id != ctx.site.region.id {
                ctx.set(CART_COOKIE, "", 0);
                ctx.set(PROMO_COOKIE, "", 0);
            }
            ctx.finish(Response::redirect("/region"))
        }
        None => ctx.error(422, "Choose a country from the list.".into()),
    }
}

pub fn view(site: &Site, explanation: String, countries: Vec<(String, String)>) -> AnyView {
    let chosen = site.country.map(|c| c.code.to_owned()).unwrap_or_default();
    let options = countries
        .into_iter()
        .map(|(code, name)| {
            let selected = code == chosen;
            view! { <option value=code selected=selected>{name}</option> }
        })
        .collect_view();
    let pinned = match &site.region.pinned {
        Some(regulation) => format!(
            "Your personal details (name, email, address, payment and orders) are kept only in the {} region, under {regulation}. The shop's edge servers never store them.",
            site.region.name
        ),
        None => format!(
            "Your personal details are kept in the {} region. The shop's edge servers never store them.",
            site.region.name
        ),
    };
    view! {
        <h1>"Your region"</h1>
        <p>{format!("You are served by our {} region ({}); prices are in {}.", site.region.name, site.region.id, site.region.currency)}</p>
        <p>{pinned}</p>
        <pre class="explain">{explanation}</pre>
        <form method="post" action="/region">
            <Csrf/>
            <label for="country">"Your country"</label>
            <select id="country" name="country">{options}</select>
            <button type="submit">"Save"</button>
        </form>
    }
    .into_any()
}
