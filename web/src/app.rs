//! The storefront's routes: each handler reads the request, calls the edge components (and,
//! for checkout and order status, the shopper's home region core through the edge node),
//! and renders a page.
//!
//! Session state lives in cookies, all `HttpOnly; SameSite=Lax` (and `Secure` over TLS):
//! the cart id, the CSRF token, the chosen country, the promo code and recently viewed
//! SKUs. None of it is personal data; the checkout form goes straight to the core and is
//! never stored here.

use leptos::prelude::AnyView;

use crate::bindings::meridian::types::types::{Cart, Line};
use crate::bindings::{Quote, Recommendation, Scope};
use crate::http::{Request, Response, field, random_token, set_cookie, valid_token};
use crate::pages::{self, CartView, CheckoutForm, OrderView};
use crate::services::catalogue::{self, PageRequest, Sort};
use crate::services::personalisation::{self, PageContext, SessionSignals};
use crate::services::{cart, pricing};
use crate::site::{self, RegionInfo, Site};

pub const CART_COOKIE: &str = "meridian_cart";
pub const CSRF_COOKIE: &str = "meridian_csrf";
pub const COUNTRY_COOKIE: &str = "meridian_country";
/// The header in which the CDN (or the edge node) names the shopper's country.
pub const COUNTRY_HEADER: &str = "x-meridian-country";
pub const PROMO_COOKIE: &str = "meridian_promo";
pub const VIEWED_COOKIE: &str = "meridian_viewed";
pub const LAST_ORDER_COOKIE: &str = "meridian_last_order";
/// Products per listing page.
pub const PER_PAGE: u32 = 24;
const YEAR: u64 = 365 * 24 * 3600;
const MONTH: u64 = 30 * 24 * 3600;

/// One request in progress: its page context and the cookies to set.
struct Ctx<'a> {
    request: &'a Request,
    site: Site,
    scope: Scope,
    cart_id: Option<String>,
    cookies: Vec<String>,
}

impl Ctx<'_> {
    fn tls(&self) -> bool {
        self.request.is_tls()
    }

    fn set(&mut self, name: &str, value: &str, max_age: u64) {
        let tls = self.tls();
        self.cookies.push(set_cookie(name, value, max_age, tls));
    }

    fn page(
        &self,
        status: u16,
        title: &str,
        query: &str,
        body: impl FnOnce() -> AnyView,
    ) -> Response {
        let html = pages::document(self.site.clone(), title, query, body);
        self.finish(Response::html(status, html))
    }

    fn finish(&self, mut response: Response) -> Response {
        for c in &self.cookies {
            response = response.with_header("set-cookie", c.clone());
        }
        response
    }

    fn not_found(&self, what: &str) -> Response {
        let what = what.to_owned();
        self.page(404, "Not found", "", move || pages::not_found(&what))
    }

    fn error(&self, status: u16, text: String) -> Response {
        self.page(status, "Error", "", move || pages::error(text))
    }

    /// The shopper's cart, if the cookie names a live one.
    fn cart(&self) -> Option<Cart> {
        let id = self.cart_id.as_deref()?;
        cart::get(&self.scope, id).ok()
    }

    fn signals(&self, cart: Option<&Cart>) -> SessionSignals {
        let viewed = self
            .request
            .cookie(VIEWED_COOKIE)
            .unwrap_or("")
            .split('.')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        SessionSignals {
            cart: cart
                .map(|c| c.lines.iter().map(|l| l.sku.clone()).collect())
                .unwrap_or_default(),
            recently_viewed: viewed,
        }
    }

    fn recommend(&self, page: PageContext, cart: Option<&Cart>, limit: u32) -> Vec<Recommendation> {
        personalisation::recommend(&self.scope, &page, &self.signals(cart), limit)
            .unwrap_or_default()
    }

    /// Whether a posted form carries this session's CSRF token.
    fn csrf_ok(&self, form: &[(String, String)]) -> bool {
        let cookie = self.request.cookie(CSRF_COOKIE);
        cookie.is_some_and(valid_token) && field(form, "csrf") == cookie
    }

    fn promo(&self) -> Option<String> {
        self.request
            .cookie(PROMO_COOKIE)
            .filter(|c| valid_promo(c))
            .map(str::to_owned)
    }

    fn quote(&self, cart: &Cart, promo: Option<&str>) -> Result<Quote, pricing::PricingError> {
        let lines: Vec<Line> = cart.lines.clone();
        let codes: Vec<String> = promo.into_iter().map(str::to_owned).collect();
        pricing::quote_cart(&self.scope, &self.site.pricing_country(), &lines, &codes)
    }
}

