//! Scenario tests following the Solar Forecast Arbiter documentation.
//!
//! One test per statement of the user documentation ("Dashboard
//! Administration": data access components, default roles, managing users,
//! roles, permissions and data sharing) and per rule of the detailed
//! semantics (administrative permissions, the grant rule G, the
//! add-permission rule P, the other administrative mutations,
//! applies-to-all, the create check, self-read, default roles, deletion
//! cascades and the cross-organization sharing pattern).

mod support;

use support::*;

// ----- default roles (documentation "Default Roles", semantics 5.1) -----

#[test]
fn new_organization_gets_six_default_roles_and_has_not_accepted_terms() {
    let mut e = presets::arbiter().build().expect("preset");
    let x = new_org(&mut e, "Utility X");
    let a = new_org(&mut e, "Forecast Provider A");
    let org = e.org(x).expect("org");
    assert!(!org.accepted_terms(), "a new organization starts without TOU");
    let names: Vec<String> = org
        .roles()
        .map(|r| e.role(r).expect("role").name().into_owned())
        .collect();
    assert_eq!(names, DEFAULT_ROLES);
    assert_eq!(org.permissions().count(), 11 + 5 + 6 + 6 + 5 + 11);
    assert_eq!(org.users().count(), 0);
    // Each organization gets its own copies.
    for name in DEFAULT_ROLES {
        assert_ne!(role(&e, x, name), role(&e, a, name));
        let pa = e.role(role(&e, a, name)).expect("role").permissions();
        for p in pa.collect::<Vec<_>>() {
            assert_eq!(e.permission(p).expect("perm").org(), a);
        }
    }
    // No default role holds delete_values, nor update/create/delete on
    // users.
    let s = e.schema();
    let users = ty(&e, "users");
    for r in e.org(x).expect("org").roles() {
        for p in e.role(r).expect("role").permissions() {
            let p = e.permission(p).expect("perm");
            assert!(p.applies_to_all());
            assert_ne!(p.action(), action(&e, "delete_values"));
            if p.object_type() == users {
                assert_eq!(s.action_name(p.action()), Some("read"));
            }
        }
    }
    // Role names are unique per organization.
    assert_refused!(&mut e, SYS, ErrorKind::Duplicate { .. }, |m| {
        m.create_role(x, READ_ALL, "again")
    });
}

#[test]
fn default_role_read_all_has_eleven_applies_to_all_permissions() {
    let mut w = world();
    assert_default_role(
        &w.e,
        w.x,
        READ_ALL,
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
    );
    // "Access all of the metadata and values in the organization."
    give(&mut w.e, w.x_user, &[READ_ALL]);
    for t in DATA_TYPES {
        let o = obj(&mut w.e, w.x_admin, w.x, t, &format!("x-{t}"), &[]);
        let want: &[&str] =
            if t == "sites" { &["read"] } else { &["read", "read_values"] };
        assert_eq!(actions_on(&w.e, w.x_user, o), set(want), "{t}");
        let other = obj(&mut w.e, w.a_admin, w.a, t, &format!("a-{t}"), &[]);
        assert!(actions_on(&w.e, w.x_user, other).is_empty(), "{t}");
    }
    // Nothing on the organization's policy records.
    let admin_role = role_object(&w.e, role(&w.e, w.x, ADMIN));
    deny(&w.e, w.x_user, "read", admin_role);
    deny(&w.e, w.x_user, "read", user_object(&w.e, w.x_admin));
}

#[test]
fn default_role_write_all_values_has_five_write_values_permissions() {
    let mut w = world();
    assert_default_role(
        &w.e,
        w.x,
        WRITE_ALL,
        "Allows the user to submit data within the organization",
        &[
            (
                "Submit values to all observations",
                "write_values",
                "observations",
            ),
            ("Submit values to all forecasts", "write_values", "forecasts"),
            (
                "Submit values to all probabilistic forecasts",
                "write_values",
                "cdf_forecasts",
            ),
            ("Submit values to all aggregates", "write_values", "aggregates"),
            ("Submit values to all reports", "write_values", "reports"),
        ],
    );
    // "Allows a user to submit data within the organization."
    give(&mut w.e, w.x_user, &[WRITE_ALL]);
    for t in DATA_TYPES {
        let o = obj(&mut w.e, w.x_admin, w.x, t, &format!("x-{t}"), &[]);
        let want: &[&str] = if t == "sites" { &[] } else { &["write_values"] };
        assert_eq!(actions_on(&w.e, w.x_user, o), set(want), "{t}");
    }
    let other = obj(&mut w.e, w.a_admin, w.a, "observations", "a-obs", &[]);
    deny(&w.e, w.x_user, "write_values", other);
}

#[test]
fn default_role_create_metadata_has_six_create_permissions() {
    let mut w = world();
    assert_default_role(
        &w.e,
        w.x,
        CREATE_META,
        "Allows the user to create metadata types",
        &[
            ("Create observations", "create", "observations"),
            ("Create forecasts", "create", "forecasts"),
            ("Create probabilistic forecasts", "create", "cdf_forecasts"),
            ("Create aggregates", "create", "aggregates"),
            ("Create reports", "create", "reports"),
            ("Create sites", "create", "sites"),
        ],
    );
    // "Allows a user to create new sites, observations, forecasts,
    // probabilistic forecasts, reports, and aggregates."
    assert!(w.e.creatable_types(w.x_user).is_empty());
    give(&mut w.e, w.x_user, &[CREATE_META]);
    let want: Vec<TypeId> = DATA_TYPES.iter().map(|t| ty(&w.e, t)).collect();
    assert_eq!(w.e.creatable_types(w.x_user), want);
    for t in DATA_TYPES {
        let o = obj(&mut w.e, w.x_user, w.x, t, &format!("new-{t}"), &[]);
        assert_eq!(w.e.object(o).expect("object").org(), w.x);
    }
    // Only in the user's own organization.
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_user),
        ErrorKind::Denied { .. },
        |m| { m.create_object(w.a, "sites", "foreign-site", &[]) }
    );
    // Creating policy records needs the administrative role.
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_user),
        ErrorKind::Denied { .. },
        |m| { m.create_role(w.x, "Mine", "") }
    );
}

#[test]
fn default_role_delete_metadata_has_six_delete_permissions() {
    let mut w = world();
    assert_default_role(
        &w.e,
        w.x,
        DELETE_META,
        "Allows the user to delete metadata",
        &[
            ("Delete observations", "delete", "observations"),
            ("Delete forecasts", "delete", "forecasts"),
            ("Delete probabilistic forecasts", "delete", "cdf_forecasts"),
            ("Delete aggregates", "delete", "aggregates"),
            ("Delete reports", "delete", "reports"),
            ("Delete sites", "delete", "sites"),
        ],
    );
    give(&mut w.e, w.x_user, &[DELETE_META]);
    let mut made = Vec::new();
    for t in DATA_TYPES {
        let o = obj(&mut w.e, w.x_admin, w.x, t, &format!("x-{t}"), &[]);
        assert_eq!(actions_on(&w.e, w.x_user, o), set(&["delete"]), "{t}");
        made.push(o);
    }
    let other = obj(&mut w.e, w.a_admin, w.a, "forecasts", "a-fx", &[]);
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_user),
        ErrorKind::Denied { .. },
        |m| { m.delete_object(other) }
    );
    for o in made {
        ok(&mut w.e, Actor::User(w.x_user), |m| m.delete_object(o));
        assert!(w.e.object(o).is_none());
    }
}

#[test]
fn default_role_update_all_has_five_update_permissions_without_reports() {
    let mut w = world();
    assert_default_role(
        &w.e,
        w.x,
        UPDATE_ALL,
        "Update all metadata",
        &[
            ("Update all sites", "update", "sites"),
            ("Update all observations", "update", "observations"),
            ("Update all forecasts", "update", "forecasts"),
            ("Update all probabilistic forecasts", "update", "cdf_forecasts"),
            ("Update all aggregates", "update", "aggregates"),
        ],
    );
    give(&mut w.e, w.x_user, &[UPDATE_ALL]);
    for t in DATA_TYPES {
        let o = obj(&mut w.e, w.x_admin, w.x, t, &format!("x-{t}"), &[]);
        let want: &[&str] = if t == "reports" { &[] } else { &["update"] };
        assert_eq!(actions_on(&w.e, w.x_user, o), set(want), "{t}");
    }
}

#[test]
fn default_role_administer_data_access_controls_has_eleven_permissions() {
    let mut w = world();
    assert_default_role(
        &w.e,
        w.x,
        ADMIN,
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
    );
    give(&mut w.e, w.x_user, &[ADMIN]);
    let u = w.x_user;
    let (roles, perms) = (ty(&w.e, "roles"), ty(&w.e, "permissions"));
    assert_eq!(w.e.creatable_types(u), [roles, perms]);
    let some_role = role_object(&w.e, role(&w.e, w.x, READ_ALL));
    assert_eq!(
        actions_on(&w.e, u, some_role),
        set(&["read", "update", "delete", "grant", "revoke"])
    );
    let some_perm = perm_object(
        &w.e,
        perm_in(&w.e, role(&w.e, w.x, READ_ALL), "Read all sites"),
    );
    assert_eq!(
        actions_on(&w.e, u, some_perm),
        set(&["read", "update", "delete"])
    );
    assert_eq!(
        actions_on(&w.e, u, user_object(&w.e, w.x_admin)),
        set(&["read"])
    );
    // Nothing on data, nor on another organization's policy.
    let site = obj(&mut w.e, w.x_admin, w.x, "sites", "x-site", &[]);
    assert!(actions_on(&w.e, u, site).is_empty());
    let foreign = role_object(&w.e, role(&w.e, w.a, READ_ALL));
    assert!(actions_on(&w.e, u, foreign).is_empty());
}

// ----- data access components -------------------------------------------

#[test]
fn data_submitted_by_users_belongs_to_their_organization() {
    let mut w = world();
    let site = obj(&mut w.e, w.a_admin, w.a, "sites", "a-site", &[]);
    let rec = w.e.object(site).expect("object");
    assert_eq!(rec.org(), w.a);
    assert!(w.e.objects_of_type(w.a, ty(&w.e, "sites")).any(|o| o == site));
    // A user cannot submit data on behalf of another organization, even
    // holding every default role of their own.
    assert_refused!(
        &mut w.e,
        Actor::User(w.a_admin),
        ErrorKind::Denied { .. },
        |m| { m.create_object(w.x, "sites", "a-site-in-x", &[]) }
    );
    // The organization's administrators control it through applies-to-all
    // permissions; other organizations' administrators do not.
    allow(&w.e, w.a_admin, "read", site);
    allow(&w.e, w.a_admin, "delete", site);
    assert!(actions_on(&w.e, w.x_admin, site).is_empty());
}

