//! Fair share between the components of one node: each may hold at most a share of the
//! node's instances at once, and one whose requests keep hitting the CPU budget or the
//! memory cap is quarantined for a while (one request at a time, at most one a second),
//! with a log line and a metric naming it and why, until it comes back by itself.
//!
//! A lane is named by its caller: the node keeps one per component and one per host (every
//! storefront is the same `storefront` component, so its host is what tells storefronts
//! apart), and a request must be admitted to both.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::observe::Observe;

/// Lanes kept before idle ones are forgotten.
const MAX_LANES: usize = 1024;

/// How components share the node.
#[derive(Debug, Clone)]
pub struct ShareLimits {
    /// The most of the node's instances one component may hold at once, 0 to 1.
    pub share: f64,
    /// This many CPU or memory limit hits within `window` quarantine a component...
    pub quarantine_after: usize,
    pub window: Duration,
    /// ...for this long, during which it is admitted at most once per `quarantine_interval`.
    pub quarantine_for: Duration,
    pub quarantine_interval: Duration,
    /// How long a request refused by quarantine waits for its 503.
    pub refusal_delay: Duration,
}

impl Default for ShareLimits {
    fn default() -> Self {
        Self {
            share: 0.5,
            quarantine_after: 5,
            window: Duration::from_secs(10),
            quarantine_for: Duration::from_secs(30),
            quarantine_interval: Duration::from_secs(1),
            refusal_delay: Duration::from_millis(250),
        }
    }
}

/// Why a request was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Its component holds its whole share already.
    Share,
    /// Its component is quarantined and already running its one request, or ran one less
    /// than `quarantine_interval` ago.
    Quarantined,
}

/// A request's admission: held until the guest is done.
#[derive(Debug)]
pub struct Admission {
    _share: OwnedSemaphorePermit,
    _quarantine: Option<OwnedSemaphorePermit>,
}

#[derive(Debug)]
struct Lane {
    share: Arc<Semaphore>,
    /// One permit: what a quarantined component runs through.
    quarantine: Arc<Semaphore>,
    state: Mutex<LaneState>,
}

#[derive(Debug, Default)]
struct LaneState {
    hits: VecDeque<Instant>,
    until: Option<Instant>,
    /// When a quarantined request was last admitted.
    last: Option<Instant>,
}

/// The lanes of a node's components.
#[derive(Debug)]
pub struct Shares {
    limits: ShareLimits,
    permits: usize,
    lanes: Mutex<HashMap<String, Arc<Lane>>>,
    observe: Arc<Observe>,
}

impl Shares {
    /// Lanes of `limits.share` of `max_instances` each (at least one).
    pub fn new(limits: ShareLimits, max_instances: usize, observe: Arc<Observe>) -> Self {
        let share = limits.share.clamp(0.0, 1.0);
        // Instance counts are small: the float never loses a whole instance.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let permits = ((max_instances as f64) * share).ceil() as usize;
        Self {
            limits,
            permits: permits.max(1),
            lanes: Mutex::new(HashMap::new()),
            observe,
        }
    }

    fn lane(&self, component: &str) -> Arc<Lane> {
        let mut lanes = self.lanes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(lane) = lanes.get(component) {
            return lane.clone();
        }
        if lanes.len() >= MAX_LANES {
            // Hosts come from clients: forget the lanes that hold nothing (no request in
            // flight, no recent hit, no quarantine), so made-up hosts cannot grow the map.
            let (permits, window) = (self.permits, self.limits.window);
            lanes.retain(|_, lane| {
                let state = lane.state.lock().unwrap_or_else(PoisonError::into_inner);
                lane.share.available_permits() < permits
                    || state.hits.back().is_some_and(|t| t.elapsed() <= window)
                    || state.until.is_some()
            });
        }
        lanes
            .entry(component.to_owned())
            .or_insert_with(|| {
                Arc::new(Lane {
                    share: Arc::new(Semaphore::new(self.permits)),
                    quarantine: Arc::new(Semaphore::new(1)),
                    state: Mutex::new(LaneState::default()),
                })
            })
            .clone()
    }

