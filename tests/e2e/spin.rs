//! Conformance with Spin itself: the real Spin CLI runs the repository's `spin.toml` and built
//! components over this binary's Redis database and regional cores, and a shopper's walk
//! (home, aisle, search, product, add to cart, promo, checkout, order page) gives the same
//! status codes, redirects and visible page text on Spin as on our edge node. Spin also
//! refuses every manifest the node's snapshot tests say the node refuses.
//!
//! The test finds Spin through `SPIN_BIN`, else `spin` on `PATH`. In CI (`CI=true`) a
//! missing Spin fails; elsewhere the tests print that they were skipped and why.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use region_config::RegionConfig;
use region_config::storefront::StorefrontView;

use crate::harness::*;

/// The Spin CLI, or `None` (after saying why) where a developer has none.
fn spin_bin() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("SPIN_BIN") {
        let bin = PathBuf::from(bin);
        assert!(bin.exists(), "SPIN_BIN={} does not exist", bin.display());
        return Some(bin);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("spin"))
            .find(|candidate| candidate.is_file())
    });
    if on_path.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "Spin is required in CI: set SPIN_BIN (.ci/run sets it to ../shared/tools/spin)"
        );
        eprintln!("skipped: no Spin CLI (set SPIN_BIN or put `spin` on PATH)");
    }
    on_path
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "meridian-spin-{name}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running `spin up`, killed on drop; its output is printed only if the test failed.
struct Spin {
    child: Child,
    url: String,
    dir: PathBuf,
}

impl Spin {
    /// `spin up` of the real `spin.toml` on a free port, over this binary's Redis database,
    /// with the quote keys and the cores' URLs as variables.
    fn up(bin: &Path, world: &World) -> Self {
        let dir = scratch("up");
        let runtime_config = dir.join("runtime-config.toml");
        std::fs::write(
            &runtime_config,
            format!(
                "[key_value_store.default]\ntype = \"redis\"\nurl = \"{}\"\n",
                redis_url()
            ),
        )
        .unwrap();
        let mut command = Command::new(bin);
        command
            .current_dir(&dir)
            .arg("up")
            .arg("--from")
            .arg(root().join("spin.toml"))
            .args(["--listen", "127.0.0.1:0"])
            .arg("--runtime-config-file")
            .arg(&runtime_config)
            .arg("--log-dir")
            .arg(dir.join("logs"))
            .arg("--state-dir")
            .arg(dir.join("state"));
        for region in region_ids() {
            command.arg("--variable");
            command.arg(format!(
                "quote_signing_key_{}={QUOTE_KEY}",
                region.replace('-', "_")
            ));
        }
        let regions = RegionConfig::from_path(&root().join("region-config/regions.toml")).unwrap();
        command.arg("--variable").arg(format!(
            "region_config={}",
            StorefrontView::of(&regions).to_json()
        ));
        for core in world.cores.values() {
            command.arg("--variable");
            command.arg(format!(
                "core_url_{}={}",
                core.region.replace('-', "_"),
                core.url
            ));
        }
        let stderr = std::fs::File::create(dir.join("stderr.txt")).unwrap();
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("failed to start {}: {e}", bin.display()));
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("Serving ") {
                    let _ = sender.send(url.trim().to_owned());
                }
            }
        });
        let mut spin = Self {
            child,
            url: String::new(),
            dir,
        };
        // Spin compiles the storefront and its dependencies before it serves.
        match receiver.recv_timeout(Duration::from_secs(180)) {
            Ok(url) => spin.url = url,
            Err(_) => panic!("Spin did not start serving:\n{}", spin.output()),
        }
        spin
    }

    fn output(&mut self) -> String {
        let _ = self.child.try_wait();
        std::fs::read_to_string(self.dir.join("stderr.txt")).unwrap_or_default()
    }
}

impl Drop for Spin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- spin up's stderr:\n{}", self.output());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A page as a shopper sees it: status, redirect, and the text a person reads (no markup,
/// no styles, so no CSRF token or cart id), with this walk's order id replaced.
#[derive(Debug, PartialEq)]
struct Seen {
    status: u16,
    location: Option<String>,
    text: String,
}

/// The text a person reads on `html`.
fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        out.push(' ');
        let tag = &rest[open..];
        let skip_to = ["<style", "<script"]
            .iter()
            .find(|t| tag.starts_with(**t))
            .map(|t| format!("</{}>", &t[1..]));
        let end = match skip_to {
            Some(close) => tag.find(&close).map(|i| i + close.len()),
            None => tag.find('>').map(|i| i + 1),
        };
        rest = end.map_or("", |e| &tag[e..]);
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn seen(status: u16, location: Option<String>, html: &str, order: Option<&str>) -> Seen {
    let mut text = visible_text(html);
    let mut location = location;
    if let Some(order) = order {
        text = text.replace(order, "{order}");
        location = location.map(|l| l.replace(order, "{order}"));
    }
    if let Some(l) = location.as_mut()
        && let Some((path, _token)) = l.split_once("?token=")
    {
        *l = format!("{path}?token={{token}}");
    }
    Seen {
        status,
        location,
        text,
    }
}