fn valid_promo(code: &str) -> bool {
    (1..=32).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The countries a region's shoppers may choose, as (code, name), sorted by name.
fn countries_of(region: &RegionInfo) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = region
        .countries
        .iter()
        .map(|c| (c.code.to_owned(), c.name.to_owned()))
        .collect();
    list.sort_by(|a, b| a.1.cmp(&b.1));
    list
}

/// Every country some region lists, for the region chooser.
fn all_countries() -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = site::REGIONS.iter().flat_map(countries_of).collect();
    list.sort_by(|a, b| a.1.cmp(&b.1));
    list.dedup();
    list
}

/// Answers one request.
pub fn handle(request: &Request) -> Response {
    let storefront = crate::merchants::for_host(request.header("host"));
    let region = site::home_of(
        request.header(COUNTRY_HEADER),
        request.cookie(COUNTRY_COOKIE),
    );
    let country = request
        .header(COUNTRY_HEADER)
        .or_else(|| request.cookie(COUNTRY_COOKIE))
        .and_then(site::country)
        .filter(|c| site::home_region(c.code).id == region.id);
    let existing_csrf = request.cookie(CSRF_COOKIE).filter(|t| valid_token(t));
    let csrf = existing_csrf.map_or_else(random_token, str::to_owned);
    let scope = Scope {
        region: region.id.to_owned(),
        storefront: storefront.tokens.namespace.clone(),
    };
    let mut ctx = Ctx {
        request,
        site: Site {
            storefront: storefront.clone(),
            region,
            country,
            csrf: csrf.clone(),
            cart_units: 0,
        },
        scope,
        cart_id: request
            .cookie(CART_COOKIE)
            .filter(|c| valid_token(c))
            .map(str::to_owned),
        cookies: Vec::new(),
    };
    if existing_csrf.is_none() {
        ctx.set(CSRF_COOKIE, &csrf, MONTH);
    }
    let cart = ctx.cart();
    ctx.site.cart_units = cart
        .as_ref()
        .map_or(0, |c| c.lines.iter().map(|l| l.quantity).sum());

    let path = request.path.clone();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match (request.method.as_str(), segments.as_slice()) {
        ("GET", []) => home(&ctx, cart.as_ref()),
        ("GET", ["c", slug]) => category(&ctx, slug),
        ("GET", ["search"]) => search(&ctx),
        ("GET", ["p", sku]) => product(&mut ctx, sku, cart.as_ref()),
        ("GET", ["images", file]) => image(file),
        ("GET", ["cart"]) => cart_page(&mut ctx, cart, None, 200),
        ("POST", ["cart", action]) => cart_action(&mut ctx, action, cart),
        ("GET", ["checkout"]) => checkout_page(&ctx, cart, CheckoutForm::default(), 200),
        ("POST", ["checkout"]) => checkout(&mut ctx, cart),
        ("GET", ["orders", id]) => order(&ctx, id),
        ("GET", ["region"]) => region_page(&ctx),
        ("POST", ["region"]) => choose_region(&mut ctx),
        ("GET" | "POST", _) => ctx.not_found("this page"),
        _ => ctx.finish(Response {
            status: 405,
            headers: vec![("allow".into(), "GET, POST".into())],
            body: b"method not allowed".to_vec(),
        }),
    }
}

fn home(ctx: &Ctx, cart: Option<&Cart>) -> Response {
    let categories = catalogue::categories(&ctx.scope).unwrap_or_default();
    let popular = ctx.recommend(PageContext::Home, cart, 8);
    ctx.page(200, "Home", "", move || pages::home(categories, popular))
}

