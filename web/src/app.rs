//! One request's context and the dispatch to its route (`routes/`): the storefront chosen by
//! `Host`, the shopper's region, the session's cookies and CSRF token, and what every handler
//! shares (rendering a page, the cart, recommendations, quotes).
//!
//! Session state lives in cookies, all `HttpOnly; SameSite=Lax` (and `Secure` over TLS):
//! the cart id, the CSRF token, the chosen country, the promo code and recently viewed
//! SKUs. None of it is personal data; the checkout form goes straight to the core and is
//! never stored here.

use leptos::prelude::AnyView;

use crate::bindings::meridian::types::types::{Cart, Line};
use crate::bindings::{Quote, Recommendation, Scope};
use crate::http::{Request, Response, field, random_token, set_cookie, valid_token};
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
/// A signed-in shopper's session, as their home region's core issued it
/// (`REGION.TOKEN.SIGNATURE`, see `pricing_rules::session`). Only the core can read the token.
pub const SESSION_COOKIE: &str = "meridian_session";
/// Products per listing page.
pub const PER_PAGE: u32 = 24;
pub(crate) const YEAR: u64 = 365 * 24 * 3600;
pub(crate) const MONTH: u64 = 30 * 24 * 3600;

/// One request in progress: its page context and the cookies to set.
pub(crate) struct Ctx<'a> {
    pub(crate) request: &'a Request,
    pub(crate) site: Site,
    pub(crate) scope: Scope,
    pub(crate) cart_id: Option<String>,
    /// The session cookie, when its signature is its region's.
    pub(crate) session: Option<String>,
    pub(crate) cookies: Vec<String>,
}

impl Ctx<'_> {
    pub(crate) fn tls(&self) -> bool {
        self.request.is_tls()
    }

    pub(crate) fn set(&mut self, name: &str, value: &str, max_age: u64) {
        let tls = self.tls();
        self.cookies.push(set_cookie(name, value, max_age, tls));
    }

    pub(crate) fn page(
        &self,
        status: u16,
        title: &str,
        query: &str,
        body: impl FnOnce() -> AnyView,
    ) -> Response {
        let html = crate::document(self.site.clone(), title, query, body);
        self.finish(Response::html(status, html))
    }

    pub(crate) fn finish(&self, mut response: Response) -> Response {
        for c in &self.cookies {
            response = response.with_header("set-cookie", c.clone());
        }
        response
    }

    pub(crate) fn not_found(&self, what: &str) -> Response {
        let what = what.to_owned();
        self.page(404, "Not found", "", move || {
            crate::routes::errors::not_found(&what)
        })
    }

    pub(crate) fn error(&self, status: u16, text: String) -> Response {
        self.page(status, "Error", "", move || {
            crate::routes::errors::error(text)
        })
    }

    /// The shopper's cart, if the cookie names a live one.
    pub(crate) fn cart(&self) -> Option<Cart> {
        let id = self.cart_id.as_deref()?;
        cart::get(&self.scope, id).ok()
    }

    pub(crate) fn signals(&self, cart: Option<&Cart>) -> SessionSignals {
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

    pub(crate) fn recommend(
        &self,
        page: PageContext,
        cart: Option<&Cart>,
        limit: u32,
    ) -> Vec<Recommendation> {
        personalisation::recommend(&self.scope, &page, &self.signals(cart), limit)
            .unwrap_or_default()
    }

    /// Whether a posted form carries this session's CSRF token.
    pub(crate) fn csrf_ok(&self, form: &[(String, String)]) -> bool {
        let cookie = self.request.cookie(CSRF_COOKIE);
        cookie.is_some_and(valid_token) && field(form, "csrf") == cookie
    }

    pub(crate) fn promo(&self) -> Option<String> {
        self.request
            .cookie(PROMO_COOKIE)
            .filter(|c| valid_promo(c))
            .map(str::to_owned)
    }

    pub(crate) fn quote(
        &self,
        cart: &Cart,
        promo: Option<&str>,
    ) -> Result<Quote, pricing::PricingError> {
        let lines: Vec<Line> = cart.lines.clone();
        let codes: Vec<String> = promo.into_iter().map(str::to_owned).collect();
        pricing::quote_cart(&self.scope, &self.site.pricing_country(), &lines, &codes)
    }
}

pub(crate) fn valid_promo(code: &str) -> bool {
    (1..=32).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The countries a region's shoppers may choose, as (code, name), sorted by name.
pub(crate) fn countries_of(region: &RegionInfo) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = region
        .countries
        .iter()
        .map(|c| (c.code.to_owned(), c.name.to_owned()))
        .collect();
    list.sort_by(|a, b| a.1.cmp(&b.1));
    list
}

/// Every country some region lists, for the region chooser.
pub(crate) fn all_countries() -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = site::regions().iter().flat_map(countries_of).collect();
    list.sort_by(|a, b| a.1.cmp(&b.1));
    list.dedup();
    list
}

/// The headers every storefront answer carries. The policy allows scripts only from here
/// (the one enhancement, `/assets/add.js`; every page works without it), the one inline
/// stylesheet by its nonce, images from here or over `https`, requests and forms only to
/// here, and no framing by anyone.
pub(crate) fn security_headers(response: Response, style_nonce: &str, tls: bool) -> Response {
    let response = response
        .with_header(
            "content-security-policy",
            format!(
                "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'nonce-{style_nonce}'; img-src 'self' https: data:; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
            ),
        )
        .with_header("x-content-type-options", "nosniff".into())
        .with_header(
            "referrer-policy",
            "strict-origin-when-cross-origin".into(),
        );
    if tls {
        response.with_header(
            "strict-transport-security",
            "max-age=31536000; includeSubDomains".into(),
        )
    } else {
        response
    }
}

