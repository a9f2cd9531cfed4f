use std::sync::{Arc, OnceLock};

use edge::bindings::types::Scope;
use edge::data::Variables;
use edge::data::{Backend, MemoryBackend, Stores};
use edge::runtime::{Loaded, Runtime};
use edge::state::State;
use projections::model::PricingRules;
use projections::{Product, encode, fixtures, keys};
use wasmtime::Store;
use wasmtime::component::Instance;

pub use guest_build::COMPONENTS;

pub struct Harness {
    pub runtime: Runtime,
    loaded: Vec<(&'static str, Loaded)>,
}

/// Builds the components (once per test run: cargo skips what is up to date) and compiles
/// them into one runtime.
pub fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        // Everything spin.toml names (the manifest test checks every source exists).
        guest_build::build_all().unwrap();
        let paths: Vec<_> = COMPONENTS
            .iter()
            .map(|c| guest_build::component_path(c))
            .collect();
        let runtime = Runtime::new().unwrap();
        let loaded = COMPONENTS
            .iter()
            .zip(paths)
            .map(|(c, path)| (*c, runtime.load(&path).unwrap()))
            .collect();
        Harness { runtime, loaded }
    })
}

impl Harness {
    fn loaded(&self, name: &str) -> &Loaded {
        &self.loaded.iter().find(|(n, _)| *n == name).unwrap().1
    }

    /// A fresh instance of component `name` over `backend` as its `default` store.
    pub fn instance(
        &self,
        name: &str,
        backend: &Arc<dyn Backend>,
        variables: &[(&str, &str)],
    ) -> (Store<State>, Instance, &Loaded) {
        let stores = Stores::new([("default".to_owned(), backend.clone())]);
        let variables = Variables::new(
            variables
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let mut store = self.runtime.store(stores, Arc::new(variables));
        let loaded = self.loaded(name);
        let instance = loaded.pre.instantiate(&mut store).unwrap();
        (store, instance, loaded)
    }
}

pub fn scope() -> Scope {
    Scope {
        region: "eu-west".into(),
        storefront: "grocer".into(),
    }
}

pub fn product(sku: &str, title: &str, category: &str, eur: i64, tags: &[&str]) -> Product {
    let mut p = fixtures::product(sku, category);
    p.title = title.into();
    p.description = format!("{title}, from our {category} aisle");
    p.tags = tags.iter().map(|t| (*t).to_owned()).collect();
    p.prices = [("EUR".to_owned(), eur)].into();
    p
}

/// A small grocery published for eu-west as the relay writes it.
pub fn grocery() -> Vec<Product> {
    vec![
        product("LOAF-1", "Sourdough loaf", "bakery", 214, &["bread"]),
        product("RYE-1", "Rye bread", "bakery", 189, &["bread"]),
        product("MILK-1", "Whole milk", "dairy", 99, &["milk"]),
        product("BUTTER-1", "Salted butter", "dairy", 249, &[]),
        product("CHERRY-1", "Cherries", "produce", 599, &["fruit"]),
    ]
}

pub fn publish(backend: &dyn Backend, products: &[Product]) {
    for p in products {
        backend
            .set(&keys::product("eu-west", "grocer", &p.sku), &encode(p))
            .unwrap();
    }
    for (k, v) in projections::build::storefront("eu-west", "grocer", "EUR", products) {
        backend.set(&k, &v).unwrap();
    }
    let rules = PricingRules {
        promotions: vec![pricing_rules::Promotion {
            code: "WELCOME10".into(),
            rule: pricing_rules::Rule::PercentOff { bp: 1000 },
            min_spend_minor: 0,
            expires_at: None,
            stacks: false,
        }],
        ..fixtures::eu_west_rules()
    };
    backend
        .set(&keys::pricing_rules("eu-west", "grocer"), &encode(&rules))
        .unwrap();
}

/// An in-memory store with the grocery published.
pub fn memory_grocery() -> Arc<dyn Backend> {
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::default());
    publish(backend.as_ref(), &grocery());
    backend
}
