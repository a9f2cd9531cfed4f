//! Outbound HTTP from components: `allowed_outbound_hosts` (deny by default), service
//! chaining to `http://<component>.spin.internal` in process, and region pinning of the
//! regional cores.
//!
//! The destination is always the request's own URL: the guest cannot set `Host` (a
//! forbidden header) and a request without an authority is refused, so no header can steer
//! a request somewhere its URL does not say (cf. CVE-2024-32980).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use http::uri::{Authority, Scheme};
use http::{Request, Response};
use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// One `allowed_outbound_hosts` entry: `scheme://host[:port]`, where each part may be `*`
/// and the host may be `*.suffix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: Option<String>,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    /// `*.example.com`: any subdomain of `example.com` (held as `.example.com`).
    Subdomain(String),
    Exact(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    Exact(u16),
    /// No port given: the scheme's default (80 for http, 443 for https).
    Default,
}

/// Why an `allowed_outbound_hosts` entry cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("allowed_outbound_hosts entry {entry:?} {reason}")]
pub struct AllowedHostError {
    pub entry: String,
    pub reason: &'static str,
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

impl AllowedHost {
    pub fn parse(entry: &str) -> Result<Self, AllowedHostError> {
        let bad = |reason| AllowedHostError {
            entry: entry.to_owned(),
            reason,
        };
        let (scheme, rest) = entry
            .split_once("://")
            .ok_or_else(|| bad("needs a scheme, as in `https://example.com`"))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') || rest.contains('?') || rest.contains('#') {
            return Err(bad("may not have a path, query or fragment"));
        }
        let scheme = match scheme {
            "*" => None,
            s if !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase()) => Some(s.to_owned()),
            _ => return Err(bad("has a malformed scheme")),
        };
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, "*")) => (host, PortPattern::Any),
            Some((host, port)) => (
                host,
                PortPattern::Exact(port.parse().map_err(|_| bad("has a malformed port"))?),
            ),
            None => (rest, PortPattern::Default),
        };
        if port == PortPattern::Default && scheme.as_deref().and_then(default_port).is_none() {
            return Err(bad("needs a port: its scheme has no default port"));
        }
        let host = host.to_ascii_lowercase();
        let host = if host == "*" {
            HostPattern::Any
        } else if let Some(suffix) = host.strip_prefix("*.") {
            HostPattern::Subdomain(format!(".{suffix}"))
        } else if host.is_empty() || host.contains('*') {
            return Err(bad("has a malformed host"));
        } else {
            HostPattern::Exact(host)
        };
        Ok(Self { scheme, host, port })
    }

    /// Whether a request to `scheme://host:port` is allowed by this entry.
    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        if self.scheme.as_deref().is_some_and(|s| s != scheme) {
            return false;
        }
        let host_ok = match &self.host {
            HostPattern::Any => true,
            HostPattern::Subdomain(suffix) => host.ends_with(suffix.as_str()),
            HostPattern::Exact(h) => h == host,
        };
        let port_ok = match self.port {
            PortPattern::Any => true,
            PortPattern::Exact(p) => p == port,
            PortPattern::Default => default_port(scheme) == Some(port),
        };
        host_ok && port_ok
    }
}

/// A component's whole allow-list.
#[derive(Debug, Clone, Default)]
pub struct AllowList(Vec<AllowedHost>);

impl AllowList {
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self, AllowedHostError> {
        entries
            .into_iter()
            .map(AllowedHost::parse)
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn allows(&self, origin: &Origin) -> bool {
        self.0
            .iter()
            .any(|a| a.allows(&origin.scheme, &origin.host, origin.port))
    }
}

/// Where a request goes: scheme, lower-case host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub scheme: String,
    pub host: String,
    pub port: u16,
}

impl Origin {
    pub fn of(scheme: Option<&Scheme>, authority: Option<&Authority>) -> Option<Self> {
        let scheme = scheme?.as_str().to_ascii_lowercase();
        let authority = authority?;
        let port = match authority.port_u16() {
            Some(p) => p,
            None => default_port(&scheme)?,
        };
        Some(Self {
            host: authority.host().to_ascii_lowercase(),
            scheme,
            port,
        })
    }

    pub fn of_url(url: &url::Url) -> Option<Self> {
        Some(Self {
            scheme: url.scheme().to_owned(),
            host: url.host_str()?.to_ascii_lowercase(),
            port: url.port_or_known_default()?,
        })
    }
}

/// The regional cores and which one may receive this shopper's requests.
#[derive(Debug, Clone, Default)]
pub struct CorePolicy {
    /// Every region's core: region id and origin.
    pub cores: Vec<(String, Origin)>,
    /// The shopper's home region for this request.
    pub home: String,
}