#[test]
fn users_are_granted_access_to_data_only_through_roles() {
    let mut w = world();
    let site = obj(&mut w.e, w.x_admin, w.x, "sites", "x-site", &[]);
    // A fresh user of the organization can do nothing with its data.
    assert!(actions_on(&w.e, w.x_user, site).is_empty());
    assert_eq!(
        w.e.explain(Subject::User(w.x_user), action(&w.e, "read"), site)
            .denial(),
        Some(accord::Denial::NoMatchingGrant)
    );
    assert_eq!(
        w.e.check(Subject::Anonymous, action(&w.e, "read"), site),
        Decision::Deny
    );
    let r = role(&w.e, w.x, READ_ALL);
    ok(&mut w.e, Actor::User(w.x_admin), |m| m.grant_role(w.x_user, r, &[]));
    allow(&w.e, w.x_user, "read", site);
    let why = w.e.explain(Subject::User(w.x_user), action(&w.e, "read"), site);
    let perm = perm_in(&w.e, r, "Read all sites");
    assert!(why.reasons().iter().any(|reason| matches!(
        reason,
        Reason::Role { role, permission, .. } if *role == r && *permission == perm
    )));
    ok(&mut w.e, Actor::User(w.x_admin), |m| m.revoke_role(w.x_user, r));
    deny(&w.e, w.x_user, "read", site);
}

#[test]
fn permission_can_only_allow_actions_on_data_owned_by_its_organization() {
    let mut w = world();
    let x_site = obj(&mut w.e, w.x_admin, w.x, "sites", "x-site", &[]);
    let a_site = obj(&mut w.e, w.a_admin, w.a, "sites", "a-site", &[]);
    let adm = Actor::User(w.x_admin);
    // Listing another organization's object is refused, even to System.
    for actor in [adm, SYS] {
        assert_refused!(&mut w.e, actor, ErrorKind::NotOwned { .. }, |m| {
            m.create_permission_for(
                w.x,
                "Read A site",
                "read",
                "sites",
                &[a_site],
            )
        });
    }
    let p = ok(&mut w.e, adm, |m| {
        m.create_permission_for(w.x, "Read X site", "read", "sites", &[x_site])
    });
    assert_refused!(&mut w.e, adm, ErrorKind::NotOwned { .. }, |m| {
        m.add_object_to_permission(p, a_site)
    });
    // An applies-to-all permission of X never reaches A's objects, even
    // when held by a user of A.
    let r = shared_role(
        &mut w.e,
        w.x_admin,
        w.x,
        "All X sites",
        &[("X sites", "read", "sites", &[])],
    );
    ok(&mut w.e, adm, |m| m.grant_role(w.a_user, r, &[]));
    allow(&w.e, w.a_user, "read", x_site);
    deny(&w.e, w.a_user, "read", a_site);
    assert_eq!(
        w.e.objects_for(
            Subject::User(w.a_user),
            action(&w.e, "read"),
            ty(&w.e, "sites")
        ),
        [x_site]
    );
}

// ----- applies to all (documentation "Create New Permission", 4.2) ------

#[test]
fn applies_to_all_permission_covers_current_and_future_objects_of_its_type() {
    let mut w = world();
    let adm = Actor::User(w.x_admin);
    let before = obj(&mut w.e, w.x_admin, w.x, "forecasts", "fx-before", &[]);
    let r = shared_role(
        &mut w.e,
        w.x_admin,
        w.x,
        "Forecast readers",
        &[("Read every forecast", "read", "forecasts", &[])],
    );
    let p = perm_in(&w.e, r, "Read every forecast");
    assert!(w.e.permission(p).expect("perm").applies_to_all());
    ok(&mut w.e, adm, |m| m.grant_role(w.x_user, r, &[]));
    allow(&w.e, w.x_user, "read", before);
    let after = obj(&mut w.e, w.x_admin, w.x, "forecasts", "fx-after", &[]);
    allow(&w.e, w.x_user, "read", after);
    // Only its type, only its organization, only its action.
    let obs = obj(&mut w.e, w.x_admin, w.x, "observations", "ox", &[]);
    deny(&w.e, w.x_user, "read", obs);
    let foreign = obj(&mut w.e, w.a_admin, w.a, "forecasts", "fa", &[]);
    deny(&w.e, w.x_user, "read", foreign);
    deny(&w.e, w.x_user, "read_values", after);
    assert_eq!(
        w.e.objects_for(
            Subject::User(w.x_user),
            action(&w.e, "read"),
            ty(&w.e, "forecasts")
        ),
        [before, after]
    );
    // The permission keeps no materialized list.
    assert_eq!(w.e.permission(p).expect("perm").objects().count(), 0);
}

#[test]
fn applies_to_all_create_permission_covers_no_object() {
    let mut w = world();
    give(&mut w.e, w.x_user, &[CREATE_META]);
    let site = obj(&mut w.e, w.x_user, w.x, "sites", "x-site", &[]);
    // A create permission lists nothing: "create" is never an action on
    // an existing object, only the right to make new ones.
    deny(&w.e, w.x_user, "create", site);
    let create = action(&w.e, "create");
    assert!(!w
        .e
        .allowed_actions(Subject::User(w.x_user), site)
        .contains(create));
    assert!(w
        .e
        .objects_for(Subject::User(w.x_user), create, ty(&w.e, "sites"))
        .is_empty());
    assert!(w.e.subjects_for(create, site).is_empty());
    assert!(w.e.creatable_types(w.x_user).contains(&ty(&w.e, "sites")));
}

#[test]
fn applies_to_all_on_permissions_covers_itself_and_later_permissions() {
    let mut w = world();
    let adm = Actor::User(w.x_admin);
    let r =
        ok(&mut w.e, adm, |m| m.create_role(w.x, "Permission auditors", ""));
    let p = ok(&mut w.e, adm, |m| {
        m.create_permission_all(
            w.x,
            "Read every permission",
            "read",
            "permissions",
        )
    });
    ok(&mut w.e, adm, |m| m.add_permission_to_role(r, p));
    ok(&mut w.e, adm, |m| m.grant_role(w.x_user, r, &[]));
    allow(&w.e, w.x_user, "read", perm_object(&w.e, p));
    let default = perm_in(&w.e, role(&w.e, w.x, ADMIN), "Grant roles");
    allow(&w.e, w.x_user, "read", perm_object(&w.e, default));
    let later = ok(&mut w.e, adm, |m| {
        m.create_permission_all(w.x, "Later", "read", "sites")
    });
    allow(&w.e, w.x_user, "read", perm_object(&w.e, later));
    let foreign = perm_in(&w.e, role(&w.e, w.a, ADMIN), "Grant roles");
    deny(&w.e, w.x_user, "read", perm_object(&w.e, foreign));
}

#[test]
fn applies_to_all_read_users_covers_only_current_members_of_the_organization()
{
    let mut w = world();
    let later = new_user(&mut w.e, w.x, "late@utility-x.example");
    for u in [w.x_admin, w.x_user, later] {
        allow(&w.e, w.x_admin, "read", user_object(&w.e, u));
    }
    // A user of another organization holding X's role is not covered.
    let p = plant(&mut w);
    ok(&mut w.e, Actor::User(w.x_admin), |m| {
        m.grant_role(w.a_user, p.role, &[])
    });
    deny(&w.e, w.x_admin, "read", user_object(&w.e, w.a_user));
}

#[test]
fn objects_cannot_be_removed_from_an_applies_to_all_permission() {
    let mut w = world();
    let site = obj(&mut w.e, w.x_admin, w.x, "sites", "x-site", &[]);
    let p = perm_in(&w.e, role(&w.e, w.x, READ_ALL), "Read all sites");
    let adm = Actor::User(w.x_admin);
    assert_refused!(&mut w.e, adm, ErrorKind::AppliesToAll { .. }, |m| {
        m.remove_object_from_permission(p, site)
    });
    assert_refused!(&mut w.e, adm, ErrorKind::AppliesToAll { .. }, |m| {
        m.add_object_to_permission(p, site)
    });
    allow(&w.e, w.x_admin, "read", site);
}

// ----- administrative permissions (documentation "Data Sharing", 6) ------

#[test]
fn administrative_permission_is_any_non_read_action_on_users_roles_or_permissions(
) {
    let mut w = world();
    let adm = Actor::User(w.x_admin);
    for t in POLICY_TYPES.iter().chain(&["forecasts", "sites"]) {
        for act in ACTIONS {
            let name = format!("{act} all {t}");
            let r = ok(&mut w.e, adm, |m| m.create_role(w.x, &name, "probe"));
            let p = ok(&mut w.e, adm, |m| {
                m.create_permission_all(w.x, &name, act, t)
            });
            ok(&mut w.e, adm, |m| m.add_permission_to_role(r, p));
            let administrative = POLICY_TYPES.contains(t) && act != "read";
            if administrative {
                assert_refused!(
                    &mut w.e,
                    adm,
                    ErrorKind::AdministrativeRoleOutside { .. },
                    |m| m.grant_role(w.a_user, r, &[])
                );
                // Inside the organization it can be granted.
                ok(&mut w.e, adm, |m| m.grant_role(w.x_user, r, &[]));
            } else {
                ok(&mut w.e, adm, |m| m.grant_role(w.a_user, r, &[]));
            }
        }
    }
}

#[test]
fn role_with_administrative_permissions_cannot_be_granted_outside_the_organization(
) {
    let mut w = world();
    let adm = Actor::User(w.x_admin);
    let admin_role = role(&w.e, w.x, ADMIN);
    for outsider in [w.a_user, w.a_admin, w.b_user] {
        assert_refused!(
            &mut w.e,
            adm,
            ErrorKind::AdministrativeRoleOutside { .. },
            |m| { m.grant_role(outsider, admin_role, &[]) }
        );
    }
    // One administrative permission among data permissions is enough.
    let site = obj(&mut w.e, w.x_admin, w.x, "sites", "x-site", &[]);
    let mixed = shared_role(
        &mut w.e,
        w.x_admin,
        w.x,
        "Site and grants",
        &[
            ("Read site", "read", "sites", &[site]),
            ("Grant X roles", "grant", "roles", &[]),
        ],
    );
    assert_refused!(
        &mut w.e,
        adm,
        ErrorKind::AdministrativeRoleOutside { .. },
        |m| { m.grant_role(w.a_user, mixed, &[]) }
    );
    // The platform itself is bound by the rule.
    assert_refused!(
        &mut w.e,
        SYS,
        ErrorKind::AdministrativeRoleOutside { .. },
        |m| { m.grant_role(w.a_user, admin_role, &[]) }
    );
    deny(&w.e, w.a_user, "read", site);
}

