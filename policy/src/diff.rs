//! What differs between two policy files: types, actions, default roles,
//! config settings and every kind of seed entry, added, removed or
//! changed, each entry identified by its names (an object by `type:key`,
//! a grant by user, role and organization).
//!
//! # Example
//!
//! ```
//! use accord_policy::diff::{diff, ChangeKind};
//!
//! let a = accord_policy::parse("version = 1\n[schema]\ntypes = [\"site\"]\n")?;
//! let b = accord_policy::parse(
//!     "version = 1\n[schema]\ntypes = [\"site\", \"meter\"]\n\
//!      [config]\nrequire_terms = true\n",
//! )?;
//! let changes = diff(&a, &b);
//! assert_eq!(changes.len(), 2);
//! assert_eq!(changes[0].kind, ChangeKind::Added);
//! assert_eq!(changes[0].to_string(), "+ type `meter`");
//! assert_eq!(changes[1].to_string(), "~ config `require_terms`: `false` → `true`");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::file::{PolicyFile, Spanned};

/// Whether an entry was added, removed or changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Only in the second file.
    Added,
    /// Only in the first file.
    Removed,
    /// In both, with different settings.
    Changed,
}

/// One difference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Added, removed or changed.
    pub kind: ChangeKind,
    /// What kind of entry: `type`, `action`, `default role`, `config`,
    /// `organization`, `user`, `object`, `role`, `permission`, `grant`,
    /// `connection`, `share`, `transfer`.
    pub what: &'static str,
    /// The entry's names.
    pub name: String,
    /// For a change, each differing field as ``field: `old` → `new` ``.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = match self.kind {
            ChangeKind::Added => '+',
            ChangeKind::Removed => '-',
            ChangeKind::Changed => '~',
        };
        write!(f, "{sign} {} `{}`", self.what, self.name)?;
        if !self.fields.is_empty() {
            write!(f, ": {}", self.fields.join(", "))?;
        }
        Ok(())
    }
}

fn value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{s}`"),
        Value::Null => "nothing".to_owned(),
        other => format!("`{other}`"),
    }
}

/// The fields in which two entries differ.
fn fields(a: &Value, b: &Value) -> Vec<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter_map(|k| {
                    let (old, new) = (
                        x.get(k).unwrap_or(&Value::Null),
                        y.get(k).unwrap_or(&Value::Null),
                    );
                    (old != new)
                        .then(|| format!("{k}: {} → {}", show(old), show(new)))
                })
                .collect()
        }
        _ => vec![format!("{} → {}", show(a), show(b))],
    }
}

/// Compares one section, its entries keyed by `key`.
fn section<T: Serialize>(
    out: &mut Vec<Change>,
    what: &'static str,
    a: &[Spanned<T>],
    b: &[Spanned<T>],
    key: impl Fn(&T) -> String,
) {
    let map = |s: &[Spanned<T>]| -> BTreeMap<String, Value> {
        s.iter().map(|e| (key(e.get_ref()), value(e.get_ref()))).collect()
    };
    let (old, new) = (map(a), map(b));
    for (name, v) in &old {
        match new.get(name) {
            None => out.push(Change {
                kind: ChangeKind::Removed,
                what,
                name: name.clone(),
                fields: Vec::new(),
            }),
            Some(w) if w != v => out.push(Change {
                kind: ChangeKind::Changed,
                what,
                name: name.clone(),
                fields: fields(v, w),
            }),
            Some(_) => {}
        }
    }
    for name in new.keys().filter(|n| !old.contains_key(*n)) {
        out.push(Change {
            kind: ChangeKind::Added,
            what,
            name: name.clone(),
            fields: Vec::new(),
        });
    }
}

/// Every difference from `a` to `b`, section by section in the file's
/// order, each section's entries sorted by name.
#[must_use]
pub fn diff(a: &PolicyFile, b: &PolicyFile) -> Vec<Change> {
    let mut out = Vec::new();
    let types =
        |f: &PolicyFile| -> Vec<Spanned<String>> { f.schema.types.clone() };
    section(&mut out, "type", &types(a), &types(b), Clone::clone);
    section(&mut out, "action", &a.schema.actions, &b.schema.actions, |x| {
        x.name.clone()
    });
    section(
        &mut out,
        "default role",
        &a.schema.default_roles,
        &b.schema.default_roles,
        |x| x.name.clone(),
    );
    if a.exact != b.exact {
        out.push(Change {
            kind: ChangeKind::Changed,
            what: "setting",
            name: "exact".to_owned(),
            fields: vec![format!("`{}` → `{}`", a.exact, b.exact)],
        });
    }
    if let (Value::Object(x), Value::Object(y)) =
        (value(&a.config), value(&b.config))
    {
        for (k, old) in &x {
            let new = y.get(k).unwrap_or(&Value::Null);
            if old != new {
                let fields = match (old, new) {
                    (Value::Object(_), Value::Object(_)) => fields(old, new),
                    _ => vec![format!("{} → {}", show(old), show(new))],
                };
                out.push(Change {
                    kind: ChangeKind::Changed,
                    what: "config",
                    name: k.clone(),
                    fields,
                });
            }
        }
    }
    section(&mut out, "organization", &a.orgs, &b.orgs, |x| x.name.clone());
    section(&mut out, "user", &a.users, &b.users, |x| x.email.to_lowercase());
    section(&mut out, "object", &a.objects, &b.objects, |x| {
        format!("{}:{}", x.object_type, x.key)
    });
    section(&mut out, "role", &a.roles, &b.roles, |x| {
        format!("{}/{}", x.org, x.name)
    });
    section(&mut out, "permission", &a.permissions, &b.permissions, |x| {
        format!("{}/{}", x.org, x.name)
    });
    section(&mut out, "grant", &a.grants, &b.grants, |x| match &x.org {
        Some(org) => format!("{} → {org}/{}", x.user, x.role),
        None => format!("{} → {}", x.user, x.role),
    });
    section(&mut out, "connection", &a.connections, &b.connections, |x| {
        format!("{} → {}", x.from, x.to)
    });
    section(&mut out, "share", &a.shares, &b.shares, |x| {
        format!("{} → {}", x.root, x.to)
    });
    section(&mut out, "transfer", &a.transfers, &b.transfers, |x| {
        format!("{} → {}", x.root, x.to)
    });
    out
}
