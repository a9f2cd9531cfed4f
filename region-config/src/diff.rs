//! What a change to the config does, for the compliance review of a `regions.toml` edit
//! (`region-config diff OLD NEW`): regions added and removed, countries that change home
//! region, pinning, currencies, taxes as shoppers pay them, core URLs, warehouses and what
//! the edge may cache, retention periods. Changes that need a human decision are marked: a country leaving a
//! pinned region (its shoppers' existing personal data stays there until it is migrated or
//! erased), a pinned country moving to a region under another regulation, a region losing
//! its pinning, a region removed, a retention period shortened. `check` still refuses what is unsafe in the new file.

use std::collections::BTreeSet;
use std::fmt;

use crate::codes::{CountryCode, Slug};
use crate::model::{Pinning, Region, RegionConfig};

/// One difference between two configs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub text: String,
    /// Why a person must decide before the change ships, if one must.
    pub decision: Option<String>,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.decision {
            Some(why) => write!(f, "DECISION  {}\n          {why}", self.text),
            None => write!(f, "          {}", self.text),
        }
    }
}

fn change(text: String) -> Change {
    Change {
        text,
        decision: None,
    }
}

fn decide(text: String, why: String) -> Change {
    Change {
        text,
        decision: Some(why),
    }
}

fn regulation(region: &Region) -> Option<&str> {
    match &region.pinning {
        Pinning::Pinned { regulation, .. } => Some(regulation),
        Pinning::NotPinned => None,
    }
}

fn pinning_text(region: &Region) -> String {
    regulation(region).map_or_else(|| "not pinned".to_owned(), |r| format!("pinned under {r}"))
}

/// Every difference from `old` to `new`, regions first, then countries, in a stable order.
pub fn diff(old: &RegionConfig, new: &RegionConfig) -> Vec<Change> {
    let mut out = Vec::new();
    for region in new.regions() {
        if old.region(&region.id).is_none() {
            out.push(change(format!(
                "region {} ({}) added: {}, {}, countries {}",
                region.id,
                region.name,
                region.currency,
                pinning_text(region),
                list(&region.countries)
            )));
        }
    }
    for region in old.regions() {
        if new.region(&region.id).is_none() {
            out.push(decide(
                format!("region {} removed", region.id),
                format!(
                    "its core holds its shoppers' orders and personal data: migrate or erase them before the core is turned off ({})",
                    pinning_text(region)
                ),
            ));
        }
    }
    if old.fallback().id != new.fallback().id {
        out.push(change(format!(
            "fallback region {} -> {} (countries no region lists)",
            old.fallback().id,
            new.fallback().id
        )));
    }
    for region in new.regions() {
        if let Some(before) = old.region(&region.id) {
            region_changes(before, region, &mut out);
        }
    }
    countries(old, new, &mut out);
    out
}

fn region_changes(old: &Region, new: &Region, out: &mut Vec<Change>) {
    let id = &new.id;
    if old.name != new.name {
        out.push(change(format!(
            "region {id}: name {:?} -> {:?}",
            old.name, new.name
        )));
    }
    match (regulation(old), regulation(new)) {
        (Some(before), None) => out.push(decide(
            format!("region {id}: no longer pinned (was under {before})"),
            format!(
                "its shoppers' personal data may then be served by other regions: confirm {before} allows it"
            ),
        )),
        (None, Some(after)) => out.push(change(format!(
            "region {id}: now pinned under {after}"
        ))),
        (Some(before), Some(after)) if before != after => out.push(decide(
            format!("region {id}: regulation {before} -> {after}"),
            "confirm its shoppers' existing data may be held under the new regulation".to_owned(),
        )),
        _ => {}
    }
    if old.currency != new.currency {
        out.push(change(format!(
            "region {id}: currency {} -> {} (every price needs the new currency)",
            old.currency, new.currency
        )));
    }
    let url = |r: &Region| {
        r.core_url
            .as_ref()
            .map_or("none".to_owned(), |u| u.to_string())
    };
    if url(old) != url(new) {
        out.push(change(format!(
            "region {id}: core URL {} -> {}",
            url(old),
            url(new)
        )));
    }
    let warehouses = |r: &Region| -> BTreeSet<String> {
        r.warehouses
            .iter()
            .map(|w| w.id.as_str().to_owned())
            .collect()
    };
    for w in warehouses(new).difference(&warehouses(old)) {
        out.push(change(format!("region {id}: warehouse {w} added")));
    }
    for w in warehouses(old).difference(&warehouses(new)) {
        out.push(change(format!(
            "region {id}: warehouse {w} removed (its stock and open orders need a new home)"
        )));
    }
    retention_changes(old, new, out);
    for class in new.edge_may_cache.difference(&old.edge_may_cache) {
        out.push(change(format!(
            "region {id}: the edge may now cache {class:?}"
        )));
    }
    for class in old.edge_may_cache.difference(&new.edge_may_cache) {
        out.push(change(format!(
            "region {id}: the edge may no longer cache {class:?}"
        )));
    }
}

