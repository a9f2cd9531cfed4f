//! The four edge interfaces the pages call: catalogue, cart, pricing and personalisation.
//!
//! In the component (and in the storefront's unit tests) they are the WIT imports of
//! [`crate::bindings`], which the host satisfies with the components the manifest names.
//! In the native build (feature `native`, the benchmarks' baseline, never deployed) each
//! function calls the component's own logic, linked in, over an in-memory store: the same
//! code, with no component boundary. Both have the same names and signatures, so the pages
//! cannot tell them apart.

#[cfg(not(feature = "native"))]
pub use crate::bindings::meridian::{
    cart::cart, catalogue::catalogue, personalisation::personalisation, pricing::pricing,
};

#[cfg(feature = "native")]
pub use native::{cart, catalogue, personalisation, pricing};

/// An application variable (`wasi:config`; natively, [`native::install`]'s).
pub fn variable(name: &str) -> Option<String> {
    #[cfg(not(feature = "native"))]
    return kv_binding::variable(name);
    #[cfg(feature = "native")]
    return native::variable(name);
}

#[cfg(feature = "native")]
pub mod native {
    //! The components' logic behind the imports' signatures. Values cross from the
    //! storefront's bindings to a component's (both generated from `wit/`) through serde,
    //! as the component model would copy them across the boundary.

    use std::collections::BTreeMap;
    use std::sync::{Arc, OnceLock};

    use projections::kv::MemoryKv;
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    struct Services {
        kv: Arc<MemoryKv>,
        variables: BTreeMap<String, String>,
    }

    static SERVICES: OnceLock<Services> = OnceLock::new();

    /// Gives the native build its key-value store and application variables; call once,
    /// before the first request.
    pub fn install(kv: Arc<MemoryKv>, variables: BTreeMap<String, String>) {
        let _ = SERVICES.set(Services { kv, variables });
    }

    fn services() -> &'static Services {
        SERVICES
            .get()
            .unwrap_or_else(|| panic!("native::install was not called"))
    }

    fn kv() -> &'static MemoryKv {
        &services().kv
    }

    pub(super) fn variable(name: &str) -> Option<String> {
        services().variables.get(name).cloned()
    }

    /// A variable that must be a positive number, else `default` (as the components read it).
    fn positive_variable(name: &str, default: u64) -> u64 {
        variable(name)
            .and_then(|v| v.trim().parse().ok())
            .filter(|n| *n > 0)
            .unwrap_or(default)
    }

    /// One WIT value from one side's bindings to the other's.
    fn cross<A: Serialize, B: DeserializeOwned>(value: &A) -> B {
        serde_json::to_value(value)
            .and_then(serde_json::from_value)
            .unwrap_or_else(|e| panic!("the bindings disagree on a WIT type: {e}"))
    }

    pub mod catalogue {
        //! `meridian:catalogue/catalogue`, natively.
        pub use crate::bindings::meridian::catalogue::catalogue::*;

        pub fn product(scope: &Scope, sku: &str) -> Result<ProductDetail, CatalogueError> {
            let answer = ::catalogue::logic::product(super::kv(), &super::cross(scope), sku);
            super::cross(&answer)
        }

        pub fn categories(scope: &Scope) -> Result<Vec<Category>, CatalogueError> {
            let answer = ::catalogue::logic::categories(super::kv(), &super::cross(scope));
            super::cross(&answer)
        }

        pub fn category_page(
            scope: &Scope,
            category: &str,
            tag: Option<&str>,
            request: PageRequest,
        ) -> Result<Listing, CatalogueError> {
            let answer = ::catalogue::logic::listing(
                super::kv(),
                &super::cross(scope),
                category,
                tag,
                super::cross(&request),
            );
            super::cross(&answer)
        }

        pub fn site(
            region: &str,
            host: &str,
            fallback: &str,
        ) -> Result<Option<String>, CatalogueError> {
            let answer = ::catalogue::logic::site(super::kv(), region, host, fallback);
            super::cross(&answer)
        }

        pub fn delivery_slots(
            scope: &Scope,
            country: &str,
            postal_code: Option<&str>,
        ) -> Result<Vec<DeliverySlot>, CatalogueError> {
            let answer = ::catalogue::logic::delivery_slots(
                super::kv(),
                &super::cross(scope),
                country,
                postal_code,
                ::catalogue::logic::unix_now(),
            );
            super::cross(&answer)
        }

        pub fn search(
            scope: &Scope,
            query: &str,
            category: Option<&str>,
            request: PageRequest,
        ) -> Result<SearchResults, CatalogueError> {
            let answer = ::catalogue::logic::search(
                super::kv(),
                &super::cross(scope),
                query,
                category,
                super::cross(&request),
            );
            super::cross(&answer)
        }
    }

    pub mod cart {
        //! `meridian:cart/cart`, natively.
        pub use crate::bindings::meridian::cart::cart::*;
        use ::cart::logic::{self, Env};

        fn env() -> Env {
            Env {
                now: kv_binding::now(),
                ttl_seconds: super::positive_variable(
                    "cart_ttl_seconds",
                    logic::DEFAULT_TTL_SECONDS,
                ),
            }
        }

        pub fn create(scope: &Scope) -> Result<Cart, CartError> {
            super::cross(&logic::create(super::kv(), &super::cross(scope), env()))
        }

        pub fn get(scope: &Scope, id: &str) -> Result<Cart, CartError> {
            super::cross(&logic::get(super::kv(), &super::cross(scope), id, env()))
        }

        pub fn add(scope: &Scope, id: &str, line: &Line) -> Result<Cart, CartError> {
            let line = super::cross(line);
            super::cross(&logic::add(
                super::kv(),
                &super::cross(scope),
                id,
                &line,
                env(),
            ))
        }

        pub fn set_quantity(scope: &Scope, id: &str, line: &Line) -> Result<Cart, CartError> {
            let line = super::cross(line);
            let answer = logic::set_quantity(super::kv(), &super::cross(scope), id, &line, env());
            super::cross(&answer)
        }

        pub fn remove(scope: &Scope, id: &str, sku: &str) -> Result<Cart, CartError> {
            super::cross(&logic::remove(
                super::kv(),
                &super::cross(scope),
                id,
                sku,
                env(),
            ))
        }

        pub fn clear(scope: &Scope, id: &str) -> Result<Cart, CartError> {
            super::cross(&logic::clear(super::kv(), &super::cross(scope), id, env()))
        }

        pub fn merge(scope: &Scope, target: &str, source: &str) -> Result<Cart, CartError> {
            let answer = logic::merge(super::kv(), &super::cross(scope), target, source, env());
            super::cross(&answer)
        }
    }

    pub mod pricing {
        //! `meridian:pricing/pricing`, natively.
        pub use crate::bindings::meridian::pricing::pricing::*;
        use ::pricing::logic::{self, Env};

        pub fn quote_cart(
            scope: &Scope,
            country: &str,
            lines: &[Line],
            promo_codes: &[String],
        ) -> Result<Quote, PricingError> {
            let env = Env {
                now: kv_binding::now(),
                ttl_seconds: super::positive_variable(
                    "quote_ttl_seconds",
                    logic::DEFAULT_TTL_SECONDS,
                ),
                signing_key: super::variable(&logic::signing_key_variable(&scope.region))
                    .map(String::into_bytes),
            };
            let lines: Vec<_> = lines.iter().map(super::cross).collect();
            let answer = logic::quote_cart(
                super::kv(),
                &super::cross(scope),
                country,
                &lines,
                promo_codes,
                &env,
            );
            super::cross(&answer)
        }
    }

    pub mod personalisation {
        //! `meridian:personalisation/personalisation`, natively.
        pub use crate::bindings::meridian::personalisation::personalisation::*;
        use ::personalisation::logic::{self, Weights};

        pub fn recommend(
            scope: &Scope,
            page: &PageContext,
            session: &SessionSignals,
            limit: u32,
        ) -> Result<Vec<Recommendation>, PersonalisationError> {
            let weights = super::variable("recommendation_weights")
                .and_then(|w| Weights::parse(&w))
                .unwrap_or_default();
            let answer = logic::recommend(
                super::kv(),
                &super::cross(scope),
                &super::cross(page),
                &super::cross(session),
                limit,
                weights,
            );
            super::cross(&answer)
        }
    }
}

