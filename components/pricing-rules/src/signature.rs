//! Quote signatures: the edge pricing component signs every quote it shows, and the
//! regional core, repricing the same cart with this library, can tell whether the price the
//! shopper saw is the price it commits.
//!
//! The signature is HMAC-SHA256 with the region's quote key over the quote's canonical text
//! ([`canonical`]): every amount, rate and code of the quote, its region and its validity.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::Quote;

/// The canonical text of `quote` as shown in `region` from `issued_at` until `expires_at`
/// (Unix seconds). Two quotes have the same text exactly when they charge the same.
pub fn canonical(region: &str, quote: &Quote, issued_at: u64, expires_at: u64) -> String {
    let mut text = format!(
        "meridian-quote/1\n{region}\n{}\n{}\n",
        quote.currency,
        u8::from(quote.prices_include_tax)
    );
    for l in &quote.lines {
        text.push_str(&format!(
            "{}|{}|{}|{}|{}|{}|{}\n",
            l.sku,
            l.quantity,
            l.unit_price_minor,
            l.discount_minor,
            l.line_total_minor,
            l.tax_minor,
            l.tax_rate_bp
        ));
    }
    text.push_str(&format!(
        "{}|{}|{}|{}\n{}\n{issued_at}|{expires_at}",
        quote.subtotal_minor,
        quote.discount_minor,
        quote.tax_minor,
        quote.total_minor,
        quote.promotions.join(",")
    ));
    text
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length.
    <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!())
}

/// The hex HMAC-SHA256 of `text` under `key`.
pub fn sign(key: &[u8], text: &str) -> String {
    let mut m = mac(key);
    m.update(text.as_bytes());
    m.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `signature` (hex) is the HMAC of `text` under `key`, compared in constant time.
pub fn verify(key: &[u8], text: &str, signature: &str) -> bool {
    let Some(bytes) = decode_hex(signature) else {
        return false;
    };
    let mut m = mac(key);
    m.update(text.as_bytes());
    m.verify_slice(&bytes).is_ok()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Cart, Line, quote};

    fn bread(quantity: u32) -> Quote {
        let cart = Cart {
            currency: "EUR".into(),
            prices_include_tax: true,
            lines: vec![Line {
                sku: "LOAF".into(),
                quantity,
                unit_price_minor: 214,
                tax_rate_bp: 700,
            }],
            promo_codes: vec![],
            now_unix: 0,
        };
        quote(&cart, &[]).unwrap()
    }

    #[test]
    fn a_signature_verifies_only_for_the_same_quote_region_and_key() {
        let text = canonical("eu-west", &bread(2), 10, 20);
        let sig = sign(b"key", &text);
        assert_eq!(sig.len(), 64);
        assert!(verify(b"key", &text, &sig));
        assert!(!verify(b"other key", &text, &sig));
        assert!(!verify(
            b"key",
            &canonical("eu-west", &bread(3), 10, 20),
            &sig
        ));
        assert!(!verify(
            b"key",
            &canonical("us-east", &bread(2), 10, 20),
            &sig
        ));
        assert!(!verify(
            b"key",
            &canonical("eu-west", &bread(2), 10, 21),
            &sig
        ));
        assert!(!verify(b"key", &text, "zz"));
        assert!(!verify(b"key", &text, ""));
    }

    #[test]
    fn the_canonical_text_names_every_amount() {
        let text = canonical("eu-west", &bread(2), 10, 20);
        assert_eq!(
            text,
            "meridian-quote/1\neu-west\nEUR\n1\nLOAF|2|214|0|428|28|700\n428|0|28|428\n\n10|20"
        );
    }
}
