//! The cart's calls over any key-value store.

use projections::kv::{Kv, KvError, Swap};
use projections::{Product, decode, keys};
use serde::{Deserialize, Serialize};

use crate::bindings::exports::meridian::cart::cart::CartError;
use crate::bindings::meridian::types::types::{Cart, Line, Scope};

/// Compare-and-swap attempts before a change gives up with `conflict`.
pub const ATTEMPTS: usize = 16;
/// Most lines in a cart.
pub const MAX_LINES: usize = 100;
/// Most units of one line.
pub const MAX_QUANTITY: u32 = 1_000;
/// How long a cart lives after its last change when no variable says otherwise: 30 days.
pub const DEFAULT_TTL_SECONDS: u64 = 30 * 24 * 60 * 60;

type Result<T> = std::result::Result<T, CartError>;

/// What the component needs from its surroundings besides the store.
#[derive(Debug, Clone, Copy)]
pub struct Env {
    /// Unix seconds now.
    pub now: u64,
    pub ttl_seconds: u64,
}

/// A cart as stored: format version, change count, lines, expiry, and the carts already
/// merged into it (so a retried merge does not add them twice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stored {
    v: u32,
    version: u64,
    lines: Vec<(String, u32)>,
    expires_at: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    merged: Vec<String>,
}

fn store_failed(e: KvError) -> CartError {
    CartError::StoreUnavailable(e.0)
}

fn check_scope(scope: &Scope) -> Result<()> {
    if !projections::valid_slug(&scope.region) {
        return Err(CartError::BadRequest(
            "scope.region is not a region id".to_owned(),
        ));
    }
    if !projections::valid_slug(&scope.storefront) {
        return Err(CartError::BadRequest(
            "scope.storefront is not a storefront id".to_owned(),
        ));
    }
    Ok(())
}

