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

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::{WasiBody, WasiHttpView};

use meridian_telemetry::Telemetry;
use meridian_telemetry::opentelemetry::Context;

use crate::app::{App, AppComponent, HttpHandler};
use crate::observe::{Observe, Trace};
use crate::outbound::{Chain, Origin, Outbound, ResponseFuture, Tls};
use crate::region::{COUNTRY_HEADER, REGION_HEADER, RegionRouting, Shopper, Source};
use crate::runtime::Runtime;
use crate::state::State;

/// The node's own health endpoint (never routed to a component).
pub const HEALTH_PATH: &str = "/_edge/healthz";

/// A running application and what serves it.
pub struct Node {
    pub runtime: Runtime,
    pub app: App,
    pub regions: RegionRouting,
    cores: Vec<(String, Origin)>,
    permits: Arc<Semaphore>,
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

/// Why a request did not get the component's own response.
#[derive(Debug)]
pub enum Failure {
    NotFound,
    Busy,
    BodyTooLarge,
    BadRequest(&'static str),
    Deadline,
    Memory,
    Trap(String),
}

impl Failure {
    fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Busy | Self::Deadline | Self::Memory => StatusCode::SERVICE_UNAVAILABLE,
            Self::Trap(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable code for logs and the `x-meridian-error` header.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::Busy => "busy",
            Self::BodyTooLarge => "body_too_large",
            Self::BadRequest(_) => "bad_request",
            Self::Deadline => "deadline",
            Self::Memory => "memory",
            Self::Trap(_) => "trap",
        }
    }

