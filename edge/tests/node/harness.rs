use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use edge::app::{App, AppOptions};
use edge::data::KeyValue;
use edge::data::{Backend, MemoryBackend};
use edge::host::outbound::Tls;
use edge::region::{DEFAULT_COUNTRY_HEADER, RegionRouting};
use edge::runtime::{Limits, Runtime};
use edge::server::{Node, NodeOptions};
use http_body_util::Full;
use meridian_telemetry::Telemetry;
use meridian_telemetry::receiver::Inbox;
use region_config::RegionConfig;

/// A node serving the test application on a local port.
pub struct TestNode {
    pub url: String,
    pub backend: Arc<dyn Backend>,
}

/// Local HTTP servers the probe may call: a plain upstream and two regional "cores".
pub struct Upstreams {
    pub upstream: SocketAddr,
    pub eu_west: SocketAddr,
    pub us_east: SocketAddr,
    /// An upstream in TLS, as `localhost:PORT`, and the PEM of the CA that signed it.
    pub secure: String,
    pub secure_ca: String,
}

/// A runtime for the node and upstreams, alive for the whole test binary (each test has
/// its own runtime, which would stop a node started on it).
fn background() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

/// Runs `future` to completion on the background runtime, from any thread (tests are
/// themselves async, and may not block their own runtime).
fn on_background<T: Send + 'static>(future: impl Future<Output = T> + Send + 'static) -> T {
    let (sender, receiver) = std::sync::mpsc::channel();
    background().spawn(async move {
        let _ = sender.send(future.await);
    });
    receiver.recv().unwrap()
}

/// Answers every request with `name`, the path, the Host it was sent to and the
/// `traceparent` it carried; in TLS when given an acceptor.
async fn upstream(name: &'static str, tls: Option<tokio_rustls::TlsAcceptor>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            match &tls {
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        // A client that distrusts the certificate hangs up mid-handshake.
                        if let Ok(stream) = acceptor.accept(stream).await {
                            answer(name, stream).await;
                        }
                    });
                }
                None => {
                    tokio::spawn(answer(name, stream));
                }
            }
        }
    });
    address
}

async fn answer(
    name: &'static str,
    stream: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
) {
    let service = hyper::service::service_fn(move |request: http::Request<_>| {
        let host = request
            .headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let traceparent = request
            .headers()
            .get("traceparent")
            .and_then(|h| h.to_str().ok())
            .map(|t| format!(" traceparent={t}"))
            .unwrap_or_default();
        let text = format!("{name} {} host={host}{traceparent}", request.uri().path());
        async move {
            Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::from(text))))
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
        .await;
}

/// A TLS server identity for `localhost`, signed by a throwaway CA: the acceptor and the
/// CA's certificate (PEM) for a client to trust.
fn tls_identity() -> (tokio_rustls::TlsAcceptor, String) {
    use tokio_rustls::rustls;
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls_pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
        )
        .unwrap();
    (tokio_rustls::TlsAcceptor::from(Arc::new(config)), ca.pem())
}

pub fn upstreams() -> &'static Upstreams {
    static UP: OnceLock<Upstreams> = OnceLock::new();
    UP.get_or_init(|| {
        on_background(async {
            let (acceptor, secure_ca) = tls_identity();
            let secure = upstream("secure", Some(acceptor)).await;
            Upstreams {
                upstream: upstream("upstream", None).await,
                eu_west: upstream("eu-west-core", None).await,
                us_east: upstream("us-east-core", None).await,
                secure: format!("localhost:{}", secure.port()),
                secure_ca,
            }
        })
    })
}

fn manifest() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node/spin.toml"))
}

fn regions() -> RegionConfig {
    RegionConfig::from_path(
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../region-config/regions.toml"
        ))
        .as_path(),
    )
    .unwrap()
}

/// Builds the components and the probe once per test binary.
fn built() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| guest_build::build_all().unwrap());
}