/// A shorter period erases data at the sweeper's next round: a person decides.
fn retention_changes(old: &Region, new: &Region, out: &mut Vec<Change>) {
    let id = &new.id;
    let periods = |r: &Region| {
        [
            ("guest_order_days", r.retention.map(|r| r.guest_order_days)),
            (
                "inactive_account_days",
                r.retention.map(|r| r.inactive_account_days),
            ),
        ]
    };
    for ((key, before), (_, after)) in periods(old).into_iter().zip(periods(new)) {
        if before == after {
            continue;
        }
        let text = |d: Option<u32>| d.map_or("unset".to_owned(), |d| d.to_string());
        let line = format!(
            "region {id}: retention {key} {} -> {}",
            text(before),
            text(after)
        );
        match (before, after) {
            (Some(b), Some(a)) if a >= b => out.push(change(line)),
            (None, Some(_)) => out.push(change(line)),
            _ => out.push(decide(
                line,
                "the sweeper anonymises what is older than the new period at its next round, irreversibly: confirm nothing must be kept longer".to_owned(),
            )),
        }
    }
}

fn countries(old: &RegionConfig, new: &RegionConfig, out: &mut Vec<Change>) {
    let listed = |c: &RegionConfig| -> BTreeSet<CountryCode> {
        c.regions()
            .iter()
            .flat_map(|r| r.countries.iter().copied())
            .collect()
    };
    let all: BTreeSet<CountryCode> = listed(old).union(&listed(new)).copied().collect();
    for country in all {
        let (before, _) = old.assignment(country);
        let (after, _) = new.assignment(country);
        if before.id != after.id {
            let text = format!(
                "{country} ({}): home region {} -> {}",
                country.name(),
                before.id,
                after.id
            );
            match (regulation(before), regulation(after)) {
                (Some(was), now) if now != Some(was) => out.push(decide(
                    text,
                    format!(
                        "{country} shoppers' existing personal data stays in {} (pinned under {was}) until migrated or erased; {} is {}",
                        before.id,
                        after.id,
                        pinning_text(after)
                    ),
                )),
                (Some(was), _) => out.push(decide(
                    text,
                    format!(
                        "{country} shoppers' existing personal data stays in {} until migrated or erased (both under {was})",
                        before.id
                    ),
                )),
                (None, _) => out.push(change(text)),
            }
        }
        taxes(country, before, after, out);
    }
}

/// Tax as a shopper of `country` pays it, before and after.
fn taxes(country: CountryCode, before: &Region, after: &Region, out: &mut Vec<Change>) {
    let mut categories: BTreeSet<Slug> = before.tax.categories.keys().cloned().collect();
    categories.extend(after.tax.categories.keys().cloned());
    for tax in [&before.tax, &after.tax] {
        if let Some(c) = tax.countries.get(&country) {
            categories.extend(c.categories.keys().cloned());
        }
    }
    let standard: Slug = "standard"
        .parse()
        .unwrap_or_else(|_| unreachable!("a valid slug"));
    let mut rates = Vec::new();
    for category in std::iter::once(&standard).chain(categories.iter()) {
        let (was, now) = (
            before.tax.rate(country, category),
            after.tax.rate(country, category),
        );
        if was != now {
            rates.push(format!("{category} {was} -> {now}"));
        }
    }
    if !rates.is_empty() {
        out.push(change(format!("{country}: tax {}", rates.join(", "))));
    }
    if before.tax.prices_include_tax() != after.tax.prices_include_tax() {
        out.push(change(format!(
            "{country}: shown prices {} tax",
            if after.tax.prices_include_tax() {
                "now include"
            } else {
                "no longer include"
            }
        )));
    }
    if before.currency != after.currency {
        out.push(change(format!(
            "{country}: pays in {} instead of {}",
            after.currency, before.currency
        )));
    }
}

