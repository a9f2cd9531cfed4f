//! The signed-in shopper's session cookie: `REGION.TOKEN.SIGNATURE`.
//!
//! The home region's core issues it at sign-in. `TOKEN` is opaque (64 hex digits; the core
//! keeps only its hash), and `SIGNATURE` is the HMAC-SHA256 of the region and the token under
//! that region's edge signing key, the one quotes are signed with (the text differs, so a
//! quote signature can never pass as a session's). The edge routes a signed-in shopper by
//! `REGION` after checking the signature, with no lookup, and learns nothing else from it.

use crate::signature;

/// A session cookie's parts; the token is the core's to check.
#[derive(Clone, PartialEq, Eq)]
pub struct Session<'a> {
    pub region: &'a str,
    pub token: &'a str,
    pub signature: &'a str,
}

impl std::fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

fn text(region: &str, token: &str) -> String {
    format!("meridian-session/1\n{region}\n{token}")
}

/// The cookie value for `token`, issued by `region` and signed with its `key`.
pub fn issue(key: &[u8], region: &str, token: &str) -> String {
    format!(
        "{region}.{token}.{}",
        signature::sign(key, &text(region, token))
    )
}

/// The parts of a well-formed cookie value, signature unchecked.
pub fn parse(value: &str) -> Option<Session<'_>> {
    let mut parts = value.split('.');
    let (region, token, signature) = (parts.next()?, parts.next()?, parts.next()?);
    let region_ok = !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (parts.next().is_none() && region_ok && hex(token, 64) && hex(signature, 64)).then_some(
        Session {
            region,
            token,
            signature,
        },
    )
}

/// Whether `session` was signed with `key` (compared in constant time).
pub fn verify(key: &[u8], session: &Session<'_>) -> bool {
    signature::verify(key, &text(session.region, session.token), session.signature)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const TOKEN: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn a_cookie_names_its_region_and_only_its_key_verifies_it() {
        let cookie = issue(b"eu-key", "eu-west", TOKEN);
        let session = parse(&cookie).unwrap();
        assert_eq!(session.region, "eu-west");
        assert_eq!(session.token, TOKEN);
        assert!(verify(b"eu-key", &session));
        assert!(!verify(b"us-key", &session));
        let moved = cookie.replacen("eu-west", "us-east", 1);
        assert!(!verify(b"eu-key", &parse(&moved).unwrap()));
        assert!(!format!("{session:?}").contains("0011"));
    }

    #[test]
    fn malformed_cookies_do_not_parse() {
        for bad in [
            "",
            "eu-west",
            &format!("eu-west.{TOKEN}"),
            &format!("EU.{TOKEN}.{TOKEN}"),
            &format!("eu-west.{TOKEN}.{TOKEN}.x"),
            &format!("eu-west.{}.{TOKEN}", &TOKEN[1..]),
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
