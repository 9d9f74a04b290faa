//! Ready-made schemas and configs reproducing the source systems.
//!
//! Each function returns a [`Builder`]; adjust its [`Config`] with
//! [`Builder::configure`] before [`Builder::build`] if needed.
//!
//! [`Config`]: crate::Config

use crate::engine::Builder;
use crate::engine::Downstream;
use crate::error::SchemaError;
use crate::schema::{ActionSpec, Level, Schema, Threshold};

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
/// let names: Vec<String> = engine.org(org).ok_or("no org")?.roles()
///     .filter_map(|r| Some(engine.role(r)?.name().into_owned()))
///     .collect();
/// assert_eq!(names, ["Read all", "Write all values", "Create metadata",
///     "Delete metadata", "Update all", "Administer data access controls"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Policy file
///
/// The same preset as a policy file for `accord-policy` and the
/// `accord` tool: `policy/presets/arbiter.toml` in the repository.
/// `accord-policy`'s tests check that it gives this function's schema
/// and config.
///
// The file belongs to the `accord-policy` package, which `cargo package`
// leaves out of this crate's archive: `build.rs` sets the cfg only where
// the file is there, so the published crate still builds and documents.
#[cfg_attr(accord_preset_files, doc = "```toml")]
#[cfg_attr(
    accord_preset_files,
    doc = include_str!("../policy/presets/arbiter.toml")
)]
#[cfg_attr(accord_preset_files, doc = "```")]
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

/// ENERGY STAR Portfolio Manager: accounts (organizations) own
/// properties with meters, goals and recognition, and share them with
/// per-data-type levels, per-meter levels and share-forward.
///
/// * Object types: `property`, `energy_meter`, `water_meter`, `goal`,
///   `recognition` (meters, goals and recognition are children of a
///   property).
/// * Actions and the level a share must give:
///   `read` (Read), `update` — edit property information (Full),
///   `view_metrics` — annual metrics in reporting (any share, even None),
///   `add_bill` — on a meter (Full on that meter),
///   `add_meter`, `edit_meter`, `delete_meter` — checked on the property
///   (Full on property information),
///   `select_energy_meters` / `select_water_meters` — choose the meters
///   counting in metrics, checked on the property (Full on the property and
///   Full on every energy / water meter),
///   `delete` and `transfer` (owner only: never through a share),
///   `grant` — share, for members of the owning account.
/// * Each new account gets the role `Property Data Administrator` holding
///   every action on every data type it owns.
/// * Shares need the grantee's acceptance and a connection between the
///   accounts; removing or lowering a share keeps downstream shares
///   ([`Downstream::Keep`]).
///
/// # Example
///
/// ```
/// use accord::{presets, Actor, Grantee, Level, ShareSpec, Subject, Timestamp};
///
/// let mut engine = presets::portfolio().build()?;
/// let mut sys = engine.act(Actor::System, Timestamp::default());
/// let jack_acct = sys.create_org("Jack")?.value;
/// let mary_acct = sys.create_org("Mary")?.value;
/// let mary = sys.create_user(mary_acct, "mary@example.com")?.value;
/// let property = sys.create_object(jack_acct, "property", "HQ", &[])?.value;
/// let meter = sys.create_object(jack_acct, "energy_meter", "HQ electric", &[property])?.value;
/// sys.request_connection(jack_acct, mary_acct)?;
/// sys.respond_connection(jack_acct, mary_acct, true)?;
/// let spec = ShareSpec::custom().level("energy_meter", Level::Full);
/// let share = sys.share(property, Grantee::User(mary), spec)?.value;
/// sys.accept_share(share)?;
///
/// let add_bill = engine.schema().action("add_bill").unwrap();
/// let update = engine.schema().action("update").unwrap();
/// assert!(engine.check(Subject::User(mary), add_bill, meter).is_allow());
/// assert!(!engine.check(Subject::User(mary), update, property).is_allow());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Policy file
///
/// The same preset as a policy file for `accord-policy` and the
/// `accord` tool: `policy/presets/portfolio.toml` in the repository.
/// `accord-policy`'s tests check that it gives this function's schema
/// and config.
///
// The file belongs to the `accord-policy` package, which `cargo package`
// leaves out of this crate's archive: `build.rs` sets the cfg only where
// the file is there, so the published crate still builds and documents.
#[cfg_attr(accord_preset_files, doc = "```toml")]
#[cfg_attr(
    accord_preset_files,
    doc = include_str!("../policy/presets/portfolio.toml")
)]
#[cfg_attr(accord_preset_files, doc = "```")]
#[must_use]
pub fn portfolio() -> Builder {
    Builder::from_result(portfolio_schema()).configure(|c| {
        c.require_share_acceptance = true;
        c.require_connection = true;
        c.downstream = Downstream::Keep;
    })
}

