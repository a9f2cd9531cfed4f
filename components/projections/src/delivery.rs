//! Delivery slots at the edge: where each warehouse of a storefront delivers and its coming
//! slots with their state, as the regional core's relay publishes them (one key per
//! storefront, [`crate::keys::delivery`]). Counts become a state; no order or shopper is in it.
//!
//! The core checks a booking against the same zones with [`Zone::covers`], so the slots a
//! page lists are the slots checkout accepts for that address.

use serde::{Deserialize, Serialize};

/// The storefront's delivery: per warehouse, its zones and its coming slots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub v: u32,
    /// ISO 4217; every fee is in its minor units.
    pub currency: String,
    pub warehouses: Vec<WarehouseSlots>,
}

/// One warehouse's zones and slots, the slots by start time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarehouseSlots {
    pub warehouse: String,
    pub zones: Vec<Zone>,
    pub slots: Vec<Slot>,
}

/// Where a warehouse delivers: a whole country (no prefixes), or the postal codes of that
/// country starting with one of the prefixes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    pub country: String,
    #[serde(default)]
    pub postal_prefixes: Vec<String>,
}

impl Zone {
    /// Whether the zone covers an address in `country` with `postal_code`. Without a postal
    /// code only whole-country zones cover it. Case, spaces and dashes do not matter.
    pub fn covers(&self, country: &str, postal_code: Option<&str>) -> bool {
        if !self.country.eq_ignore_ascii_case(country) {
            return false;
        }
        if self.postal_prefixes.is_empty() {
            return true;
        }
        let Some(code) = postal_code.map(compact) else {
            return false;
        };
        self.postal_prefixes
            .iter()
            .any(|p| !p.is_empty() && code.starts_with(&compact(p)))
    }
}

/// A postal code or prefix as zones compare them: upper case, without spaces and dashes.
pub fn compact(code: &str) -> String {
    code.chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A slot as shoppers see it: local date and times at the warehouse, the fee and a state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub id: String,
    /// `YYYY-MM-DD`, local to the warehouse.
    pub date: String,
    /// `HH:MM`, local.
    pub start: String,
    /// `HH:MM`, local.
    pub end: String,
    /// Unix seconds of the start: a reader hides slots that have started.
    pub starts_at: i64,
    pub fee_minor: i64,
    pub state: SlotState,
}

/// A slot's availability, from its counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotState {
    Available,
    FewLeft,
    Full,
}

impl SlotState {
    /// The state of a slot with `booked` of `capacity` taken (closed slots are full): few
    /// left once at most a fifth, or at most 2, remain.
    pub fn of(booked: i64, capacity: i64, closed: bool) -> Self {
        let left = capacity - booked;
        if closed || left <= 0 {
            Self::Full
        } else if left <= 2 || left * 5 <= capacity {
            Self::FewLeft
        } else {
            Self::Available
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::FewLeft => "few_left",
            Self::Full => "full",
        }
    }
}

impl Delivery {
    /// The coming slots of every warehouse delivering to `country` / `postal_code`, by date
    /// and start time.
    /// Slots starting at or before `now` (Unix seconds) are left out.
    pub fn slots_for(&self, country: &str, postal_code: Option<&str>, now: i64) -> Vec<&Slot> {
        let mut slots: Vec<&Slot> = self
            .warehouses
            .iter()
            .filter(|w| w.zones.iter().any(|z| z.covers(country, postal_code)))
            .flat_map(|w| &w.slots)
            .filter(|s| s.starts_at > now)
            .collect();
        slots.sort_by(|a, b| (&a.date, &a.start, &a.end).cmp(&(&b.date, &b.start, &b.end)));
        slots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(country: &str, prefixes: &[&str]) -> Zone {
        Zone {
            country: country.into(),
            postal_prefixes: prefixes.iter().map(|p| (*p).into()).collect(),
        }
    }

    #[test]
    fn a_zone_covers_its_country_or_its_postal_prefixes() {
        let paris = zone("FR", &["75", "92"]);
        assert!(paris.covers("FR", Some("75011")));
        assert!(paris.covers("fr", Some("92 100")));
        assert!(!paris.covers("FR", Some("69001")));
        assert!(!paris.covers("FR", None), "a prefix zone needs the code");
        assert!(!paris.covers("BE", Some("7500")));
        let london = zone("GB", &["SW1A", "ec-1"]);
        assert!(london.covers("GB", Some("sw1a 1aa")));
        assert!(london.covers("GB", Some("EC1V 9HX")));
        assert!(!london.covers("GB", Some("SW1B 1AA")));
        let france = zone("FR", &[]);
        assert!(france.covers("FR", None));
        assert!(france.covers("FR", Some("69001")));
    }

    #[test]
    fn states_come_from_counts() {
        assert_eq!(SlotState::of(0, 50, false), SlotState::Available);
        assert_eq!(SlotState::of(39, 50, false), SlotState::Available);
        assert_eq!(SlotState::of(40, 50, false), SlotState::FewLeft);
        assert_eq!(SlotState::of(49, 50, false), SlotState::FewLeft);
        assert_eq!(SlotState::of(50, 50, false), SlotState::Full);
        assert_eq!(SlotState::of(0, 3, false), SlotState::Available);
        assert_eq!(SlotState::of(1, 3, false), SlotState::FewLeft);
        assert_eq!(SlotState::of(0, 50, true), SlotState::Full);
        assert_eq!(SlotState::of(0, 0, false), SlotState::Full);
    }

    #[test]
    fn the_slots_for_an_address_are_its_warehouses_by_time() {
        let slot = |id: &str, date: &str, start: &str| Slot {
            id: id.into(),
            date: date.into(),
            start: start.into(),
            end: "23:00".into(),
            starts_at: 100,
            fee_minor: 0,
            state: SlotState::Available,
        };
        let delivery = Delivery {
            v: 1,
            currency: "EUR".into(),
            warehouses: vec![
                WarehouseSlots {
                    warehouse: "paris".into(),
                    zones: vec![zone("FR", &["75"])],
                    slots: vec![
                        slot("p2", "2026-12-09", "08:00"),
                        slot("p1", "2026-12-08", "18:00"),
                    ],
                },
                WarehouseSlots {
                    warehouse: "lyon".into(),
                    zones: vec![zone("FR", &["69"])],
                    slots: vec![slot("l1", "2026-12-08", "08:00")],
                },
            ],
        };
        let ids = |slots: Vec<&Slot>| slots.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
        assert_eq!(
            ids(delivery.slots_for("FR", Some("75001"), 0)),
            ["p1", "p2"]
        );
        assert_eq!(ids(delivery.slots_for("FR", Some("69001"), 0)), ["l1"]);
        assert!(delivery.slots_for("FR", None, 0).is_empty());
        assert!(delivery.slots_for("DE", Some("75001"), 0).is_empty());
        assert!(
            delivery.slots_for("FR", Some("75001"), 100).is_empty(),
            "started"
        );
    }
}
