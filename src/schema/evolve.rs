//! Schema evolution: which newer schemas an engine's state can move to.
//!
//! Handles are positions: an object type's [`TypeId`](crate::TypeId) and
//! an action's [`ActionId`](crate::ActionId) are their places in the
//! schema. A newer schema may therefore append object types and actions,
//! and add default roles, and nothing else: every type and action of the
//! older one keeps its place and its definition, and every default role
//! keeps its definition (default roles only shape organizations created
//! later, yet a changed one would make the log replay differently).

use super::Schema;

/// Why a newer schema cannot take an engine's place: the first change
/// found that is not an addition.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaChange {
    /// An object type of the older schema is missing.
    #[error("object type `{0}` removed")]
    TypeRemoved(String),
    /// An object type is at another position (its handle would change).
    #[error("object type `{name}` moved from position {from} to {to}")]
    TypeMoved {
        /// The type.
        name: String,
        /// Its position in the older schema.
        from: usize,
        /// Its position in the newer one.
        to: usize,
    },
    /// An object type's definition changed.
    #[error("object type `{0}` changed")]
    TypeChanged(String),
    /// An action of the older schema is missing.
    #[error("action `{0}` removed")]
    ActionRemoved(String),
    /// An action is at another position (its handle would change).
    #[error("action `{name}` moved from position {from} to {to}")]
    ActionMoved {
        /// The action.
        name: String,
        /// Its position in the older schema.
        from: usize,
        /// Its position in the newer one.
        to: usize,
    },
    /// An action's threshold, administrative flag or child requirements
    /// changed.
    #[error("action `{0}` changed")]
    ActionChanged(String),
    /// A default role of the older schema is missing.
    #[error("default role `{0}` removed")]
    DefaultRoleRemoved(String),
    /// A default role's description, permissions or required bindings
    /// changed.
    #[error("default role `{0}` changed")]
    DefaultRoleChanged(String),
}

impl Schema {
    /// The first change from `self` to `newer` that is not an addition,
    /// if any: `None` means an engine over `self` can run over `newer`.
    pub(crate) fn change_to(&self, newer: &Schema) -> Option<SchemaChange> {
        for (from, (name, def)) in self.types.iter().enumerate() {
            let Some((to, _, new_def)) = newer.types.get_full(name) else {
                return Some(SchemaChange::TypeRemoved(name.to_string()));
            };
            if to != from {
                return Some(SchemaChange::TypeMoved {
                    name: name.to_string(),
                    from,
                    to,
                });
            }
            if new_def != def {
                return Some(SchemaChange::TypeChanged(name.to_string()));
            }
        }
        for (from, (name, def)) in self.actions.iter().enumerate() {
            let Some((to, _, new_def)) = newer.actions.get_full(name) else {
                return Some(SchemaChange::ActionRemoved(name.to_string()));
            };
            if to != from {
                return Some(SchemaChange::ActionMoved {
                    name: name.to_string(),
                    from,
                    to,
                });
            }
            if new_def != def {
                return Some(SchemaChange::ActionChanged(name.to_string()));
            }
        }
        for role in &self.default_roles {
            let name = role.name.as_str();
            match newer.default_roles.iter().find(|r| r.name == role.name) {
                None => {
                    return Some(SchemaChange::DefaultRoleRemoved(
                        name.to_owned(),
                    ))
                }
                Some(r) if r != role => {
                    return Some(SchemaChange::DefaultRoleChanged(
                        name.to_owned(),
                    ))
                }
                Some(_) => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Threshold;

    fn base() -> crate::SchemaBuilder {
        Schema::builder()
            .object_type("site")
            .action("read_values", Threshold::Read)
            .default_role("Readers", "read sites", &[("read", "site")])
    }

    #[test]
    fn additions_are_compatible_and_everything_else_is_named() {
        let old = base().build().unwrap();
        assert_eq!(old.change_to(&old), None);
        let added = base()
            .object_type("meter")
            .action("add_bill", Threshold::Full)
            .default_role("Meters", "read meters", &[("read", "meter")])
            .build()
            .unwrap();
        assert_eq!(old.change_to(&added), None);
        assert_eq!(
            added.change_to(&old),
            Some(SchemaChange::TypeRemoved("meter".into()))
        );
        let moved = Schema::builder()
            .object_type("meter")
            .object_type("site")
            .action("read_values", Threshold::Read)
            .default_role("Readers", "read sites", &[("read", "site")])
            .build()
            .unwrap();
        assert!(matches!(
            old.change_to(&moved),
            Some(SchemaChange::TypeMoved { ref name, .. }) if name == "site"
        ));
        let changed = Schema::builder()
            .object_type("site")
            .action("read_values", Threshold::Full)
            .default_role("Readers", "read sites", &[("read", "site")])
            .build()
            .unwrap();
        assert_eq!(
            old.change_to(&changed),
            Some(SchemaChange::ActionChanged("read_values".into()))
        );
        let role_changed = Schema::builder()
            .object_type("site")
            .action("read_values", Threshold::Read)
            .default_role("Readers", "read them", &[("read", "site")])
            .build()
            .unwrap();
        assert_eq!(
            old.change_to(&role_changed),
            Some(SchemaChange::DefaultRoleChanged("Readers".into()))
        );
        let role_removed = Schema::builder()
            .object_type("site")
            .action("read_values", Threshold::Read)
            .build()
            .unwrap();
        assert_eq!(
            old.change_to(&role_removed),
            Some(SchemaChange::DefaultRoleRemoved("Readers".into()))
        );
    }
}