/// The schema of [`portfolio`].
///
/// # Errors
///
/// None in practice: the declarations are constant (and tested).
pub fn portfolio_schema() -> Result<Schema, SchemaError> {
    let mut owner: Vec<(&str, &str)> = Vec::new();
    for a in [
        "create",
        "read",
        "update",
        "delete",
        "grant",
        "view_metrics",
        "add_meter",
        "edit_meter",
        "delete_meter",
        "select_energy_meters",
        "select_water_meters",
        "transfer",
    ] {
        owner.push((a, "property"));
    }
    for t in ["energy_meter", "water_meter"] {
        for a in ["create", "read", "update", "delete", "grant", "add_bill"] {
            owner.push((a, t));
        }
    }
    for t in ["goal", "recognition"] {
        for a in ["create", "read", "update", "delete", "grant"] {
            owner.push((a, t));
        }
    }
    Schema::builder()
        .object_type("property")
        .object_type("energy_meter")
        .object_type("water_meter")
        .object_type("goal")
        .object_type("recognition")
        .action("view_metrics", Threshold::Shared)
        .action("add_bill", Threshold::Full)
        .action("add_meter", Threshold::Full)
        .action("edit_meter", Threshold::Full)
        .action("delete_meter", Threshold::Full)
        .action_spec(
            ActionSpec::new("select_energy_meters", Threshold::Full)
                .requires_every_child("energy_meter", Level::Full),
        )
        .action_spec(
            ActionSpec::new("select_water_meters", Threshold::Full)
                .requires_every_child("water_meter", Level::Full),
        )
        .action("transfer", Threshold::Owner)
        .default_role(
            "Property Data Administrator",
            "every action on every property, meter, goal and recognition",
            &owner,
        )
        .build()
}

