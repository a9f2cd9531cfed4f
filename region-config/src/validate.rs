//! Turns the raw file into a [`RegionConfig`], collecting every problem with its position
//! rather than stopping at the first.

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use crate::codes::{BasisPoints, CountryCode, Currency, RegionId, Slug};
use crate::error::{Diagnostic, LoadError, Problem};
use crate::file::{RawCountryTax, RawFile, RawRegion};
use crate::model::{
    CountryTax, DataClass, Pinning, Region, RegionConfig, Retention, TaxRules, Warehouse,
    parse_core_url,
};

/// Byte offsets to 1-based line and column (columns count characters).
struct Positions<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Positions<'a> {
    fn new(text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { text, line_starts }
    }

    fn at(&self, offset: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(1, |s| s.chars().count() + 1);
        (line, column)
    }
}

struct Collector<'a> {
    positions: Positions<'a>,
    diagnostics: Vec<Diagnostic>,
}

impl Collector<'_> {
    fn report(&mut self, offset: usize, problem: impl Into<Problem>) {
        let (line, column) = self.positions.at(offset);
        self.diagnostics.push(Diagnostic {
            line,
            column,
            problem: problem.into(),
        });
    }

    /// Parses a spanned value into a newtype, reporting a refusal at its position.
    fn code<T: std::str::FromStr<Err = crate::codes::CodeError>>(
        &mut self,
        value: &Spanned<String>,
    ) -> Option<T> {
        match value.get_ref().parse() {
            Ok(v) => Some(v),
            Err(e) => {
                self.report(value.span().start, e);
                None
            }
        }
    }

    fn rate(&mut self, value: &Spanned<u32>) -> Option<BasisPoints> {
        match BasisPoints::try_from(*value.get_ref()) {
            Ok(v) => Some(v),
            Err(e) => {
                self.report(value.span().start, e);
                None
            }
        }
    }

    fn slug(&mut self, value: &str, offset: usize) -> Option<Slug> {
        match value.parse() {
            Ok(v) => Some(v),
            Err(e) => {
                self.report(offset, e);
                None
            }
        }
    }
}

pub(crate) fn parse(text: &str) -> Result<RegionConfig, LoadError> {
    let positions = Positions::new(text);
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let (line, column) = positions.at(e.span().map_or(0, |s| s.start));
        LoadError::Syntax {
            line,
            column,
            message: e.message().trim_end().to_owned(),
        }
    })?;
    let mut c = Collector {
        positions,
        diagnostics: Vec::new(),
    };
    let config = validate(&raw, &mut c);
    match config {
        Some(config) if c.diagnostics.is_empty() => Ok(config),
        _ => {
            c.diagnostics
                .sort_by_key(|d| (d.line, d.column, d.problem.to_string()));
            Err(LoadError::Invalid(c.diagnostics))
        }
    }
}

