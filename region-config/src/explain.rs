//! Plain-language answers for compliance staff: where a country's shoppers live in the
//! system, and a one-line-per-region overview.

use std::fmt::Write;

use crate::codes::CountryCode;
use crate::model::{Assignment, DataClass, Pinning, Region, RegionConfig};

/// Explains which region serves shoppers from `country`, why, and what that means for
/// their personal data and for the edge.
pub fn explain(config: &RegionConfig, country: CountryCode) -> String {
    explain_to(config, country, Audience::Staff)
}

/// [`explain`] as shoppers may read it: the same, without the internal address of the core.
pub fn for_shoppers(config: &RegionConfig, country: CountryCode) -> String {
    explain_to(config, country, Audience::Shoppers)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Audience {
    Staff,
    Shoppers,
}

fn explain_to(config: &RegionConfig, country: CountryCode, audience: Audience) -> String {
    let (region, assignment) = config.assignment(country);
    let mut out = String::new();
    let core = match (&region.core_url, audience) {
        (_, Audience::Shoppers) => String::new(),
        (Some(url), Audience::Staff) => format!(", reached at {url}"),
        (None, Audience::Staff) => ", reached at no core URL configured".to_owned(),
    };
    let _ = writeln!(
        out,
        "{} ({}) -> region {} ({})",
        country,
        country.name(),
        region.id,
        region.name
    );
    let why = match assignment {
        Assignment::Listed => format!(
            "{country} is listed in the countries of region {} (regions.toml line {})",
            region.id,
            region
                .country_lines
                .get(&country)
                .copied()
                .unwrap_or(region.line)
        ),
        Assignment::Fallback => format!(
            "no region lists {country}, so the fallback region {} serves it",
            region.id
        ),
    };
    let _ = writeln!(out, "  why:           {why}");
    match &region.pinning {
        Pinning::Pinned { regulation, basis } => {
            let _ = writeln!(
                out,
                "  pinned:        yes, under {regulation}: personal data of these shoppers never leaves {}",
                region.id
            );
            if let Some(basis) = basis {
                let _ = writeln!(out, "  basis:         {basis}");
            }
        }
        Pinning::NotPinned => {
            let _ = writeln!(
                out,
                "  pinned:        no: no regulation pins this data, but it is still kept only in {}",
                region.id
            );
        }
    }
    let _ = writeln!(
        out,
        "  stored at:     orders and personal data (contact, shipping address, payment tokens, order history) in the {} core's PostgreSQL database{core}",
        region.id
    );
    let retention = match region.retention {
        Some(r) => format!(
            "guest orders' personal fields anonymised {} days after completion; accounts erased after {} days without a sign-in",
            r.guest_order_days, r.inactive_account_days
        ),
        None => "no period set: kept until the shopper or staff ask for erasure".to_owned(),
    };
    let _ = writeln!(out, "  kept for:      {retention}");
    let refused_by = config
        .regions()
        .iter()
        .filter(|r| r.id != region.id)
        .map(|r| r.id.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if region.pinning.is_pinned() && !refused_by.is_empty() {
        let _ = writeln!(
            out,
            "  refused by:    {refused_by} (their cores answer 421 and store nothing)"
        );
    }
    let _ = writeln!(
        out,
        "  ships from:    {}",
        region
            .warehouses
            .iter()
            .map(|w| format!("{} ({}, {})", w.id, w.city, w.country))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "  prices:        {} ({}, {} decimal places), {}",
        region.currency,
        region.currency.name(),
        region.currency.exponent(),
        tax_summary(region, country)
    );
    let _ = writeln!(
        out,
        "  edge caches:   {}",
        join(region.edge_may_cache.iter().map(|c| c.as_str()))
    );
    let _ = writeln!(
        out,
        "  never at edge: {}",
        join(
            DataClass::ALL
                .iter()
                .filter(|c| c.is_personal() || !region.edge_may_cache.contains(c))
                .map(|c| c.as_str())
        )
    );
    let _ = writeln!(
        out,
        "  edge POPs:     {}",
        join(region.edge_pops.iter().map(|p| p.as_str()))
    );
    out
}

fn tax_summary(region: &Region, country: CountryCode) -> String {
    let tax = &region.tax;
    let (default, categories) = match tax.countries.get(&country) {
        Some(c) => (c.default_rate, &c.categories),
        None => (tax.default_rate, &tax.categories),
    };
    let shown = if tax.prices_include_tax() {
        "included in shown prices"
    } else {
        "added at checkout"
    };
    let mut summary = format!("{} {shown}, standard {default}", tax.kind.label());
    for (category, rate) in categories {
        let _ = write!(summary, ", {category} {rate}");
    }
    summary
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<&str> = items.collect();
    if items.is_empty() {
        "nothing".to_owned()
    } else {
        items.join(", ")
    }
}

/// One line per region: id, currency, pinning, countries, core URL.
pub fn list(config: &RegionConfig) -> String {
    let mut out = String::new();
    for region in config.regions() {
        let pinned = match &region.pinning {
            Pinning::Pinned { regulation, .. } => format!("pinned ({regulation})"),
            Pinning::NotPinned => "not pinned".to_owned(),
        };
        let fallback = if region.id == config.fallback().id {
            " + every unlisted country (fallback)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{:<14} {} {:<18} {}{}  core {}",
            region.id,
            region.currency,
            pinned,
            join(region.countries.iter().map(|c| c.as_str())),
            fallback,
            region
                .core_url
                .as_ref()
                .map_or_else(|| "-".to_owned(), |u| u.to_string())
        );
    }
    out
}