/// Records where the two pages differ; answers the node's.
fn compare(differences: &mut Vec<String>, step: &str, ours: Seen, theirs: Seen) -> Seen {
    if ours != theirs {
        differences.push(format!("{step}:\n  node: {ours:?}\n  spin: {theirs:?}"));
    }
    ours
}

/// One shopper's walk so far.
struct Walker {
    shopper: Shopper,
    csrf: String,
    attempt: String,
    order: Option<String>,
    /// Where the checkout sent the shopper: the order page with its access token.
    order_page: Option<String>,
}

impl Walker {
    fn new(base: &str) -> Self {
        Self {
            shopper: Shopper::new(base, "FR").on_host("corner.localhost"),
            csrf: String::new(),
            attempt: String::new(),
            order: None,
            order_page: None,
        }
    }

    async fn get(&mut self, path: &str) -> (Seen, String) {
        let (status, html) = self.shopper.get(path).await;
        if html.contains("name=\"csrf\" value=\"") {
            self.csrf = hidden(&html, "csrf");
        }
        if html.contains("name=\"attempt\" value=\"") {
            self.attempt = hidden(&html, "attempt");
        }
        (seen(status, None, &html, self.order.as_deref()), html)
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Seen {
        let mut fields = vec![("csrf", self.csrf.as_str())];
        if path == "/checkout" {
            fields.push(("attempt", self.attempt.as_str()));
        }
        fields.extend_from_slice(form);
        let (status, location, html) = self.shopper.post(path, &fields).await;
        if let Some(id) = location
            .as_deref()
            .and_then(|l| l.strip_prefix("/orders/"))
            .and_then(|l| l.split('?').next())
        {
            self.order = Some(id.to_owned());
            self.order_page = location.clone();
        }
        seen(status, location, &html, self.order.as_deref())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shoppers_walk_is_the_same_on_spin_as_on_our_edge_node() {
    let Some(bin) = spin_bin() else { return };
    let world = world();
    let eu = world.core("eu-west");
    // The second storefront's own goods: no other test changes its pages during the walk.
    for (sku, title, price, stock) in [
        ("SPIN-LOAF", "Spin rye loaf", 429, 40),
        ("SPIN-ROLL", "Spin seeded roll", 89, 3),
        ("SPIN-TART", "Spin plum tart", 650, 1),
    ] {
        seed_as(
            eu,
            CORNER_TOKEN,
            &product(sku, title, "bakery", price, &["spin"]),
            stock,
            "de-fra-1",
        )
        .await;
    }
    // The last tart is gone: out of stock, not merely never stocked.
    let tart = product("SPIN-TART", "Spin plum tart", "bakery", 650, &["spin"]);
    seed_as(eu, CORNER_TOKEN, &tart, -1, "de-fra-1").await;
    let created = reqwest::Client::new()
        .put(format!("{}/v1/admin/promotions/SPIN10", eu.url))
        .bearer_auth(CORNER_TOKEN)
        .json(&serde_json::json!({"rule": {"kind": "percent_off", "bp": 1000}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200, "{}", created.text().await.unwrap());
    let corner_fr = [("x-meridian-country", "FR"), ("host", "corner.localhost")];
    until_published(
        &format!("{}/p/SPIN-ROLL", world.edge),
        &corner_fr,
        "Only 3 left",
    )
    .await;
    until_published(
        &format!("{}/p/SPIN-TART", world.edge),
        &corner_fr,
        "Out of stock",
    )
    .await;
    wait_for_edge_key("meridian/v1/eu-west/corner/pricing", "SPIN10").await;

    let spin = tokio::task::spawn_blocking({
        let bin = bin.clone();
        move || Spin::up(&bin, world)
    })
    .await
    .unwrap();
    let mut node = Walker::new(&world.edge);
    let mut on_spin = Walker::new(&spin.url);
    let mut differences = Vec::new();

    // Each step runs on the node, then on Spin, so both see the same cores and store.
    let mut key_pages = Vec::new();
    for path in [
        "/",
        "/c/bakery",
        "/search?q=spin",
        "/p/SPIN-ROLL",
        "/p/SPIN-TART",
        "/p/SPIN-LOAF",
        "/region",
    ] {
        let (ours, _) = node.get(path).await;
        let (theirs, _) = on_spin.get(path).await;
        key_pages.push((path, compare(&mut differences, path, ours, theirs)));
    }
    for (step, path, form) in [
        (
            "add to cart",
            "/cart/add",
            vec![("sku", "SPIN-LOAF"), ("quantity", "2")],
        ),
        ("promo", "/cart/promo", vec![("code", "spin10")]),
    ] {
        let ours = node.post(path, &form).await;
        let theirs = on_spin.post(path, &form).await;
        compare(&mut differences, step, ours, theirs);
    }
    for path in ["/cart", "/checkout"] {
        let (ours, _) = node.get(path).await;
        let (theirs, _) = on_spin.get(path).await;
        key_pages.push((path, compare(&mut differences, path, ours, theirs)));
    }
    let shopper = [
        ("name", "Sam Spinner"),
        ("email", "spin-walk@shopper.invalid"),
        ("line1", "3 rue du Moulin"),
        ("city", "Lyon"),
        ("postal_code", "69002"),
        ("country", "FR"),
        ("token", "tok_approve"),
    ];
    let ours = node.post("/checkout", &shopper).await;
    let theirs = on_spin.post("/checkout", &shopper).await;
    let placed = compare(&mut differences, "checkout", ours, theirs);
    assert_eq!(placed.status, 303, "{placed:?}");
    assert!(
        differences.is_empty(),
        "Spin and the node differ:\n{}",
        differences.join("\n")
    );
    let order_page = node.order_page.clone().unwrap();
    let (ours, _) = node.get(&order_page).await;
    let spin_order = on_spin.order_page.clone().unwrap();
    let (theirs, _) = on_spin.get(&spin_order).await;
    key_pages.push((
        "order",
        compare(&mut differences, "order page", ours, theirs),
    ));

    assert!(
        differences.is_empty(),
        "Spin and the node differ:\n{}",
        differences.join("\n")
    );
    // The walk saw what it should, so equality is not two empty pages.
    let text = |name: &str| {
        &key_pages
            .iter()
            .find(|(p, _)| *p == name)
            .unwrap_or_else(|| panic!("no page {name}"))
            .1
            .text
    };
    assert!(
        text("/c/bakery").contains("6.50 EUR"),
        "{}",
        text("/c/bakery")
    );
    assert!(text("/search?q=spin").contains("Spin plum tart"));
    assert!(
        text("/p/SPIN-ROLL").contains("Only 3 left"),
        "{}",
        text("/p/SPIN-ROLL")
    );
    assert!(
        text("/p/SPIN-TART").contains("Out of stock"),
        "{}",
        text("/p/SPIN-TART")
    );
    assert!(text("/p/SPIN-LOAF").contains("In stock"));
    assert!(
        text("/p/SPIN-LOAF").contains("4.29 EUR"),
        "{}",
        text("/p/SPIN-LOAF")
    );
    assert!(text("/p/SPIN-LOAF").contains("incl. VAT"));
    assert!(text("/cart").contains("8.58 EUR"), "{}", text("/cart"));
    assert!(
        text("/cart").contains("Discount (SPIN10)"),
        "{}",
        text("/cart")
    );
    assert!(
        text("/checkout").contains("7.72 EUR"),
        "{}",
        text("/checkout")
    );
    assert!(text("order").contains("7.72 EUR"), "{}", text("order"));
    assert!(
        text("/region").contains("Europe (West)"),
        "{}",
        text("/region")
    );
    // Both orders were committed by the shopper's home core, eu-west.
    assert!(count_in_database(&eu.database_url, "spin-walk@shopper.invalid").await >= 2);
    let us = world.core("us-east");
    assert_eq!(
        count_in_database(&us.database_url, "spin-walk@shopper.invalid").await,
        0
    );
    drop(spin);
}

#[test]
fn spin_refuses_every_manifest_the_node_refuses() {
    let Some(bin) = spin_bin() else { return };
    let dir = root().join("edge/tests/ui/manifest");
    let mut manifests: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    manifests.sort();
    assert!(!manifests.is_empty());
    let scratch = scratch("refuses");
    for manifest in manifests {
        let started = Instant::now();
        let mut child = Command::new(&bin)
            .current_dir(&scratch)
            .arg("up")
            .arg("--from")
            .arg(&manifest)
            .args(["--listen", "127.0.0.1:0", "--log-dir"])
            .arg(scratch.join("logs"))
            // Spin keeps state beside the manifest unless told otherwise.
            .arg("--state-dir")
            .arg(scratch.join("state"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                panic!("Spin accepted {} and served it", manifest.display());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(!status.success(), "Spin accepted {}", manifest.display());
    }
    let _ = std::fs::remove_dir_all(&scratch);
}