/// The region of a session cookie whose signature is that region's key (the
/// `quote_signing_key_<region>` variable): where a signed-in shopper's account lives,
/// wherever they browse from. Checked without asking any core.
pub(crate) fn session_region(value: &str) -> Option<&'static RegionInfo> {
    let session = pricing_rules::session::parse(value)?;
    let region = site::region(session.region)?;
    let key = crate::services::variable(&format!(
        "quote_signing_key_{}",
        region.id.replace('-', "_")
    ))?;
    pricing_rules::session::verify(key.as_bytes(), &session).then_some(region)
}

/// Answers one request.
pub fn handle(request: &Request) -> Response {
    if let Err(e) = site::load_regions(
        crate::services::variable(site::VARIABLE),
        request.header(site::FINGERPRINT_HEADER),
    ) {
        // Loud on purpose: every page is refused until the deployment is fixed.
        eprintln!("storefront: cannot serve: {e}");
        return crate::routes::errors::unavailable();
    }
    let style_nonce = random_token();
    let session = request
        .cookie(SESSION_COOKIE)
        .and_then(|v| session_region(v).map(|r| (v.to_owned(), r)));
    // A signed-in shopper is served by their account's region; others by their country's.
    let region = match &session {
        Some((_, home)) => home,
        None => site::home_of(
            request.header(COUNTRY_HEADER),
            request.cookie(COUNTRY_COOKIE),
        ),
    };
    let country = request
        .header(COUNTRY_HEADER)
        .or_else(|| request.cookie(COUNTRY_COOKIE))
        .and_then(site::country)
        .filter(|c| site::home_region(&c.code).id == region.id);
    let storefront = crate::merchants::resolve(&region.id, request.header("host"));
    let existing_csrf = request.cookie(CSRF_COOKIE).filter(|t| valid_token(t));
    let csrf = existing_csrf.map_or_else(random_token, str::to_owned);
    let scope = Scope {
        region: region.id.to_owned(),
        storefront: storefront.id.clone(),
    };
    let mut ctx = Ctx {
        request,
        site: Site {
            storefront,
            region,
            country,
            csrf: csrf.clone(),
            cart_units: 0,
            style_nonce: style_nonce.clone(),
            signed_in: session.is_some(),
            here: if request.query.is_empty() {
                request.path.clone()
            } else {
                format!("{}?{}", request.path, request.query)
            },
        },
        scope,
        cart_id: request
            .cookie(CART_COOKIE)
            .filter(|c| valid_token(c))
            .map(str::to_owned),
        session: session.map(|(value, _)| value),
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
    let response = route(&mut ctx, &segments, cart);
    security_headers(response, &style_nonce, request.is_tls())
}

/// The route's answer.
fn route(ctx: &mut Ctx, segments: &[&str], cart: Option<Cart>) -> Response {
    let request = ctx.request;
    match (request.method.as_str(), segments) {
        ("GET", []) => crate::routes::home::home(ctx, cart.as_ref()),
        ("GET", ["c", slug]) => crate::routes::aisle::category(ctx, slug),
        ("GET", ["search"]) => crate::routes::search::search(ctx),
        ("GET", ["p", sku]) => crate::routes::product::product(ctx, sku, cart.as_ref()),
        ("GET", ["images", kind, file]) => crate::routes::images::image(kind, file),
        ("GET", ["assets", "add.js"]) => crate::routes::images::script(),
        ("GET", ["cart"]) => crate::routes::cart::cart_page(ctx, cart, None, 200),
        ("POST", ["cart", action]) => crate::routes::cart::cart_action(ctx, action, cart),
        ("GET", ["checkout"]) => crate::routes::checkout::checkout_page(
            ctx,
            cart,
            crate::routes::checkout::CheckoutForm::default(),
            200,
        ),
        ("POST", ["checkout"]) => crate::routes::checkout::checkout(ctx, cart),
        ("GET", ["delivery"]) => crate::routes::delivery::delivery_page(ctx, None, 200),
        ("POST", ["delivery"]) => crate::routes::delivery::hold(ctx),
        ("GET", ["orders", id]) => crate::routes::order::order(ctx, id),
        ("GET", ["region"]) => crate::routes::region::region_page(ctx),
        ("POST", ["region"]) => crate::routes::region::choose_region(ctx),
        ("GET" | "POST", ["account", ..]) => crate::routes::account::route(ctx, &segments[1..]),
        ("GET" | "POST", _) => ctx.not_found("this page"),
        _ => ctx.finish(Response {
            status: 405,
            headers: vec![("allow".into(), "GET, POST".into())],
            body: b"method not allowed".to_vec(),
        }),
    }
}

pub(crate) fn page_number(ctx: &Ctx) -> Result<u32, Response> {
    match ctx.request.query_field("page") {
        None => Ok(1),
        Some(p) => p
            .parse::<u32>()
            .ok()
            .filter(|p| (1..=10_000).contains(p))
            .ok_or_else(|| ctx.error(400, "The page number must be a whole number from 1.".into())),
    }
}

/// Words for a pricing problem.
pub(crate) fn pricing_problem(e: &pricing::PricingError) -> String {
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
