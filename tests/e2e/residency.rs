//! The residency proof and the traces, on the running product: canary shoppers check out in
//! eu-west and in us-east through the edge, and two more sign up, buy and erase their
//! accounts; then every region's database, the edge store,
//! every log line and every exported span are searched for each canary, and the exported
//! spans are checked to form one trace from the shopper's request at the edge to the
//! checkout's steps in the core.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use meridian_telemetry::receiver::ReceivedSpan;
use regional_core::audit::{self, Canary, Places};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_personal_data_stays_in_its_home_region_and_the_trace_runs_edge_to_core() {
    let world = world();
    let eu = world.core("eu-west");
    let us = world.core("us-east");
    let loaf = product("AUDIT-LOAF", "Audit rye loaf", "bakery", 299, &["bread"]);
    seed(eu, &loaf, 20, "de-fra-1").await;
    seed(us, &loaf, 20, "us-nj-1").await;
    for country in ["DE", "US"] {
        until_published(
            &format!("{}/p/AUDIT-LOAF", world.edge),
            &[("x-meridian-country", country)],
            "In stock",
        )
        .await;
    }

    let tag = &uuid::Uuid::new_v4().simple().to_string()[..10];
    let canaries = [
        Canary::new("eu-west".parse().unwrap(), "DE".parse().unwrap(), tag),
        Canary::new("us-east".parse().unwrap(), "US".parse().unwrap(), tag),
        // The erasure round: signs up, buys, erases; then found nowhere, not even at home.
        Canary::erased("eu-west".parse().unwrap(), "DE".parse().unwrap(), tag),
        Canary::erased("us-east".parse().unwrap(), "US".parse().unwrap(), tag),
    ];
    let mailboxes: BTreeMap<_, _> = world
        .cores
        .values()
        .map(|c| (c.region.parse().unwrap(), c.mailbox.clone()))
        .collect();
    let report = audit::run(
        &world.edge,
        &canaries,
        "bakery",
        async || {
            world.flush_telemetry().await;
            Ok(Places {
                databases: world
                    .cores
                    .values()
                    .map(|c| (c.region.parse().unwrap(), c.database_url.clone()))
                    .collect(),
                edge_store: Some(redis_url()),
                logs: vec![("e2e processes".to_owned(), world.logs.text())],
                // One place: every OTLP payload, 0xFF between them (never part of a canary).
                telemetry: vec![(
                    "OTLP spans and metrics".to_owned(),
                    world.otlp.payloads().join(&0xFF),
                )],
                mailboxes: mailboxes.clone(),
            })
        },
        &mailboxes,
    )
    .await
    .unwrap();
    println!("{report}");
    // Everything was searched: both databases, the store, the logs and spans.
    let places: Vec<&String> = report.rows[0].hits.keys().collect();
    assert!(
        places.iter().any(|p| p.starts_with("telemetry")),
        "{report}"
    );
    assert!(
        places.iter().any(|p| *p == "edge key-value store"),
        "{report}"
    );
    assert!(places.iter().any(|p| *p == "database us-east"), "{report}");
    assert!(
        world.logs.text().contains("checkout settled"),
        "the logs were captured"
    );
    assert!(report.passes(), "{report}");
    assert_eq!(report.rows.iter().filter(|r| r.canary.erased).count(), 2);

    // The trace: edge request → storefront component → outbound call → core checkout →
    // its steps, one trace id throughout.
    let spans = spans_with_checkout_chain(world).await;
    let by_id: BTreeMap<&str, &ReceivedSpan> =
        spans.iter().map(|s| (s.span_id.as_str(), s)).collect();
    let checkout = spans
        .iter()
        .find(|s| {
            s.service == "meridian-core"
                && s.name == "POST /v1/checkouts"
                && by_id.contains_key(s.parent_span_id.as_str())
        })
        .expect("a core checkout span with its edge parent");
    let client = by_id[checkout.parent_span_id.as_str()];
    assert_eq!((client.service.as_str(), client.kind), ("meridian-edge", 3));
    assert!(
        client
            .attribute("server.address")
            .is_some_and(|a| a.starts_with("http://127.0.0.1:"))
    );
    let component = by_id[client.parent_span_id.as_str()];
    assert_eq!(component.name, "component storefront");
    let request = by_id[component.parent_span_id.as_str()];
    assert_eq!((request.name.as_str(), request.kind), ("POST /...", 2));
    assert_eq!(
        request.parent_span_id, "",
        "the shopper's request is the root"
    );
    assert_eq!(request.attribute("http.response.status_code"), Some("303"));
    for span in [client, component, request] {
        assert_eq!(span.trace_id, checkout.trace_id);
    }
    let region = checkout
        .resource_attribute("meridian.region")
        .unwrap_or_default();
    assert!(["eu-west", "us-east"].contains(&region), "{region}");
    let steps: Vec<&str> = spans
        .iter()
        .filter(|s| s.parent_span_id == checkout.span_id)
        .map(|s| s.name.as_str())
        .collect();
    for step in ["reprice", "reserve", "commit", "authorise", "settle"] {
        assert!(steps.contains(&step), "{step} missing from {steps:?}");
    }
    // The storefront's calls into the catalogue and pricing components are spans too.
    assert!(
        spans.iter().any(|s| s.trace_id == checkout.trace_id
            && s.attribute("rpc.service")
                .is_some_and(|r| r.contains("pricing"))),
        "no pricing call in the checkout's trace"
    );

    // Request metrics per route and component, from the node and the cores.
    let metrics = world.otlp.metrics();
    let has = |service: &str, name: &str| {
        metrics
            .iter()
            .any(|m| m.service == service && m.name == name && !m.points.is_empty())
    };
    assert!(has("meridian-edge", "http.server.request.duration"));
    assert!(has("meridian-edge", "meridian.edge.requests"));
    assert!(has("meridian-edge", "meridian.edge.component.duration"));
    assert!(has("meridian-core", "http.server.request.duration"));
    let routes: Vec<&str> = metrics
        .iter()
        .filter(|m| m.service == "meridian-core")
        .flat_map(|m| &m.points)
        .flatten()
        .filter(|(k, _)| k == "http.route")
        .map(|(_, v)| v.as_str())
        .collect();
    assert!(routes.contains(&"/v1/checkouts"), "{routes:?}");
    assert!(
        !routes.iter().any(|r| r.contains(tag)),
        "route templates only, never values"
    );
}

/// The received spans once a complete checkout chain is among them (the storefront's
/// component span ends when its instance is dropped, just after the shopper has the page).
async fn spans_with_checkout_chain(world: &World) -> Vec<ReceivedSpan> {
    let started = Instant::now();
    loop {
        world.flush_telemetry().await;
        let spans = world.otlp.spans();
        let ids: Vec<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
        let complete = spans.iter().any(|s| {
            s.name == "component storefront"
                && ids.contains(&s.parent_span_id.as_str())
                && spans
                    .iter()
                    .any(|c| c.parent_span_id == s.span_id && c.kind == 3)
        });
        if complete {
            return spans;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no complete checkout trace among {} spans",
            spans.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
