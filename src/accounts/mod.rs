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

    /// The first field that account mutations would not have stored,
    /// and why: a time zone that [`is_time_zone`] refuses, a language
    /// that [`is_language`] refuses, or a password hash that
    /// [`password_hash_problem`] refuses. (The display name is a
    /// [`Name`], validated as it is read.)
    pub(crate) fn problem(&self) -> Option<(&'static str, String)> {
        use crate::error::excerpt;
        if !is_time_zone(&self.time_zone) {
            let zone = excerpt(&self.time_zone);
            return Some((
                "time_zone",
                format!("`{zone}` is not an IANA time zone"),
            ));
        }
        if !is_language(&self.language) {
            let tag = excerpt(&self.language);
            return Some((
                "language",
                format!("`{tag}` is not a language tag"),
            ));
        }
        let hash = self.password.as_deref();
        if let Some(why) = hash.and_then(password_hash_problem) {
            return Some(("password", why.to_owned()));
        }
        None
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

/// Largest memory cost of a stored hash, in KiB: 2 GiB, the first
/// setting RFC 9106 recommends (the engine hashes with 19 MiB). A larger
/// one would make every check of the password allocate that much.
const MAX_M_COST: u32 = 2 * 1024 * 1024;
/// Largest number of passes of a stored hash (the engine makes 2).
const MAX_T_COST: u32 = 16;
/// Largest number of lanes of a stored hash (the engine uses 1).
const MAX_P_COST: u32 = 16;
/// Shortest salt of a stored hash, in bytes (Argon2's minimum; the
/// engine's salts have 16).
const MIN_SALT_LEN: usize = 8;

/// Why `phc` is not a password hash an account may hold, if it is not.
///
/// An account's password is stored as the engine writes it: an Argon2id
/// PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) of version 19,
/// whose only parameters are the costs `m` (memory, in KiB, from 8 per
/// lane up to 2 GiB), `t` (passes, 1 to 16) and `p` (lanes, 1 to 16),
/// with a salt of at least 8 bytes and an output of 10 to 64 bytes.
/// Anything else could never verify a password, or would make verifying
/// one cost without bound. The rule is the same in every build, with or
/// without the `accounts` feature.
#[must_use]
pub fn password_hash_problem(phc: &str) -> Option<&'static str> {
    let Ok(h) = password_hash::PasswordHash::new(phc) else {
        return Some("not a PHC string");
    };
    if h.algorithm.as_str() != "argon2id" {
        return Some("not an Argon2id hash");
    }
    if h.version != Some(0x13) {
        return Some("not of Argon2 version 19");
    }
    let (mut m, mut t, mut p) = (None, None, None);
    for (ident, value) in h.params.iter() {
        let slot = match ident.as_str() {
            "m" => &mut m,
            "t" => &mut t,
            "p" => &mut p,
            _ => return Some("parameters other than m, t and p"),
        };
        *slot = value.decimal().ok();
    }
    let (Some(m), Some(t), Some(p)) = (m, t, p) else {
        return Some("cost parameters m, t and p missing or not decimal");
    };
    let costs_ok = (1..=MAX_P_COST).contains(&p)
        && (1..=MAX_T_COST).contains(&t)
        && (8 * p..=MAX_M_COST).contains(&m);
    if !costs_ok {
        return Some("cost parameters out of range");
    }
    let mut buf = [0u8; 64];
    let salt_ok = h.salt.is_some_and(|s| {
        s.decode_b64(&mut buf).is_ok_and(|b| b.len() >= MIN_SALT_LEN)
    });
    if !salt_ok {
        return Some("salt missing or shorter than 8 bytes");
    }
    if h.hash.is_none() {
        return Some("hash output missing");
    }
    None
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
        assert_eq!(password_hash_problem(&h), None);
    }

    /// Every hash [`password_hash_problem`] accepts, up to its bounds,
    /// has parameters Argon2 takes.
    #[cfg(feature = "accounts")]
    #[test]
    fn accepted_hashes_are_argon2s() {
        let out = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        for (params, salt) in [
            ("m=19456,t=2,p=1", "c2FsdHNhbHRzYWx0c2FsdA"),
            ("m=8,t=1,p=1", "c2FsdHNhbHQ"),
            ("m=128,t=1,p=16", "c2FsdHNhbHQ"),
            ("m=2097152,t=16,p=16", "c2FsdHNhbHQ"),
        ] {
            let phc = format!("$argon2id$v=19${params}${salt}${out}");
            assert_eq!(password_hash_problem(&phc), None, "{phc}");
            let h = password_hash::PasswordHash::new(&phc).unwrap();
            assert!(argon2::Params::try_from(&h).is_ok(), "{phc}");
            let mut buf = [0u8; 64];
            let salt = h.salt.unwrap().decode_b64(&mut buf).unwrap();
            assert!(salt.len() >= argon2::MIN_SALT_LEN, "{phc}");
        }
    }

    #[test]
    fn stored_hashes() {
        let salt = "c2FsdHNhbHRzYWx0c2FsdA";
        let out = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let phc = |alg: &str, params: &str| {
            format!("${alg}$v=19${params}${salt}${out}")
        };
        let good = phc("argon2id", "m=19456,t=2,p=1");
        assert_eq!(password_hash_problem(&good), None);
        for (bad, why) in [
            (String::new(), "PHC"),
            ("hunter2".to_owned(), "PHC"),
            (good.to_uppercase(), "PHC"),
            (phc("argon2i", "m=19456,t=2,p=1"), "Argon2id"),
            (phc("pbkdf2-sha256", "i=1000"), "Argon2id"),
            (good.replace("v=19", "v=16"), "version 19"),
            (phc("argon2id", "m=19456,t=2,p=1,keyid=AAAA"), "other than"),
            (phc("argon2id", "m=19456,t=2"), "missing"),
            (phc("argon2id", "m=4294967295,t=2,p=1"), "out of range"),
            (phc("argon2id", "m=19456,t=0,p=1"), "out of range"),
            (phc("argon2id", "m=19456,t=2,p=0"), "out of range"),
            (phc("argon2id", "m=15,t=2,p=2"), "out of range"),
            (good.replace(salt, "c2FsdA"), "salt"),
            (good.replacen(&format!("${out}"), "", 1), "output"),
        ] {
            let got = password_hash_problem(&bad);
            assert!(got.is_some_and(|g| g.contains(why)), "{bad}: {got:?}");
        }
    }
}