fn list(countries: &[CountryCode]) -> String {
    countries
        .iter()
        .map(CountryCode::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn load(path: &str) -> RegionConfig {
        RegionConfig::from_path(&Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
    }

    #[test]
    fn a_file_against_itself_changes_nothing() {
        let shipped = load("regions.toml");
        assert_eq!(diff(&shipped, &shipped), Vec::new());
    }

    #[test]
    fn a_sixth_region_and_a_moved_pinned_country_need_a_decision() {
        let changes = diff(
            &load("regions.toml"),
            &load("../tests/e2e/six-regions.toml"),
        );
        let text: Vec<String> = changes.iter().map(ToString::to_string).collect();
        let find = |needle: &str| {
            changes
                .iter()
                .find(|c| c.text.contains(needle))
                .unwrap_or_else(|| panic!("{needle}: {text:#?}"))
        };
        assert!(
            find("region me-central (Middle East (Central)) added: KWD")
                .decision
                .is_none()
        );
        let moved = find("PT (Portugal): home region eu-west -> me-central");
        let why = moved.decision.as_deref().expect("a decision");
        assert!(
            why.contains("stays in eu-west (pinned under GDPR)"),
            "{why}"
        );
        assert!(find("PT: pays in KWD instead of EUR").decision.is_none());
        // KW, SA and AE leave the unpinned fallback: no decision; PT is the only one.
        assert!(
            find("KW (Kuwait): home region us-east -> me-central")
                .decision
                .is_none()
        );
        assert_eq!(
            changes.iter().filter(|c| c.decision.is_some()).count(),
            1,
            "{text:#?}"
        );
    }

    #[test]
    fn losing_a_pin_or_a_region_needs_a_decision() {
        let shipped = load("regions.toml");
        let text =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("regions.toml"))
                .unwrap();
        let unpinned = text.replacen(
            "pinned = true\nregulation = \"GDPR\"",
            "pinned = false\n# regulation = \"GDPR\"",
            1,
        );
        let unpinned = RegionConfig::parse(&unpinned).unwrap();
        let changes = diff(&shipped, &unpinned);
        assert!(
            changes.iter().any(
                |c| c.text == "region eu-west: no longer pinned (was under GDPR)"
                    && c.decision.is_some()
            ),
            "{changes:#?}"
        );
        let removed = diff(&load("../tests/e2e/six-regions.toml"), &shipped);
        assert!(
            removed
                .iter()
                .any(|c| c.text == "region me-central removed" && c.decision.is_some()),
            "{removed:#?}"
        );
    }

    #[test]
    fn a_shorter_retention_needs_a_decision_a_longer_one_does_not() {
        let shipped = load("regions.toml");
        let text =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("regions.toml"))
                .unwrap();
        let eu = text.find("id = \"eu-west\"").unwrap();
        let (head, tail) = text.split_at(eu);
        let shorter = format!(
            "{head}{}",
            tail.replacen("guest_order_days = 365", "guest_order_days = 30", 1)
        );
        let changes = diff(&shipped, &RegionConfig::parse(&shorter).unwrap());
        assert_eq!(changes.len(), 1, "{changes:#?}");
        assert_eq!(
            changes[0].text,
            "region eu-west: retention guest_order_days 365 -> 30"
        );
        assert!(changes[0].decision.is_some());
        let longer = format!(
            "{head}{}",
            tail.replacen(
                "inactive_account_days = 1095",
                "inactive_account_days = 2000",
                1
            )
        );
        let changes = diff(&shipped, &RegionConfig::parse(&longer).unwrap());
        assert_eq!(changes.len(), 1, "{changes:#?}");
        assert!(changes[0].decision.is_none(), "{changes:#?}");
    }
}
