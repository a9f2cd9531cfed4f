//! The HTTP side of the node: hyper accepts requests, the router picks a component, and
//! each request runs on a fresh instance (from the component's pre-instantiated template,
//! pooling allocator) on a blocking thread, so a busy guest never stalls the accept loop.
//! Response bodies stream as the guest writes them.
//!
//! What a shopper sees when something goes wrong is a small HTML page with a clear status:
//! 404 (no route), 413 (body too large), 503 (the node is at its instance limit, or the
//! component ran past its CPU deadline or memory cap), 500 (the component trapped).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use http::{HeaderValue, Request, Response};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use wasmtime_wasi_http::WasiBody;

use meridian_telemetry::Telemetry;
use meridian_telemetry::opentelemetry::Context;

use crate::app::{App, AppComponent};
use crate::handler::outcome::full;
use crate::handler::{Failure, Guest};
use crate::host::outbound::{Chain, Origin, Outbound, ResponseFuture, Tls};
use crate::observe::{Observe, Trace};
use crate::region::{
    COUNTRY_HEADER, REGION_HEADER, REGIONS_HEADER, RegionRouting, Shopper, Source,
};
use crate::runtime::Runtime;
use crate::share::{Refusal, Shares};

/// The largest request head (request line and headers) the node reads.
pub const MAX_HEAD_BYTES: usize = 32 << 10;

/// The node's own health endpoint (never routed to a component).
pub const HEALTH_PATH: &str = "/_edge/healthz";

/// A running application and what serves it.
pub struct Node {
    pub runtime: Arc<Runtime>,
    pub app: App,
    pub regions: RegionRouting,
    cores: Vec<(String, Origin)>,
    permits: Arc<Semaphore>,
    shares: Arc<Shares>,
    observe: Arc<Observe>,
    tls: Tls,
}

/// What a node may be given beyond its application.
#[derive(Debug, Default)]
pub struct NodeOptions {
    /// Spans and metrics (off by default).
    pub telemetry: Telemetry,
    /// Whom outbound `https` requests trust (default: the machine's trust store).
    pub tls: Tls,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("app", &self.app.name)
            .finish_non_exhaustive()
    }
}

/// Headers a client may not send: the node sets them.
const NODE_HEADERS: [&str; 10] = [
    REGION_HEADER,
    COUNTRY_HEADER,
    REGIONS_HEADER,
    "spin-full-url",
    "spin-path-info",
    "spin-matched-route",
    "spin-component-route",
    "spin-raw-component-route",
    "spin-base-path",
    "spin-client-addr",
];

impl Node {
    pub fn new(runtime: Runtime, app: App, regions: RegionRouting) -> Arc<Self> {
        Self::with_options(runtime, app, regions, NodeOptions::default())
    }

    /// A node with `options` (telemetry, outbound TLS roots).
    pub fn with_options(
        runtime: Runtime,
        app: App,
        regions: RegionRouting,
        options: NodeOptions,
    ) -> Arc<Self> {
        let cores = app.core_origins(&regions.config);
        let regions = regions.with_session_keys(&app.variables);
        let permits = Arc::new(Semaphore::new(runtime.limits().max_instances));
        let observe = Arc::new(Observe::new(options.telemetry));
        let shares = Arc::new(Shares::new(
            runtime.limits().shares.clone(),
            runtime.limits().max_instances,
            observe.clone(),
        ));
        Arc::new(Self {
            runtime: Arc::new(runtime),
            app,
            regions,
            cores,
            permits,
            shares,
            observe,
            tls: options.tls,
        })
    }