    fn page(&self) -> Response<WasiBody> {
        let (title, text) = match self {
            Self::NotFound => ("Page not found", "There is no page at this address."),
            Self::Busy => (
                "Busy",
                "The shop is very busy right now. Please try again in a moment.",
            ),
            Self::BodyTooLarge => (
                "Request too large",
                "What was sent is larger than the shop accepts.",
            ),
            Self::BadRequest(why) => ("Bad request", *why),
            Self::Deadline | Self::Memory => (
                "Temporarily unavailable",
                "This page took too long to prepare. Please try again in a moment.",
            ),
            Self::Trap(_) => (
                "Something went wrong",
                "This page could not be shown. Please try again in a moment.",
            ),
        };
        let html = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head><body><main><h1>{title}</h1><p>{text}</p></main></body></html>\n"
        );
        let mut response = Response::new(full(html));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert("x-meridian-error", HeaderValue::from_static(self.code()));
        if matches!(self, Self::Busy | Self::Deadline | Self::Memory) {
            headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

fn full(body: impl Into<Bytes>) -> WasiBody {
    Full::new(body.into())
        .map_err(|never: Infallible| match never {})
        .boxed_unsync()
}

/// Headers a client may not send: the node sets them.
const NODE_HEADERS: [&str; 9] = [
    REGION_HEADER,
    COUNTRY_HEADER,
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
        let permits = Arc::new(Semaphore::new(runtime.limits().max_instances));
        Arc::new(Self {
            runtime,
            app,
            regions,
            cores,
            permits,
            observe: Arc::new(Observe::new(options.telemetry)),
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
        let (response, component) = match outcome {
            Ok((response, component)) => (response, component),
            Err((failure, component)) => {
                if let Failure::Trap(detail) = &failure {
                    tracing::warn!(component = component.as_deref().unwrap_or("-"), %detail, "component trapped");
                }
                (failure.page(), component)
            }
        };
        tracing::info!(
            target: "edge::access",
            %method,
            %path,
            component = component.as_deref().unwrap_or("-"),
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
        let state = component_state(&component, &outbound, trace.as_ref());
        let state = if matches!(handler, HttpHandler::P3(_)) {
            // Its dependencies, if it calls any, run in a store of their own.
            let node = self.clone();
            let component = component.clone();
            let outbound = outbound.clone();
            let trace = trace.clone();
            state.with_sidecar(Box::new(move || {
                node.runtime
                    .store_for(component_state(&component, &outbound, trace.as_ref()))
            }))
        } else {
            state
        };
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let node = self.clone();
        let runtime = tokio::runtime::Handle::current();
        // A guest runs on a blocking thread, never on the threads that accept and answer
        // connections: a busy or looping guest holds up only its own request.
        let task = tokio::task::spawn_blocking(move || -> Result<(), Failure> {
            // Held until the guest has written its whole body.
            let _permit = permit;
            let started = Instant::now();
            let mut store = node.runtime.store_for(state);
            let outcome = match handler {
                HttpHandler::P2(pre) => run_p2(&mut store, &pre, request, sender),
                HttpHandler::P3(pre) => runtime.block_on(run_p3(&mut store, &pre, request, sender)),
            };
            let outcome = outcome.map_err(|e| classify(&e, store.data()));
            if let Some(trace) = &trace {
                if let Err(failure) = &outcome {
                    meridian_telemetry::fail(&trace.cx, failure.code());
                }
                trace
                    .observe
                    .call_done(&component.id, "handle", started.elapsed());
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

/// Where a guest's response head goes: to the shopper's connection.
type ResponseSender = tokio::sync::oneshot::Sender<Result<Response<WasiBody>, Failure>>;

/// Runs a WASIp2 component's `wasi:http/incoming-handler#handle`: the guest sets the
/// response through its outparam and writes the body as it goes.
fn run_p2(
    store: &mut wasmtime::Store<State>,
    pre: &wasmtime_wasi_http::p2::bindings::sync::ProxyPre<State>,
    request: Request<WasiBody>,
    sender: ResponseSender,
) -> wasmtime::Result<()> {
    let Ok(request) = store
        .data_mut()
        .http()
        .new_incoming_request(Scheme::Http, request)
    else {
        let _ = sender.send(Err(Failure::BadRequest("The request has no Host header.")));
        return Ok(());
    };
    let out = store
        .data_mut()
        .http()
        .new_response_outparam_from_callback(move |answer| {
            let _ = sender.send(answer.map_err(|code| {
                Failure::Trap(format!("the component answered an error: {code:?}"))
            }));
        })?;
    let proxy = pre.instantiate(&mut *store)?;
    proxy
        .wasi_http_incoming_handler()
        .call_handle(&mut *store, request, out)
}

/// The state of a store that runs `component` (or its dependencies) for one request.
fn component_state(component: &AppComponent, outbound: &Outbound, trace: Option<&Trace>) -> State {
    State::new(component.stores.clone(), component.variables.clone())
        .with_wasi(
            &component.environment,
            component.files.as_ref().map(|f| f.path()),
        )
        .with_outbound(Box::new(outbound.clone()))
        .with_trace(trace.cloned())
}

/// Runs a WASIp3 component's `wasi:http/handler#handle` in the store's event loop, sends the
/// response head as soon as the guest returns it, then keeps the loop running while it
/// forwards the body, so a streamed body reaches the shopper as the guest writes it.
async fn run_p3(
    store: &mut wasmtime::Store<State>,
    pre: &wasmtime_wasi_http::p3::bindings::ServicePre<State>,
    request: Request<WasiBody>,
    sender: ResponseSender,
) -> wasmtime::Result<()> {
    let Some(request) = with_authority(request) else {
        let _ = sender.send(Err(Failure::BadRequest("The request has no Host header.")));
        return Ok(());
    };
    let service = pre.instantiate_async(&mut *store).await?;
    store
        .run_concurrent(async move |accessor| -> wasmtime::Result<()> {
            let (request, request_io) = accessor.with(|mut access| {
                let (request, io) =
                    wasmtime_wasi_http::p3::Request::from_http(access.get().http().hooks, request);
                let io: std::pin::Pin<
                    Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                > = Box::pin(io);
                (request, io)
            });
            let response = match service.handle(accessor, request).await? {
                Ok(response) => response,
                Err(code) => {
                    let _ = sender.send(Err(Failure::Trap(format!(
                        "the component answered an error: {code:?}"
                    ))));
                    return Ok(());
                }
            };
            let response =
                accessor.with(|mut access| response.into_http(&mut access, request_io))?;
            let (head, mut body) = response.into_parts();
            let (tx, channel) = http_body_util::channel::Channel::new(2);
            if sender
                .send(Ok(Response::from_parts(head, channel.boxed_unsync())))
                .is_err()
            {
                return Ok(());
            }
            let mut tx = BodySender(Some(tx));
            while let Some(frame) = body.frame().await {
                let Some(sending) = tx.0.as_mut() else { break };
                match frame {
                    // The shopper went away: nobody wants the rest.
                    Ok(frame) => {
                        if sending.send(frame).await.is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        if let Some(sending) = tx.0.take() {
                            sending.abort(e);
                        }
                    }
                }
            }
            tx.finish();
            Ok(())
        })
        .await?
}

/// The sending half of a streamed response body. Dropped before [`BodySender::finish`]
/// (the guest trapped or ran out of time mid-body), it aborts the body, so the shopper's
/// connection is cut rather than the page ending as if it were whole.
struct BodySender(Option<http_body_util::channel::Sender<Bytes, wasmtime_wasi_http::Error>>);

impl BodySender {
    fn finish(mut self) {
        self.0.take();
    }
}

impl Drop for BodySender {
    fn drop(&mut self) {
        if let Some(sender) = self.0.take() {
            sender.abort(wasmtime_wasi_http::Error::InternalError(Some(
                "the component stopped before finishing its response".into(),
            )));
        }
    }
}

/// The request with an absolute URI (`http://<host><path>`), as a WASIp3 guest expects its
/// authority and scheme; `None` without a usable `Host` header.
fn with_authority(request: Request<WasiBody>) -> Option<Request<WasiBody>> {
    let (mut parts, body) = request.into_parts();
    let host = parts.headers.get(http::header::HOST)?.to_str().ok()?;
    let authority = http::uri::Authority::try_from(host).ok()?;
    let mut uri = std::mem::take(&mut parts.uri).into_parts();
    uri.scheme = Some(http::uri::Scheme::HTTP);
    uri.authority = Some(authority);
    if uri.path_and_query.is_none() {
        uri.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
    }
    parts.uri = http::Uri::from_parts(uri).ok()?;
    Some(Request::from_parts(parts, body))
}

/// Names why a guest call failed: the CPU deadline, the memory cap, or a trap.
fn classify(error: &wasmtime::Error, state: &State) -> Failure {
    if error.downcast_ref::<wasmtime::Trap>() == Some(&wasmtime::Trap::Interrupt) {
        return Failure::Deadline;
    }
    if state.memory_exceeded() {
        return Failure::Memory;
    }
    Failure::Trap(format!("{error:#}"))
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
                    Failure::Busy => wasmtime_wasi_http::Error::ConnectionLimitReached,
                    Failure::NotFound => wasmtime_wasi_http::Error::DestinationNotFound,
                    _ => wasmtime_wasi_http::Error::DestinationUnavailable,
                })
        })
    }
}