impl CorePolicy {
    /// The region whose core `origin` is, if it is another region's than the shopper's.
    fn foreign_core(&self, origin: &Origin) -> Option<&str> {
        self.cores
            .iter()
            .find(|(region, o)| o == origin && *region != self.home)
            .map(|(region, _)| region.as_str())
    }
}

/// A boxed response future, as chaining and the client return it.
pub type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<Response<WasiBody>, Error>> + Send + 'static>>;

/// Runs a request on another component of the application, in process.
pub trait Chain: Send + Sync {
    fn call(&self, component: &str, request: Request<WasiBody>) -> ResponseFuture;
}

/// The outbound policy of one component for one request.
#[derive(Clone)]
pub struct Outbound {
    pub component: Arc<str>,
    pub allowed: Arc<AllowList>,
    pub cores: Arc<CorePolicy>,
    pub chain: Option<Arc<dyn Chain>>,
    /// Where a client span of each outbound request goes; `None` when telemetry is off.
    pub trace: Option<crate::observe::Trace>,
    /// Whom `https` requests trust.
    pub tls: Tls,
}

/// The TLS client configuration of outbound `https` requests: the machine's trust store,
/// plus any extra roots (a private CA that signs the regional cores' certificates).
#[derive(Clone)]
pub struct Tls(Arc<tokio_rustls::rustls::ClientConfig>);

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls(..)")
    }
}

impl Default for Tls {
    /// The machine's trust store only.
    fn default() -> Self {
        Self::with_roots(Self::system_roots())
    }
}

impl Tls {
    /// The machine's trust store plus the certificates of the PEM file at `extra`.
    pub fn with_extra_roots(extra: &std::path::Path) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        use rustls_pki_types::pem::PemObject as _;
        let mut roots = Self::system_roots();
        let mut added = 0;
        for certificate in rustls_pki_types::CertificateDer::pem_file_iter(extra)
            .with_context(|| format!("failed to read {}", extra.display()))?
        {
            let certificate = certificate
                .with_context(|| format!("{} holds a malformed certificate", extra.display()))?;
            roots
                .add(certificate)
                .with_context(|| format!("{} holds an unusable certificate", extra.display()))?;
            added += 1;
        }
        if added == 0 {
            anyhow::bail!("{} holds no PEM certificate", extra.display());
        }
        Ok(Self::with_roots(roots))
    }

    /// Trusts exactly the certificates of `pem` (tests: a throwaway CA).
    pub fn trusting_only(pem: &str) -> anyhow::Result<Self> {
        use rustls_pki_types::pem::PemObject as _;
        let mut roots = tokio_rustls::rustls::RootCertStore::empty();
        for certificate in rustls_pki_types::CertificateDer::pem_slice_iter(pem.as_bytes()) {
            roots.add(certificate?)?;
        }
        Ok(Self::with_roots(roots))
    }

    fn system_roots() -> tokio_rustls::rustls::RootCertStore {
        let found = rustls_native_certs::load_native_certs();
        for error in &found.errors {
            tracing::warn!(%error, "a certificate of the machine's trust store was skipped");
        }
        let mut roots = tokio_rustls::rustls::RootCertStore::empty();
        let (_, skipped) = roots.add_parsable_certificates(found.certs);
        if skipped > 0 {
            tracing::warn!(
                skipped,
                "unparsable certificates in the machine's trust store"
            );
        }
        roots
    }

    fn with_roots(roots: tokio_rustls::rustls::RootCertStore) -> Self {
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        Self(Arc::new(config))
    }
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("component", &self.component)
            .field("allowed", &self.allowed)
            .finish_non_exhaustive()
    }
}

/// The suffix of service-chaining hosts.
pub const CHAIN_SUFFIX: &str = ".spin.internal";

/// What the policy decides for one request.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Run it on this component of the application.
    Chain(String),
    /// Send it over the network.
    Send,
    /// Refuse it, for this reason (logged, never shown to the shopper).
    Deny(String),
}

impl Outbound {
    pub fn decide(&self, origin: Option<&Origin>) -> Decision {
        let Some(origin) = origin else {
            return Decision::Deny("the request has no scheme or authority".into());
        };
        if !self.allowed.allows(origin) {
            return Decision::Deny(format!(
                "{}://{}:{} is not in allowed_outbound_hosts",
                origin.scheme, origin.host, origin.port
            ));
        }
        if let Some(component) = origin.host.strip_suffix(CHAIN_SUFFIX) {
            return Decision::Chain(component.to_owned());
        }
        if let Some(region) = self.cores.foreign_core(origin) {
            return Decision::Deny(format!(
                "the shopper's home region is {}, not {region}: pinned requests go only to the home region's core",
                self.cores.home
            ));
        }
        Decision::Send
    }
}