    /// Serves connections from `listener` until `shutdown` completes, then lets requests
    /// in flight finish (for at most the CPU deadline).
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        tokio::pin!(shutdown);
        loop {
            let (stream, client) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let node = self.clone();
            let service = hyper::service::service_fn(move |request| {
                let node = node.clone();
                async move { Ok::<_, Infallible>(node.handle(request, client).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                // A request head over this is answered 431 by hyper, before any component.
                .max_header_size(MAX_HEAD_BYTES)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
            });
        }
        let grace = self.runtime.limits().deadline + std::time::Duration::from_secs(1);
        if tokio::time::timeout(grace, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("requests still running after the grace period were cut off");
        }
        Ok(())
    }

    /// Answers one request from a shopper.
    pub async fn handle(
        self: &Arc<Self>,
        request: Request<Incoming>,
        client: SocketAddr,
    ) -> Response<WasiBody> {
        let started = Instant::now();
        let method = request.method().clone();
        // Logged without the query string: it may hold search terms or tokens.
        let path = request.uri().path().to_owned();
        if path == HEALTH_PATH {
            return Response::new(full("ok\n"));
        }
        let shopper = self.regions.shopper(request.headers());
        let cx = self.observe.request_span(request.headers(), &method);
        let outcome = self.route(request, client, &shopper, &cx).await;
        let (response, component, failed) = match outcome {
            Ok((response, component)) => (response, component, None),
            Err((failure, component)) => {
                if let Failure::Trap(detail) = &failure {
                    tracing::warn!(component = component.as_deref().unwrap_or("-"), %detail, "component trapped");
                }
                (failure.page(), component, Some(failure.code()))
            }
        };
        tracing::info!(
            target: "edge::access",
            %method,
            %path,
            component = component.as_deref().unwrap_or("-"),
            // Which limit or failure answered instead of the component, if any.
            failure = failed.unwrap_or("-"),
            region = %shopper.region,
            status = response.status().as_u16(),
            micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        );
        if self.observe.is_enabled() {
            let route = self.app.router.route(&path).map(|m| m.route);
            self.observe.request_done(
                &cx,
                &method,
                route,
                component.as_deref(),
                response.status().as_u16(),
                started.elapsed(),
            );
        }
        response
    }

    async fn route(
        self: &Arc<Self>,
        request: Request<Incoming>,
        client: SocketAddr,
        shopper: &Shopper,
        cx: &Context,
    ) -> Result<(Response<WasiBody>, Option<String>), (Failure, Option<String>)> {
        let path = request.uri().path().to_owned();
        let Some(matched) = self.app.router.route(&path) else {
            return Err((Failure::NotFound, None));
        };
        let id = matched.component.to_owned();
        let fail = |f| (f, Some(id.clone()));
        let component = self.app.components[matched.component].clone();
        let limit = self.runtime.limits().body_bytes;
        let declared = request
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Err(fail(Failure::BodyTooLarge));
        }
        let (mut parts, body) = request.into_parts();
        let host = parts
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost")
            .to_owned();
        let full_url = format!(
            "http://{host}{}",
            parts.uri.path_and_query().map_or("/", |p| p.as_str())
        );
        let headers = &mut parts.headers;
        for name in NODE_HEADERS {
            headers.remove(name);
        }
        let set = |headers: &mut http::HeaderMap, name: &'static str, value: &str| {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(name, v);
            }
        };
        set(headers, REGION_HEADER, &shopper.region);
        set(headers, REGIONS_HEADER, &self.regions.fingerprint);
        // The storefront resolves the region itself (as it must on Spin): it reads the
        // country from this header, so the node passes on the CDN's country under this one
        // name, whatever header the CDN used, and nothing a client sent.
        if let (Some(country), Source::CdnHeader) = (shopper.country, shopper.source) {
            set(headers, COUNTRY_HEADER, country.as_str());
        }
        set(headers, "spin-full-url", &full_url);
        set(headers, "spin-path-info", matched.path_info);
        set(headers, "spin-matched-route", matched.route);
        set(headers, "spin-raw-component-route", matched.route);
        set(headers, "spin-component-route", matched.base);
        set(headers, "spin-base-path", "/");
        set(headers, "spin-client-addr", &client.to_string());
        let body = Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX))
            .map_err(|e| match e.downcast::<hyper::Error>() {
                Ok(e) => wasmtime_wasi_http::Error::Hyper(*e),
                Err(_) => wasmtime_wasi_http::Error::HttpRequestBodySize(None),
            })
            .boxed_unsync();
        let request = Request::from_parts(parts, body);
        self.run(component, request, shopper, cx)
            .await
            .map(|r| (r, Some(id.clone())))
            .map_err(fail)
    }

    /// Runs `request` on a fresh instance of `component`.
    pub async fn run(
        self: &Arc<Self>,
        component: Arc<AppComponent>,
        request: Request<WasiBody>,
        shopper: &Shopper,
        cx: &Context,
    ) -> Result<Response<WasiBody>, Failure> {
        let Some(handler) = component.http.clone() else {
            return Err(Failure::NotFound);
        };
        // The shares first, the component's and its storefront's (the host it is served
        // for: every storefront is the same component): one at its share is refused
        // without taking a place another could use.
        let lanes = [component.id.clone(), format!("host {}", host_of(&request))];
        let mut admissions = Vec::with_capacity(lanes.len());
        for lane in &lanes {
            match self.shares.admit(lane) {
                Ok(admission) => admissions.push(admission),
                Err(Refusal::Share) => return Err(Failure::Share),
                Err(Refusal::Quarantined) => {
                    // Answered slowly (the wait costs no CPU): a client retrying a
                    // quarantined component at once would otherwise flood the node.
                    tokio::time::sleep(self.runtime.limits().shares.refusal_delay).await;
                    return Err(Failure::Quarantined);
                }
            }
        }
        let permit = self
            .permits
            .clone()
            .try_acquire_owned()
            .map_err(|_| Failure::Busy)?;
        let trace = self.observe.is_enabled().then(|| Trace {
            observe: self.observe.clone(),
            cx: self.observe.component_span(cx, &component.id),
        });
        let outbound = Outbound {
            component: component.id.as_str().into(),
            allowed: component.allowed.clone(),
            cores: Arc::new(App::core_policy(&self.cores, &shopper.region)),
            chain: Some(Arc::new(NodeChain {
                node: self.clone(),
                shopper: shopper.clone(),
                cx: trace.as_ref().map(|t| t.cx.clone()).unwrap_or_default(),
            })),
            trace: trace.clone(),
            tls: self.tls.clone(),
        };
        let guest = Arc::new(Guest {
            runtime: self.runtime.clone(),
            component,
            outbound,
            trace,
        });
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let runtime = tokio::runtime::Handle::current();
        // A guest runs on a blocking thread, never on the threads that accept and answer
        // connections: a busy or looping guest holds up only its own request.
        let shares = self.shares.clone();
        let task = tokio::task::spawn_blocking(move || -> Result<(), Failure> {
            // Held until the guest has written its whole body.
            let _held = (permit, admissions);
            let outcome = guest.serve(handler, request, sender, &runtime);
            if let Err(failure @ (Failure::Cpu | Failure::Memory)) = &outcome {
                for lane in &lanes {
                    shares.hit(lane, failure.code());
                }
            }
            outcome
        });
        match receiver.await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(failure)) => Err(failure),
            // The guest never set a response: the task says why.
            Err(_) => match task.await {
                Ok(Ok(())) => Err(Failure::Trap("the component set no response".into())),
                Ok(Err(failure)) => Err(failure),
                Err(e) => Err(Failure::Trap(e.to_string())),
            },
        }
    }
}

