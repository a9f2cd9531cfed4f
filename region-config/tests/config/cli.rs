//! The `region-config` command as compliance staff run it, against the shipped file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use region_config::{CountryCode, RegionConfig};

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("regions.toml")
}

fn region_config(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_region-config"))
        .args(args)
        .env_remove("MERIDIAN_REGION_CONFIG")
        .env_remove("MERIDIAN_CORE_URL_EU_WEST")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn the_shipped_file_passes_check() {
    let output = region_config(&["check", shipped().to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let config = RegionConfig::from_path(&shipped()).unwrap();
    let summary = format!(
        "ok ({} regions, fallback {})",
        config.regions().len(),
        config.fallback().id
    );
    assert!(stdout(&output).contains(&summary), "{}", stdout(&output));
}

/// The end-to-end tests' copy with a sixth region in a three-decimal currency and Portugal
/// moved into it: `check` accepts it, `explain` follows the move and cites the line where the
/// country is listed, and `storefront-view` carries the new region.
#[test]
fn a_sixth_region_and_a_moved_country_are_checked_and_explained() {
    let six = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/six-regions.toml");
    let output = region_config(&["check", six.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout(&output).contains("ok (6 regions"),
        "{}",
        stdout(&output)
    );
    let text = stdout(&region_config(&[
        "--file",
        six.to_str().unwrap(),
        "explain",
        "PT",
    ]));
    let listed = std::fs::read_to_string(&six)
        .unwrap()
        .lines()
        .position(|l| l.starts_with("countries = ") && l.contains("\"PT\""))
        .unwrap()
        + 1;
    assert!(
        text.starts_with("PT (Portugal) -> region me-central"),
        "{text}"
    );
    assert!(
        text.contains(&format!("(regions.toml line {listed})")),
        "line {listed}: {text}"
    );
    assert!(
        text.contains("KWD (Kuwaiti dinar, 3 decimal places)"),
        "{text}"
    );
    let view = stdout(&region_config(&[
        "--file",
        six.to_str().unwrap(),
        "storefront-view",
    ]));
    let view: serde_json::Value = serde_json::from_str(&view).unwrap();
    let me = view["regions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "me-central")
        .unwrap();
    assert_eq!(
        (me["currency"].as_str(), me["exponent"].as_u64()),
        (Some("KWD"), Some(3))
    );
}

#[test]
fn check_lists_every_problem_and_exits_1() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/invalid/many_problems.toml");
    let output = region_config(&["check", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.lines().count() >= 5, "{stderr}");
    assert!(stderr.contains("country DE is claimed by region us and by region eu"));
}

#[test]
fn explain_de_says_eu_west_pinned_under_gdpr_and_where_data_lives() {
    let output = region_config(&["--file", shipped().to_str().unwrap(), "explain", "DE"]);
    assert!(output.status.success());
    let text = stdout(&output);
    assert!(text.starts_with("DE (Germany) -> region eu-west"), "{text}");
    assert!(text.contains("pinned:        yes, under GDPR"), "{text}");
    assert!(
        text.contains("in the eu-west core's PostgreSQL database"),
        "{text}"
    );
    assert!(
        text.contains(
            "never at edge: shopper-contact, shipping-address, payment-details, order-history"
        ),
        "{text}"
    );
    assert!(
        text.contains("VAT included in shown prices, standard 19%"),
        "{text}"
    );
    assert!(
        text.contains("kept for:      guest orders' personal fields anonymised 365 days after completion; accounts erased after 1095 days without a sign-in"),
        "{text}"
    );
}

#[test]
fn explain_an_unlisted_country_names_the_fallback() {
    let output = region_config(&["--file", shipped().to_str().unwrap(), "explain", "JP"]);
    let text = stdout(&output);
    assert!(
        text.contains("no region lists JP, so the fallback region us-east serves it"),
        "{text}"
    );
    assert!(text.contains("pinned:        no"), "{text}");
}

#[test]
fn explain_refuses_a_country_that_does_not_exist() {
    let output = region_config(&["--file", shipped().to_str().unwrap(), "explain", "XY"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("\"XY\" is not an ISO 3166-1 alpha-2 country code")
    );
}

#[test]
fn list_shows_every_region_and_the_fallback() {
    let output = region_config(&["--file", shipped().to_str().unwrap(), "list"]);
    let text = stdout(&output);
    let config = RegionConfig::from_path(&shipped()).unwrap();
    for region in config.regions() {
        assert!(text.contains(region.id.as_str()), "{text}");
    }
    assert!(text.contains("(fallback)"));
}

#[test]
fn a_deployment_overrides_a_core_url_from_the_environment() {
    let config = RegionConfig::from_path(&shipped())
        .unwrap()
        .with_core_url_overrides(|key| {
            (key == "MERIDIAN_CORE_URL_EU_WEST").then(|| "https://eu-west.core.internal".to_owned())
        })
        .unwrap();
    let de: CountryCode = "DE".parse().unwrap();
    assert_eq!(
        config.home_region(de).core_url.as_ref().unwrap().as_str(),
        "https://eu-west.core.internal/"
    );
    let bad = RegionConfig::from_path(&shipped())
        .unwrap()
        .with_core_url_overrides(|_| Some("not a url".to_owned()));
    assert!(bad.is_err());
}

#[test]
fn the_shipped_file_describes_the_five_regions_of_the_grocery_platform() {
    let config = RegionConfig::from_path(&shipped()).unwrap();
    let home = |c: &str| config.home_region(c.parse().unwrap());
    let eu = home("DE");
    assert_eq!((eu.id.as_str(), eu.currency.as_str()), ("eu-west", "EUR"));
    assert!(eu.pinning.is_pinned() && eu.tax.prices_include_tax());
    let us = home("US");
    assert_eq!((us.id.as_str(), us.currency.as_str()), ("us-east", "USD"));
    assert!(!us.pinning.is_pinned() && !us.tax.prices_include_tax());
    assert_eq!(home("IN").id.as_str(), "ap-south");
    assert!(home("IN").pinning.is_pinned());
    assert_eq!(home("BR").currency.as_str(), "BRL");
    assert_eq!(home("AU").id.as_str(), "ap-southeast");
    assert_eq!(config.fallback().id.as_str(), "us-east");
    let food = "food".parse().unwrap();
    assert_eq!(eu.tax.rate("DE".parse().unwrap(), &food).get(), 700);
    assert_eq!(eu.tax.rate("FR".parse().unwrap(), &food).get(), 550);
    for region in config.regions() {
        assert!(region.edge_may_cache.iter().all(|c| !c.is_personal()));
    }
}

#[test]
fn list_plain_gives_scripts_one_tab_separated_line_per_region() {
    let output = region_config(&["--file", shipped().to_str().unwrap(), "list", "--plain"]);
    let text = stdout(&output);
    let eu = text.lines().find(|l| l.starts_with("eu-west\t")).unwrap();
    let fields: Vec<&str> = eu.split('\t').collect();
    assert_eq!(fields[..3], ["eu-west", "EUR", "http://127.0.0.1:7102/"]);
    assert_eq!(fields[3], "de-fra-1,nl-ams-1,fr-lyo-1");
    assert_eq!(text.lines().count(), 5);
}
