//! The rules for the text the engine stores: names and descriptions.
//!
//! Each rule is written once here and used both by the mutations and by
//! the loader, so a snapshot holds exactly the strings the mutations
//! accept. The character data (general categories, normalization, scripts
//! and confusables) comes from the `unicode-properties`,
//! `unicode-normalization` and `unicode-security` crates.
//!
//! # Names
//!
//! A name ([`Name`](crate::Name): an organization's, role's, permission's
//! or account's name, an object key, an e-mail, a token label) is
//! accepted when:
//!
//! 1. it is 1 to [`MAX_NAME_LEN`](crate::MAX_NAME_LEN) bytes of UTF-8;
//! 2. it holds no character of general category *Other* — control (`Cc`),
//!    format (`Cf`: bidirectional overrides and isolates, zero-width
//!    spaces and joiners, the byte-order mark, the soft hyphen),
//!    private-use (`Co`) or unassigned (`Cn`) — and no other
//!    default-ignorable (invisible) code point (variation selectors, the
//!    combining grapheme joiner, Hangul fillers);
//! 3. its only white space is the plain space U+0020, never at either end
//!    and never two in a row;
//! 4. it is in Unicode normalization form NFKC (so no full-width letters,
//!    ligatures, compatibility spaces or decomposed accents);
//! 5. it does not start with a combining mark, nor hold the same
//!    nonspacing mark twice in a row;
//! 6. it does not mix scripts with look-alike letters: when its letters
//!    are of more than one script (UTS #39 augmented script sets, so that
//!    Han, Hiragana and Katakana count as one Japanese writing), no
//!    script may be present only through letters that UTS #39 lists as
//!    confusable with a letter of another script (`Utility Х` with a
//!    Cyrillic `Х` is refused; `Acme Россия` is accepted).
//!
//! A name that breaks a rule is refused, never rewritten: normalizing
//! would store another string than the caller gave, and two callers could
//! then find their different inputs naming one record.
//!
//! # Descriptions
//!
//! A description (a role's) is at most [`MAX_DESCRIPTION_LEN`] bytes,
//! may be empty, and follows rule 2 and the first part of rule 3: no
//! control, format, private-use, unassigned or invisible character, and
//! no white space but the plain space (so no line breaks or tabs).

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{
    GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory,
};
use unicode_security::mixed_script::AugmentedScriptSet;

use crate::error::NameError;

/// Maximum length of a role's description, in bytes.
///
/// A description may be empty; it holds no control, format, private-use,
/// unassigned or invisible character, and no white space but the plain
/// space (so no line breaks or tabs). The rule holds for the
/// descriptions of a schema's default roles too, and when a snapshot is
/// loaded.
pub const MAX_DESCRIPTION_LEN: usize = 4096;

/// Validates `s` as a name (see the [module docs](self)); `what` names
/// the kind of string in the error.
pub(crate) fn validate_name(
    what: &'static str,
    s: &str,
    max: usize,
) -> Result<(), NameError> {
    if s.is_empty() {
        return Err(NameError::empty(what));
    }
    if s.len() > max {
        return Err(NameError::too_long(what, s, max));
    }
    check_chars(what, s)?;
    if s.starts_with(' ') || s.ends_with(' ') {
        return Err(NameError::invalid(
            what,
            s,
            "leading or trailing white space",
        ));
    }
    if s.contains("  ") {
        return Err(NameError::invalid(what, s, "two spaces in a row"));
    }
    if s.is_ascii() {
        return Ok(());
    }
    if !unicode_normalization::is_nfkc(s) {
        return Err(NameError::invalid(
            what,
            s,
            "not in Unicode normalization form NFKC",
        ));
    }
    if let Some(reason) = mark_problem(s) {
        return Err(NameError::invalid(what, s, reason));
    }
    if mixes_confusable_scripts(s) {
        return Err(NameError::invalid(
            what,
            s,
            "mixes scripts with look-alike letters",
        ));
    }
    Ok(())
}