/// WattMetrics project security: projects with a dashboard and data,
/// public until they require a login, project users and administrators
/// added by e-mail, and read-only API tokens.
///
/// * Object types: `project`, `dashboard`, `dataset` (dashboards and
///   datasets are children of a project).
/// * Each new organization gets the role `Account administrator`: create,
///   read, update, delete and share (`grant`) every project, dashboard and
///   dataset it owns.
/// * A new project is public: anyone, signed in or not, reads it and
///   everything under it, and it is listed by
///   [`Engine::public_objects`](crate::Engine::public_objects) — until
///   [`Mutator::set_public`](crate::Mutator::set_public)`(project, false)`
///   ("require login for all project data").
/// * A *project user* is a Read Only share of the project to an existing
///   account ([`Mutator::share_by_email`](crate::Mutator::share_by_email);
///   an unknown e-mail is an error). A *project administrator* ("portal
///   access") is a Full Access share: it may add and remove project users
///   and administrators, switch visibility and revoke the project's tokens.
/// * Tokens ([`Mutator::issue_token`](crate::Mutator::issue_token)) are
///   strictly read-only and may be scoped to one project.
/// * Changes take effect with the mutation that makes them.
///
/// # Example
///
/// ```
/// use accord::{presets, Actor, ShareSpec, Subject, Timestamp};
///
/// let mut engine = presets::project_portal().build()?;
/// let t = Timestamp::from_unix_millis(0);
/// let mut sys = engine.act(Actor::System, t);
/// let org = sys.create_org("Solar Co")?.value;
/// let project = sys.create_object(org, "project", "Rooftop 7", &[])?.value;
/// let read = sys.engine().schema().action("read").unwrap();
/// let ty = sys.engine().schema().object_type("project").unwrap();
/// assert!(sys.engine().check(Subject::Anonymous, read, project).is_allow());
/// assert_eq!(sys.engine().public_objects(ty), [project]);
///
/// sys.set_public(project, false)?;
/// assert!(!engine.check(Subject::Anonymous, read, project).is_allow());
/// assert!(engine.public_objects(ty).is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Policy file
///
/// The same preset as a policy file for `accord-policy` and the
/// `accord` tool: `policy/presets/project_portal.toml` in the repository.
/// `accord-policy`'s tests check that it gives this function's schema
/// and config.
///
// The file belongs to the `accord-policy` package, which `cargo package`
// leaves out of this crate's archive: `build.rs` sets the cfg only where
// the file is there, so the published crate still builds and documents.
#[cfg_attr(accord_preset_files, doc = "```toml")]
#[cfg_attr(
    accord_preset_files,
    doc = include_str!("../policy/presets/project_portal.toml")
)]
#[cfg_attr(accord_preset_files, doc = "```")]
#[must_use]
pub fn project_portal() -> Builder {
    Builder::from_result(project_portal_schema()).configure(|c| {
        c.public_by_default = vec!["project".to_owned()];
    })
}

/// The schema of [`project_portal`].
///
/// # Errors
///
/// None in practice: the declarations are constant (and tested).
pub fn project_portal_schema() -> Result<Schema, SchemaError> {
    let mut admin: Vec<(&str, &str)> = Vec::new();
    for t in ["project", "dashboard", "dataset"] {
        for a in ["create", "read", "update", "delete", "grant"] {
            admin.push((a, t));
        }
    }
    admin.push(("read", "users"));
    Schema::builder()
        .object_type("project")
        .object_type("dashboard")
        .object_type("dataset")
        .default_role(
            "Account administrator",
            "every project, dashboard and dataset of the account",
            &admin,
        )
        .build()
}

/// An IoT metering platform: a platform administrator manages accounts;
/// roles bound to specific entities limit access to what is assigned.
///
/// * Object types: `resource_supply_company`, `service_organization`,
///   `metering_unit` (a child of the supply company it meters for and of
///   the service organization that maintains it), `report`, `equipment`.
/// * Actions: the built-ins plus `read_values` (Read) and `configure`
///   (Full).
/// * Each new organization gets the roles:
///   - `Service Company Administrator`, which must be bound to one
///     `resource_supply_company` and one `service_organization`: read the
///     two, read, read values of and configure the metering units under
///     both bindings;
///   - `Platform operator`: everything on every metering object;
///   - `Access administrator`: grant and revoke the organization's roles
///     (assign access levels and modules to accounts);
///   - the modules `Reporting` (read and create reports) and `Equipment
///     monitoring` (read equipment and metering values), grantable alone or
///     bound like the access level.
/// * With the `accounts` feature, platform administrators create, edit
///   and delete accounts ([`Mutator::create_account`](crate::Mutator)).
///
/// # Example
///
/// ```
/// use accord::{presets, Actor, Timestamp, Subject};
///
/// let mut engine = presets::metering().build()?;
/// let mut sys = engine.act(Actor::System, Timestamp::default());
/// let platform = sys.create_org("Platform")?.value;
/// let gaz = sys.create_object(platform, "resource_supply_company", "Hududgaz", &[])?.value;
/// let tech = sys.create_object(platform, "service_organization", "TechService", &[])?.value;
/// let other = sys.create_object(platform, "service_organization", "OtherService", &[])?.value;
/// let mine = sys.create_object(platform, "metering_unit", "MU-1", &[gaz, tech])?.value;
/// let theirs = sys.create_object(platform, "metering_unit", "MU-2", &[gaz, other])?.value;
/// let tech_user = sys.create_user(platform, "service_tech@domain.com")?.value;
/// let sca = sys.engine().role_by_name(platform, "Service Company Administrator").unwrap();
/// assert!(sys.grant_role(tech_user, sca, &[gaz]).is_err()); // both bindings required
/// sys.grant_role(tech_user, sca, &[gaz, tech])?;
///
/// let read = engine.schema().action("read").unwrap();
/// assert!(engine.check(Subject::User(tech_user), read, mine).is_allow());
/// assert!(!engine.check(Subject::User(tech_user), read, theirs).is_allow());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Policy file
///
/// The same preset as a policy file for `accord-policy` and the
/// `accord` tool: `policy/presets/metering.toml` in the repository.
/// `accord-policy`'s tests check that it gives this function's schema
/// and config.
///
// The file belongs to the `accord-policy` package, which `cargo package`
// leaves out of this crate's archive: `build.rs` sets the cfg only where
// the file is there, so the published crate still builds and documents.
#[cfg_attr(accord_preset_files, doc = "```toml")]
#[cfg_attr(
    accord_preset_files,
    doc = include_str!("../policy/presets/metering.toml")
)]
#[cfg_attr(accord_preset_files, doc = "```")]
#[must_use]
pub fn metering() -> Builder {
    Builder::from_result(metering_schema())
}

