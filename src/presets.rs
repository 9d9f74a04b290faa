//! Ready-made schemas and configs reproducing the source systems.
//!
//! Each function returns a [`Builder`]; adjust its [`Config`] with
//! [`Builder::configure`] before [`Builder::build`] if needed.
//!
//! [`Config`]: crate::Config

use crate::engine::Builder;
use crate::error::SchemaError;
use crate::schema::{Schema, Threshold};

/// The Solar Forecast Arbiter: organizations, users, roles and permissions
/// over sites, observations, forecasts, probabilistic forecasts,
/// aggregates and reports.
///
/// * Object types: `sites`, `aggregates`, `cdf_forecasts`, `forecasts`,
///   `observations`, `reports` (plus `users`, `roles`, `permissions`).
/// * Actions: `create`, `read`, `update`, `delete`, `read_values`,
///   `write_values`, `delete_values`, `grant`, `revoke`.
/// * Each new organization receives the six default roles `Read all`,
///   `Write all values`, `Create metadata`, `Delete metadata`,
///   `Update all` and `Administer data access controls`, with the
///   permissions the Arbiter gives them, all applying to all current and
///   future objects of the organization.
/// * Roles need the terms of use accepted by the grantee's organization;
///   each role created by a user can read itself; each user gets a
///   personal default role that can read the user and itself.
///
/// # Example
///
/// ```
/// use accord::{Actor, Timestamp, presets};
///
/// let mut engine = presets::arbiter().build()?;
/// let org = engine.act(Actor::System, Timestamp::default()).create_org("Utility X")?.value;
/// let names: Vec<&str> = engine.org(org).unwrap().roles()
///     .map(|r| engine.role(r).unwrap().name())
///     .collect();
/// assert_eq!(names, ["Read all", "Write all values", "Create metadata",
///     "Delete metadata", "Update all", "Administer data access controls"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub fn arbiter() -> Builder {
    Builder::from_result(arbiter_schema()).configure(|c| {
        c.require_terms = true;
        c.role_self_read = true;
        c.personal_roles = true;
    })
}

/// The schema of [`arbiter`].
///
/// # Errors
///
/// None in practice: the declarations are constant (and tested).
pub fn arbiter_schema() -> Result<Schema, SchemaError> {
    Schema::builder()
        .object_type("sites")
        .object_type("aggregates")
        .object_type("cdf_forecasts")
        .object_type("forecasts")
        .object_type("observations")
        .object_type("reports")
        .action("read_values", Threshold::Read)
        .action("write_values", Threshold::Full)
        .action("delete_values", Threshold::Full)
        .default_role_named(
            "Read all",
            "View all data and metadata",
            &[
                ("Read all sites", "read", "sites"),
                ("Read all observations", "read", "observations"),
                ("Read all observation values", "read_values", "observations"),
                ("Read all forecasts", "read", "forecasts"),
                ("Read all forecast values", "read_values", "forecasts"),
                ("Read all probabilistic forecasts", "read", "cdf_forecasts"),
                (
                    "Read all probabilistic forecast values",
                    "read_values",
                    "cdf_forecasts",
                ),
                ("Read all reports", "read", "reports"),
                ("Read all report values", "read_values", "reports"),
                ("Read all aggregates", "read", "aggregates"),
                ("Read all aggregate values", "read_values", "aggregates"),
            ],
        )
        .default_role_named(
            "Write all values",
            "Allows the user to submit data within the organization",
            &[
                (
                    "Submit values to all observations",
                    "write_values",
                    "observations",
                ),
                (
                    "Submit values to all forecasts",
                    "write_values",
                    "forecasts",
                ),
                (
                    "Submit values to all probabilistic forecasts",
                    "write_values",
                    "cdf_forecasts",
                ),
                (
                    "Submit values to all aggregates",
                    "write_values",
                    "aggregates",
                ),
                ("Submit values to all reports", "write_values", "reports"),
            ],
        )
        .default_role_named(
            "Create metadata",
            "Allows the user to create metadata types",
            &[
                ("Create observations", "create", "observations"),
                ("Create forecasts", "create", "forecasts"),
                ("Create probabilistic forecasts", "create", "cdf_forecasts"),
                ("Create aggregates", "create", "aggregates"),
                ("Create reports", "create", "reports"),
                ("Create sites", "create", "sites"),
            ],
        )
        .default_role_named(
            "Delete metadata",
            "Allows the user to delete metadata",
            &[
                ("Delete observations", "delete", "observations"),
                ("Delete forecasts", "delete", "forecasts"),
                ("Delete probabilistic forecasts", "delete", "cdf_forecasts"),
                ("Delete aggregates", "delete", "aggregates"),
                ("Delete reports", "delete", "reports"),
                ("Delete sites", "delete", "sites"),
            ],
        )
        .default_role_named(
            "Update all",
            "Update all metadata",
            &[
                ("Update all sites", "update", "sites"),
                ("Update all observations", "update", "observations"),
                ("Update all forecasts", "update", "forecasts"),
                (
                    "Update all probabilistic forecasts",
                    "update",
                    "cdf_forecasts",
                ),
                ("Update all aggregates", "update", "aggregates"),
            ],
        )
        .default_role_named(
            "Administer data access controls",
            "Administer users roles and permissions",
            &[
                ("Create roles", "create", "roles"),
                ("Create permissions", "create", "permissions"),
                ("Grant roles", "grant", "roles"),
                ("Revoke roles", "revoke", "roles"),
                ("Update roles", "update", "roles"),
                ("Update permissions", "update", "permissions"),
                ("Delete roles", "delete", "roles"),
                ("Delete permissions", "delete", "permissions"),
                ("Read users", "read", "users"),
                ("Read roles", "read", "roles"),
                ("Read permissions", "read", "permissions"),
            ],
        )
        .build()
}

#[cfg(test)]
mod tests {
    #[test]
    fn arbiter_schema_builds() {
        let schema = super::arbiter_schema().unwrap();
        assert_eq!(schema.default_roles().len(), 6);
        let counts: Vec<usize> = schema
            .default_roles()
            .iter()
            .map(|r| r.permissions.len())
            .collect();
        assert_eq!(counts, [11, 5, 6, 6, 5, 11]);
    }
}
