//! Seed 003, "Configuring access rights": a basic access level plus
//! optional modules, the bindings the Service Company Administrator
//! requires, and the seed's example workflow end to end.

use super::support::*;

/// "Specify: Basic access level (for example, "Service Company
/// Administrator"). Additional Options - additional tools to work with":
/// the level and each module are roles held by the account; each module
/// adds its tools, limited like the level when bound the same way, and
/// can be taken away alone.
#[test]
fn access_level_plus_optional_modules() {
    let mut p = Platform::new();
    let tech = p.account(TECH_EMAIL, TECH_PW);
    let (org, gaz, tech_so) = (p.platform, p.gaz, p.tech);
    let [mine, _, theirs, _] = p.units;
    let sys = Actor::System;
    let mut object = |ty: &str, key: &str, parent: ObjectId| {
        ok(&mut p.e, sys, |m| m.create_object(org, ty, key, &[parent]))
    };
    let my_report = object("report", "MU-001 monthly", mine);
    let my_meter = object("equipment", "MU-001 gas meter", mine);
    let their_report = object("report", "MU-003 monthly", theirs);
    let their_meter = object("equipment", "MU-003 gas meter", theirs);

    let by = Actor::User(p.admin);
    let (sca, reporting, monitoring) = (p.sca, p.reporting, p.monitoring);
    let level = ok(&mut p.e, by, |m| m.grant_role(tech, sca, &[gaz, tech_so]));
    // The level alone: the unit, not the tools.
    assert!(p.can(tech, "read", mine));
    assert!(p.can(tech, "configure", mine));
    assert!(!p.can(tech, "read", my_report));
    assert!(!p.can(tech, "read", my_meter));

    let rep =
        ok(&mut p.e, by, |m| m.grant_role(tech, reporting, &[gaz, tech_so]));
    assert!(p.can(tech, "read", my_report));
    assert!(!p.can(tech, "read", my_meter));
    let mon =
        ok(&mut p.e, by, |m| m.grant_role(tech, monitoring, &[gaz, tech_so]));
    assert!(p.can(tech, "read", my_meter));
    // Bound modules stay inside the bindings.
    assert!(!p.can(tech, "read", their_report));
    assert!(!p.can(tech, "read", their_meter));
    assert!(!p.can(tech, "read_values", theirs));

    let held: Vec<(RoleId, Vec<ObjectId>)> =
        p.e.user(tech)
            .expect("account")
            .grants()
            .filter_map(|g| p.e.grant(g))
            .map(|g| (g.role(), g.bindings().to_vec()))
            .collect();
    assert_eq!(held.len(), 3);
    for (role, bindings) in &held {
        assert!([sca, reporting, monitoring].contains(role));
        let mut b = bindings.clone();
        b.sort();
        let mut want = vec![gaz, tech_so];
        want.sort();
        assert_eq!(b, want);
    }
    assert_eq!(
        [level, rep, mon].map(|g| p.e.grant(g).map(|g| g.role())),
        [Some(sca), Some(reporting), Some(monitoring)]
    );

    // Taking a module away leaves the level and the other module.
    ok(&mut p.e, by, |m| m.revoke_role(tech, reporting));
    assert!(!p.can(tech, "read", my_report));
    assert!(p.can(tech, "read", my_meter));
    assert!(p.can(tech, "configure", mine));

    // A module needs no access level: granted alone and unbound, it
    // reaches every object of its type in the organization, and nothing
    // else.
    let viewer = p.account("viewer@domain.com", "V1ewerPass");
    ok(&mut p.e, by, |m| m.grant_role(viewer, monitoring, &[]));
    assert!(p.can(viewer, "read", my_meter));
    assert!(p.can(viewer, "read", their_meter));
    assert!(!p.can(viewer, "configure", mine));
    assert!(!p.can(viewer, "read", my_report));
}