/// The schema of [`metering`].
///
/// # Errors
///
/// None in practice: the declarations are constant (and tested).
pub fn metering_schema() -> Result<Schema, SchemaError> {
    let types = [
        "resource_supply_company",
        "service_organization",
        "metering_unit",
        "report",
        "equipment",
    ];
    let mut operator: Vec<(&str, &str)> = Vec::new();
    for t in types {
        for a in
            ["create", "read", "update", "delete", "read_values", "configure"]
        {
            operator.push((a, t));
        }
    }
    Schema::builder()
        .object_type("resource_supply_company")
        .object_type("service_organization")
        .object_type("metering_unit")
        .object_type("report")
        .object_type("equipment")
        .action("read_values", Threshold::Read)
        .action("configure", Threshold::Full)
        .default_role(
            "Service Company Administrator",
            "the metering units of one supply company served by one service organization",
            &[
                ("read", "resource_supply_company"),
                ("read", "service_organization"),
                ("read", "metering_unit"),
                ("read_values", "metering_unit"),
                ("configure", "metering_unit"),
            ],
        )
        .bound_to(&["resource_supply_company", "service_organization"])
        .default_role("Platform operator", "every metering object", &operator)
        .default_role(
            "Access administrator",
            "assign access levels and modules to accounts",
            &[
                ("grant", "roles"),
                ("revoke", "roles"),
                ("read", "roles"),
                ("read", "users"),
            ],
        )
        .default_role(
            "Reporting",
            "module: reports",
            &[("read", "report"), ("create", "report"), ("read_values", "metering_unit")],
        )
        .default_role(
            "Equipment monitoring",
            "module: equipment and metering values",
            &[("read", "equipment"), ("read", "metering_unit"), ("read_values", "metering_unit")],
        )
        .build()
}

#[cfg(test)]
mod tests {
    #[test]
    fn arbiter_schema_builds() {
        let schema = super::arbiter_schema().unwrap();
        assert_eq!(schema.default_roles().len(), 6);
        assert!(super::portfolio_schema().is_ok());
        assert!(super::project_portal_schema().is_ok());
        assert!(super::metering_schema().is_ok());
        let counts: Vec<usize> = schema
            .default_roles()
            .iter()
            .map(|r| r.permissions.len())
            .collect();
        assert_eq!(counts, [11, 5, 6, 6, 5, 11]);
    }
}
