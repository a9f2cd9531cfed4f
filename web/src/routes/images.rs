//! What the storefront serves besides pages: the demo catalogue's illustrations, one per
//! aisle (`GET /images/aisle/{aisle}.svg`), the demo grocer's logo
//! (`GET /images/logo/leaf.svg`), and the add-from-the-card script (`GET /assets/add.js`).
//! Merchants' own pictures are `https://` URLs (or paths of their own) on their products.

use crate::http::Response;

/// A shape of an illustration, drawn on a 320×240 canvas.
const BASKET: &str = r##"<path d="M90 110h140l-18 80H108z" fill="#b7793e"/><path d="M120 110l20-40M200 110l-20-40" stroke="#7a4e22" stroke-width="8" fill="none" stroke-linecap="round"/>"##;

/// The illustration of an aisle: its background colour and its drawing.
fn aisle(slug: &str) -> (&'static str, &'static str) {
    match slug {
        "produce" => (
            "#e6f4d9",
            r##"<circle cx="160" cy="135" r="58" fill="#d2383a"/><path d="M160 80c4-18 14-26 28-30" stroke="#5b3a1e" stroke-width="7" fill="none" stroke-linecap="round"/><ellipse cx="185" cy="70" rx="22" ry="11" fill="#4f9d3a" transform="rotate(-25 185 70)"/><ellipse cx="138" cy="112" rx="12" ry="20" fill="#f07f7f" opacity=".6"/>"##,
        ),
        "dairy" => (
            "#e8f1fb",
            r##"<path d="M130 60h60v30l18 30v90h-96v-90l18-30z" fill="#ffffff" stroke="#6b8db5" stroke-width="5"/><rect x="120" y="140" width="80" height="40" fill="#3f7cc4"/><rect x="128" y="48" width="64" height="16" rx="4" fill="#3f7cc4"/>"##,
        ),
        "bakery" => (
            "#fbefdc",
            r##"<path d="M70 150c0-45 40-70 90-70s90 25 90 70v30H70z" fill="#c98a3d"/><path d="M110 105l-12 22M150 95l-10 26M190 96l-8 26M226 108l-8 20" stroke="#f3d29a" stroke-width="8" stroke-linecap="round"/><rect x="70" y="170" width="180" height="14" rx="7" fill="#a86d2a"/>"##,
        ),
        "pantry" => (
            "#f5ecdf",
            r##"<rect x="115" y="85" width="90" height="115" rx="14" fill="#e3a33b"/><rect x="108" y="62" width="104" height="28" rx="6" fill="#7a4e22"/><rect x="128" y="120" width="64" height="44" rx="6" fill="#fff6e5"/>"##,
        ),
        "frozen" => (
            "#e3f3f8",
            r##"<g stroke="#2f86a6" stroke-width="9" stroke-linecap="round"><path d="M160 60v120M108 90l104 60M108 150l104-60"/><path d="M160 60l-14 14M160 60l14 14M160 180l-14-14M160 180l14-14"/></g>"##,
        ),
        "drinks" => (
            "#eaf6ee",
            r##"<path d="M145 50h30v30c20 12 26 28 26 46v76h-82v-76c0-18 6-34 26-46z" fill="#3a9d63"/><rect x="119" y="130" width="82" height="40" fill="#e9f7ee"/><rect x="143" y="40" width="34" height="14" rx="3" fill="#1f5c39"/>"##,
        ),
        "household" => (
            "#efeaf7",
            r##"<rect x="120" y="100" width="80" height="100" rx="16" fill="#7b5bb5"/><path d="M140 100V78h40v22" fill="#5a3f8d"/><path d="M180 84h34l-6 12" stroke="#5a3f8d" stroke-width="8" fill="none"/><circle cx="226" cy="74" r="5" fill="#b9a6dd"/><circle cx="238" cy="90" r="4" fill="#b9a6dd"/>"##,
        ),
        _ => ("#f1f1ee", BASKET),
    }
}

fn svg(body: String) -> Response {
    Response {
        status: 200,
        headers: vec![
            ("content-type".into(), "image/svg+xml".into()),
            ("cache-control".into(), "public, max-age=86400".into()),
        ],
        body: body.into_bytes(),
    }
}

/// `GET /images/{kind}/{file}`: an aisle's illustration or the demo logo.
pub(crate) fn image(kind: &str, file: &str) -> Response {
    let Some(name) = file.strip_suffix(".svg") else {
        return Response::html(404, String::new());
    };
    match kind {
        "aisle" => {
            let (background, drawing) = aisle(name);
            svg(format!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 240" width="320" height="240"><rect width="320" height="240" fill="{background}"/>{drawing}</svg>"#
            ))
        }
        "logo" if name == "leaf" => svg(
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" width="32" height="32"><path d="M6 26C6 12 14 5 28 4c0 15-8 22-20 22z" fill="#1a6b3c"/><path d="M8 24c5-6 10-10 16-14" stroke="#fffdf8" stroke-width="2" fill="none" stroke-linecap="round"/></svg>"##
                .to_owned(),
        ),
        _ => Response::html(404, String::new()),
    }
}

/// `GET /assets/add.js`: the one script (see `crate::SCRIPT`).
pub(crate) fn script() -> Response {
    Response {
        status: 200,
        headers: vec![
            (
                "content-type".into(),
                "text/javascript; charset=utf-8".into(),
            ),
            ("cache-control".into(), "public, max-age=3600".into()),
        ],
        body: crate::SCRIPT.as_bytes().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_aisle_has_its_own_illustration_and_others_a_basket() {
        let aisles = [
            "produce",
            "dairy",
            "bakery",
            "pantry",
            "frozen",
            "drinks",
            "household",
        ];
        let drawings: std::collections::BTreeSet<&str> =
            aisles.iter().map(|a| aisle(a).1).collect();
        assert_eq!(drawings.len(), aisles.len());
        assert!(!drawings.contains(BASKET));
        assert_eq!(aisle("toys").1, BASKET);
        let answer = image("aisle", "bakery.svg");
        assert_eq!(answer.status, 200);
        assert!(
            String::from_utf8(answer.body)
                .unwrap_or_default()
                .starts_with("<svg")
        );
        assert_eq!(image("aisle", "bakery.png").status, 404);
        assert_eq!(image("logo", "other.svg").status, 404);
    }
}