fn page_number(ctx: &Ctx) -> Result<u32, Response> {
    match ctx.request.query_field("page") {
        None => Ok(1),
        Some(p) => p
            .parse::<u32>()
            .ok()
            .filter(|p| (1..=10_000).contains(p))
            .ok_or_else(|| ctx.error(400, "The page number must be a whole number from 1.".into())),
    }
}

fn category(ctx: &Ctx, slug: &str) -> Response {
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
                pages::category(title, &slug, &sort_key, tag.as_deref(), listing)
            })
        }
        Err(
            catalogue::CatalogueError::UnknownCategory(_)
            | catalogue::CatalogueError::BadRequest(_),
        ) => ctx.not_found("this aisle"),
        Err(e) => ctx.error(503, format!("The catalogue is unavailable ({e:?}).")),
    }
}

fn aisle_title(slug: &str) -> String {
    let words = slug.replace('-', " ");
    let mut chars = words.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

fn search(ctx: &Ctx) -> Response {
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
        pages::search(&query, category.as_deref(), results)
    })
}

fn product(ctx: &mut Ctx, sku: &str, cart: Option<&Cart>) -> Response {
    let detail = match catalogue::product(&ctx.scope, sku) {
        Ok(d) => d,
        Err(
            catalogue::CatalogueError::UnknownSku(_) | catalogue::CatalogueError::BadRequest(_),
        ) => {
            return ctx.not_found("this product");
        }
        Err(e) => return ctx.error(503, format!("The catalogue is unavailable ({e:?}).")),
    };
    // The price as the shopper would pay it for one unit, with the region's tax rules.
    let one = Cart {
        id: String::new(),
        version: 0,
        lines: vec![Line {
            sku: sku.to_owned(),
            quantity: 1,
        }],
        expires_at: 0,
    };
    let quote = ctx.quote(&one, None).ok();
    let together = ctx.recommend(PageContext::Product(sku.to_owned()), cart, 6);
    // Remember the last ten products viewed (SKUs only) for recommendations.
    let mut viewed: Vec<String> = vec![sku.to_owned()];
    viewed.extend(
        ctx.request
            .cookie(VIEWED_COOKIE)
            .unwrap_or("")
            .split('.')
            .filter(|s| !s.is_empty() && *s != sku && s.len() <= 64)
            .take(9)
            .map(str::to_owned),
    );
    if viewed.iter().all(|s| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }) {
        ctx.set(VIEWED_COOKIE, &viewed.join("."), MONTH);
    }
    let title = detail.summary.title.clone();
    ctx.page(200, &title, "", move || {
        pages::product(detail, quote, together)
    })
}

/// A generated SVG placeholder for a product image: the SKU on a colour from its hash.
fn image(file: &str) -> Response {
    let Some(sku) = file.strip_suffix(".svg") else {
        return Response::html(404, String::new());
    };
    let safe: String = sku
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect();
    let hue = safe
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 360;
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 320 240\" role=\"img\" aria-label=\"{safe}\"><rect width=\"320\" height=\"240\" fill=\"hsl({hue},45%,85%)\"/><text x=\"160\" y=\"128\" font-family=\"sans-serif\" font-size=\"22\" text-anchor=\"middle\" fill=\"#1f2328\">{safe}</text></svg>"
    );
    Response {
        status: 200,
        headers: vec![
            ("content-type".into(), "image/svg+xml".into()),
            ("cache-control".into(), "public, max-age=86400".into()),
        ],
        body: svg.into_bytes(),
    }
}