/// "The "Service Company Administrator" requires a binding to: Resource
/// Supply Company, Service Organization": granting it without either —
/// or with an object of the wrong type in place of one — is refused,
/// naming the missing type; with both it is granted with exactly those
/// bindings.
#[test]
fn service_company_administrator_requires_both_bindings() {
    let mut p = Platform::new();
    let tech = p.account(TECH_EMAIL, TECH_PW);
    let (gaz, suvsoz, tech_so, fixit) = (p.gaz, p.suvsoz, p.tech, p.fixit);
    let unit = p.units[0];
    let sca = p.sca;
    let e = &p.e;
    let required: Vec<String> = e
        .role(sca)
        .expect("role")
        .required_bindings()
        .iter()
        .filter_map(|t| e.schema().type_name(*t))
        .map(str::to_owned)
        .collect();
    assert_eq!(required, ["resource_supply_company", "service_organization"]);

    let by = Actor::User(p.admin);
    for (bindings, missing) in [
        (vec![], "resource_supply_company"),
        (vec![gaz], "service_organization"),
        (vec![tech_so], "resource_supply_company"),
        (vec![gaz, suvsoz], "service_organization"),
        (vec![tech_so, fixit], "resource_supply_company"),
        (vec![gaz, unit], "service_organization"),
        (vec![unit], "resource_supply_company"),
    ] {
        let err =
            refused(&mut p.e, by, |m| m.grant_role(tech, sca, &bindings));
        match err.kind() {
            ErrorKind::MissingBinding { role, object_type } => {
                assert_eq!(role, "Service Company Administrator");
                if bindings.is_empty() {
                    assert!(required.contains(object_type));
                } else {
                    assert_eq!(object_type, missing, "{bindings:?}");
                }
            }
            other => {
                panic!("{bindings:?}: expected missing binding, got {other:?}")
            }
        }
        assert_eq!(err.code(), "missing_binding");
        assert_eq!(p.e.user(tech).map(|u| u.grants().count()), Some(0));
        assert!(!p.can(tech, "read", unit));
    }
    // An unknown binding is not found.
    let ghost = ObjectId::new(100_000).expect("id");
    let err =
        refused(&mut p.e, by, |m| m.grant_role(tech, sca, &[gaz, ghost]));
    assert!(err.is_not_found(), "{err}");

    let g = ok(&mut p.e, by, |m| m.grant_role(tech, sca, &[tech_so, gaz]));
    let grant = p.e.grant(g).expect("grant");
    assert_eq!((grant.user(), grant.role()), (tech, sca));
    let mut bindings = grant.bindings().to_vec();
    bindings.sort();
    let mut want = vec![gaz, tech_so];
    want.sort();
    assert_eq!(bindings, want);
    assert!(p.can(tech, "read", unit));
    // Granting the level twice is a duplicate.
    let err =
        refused(&mut p.e, by, |m| m.grant_role(tech, sca, &[gaz, fixit]));
    assert!(matches!(err.kind(), ErrorKind::Duplicate { .. }), "{err}");
}

/// The seed's example workflow: the platform administrator creates
/// service_tech@domain.com, assigns the Service Company Administrator bound
/// to Hududgaz and TechService, connects Reporting and Equipment
/// monitoring; the employee then reaches only the metering units assigned
/// to TechService under Hududgaz — not those of another service
/// organization, nor those of another supplier — and every step is in the
/// events log.
#[test]
fn seed_example_workflow() {
    let mut p = Platform::new();
    let (org, gaz, tech_so) = (p.platform, p.gaz, p.tech);
    let (sca, reporting, monitoring) = (p.sca, p.reporting, p.monitoring);
    let by = Actor::User(p.admin);
    let first_event = p.e.events().len();

    let employee = ok(&mut p.e, by, |m| {
        m.create_account(
            org,
            TECH_EMAIL,
            Some("Service Technician"),
            TECH_PW,
            "Asia/Tashkent",
            "uz",
        )
    });
    ok(&mut p.e, by, |m| m.grant_role(employee, sca, &[gaz, tech_so]));
    ok(&mut p.e, by, |m| m.grant_role(employee, reporting, &[gaz, tech_so]));
    ok(&mut p.e, by, |m| m.grant_role(employee, monitoring, &[gaz, tech_so]));

    assert_eq!(p.e.user_by_email(TECH_EMAIL), Some(employee));
    assert!(p.e.verify_password(employee, TECH_PW));
    let [mu1, mu2, mu3, mu4] = p.units;
    for action in ["read", "read_values", "configure"] {
        assert!(p.can(employee, action, mu1), "{action} MU-001");
        assert!(p.can(employee, action, mu2), "{action} MU-002");
        assert!(!p.can(employee, action, mu3), "{action} MU-003 (FixIt)");
        assert!(!p.can(employee, action, mu4), "{action} MU-004 (Suvsoz)");
    }
    for action in ["update", "delete"] {
        assert!(!p.can(employee, action, mu1), "{action} is not granted");
    }
    let unit_ty = p.e.schema().object_type("metering_unit").expect("type");
    let mut mine = vec![mu1, mu2];
    mine.sort();
    assert_eq!(
        p.e.objects_for(
            Subject::User(employee),
            p.action("read_values"),
            unit_ty
        ),
        mine
    );

    // Assignment is live: a unit newly assigned to TechService under
    // Hududgaz is reachable at once, and no longer once unassigned.
    let sys = Actor::System;
    let mu5 = ok(&mut p.e, sys, |m| {
        m.create_object(org, "metering_unit", "MU-005", &[gaz])
    });
    assert!(!p.can(employee, "read_values", mu5));
    ok(&mut p.e, sys, |m| m.link_object(mu5, tech_so));
    assert!(p.can(employee, "read_values", mu5));
    ok(&mut p.e, sys, |m| m.unlink_object(mu5, gaz));
    assert!(!p.can(employee, "read_values", mu5));

    // The operator (unbound) still sees everything: the limit is the
    // employee's, not the units'.
    assert!(p.can(p.clerk, "read_values", mu3));

    // Every step is in the events log, in order, by the administrator.
    let steps: Vec<&str> = p.e.events()[first_event..]
        .iter()
        .filter(|e| e.actor == by)
        .map(|e| e.op.name())
        .collect();
    assert_eq!(
        steps,
        ["create account", "grant role", "grant role", "grant role"]
    );
}