/// Validates `s` as a description (see the [module docs](self)).
pub(crate) fn validate_description(s: &str) -> Result<(), NameError> {
    if s.len() > MAX_DESCRIPTION_LEN {
        return Err(NameError::too_long(
            "description",
            s,
            MAX_DESCRIPTION_LEN,
        ));
    }
    check_chars("description", s)
}

/// The confusable skeleton of `name` (UTS #39): two names with the same
/// skeleton look alike (`Team 1`, `Team l` and `Team I`; `Modern` and
/// `Modem`).
pub(crate) fn skeleton(name: &str) -> Box<str> {
    unicode_security::skeleton(name).collect::<String>().into_boxed_str()
}

/// Rule 2 and the first part of rule 3: every character is allowed.
fn check_chars(what: &'static str, s: &str) -> Result<(), NameError> {
    match s.chars().find_map(char_problem) {
        Some(reason) => Err(NameError::invalid(what, s, reason)),
        None => Ok(()),
    }
}

/// Why the character `c` is never allowed, if it is not.
fn char_problem(c: char) -> Option<&'static str> {
    if c.is_ascii() {
        return c.is_ascii_control().then_some("control character");
    }
    match c.general_category() {
        GeneralCategory::Control => Some("control character"),
        GeneralCategory::Format => {
            Some("invisible formatting or bidirectional control character")
        }
        GeneralCategory::PrivateUse => Some("private-use character"),
        GeneralCategory::Unassigned | GeneralCategory::Surrogate => {
            Some("unassigned character")
        }
        GeneralCategory::SpaceSeparator
        | GeneralCategory::LineSeparator
        | GeneralCategory::ParagraphSeparator => {
            Some("white space other than a plain space")
        }
        _ if is_default_ignorable(c) => Some("invisible character"),
        _ => None,
    }
}

/// Whether `c` is a default-ignorable code point: the UTS #39 skeleton
/// drops exactly those (and every other character maps to at least one).
fn is_default_ignorable(c: char) -> bool {
    let mut buf = [0; 4];
    let empty =
        unicode_security::skeleton(c.encode_utf8(&mut buf)).next().is_none();
    empty
}

/// Rule 5: a leading combining mark, or one nonspacing mark twice in a
/// row (once decomposed), which would draw as one.
fn mark_problem(s: &str) -> Option<&'static str> {
    let first = s.chars().next()?;
    if first.general_category_group() == GeneralCategoryGroup::Mark {
        return Some("starts with a combining mark");
    }
    let mut prev = None;
    for c in s.nfd() {
        let mark = c.general_category() == GeneralCategory::NonspacingMark;
        if mark && prev == Some(c) {
            return Some("the same combining mark twice in a row");
        }
        prev = Some(c);
    }
    None
}

