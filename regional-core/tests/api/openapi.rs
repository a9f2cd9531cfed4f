//! The OpenAPI document: served, listing exactly the routes the router serves, and the
//! README's example requests valid against it.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

/// The concrete path for a templated one: every `{param}` filled with a value of its shape.
fn concrete(path: &str) -> String {
    path.replace("{id}", "0b9f5c1e-6c1f-4d4e-9a55-3f1c8e2a7d10")
        .replace("{sku}", "BAK-00001")
        .replace("{code}", "SPRING10")
}

/// Whether `template` (`/v1/orders/{id}`) matches `path`.
fn matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| t == p || (t.starts_with('{') && t.ends_with('}')))
}

/// Every documented path answers each documented method from a handler (never the
/// fallback's "route not found" nor 405), and every other method with 405: the router serves
/// what the document says, no more on those paths.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_served_and_lists_exactly_the_routes_of_the_router() {
    let app = spawn_app(Options::default()).await;
    let served = app
        .http
        .get(app.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    let doc: Value = served.json().await.unwrap();
    assert_eq!(doc, serde_json::to_value(regional_core::openapi()).unwrap());
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        let url = app.url(&concrete(path));
        for method in METHODS {
            let response = app
                .http
                .request(
                    Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    &url,
                )
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or_default();
            let fallback = status == 404 && body["error"]["message"] == "route not found";
            if item.get(method).is_some() {
                operations += 1;
                assert!(
                    !fallback && status != 405,
                    "{method} {path}: {status} {body}"
                );
            } else {
                assert_eq!(status, 405, "{method} {path} is served but not documented");
            }
        }
    }
    // Every route of `regional_core::router`, each method counted once.
    assert_eq!(operations, 47, "{:?}", paths.keys().collect::<Vec<_>>());
    for (path, item) in paths {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                assert!(
                    op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                    "{method} {path}"
                );
            }
        }
    }
}

/// One ```http block of the README: the method, the path, the content type, the body.
struct Example {
    method: String,
    path: String,
    content_type: Option<String>,
    body: String,
}

fn examples(readme: &str) -> Vec<Example> {
    let mut out = Vec::new();
    for block in readme.split("```http\n").skip(1) {
        let block = block.split("```").next().unwrap();
        let (head, body) = block.split_once("\n\n").unwrap_or((block, ""));
        let mut lines = head.lines();
        let (method, path) = lines.next().unwrap().split_once(' ').unwrap();
        let content_type = lines
            .find_map(|l| l.strip_prefix("Content-Type: "))
            .map(str::to_owned);
        out.push(Example {
            method: method.to_lowercase(),
            path: path.to_owned(),
            content_type,
            body: body.trim().to_owned(),
        });
    }
    out
}

/// A validator for `schema` (with `$ref`s into the document's components).
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = schema.clone();
    root["components"] = doc["components"].clone();
    jsonschema::draft202012::new(&root).unwrap()
}

#[test]
fn the_readme_examples_validate_against_the_document() {
    let doc = serde_json::to_value(regional_core::openapi()).unwrap();
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let examples = examples(&readme);
    assert!(examples.len() >= 5, "the README lost its examples");
    for example in &examples {
        let what = format!("{} {}", example.method, example.path);
        let (_, item) = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(template, _)| matches(template, &example.path))
            .unwrap_or_else(|| panic!("{what}: no such path in the document"));
        let operation = item
            .get(&example.method)
            .unwrap_or_else(|| panic!("{what}: no such method in the document"));
        let Some(content_type) = &example.content_type else {
            assert!(
                example.body.is_empty(),
                "{what}: a body without a Content-Type"
            );
            continue;
        };
        let schema = &operation["requestBody"]["content"][content_type]["schema"];
        assert!(
            !schema.is_null(),
            "{what}: the document takes no {content_type} body"
        );
        let validator = validator(&doc, schema);
        let bodies: Vec<&str> = if content_type == "application/x-ndjson" {
            example.body.lines().collect()
        } else {
            vec![example.body.as_str()]
        };
        for body in bodies {
            let value: Value = serde_json::from_str(body)
                .unwrap_or_else(|e| panic!("{what}: the example is not JSON: {e}"));
            let errors: Vec<String> = validator
                .iter_errors(&value)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{what}: {errors:?}");
        }
    }
    // The validator refuses what the document refuses.
    let checkout = &doc["paths"]["/v1/checkouts"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"];
    assert!(!validator(&doc, checkout).is_valid(&serde_json::json!({"lines": "two loaves"})));
}