/// Words for a pricing problem.
fn pricing_problem(e: &pricing::PricingError) -> String {
    use pricing::PricingError as E;
    match e {
        E::UnknownPromoCode(c) => format!("The promo code {c} does not exist."),
        E::PromoExpired(c) => format!("The promo code {c} has expired."),
        E::MinimumSpendNotMet(c) => format!("Your cart does not reach the minimum spend for {c}."),
        E::PromoNotApplicable(c) => format!("The promo code {c} does not apply to this cart."),
        E::PromotionsDoNotStack(c) => format!("{c} cannot be combined with another code."),
        E::UnknownSku(s) => format!("{s} is no longer sold here; please remove it."),
        E::BadQuantity(q) => format!("{q} is not a quantity we can sell (1 to 1,000)."),
        other => format!("Prices are unavailable right now ({other:?})."),
    }
}

fn cart_page(ctx: &mut Ctx, cart: Option<Cart>, problem: Option<String>, status: u16) -> Response {
    let mut view = CartView {
        problem,
        ..CartView::default()
    };
    if let Some(cart) = cart.filter(|c| !c.lines.is_empty()) {
        for line in &cart.lines {
            if let Ok(p) = catalogue::product(&ctx.scope, &line.sku) {
                view.lines.push((p.summary, line.quantity));
            }
        }
        view.promo = ctx.promo();
        view.quote = match ctx.quote(&cart, view.promo.as_deref()) {
            Ok(q) => Some(q),
            Err(e) => {
                view.problem.get_or_insert_with(|| pricing_problem(&e));
                // A code that does not apply is dropped once the shopper has been told, so
                // checkout is not refused for it.
                if view.promo.take().is_some() {
                    ctx.set(PROMO_COOKIE, "", 0);
                }
                ctx.quote(&cart, None).ok()
            }
        };
        view.also = ctx.recommend(PageContext::Cart, Some(&cart), 6);
    }
    ctx.page(status, "Your cart", "", move || pages::cart(view))
}

/// Words for a cart problem.
fn cart_problem(e: &cart::CartError) -> String {
    use cart::CartError as E;
    match e {
        E::UnknownSku(s) => format!("We do not sell {s} here."),
        E::BadQuantity(q) => format!("{q} is not a quantity we can sell (1 to 1,000 per product)."),
        E::TooManyLines => "A cart holds at most 100 different products.".into(),
        E::NotInCart(s) => format!("{s} is not in your cart."),
        E::Conflict => "Your cart changed at the same time; please try again.".into(),
        other => format!("Your cart is unavailable right now ({other:?})."),
    }
}

fn cart_action(ctx: &mut Ctx, action: &str, cart: Option<Cart>) -> Response {
    let form = ctx.request.form();
    if !ctx.csrf_ok(&form) {
        return ctx.error(
            403,
            "This form expired. Please go back, reload the page and try again.".into(),
        );
    }
    if action == "promo" {
        let code = field(&form, "code")
            .unwrap_or("")
            .trim()
            .to_ascii_uppercase();
        if code.is_empty() {
            ctx.set(PROMO_COOKIE, "", 0);
        } else if valid_promo(&code) {
            ctx.set(PROMO_COOKIE, &code, MONTH);
        } else {
            return cart_page(
                ctx,
                cart,
                Some("A promo code is letters, digits and dashes.".into()),
                422,
            );
        }
        return ctx.finish(Response::redirect("/cart"));
    }
    let sku = field(&form, "sku").unwrap_or("").to_owned();
    let quantity = field(&form, "quantity").map(|q| q.trim().parse::<u32>());
    let quantity = match (action, quantity) {
        ("remove", _) => 0,
        (_, Some(Ok(q))) => q,
        _ => {
            return cart_page(
                ctx,
                cart,
                Some("The quantity must be a whole number from 1 to 1,000.".into()),
                422,
            );
        }
    };
    let id = match (&cart, action) {
        (Some(c), _) => c.id.clone(),
        (None, "add") => match cart::create(&ctx.scope) {
            Ok(c) => {
                ctx.set(CART_COOKIE, &c.id, MONTH);
                ctx.cart_id = Some(c.id.clone());
                c.id
            }
            Err(e) => return cart_page(ctx, None, Some(cart_problem(&e)), 503),
        },
        (None, _) => return ctx.finish(Response::redirect("/cart")),
    };
    let line = Line {
        sku: sku.clone(),
        quantity,
    };
    let outcome = match action {
        "add" => cart::add(&ctx.scope, &id, &line),
        "update" => cart::set_quantity(&ctx.scope, &id, &line),
        "remove" => cart::remove(&ctx.scope, &id, &sku),
        _ => return ctx.not_found("this page"),
    };
    match outcome {
        Ok(_) => ctx.finish(Response::redirect("/cart")),
        Err(e) => {
            let current = cart::get(&ctx.scope, &id).ok();
            cart_page(ctx, current, Some(cart_problem(&e)), 422)
        }
    }
}