/// The test application's options over `key_value`.
pub fn options(key_value: KeyValue, extra: &[(&str, &str)]) -> AppOptions {
    let up = upstreams();
    let mut variables = vec![
        ("upstream".to_owned(), up.upstream.to_string()),
        ("secure_upstream".to_owned(), up.secure.clone()),
        (
            "core_url_eu_west".to_owned(),
            format!("http://{}", up.eu_west),
        ),
        (
            "core_url_us_east".to_owned(),
            format!("http://{}", up.us_east),
        ),
    ];
    variables.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    AppOptions {
        manifest: manifest(),
        variables,
        environment: Default::default(),
        runtime_config: None,
        key_value,
    }
}

/// The limits most tests run under: tight enough that the loop and the bomb end fast.
pub fn test_limits() -> Limits {
    Limits {
        memory_bytes: 32 << 20,
        deadline: Duration::from_millis(500),
        cpu: Duration::from_millis(100),
        cpu_per_component: std::collections::BTreeMap::new(),
        // One component may use every instance: the tests of shares set their own.
        shares: edge::share::ShareLimits {
            share: 1.0,
            ..edge::share::ShareLimits::default()
        },
        body_bytes: 64 << 10,
        max_instances: 16,
    }
}

/// Starts a node with `limits` over `key_value`.
pub fn start(limits: Limits, options: AppOptions, backend: Arc<dyn Backend>) -> TestNode {
    start_with(limits, options, backend, Telemetry::disabled())
}

/// Starts an OTLP receiver for this binary's tests; answers its URL and inbox.
pub fn otlp_receiver() -> (String, Inbox) {
    let inbox = Inbox::default();
    let served = inbox.clone();
    let url = on_background(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(meridian_telemetry::receiver::serve(listener, served));
        url
    });
    (url, inbox)
}

/// As [`start`], reporting spans and metrics through `telemetry`.
pub fn start_with(
    limits: Limits,
    options: AppOptions,
    backend: Arc<dyn Backend>,
    telemetry: Telemetry,
) -> TestNode {
    start_node(limits, options, backend, telemetry, Tls::default())
}

/// As [`start`], trusting `tls`'s roots for outbound `https`.
pub fn start_node(
    limits: Limits,
    options: AppOptions,
    backend: Arc<dyn Backend>,
    telemetry: Telemetry,
    tls: Tls,
) -> TestNode {
    built();
    let cache = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/edge-cache-tests"
    ));
    let runtime = Runtime::with_limits(limits, Some(cache)).unwrap();
    let app = App::load(&runtime, &options).unwrap();
    let routing = RegionRouting::new(regions(), DEFAULT_COUNTRY_HEADER).unwrap();
    let node = Node::with_options(runtime, app, routing, NodeOptions { telemetry, tls });
    let address = on_background(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(node.serve(listener, std::future::pending()));
        address
    });
    TestNode {
        url: format!("http://{address}"),
        backend,
    }
}

/// The node most tests share: in-memory store, [`test_limits`].
pub fn shared() -> &'static TestNode {
    static NODE: OnceLock<TestNode> = OnceLock::new();
    NODE.get_or_init(|| {
        let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::default());
        start(
            test_limits(),
            options(KeyValue::Shared(backend.clone()), &[]),
            backend,
        )
    })
}

/// A node whose `default` store is the Redis at `REDIS_URL` (default
/// `redis://127.0.0.1:6379`), shared by the tests that check Spin's raw key layout; its
/// `backend` reads the same Redis.
pub fn on_redis() -> &'static TestNode {
    static NODE: OnceLock<TestNode> = OnceLock::new();
    NODE.get_or_init(|| {
        let url = redis_url();
        let backend: Arc<dyn Backend> = Arc::new(edge::data::RedisBackend::open(&url).unwrap());
        start(test_limits(), options(KeyValue::Redis(url), &[]), backend)
    })
}

/// The Redis the tests use.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// `GET url` with headers; status and body text.
pub async fn get(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut request = client().get(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}
