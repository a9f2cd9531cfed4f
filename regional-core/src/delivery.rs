//! Delivery slots: where a storefront's warehouses deliver, when, and how many orders each
//! slot takes. Strong at booking.
//!
//! 1. A merchant puts a warehouse's zones (countries of this region, optionally narrowed to
//!    postal-code prefixes) and its weekly template (local windows with capacity and fee, a
//!    time zone, how many days ahead, how long a pre-checkout hold lasts) ([`admin`]).
//! 2. The core materialises the template's slots for the coming days, when it is put and
//!    every hour after ([`admin::materialise_all`]); a merchant closes a slot or changes its
//!    capacity (never below what is booked).
//! 3. A checkout that names a slot books one unit of it in the transaction that reserves
//!    the order's stock, in the slot's warehouse: `booked = booked + 1` only where
//!    `booked < capacity` ([`booking::book`]), backed by a CHECK constraint. A shopper may
//!    hold a slot before filling the cart; checkout then takes that hold over.
//! 4. A declined payment, a cancelled order or an expired checkout releases the unit with
//!    its stock ([`booking::release`]); a pre-checkout hold not taken over expires.
//! 5. A day before its slot, each order's shopper is reminded by e-mail
//!    ([`booking::queue_reminders`]).
//! 6. Every change of a slot's state (available, few left, full) is an outbox event; the
//!    relay publishes the storefront's zones and slots to the edge ([`projection`]).
//!
//! Lock order: stock rows (by SKU, warehouse), then a slot row. Checkout reserves stock
//! before booking, and releasing does the same, so they never wait on each other in a cycle.

pub mod admin;
pub mod booking;
pub mod projection;

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;

/// Outbox event: a storefront's slots or zones changed (payload: `storefront`).
pub const SLOTS_CHANGED: &str = "slots_changed";

/// Windows in one template, at most.
pub const MAX_WINDOWS: usize = 200;
/// A slot's capacity, at most.
pub const MAX_CAPACITY: i32 = 10_000;
/// A fee, at most, in minor units.
pub const MAX_FEE_MINOR: i64 = 100_000_000;

/// How often templates are materialised for the coming days.
pub const MATERIALISE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(3600);

/// Runs until the process ends: every `interval` it queues the day-before reminders of
/// booked slots and releases expired pre-checkout holds; every [`MATERIALISE_INTERVAL`] it
/// materialises every template's coming days.
pub async fn run(app: crate::AppState, interval: std::time::Duration) {
    let mut last_materialised: Option<std::time::Instant> = None;
    loop {
        if last_materialised.is_none_or(|t| t.elapsed() >= MATERIALISE_INTERVAL) {
            match admin::materialise_all(&app).await {
                Ok(n) => {
                    last_materialised = Some(std::time::Instant::now());
                    if n > 0 {
                        tracing::info!(slots = n, "delivery slots materialised");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "materialising delivery slots failed"),
            }
        }
        if let Err(e) = booking::queue_reminders(&app).await {
            tracing::warn!(error = %e, "queuing slot reminders failed");
        }
        match booking::expire_holds(&app).await {
            Ok(n) if n > 0 => tracing::info!(holds = n, "expired slot holds released"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "releasing expired slot holds failed"),
        }
        tokio::time::sleep(interval).await;
    }
}

/// A warehouse's weekly slot template, as a merchant sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// IANA time zone of the windows, e.g. `Europe/Paris`.
    pub time_zone: String,
    /// Slots exist for this many days from today (1 to 60).
    #[serde(default = "default_days_ahead")]
    pub days_ahead: i32,
    /// How long a slot reserved before checkout stays held (5 to 1,440 minutes).
    #[serde(default = "default_hold_minutes")]
    pub hold_minutes: i32,
    pub windows: Vec<Window>,
}

fn default_days_ahead() -> i32 {
    7
}

fn default_hold_minutes() -> i32 {
    120
}

/// One weekly delivery window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// `mon` to `sun`.
    pub day: String,
    /// `HH:MM`, local.
    pub start: String,
    /// `HH:MM`, local, after `start` on the same day.
    pub end: String,
    /// Orders the slot takes, 1 to 10,000.
    pub capacity: i32,
    /// In the region's currency's minor units.
    pub fee_minor: i64,
}

