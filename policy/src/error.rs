//! The one error type of this crate: [`PolicyError`], which says where in
//! which file, in which entry, and why.

use std::ops::Range;

/// What kind of problem a [`PolicyError`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PolicyErrorKind {
    /// The file could not be read.
    Io,
    /// The text is not a well-formed file of this format: bad TOML, a
    /// wrong type, an unknown or missing field.
    Syntax,
    /// The format version is not the one this crate reads.
    Version,
    /// The schema or config is invalid.
    Schema,
    /// A name (organization, e-mail, `type:key`, role) refers to nothing.
    Reference,
    /// The engine refused a seed entry; [`PolicyError::code`] is its
    /// refusal code.
    Refused,
    /// An export cannot be written.
    Export,
}

/// A policy or test file could not be read, parsed or loaded.
///
/// Displayed as `file:line:column: entry: message`, each part present when
/// known, for example
/// `policy.toml:41:1: grants[2]: cannot share administrative role
/// `Administer data access controls` outside its organization`.
///
/// The error is one pointer, cheap to move.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError(Box<Inner>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Inner {
    kind: PolicyErrorKind,
    message: String,
    entry: Option<String>,
    span: Option<Range<usize>>,
    origin: Option<String>,
    position: Option<(usize, usize)>,
    code: Option<&'static str>,
}

impl std::error::Error for PolicyError {}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(origin) = &self.0.origin {
            write!(f, "{origin}:")?;
        }
        if let Some((line, column)) = self.0.position {
            write!(f, "{line}:{column}:")?;
        }
        if self.0.origin.is_some() || self.0.position.is_some() {
            f.write_str(" ")?;
        }
        if let Some(entry) = &self.0.entry {
            write!(f, "{entry}: ")?;
        }
        f.write_str(&self.0.message)
    }
}

impl PolicyError {
    #[cold]
    pub(crate) fn new(
        kind: PolicyErrorKind,
        message: impl Into<String>,
    ) -> PolicyError {
        PolicyError(Box::new(Inner {
            kind,
            message: one_line(&message.into()),
            entry: None,
            span: None,
            origin: None,
            position: None,
            code: None,
        }))
    }

    #[cold]
    pub(crate) fn refused(e: &accord::MutationError) -> PolicyError {
        let mut err =
            PolicyError::new(PolicyErrorKind::Refused, e.to_string());
        err.0.code = Some(e.code());
        err
    }

    #[cold]
    pub(crate) fn reference(message: impl Into<String>) -> PolicyError {
        PolicyError::new(PolicyErrorKind::Reference, message)
    }

    /// The error from parsing TOML text.
    #[cold]
    pub(crate) fn syntax(e: &toml::de::Error) -> PolicyError {
        let mut err = PolicyError::new(PolicyErrorKind::Syntax, e.message());
        err.0.span = e.span();
        err
    }

    /// Names the entry the error is about (`grants[2]`), unless named.
    #[must_use]
    pub(crate) fn in_entry(mut self, entry: impl Into<String>) -> Self {
        if self.0.entry.is_none() {
            self.0.entry = Some(entry.into());
        }
        self
    }

    /// Places the error at a byte range of the source, unless placed. An
    /// empty range (an entry built in memory) places nothing.
    #[must_use]
    pub(crate) fn at(mut self, span: Range<usize>) -> Self {
        if self.0.span.is_none() && span.end > span.start {
            self.0.span = Some(span);
        }
        self
    }

    /// Turns the byte range into a line and column of `text`, and names
    /// the file, for display.
    #[must_use]
    pub fn locate(mut self, origin: Option<&str>, text: &str) -> Self {
        if let Some(span) = &self.0.span {
            self.0.position = Some(line_column(text, span.start));
        }
        if let Some(o) = origin {
            self.0.origin = Some(o.to_owned());
        }
        self
    }

    /// What kind of problem this is.
    #[must_use]
    pub fn kind(&self) -> PolicyErrorKind {
        self.0.kind
    }

    /// The message alone, without file, position or entry.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The entry the error is about, like `grants[2]` or `schema.types[0]`.
    #[must_use]
    pub fn entry(&self) -> Option<&str> {
        self.0.entry.as_deref()
    }

    /// The line (from 1), once [`PolicyError::locate`]d.
    #[must_use]
    pub fn line(&self) -> Option<usize> {
        self.0.position.map(|(l, _)| l)
    }

    /// The column (from 1, in characters), once located.
    #[must_use]
    pub fn column(&self) -> Option<usize> {
        self.0.position.map(|(_, c)| c)
    }

    /// The byte range in the source, when known.
    #[must_use]
    pub fn span(&self) -> Option<Range<usize>> {
        self.0.span.clone()
    }

    /// The engine's refusal code ([`accord::MutationError::code`]) when
    /// the engine refused a seed entry.
    #[must_use]
    pub fn code(&self) -> Option<&'static str> {
        self.0.code
    }

    /// The file, once located.
    #[must_use]
    pub fn origin(&self) -> Option<&str> {
        self.0.origin.as_deref()
    }
}

/// The 1-based line and column (in characters) of byte `offset`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    let before = text.get(..end).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// `s` with line breaks and other control characters escaped, so that a
/// message stays on one line.
pub(crate) fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.trim_end().chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        assert_eq!(line_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("é\nx", 3), (2, 1));
        assert_eq!(line_column("abc", 99), (1, 4));
    }

    #[test]
    fn display() {
        let e = PolicyError::reference("unknown organization `X`")
            .in_entry("users[0]")
            .at(3..5)
            .locate(Some("p.toml"), "ab\ncdef");
        assert_eq!(
            e.to_string(),
            "p.toml:2:1: users[0]: unknown organization `X`"
        );
        let bare = PolicyError::reference("x").in_entry("a").in_entry("b");
        assert_eq!(bare.to_string(), "a: x");
    }
}