#[cfg(all(test, feature = "native"))]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Once};

    use projections::kv::{Kv, MemoryKv};

    use crate::http::{Request, Response};

    fn installed() {
        static DONE: Once = Once::new();
        DONE.call_once(|| {
            let kv = MemoryKv::new();
            for (key, value) in projections::fixtures::demo_storefront(2_000) {
                kv.set(&key, &value).expect("set");
            }
            // A second storefront, as data: its own theme on its own host.
            let mut theme = projections::theme::default_theme("corner");
            theme.name = "The Test Corner".into();
            theme.colors.primary = "#4b2bb3".into();
            let site =
                projections::theme::Site::new("corner", vec!["corner.example".into()], theme);
            let site = serde_json::to_vec(&site).expect("site");
            kv.set(&projections::keys::host("eu-west", "corner.example"), &site)
                .expect("set");
            super::native::install(Arc::new(kv), BTreeMap::new());
        });
    }

    fn get(path: &str) -> (u16, String) {
        get_on("localhost", path)
    }

    fn get_on(host: &str, path: &str) -> (u16, String) {
        installed();
        let Response { status, body, .. } = crate::app::handle(&Request {
            method: "GET".into(),
            path: path.into(),
            query: String::new(),
            headers: vec![
                ("host".into(), host.into()),
                ("x-meridian-country".into(), "DE".into()),
            ],
            body: Vec::new(),
        });
        (status, String::from_utf8(body).expect("utf-8"))
    }

    #[test]
    fn the_native_build_renders_the_benchmarked_pages_from_the_components_logic() {
        let (status, html) = get("/c/bakery");
        assert_eq!(status, 200);
        assert_eq!(html.matches(r#"<article class="card">"#).count(), 24);
        assert!(html.contains(" EUR"), "prices in euros");

        let sku = &projections::fixtures::demo_catalogue(2_000)[42];
        let (status, html) = get(&format!("/p/{}", sku.sku));
        assert_eq!(status, 200);
        assert!(html.contains(&sku.title), "{}", sku.title);
        let (status, _) = get("/p/SKU-99999");
        assert_eq!(status, 404);

        let (status, html) = get("/");
        assert_eq!(status, 200);
        assert!(html.contains("bakery"));
    }

    #[test]
    fn the_host_chooses_the_storefront_from_its_published_site() {
        let (status, html) = get_on("corner.example:8080", "/");
        assert_eq!(status, 200);
        assert!(
            html.contains("The Test Corner"),
            "the published theme's name"
        );
        assert!(html.contains("--color-primary:#4b2bb3"), "its colours");
        // The corner's catalogue is empty here: no grocer product shows on its pages.
        let (status, _) = get_on("corner.example", "/c/bakery");
        assert_eq!(status, 404);
        // Any other host is the default storefront, with its own published site.
        let (status, html) = get_on("elsewhere.example", "/c/bakery");
        assert_eq!(status, 200);
        assert!(!html.contains("The Test Corner"));
        assert!(html.contains("<title>"));
    }
}