/// A window after validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedWindow {
    pub day: Weekday,
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub capacity: i32,
    pub fee_minor: i64,
}

/// One slot to materialise: a window on a date (local).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    pub date: NaiveDate,
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub capacity: i32,
    pub fee_minor: i64,
}

fn weekday(day: &str) -> Option<Weekday> {
    Some(match day {
        "mon" => Weekday::Mon,
        "tue" => Weekday::Tue,
        "wed" => Weekday::Wed,
        "thu" => Weekday::Thu,
        "fri" => Weekday::Fri,
        "sat" => Weekday::Sat,
        "sun" => Weekday::Sun,
        _ => return None,
    })
}

fn time(value: &str) -> Option<NaiveTime> {
    (value.len() == 5)
        .then(|| NaiveTime::parse_from_str(value, "%H:%M").ok())
        .flatten()
}

impl Template {
    /// Checks every field but the time zone (the database knows those); the error names
    /// the failing field, `windows[i].…`.
    pub fn parse(&self) -> Result<Vec<ParsedWindow>, ApiError> {
        if !(1..=60).contains(&self.days_ahead) {
            return Err(ApiError::field("days_ahead", "1 to 60 days"));
        }
        if !(5..=1440).contains(&self.hold_minutes) {
            return Err(ApiError::field("hold_minutes", "5 to 1,440 minutes"));
        }
        if self.time_zone.is_empty() || self.time_zone.len() > 64 {
            return Err(ApiError::field(
                "time_zone",
                "an IANA time zone, e.g. Europe/Paris",
            ));
        }
        if self.windows.is_empty() || self.windows.len() > MAX_WINDOWS {
            return Err(ApiError::field("windows", "1 to 200 windows"));
        }
        let mut parsed: Vec<ParsedWindow> = Vec::with_capacity(self.windows.len());
        for (i, w) in self.windows.iter().enumerate() {
            let field = |name: &str| format!("windows[{i}].{name}");
            let day =
                weekday(&w.day).ok_or_else(|| ApiError::field(&field("day"), "mon to sun"))?;
            let start = time(&w.start)
                .ok_or_else(|| ApiError::field(&field("start"), "HH:MM, 00:00 to 23:59"))?;
            let end = time(&w.end)
                .ok_or_else(|| ApiError::field(&field("end"), "HH:MM, 00:00 to 23:59"))?;
            if end <= start {
                return Err(ApiError::field(
                    &field("end"),
                    "after the start, on the same day",
                ));
            }
            if !(1..=MAX_CAPACITY).contains(&w.capacity) {
                return Err(ApiError::field(&field("capacity"), "1 to 10,000 orders"));
            }
            if !(0..=MAX_FEE_MINOR).contains(&w.fee_minor) {
                return Err(ApiError::field(
                    &field("fee_minor"),
                    "zero or a positive amount in minor units",
                ));
            }
            let window = ParsedWindow {
                day,
                start,
                end,
                capacity: w.capacity,
                fee_minor: w.fee_minor,
            };
            if let Some(j) = parsed
                .iter()
                .position(|o| o.day == day && o.start < end && start < o.end)
            {
                return Err(ApiError::field(
                    &field("start"),
                    format!("overlaps windows[{j}] on the same day"),
                ));
            }
            parsed.push(window);
        }
        Ok(parsed)
    }
}