/// Checks a cart id: 32 lowercase hex digits (128 bits).
pub fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A fresh cart id: 128 bits from the system's random source, as 32 hex digits.
pub fn new_id() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| CartError::StoreUnavailable(format!("no randomness for a cart id: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn view(id: &str, stored: &Stored) -> Cart {
    Cart {
        id: id.to_owned(),
        version: stored.version,
        lines: stored
            .lines
            .iter()
            .map(|(sku, quantity)| Line {
                sku: sku.clone(),
                quantity: *quantity,
            })
            .collect(),
        expires_at: stored.expires_at,
    }
}

/// Reads a cart: its stored bytes and decoded value, `None` when absent or expired.
fn read(kv: &impl Kv, key: &str, env: Env) -> Result<Option<(Vec<u8>, Stored)>> {
    let Some(bytes) = kv.get(key).map_err(store_failed)? else {
        return Ok(None);
    };
    let stored: Stored = decode(key, &bytes).map_err(|e| CartError::CorruptCart(e.to_string()))?;
    if stored.expires_at <= env.now {
        kv.delete(key).map_err(store_failed)?;
        return Ok(None);
    }
    Ok(Some((bytes, stored)))
}

/// Applies `change` to the cart `id` by compare-and-swap, retried.
fn update(
    kv: &impl Kv,
    scope: &Scope,
    id: &str,
    env: Env,
    mut change: impl FnMut(&mut Stored) -> Result<()>,
) -> Result<Cart> {
    check_scope(scope)?;
    if !valid_id(id) {
        return Err(CartError::MalformedCartId);
    }
    let key = keys::cart(&scope.region, &scope.storefront, id);
    for _ in 0..ATTEMPTS {
        let Some((bytes, mut stored)) = read(kv, &key, env)? else {
            return Err(CartError::UnknownCart);
        };
        change(&mut stored)?;
        stored.version += 1;
        stored.expires_at = env.now.saturating_add(env.ttl_seconds);
        let next = projections::encode(&stored);
        match kv
            .compare_and_swap(&key, Some(&bytes), &next)
            .map_err(store_failed)?
        {
            Swap::Done => return Ok(view(id, &stored)),
            Swap::Lost => continue,
        }
    }
    Err(CartError::Conflict)
}

/// Checks that `sku` is a product of the storefront.
fn check_sku(kv: &impl Kv, scope: &Scope, sku: &str) -> Result<()> {
    if !projections::valid_sku(sku) {
        return Err(CartError::UnknownSku(sku.to_owned()));
    }
    let key = keys::product(&scope.region, &scope.storefront, sku);
    let product = kv.get(&key).map_err(store_failed)?;
    match product.map(|bytes| decode::<Product>(&key, &bytes)) {
        Some(Ok(p)) if p.active => Ok(()),
        _ => Err(CartError::UnknownSku(sku.to_owned())),
    }
}

fn check_quantity(quantity: u32) -> Result<()> {
    if (1..=MAX_QUANTITY).contains(&quantity) {
        Ok(())
    } else {
        Err(CartError::BadQuantity(quantity))
    }
}

/// Adds units of `sku` to `stored`, as a new line or onto the existing one.
fn add_units(stored: &mut Stored, sku: &str, quantity: u32, cap: bool) -> Result<()> {
    if let Some(line) = stored.lines.iter_mut().find(|(s, _)| s == sku) {
        let total = line.1.saturating_add(quantity);
        if total > MAX_QUANTITY && !cap {
            return Err(CartError::BadQuantity(total));
        }
        line.1 = total.min(MAX_QUANTITY);
        return Ok(());
    }
    if stored.lines.len() >= MAX_LINES {
        return Err(CartError::TooManyLines);
    }
    stored
        .lines
        .push((sku.to_owned(), quantity.min(MAX_QUANTITY)));
    Ok(())
}

/// A new, empty cart.
pub fn create(kv: &impl Kv, scope: &Scope, env: Env) -> Result<Cart> {
    check_scope(scope)?;
    for _ in 0..ATTEMPTS {
        let id = new_id()?;
        let stored = Stored {
            v: projections::FORMAT_VERSION,
            version: 1,
            lines: Vec::new(),
            expires_at: env.now.saturating_add(env.ttl_seconds),
            merged: Vec::new(),
        };
        let key = keys::cart(&scope.region, &scope.storefront, &id);
        // Absent-only write: a (vanishingly unlikely) id collision never takes over a cart.
        if kv
            .compare_and_swap(&key, None, &projections::encode(&stored))
            .map_err(store_failed)?
            == Swap::Done
        {
            return Ok(view(&id, &stored));
        }
    }
    Err(CartError::Conflict)
}

/// The cart `id`.
pub fn get(kv: &impl Kv, scope: &Scope, id: &str, env: Env) -> Result<Cart> {
    check_scope(scope)?;
    if !valid_id(id) {
        return Err(CartError::MalformedCartId);
    }
    let key = keys::cart(&scope.region, &scope.storefront, id);
    match read(kv, &key, env)? {
        Some((_, stored)) => Ok(view(id, &stored)),
        None => Err(CartError::UnknownCart),
    }
}

/// Adds `line.quantity` units of `line.sku`.
pub fn add(kv: &impl Kv, scope: &Scope, id: &str, line: &Line, env: Env) -> Result<Cart> {
    check_quantity(line.quantity)?;
    check_sku(kv, scope, &line.sku)?;
    update(kv, scope, id, env, |stored| {
        add_units(stored, &line.sku, line.quantity, false)
    })
}

/// Sets the quantity of a line in the cart.
pub fn set_quantity(kv: &impl Kv, scope: &Scope, id: &str, line: &Line, env: Env) -> Result<Cart> {
    check_quantity(line.quantity)?;
    update(kv, scope, id, env, |stored| {
        match stored.lines.iter_mut().find(|(s, _)| *s == line.sku) {
            Some(existing) => {
                existing.1 = line.quantity;
                Ok(())
            }
            None => Err(CartError::NotInCart(line.sku.clone())),
        }
    })
}

/// Removes the line of `sku`.
pub fn remove(kv: &impl Kv, scope: &Scope, id: &str, sku: &str, env: Env) -> Result<Cart> {
    update(kv, scope, id, env, |stored| {
        let before = stored.lines.len();
        stored.lines.retain(|(s, _)| s != sku);
        if stored.lines.len() == before {
            return Err(CartError::NotInCart(sku.to_owned()));
        }
        Ok(())
    })
}

/// Removes every line.
pub fn clear(kv: &impl Kv, scope: &Scope, id: &str, env: Env) -> Result<Cart> {
    update(kv, scope, id, env, |stored| {
        stored.lines.clear();
        Ok(())
    })
}

/// Adds the lines of `source` to `target` (quantities capped at 1,000) and deletes `source`.
/// A retried merge (the target already records `source`) only finishes the delete.
pub fn merge(kv: &impl Kv, scope: &Scope, target: &str, source: &str, env: Env) -> Result<Cart> {
    check_scope(scope)?;
    if !valid_id(target) || !valid_id(source) || target == source {
        return Err(CartError::MalformedCartId);
    }
    let source_key = keys::cart(&scope.region, &scope.storefront, source);
    let source_lines = match read(kv, &source_key, env)? {
        Some((_, stored)) => Some(stored.lines),
        None => None,
    };
    let merged = update(kv, scope, target, env, |stored| {
        if stored.merged.iter().any(|m| m == source) {
            return Ok(());
        }
        let Some(lines) = &source_lines else {
            return Err(CartError::UnknownCart);
        };
        for (sku, quantity) in lines {
            add_units(stored, sku, *quantity, true)?;
        }
        stored.merged.push(source.to_owned());
        // Only the most recent merges matter for retries.
        if stored.merged.len() > 8 {
            stored.merged.remove(0);
        }
        Ok(())
    })?;
    kv.delete(&source_key).map_err(store_failed)?;
    Ok(merged)
}

#[cfg(test)]
mod tests;