/// The host a request is for (its storefront), without the port.
fn host_of<B>(request: &Request<B>) -> String {
    let host = request
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    host.rsplit_once(':')
        .map_or(host, |(name, _)| name)
        .to_ascii_lowercase()
}

/// Service chaining: a request to `http://<component>.spin.internal` runs on that
/// component in this process, for the same shopper.
struct NodeChain {
    node: Arc<Node>,
    shopper: Shopper,
    /// The calling component's span: the chained run nests under it.
    cx: Context,
}

impl Chain for NodeChain {
    fn call(&self, component: &str, mut request: Request<WasiBody>) -> ResponseFuture {
        let node = self.node.clone();
        let shopper = self.shopper.clone();
        let cx = self.cx.clone();
        let target = node.app.components.get(component).cloned();
        Box::pin(async move {
            let Some(target) = target else {
                return Err(wasmtime_wasi_http::Error::DestinationNotFound);
            };
            if let Ok(v) = HeaderValue::from_str(&shopper.region) {
                request.headers_mut().insert(REGION_HEADER, v);
            }
            node.run(target, request, &shopper, &cx)
                .await
                .map_err(|f| match f {
                    Failure::Busy | Failure::Share | Failure::Quarantined => {
                        wasmtime_wasi_http::Error::ConnectionLimitReached
                    }
                    Failure::NotFound => wasmtime_wasi_http::Error::DestinationNotFound,
                    _ => wasmtime_wasi_http::Error::DestinationUnavailable,
                })
        })
    }
}
