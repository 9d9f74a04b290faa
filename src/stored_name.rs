//! Role and permission names, stored compactly when they follow a pattern
//! the engine itself generates.
//!
//! Every user of an engine with personal roles gets a role named
//! `DEFAULT User role 7` and permissions named `DEFAULT Read Self User 7`
//! and `DEFAULT Read User Role 7`. At half a million users those strings
//! took about 64 MB of small allocations. A [`StoredName`] keeps any name
//! of the form *known prefix + decimal number* as the prefix's index and
//! the number, in the 16 bytes a boxed string would take, and gives the
//! same text back. It is only a representation: any name, whoever gave
//! it, is stored this way when it has that form, and reads back exactly
//! as given.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::id::Name;

/// The prefixes stored as an index: those of a personal role and its
/// permissions.
const PREFIXES: [&str; 3] = [
    "DEFAULT User role ",
    "DEFAULT Read Self User ",
    "DEFAULT Read User Role ",
];

/// The longest name a numbered form displays as: the longest prefix and
/// ten digits.
const NUMBERED_MAX: usize = 23 + 10;

/// A validated name, stored compactly when it is a known prefix followed
/// by a number written the usual way (no sign, no leading zero).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum StoredName {
    /// Any other name.
    Given(Name),
    /// `PREFIXES[prefix]` followed by `number` in decimal.
    Numbered { prefix: u8, number: u32 },
}

impl StoredName {
    /// The name as given, as text.
    pub(crate) fn to_str(&self) -> Cow<'_, str> {
        match self {
            StoredName::Given(n) => Cow::Borrowed(n.as_str()),
            StoredName::Numbered { .. } => Cow::Owned(self.to_string()),
        }
    }

    /// Calls `f` with the name as text, without allocating.
    pub(crate) fn with_str<T>(&self, f: impl FnOnce(&str) -> T) -> T {
        match self {
            StoredName::Given(n) => f(n.as_str()),
            StoredName::Numbered { .. } => {
                let mut buf = StackText { bytes: [0; NUMBERED_MAX], len: 0 };
                // A numbered name always fits; should it not, the text
                // is cut short, which no valid name matches.
                let _ = fmt::write(&mut buf, format_args!("{self}"));
                f(buf.as_str())
            }
        }
    }
}

impl From<Name> for StoredName {
    fn from(name: Name) -> StoredName {
        let s = name.as_str();
        for (i, prefix) in PREFIXES.iter().enumerate() {
            let Some(digits) = s.strip_prefix(prefix) else { continue };
            let canonical = digits.bytes().all(|b| b.is_ascii_digit())
                && (digits == "0" || !digits.starts_with('0'));
            if let (true, Ok(number), Ok(prefix)) =
                (canonical, digits.parse::<u32>(), u8::try_from(i))
            {
                return StoredName::Numbered { prefix, number };
            }
        }
        StoredName::Given(name)
    }
}

impl fmt::Display for StoredName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoredName::Given(n) => f.write_str(n.as_str()),
            StoredName::Numbered { prefix, number } => {
                let prefix = PREFIXES.get(usize::from(*prefix));
                write!(f, "{}{number}", prefix.unwrap_or(&""))
            }
        }
    }
}

/// Written as the name's text.
impl Serialize for StoredName {
    fn serialize<S: serde::Serializer>(
        &self,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Read as a [`Name`] (validated), then stored compactly if it can be.
impl<'de> Deserialize<'de> for StoredName {
    fn deserialize<D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<StoredName, D::Error> {
        Name::deserialize(d).map(StoredName::from)
    }
}

/// A short text written in place.
struct StackText {
    bytes: [u8; NUMBERED_MAX],
    len: usize,
}

impl StackText {
    fn as_str(&self) -> &str {
        let bytes = self.bytes.get(..self.len).unwrap_or(&[]);
        std::str::from_utf8(bytes).unwrap_or("")
    }
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(s: &str) -> StoredName {
        StoredName::from(Name::new(s).unwrap())
    }

    /// Every name reads back exactly as given, numbered or not.
    #[test]
    fn names_read_back_as_given() {
        let names = [
            "DEFAULT User role 0",
            "DEFAULT User role 7",
            "DEFAULT User role 4294967295",
            "DEFAULT User role 4294967296",
            "DEFAULT User role 07",
            "DEFAULT User role +7",
            "DEFAULT User role 7 ",
            "DEFAULT User role 7x",
            "DEFAULT User role",
            "DEFAULT Read Self User 12",
            "DEFAULT Read User Role 3",
            "DEFAULT read user role 3",
            "Read all",
            "DEFAULT User role ٣",
        ];
        for s in names.iter().filter(|s| Name::new(s).is_ok()) {
            let n = stored(s);
            assert_eq!(n.to_str(), *s);
            assert_eq!(n.to_string(), *s);
            assert!(n.with_str(|t| t == *s), "{s}");
            assert!(!n.with_str(|t| t == format!("{s}1")));
            let json = serde_json::to_string(&n).unwrap();
            assert_eq!(json, serde_json::to_string(s).unwrap());
            let back: StoredName = serde_json::from_str(&json).unwrap();
            assert_eq!(back, n);
        }
        assert!(matches!(
            stored("DEFAULT User role 4294967295"),
            StoredName::Numbered { prefix: 0, number: u32::MAX }
        ));
        assert!(matches!(
            stored("DEFAULT Read User Role 3"),
            StoredName::Numbered { prefix: 2, number: 3 }
        ));
        for s in ["DEFAULT User role 07", "DEFAULT User role 4294967296"] {
            assert!(matches!(stored(s), StoredName::Given(_)), "{s}");
        }
    }

    /// A numbered name takes no more room than a boxed string.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_stored_name_is_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<StoredName>(), 16);
    }

    /// The longest numbered name fits the buffer `with_str` writes to.
    #[test]
    fn the_longest_numbered_name_fits() {
        let longest = PREFIXES.iter().map(|p| p.len()).max().unwrap_or(0);
        assert_eq!(longest + u32::MAX.to_string().len(), NUMBERED_MAX);
    }
}
