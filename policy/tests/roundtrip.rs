//! Export then load gives the same decisions on every (subject, action,
//! object) question, over random engines built through the public API by
//! `tests/persist/gen.rs` of the core crate (shared with its property
//! tests and fuzz targets).

use accord::{Engine, ObjectKind, Subject};
use accord_policy::refs;
use proptest::prelude::*;

#[path = "../../tests/persist/gen.rs"]
#[expect(dead_code, reason = "shared with the core crate's tests")]
mod gen;

/// Exports `engine`, loads the text, and compares every decision, users
/// matched by e-mail and objects by name.
fn round_trip(engine: &Engine) -> Result<(), TestCaseError> {
    let export = accord_policy::export(engine)
        .map_err(|e| TestCaseError::fail(format!("export: {e}")))?;
    let text = export
        .file
        .to_toml()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let loaded = accord_policy::load_str(&text, None)
        .map_err(|e| TestCaseError::fail(format!("load: {e}\n{text}")))?;
    prop_assert!(loaded.index_is_consistent());
    prop_assert_eq!(loaded.orgs().count(), engine.orgs().count());
    prop_assert_eq!(loaded.users().count(), engine.users().count());
    prop_assert_eq!(loaded.objects().count(), engine.objects().count());
    prop_assert_eq!(loaded.roles().count(), engine.roles().count());
    prop_assert_eq!(
        loaded.permissions().count(),
        engine.permissions().count()
    );
    prop_assert_eq!(loaded.grants().count(), engine.grants().count());
    prop_assert_eq!(loaded.shares().count(), engine.shares().count());

    let mut subjects = vec![(Subject::Anonymous, Subject::Anonymous)];
    for (u, rec) in engine.users() {
        let v = loaded.user_by_email(rec.email()).ok_or_else(|| {
            TestCaseError::fail(format!("user `{}` lost", rec.email()))
        })?;
        subjects.push((Subject::User(u), Subject::User(v)));
    }
    let mut objects = Vec::new();
    for (o, rec) in engine.objects() {
        let name = refs::object_name(engine, o, None);
        // A personal role's name holds its user's handle, which a load
        // may change: it is matched through its user.
        let personal = match rec.kind() {
            ObjectKind::Role(r) => {
                engine.role(r).and_then(|r| r.personal_to())
            }
            _ => None,
        };
        if let Some(u) = personal {
            let email = engine.user(u).map(|u| u.email()).unwrap_or_default();
            let role = loaded
                .user_by_email(email)
                .and_then(|v| loaded.user(v)?.personal_role())
                .and_then(|r| loaded.role(r));
            prop_assert!(role.is_some(), "personal role of `{}` lost", email);
            if let Some(role) = role {
                objects.push((o, role.object(), name));
            }
            continue;
        }
        // Permissions are named by name, which need not be unique in an
        // organization: such objects cannot be matched by name.
        match refs::object(&loaded, &name, None) {
            Ok(p) => objects.push((o, p, name)),
            Err(e) if e.message().contains("ambiguous") => {}
            Err(e) => return Err(TestCaseError::fail(e.to_string())),
        }
    }
    for a in engine.schema().actions() {
        for (s, t) in &subjects {
            for (o, p, name) in &objects {
                let before = engine.check(*s, a, *o);
                let after = loaded.check(*t, a, *p);
                prop_assert_eq!(
                    before,
                    after,
                    "{:?} {} {}: {}",
                    s,
                    engine.schema().action_name(a).unwrap_or("?"),
                    name,
                    accord_policy::describe::response_text(
                        &loaded,
                        &loaded.explain(*t, a, *p)
                    )
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn roles_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        round_trip(&gen::build(gen::Mode::Roles, &bytes))?;
    }

    #[test]
    fn everything_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        round_trip(&gen::build(gen::Mode::Everything, &bytes))?;
    }
}

/// Share-heavy random engines: `gen.rs` rarely reaches a share granted by
/// a user, so these start from accounts that are all connected and
/// properties with meters, then apply owner shares, forwards by users,
/// acceptances, removals and lowerings (leaving detached shares under
/// `Keep`), public switches and grants, most of them allowed.
fn sharing_engine(bytes: &[u8]) -> Engine {
    use accord::{Actor, Downstream, Grantee, Level, ShareSpec, Timestamp};
    let mut it = bytes.iter().copied();
    let mut next = move || it.next().unwrap_or(0);
    let builder = match next() % 3 {
        0 => accord::presets::portfolio(),
        1 => accord::presets::portfolio().configure(|c| {
            c.downstream = Downstream::Cascade;
            c.require_share_acceptance = false;
        }),
        _ => accord::presets::portfolio().configure(|c| {
            c.downstream = Downstream::Restrict;
            c.public_by_default = vec!["property".to_owned()];
        }),
    };
    let mut engine = builder.build().unwrap();
    let t = Timestamp::from_unix_millis(0);
    let mut sys = engine.act(Actor::System, t);
    let mut orgs = Vec::new();
    let mut users = Vec::new();
    for i in 0..4 {
        let org = sys.create_org(&format!("Account {i}")).unwrap().value;
        for j in 0..2 {
            let email = format!("u{j}@a{i}.example");
            users.push(sys.create_user(org, &email).unwrap().value);
        }
        orgs.push(org);
    }
    for (i, a) in orgs.iter().enumerate() {
        for b in orgs.iter().skip(i + 1) {
            sys.request_connection(*a, *b).unwrap();
            sys.respond_connection(*a, *b, true).unwrap();
        }
    }
    let mut props = Vec::new();
    let mut objects = Vec::new();
    for (i, org) in orgs.iter().take(2).enumerate() {
        let p = sys.create_object(*org, "property", &format!("P{i}"), &[]);
        let p = p.unwrap().value;
        let e =
            sys.create_object(*org, "energy_meter", &format!("E{i}"), &[p]);
        let w = sys.create_object(*org, "water_meter", &format!("W{i}"), &[p]);
        objects.extend([p, e.unwrap().value, w.unwrap().value]);
        props.push(p);
    }
    let role =
        sys.engine().role_by_name(orgs[0], "Property Data Administrator");
    let _ = sys.grant_role(users[0], role.unwrap(), &[]);
    let level = |b: u8| match b % 3 {
        0 => Level::None,
        1 => Level::Read,
        _ => Level::Full,
    };
    for _ in 0..24 {
        let op = next();
        let root = props[usize::from(next()) % props.len()];
        let user = users[usize::from(next()) % users.len()];
        let grantee = match next() % 4 {
            0 => Grantee::Org(orgs[usize::from(next()) % orgs.len()]),
            _ => Grantee::User(users[usize::from(next()) % users.len()]),
        };
        let b = next();
        let mut spec = match b % 4 {
            0 => ShareSpec::read_only(),
            1 => ShareSpec::full(),
            2 => ShareSpec::custom(),
            _ => ShareSpec::exchange_data(),
        };
        if b % 4 >= 2 {
            spec = spec
                .level("property", level(next()))
                .level("energy_meter", level(next()))
                .share_forward(next() % 2 == 0);
            if next() % 3 == 0 {
                let o = objects[usize::from(next()) % objects.len()];
                spec = spec.object_level(o, level(next()));
            }
        }
        let shares: Vec<_> = engine.shares().map(|(id, _)| id).collect();
        let share =
            shares.get(usize::from(next()) % shares.len().max(1)).copied();
        let actor = Actor::User(user);
        let _ = match op % 8 {
            0 | 1 => engine
                .act(Actor::System, t)
                .share(root, grantee, spec)
                .map(|_| ()),
            2 | 3 => {
                // Forward as a user who holds share-forward, if any.
                let holders: Vec<_> = engine
                    .shares()
                    .filter(|(_, s)| {
                        s.share_forward()
                            && s.status() == accord::ShareStatus::Accepted
                    })
                    .filter_map(|(_, s)| match s.grantee() {
                        Grantee::User(u) => Some((u, s.root())),
                        _ => None,
                    })
                    .collect();
                let (actor, root) = holders
                    .get(usize::from(b) % holders.len().max(1))
                    .map_or((actor, root), |(u, r)| (Actor::User(*u), *r));
                engine.act(actor, t).share(root, grantee, spec).map(|_| ())
            }
            4 => match share {
                Some(s) => {
                    engine.act(Actor::System, t).accept_share(s).map(|_| ())
                }
                None => Ok(()),
            },
            5 => match share {
                Some(s) => engine.act(Actor::System, t).unshare(s).map(|_| ()),
                None => Ok(()),
            },
            6 => engine
                .act(Actor::System, t)
                .set_public(root, next() % 2 == 0)
                .map(|_| ()),
            _ => engine
                .act(actor, t)
                .accept_share(share.unwrap_or(accord::ShareId::MAX))
                .map(|_| ()),
        };
    }
    engine
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn shares_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        round_trip(&sharing_engine(&bytes))?;
    }
}

/// The random engines do exercise what the export must get right:
/// shares granted by users, pending shares, deleted default roles,
/// public objects made private.
#[test]
fn the_generator_reaches_the_hard_cases() {
    let (mut by_user, mut pending, mut warnings, mut grants) = (0, 0, 0, 0);
    let mut seed = 0x2545_f491_u64;
    for _ in 0..300 {
        let bytes: Vec<u8> = (0..400)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 24) as u8
            })
            .collect();
        let engine = sharing_engine(&bytes);
        for (_, s) in engine.shares() {
            by_user +=
                usize::from(matches!(s.grantor(), accord::Grantor::User(_)));
            pending += usize::from(s.status() == accord::ShareStatus::Pending);
        }
        grants += engine.grants().count();
        let export = accord_policy::export(&engine).unwrap();
        warnings += export.warnings.len();
        round_trip(&engine).unwrap();
    }
    assert!(
        by_user >= 30 && pending > 0 && grants > 0,
        "{by_user} {pending} {grants}"
    );
    eprintln!("{by_user} user-granted shares, {pending} pending, {warnings} warnings");
}