/// Refuses every request: the policy of a component without `allowed_outbound_hosts`, and
/// of a dependency that does not inherit them.
#[derive(Debug, Default)]
pub struct DenyAll;

type SendResult = Box<
    dyn Future<
            Output = Result<
                (
                    Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), Error>> + Send>,
                ),
                Error,
            >,
        > + Send,
>;

fn done() -> Box<dyn Future<Output = Result<(), Error>> + Send> {
    Box::new(async { Ok(()) })
}

impl WasiHttpHooks for DenyAll {
    fn send_request(
        &mut self,
        _request: Request<WasiBody>,
        _options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> SendResult {
        Box::new(async { Err(Error::HttpRequestDenied) })
    }
}

impl WasiHttpHooks for Outbound {
    fn send_request(
        &mut self,
        request: Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> SendResult {
        let origin = Origin::of(request.uri().scheme(), request.uri().authority());
        let decision = self.decide(origin.as_ref());
        let this = self.clone();
        Box::new(async move {
            match decision {
                Decision::Deny(reason) => {
                    tracing::warn!(component = %this.component, %reason, "outbound request refused");
                    Err(Error::HttpRequestDenied)
                }
                Decision::Chain(target) => {
                    let Some(chain) = this.chain else {
                        return Err(Error::DestinationNotFound);
                    };
                    Ok((chain.call(&target, request).await?, done()))
                }
                Decision::Send => {
                    let Some(trace) = &this.trace else {
                        return Ok((send(request, options, &this.tls).await?, done()));
                    };
                    let mut request = request;
                    let origin = origin
                        .map(|o| format!("{}://{}:{}", o.scheme, o.host, o.port))
                        .unwrap_or_default();
                    let cx = trace
                        .observe
                        .outbound_span(&trace.cx, request.method(), &origin);
                    // The regional core continues this trace (W3C `traceparent`).
                    meridian_telemetry::inject(&cx, request.headers_mut());
                    let outcome = send(request, options, &this.tls).await;
                    match &outcome {
                        Ok(response) => meridian_telemetry::record(
                            &cx,
                            meridian_telemetry::opentelemetry::KeyValue::new(
                                "http.response.status_code",
                                i64::from(response.status().as_u16()),
                            ),
                        ),
                        Err(_) => meridian_telemetry::fail(&cx, "outbound_failed"),
                    }
                    Ok((outcome?, done()))
                }
            }
        })
    }
}

/// Sends a request over HTTP/1.1, in TLS for `https` (verified against `tls`'s roots).
async fn send(
    mut request: Request<WasiBody>,
    options: Option<RequestOptions>,
    tls: &Tls,
) -> Result<Response<WasiBody>, Error> {
    let secure = request.uri().scheme() == Some(&Scheme::HTTPS);
    if !secure && request.uri().scheme() != Some(&Scheme::HTTP) {
        return Err(Error::HttpProtocolError);
    }
    let authority = request
        .uri()
        .authority()
        .ok_or(Error::HttpRequestUriInvalid)?
        .clone();
    let address = format!(
        "{}:{}",
        authority.host(),
        authority
            .port_u16()
            .unwrap_or(if secure { 443 } else { 80 })
    );
    let connect_timeout = options
        .and_then(|o| o.connect_timeout)
        .unwrap_or(Duration::from_secs(5));
    let first_byte_timeout = options
        .and_then(|o| o.first_byte_timeout)
        .unwrap_or(Duration::from_secs(30));
    let stream = tokio::time::timeout(connect_timeout, tokio::net::TcpStream::connect(&address))
        .await
        .map_err(|_| Error::ConnectionTimeout)?
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::ConnectionRefused => Error::ConnectionRefused,
            _ => Error::Connect(e),
        })?;
    let _ = stream.set_nodelay(true);
    let stream: Box<dyn Stream> = if secure {
        let name = rustls_pki_types::ServerName::try_from(authority.host().to_owned())
            .map_err(|_| Error::HttpRequestUriInvalid)?;
        let connector = tokio_rustls::TlsConnector::from(tls.0.clone());
        let stream = tokio::time::timeout(connect_timeout, connector.connect(name, stream))
            .await
            .map_err(|_| Error::ConnectionTimeout)?
            .map_err(tls_error)?;
        Box::new(stream)
    } else {
        Box::new(stream)
    };
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(Error::Hyper)?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    // On the wire the request line carries only the path; Host says where it goes.
    *request.uri_mut() = http::Uri::builder()
        .path_and_query(request.uri().path_and_query().map_or("/", |p| p.as_str()))
        .build()
        .map_err(|_| Error::HttpRequestUriInvalid)?;
    let response = tokio::time::timeout(first_byte_timeout, sender.send_request(request))
        .await
        .map_err(|_| Error::ConnectionReadTimeout)?
        .map_err(Error::Hyper)?;
    Ok(response.map(|body| body.map_err(Error::Hyper).boxed_unsync()))
}

