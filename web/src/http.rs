//! Requests and responses as the storefront sees them, independent of the wasi:http
//! plumbing (`wasm.rs`), plus cookies and forms.

/// An incoming request, body already read.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k == "cookie")
            .flat_map(|(_, v)| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.trim())
    }

    /// The query string's fields (`a=1&b=x`).
    pub fn query_fields(&self) -> Vec<(String, String)> {
        serde_urlencoded::from_str(&self.query).unwrap_or_default()
    }

    pub fn query_field(&self, name: &str) -> Option<String> {
        self.query_fields()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The body's fields, when it is a URL-encoded form.
    pub fn form(&self) -> Vec<(String, String)> {
        serde_urlencoded::from_bytes(&self.body).unwrap_or_default()
    }

    /// Whether the request came over TLS (so cookies get `Secure`).
    pub fn is_tls(&self) -> bool {
        self.header("spin-full-url")
            .is_some_and(|u| u.starts_with("https://"))
    }
}

/// The value of `name` in a form or query.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A response to write.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn html(status: u16, body: String) -> Self {
        Self {
            status,
            headers: vec![
                ("content-type".into(), "text/html; charset=utf-8".into()),
                ("cache-control".into(), "no-store".into()),
            ],
            body: body.into_bytes(),
        }
    }

    /// A JSON answer, never cached.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("cache-control".into(), "no-store".into()),
            ],
            body: value.to_string().into_bytes(),
        }
    }

    /// `303 See Other` to `location` (after a form post).
    pub fn redirect(location: &str) -> Self {
        Self {
            status: 303,
            headers: vec![("location".into(), location.to_owned())],
            body: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: String) -> Self {
        self.headers.push((name.to_owned(), value));
        self
    }
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, `Path=/`, `Secure` over TLS.
pub fn set_cookie(name: &str, value: &str, max_age_seconds: u64, tls: bool) -> String {
    format!(
        "{name}={value}; Path=/; Max-Age={max_age_seconds}; HttpOnly; SameSite=Lax{}",
        if tls { "; Secure" } else { "" }
    )
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    serde_urlencoded::to_string([("v", value)])
        .map(|s| s[2..].to_owned())
        .unwrap_or_default()
}

/// 128 random bits as 32 lower-case hex digits.
pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    // The host's randomness failing leaves a zero token, which `valid_token` refuses.
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `token` looks like one of ours (32 lower-case hex digits, not all zero).
pub fn valid_token(token: &str) -> bool {
    token.len() == 32
        && token
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && token.bytes().any(|b| b != b'0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_tls_every_answer_also_asks_for_https_only() {
        let plain = crate::app::security_headers(Response::html(200, String::new()), "n", false);
        let tls = crate::app::security_headers(Response::html(200, String::new()), "n", true);
        let has = |r: &Response, name: &str| r.headers.iter().any(|(k, _)| k == name);
        assert!(!has(&plain, "strict-transport-security"));
        assert!(has(&tls, "strict-transport-security"));
        assert!(has(&plain, "content-security-policy") && has(&tls, "x-content-type-options"));
    }

    #[test]
    fn cookies_forms_and_queries_parse() {
        let r = Request {
            query: "q=sour+dough&page=2".into(),
            headers: vec![(
                "cookie".into(),
                "a=1; meridian_cart=abc; meridian_csrf=xyz".into(),
            )],
            body: b"sku=LOAF-1&quantity=2&csrf=xyz".to_vec(),
            ..Request::default()
        };
        assert_eq!(r.cookie("meridian_cart"), Some("abc"));
        assert_eq!(r.cookie("missing"), None);
        assert_eq!(r.query_field("q").as_deref(), Some("sour dough"));
        assert_eq!(field(&r.form(), "quantity"), Some("2"));
        assert_eq!(encode("a b&c"), "a+b%26c");
    }

    #[test]
    fn cookies_are_http_only_and_lax_and_secure_over_tls() {
        let c = set_cookie("meridian_cart", "x", 60, false);
        assert_eq!(
            c,
            "meridian_cart=x; Path=/; Max-Age=60; HttpOnly; SameSite=Lax"
        );
        assert!(set_cookie("a", "b", 1, true).ends_with("; Secure"));
    }

    #[test]
    fn tokens_are_random_and_checked() {
        let a = random_token();
        assert!(valid_token(&a), "{a}");
        assert_ne!(a, random_token());
        assert!(!valid_token(&"0".repeat(32)));
        assert!(!valid_token("ABC"));
    }
}