#[test]
fn administrative_role_can_be_granted_inside_the_organization() {
    let mut w = world();
    let adm = Actor::User(w.x_admin);
    let admin_role = role(&w.e, w.x, ADMIN);
    ok(&mut w.e, adm, |m| m.grant_role(w.x_user, admin_role, &[]));
    // The new administrator administers at once.
    let r = ok(&mut w.e, Actor::User(w.x_user), |m| {
        m.create_role(w.x, "By the new admin", "")
    });
    assert_eq!(w.e.role(r).expect("role").org(), w.x);
}

#[test]
fn administrative_permission_cannot_be_added_to_a_role_granted_outside() {
    let mut w = world();
    let adm = Actor::User(w.x_admin);
    let p = plant(&mut w);
    ok(&mut w.e, adm, |m| m.grant_role(w.a_user, p.role, &[]));
    let update_roles = perm_in(&w.e, role(&w.e, w.x, ADMIN), "Update roles");
    assert_refused!(
        &mut w.e,
        adm,
        ErrorKind::AdministrativePermissionOnExternalRole { .. },
        |m| m.add_permission_to_role(p.role, update_roles)
    );
    let odd = ok(&mut w.e, adm, |m| {
        m.create_permission_all(
            w.x,
            "Read role values",
            "read_values",
            "roles",
        )
    });
    assert_refused!(
        &mut w.e,
        adm,
        ErrorKind::AdministrativePermissionOnExternalRole { .. },
        |m| m.add_permission_to_role(p.role, odd)
    );
    // Non-administrative permissions can still be added, including read
    // on policy records.
    let read_roles = perm_in(&w.e, role(&w.e, w.x, ADMIN), "Read roles");
    ok(&mut w.e, adm, |m| m.add_permission_to_role(p.role, read_roles));
    let write = ok(&mut w.e, adm, |m| {
        m.create_permission_for(
            w.x,
            "Write GHI",
            "write_values",
            "observations",
            &[p.ghi],
        )
    });
    ok(&mut w.e, adm, |m| m.add_permission_to_role(p.role, write));
    allow(&w.e, w.a_user, "write_values", p.ghi);
    // Once no outside user holds the role, it may become administrative,
    // and then it can no longer be granted outside.
    ok(&mut w.e, adm, |m| m.revoke_role(w.a_user, p.role));
    ok(&mut w.e, adm, |m| m.add_permission_to_role(p.role, update_roles));
    assert_refused!(
        &mut w.e,
        adm,
        ErrorKind::AdministrativeRoleOutside { .. },
        |m| { m.grant_role(w.a_user, p.role, &[]) }
    );
}

// ----- granting and revoking roles --------------------------------------

#[test]
fn grant_and_revoke_roles_for_users_inside_the_organization() {
    let mut w = world();
    let adm = Actor::User(w.x_admin);
    let site = obj(&mut w.e, w.x_admin, w.x, "sites", "x-site", &[]);
    let (read, delete) =
        (role(&w.e, w.x, READ_ALL), role(&w.e, w.x, DELETE_META));
    // "This page will list each role that is not already granted."
    let not_granted = |e: &Engine, u: UserId| -> Vec<RoleId> {
        e.org(w.x).expect("org").roles().filter(|r| !holds(e, u, *r)).collect()
    };
    assert!(not_granted(&w.e, w.x_user).contains(&read));
    ok(&mut w.e, adm, |m| m.grant_role(w.x_user, read, &[]));
    ok(&mut w.e, adm, |m| m.grant_role(w.x_user, delete, &[]));
    assert!(!not_granted(&w.e, w.x_user).contains(&read));
    assert!(holds(&w.e, w.x_user, read) && holds(&w.e, w.x_user, delete));
    assert_eq!(actions_on(&w.e, w.x_user, site), set(&["read", "delete"]));
    ok(&mut w.e, adm, |m| m.revoke_role(w.x_user, delete));
    assert!(!holds(&w.e, w.x_user, delete));
    assert_eq!(actions_on(&w.e, w.x_user, site), set(&["read"]));
}

#[test]
fn grant_and_revoke_roles_for_users_in_other_organizations() {
    let mut w = world();
    let adm = Actor::User(w.x_admin);
    let p = plant(&mut w);
    // "Enter the email of the user to grant the role to."
    let grantee =
        w.e.user_by_email("Modeler@Provider-A.example")
            .expect("user by e-mail");
    assert_eq!(grantee, w.a_user);
    ok(&mut w.e, adm, |m| m.grant_role(grantee, p.role, &[]));
    allow(&w.e, w.a_user, "read", p.site);
    allow(&w.e, w.a_user, "read_values", p.ghi);
    deny(&w.e, w.a_user, "write_values", p.ghi);
    // "Navigate to the Role ... click on the Users tab."
    let holders =
        w.e.role_grantees(Subject::User(w.x_admin), p.role).expect("visible");
    assert_eq!(holders.len(), 1);
    assert_eq!(holders[0].user, w.a_user);
    assert!(holders[0].external);
    ok(&mut w.e, adm, |m| m.revoke_role(w.a_user, p.role));
    deny(&w.e, w.a_user, "read", p.site);
    let holders =
        w.e.role_grantees(Subject::User(w.x_admin), p.role).expect("visible");
    assert!(holders.is_empty());
}

#[test]
fn rule_g1_caller_needs_grant_on_the_role() {
    let mut w = world();
    let p = plant(&mut w);
    // A holder of the role cannot pass it on.
    ok(&mut w.e, Actor::User(w.x_admin), |m| {
        m.grant_role(w.x_user, p.role, &[])
    });
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_user),
        ErrorKind::Denied { .. },
        |m| { m.grant_role(w.a_user, p.role, &[]) }
    );
    // Nor can a holder of every default role but the administrative one.
    let other = new_user(&mut w.e, w.x, "manager@utility-x.example");
    give(
        &mut w.e,
        other,
        &[READ_ALL, WRITE_ALL, CREATE_META, DELETE_META, UPDATE_ALL],
    );
    assert_refused!(
        &mut w.e,
        Actor::User(other),
        ErrorKind::Denied { .. },
        |m| { m.grant_role(w.a_user, p.role, &[]) }
    );
    deny(&w.e, w.a_user, "read", p.site);
}

#[test]
fn rule_g1_caller_must_belong_to_the_role_organization() {
    let mut w = world();
    let p = plant(&mut w);
    assert_refused!(
        &mut w.e,
        Actor::User(w.a_admin),
        ErrorKind::Denied { .. },
        |m| { m.grant_role(w.a_user, p.role, &[]) }
    );
    let x_read_all = role(&w.e, w.x, READ_ALL);
    assert_refused!(
        &mut w.e,
        Actor::User(w.a_admin),
        ErrorKind::Denied { .. },
        |m| { m.grant_role(w.x_user, x_read_all, &[]) }
    );
}

#[test]
fn rule_g1_unknown_grantee_is_reported_only_to_authorized_callers() {
    let mut w = world();
    let p = plant(&mut w);
    let ghost = UserId::new(100_000).expect("id");
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_user),
        ErrorKind::Denied { .. },
        |m| { m.grant_role(ghost, p.role, &[]) }
    );
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_admin),
        ErrorKind::NotFound { .. },
        |m| { m.grant_role(ghost, p.role, &[]) }
    );
    // An unknown role is refused too, whoever asks.
    let no_role = RoleId::new(100_000).expect("id");
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_admin),
        ErrorKind::NotFound { .. },
        |m| { m.grant_role(w.x_user, no_role, &[]) }
    );
    // An unknown actor is denied.
    assert_refused!(
        &mut w.e,
        Actor::User(ghost),
        ErrorKind::Denied { .. },
        |m| { m.grant_role(w.x_user, p.role, &[]) }
    );
}

#[test]
fn rule_g1_grantee_organization_must_have_accepted_terms_even_inside() {
    let mut e = presets::arbiter().build().expect("preset");
    let org = new_org(&mut e, "Utility Y");
    let admin = new_user(&mut e, org, "admin@utility-y.example");
    let user = new_user(&mut e, org, "user@utility-y.example");
    let read_all = role(&e, org, READ_ALL);
    let admin_role = role(&e, org, ADMIN);
    // Not even the platform can grant before acceptance.
    assert_refused!(&mut e, SYS, ErrorKind::TermsNotAccepted { .. }, |m| {
        m.grant_role(admin, admin_role, &[])
    });
    ok(&mut e, SYS, |m| m.accept_terms(org));
    assert!(e.org(org).expect("org").accepted_terms());
    give(&mut e, admin, &[ADMIN]);
    ok(&mut e, Actor::User(admin), |m| m.grant_role(user, read_all, &[]));

    // A second organization without acceptance cannot receive X's roles.
    let mut w = world();
    let p = plant(&mut w);
    let late = new_org(&mut w.e, "Forecast Provider C");
    let c_user = new_user(&mut w.e, late, "modeler@provider-c.example");
    let c_read_all = role(&w.e, late, READ_ALL);
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_admin),
        ErrorKind::TermsNotAccepted { .. },
        |m| { m.grant_role(c_user, p.role, &[]) }
    );
    assert_refused!(&mut w.e, SYS, ErrorKind::TermsNotAccepted { .. }, |m| {
        m.grant_role(c_user, c_read_all, &[])
    });
    ok(&mut w.e, SYS, |m| m.accept_terms(late));
    ok(&mut w.e, Actor::User(w.x_admin), |m| {
        m.grant_role(c_user, p.role, &[])
    });
    allow(&w.e, c_user, "read", p.site);
}

#[test]
fn rule_g_checks_authority_then_terms_then_administrative_content() {
    let mut w = world();
    let late = new_org(&mut w.e, "Forecast Provider C");
    let c_user = new_user(&mut w.e, late, "modeler@provider-c.example");
    let admin_role = role(&w.e, w.x, ADMIN);
    // Step 1 (authority) comes before the terms.
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_user),
        ErrorKind::Denied { .. },
        |m| { m.grant_role(c_user, admin_role, &[]) }
    );
    // Step 1 (terms) comes before step 3 (administrative role outside).
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_admin),
        ErrorKind::TermsNotAccepted { .. },
        |m| { m.grant_role(c_user, admin_role, &[]) }
    );
    ok(&mut w.e, SYS, |m| m.accept_terms(late));
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_admin),
        ErrorKind::AdministrativeRoleOutside { .. },
        |m| m.grant_role(c_user, admin_role, &[])
    );
}