/// The slots of `windows` on the `days` dates from `today` (local), by date and start.
pub fn occurrences(windows: &[ParsedWindow], today: NaiveDate, days: i32) -> Vec<Occurrence> {
    let mut by_day: BTreeMap<u32, Vec<&ParsedWindow>> = BTreeMap::new();
    for w in windows {
        by_day
            .entry(w.day.num_days_from_monday())
            .or_default()
            .push(w);
    }
    let mut out = Vec::new();
    for offset in 0..days.max(0) {
        let date = today + Duration::days(i64::from(offset));
        let mut todays: Vec<&&ParsedWindow> = by_day
            .get(&date.weekday().num_days_from_monday())
            .into_iter()
            .flatten()
            .collect();
        todays.sort_by_key(|w| w.start);
        out.extend(todays.into_iter().map(|w| Occurrence {
            date,
            start: w.start,
            end: w.end,
            capacity: w.capacity,
            fee_minor: w.fee_minor,
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn window(day: &str, start: &str, end: &str) -> Window {
        Window {
            day: day.into(),
            start: start.into(),
            end: end.into(),
            capacity: 20,
            fee_minor: 399,
        }
    }

    fn template(windows: Vec<Window>) -> Template {
        Template {
            time_zone: "Europe/Paris".into(),
            days_ahead: 7,
            hold_minutes: 120,
            windows,
        }
    }

    fn refused_field(t: &Template) -> String {
        t.parse().unwrap_err().body()["error"]["field"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn overlapping_windows_on_one_day_are_refused_naming_the_second() {
        let t = template(vec![
            window("mon", "08:00", "10:00"),
            window("tue", "09:00", "11:00"),
            window("mon", "09:30", "11:30"),
        ]);
        assert_eq!(refused_field(&t), "windows[2].start");
        // Touching windows do not overlap.
        let t = template(vec![
            window("mon", "08:00", "10:00"),
            window("mon", "10:00", "12:00"),
        ]);
        assert_eq!(t.parse().unwrap().len(), 2);
    }

    #[test]
    fn bad_windows_are_refused_naming_the_field() {
        let mut w = window("mon", "08:00", "10:00");
        w.capacity = 0;
        assert_eq!(
            refused_field(&template(vec![w.clone()])),
            "windows[0].capacity"
        );
        w.capacity = -3;
        assert_eq!(refused_field(&template(vec![w])), "windows[0].capacity");
        let mut w = window("mon", "08:00", "10:00");
        w.fee_minor = -1;
        assert_eq!(refused_field(&template(vec![w])), "windows[0].fee_minor");
        assert_eq!(
            refused_field(&template(vec![window("monday", "08:00", "10:00")])),
            "windows[0].day"
        );
        assert_eq!(
            refused_field(&template(vec![window("mon", "8:00", "10:00")])),
            "windows[0].start"
        );
        assert_eq!(
            refused_field(&template(vec![window("mon", "10:00", "10:00")])),
            "windows[0].end"
        );
        assert_eq!(
            refused_field(&template(vec![window("mon", "22:00", "24:00")])),
            "windows[0].end"
        );
        assert_eq!(refused_field(&template(vec![])), "windows");
        let mut t = template(vec![window("mon", "08:00", "10:00")]);
        t.days_ahead = 0;
        assert_eq!(refused_field(&t), "days_ahead");
        let mut t = template(vec![window("mon", "08:00", "10:00")]);
        t.hold_minutes = 2;
        assert_eq!(refused_field(&t), "hold_minutes");
    }

    #[test]
    fn slots_are_generated_for_each_matching_day_ahead_in_time_order() {
        let t = template(vec![
            window("mon", "18:00", "20:00"),
            window("mon", "08:00", "10:00"),
            window("wed", "12:00", "14:00"),
        ]);
        let windows = t.parse().unwrap();
        // 2026-12-07 is a Monday.
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let slots = occurrences(&windows, today, 8);
        let shown: Vec<String> = slots
            .iter()
            .map(|o| format!("{} {}", o.date, o.start.format("%H:%M")))
            .collect();
        assert_eq!(
            shown,
            [
                "2026-12-07 08:00",
                "2026-12-07 18:00",
                "2026-12-09 12:00",
                "2026-12-14 08:00",
                "2026-12-14 18:00",
            ]
        );
        assert!(
            occurrences(&windows, today, 1)
                .iter()
                .all(|o| o.date == today)
        );
        assert!(occurrences(&windows, today, 0).is_empty());
        // Across a month and a year end.
        let late = NaiveDate::from_ymd_opt(2026, 12, 29).unwrap();
        let dates: Vec<String> = occurrences(&windows, late, 14)
            .iter()
            .map(|o| o.date.to_string())
            .collect();
        assert_eq!(dates[0], "2026-12-30");
        assert!(dates.contains(&"2027-01-04".to_owned()));
    }
}
