//! Read-only API tokens.
//!
//! A token acts as its user, capped to non-administrative actions whose
//! share threshold is `Read` or below, and only inside its scope (an object
//! and everything under it), if it has one. The secret is generated from
//! the operating system's random source, returned once, and stored only as
//! a SHA-256 hash; verification compares hashes in constant time.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::Timestamp;
use crate::id::{Name, ObjectId, TokenId, UserId};

/// The prefix of every secret: `acc_<token index>_<64 hex digits>`.
const PREFIX: &str = "acc_";

/// A token record. It never holds the secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Token {
    pub(crate) user: UserId,
    pub(crate) scope: Option<ObjectId>,
    pub(crate) label: Name,
    pub(crate) expires: Option<Timestamp>,
    /// SHA-256 of the secret, hex.
    pub(crate) hash: String,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("user", &self.user)
            .field("scope", &self.scope)
            .field("label", &self.label)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

impl Token {
    /// The user the token acts as.
    #[must_use]
    pub fn user(&self) -> UserId {
        self.user
    }
    /// The object under which the token works, if scoped.
    #[must_use]
    pub fn scope(&self) -> Option<ObjectId> {
        self.scope
    }
    /// The token's label.
    #[must_use]
    pub fn label(&self) -> &str {
        self.label.as_str()
    }
    /// When the token stops working, if ever.
    #[must_use]
    pub fn expires(&self) -> Option<Timestamp> {
        self.expires
    }
}

/// A freshly issued secret. Shown once: the engine keeps only its hash.
/// Its `Debug` output hides the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret, to hand to the token's holder.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Generates the secret of token `id` from the OS random source.
pub(crate) fn generate(id: TokenId) -> Option<Secret> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    let mut s = format!("{PREFIX}{}_", id.as_usize());
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    Some(Secret(s))
}

/// The stored form of a secret.
pub(crate) fn hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `s` is a stored hash: 64 lower-case hex digits, as [`hash`]
/// writes them (any other string never matches a secret's hash).
pub(crate) fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The token index a secret claims, if it is well-formed.
pub(crate) fn claimed_id(secret: &str) -> Option<TokenId> {
    let rest = secret.strip_prefix(PREFIX)?;
    let (id, hex) = rest.split_once('_')?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    TokenId::new(id.parse::<usize>().ok()?).ok()
}

/// Compares two strings in time independent of where they differ (their
/// lengths, here always 64 hex digits, are not secret).
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_parse() {
        let id = TokenId::new(42).unwrap();
        let a = generate(id).unwrap();
        let b = generate(id).unwrap();
        assert_ne!(a, b);
        assert_eq!(claimed_id(a.expose()), Some(id));
        assert_eq!(format!("{a:?}"), "Secret(…)");
        assert!(!format!("{a:?}").contains(a.expose()));
        assert_eq!(hash(a.expose()).len(), 64);
        assert!(is_hash(&hash(a.expose())));
        assert!(!is_hash(&hash(a.expose()).to_uppercase()));
        assert!(!is_hash(&"0".repeat(63)));
        assert_ne!(hash(a.expose()), hash(b.expose()));
    }

    #[test]
    fn malformed_secrets_claim_nothing() {
        for s in ["", "acc_", "acc_1", "acc_1_zz", "xyz_1_00", "acc_x_00"] {
            assert_eq!(claimed_id(s), None, "{s}");
        }
        let long = format!("acc_{}_{}", usize::MAX, "0".repeat(64));
        assert_eq!(claimed_id(&long), None);
    }

    #[test]
    fn comparison() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