#[test]
fn rule_g4_duplicate_grant_is_reported_only_after_authorization() {
    let mut w = world();
    let p = plant(&mut w);
    let adm = Actor::User(w.x_admin);
    ok(&mut w.e, adm, |m| m.grant_role(w.a_user, p.role, &[]));
    ok(&mut w.e, adm, |m| m.grant_role(w.x_user, p.role, &[]));
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_user),
        ErrorKind::Denied { .. },
        |m| { m.grant_role(w.a_user, p.role, &[]) }
    );
    assert_refused!(
        &mut w.e,
        Actor::User(w.b_admin),
        ErrorKind::Denied { .. },
        |m| { m.grant_role(w.a_user, p.role, &[]) }
    );
    assert_refused!(&mut w.e, adm, ErrorKind::Duplicate { .. }, |m| {
        m.grant_role(w.a_user, p.role, &[])
    });
    // Every personal role is already granted to its user.
    let personal =
        w.e.user(w.x_user).expect("user").personal_role().expect("personal");
    assert_refused!(&mut w.e, adm, ErrorKind::Duplicate { .. }, |m| {
        m.grant_role(w.x_user, personal, &[])
    });
}

// ----- rule P: adding permissions to roles ------------------------------

#[test]
fn add_and_remove_permissions_from_a_role_change_what_holders_may_do() {
    let mut w = world();
    let adm = Actor::User(w.x_admin);
    let site = obj(&mut w.e, w.x_admin, w.x, "sites", "x-site", &[]);
    let r =
        ok(&mut w.e, adm, |m| m.create_role(w.x, "Site crew", "field staff"));
    ok(&mut w.e, adm, |m| m.grant_role(w.x_user, r, &[]));
    deny(&w.e, w.x_user, "update", site);
    let update_sites =
        perm_in(&w.e, role(&w.e, w.x, UPDATE_ALL), "Update all sites");
    let read_site = ok(&mut w.e, adm, |m| {
        m.create_permission_for(
            w.x,
            "Read crew site",
            "read",
            "sites",
            &[site],
        )
    });
    ok(&mut w.e, adm, |m| m.add_permission_to_role(r, update_sites));
    ok(&mut w.e, adm, |m| m.add_permission_to_role(r, read_site));
    assert!(role_has(&w.e, r, update_sites) && role_has(&w.e, r, read_site));
    assert_eq!(actions_on(&w.e, w.x_user, site), set(&["read", "update"]));
    // Permissions may be shared by several roles.
    assert!(role_has(&w.e, role(&w.e, w.x, UPDATE_ALL), update_sites));
    ok(&mut w.e, adm, |m| m.remove_permission_from_role(r, update_sites));
    assert!(!role_has(&w.e, r, update_sites));
    assert!(w.e.permission(update_sites).is_some(), "the permission survives");
    assert_eq!(actions_on(&w.e, w.x_user, site), set(&["read"]));
    allow(&w.e, w.x_admin, "update", site);
}

#[test]
fn rule_p1_requires_update_on_the_role() {
    let mut w = world();
    let r = role(&w.e, w.x, READ_ALL);
    let p = perm_in(
        &w.e,
        role(&w.e, w.x, WRITE_ALL),
        "Submit values to all forecasts",
    );
    give(
        &mut w.e,
        w.x_user,
        &[READ_ALL, WRITE_ALL, CREATE_META, DELETE_META, UPDATE_ALL],
    );
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_user),
        ErrorKind::Denied { .. },
        |m| { m.add_permission_to_role(r, p) }
    );
    ok(&mut w.e, Actor::User(w.x_admin), |m| m.add_permission_to_role(r, p));
}

#[test]
fn rule_p1_caller_role_and_permission_must_share_one_organization() {
    let mut w = world();
    let x_role = ok(&mut w.e, Actor::User(w.x_admin), |m| {
        m.create_role(w.x, "X team", "")
    });
    let a_role = ok(&mut w.e, Actor::User(w.a_admin), |m| {
        m.create_role(w.a, "A team", "")
    });
    let x_perm = perm_in(&w.e, role(&w.e, w.x, READ_ALL), "Read all sites");
    let a_perm = perm_in(&w.e, role(&w.e, w.a, READ_ALL), "Read all sites");
    // The caller is not in the role's organization.
    assert_refused!(
        &mut w.e,
        Actor::User(w.a_admin),
        ErrorKind::Denied { .. },
        |m| { m.add_permission_to_role(x_role, a_perm) }
    );
    assert_refused!(
        &mut w.e,
        Actor::User(w.a_admin),
        ErrorKind::Denied { .. },
        |m| { m.add_permission_to_role(x_role, x_perm) }
    );
    // The permission is not in the role's (and caller's) organization.
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_admin),
        ErrorKind::NotOwned { .. },
        |m| { m.add_permission_to_role(x_role, a_perm) }
    );
    assert_refused!(&mut w.e, SYS, ErrorKind::NotOwned { .. }, |m| {
        m.add_permission_to_role(a_role, x_perm)
    });
    ok(&mut w.e, Actor::User(w.x_admin), |m| {
        m.add_permission_to_role(x_role, x_perm)
    });
}

#[test]
fn rule_p2_administrative_permission_is_refused_on_a_role_of_external_users() {
    let mut w = world();
    let adm = Actor::User(w.x_admin);
    let r = ok(&mut w.e, adm, |m| m.create_role(w.x, "Partners", ""));
    let inside = ok(&mut w.e, adm, |m| m.create_role(w.x, "Staff", ""));
    ok(&mut w.e, adm, |m| m.grant_role(w.x_user, inside, &[]));
    ok(&mut w.e, adm, |m| m.grant_role(w.x_user, r, &[]));
    ok(&mut w.e, adm, |m| m.grant_role(w.b_user, r, &[]));
    for name in
        ["Create roles", "Grant roles", "Revoke roles", "Delete permissions"]
    {
        let p = perm_in(&w.e, role(&w.e, w.x, ADMIN), name);
        assert_refused!(
            &mut w.e,
            adm,
            ErrorKind::AdministrativePermissionOnExternalRole { .. },
            |m| m.add_permission_to_role(r, p)
        );
        // A role held only inside the organization takes it.
        ok(&mut w.e, adm, |m| m.add_permission_to_role(inside, p));
    }
    assert!(!w.e.creatable_types(w.b_user).contains(&ty(&w.e, "roles")));
}

#[test]
fn rule_p3_duplicate_permission_in_role_is_refused() {
    let mut w = world();
    let r = role(&w.e, w.x, READ_ALL);
    let p = perm_in(&w.e, r, "Read all sites");
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_admin),
        ErrorKind::Duplicate { .. },
        |m| { m.add_permission_to_role(r, p) }
    );
    // Authority is checked first.
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_user),
        ErrorKind::Denied { .. },
        |m| { m.add_permission_to_role(r, p) }
    );
}

// ----- other administrative mutations (table of section 6) ---------------

#[test]
fn create_role_requires_create_on_roles_in_own_organization() {
    let mut w = world();
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_user),
        ErrorKind::Denied { .. },
        |m| { m.create_role(w.x, "Nope", "") }
    );
    assert_refused!(
        &mut w.e,
        Actor::User(w.a_admin),
        ErrorKind::Denied { .. },
        |m| { m.create_role(w.x, "Planted by A", "") }
    );
    // "Complete the form with a name and description of the role."
    let r = ok(&mut w.e, Actor::User(w.x_admin), |m| {
        m.create_role(w.x, "Forecast team", "Reads the day-ahead forecasts")
    });
    let rec = w.e.role(r).expect("role");
    assert_eq!((rec.org(), rec.name()), (w.x, "Forecast team".into()));
    assert_eq!(rec.description(), "Reads the day-ahead forecasts");
    assert_eq!(rec.grants().count(), 0);
    assert_eq!(w.e.role_by_name(w.x, "Forecast team"), Some(r));
    assert_eq!(w.e.object(rec.object()).expect("object").org(), w.x);
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_admin),
        ErrorKind::Duplicate { .. },
        |m| { m.create_role(w.x, "Forecast team", "again") }
    );
    // Names are unique per organization only.
    let ra = ok(&mut w.e, Actor::User(w.a_admin), |m| {
        m.create_role(w.a, "Forecast team", "")
    });
    assert_ne!(ra, r);
    assert_eq!(w.e.role(ra).expect("role").org(), w.a);
}

#[test]
fn created_role_carries_a_self_read_permission() {
    let mut w = world();
    let r = ok(&mut w.e, Actor::User(w.x_admin), |m| {
        m.create_role(w.x, "Forecast team", "")
    });
    let ro = role_object(&w.e, r);
    let want: std::collections::BTreeSet<_> = [(
        format!("Read Role {}", r.as_usize()),
        "read".to_owned(),
        "roles".to_owned(),
        false,
    )]
    .into_iter()
    .collect();
    assert_eq!(perms_of(&w.e, r), want);
    let p = w.e.role(r).expect("role").permissions().next().expect("one");
    let rec = w.e.permission(p).expect("perm");
    assert_eq!(rec.org(), w.x);
    assert_eq!(rec.objects().collect::<Vec<_>>(), [ro]);
    // Holders, also external ones, can read the role ...
    deny(&w.e, w.a_user, "read", ro);
    ok(&mut w.e, Actor::User(w.x_admin), |m| m.grant_role(w.a_user, r, &[]));
    ok(&mut w.e, Actor::User(w.x_admin), |m| m.grant_role(w.x_user, r, &[]));
    allow(&w.e, w.a_user, "read", ro);
    allow(&w.e, w.x_user, "read", ro);
    assert!(w.e.role_grantees(Subject::User(w.a_user), r).is_some());
    // ... but not the permissions inside it, nor other roles.
    deny(&w.e, w.a_user, "read", perm_object(&w.e, p));
    deny(&w.e, w.a_user, "read", role_object(&w.e, role(&w.e, w.x, READ_ALL)));
}

#[test]
fn default_organization_roles_have_no_self_read_permission() {
    let mut w = world();
    give(&mut w.e, w.x_user, &[READ_ALL, WRITE_ALL]);
    for name in [READ_ALL, WRITE_ALL] {
        let r = role(&w.e, w.x, name);
        deny(&w.e, w.x_user, "read", role_object(&w.e, r));
        assert!(w.e.role_grantees(Subject::User(w.x_user), r).is_none());
    }
}