    /// Admits a request of `component`, or says why not (at once: nobody waits).
    pub fn admit(&self, component: &str) -> Result<Admission, Refusal> {
        let lane = self.lane(component);
        let quarantined = {
            let mut state = lane.state.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            match state.until {
                Some(until) if now < until => {
                    if state.last.is_some_and(|last| {
                        now.duration_since(last) < self.limits.quarantine_interval
                    }) {
                        return Err(Refusal::Quarantined);
                    }
                    true
                }
                Some(_) => {
                    state.until = None;
                    state.last = None;
                    tracing::info!(lane = component, "back from quarantine");
                    false
                }
                None => false,
            }
        };
        let quarantine = if quarantined {
            Some(
                lane.quarantine
                    .clone()
                    .try_acquire_owned()
                    .map_err(|_| Refusal::Quarantined)?,
            )
        } else {
            None
        };
        let share = lane
            .share
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refusal::Share)?;
        if quarantine.is_some() {
            lane.state
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .last = Some(Instant::now());
        }
        Ok(Admission {
            _share: share,
            _quarantine: quarantine,
        })
    }

    /// Notes that a request of `component` hit `limit` (`cpu` or `memory`); quarantines the
    /// component when that keeps happening.
    pub fn hit(&self, component: &str, limit: &'static str) {
        self.observe.limit_hit(component, limit);
        let lane = self.lane(component);
        let mut state = lane.state.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        state.hits.push_back(now);
        while state
            .hits
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.limits.window)
        {
            state.hits.pop_front();
        }
        if state.until.is_none() && state.hits.len() >= self.limits.quarantine_after {
            state.until = Some(now + self.limits.quarantine_for);
            state.hits.clear();
            tracing::warn!(
                lane = component,
                limit,
                hits = self.limits.quarantine_after,
                window_ms = u64::try_from(self.limits.window.as_millis()).unwrap_or(u64::MAX),
                quarantine_ms =
                    u64::try_from(self.limits.quarantine_for.as_millis()).unwrap_or(u64::MAX),
                "quarantined: its requests keep hitting a limit; one at a time, at most one a second, until the quarantine ends"
            );
            self.observe.limit_hit(component, "quarantine");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shares(after: usize, quarantine_for: Duration) -> Shares {
        Shares::new(
            ShareLimits {
                share: 0.5,
                quarantine_after: after,
                window: Duration::from_secs(10),
                quarantine_for,
                quarantine_interval: Duration::from_millis(20),
                refusal_delay: Duration::ZERO,
            },
            4,
            Arc::new(Observe::default()),
        )
    }

    #[test]
    fn a_component_holds_at_most_its_share_and_others_keep_theirs() {
        let shares = shares(3, Duration::from_secs(30));
        let a = [shares.admit("a").unwrap(), shares.admit("a").unwrap()];
        assert_eq!(shares.admit("a").unwrap_err(), Refusal::Share);
        let _b = shares.admit("b").unwrap();
        drop(a);
        assert!(shares.admit("a").is_ok());
    }

    #[test]
    fn made_up_hosts_do_not_grow_the_lanes_without_bound() {
        let shares = shares(3, Duration::from_secs(30));
        let held = shares.admit("host busy").unwrap();
        shares.hit("host offender", "cpu");
        for i in 0..3 * MAX_LANES {
            drop(shares.admit(&format!("host made-up-{i}")).unwrap());
        }
        let lanes = shares.lanes.lock().unwrap();
        assert!(lanes.len() <= MAX_LANES, "{}", lanes.len());
        assert!(lanes.contains_key("host busy") && lanes.contains_key("host offender"));
        drop(held);
    }

    #[test]
    fn repeated_limit_hits_quarantine_a_component_until_it_comes_back() {
        let shares = shares(2, Duration::from_millis(50));
        shares.hit("loop", "cpu");
        let (one, two) = (shares.admit("loop").unwrap(), shares.admit("loop").unwrap());
        drop((one, two));
        shares.hit("loop", "cpu");
        let first = shares.admit("loop").unwrap();
        assert_eq!(shares.admit("loop").unwrap_err(), Refusal::Quarantined);
        assert!(shares.admit("other").is_ok(), "only the offender is cut");
        drop(first);
        // Done, but too soon for the next.
        assert_eq!(shares.admit("loop").unwrap_err(), Refusal::Quarantined);
        std::thread::sleep(Duration::from_millis(25));
        drop(shares.admit("loop").unwrap());
        std::thread::sleep(Duration::from_millis(60));
        let back = [shares.admit("loop").unwrap(), shares.admit("loop").unwrap()];
        drop(back);
    }
}