fn checkout_page(ctx: &Ctx, cart: Option<Cart>, mut form: CheckoutForm, status: u16) -> Response {
    let Some(cart) = cart.filter(|c| !c.lines.is_empty()) else {
        return ctx.page(status.max(200), "Checkout", "", || {
            pages::cart(CartView::default())
        });
    };
    if form.attempt.is_empty() {
        form.attempt = random_token();
    }
    if form.values.is_empty() {
        form.values
            .push(("country".into(), ctx.site.pricing_country()));
    }
    let quote = ctx.quote(&cart, ctx.promo().as_deref()).ok();
    let countries = countries_of(ctx.site.region);
    ctx.page(status, "Checkout", "", move || {
        pages::checkout(form, quote, countries)
    })
}

/// Checks the checkout form; the errors are keyed by field.
fn validate(ctx: &Ctx, values: &[(String, String)]) -> Vec<(String, String)> {
    let mut errors = validate_shopper(values);
    let country = field(values, "country").unwrap_or("");
    let in_region =
        site::country(country).is_some_and(|c| site::home_region(c.code).id == ctx.site.region.id);
    if !in_region && !errors.iter().any(|(f, _)| f == "country") {
        errors.push((
            "country".to_owned(),
            "Choose a country this region delivers to.".to_owned(),
        ));
    }
    let token = field(values, "token").unwrap_or("").trim();
    if !(token.starts_with("tok_") && token.len() <= 64) {
        errors.push(("token".to_owned(), "Choose a payment method.".to_owned()));
    }
    errors
}

/// The shopper's details as the checkout form has them, parsed with the input library the
/// regional core uses too (`shopper-input`): each refused field with what to do about it.
pub fn validate_shopper(values: &[(String, String)]) -> Vec<(String, String)> {
    use shopper_input::address::AddressInput;
    use shopper_input::{Email, PersonName, Phone, PostalAddress};
    let value = |name: &str| field(values, name).unwrap_or("");
    let mut errors = Vec::new();
    let mut need = |name: &str, ok: bool, message: &str| {
        if !ok {
            errors.push((name.to_owned(), message.to_owned()));
        }
    };
    need(
        "name",
        PersonName::parse(value("name")).is_ok(),
        "Enter your full name.",
    );
    need(
        "email",
        Email::parse(value("email")).is_ok(),
        "Enter an email address like name@example.com.",
    );
    need(
        "phone",
        Phone::parse_optional(value("phone")).is_ok(),
        "Enter a phone number with digits, spaces, + - ( ) only.",
    );
    let address = PostalAddress::parse(AddressInput {
        line1: value("line1"),
        line2: value("line2"),
        city: value("city"),
        postal_code: value("postal_code"),
        country: value("country"),
    });
    if let Err((refused, _)) = address {
        let message = match refused {
            "line1" => "Enter your street address.",
            "line2" => "Keep the second line under 200 characters, on one line.",
            "city" => "Enter your city.",
            "postal_code" => "Enter your postal code.",
            _ => "Choose a country this region delivers to.",
        };
        need(refused, false, message);
    }
    errors
}

/// The home region's core URL (application variable `core_url_<region>`).
fn core_url(ctx: &Ctx) -> Option<String> {
    let name = format!("core_url_{}", ctx.site.region.id.replace('-', "_"));
    crate::services::variable(&name).map(|u| u.trim_end_matches('/').to_owned())
}