#[test]
fn create_permission_requires_create_on_permissions_and_allows_any_pair() {
    let mut w = world();
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_user),
        ErrorKind::Denied { .. },
        |m| { m.create_permission_all(w.x, "Nope", "read", "sites") }
    );
    assert_refused!(
        &mut w.e,
        Actor::User(w.a_admin),
        ErrorKind::Denied { .. },
        |m| { m.create_permission_all(w.x, "Planted by A", "read", "sites") }
    );
    let adm = Actor::User(w.x_admin);
    // Any action/type pair, administrative ones included.
    for (act, t) in [
        ("update", "roles"),
        ("grant", "forecasts"),
        ("read_values", "roles"),
        ("delete_values", "users"),
    ] {
        let name = format!("{act} on {t}");
        let p =
            ok(&mut w.e, adm, |m| m.create_permission_all(w.x, &name, act, t));
        let rec = w.e.permission(p).expect("perm");
        assert_eq!(rec.org(), w.x);
        assert_eq!(rec.action(), action(&w.e, act));
        assert_eq!(rec.object_type(), ty(&w.e, t));
        assert!(rec.applies_to_all());
        assert_eq!(rec.roles().count(), 0);
    }
    assert_refused!(&mut w.e, adm, ErrorKind::NotFound { .. }, |m| {
        m.create_permission_all(w.x, "Fly", "fly", "sites")
    });
    assert_refused!(&mut w.e, adm, ErrorKind::NotFound { .. }, |m| {
        m.create_permission_all(w.x, "Planets", "read", "planets")
    });
    // "Click the checkboxes for each object the permission should allow
    // its action on": the creator must be able to read each one.
    let site = obj(&mut w.e, w.x_admin, w.x, "sites", "x-site", &[]);
    let p = ok(&mut w.e, adm, |m| {
        m.create_permission_for(w.x, "Update site", "update", "sites", &[site])
    });
    assert_eq!(
        w.e.permission(p).expect("perm").objects().collect::<Vec<_>>(),
        [site]
    );
    let pure = new_user(&mut w.e, w.x, "pure-admin@utility-x.example");
    give(&mut w.e, pure, &[ADMIN]);
    assert_refused!(
        &mut w.e,
        Actor::User(pure),
        ErrorKind::Denied { .. },
        |m| {
            m.create_permission_for(w.x, "Blind", "read", "sites", &[site])
        }
    );
    assert_refused!(&mut w.e, adm, ErrorKind::WrongType { .. }, |m| {
        m.create_permission_for(w.x, "Mixed", "read", "observations", &[site])
    });
}

#[test]
fn add_and_remove_objects_from_a_permission_change_what_holders_may_do() {
    let mut w = world();
    let adm = Actor::User(w.x_admin);
    let s1 = obj(&mut w.e, w.x_admin, w.x, "sites", "site-1", &[]);
    let s2 = obj(&mut w.e, w.x_admin, w.x, "sites", "site-2", &[]);
    let r = shared_role(
        &mut w.e,
        w.x_admin,
        w.x,
        "Crew",
        &[("Crew sites", "read", "sites", &[s1])],
    );
    let p = perm_in(&w.e, r, "Crew sites");
    ok(&mut w.e, adm, |m| m.grant_role(w.x_user, r, &[]));
    ok(&mut w.e, adm, |m| m.grant_role(w.a_user, r, &[]));
    allow(&w.e, w.x_user, "read", s1);
    deny(&w.e, w.a_user, "read", s2);
    ok(&mut w.e, adm, |m| m.add_object_to_permission(p, s2));
    allow(&w.e, w.x_user, "read", s2);
    allow(&w.e, w.a_user, "read", s2);
    ok(&mut w.e, adm, |m| m.remove_object_from_permission(p, s1));
    deny(&w.e, w.x_user, "read", s1);
    deny(&w.e, w.a_user, "read", s1);
    assert_eq!(
        w.e.permission(p).expect("perm").objects().collect::<Vec<_>>(),
        [s2]
    );
}

#[test]
fn add_object_to_permission_requires_update_read_and_one_organization() {
    let mut w = world();
    let adm = Actor::User(w.x_admin);
    let site = obj(&mut w.e, w.x_admin, w.x, "sites", "x-site", &[]);
    let extra = obj(&mut w.e, w.x_admin, w.x, "sites", "x-extra", &[]);
    let obs = obj(&mut w.e, w.x_admin, w.x, "observations", "x-obs", &[]);
    let a_site = obj(&mut w.e, w.a_admin, w.a, "sites", "a-site", &[]);
    let p = ok(&mut w.e, adm, |m| {
        m.create_permission_for(w.x, "Some sites", "read", "sites", &[site])
    });
    // Update on the permission.
    give(&mut w.e, w.x_user, &[READ_ALL]);
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_user),
        ErrorKind::Denied { .. },
        |m| { m.add_object_to_permission(p, extra) }
    );
    // The caller's organization.
    assert_refused!(
        &mut w.e,
        Actor::User(w.a_admin),
        ErrorKind::Denied { .. },
        |m| { m.add_object_to_permission(p, a_site) }
    );
    // Read on the object.
    let pure = new_user(&mut w.e, w.x, "pure-admin@utility-x.example");
    give(&mut w.e, pure, &[ADMIN]);
    assert_refused!(
        &mut w.e,
        Actor::User(pure),
        ErrorKind::Denied { .. },
        |m| { m.add_object_to_permission(p, extra) }
    );
    // The object, looked up as the permission's type, owned by the org.
    assert_refused!(&mut w.e, adm, ErrorKind::NotOwned { .. }, |m| {
        m.add_object_to_permission(p, a_site)
    });
    assert_refused!(&mut w.e, adm, ErrorKind::WrongType { .. }, |m| {
        m.add_object_to_permission(p, obs)
    });
    let ghost = ObjectId::new(100_000).expect("id");
    assert_refused!(&mut w.e, adm, ErrorKind::NotFound { .. }, |m| {
        m.add_object_to_permission(p, ghost)
    });
    assert_refused!(&mut w.e, adm, ErrorKind::Duplicate { .. }, |m| {
        m.add_object_to_permission(p, site)
    });
    ok(&mut w.e, adm, |m| m.add_object_to_permission(p, extra));
    assert_eq!(
        w.e.permission(p).expect("perm").objects().collect::<Vec<_>>(),
        [site, extra]
    );
}

#[test]
fn remove_object_from_permission_requires_update_in_the_permission_organization(
) {
    let mut w = world();
    let adm = Actor::User(w.x_admin);
    let site = obj(&mut w.e, w.x_admin, w.x, "sites", "x-site", &[]);
    let other = obj(&mut w.e, w.x_admin, w.x, "sites", "x-other", &[]);
    let p = ok(&mut w.e, adm, |m| {
        m.create_permission_for(w.x, "Some sites", "read", "sites", &[site])
    });
    give(&mut w.e, w.x_user, &[READ_ALL, UPDATE_ALL]);
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_user),
        ErrorKind::Denied { .. },
        |m| { m.remove_object_from_permission(p, site) }
    );
    assert_refused!(
        &mut w.e,
        Actor::User(w.a_admin),
        ErrorKind::Denied { .. },
        |m| { m.remove_object_from_permission(p, site) }
    );
    // An object not in the list is reported, and nothing changes.
    assert_refused!(&mut w.e, adm, ErrorKind::NotFound { .. }, |m| {
        m.remove_object_from_permission(p, other)
    });
    ok(&mut w.e, adm, |m| m.remove_object_from_permission(p, site));
    assert_eq!(w.e.permission(p).expect("perm").objects().count(), 0);
    // The removed object itself still exists.
    assert!(w.e.object(site).is_some());
}

#[test]
fn remove_permission_from_role_requires_update_on_the_role_in_its_organization(
) {
    let mut w = world();
    let r = role(&w.e, w.x, READ_ALL);
    let p = perm_in(&w.e, r, "Read all reports");
    give(&mut w.e, w.x_user, &[READ_ALL]);
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_user),
        ErrorKind::Denied { .. },
        |m| { m.remove_permission_from_role(r, p) }
    );
    assert_refused!(
        &mut w.e,
        Actor::User(w.a_admin),
        ErrorKind::Denied { .. },
        |m| { m.remove_permission_from_role(r, p) }
    );
    let absent = perm_in(
        &w.e,
        role(&w.e, w.x, WRITE_ALL),
        "Submit values to all reports",
    );
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_admin),
        ErrorKind::NotFound { .. },
        |m| { m.remove_permission_from_role(r, absent) }
    );
    let report = obj(&mut w.e, w.x_admin, w.x, "reports", "x-report", &[]);
    allow(&w.e, w.x_user, "read", report);
    ok(&mut w.e, Actor::User(w.x_admin), |m| {
        m.remove_permission_from_role(r, p)
    });
    deny(&w.e, w.x_user, "read", report);
    assert_eq!(perms_of(&w.e, r).len(), 10);
}

#[test]
fn revoke_role_requires_revoke_in_the_role_organization_and_reaches_external_grantees(
) {
    let mut w = world();
    let p = plant(&mut w);
    let adm = Actor::User(w.x_admin);
    ok(&mut w.e, adm, |m| m.grant_role(w.a_user, p.role, &[]));
    ok(&mut w.e, adm, |m| m.grant_role(w.x_user, p.role, &[]));
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_user),
        ErrorKind::Denied { .. },
        |m| { m.revoke_role(w.a_user, p.role) }
    );
    // The grantee's own administrator cannot take a role of X away.
    assert_refused!(
        &mut w.e,
        Actor::User(w.a_admin),
        ErrorKind::Denied { .. },
        |m| { m.revoke_role(w.a_user, p.role) }
    );
    // Not granted / unknown user.
    assert_refused!(&mut w.e, adm, ErrorKind::NotFound { .. }, |m| {
        m.revoke_role(w.b_user, p.role)
    });
    let ghost = UserId::new(100_000).expect("id");
    assert_refused!(&mut w.e, adm, ErrorKind::NotFound { .. }, |m| m
        .revoke_role(ghost, p.role));
    // The grantee's organization is irrelevant.
    ok(&mut w.e, adm, |m| m.revoke_role(w.a_user, p.role));
    deny(&w.e, w.a_user, "read", p.site);
    allow(&w.e, w.x_user, "read", p.site);
}