/// A connection, plain or in TLS.
trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> Stream for T {}

/// A failed TLS handshake, as `wasi:http` names it: a certificate the roots do not vouch
/// for (or for another name), an alert from the server, or another protocol error.
fn tls_error(error: std::io::Error) -> Error {
    use tokio_rustls::rustls::Error as Rustls;
    match error.get_ref().and_then(|e| e.downcast_ref::<Rustls>()) {
        Some(Rustls::InvalidCertificate(_)) => Error::TlsCertificateError,
        Some(Rustls::AlertReceived(alert)) => Error::TlsAlertReceived {
            alert_id: Some(u8::from(*alert)),
            alert_message: Some(format!("{alert:?}")),
        },
        _ => Error::Tls(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(scheme: &str, host: &str, port: u16) -> Origin {
        Origin {
            scheme: scheme.into(),
            host: host.into(),
            port,
        }
    }

    #[test]
    fn an_extra_roots_file_must_hold_certificates() {
        let dir = std::env::temp_dir().join(format!("edge-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = Tls::with_extra_roots(&empty).unwrap_err();
        assert!(e.to_string().contains("holds no PEM certificate"), "{e:#}");
        let e = Tls::with_extra_roots(&dir.join("missing.pem")).unwrap_err();
        assert!(e.to_string().contains("failed to read"), "{e:#}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn entries_match_scheme_host_and_port() {
        let list = AllowList::parse([
            "https://api.example.com",
            "http://127.0.0.1:7102",
            "*://*.cdn.example:*",
        ])
        .unwrap();
        assert!(list.allows(&origin("https", "api.example.com", 443)));
        assert!(!list.allows(&origin("http", "api.example.com", 80)));
        assert!(!list.allows(&origin("https", "api.example.com", 8443)));
        assert!(list.allows(&origin("http", "127.0.0.1", 7102)));
        assert!(!list.allows(&origin("http", "127.0.0.1", 7101)));
        assert!(list.allows(&origin("http", "img.cdn.example", 8080)));
        assert!(!list.allows(&origin("http", "cdn.example", 80)));
        assert!(!list.allows(&origin("https", "evil.example", 443)));
    }

    #[test]
    fn malformed_entries_are_refused_with_the_reason() {
        for (entry, reason) in [
            ("example.com", "needs a scheme"),
            ("https://example.com/path", "path"),
            ("https://example.com:http", "port"),
            ("redis://cache", "default port"),
            ("https://ex*mple.com", "host"),
        ] {
            let e = AllowedHost::parse(entry).unwrap_err();
            assert!(e.to_string().contains(reason), "{entry}: {e}");
        }
    }

    #[test]
    fn chaining_needs_the_internal_host_allowed() {
        let outbound = Outbound {
            component: "web".into(),
            allowed: Arc::new(AllowList::parse(["http://catalogue.spin.internal"]).unwrap()),
            cores: Arc::default(),
            chain: None,
            trace: None,
            tls: Tls::default(),
        };
        assert_eq!(
            outbound.decide(Some(&origin("http", "catalogue.spin.internal", 80))),
            Decision::Chain("catalogue".into())
        );
        assert!(matches!(
            outbound.decide(Some(&origin("http", "cart.spin.internal", 80))),
            Decision::Deny(_)
        ));
        assert!(matches!(outbound.decide(None), Decision::Deny(_)));
    }

    #[test]
    fn another_regions_core_is_refused_even_when_allowed() {
        let outbound = Outbound {
            component: "web".into(),
            allowed: Arc::new(AllowList::parse(["http://127.0.0.1:*"]).unwrap()),
            cores: Arc::new(CorePolicy {
                cores: vec![
                    ("us-east".into(), origin("http", "127.0.0.1", 7101)),
                    ("eu-west".into(), origin("http", "127.0.0.1", 7102)),
                ],
                home: "eu-west".into(),
            }),
            chain: None,
            trace: None,
            tls: Tls::default(),
        };
        assert_eq!(
            outbound.decide(Some(&origin("http", "127.0.0.1", 7102))),
            Decision::Send
        );
        let Decision::Deny(reason) = outbound.decide(Some(&origin("http", "127.0.0.1", 7101)))
        else {
            panic!("us-east's core must be refused for an eu-west shopper");
        };
        assert!(reason.contains("eu-west"), "{reason}");
    }
}
