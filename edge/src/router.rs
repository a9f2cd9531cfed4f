//! `[[trigger.http]]` routes, matched as Spin matches them: an exact route (`/cart`) beats
//! a wildcard (`/p/...`), and a longer wildcard beats a shorter one. Private routes
//! (`route = { private = true }`) are never matched from outside; their components are
//! reachable only by service chaining.

use crate::manifest::{Manifest, Route};

/// Why the routes cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error("spin.toml: route {route:?} is declared twice (components {first:?} and {second:?})")]
    Duplicate {
        route: String,
        first: String,
        second: String,
    },
    #[error(
        "spin.toml: route {route:?} is not supported here: `...` may only end a route, and `:name` segments are not supported"
    )]
    Unsupported { route: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Exact(String),
    /// `/prefix/...` held as `/prefix` (`/...` as the empty prefix).
    Prefix(String),
}

/// One route.
#[derive(Debug, Clone)]
struct Entry {
    route: String,
    pattern: Pattern,
    component: String,
}

/// The public routes of an application, most specific first.
#[derive(Debug, Clone, Default)]
pub struct Router {
    entries: Vec<Entry>,
    private: Vec<String>,
}

/// Where a request path goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched<'a> {
    pub component: &'a str,
    /// The route as written (`/p/...`): Spin's `spin-matched-route`.
    pub route: &'a str,
    /// The route without its wildcard (`/p`): Spin's `spin-component-route`.
    pub base: &'a str,
    /// The rest of the path after `base` (`/LOAF-1`): Spin's `spin-path-info`.
    pub path_info: &'a str,
}

/// `/a/b/` and `/a/b` are the same route.
fn trim(path: &str) -> &str {
    path.trim_end_matches('/')
}

impl Router {
    pub fn from_manifest(manifest: &Manifest) -> Result<Self, RouteError> {
        let mut router = Self::default();
        for trigger in &manifest.trigger.http {
            let route = match &trigger.route {
                Route::Private { .. } => {
                    router.private.push(trigger.component.clone());
                    continue;
                }
                Route::Path(route) => route.clone(),
            };
            let pattern = if let Some(prefix) = route.strip_suffix("/...") {
                Pattern::Prefix(trim(prefix).to_owned())
            } else {
                Pattern::Exact(trim(&route).to_owned())
            };
            let body = match &pattern {
                Pattern::Exact(p) | Pattern::Prefix(p) => p,
            };
            if body.contains("...") || body.split('/').any(|s| s.starts_with(':')) {
                return Err(RouteError::Unsupported { route });
            }
            if let Some(existing) = router.entries.iter().find(|e| e.pattern == pattern) {
                return Err(RouteError::Duplicate {
                    route,
                    first: existing.component.clone(),
                    second: trigger.component.clone(),
                });
            }
            router.entries.push(Entry {
                route,
                pattern,
                component: trigger.component.clone(),
            });
        }
        // Exact routes first, then wildcards from the longest prefix to the shortest.
        router.entries.sort_by_key(|e| match &e.pattern {
            Pattern::Exact(_) => (0, 0),
            Pattern::Prefix(p) => (1, usize::MAX - p.len()),
        });
        Ok(router)
    }

    /// The component serving `path`, if any public route matches.
    pub fn route<'a>(&'a self, path: &'a str) -> Option<Matched<'a>> {
        let wanted = trim(path);
        self.entries.iter().find_map(|e| match &e.pattern {
            Pattern::Exact(p) if p == wanted => Some(Matched {
                component: &e.component,
                route: &e.route,
                base: p,
                path_info: "",
            }),
            Pattern::Prefix(p)
                if wanted == p
                    || (wanted.starts_with(p.as_str())
                        && wanted.as_bytes().get(p.len()) == Some(&b'/')) =>
            {
                Some(Matched {
                    component: &e.component,
                    route: &e.route,
                    base: p,
                    path_info: &path[p.len()..],
                })
            }
            _ => None,
        })
    }

    /// Every public route and its component, most specific first (for start-up output).
    pub fn routes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|e| (e.route.as_str(), e.component.as_str()))
    }

    /// Components with a private route: reachable only by service chaining.
    pub fn private(&self) -> &[String] {
        &self.private
    }

    /// Whether `component` serves HTTP (publicly or privately).
    pub fn serves(&self, component: &str) -> bool {
        self.private.iter().any(|c| c == component)
            || self.entries.iter().any(|e| e.component == component)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&str, &str)]) -> Router {
        let mut text = String::from("spin_manifest_version = 2\n[application]\nname = \"t\"\n");
        for (route, component) in routes {
            let route = if *route == "private" {
                "{ private = true }".to_owned()
            } else {
                format!("{route:?}")
            };
            text.push_str(&format!(
                "[[trigger.http]]\nroute = {route}\ncomponent = \"{component}\"\n"
            ));
        }
        let mut components: Vec<&str> = routes.iter().map(|(_, c)| *c).collect();
        components.sort_unstable();
        components.dedup();
        for c in components {
            text.push_str(&format!("[component.{c}]\nsource = \"{c}.wasm\"\n"));
        }
        Router::from_manifest(&Manifest::parse(&text).unwrap()).unwrap()
    }

    #[test]
    fn exact_beats_wildcard_and_longer_prefix_beats_shorter() {
        let r = router(&[
            ("/...", "web"),
            ("/api/...", "api"),
            ("/api/health", "health"),
            ("private", "internal"),
        ]);
        let m = r.route("/api/health").unwrap();
        assert_eq!((m.component, m.path_info), ("health", ""));
        let m = r.route("/api/orders/7").unwrap();
        assert_eq!(
            (m.component, m.route, m.base, m.path_info),
            ("api", "/api/...", "/api", "/orders/7")
        );
        assert_eq!(r.route("/api").unwrap().component, "api");
        assert_eq!(r.route("/apiary").unwrap().component, "web");
        assert_eq!(r.route("/").unwrap().component, "web");
        assert_eq!(r.route("/p/LOAF-1").unwrap().path_info, "/p/LOAF-1");
        assert!(r.serves("internal"));
        assert!(r.routes().all(|(_, c)| c != "internal"));
    }

    #[test]
    fn unmatched_paths_have_no_component() {
        let r = router(&[("/cart", "cart"), ("/p/...", "product")]);
        assert!(r.route("/").is_none());
        assert!(r.route("/cartx").is_none());
        assert_eq!(r.route("/cart/").unwrap().component, "cart");
        assert!(r.route("/pp").is_none());
    }
}
