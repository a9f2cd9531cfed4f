//! Tests of the edge node as shoppers and components use it: a real node serving HTTP on a
//! local port, running real component binaries (the probe guest from
//! `components/edge-probe` and the catalogue), with real upstream servers for outbound
//! requests and real Redis for the Redis store.
#![allow(clippy::unwrap_used)]

mod files;
mod harness;
mod limits;
mod outbound;
mod p3;
mod routing;
mod stores;
mod telemetry;