#[test]
fn delete_role_requires_delete_and_removes_its_grants_and_memberships() {
    let mut w = world();
    let p = plant(&mut w);
    let adm = Actor::User(w.x_admin);
    ok(&mut w.e, adm, |m| m.grant_role(w.a_user, p.role, &[]));
    ok(&mut w.e, adm, |m| m.grant_role(w.x_user, p.role, &[]));
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_user),
        ErrorKind::Denied { .. },
        |m| { m.delete_role(p.role) }
    );
    assert_refused!(
        &mut w.e,
        Actor::User(w.a_admin),
        ErrorKind::Denied { .. },
        |m| { m.delete_role(p.role) }
    );
    let perms: Vec<PermissionId> =
        w.e.role(p.role).expect("role").permissions().collect();
    let ro = role_object(&w.e, p.role);
    ok(&mut w.e, adm, |m| m.delete_role(p.role));
    assert!(w.e.role(p.role).is_none());
    assert!(w.e.role_by_name(w.x, "Read Plant X").is_none());
    assert!(w.e.object(ro).is_none());
    assert!(!w.e.org(w.x).expect("org").roles().any(|r| r == p.role));
    for u in [w.a_user, w.x_user] {
        assert!(!holds(&w.e, u, p.role));
        deny(&w.e, u, "read", p.site);
    }
    assert!(w.e.grants().all(|(_, g)| g.role() != p.role));
    for q in perms {
        if let Some(rec) = w.e.permission(q) {
            assert_eq!(rec.roles().count(), 0, "memberships are removed");
        }
    }
    assert_refused!(&mut w.e, adm, ErrorKind::NotFound { .. }, |m| m
        .delete_role(p.role));
}

#[test]
fn delete_permission_requires_delete_and_removes_its_memberships_and_list() {
    let mut w = world();
    let p = plant(&mut w);
    let adm = Actor::User(w.x_admin);
    ok(&mut w.e, adm, |m| m.grant_role(w.a_user, p.role, &[]));
    let perm = perm_in(&w.e, p.role, "Read Plant X site");
    let po = perm_object(&w.e, perm);
    give(&mut w.e, w.x_user, &[READ_ALL]);
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_user),
        ErrorKind::Denied { .. },
        |m| { m.delete_permission(perm) }
    );
    assert_refused!(
        &mut w.e,
        Actor::User(w.a_admin),
        ErrorKind::Denied { .. },
        |m| { m.delete_permission(perm) }
    );
    allow(&w.e, w.a_user, "read", p.site);
    ok(&mut w.e, adm, |m| m.delete_permission(perm));
    assert!(w.e.permission(perm).is_none());
    assert!(w.e.object(po).is_none());
    assert!(!w.e.role(p.role).expect("role").permissions().any(|q| q == perm));
    assert!(!w.e.org(w.x).expect("org").permissions().any(|q| q == perm));
    deny(&w.e, w.a_user, "read", p.site);
    allow(&w.e, w.a_user, "read", p.ghi);
    assert!(w.e.object(p.site).is_some(), "listed objects survive");
    assert_refused!(&mut w.e, adm, ErrorKind::NotFound { .. }, |m| m
        .delete_permission(perm));
}

// ----- the create check (4.4) -------------------------------------------

#[test]
fn create_requires_a_create_permission_owned_by_the_actors_organization() {
    let mut w = world();
    let adm = Actor::User(w.x_admin);
    // X shares its "Create forecasts" permission (not administrative) with
    // A's modeler: it does not let them create anything anywhere.
    let x_create =
        perm_in(&w.e, role(&w.e, w.x, CREATE_META), "Create forecasts");
    let r = ok(&mut w.e, adm, |m| m.create_role(w.x, "Forecast creators", ""));
    ok(&mut w.e, adm, |m| m.add_permission_to_role(r, x_create));
    ok(&mut w.e, adm, |m| m.grant_role(w.a_user, r, &[]));
    assert!(w.e.creatable_types(w.a_user).is_empty());
    let who = Actor::User(w.a_user);
    assert_refused!(&mut w.e, who, ErrorKind::Denied { .. }, |m| {
        m.create_object(w.a, "forecasts", "a-fx", &[])
    });
    assert_refused!(&mut w.e, who, ErrorKind::Denied { .. }, |m| {
        m.create_object(w.x, "forecasts", "x-fx", &[])
    });
    // Their own organization's permission does.
    give(&mut w.e, w.a_user, &[CREATE_META]);
    let f = obj(&mut w.e, w.a_user, w.a, "forecasts", "a-fx", &[]);
    assert_eq!(w.e.object(f).expect("object").org(), w.a);
    assert_refused!(&mut w.e, who, ErrorKind::Denied { .. }, |m| {
        m.create_object(w.x, "forecasts", "x-fx", &[])
    });
}

#[test]
fn create_check_accepts_a_create_permission_without_applies_to_all() {
    let mut w = world();
    let adm = Actor::User(w.x_admin);
    // The create check looks for a create permission of the type owned by
    // the user's organization; a create permission never lists objects.
    let r = ok(&mut w.e, adm, |m| m.create_role(w.x, "Site makers", ""));
    let p = ok(&mut w.e, adm, |m| {
        m.create_permission_for(
            w.x,
            "Create sites (listed)",
            "create",
            "sites",
            &[],
        )
    });
    assert!(!w.e.permission(p).expect("perm").applies_to_all());
    ok(&mut w.e, adm, |m| m.add_permission_to_role(r, p));
    ok(&mut w.e, adm, |m| m.grant_role(w.x_user, r, &[]));
    assert_eq!(w.e.creatable_types(w.x_user), [ty(&w.e, "sites")]);
    let s = obj(
        &mut w.e,
        w.x_user,
        w.x,
        "sites",
        "made-by-listed-permission",
        &[],
    );
    assert_eq!(w.e.object(s).expect("object").org(), w.x);
}

#[test]
fn creating_under_a_parent_requires_read_on_the_parent() {
    let mut w = world();
    let p = plant(&mut w);
    give(&mut w.e, w.a_user, &[CREATE_META]);
    let who = Actor::User(w.a_user);
    // Without read on the utility's site, the forecaster cannot attach.
    assert_refused!(&mut w.e, who, ErrorKind::Denied { .. }, |m| {
        m.create_object(w.a, "forecasts", "a-plant-x-fx", &[p.site])
    });
    ok(&mut w.e, Actor::User(w.x_admin), |m| {
        m.grant_role(w.a_user, p.role, &[])
    });
    let f =
        obj(&mut w.e, w.a_user, w.a, "forecasts", "a-plant-x-fx", &[p.site]);
    let rec = w.e.object(f).expect("object");
    assert_eq!(rec.org(), w.a, "the forecast belongs to the forecaster");
    assert_eq!(rec.parents(), [p.site]);
    let cdf = obj(
        &mut w.e,
        w.a_user,
        w.a,
        "cdf_forecasts",
        "a-plant-x-cdf",
        &[p.site],
    );
    assert_eq!(w.e.object(cdf).expect("object").org(), w.a);
    // Read on the parent is not enough without create in one's own org.
    assert_refused!(
        &mut w.e,
        Actor::User(w.b_user),
        ErrorKind::Denied { .. },
        |m| { m.create_object(w.b, "forecasts", "b-plant-x-fx", &[p.site]) }
    );
    // Unknown parents are refused.
    let ghost = ObjectId::new(100_000).expect("id");
    assert_refused!(&mut w.e, who, ErrorKind::NotFound { .. }, |m| {
        m.create_object(w.a, "forecasts", "a-orphan", &[ghost])
    });
    // The utility gains nothing on the forecaster's forecast.
    assert!(actions_on(&w.e, w.x_admin, f).is_empty());
}

// ----- self-read and personal default roles (4.5, 5.2) ------------------