/// Rule 6: whether `s` mixes scripts, one of them present only through
/// letters confusable with another script's.
///
/// The letters are grouped by their augmented script set (characters
/// common to all scripts, such as digits, punctuation and combining marks,
/// are left out). A group is suspect when all its letters are potential
/// mixed-script confusables, unless it shares a script with a group that
/// is not (Hiragana `へ` beside Han, both Japanese).
fn mixes_confusable_scripts(s: &str) -> bool {
    if !AugmentedScriptSet::for_str(s).is_empty() {
        return false;
    }
    let mut groups: smallvec::SmallVec<[(AugmentedScriptSet, bool); 4]> =
        smallvec::SmallVec::new();
    for c in s.chars() {
        let set = AugmentedScriptSet::for_char(c);
        if set.is_all() {
            continue;
        }
        let confusable =
            unicode_security::is_potential_mixed_script_confusable_char(c);
        match groups.iter_mut().find(|(g, _)| *g == set) {
            Some((_, all)) => *all &= confusable,
            None => groups.push((set, confusable)),
        }
    }
    groups.iter().any(|(set, suspect)| {
        *suspect
            && !groups.iter().any(|(other, other_suspect)| {
                let mut shared = *other;
                shared.intersect_with(*set);
                !*other_suspect && !shared.is_empty()
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(s: &str) -> Option<String> {
        validate_name("name", s, crate::MAX_NAME_LEN)
            .err()
            .map(|e| e.to_string())
    }

    #[test]
    fn plain_names_pass() {
        for s in [
            "a",
            "Utility X",
            "ann@a.example",
            "Read all",
            "DEFAULT User role 7",
            "Acme Россия",
            "東京へ",
            "東京ガス Tokyo",
            "Ελλάδα",
            "Δ meter",
            "Müller & Söhne",
            "São Paulo",
            "🔑 keys",
            "Z̧ebra",
        ] {
            assert_eq!(reason(s), None, "{s}");
        }
    }

    #[test]
    fn each_rule_refuses_with_its_reason() {
        let cases = [
            ("tab\there", "control character"),
            ("nul\0", "control character"),
            ("esc\u{1b}[31m", "control character"),
            ("next\u{85}line", "control character"),
            ("admin\u{202e}nimda", "bidirectional control"),
            ("ad\u{2066}min", "bidirectional control"),
            ("ad\u{200b}min", "invisible formatting"),
            ("ad\u{200d}min", "invisible formatting"),
            ("\u{feff}admin", "invisible formatting"),
            ("ad\u{ad}min", "invisible formatting"),
            ("ad\u{e000}min", "private-use"),
            ("ad\u{378}min", "unassigned"),
            ("ad\u{2028}min", "white space other than a plain space"),
            ("ad\u{1680}min", "white space other than a plain space"),
            ("ad\u{a0}min", "white space other than a plain space"),
            ("admin\u{fe0f}", "invisible character"),
            ("ad\u{34f}min", "invisible character"),
            ("\u{115f}", "invisible character"),
            (" x", "leading or trailing white space"),
            ("x ", "leading or trailing white space"),
            ("a  b", "two spaces in a row"),
            ("\u{ff21}dmin", "NFKC"),
            ("\u{fb01}le", "NFKC"),
            ("Cafe\u{301}", "NFKC"),
            ("\u{212a}im", "NFKC"),
            ("\u{301}x", "starts with a combining mark"),
            ("Z\u{327}\u{327}", "the same combining mark twice"),
            ("\u{410}cme", "look-alike"),
            ("Utility \u{425}", "look-alike"),
            ("p\u{430}ypal", "look-alike"),
            ("\u{3b1}-site", "look-alike"),
        ];
        for (s, why) in cases {
            let got = reason(s).unwrap_or_else(|| panic!("{s:?} passed"));
            assert!(got.contains(why), "{s:?}: {got}");
            assert!(!got.contains(|c: char| c.is_control()), "{got}");
        }
    }

    /// The default-ignorable code points outside `Cf` and `Cn` that the
    /// skeleton finds (Unicode's `DerivedCoreProperties.txt`).
    #[test]
    fn default_ignorables_outside_format_are_found() {
        let listed = [
            0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D,
            0x180F, 0x3164, 0xFE00, 0xFE0F, 0xFFA0, 0xE0100, 0xE01EF,
        ];
        for c in listed.iter().filter_map(|c| char::from_u32(*c)) {
            assert!(is_default_ignorable(c), "{:04X}", u32::from(c));
        }
        for c in ['a', ' ', '\u{301}', '東', '\u{1f511}'] {
            assert!(!is_default_ignorable(c), "{c:?}");
        }
    }

    #[test]
    fn descriptions() {
        assert!(validate_description("").is_ok());
        assert!(validate_description("Reads every site; ½ price").is_ok());
        let longest = "x".repeat(MAX_DESCRIPTION_LEN);
        assert!(validate_description(&longest).is_ok());
        let e = validate_description(&format!("{longest}x")).unwrap_err();
        assert!(e.to_string().contains("longer than 4096 bytes"), "{e}");
        for s in ["a\0b", "red \u{1b}[31m", "two\nlines", "\u{202e}x"] {
            assert!(validate_description(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn skeletons_equate_look_alikes() {
        assert_eq!(skeleton("Team 1"), skeleton("Team l"));
        assert_eq!(skeleton("Team I"), skeleton("Team l"));
        assert_eq!(skeleton("Modem"), skeleton("Modern"));
        assert_ne!(skeleton("Org A"), skeleton("Org B"));
        assert_ne!(skeleton("ACME"), skeleton("acme"));
    }
}