fn validate(raw: &RawFile, c: &mut Collector<'_>) -> Option<RegionConfig> {
    if *raw.version.get_ref() != 1 {
        c.report(
            raw.version.span().start,
            Problem::UnsupportedVersion {
                version: *raw.version.get_ref(),
            },
        );
    }
    if raw.regions.is_empty() {
        c.report(0, Problem::NoRegions);
        return None;
    }

    // Each region on its own; a region with an invalid value is still checked against the
    // others below (on its raw values), so one file run lists every problem.
    let regions: Vec<Option<Region>> = raw.regions.iter().map(|r| region(r, c)).collect();
    let ids: Vec<Option<RegionId>> = raw
        .regions
        .iter()
        .map(|r| r.id.get_ref().parse().ok())
        .collect();

    let mut seen_regions: BTreeSet<&RegionId> = BTreeSet::new();
    for (raw_region, id) in raw.regions.iter().zip(&ids) {
        if let Some(id) = id
            && !seen_regions.insert(id)
        {
            c.report(
                raw_region.id.span().start,
                Problem::DuplicateRegion { region: id.clone() },
            );
        }
    }

    let fallback = raw
        .regions
        .iter()
        .position(|r| r.id.get_ref() == raw.fallback.get_ref());
    match fallback {
        None => c.report(
            raw.fallback.span().start,
            Problem::UnknownFallback {
                region: raw.fallback.get_ref().clone(),
            },
        ),
        Some(i) if *raw.regions[i].pinning.pinned.get_ref() => {
            if let Some(id) = &ids[i] {
                c.report(
                    raw.fallback.span().start,
                    Problem::FallbackIsPinned { region: id.clone() },
                );
            }
        }
        Some(_) => {}
    }

    // Each country has exactly one home region.
    let mut by_country: BTreeMap<CountryCode, usize> = BTreeMap::new();
    for (i, (raw_region, id)) in raw.regions.iter().zip(&ids).enumerate() {
        let Some(id) = id else { continue };
        for raw_country in &raw_region.countries {
            let Ok(country) = raw_country.get_ref().parse::<CountryCode>() else {
                continue;
            };
            match by_country.get(&country) {
                Some(&j) if j == i => c.report(
                    raw_country.span().start,
                    Problem::CountryListedTwice {
                        country,
                        region: id.clone(),
                    },
                ),
                Some(&j) => {
                    if let Some(first) = &ids[j] {
                        c.report(
                            raw_country.span().start,
                            Problem::CountryClaimedTwice {
                                country,
                                first: first.clone(),
                                second: id.clone(),
                            },
                        );
                    }
                }
                None => {
                    by_country.insert(country, i);
                }
            }
        }
        if raw_region.countries.is_empty() && Some(i) != fallback {
            c.report(
                raw_region.id.span().start,
                Problem::RegionWithoutCountries { region: id.clone() },
            );
        }
    }

    // Warehouse ids are unique across the file: orders and stock rows name them.
    let mut warehouses: BTreeMap<&str, &RegionId> = BTreeMap::new();
    for (raw_region, id) in raw.regions.iter().zip(&ids) {
        let Some(id) = id else { continue };
        for w in &raw_region.warehouses {
            if let Some(first) = warehouses.insert(w.id.get_ref(), id) {
                c.report(
                    w.id.span().start,
                    Problem::DuplicateWarehouse {
                        warehouse: w.id.get_ref().clone(),
                        first: first.clone(),
                        second: id.clone(),
                    },
                );
            }
        }
    }

    Some(RegionConfig {
        regions: regions.into_iter().collect::<Option<Vec<_>>>()?,
        fallback: fallback?,
        by_country,
    })
}

/// Validates one region; `None` when a value it cannot do without is invalid (the problem
/// is already reported).
fn region(raw: &RawRegion, c: &mut Collector<'_>) -> Option<Region> {
    let id: Option<RegionId> = c.code(&raw.id);
    let currency: Option<Currency> = c.code(&raw.currency);
    let countries: Vec<CountryCode> = raw.countries.iter().filter_map(|v| c.code(v)).collect();
    let country_lines = raw
        .countries
        .iter()
        .filter_map(|v| {
            let code: CountryCode = v.get_ref().parse().ok()?;
            Some((code, c.positions.at(v.span().start).0))
        })
        .collect();
    let id = id?;

    let pinning = match (*raw.pinning.pinned.get_ref(), &raw.pinning.regulation) {
        (true, Some(regulation)) if !regulation.trim().is_empty() => Pinning::Pinned {
            regulation: regulation.clone(),
            basis: raw.pinning.basis.clone(),
        },
        (true, _) => {
            c.report(
                raw.pinning.pinned.span().start,
                Problem::PinnedRegionWithoutRegulation { region: id.clone() },
            );
            Pinning::Pinned {
                regulation: String::new(),
                basis: None,
            }
        }
        (false, _) => Pinning::NotPinned,
    };

    let core_url = match &raw.core_url {
        Some(url) => match parse_core_url(url.get_ref()) {
            Ok(parsed) => Some(parsed),
            Err(reason) => {
                c.report(
                    url.span().start,
                    Problem::InvalidCoreUrl {
                        region: id.clone(),
                        url: url.get_ref().clone(),
                        reason,
                    },
                );
                None
            }
        },
        None => {
            if pinning.is_pinned() {
                c.report(
                    raw.id.span().start,
                    Problem::PinnedRegionWithoutCoreUrl { region: id.clone() },
                );
            }
            None
        }
    };

    let edge_pops = raw
        .edge_pops
        .iter()
        .filter_map(|p| c.slug(p.get_ref(), p.span().start))
        .collect();

    let mut edge_may_cache = BTreeSet::new();
    for class in &raw.edge_may_cache {
        match class.get_ref().parse::<DataClass>() {
            Ok(dc) if dc.is_personal() => c.report(
                class.span().start,
                Problem::EdgeMayNotCachePersonalData {
                    region: id.clone(),
                    class: dc.to_string(),
                },
            ),
            Ok(dc) => {
                edge_may_cache.insert(dc);
            }
            Err(()) => c.report(
                class.span().start,
                Problem::UnknownDataClass {
                    class: class.get_ref().clone(),
                    known: DataClass::ALL
                        .iter()
                        .filter(|d| !d.is_personal())
                        .map(|d| d.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                },
            ),
        }
    }

    let tax = tax(raw, &id, &countries, c);

    let warehouses: Vec<Warehouse> = raw
        .warehouses
        .iter()
        .filter_map(|w| {
            let id = c.slug(w.id.get_ref(), w.id.span().start);
            let country = c.code(&w.country);
            Some(Warehouse {
                id: id?,
                city: w.city.clone(),
                country: country?,
            })
        })
        .collect();
    if raw.warehouses.is_empty() {
        c.report(
            raw.id.span().start,
            Problem::RegionWithoutWarehouse { region: id.clone() },
        );
    }

    let retention = retention(raw, &id, pinning.is_pinned(), c);
    let line = c.positions.at(raw.id.span().start).0;
    Some(Region {
        id,
        name: raw.name.clone(),
        currency: currency?,
        countries,
        pinning,
        core_url,
        edge_pops,
        edge_may_cache,
        tax: tax?,
        warehouses,
        retention,
        line,
        country_lines,
    })
}

/// The region's retention periods, required when it is pinned.
fn retention(
    raw: &RawRegion,
    region: &RegionId,
    pinned: bool,
    c: &mut Collector<'_>,
) -> Option<Retention> {
    let Some(r) = &raw.retention else {
        if pinned {
            c.report(
                raw.id.span().start,
                Problem::PinnedRegionWithoutRetention {
                    region: region.clone(),
                },
            );
        }
        return None;
    };
    let mut days = |key: &'static str, value: &Spanned<i64>| match u32::try_from(*value.get_ref()) {
        Ok(d) if (1..=Retention::MAX_DAYS).contains(&d) => Some(d),
        _ => {
            c.report(
                value.span().start,
                Problem::InvalidRetention {
                    region: region.clone(),
                    key,
                    value: *value.get_ref(),
                },
            );
            None
        }
    };
    let guest_order_days = days("guest_order_days", &r.guest_order_days);
    let inactive_account_days = days("inactive_account_days", &r.inactive_account_days);
    Some(Retention {
        guest_order_days: guest_order_days?,
        inactive_account_days: inactive_account_days?,
    })
}