#[test]
fn every_new_user_gets_a_personal_default_role_reading_self_and_itself() {
    let mut w = world();
    let u = new_user(&mut w.e, w.x, "newcomer@utility-x.example");
    let n = u.as_usize();
    let rec = w.e.user(u).expect("user");
    let personal = rec.personal_role().expect("personal role");
    let uo = rec.object();
    let r = w.e.role(personal).expect("role");
    assert_eq!(r.name(), format!("DEFAULT User role {n}"));
    assert_eq!(r.description(), "Default role");
    assert_eq!(r.org(), w.x);
    assert_eq!(r.personal_to(), Some(u));
    assert!(holds(&w.e, u, personal));
    assert_eq!(rec.grants().count(), 1, "only the personal role");
    let want: std::collections::BTreeSet<_> = [
        (
            format!("DEFAULT Read Self User {n}"),
            "read".to_owned(),
            "users".to_owned(),
            false,
        ),
        (
            format!("DEFAULT Read User Role {n}"),
            "read".to_owned(),
            "roles".to_owned(),
            false,
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(perms_of(&w.e, personal), want);
    let ro = role_object(&w.e, personal);
    assert_eq!(actions_on(&w.e, u, uo), set(&["read"]));
    assert_eq!(actions_on(&w.e, u, ro), set(&["read"]));
    // Nothing else: not other users, not the permissions of the role.
    deny(&w.e, u, "read", user_object(&w.e, w.x_user));
    for q in
        w.e.role(personal).expect("role").permissions().collect::<Vec<_>>()
    {
        deny(&w.e, u, "read", perm_object(&w.e, q));
    }
    // "GET /users/" still lists the caller.
    assert_eq!(w.e.visible_users(u), [u]);
    assert_eq!(
        w.e.objects_for(
            Subject::User(u),
            action(&w.e, "read"),
            ty(&w.e, "roles")
        ),
        [ro]
    );
}

#[test]
fn deleting_a_user_removes_their_grants_and_personal_role() {
    let mut w = world();
    let p = plant(&mut w);
    let adm = Actor::User(w.x_admin);
    ok(&mut w.e, adm, |m| m.grant_role(w.a_user, p.role, &[]));
    let personal =
        w.e.user(w.a_user).expect("user").personal_role().expect("personal");
    let perms: Vec<PermissionId> =
        w.e.role(personal).expect("role").permissions().collect();
    let uo = user_object(&w.e, w.a_user);
    // An explicit permission of A listing the user.
    let listing = ok(&mut w.e, Actor::User(w.a_admin), |m| {
        m.create_permission_for(w.a, "Read modeler", "read", "users", &[uo])
    });
    assert_refused!(&mut w.e, adm, ErrorKind::Denied { .. }, |m| m
        .delete_user(w.a_user));
    ok(&mut w.e, SYS, |m| m.delete_user(w.a_user));
    assert!(w.e.user(w.a_user).is_none());
    assert!(w.e.user_by_email("modeler@provider-a.example").is_none());
    assert!(w.e.role(personal).is_none());
    for q in perms {
        assert!(w.e.permission(q).is_none(), "personal permissions go too");
    }
    assert!(w.e.object(uo).is_none());
    assert_eq!(w.e.permission(listing).expect("perm").objects().count(), 0);
    assert!(w.e.grants().all(|(_, g)| g.user() != w.a_user));
    assert!(w
        .e
        .role_grantees(Subject::User(w.x_admin), p.role)
        .expect("visible")
        .is_empty());
    assert!(!w.e.org(w.a).expect("org").users().any(|u| u == w.a_user));
    assert_refused!(&mut w.e, SYS, ErrorKind::NotFound { .. }, |m| m
        .delete_user(w.a_user));
}

// ----- managing users (documentation "Managing Users", 4.5) -------------

#[test]
fn users_listing_shows_an_administrator_only_users_of_their_organization() {
    let mut w = world();
    let p = plant(&mut w);
    ok(&mut w.e, Actor::User(w.x_admin), |m| {
        m.grant_role(w.a_user, p.role, &[])
    });
    ok(&mut w.e, Actor::User(w.x_admin), |m| {
        m.grant_role(w.b_user, p.role, &[])
    });
    let mut want = vec![w.x_admin, w.x_user];
    want.sort_unstable();
    assert_eq!(w.e.visible_users(w.x_admin), want);
    // A user page: the administrator can read the user and each of their
    // roles (including the personal one).
    let r = role(&w.e, w.x, READ_ALL);
    ok(&mut w.e, Actor::User(w.x_admin), |m| m.grant_role(w.x_user, r, &[]));
    for g in w.e.user(w.x_user).expect("user").grants().collect::<Vec<_>>() {
        let held = w.e.grant(g).expect("grant").role();
        allow(&w.e, w.x_admin, "read", role_object(&w.e, held));
    }
    // A user without administrative roles sees only themself.
    assert_eq!(w.e.visible_users(w.x_user), [w.x_user]);
    assert_eq!(w.e.visible_users(w.a_admin), {
        let mut v = vec![w.a_admin, w.a_user];
        v.sort_unstable();
        v
    });
}

#[test]
fn external_grantees_are_visible_only_through_the_roles_they_hold() {
    let mut w = world();
    let p = plant(&mut w);
    let adm = Actor::User(w.x_admin);
    ok(&mut w.e, adm, |m| m.grant_role(w.a_user, p.role, &[]));
    ok(&mut w.e, adm, |m| m.grant_role(w.b_user, p.role, &[]));
    ok(&mut w.e, adm, |m| m.grant_role(w.x_user, p.role, &[]));
    assert!(!w.e.visible_users(w.x_admin).contains(&w.a_user));
    deny(&w.e, w.x_admin, "read", user_object(&w.e, w.a_user));
    let holders =
        w.e.role_grantees(Subject::User(w.x_admin), p.role).expect("visible");
    let mut seen: Vec<(UserId, bool)> =
        holders.iter().map(|g| (g.user, g.external)).collect();
    seen.sort_unstable();
    let mut want = vec![(w.x_user, false), (w.a_user, true), (w.b_user, true)];
    want.sort_unstable();
    assert_eq!(seen, want);
    assert!(holders.iter().all(|g| g.bindings.is_empty()));
    // Someone who can neither read, grant nor revoke the role sees nothing.
    assert!(w.e.role_grantees(Subject::User(w.a_admin), p.role).is_none());
    assert!(w.e.role_grantees(Subject::Anonymous, p.role).is_none());
}

// ----- deletion cascades (section 2) -------------------------------------

#[test]
fn deleting_an_object_removes_it_from_every_permission_list() {
    let mut w = world();
    let adm = Actor::User(w.x_admin);
    let report = obj(&mut w.e, w.x_admin, w.x, "reports", "x-report", &[]);
    let keep = obj(&mut w.e, w.x_admin, w.x, "reports", "x-keep", &[]);
    let r = shared_role(
        &mut w.e,
        w.x_admin,
        w.x,
        "Report readers",
        &[
            ("Read two reports", "read", "reports", &[report, keep]),
            ("Read report values", "read_values", "reports", &[report]),
        ],
    );
    ok(&mut w.e, adm, |m| m.grant_role(w.a_user, r, &[]));
    allow(&w.e, w.a_user, "read", report);
    give(&mut w.e, w.x_user, &[DELETE_META]);
    ok(&mut w.e, Actor::User(w.x_user), |m| m.delete_object(report));
    assert!(w.e.object(report).is_none());
    for (_, perm) in w.e.permissions() {
        assert!(!perm.objects().any(|o| o == report));
    }
    let two = perm_in(&w.e, r, "Read two reports");
    assert_eq!(
        w.e.permission(two).expect("perm").objects().collect::<Vec<_>>(),
        [keep]
    );
    deny(&w.e, w.a_user, "read", report);
    allow(&w.e, w.a_user, "read", keep);
    assert_refused!(
        &mut w.e,
        Actor::User(w.x_user),
        ErrorKind::NotFound { .. },
        |m| { m.delete_object(report) }
    );
    // Policy records are not data objects.
    let ro = role_object(&w.e, r);
    assert_refused!(&mut w.e, adm, ErrorKind::Invalid { .. }, |m| m
        .delete_object(ro));
}

#[test]
fn deleting_an_organization_deletes_its_users_roles_permissions_and_data() {
    let mut w = world();
    let p = plant(&mut w);
    let adm = Actor::User(w.x_admin);
    ok(&mut w.e, adm, |m| m.grant_role(w.a_user, p.role, &[]));
    ok(&mut w.e, adm, |m| m.grant_role(w.b_user, p.role, &[]));
    give(&mut w.e, w.a_user, &[CREATE_META]);
    let fa = obj(&mut w.e, w.a_user, w.a, "forecasts", "a-fx", &[p.site]);
    let back = shared_role(
        &mut w.e,
        w.a_admin,
        w.a,
        "For X",
        &[("Read A fx", "read", "forecasts", &[fa])],
    );
    ok(&mut w.e, Actor::User(w.a_admin), |m| {
        m.grant_role(w.x_user, back, &[])
    });
    allow(&w.e, w.x_user, "read", fa);
    let a_users: Vec<UserId> = w.e.org(w.a).expect("org").users().collect();
    let a_roles: Vec<RoleId> = w.e.org(w.a).expect("org").roles().collect();
    let a_perms: Vec<PermissionId> =
        w.e.org(w.a).expect("org").permissions().collect();
    assert_refused!(
        &mut w.e,
        Actor::User(w.a_admin),
        ErrorKind::Denied { .. },
        |m| m.delete_org(w.a)
    );
    ok(&mut w.e, SYS, |m| m.delete_org(w.a));
    assert!(w.e.org(w.a).is_none());
    assert!(w.e.org_by_name("Forecast Provider A").is_none());
    assert!(a_users.iter().all(|u| w.e.user(*u).is_none()));
    assert!(a_roles.iter().all(|r| w.e.role(*r).is_none()));
    assert!(a_perms.iter().all(|q| w.e.permission(*q).is_none()));
    assert!(w.e.object(fa).is_none());
    assert!(w.e.objects().all(|(_, o)| o.org() != w.a));
    assert!(!holds(&w.e, w.x_user, back));
    // The other organizations keep their data, roles and remaining grants.
    assert!(w.e.object(p.site).is_some());
    let holders =
        w.e.role_grantees(Subject::User(w.x_admin), p.role).expect("visible");
    assert_eq!(holders.iter().map(|g| g.user).collect::<Vec<_>>(), [w.b_user]);
    allow(&w.e, w.b_user, "read", p.site);
    assert_refused!(&mut w.e, SYS, ErrorKind::NotFound { .. }, |m| m
        .delete_org(w.a));
}

#[test]
fn deleting_a_shared_site_leaves_another_organizations_forecast_intact() {
    let mut w = world();
    let p = plant(&mut w);
    ok(&mut w.e, Actor::User(w.x_admin), |m| {
        m.grant_role(w.a_user, p.role, &[])
    });
    give(&mut w.e, w.a_user, &[CREATE_META]);
    let fa =
        obj(&mut w.e, w.a_user, w.a, "forecasts", "a-plant-x-fx", &[p.site]);
    assert!(
        actions_on(&w.e, w.x_admin, fa).is_empty(),
        "X has no right on A's forecast"
    );
    // X's administrator may delete X's site, but X controls only X's data:
    // the forecast of A must not disappear with it.
    let _ = w.e.act(Actor::User(w.x_admin), T).delete_object(p.site);
    assert!(w.e.index_is_consistent());
    assert!(w.e.object(fa).is_some(), "A's forecast was destroyed by X");
    allow(&w.e, w.a_admin, "read", fa);
    allow(&w.e, w.a_admin, "delete", fa);
}

// ----- platform operations (section 7) ----------------------------------

#[test]
fn organizations_users_and_terms_are_managed_by_the_platform_only() {
    let mut w = world();
    let me = Actor::User(w.x_admin);
    assert_refused!(&mut w.e, me, ErrorKind::Denied { .. }, |m| m
        .create_org("Rogue"));
    assert_refused!(&mut w.e, me, ErrorKind::Denied { .. }, |m| m
        .accept_terms(w.x));
    assert_refused!(&mut w.e, me, ErrorKind::Denied { .. }, |m| {
        m.create_user(w.x, "friend@utility-x.example")
    });
    assert_refused!(&mut w.e, me, ErrorKind::Denied { .. }, |m| m
        .delete_user(w.x_user));
    assert_refused!(&mut w.e, me, ErrorKind::Denied { .. }, |m| m
        .delete_org(w.b));
    assert_refused!(&mut w.e, SYS, ErrorKind::Duplicate { .. }, |m| m
        .create_org("Utility X"));
    assert_refused!(&mut w.e, SYS, ErrorKind::Duplicate { .. }, |m| {
        m.create_user(w.a, "ADMIN@utility-x.example")
    });
    let ghost = OrgId::new(100_000).expect("id");
    assert_refused!(&mut w.e, SYS, ErrorKind::NotFound { .. }, |m| m
        .accept_terms(ghost));
    assert_refused!(&mut w.e, SYS, ErrorKind::NotFound { .. }, |m| {
        m.create_user(ghost, "nobody@nowhere.example")
    });
}

// ----- the cross-organization demo (4.6) ---------------------------------

#[test]
fn demo_utility_shares_plant_with_two_forecasters_who_share_forecasts_back() {
    let mut w = world();
    let p = plant(&mut w);
    let x_adm = Actor::User(w.x_admin);
    // "plus read on its roles and permissions": the plant's permissions.
    let plant_perms: Vec<ObjectId> =
        w.e.role(p.role)
            .expect("role")
            .permissions()
            .map(|q| perm_object(&w.e, q))
            .collect();
    let read_perms = ok(&mut w.e, x_adm, |m| {
        m.create_permission_for(
            w.x,
            "Read Plant X permissions",
            "read",
            "permissions",
            &plant_perms,
        )
    });
    ok(&mut w.e, x_adm, |m| m.add_permission_to_role(p.role, read_perms));
    for (user, email) in [
        (w.a_user, "modeler@provider-a.example"),
        (w.b_user, "modeler@provider-b.example"),
    ] {
        assert_eq!(w.e.user_by_email(email), Some(user));
        ok(&mut w.e, x_adm, |m| m.grant_role(user, p.role, &[]));
        give(&mut w.e, user, &[CREATE_META, READ_ALL]);
    }
    for u in [w.a_user, w.b_user] {
        assert_eq!(actions_on(&w.e, u, p.site), set(&["read"]));
        assert_eq!(actions_on(&w.e, u, p.ghi), set(&["read", "read_values"]));
        allow(&w.e, u, "read", role_object(&w.e, p.role));
        for po in &plant_perms {
            allow(&w.e, u, "read", *po);
        }
    }
    // Each forecaster creates a forecast at the plant in its own org.
    let fa = obj(
        &mut w.e,
        w.a_user,
        w.a,
        "forecasts",
        "plant-x-day-ahead-a",
        &[p.site],
    );
    let fb = obj(
        &mut w.e,
        w.b_user,
        w.b,
        "forecasts",
        "plant-x-day-ahead-b",
        &[p.site],
    );
    assert_eq!(w.e.object(fa).expect("object").org(), w.a);
    assert_eq!(w.e.object(fb).expect("object").org(), w.b);
    // Competitors do not see each other's forecasts; the utility not yet.
    deny(&w.e, w.a_user, "read", fb);
    deny(&w.e, w.b_user, "read", fa);
    deny(&w.e, w.x_admin, "read", fa);
    // Each shares back through a role of its own organization.
    let mut backs = Vec::new();
    for (admin, org, f, name) in [
        (w.a_admin, w.a, fa, "Share A with X"),
        (w.b_admin, w.b, fb, "Share B with X"),
    ] {
        let back = shared_role(
            &mut w.e,
            admin,
            org,
            name,
            &[
                ("Read forecast", "read", "forecasts", &[f]),
                ("Read forecast values", "read_values", "forecasts", &[f]),
            ],
        );
        ok(&mut w.e, Actor::User(admin), |m| {
            m.grant_role(w.x_admin, back, &[])
        });
        backs.push(back);
    }
    for f in [fa, fb] {
        assert_eq!(
            actions_on(&w.e, w.x_admin, f),
            set(&["read", "read_values"])
        );
        deny(&w.e, w.x_user, "read", f);
    }
    let why = w.e.explain(Subject::User(w.x_admin), action(&w.e, "read"), fa);
    assert!(why
        .reasons()
        .iter()
        .any(|r| matches!(r, Reason::Role { role, .. } if *role == backs[0])));
    assert_eq!(
        w.e.objects_for(
            Subject::User(w.x_admin),
            action(&w.e, "read"),
            ty(&w.e, "forecasts")
        ),
        [fa, fb]
    );
    let mut readers = vec![w.x_admin, w.a_user, w.b_user];
    readers.sort_unstable();
    assert_eq!(w.e.subjects_for(action(&w.e, "read"), p.site), readers);
    // The forecasters' rights on the plant stay read-only.
    for u in [w.a_user, w.b_user] {
        deny(&w.e, u, "write_values", p.ghi);
        deny(&w.e, u, "update", p.site);
        assert_refused!(
            &mut w.e,
            Actor::User(u),
            ErrorKind::Denied { .. },
            |m| m.delete_object(p.ghi)
        );
    }
}

#[test]
fn shared_role_may_carry_non_administrative_write_update_and_delete() {
    let mut w = world();
    let p = plant(&mut w);
    let adm = Actor::User(w.x_admin);
    let writer = shared_role(
        &mut w.e,
        w.x_admin,
        w.x,
        "Submit Plant X data",
        &[
            ("Write GHI", "write_values", "observations", &[p.ghi]),
            ("Update plant", "update", "sites", &[p.site]),
            ("Delete GHI", "delete", "observations", &[p.ghi]),
        ],
    );
    ok(&mut w.e, adm, |m| m.grant_role(w.a_user, writer, &[]));
    assert_eq!(
        actions_on(&w.e, w.a_user, p.ghi),
        set(&["write_values", "delete"])
    );
    assert_eq!(actions_on(&w.e, w.a_user, p.site), set(&["update"]));
    ok(&mut w.e, Actor::User(w.a_user), |m| m.delete_object(p.ghi));
    assert!(w.e.object(p.ghi).is_none());
    assert!(w.e.object(p.site).is_some());
}

#[test]
fn users_roles_and_permissions_are_found_by_their_handle_as_key() {
    let mut e = presets::arbiter().build().expect("preset");
    let x = new_org(&mut e, "Utility X");
    let mut sys = e.act(Actor::System, Timestamp::default());
    let alice = sys.create_user(x, "alice@x.example").expect("user").value;
    let site = sys.create_object(x, "sites", "role#1", &[]).expect("site");
    let read_all = role(&e, x, "Read all");
    let perm = e.role(read_all).expect("role").permissions().next();
    let perm = perm.expect("a permission");
    let cases = [
        ("users", alice.to_string(), e.user(alice).expect("user").object()),
        ("roles", read_all.to_string(), e.role(read_all).expect("r").object()),
        (
            "permissions",
            perm.to_string(),
            e.permission(perm).expect("permission").object(),
        ),
    ];
    for (type_name, key, object) in cases {
        let t = ty(&e, type_name);
        assert_eq!(e.object_by_key(t, &key), Some(object), "{key}");
        assert_eq!(e.object(object).expect("object").key(), key);
        // Not a near miss, nor another kind's handle.
        assert_eq!(e.object_by_key(t, &format!("{key}0")), None);
        assert_eq!(e.object_by_key(t, &key.replace('#', "#0")), None);
        assert_eq!(e.object_by_key(t, "organization#0"), None);
    }
    // A data object may use a key that looks like a handle.
    assert_eq!(e.object_by_key(ty(&e, "sites"), "role#1"), Some(site.value));
    assert_eq!(e.object_by_key(ty(&e, "roles"), "role#999999"), None);
}

#[test]
fn data_objects_are_found_by_key_through_growth_deletion_and_reload() {
    let mut e = presets::arbiter().build().expect("preset");
    let x = new_org(&mut e, "Utility X");
    let t = Timestamp::default();
    let mut ids = Vec::new();
    for i in 0..300 {
        let key = format!("plant-{i}");
        let id = e.act(Actor::System, t).create_object(x, "sites", &key, &[]);
        ids.push(id.expect("site").value);
    }
    let sites = ty(&e, "sites");
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(e.object_by_key(sites, &format!("plant-{i}")), Some(*id));
    }
    // Same key, other type: a different object; unknown keys: none.
    let report =
        e.act(Actor::System, t).create_object(x, "reports", "plant-1", &[]);
    let report = report.expect("report").value;
    assert_eq!(e.object_by_key(ty(&e, "reports"), "plant-1"), Some(report));
    assert_eq!(e.object_by_key(sites, "plant-1"), Some(ids[1]));
    assert_eq!(e.object_by_key(sites, "plant-300"), None);
    assert_eq!(e.object_by_key(sites, " not a name"), None);
    // A duplicate key within a type is refused.
    assert!(e
        .act(Actor::System, t)
        .create_object(x, "sites", "plant-7", &[])
        .is_err());
    // Deleting frees the key for a new object.
    e.act(Actor::System, t).delete_object(ids[7]).expect("delete");
    assert_eq!(e.object_by_key(sites, "plant-7"), None);
    let again =
        e.act(Actor::System, t).create_object(x, "sites", "plant-7", &[]);
    let again = again.expect("key reused").value;
    assert_ne!(again, ids[7]);
    assert_eq!(e.object_by_key(sites, "plant-7"), Some(again));
    // A loaded snapshot finds the same objects.
    let loaded = accord::Engine::from_json(&e.to_json()).expect("load");
    for i in [0, 7, 150, 299] {
        let key = format!("plant-{i}");
        assert_eq!(
            loaded.object_by_key(sites, &key),
            e.object_by_key(sites, &key)
        );
    }
}

#[test]
fn a_personal_role_granted_to_another_user_works_bound_and_unbound() {
    // A personal role's map is compiled into its holder's own entry; the
    // index keeps a separate map only while a bound grant names it.
    let mut w = world();
    let y = new_user(&mut w.e, w.x, "intern@utility-x.example");
    let rec = w.e.user(w.x_user).expect("user");
    let (me, personal) =
        (rec.object(), rec.personal_role().expect("personal"));
    let one = obj(&mut w.e, w.x_admin, w.x, "sites", "x-one", &[]);
    let two = obj(&mut w.e, w.x_admin, w.x, "sites", "x-two", &[]);
    let sites = ok(&mut w.e, SYS, |m| {
        m.create_permission_for(
            w.x,
            "Read two sites",
            "read",
            "sites",
            &[one, two],
        )
    });
    ok(&mut w.e, SYS, |m| m.add_permission_to_role(personal, sites));
    let read = w.e.schema().action("read").expect("read");
    let consistent = |e: &Engine| {
        assert!(e.index_is_consistent());
        let again = Engine::from_json(&e.to_json()).expect("loads");
        assert!(again.index_is_consistent());
        for o in [me, one, two] {
            let s = Subject::User(y);
            assert_eq!(again.check(s, read, o), e.check(s, read, o));
        }
    };
    for o in [me, one, two] {
        allow(&w.e, w.x_user, "read", o);
        deny(&w.e, y, "read", o);
    }
    // Bound to one site: that site only.
    ok(&mut w.e, SYS, |m| m.grant_role(y, personal, &[one]));
    allow(&w.e, y, "read", one);
    deny(&w.e, y, "read", two);
    deny(&w.e, y, "read", me);
    allow(&w.e, w.x_user, "read", two);
    consistent(&w.e);
    ok(&mut w.e, SYS, |m| m.revoke_role(y, personal));
    deny(&w.e, y, "read", one);
    consistent(&w.e);
    // Unbound: everything the role allows.
    ok(&mut w.e, SYS, |m| m.grant_role(y, personal, &[]));
    for o in [me, one, two] {
        allow(&w.e, y, "read", o);
        allow(&w.e, w.x_user, "read", o);
    }
    consistent(&w.e);
}
