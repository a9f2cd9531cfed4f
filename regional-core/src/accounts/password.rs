//! Password hashes: Argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane: the
//! `argon2` crate's defaults), a fresh 16-byte salt each, stored as a PHC string. Hashing
//! runs on the blocking pool, never on a request's worker thread.

use std::sync::OnceLock;

use anyhow::{Context, anyhow};
use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use shopper_input::Password;

fn hash_now(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| anyhow!("no randomness: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow!("salt: {e}"))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow!("hashing failed: {e}"))?
        .to_string())
}

/// A hash no password matches, verified in place of a missing account's, so a sign-in for
/// an unknown e-mail address costs what a wrong password costs.
fn stand_in() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        let mut random = [0u8; 32];
        let _ = getrandom::fill(&mut random);
        hash_now(&hex::encode(random)).unwrap_or_default()
    })
}

/// Computes the stand-in hash now, so that the first sign-in does not pay for it.
pub fn warm() {
    let _ = stand_in();
}

/// The PHC string of `password`.
pub async fn hash(password: Password) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_now(password.expose()))
        .await
        .context("the hashing task failed")?
}

/// Whether `password` matches `stored`; with no stored hash, the same work is done and the
/// answer is no.
pub async fn verify(password: Password, stored: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| stand_in().to_owned());
        let parsed = PasswordHash::new(&phc).map_err(|e| anyhow!("stored hash: {e}"))?;
        let matches = Argon2::default()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await
    .context("the hashing task failed")?
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn a_hash_is_argon2id_salted_and_verifies_only_its_password() {
        let p = Password::parse("correct horse battery").unwrap();
        let a = hash(p.clone()).await.unwrap();
        let b = hash(p.clone()).await.unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify(p.clone(), Some(a.clone())).await.unwrap());
        let wrong = Password::parse("correct horse battery!").unwrap();
        assert!(!verify(wrong, Some(a)).await.unwrap());
        assert!(!verify(p, None).await.unwrap());
    }
}