fn checkout(ctx: &mut Ctx, cart: Option<Cart>) -> Response {
    let values = ctx.request.form();
    if !ctx.csrf_ok(&values) {
        return ctx.error(
            403,
            "This form expired. Please go back, reload the page and try again.".into(),
        );
    }
    let attempt = field(&values, "attempt")
        .filter(|a| valid_token(a))
        .map_or_else(random_token, str::to_owned);
    let kept: Vec<(String, String)> = values
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "csrf" | "attempt"))
        .cloned()
        .collect();
    let Some(cart) = cart.filter(|c| !c.lines.is_empty()) else {
        // A second submit of a checkout that already went through.
        if let Some(last) = ctx.request.cookie(LAST_ORDER_COOKIE)
            && let Some((done, rest)) = last.split_once('.')
            && done == attempt
            && let Some((id, token)) = rest.split_once('.')
        {
            return ctx.finish(Response::redirect(&format!("/orders/{id}?token={token}")));
        }
        return ctx.page(409, "Checkout", "", || pages::cart(CartView::default()));
    };
    let errors = validate(ctx, &kept);
    let form =
        |problem: Option<String>, errors: Vec<(String, String)>, attempt: String| CheckoutForm {
            values: kept.clone(),
            errors,
            problem,
            attempt,
        };
    if !errors.is_empty() {
        return checkout_page(ctx, Some(cart), form(None, errors, attempt), 422);
    }
    let value = |name: &str| field(&kept, name).unwrap_or("").trim().to_owned();
    let country = value("country");
    let promo = ctx.promo();
    let codes: Vec<String> = promo.iter().cloned().collect();
    let quote = match pricing::quote_cart(&ctx.scope, &country, &cart.lines, &codes) {
        Ok(q) => q,
        Err(e) => {
            return checkout_page(
                ctx,
                Some(cart),
                form(Some(pricing_problem(&e)), Vec::new(), attempt),
                422,
            );
        }
    };
    let Some(core) = core_url(ctx) else {
        return ctx.error(503, "Checkout is not configured for your region.".into());
    };
    let optional = |name: &str| Some(value(name)).filter(|v| !v.is_empty());
    let body = serde_json::json!({
        "storefront": ctx.scope.storefront,
        "lines": cart.lines.iter().map(|l| serde_json::json!({"sku": l.sku, "quantity": l.quantity})).collect::<Vec<_>>(),
        "currency": quote.currency,
        "promo_codes": codes,
        "quote": {
            "signature": quote.signature,
            "issued_at": quote.issued_at,
            "expires_at": quote.expires_at,
        },
        "shopper": {
            "email": value("email"),
            "name": value("name"),
            "phone": optional("phone"),
            "country": country,
            "address": {
                "line1": value("line1"),
                "line2": optional("line2"),
                "city": value("city"),
                "postal_code": value("postal_code"),
                "country": country,
            },
        },
        "payment": {"method": "card", "token": value("token")},
    });
    let sent = crate::platform::send(
        "POST",
        &format!("{core}/v1/checkouts"),
        &[
            ("content-type", "application/json"),
            ("idempotency-key", &attempt),
        ],
        &serde_json::to_vec(&body).unwrap_or_default(),
    );
    let (status, answer) = match sent {
        Ok(r) => r,
        Err(_) => {
            return checkout_page(
                ctx,
                Some(cart),
                form(
                    Some("We could not reach the shop's checkout just now. Nothing was charged; please try again.".into()),
                    Vec::new(),
                    attempt,
                ),
                503,
            );
        }
    };
    let json: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
    let text = |k: &str| {
        json.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_owned()
    };
    match status {
        200 | 201 => {
            let id = text("order_id");
            let token = text("order_access_token");
            if text("status") == "confirmed" {
                let _ = cart::clear(&ctx.scope, &cart.id);
                ctx.set(PROMO_COOKIE, "", 0);
            }
            ctx.set(LAST_ORDER_COOKIE, &format!("{attempt}.{id}.{token}"), 3600);
            ctx.finish(Response::redirect(&format!("/orders/{id}?token={token}")))
        }
        409 if matches!(text("code").as_str(), "price_changed" | "quote_expired") => checkout_page(
            ctx,
            Some(cart),
            form(
                Some("Prices changed since you looked. Please check the new total and place the order again.".into()),
                Vec::new(),
                random_token(),
            ),
            409,
        ),
        _ => {
            let message = json
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or("the checkout was refused");
            let field_name = json.get("field").and_then(|f| f.as_str()).map(str::to_owned);
            let errors = field_name
                .and_then(|f| f.rsplit('.').next().map(str::to_owned))
                .map(|f| vec![(f, message.to_owned())])
                .unwrap_or_default();
            checkout_page(
                ctx,
                Some(cart),
                form(Some(format!("We could not place the order: {message}.")), errors, random_token()),
                if status >= 500 { 503 } else { 422 },
            )
        }
    }
}