fn tax(
    raw: &RawRegion,
    region: &RegionId,
    countries: &[CountryCode],
    c: &mut Collector<'_>,
) -> Option<TaxRules> {
    let default_rate = c.rate(&raw.tax.default_rate_bp);
    let categories = category_rates(&raw.tax.categories, c);
    let mut per_country = BTreeMap::new();
    for RawCountryTax {
        country,
        default_rate_bp,
        categories,
    } in &raw.tax.countries
    {
        let code: Option<CountryCode> = c.code(country);
        let rate = c.rate(default_rate_bp);
        let categories = category_rates(categories, c);
        let Some(code) = code else { continue };
        if !countries.contains(&code) {
            c.report(
                country.span().start,
                Problem::TaxForCountryNotServed {
                    country: code,
                    region: region.clone(),
                },
            );
        }
        let entry = CountryTax {
            default_rate: rate?,
            categories: categories?,
        };
        if per_country.insert(code, entry).is_some() {
            c.report(
                country.span().start,
                Problem::CountryTaxTwice {
                    country: code,
                    region: region.clone(),
                },
            );
        }
    }
    Some(TaxRules {
        kind: raw.tax.kind,
        display: raw.tax.display,
        default_rate: default_rate?,
        categories: categories?,
        countries: per_country,
    })
}

fn category_rates(
    raw: &BTreeMap<String, Spanned<u32>>,
    c: &mut Collector<'_>,
) -> Option<BTreeMap<Slug, BasisPoints>> {
    let mut ok = true;
    let mut rates = BTreeMap::new();
    for (name, rate) in raw {
        let slug = c.slug(name, rate.span().start);
        match (slug, c.rate(rate)) {
            (Some(slug), Some(rate)) => {
                rates.insert(slug, rate);
            }
            _ => ok = false,
        }
    }
    ok.then_some(rates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters_from_one() {
        let p = Positions::new("a = 1\nbé = 2\n");
        assert_eq!(p.at(0), (1, 1));
        assert_eq!(p.at(6), (2, 1));
        assert_eq!(p.at(9), (2, 3));
    }
}
