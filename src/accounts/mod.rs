//! Accounts: a user's login profile — display name, time zone, language
//! and an Argon2id password hash.
//!
//! The profile record exists in every build so snapshots stay readable;
//! creating, editing and verifying accounts needs the `accounts` feature.
//! Passwords never reach the audit log: account ops record
//! [`PasswordField::Set`] with the hash redacted, so a replayed log
//! restores every account with its password unset (persist passwords with
//! a snapshot, [`Engine::to_json`](crate::Engine::to_json)).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::id::Name;

pub(crate) mod tz;

/// Minimum length of a password, in characters.
pub const MIN_PASSWORD_LEN: usize = 8;

/// An account's profile.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub(crate) name: Option<Name>,
    pub(crate) time_zone: String,
    pub(crate) language: String,
    /// Argon2id PHC string; `None` after a replay (see the module docs).
    pub(crate) password: Option<String>,
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Profile")
            .field("name", &self.name)
            .field("time_zone", &self.time_zone)
            .field("language", &self.language)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Profile {
    /// The display name.
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.name.as_ref().map(Name::as_str)
    }
    /// The IANA time zone.
    #[must_use]
    pub fn time_zone(&self) -> &str {
        &self.time_zone
    }
    /// The interface language (a BCP 47 tag such as `en` or `uz-Latn`).
    #[must_use]
    pub fn language(&self) -> &str {
        &self.language
    }
    /// Whether a password is set.
    #[must_use]
    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }
}

/// The password part of an account op, as recorded in the audit log.
#[derive(Clone, Debug, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordField {
    /// Keep the current password (an edit with a blank password).
    Keep,
    /// Set a new password; its hash is never serialized.
    Set(Redacted),
    /// The password given was refused before hashing, for this reason.
    Rejected(String),
}

impl PartialEq for PasswordField {
    fn eq(&self, other: &PasswordField) -> bool {
        match (self, other) {
            (PasswordField::Keep, PasswordField::Keep)
            | (PasswordField::Set(_), PasswordField::Set(_)) => true,
            (PasswordField::Rejected(a), PasswordField::Rejected(b)) => a == b,
            _ => false,
        }
    }
}

/// A password hash that serializes as `"<redacted>"` and deserializes as
/// absent.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Redacted(pub(crate) Option<String>);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Serialize for Redacted {
    fn serialize<S: serde::Serializer>(
        &self,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str("<redacted>")
    }
}

impl<'de> Deserialize<'de> for Redacted {
    fn deserialize<D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Self, D::Error> {
        let _ = String::deserialize(d)?;
        Ok(Redacted(None))
    }
}

/// Why a password is refused, if it is: at least [`MIN_PASSWORD_LEN`]
/// characters with at least one letter and one digit.
#[must_use]
pub fn password_problem(password: &str) -> Option<&'static str> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        Some("password must have at least 8 characters")
    } else if !password.chars().any(char::is_alphabetic) {
        Some("password must contain a letter")
    } else if !password.chars().any(|c| c.is_ascii_digit()) {
        Some("password must contain a digit")
    } else {
        None
    }
}

/// Whether `zone` is an IANA time zone name.
#[must_use]
pub fn is_time_zone(zone: &str) -> bool {
    tz::ZONES.binary_search(&zone).is_ok()
}

/// Whether `tag` looks like a BCP 47 language tag: a 2–3 letter language,
/// then subtags of 1–8 letters or digits separated by `-`.
#[must_use]
pub fn is_language(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let lang_ok = parts.next().is_some_and(|l| {
        (2..=3).contains(&l.len())
            && l.chars().all(|c| c.is_ascii_alphabetic())
    });
    lang_ok
        && parts.all(|p| {
            (1..=8).contains(&p.len())
                && p.chars().all(|c| c.is_ascii_alphanumeric())
        })
}

/// Hashes a password as an Argon2id PHC string with a random salt.
#[cfg(feature = "accounts")]
pub(crate) fn hash_password(password: &str) -> Option<String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).ok()?;
    let salt = SaltString::encode_b64(&salt).ok()?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .ok()
        .map(|h| h.to_string())
}

/// Verifies a password against a PHC string (constant-time inside argon2).
#[cfg(feature = "accounts")]
pub(crate) fn verify(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules() {
        assert!(password_problem("abcdefg1").is_none());
        assert!(password_problem("abc1").is_some());
        assert!(password_problem("abcdefgh").is_some());
        assert!(password_problem("12345678").is_some());
    }

    #[test]
    fn zones_and_languages() {
        assert!(tz::ZONES.windows(2).all(|w| matches!(w, [a, b] if a < b)));
        assert!(is_time_zone("Asia/Tashkent"));
        assert!(is_time_zone("UTC"));
        assert!(!is_time_zone("Mars/Olympus"));
        assert!(is_language("en"));
        assert!(is_language("uz-Latn"));
        assert!(!is_language("english language"));
        assert!(!is_language(""));
    }

    #[test]
    fn redaction() {
        let f = PasswordField::Set(Redacted(Some("$argon2id$secret".into())));
        let json = serde_json::to_string(&f).unwrap();
        assert!(!json.contains("secret"), "{json}");
        assert!(!format!("{f:?}").contains("secret"));
    }

    #[cfg(feature = "accounts")]
    #[test]
    fn hashing() {
        let h = hash_password("correct horse 1").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse 1", &h));
        assert!(!verify("correct horse 2", &h));
        assert!(!verify("x", "not a hash"));
    }
}