fn order(ctx: &Ctx, id: &str) -> Response {
    let token = ctx.request.query_field("token").unwrap_or_default();
    let id_ok = id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    if !id_ok || token.is_empty() || token.len() > 128 {
        return ctx.not_found("this order");
    }
    let Some(core) = core_url(ctx) else {
        return ctx.error(
            503,
            "Order status is not configured for your region.".into(),
        );
    };
    let auth = format!("Bearer {token}");
    let answer = crate::platform::send(
        "GET",
        &format!("{core}/v1/orders/{id}"),
        &[("authorization", &auth)],
        &[],
    );
    let (status, body) = match answer {
        Ok(r) => r,
        Err(_) => return ctx.error(503, "We could not reach the shop's orders just now.".into()),
    };
    if status != 200 {
        return ctx.not_found("this order");
    }
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let currency = json["currency"].as_str().unwrap_or("").to_owned();
    let view = OrderView {
        id: id.to_owned(),
        status: json["status"].as_str().unwrap_or("unknown").to_owned(),
        total: site::format_money(json["total_minor"].as_i64().unwrap_or(0), &currency),
        lines: json["lines"]
            .as_array()
            .map(|lines| {
                lines
                    .iter()
                    .map(|l| {
                        (
                            l["sku"].as_str().unwrap_or("").to_owned(),
                            u32::try_from(l["quantity"].as_i64().unwrap_or(0)).unwrap_or(0),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
    ctx.page(200, "Your order", "", move || pages::order(view))
}

fn region_page(ctx: &Ctx) -> Response {
    let country = ctx
        .site
        .country
        .or_else(|| ctx.site.region.countries.first());
    let explanation = country.map_or_else(String::new, |c| c.explanation.to_owned());
    let site = ctx.site.clone();
    ctx.page(200, "Your region", "", move || {
        pages::region(&site, explanation, all_countries())
    })
}

fn choose_region(ctx: &mut Ctx) -> Response {
    let form = ctx.request.form();
    if !ctx.csrf_ok(&form) {
        return ctx.error(
            403,
            "This form expired. Please go back, reload the page and try again.".into(),
        );
    }
    match field(&form, "country").and_then(site::country) {
        Some(c) => {
            ctx.set(COUNTRY_COOKIE, c.code, YEAR);
            // A cart belongs to one region's catalogue and prices.
            if site::home_region(c.code).id != ctx.site.region.id {
                ctx.set(CART_COOKIE, "", 0);
                ctx.set(PROMO_COOKIE, "", 0);
            }
            ctx.finish(Response::redirect("/region"))
        }
        None => ctx.error(422, "Choose a country from the list.".into()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_checkout_form_accepts_exactly_what_the_shared_input_table_says() {
        // The regional core runs the same table against its API (`checkout::parse_shopper`).
        for row in shopper_input::table::rows() {
            let values: Vec<(String, String)> = shopper_input::table::shopper(&row)
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
            let errors = super::validate_shopper(&values);
            assert_eq!(errors.is_empty(), row.accepted, "{row:?}: {errors:?}");
            if !row.accepted {
                assert!(errors.iter().any(|(f, _)| f == row.field), "{row:?}");
            }
        }
    }
}
