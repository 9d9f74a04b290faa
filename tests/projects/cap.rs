//! Property: on random policies (the Arbiter preset: random permissions,
//! roles, bound and cross-organization grants, and shares of every kind),
//! a token is allowed exactly what its user is allowed, restricted to
//! non-administrative actions of threshold `Read` or below on objects
//! inside its scope — before and right after random removals.

#![cfg(test)]

use proptest::prelude::*;

use super::support::*;

const ACTIONS: [&str; 9] = [
    "create",
    "read",
    "update",
    "delete",
    "grant",
    "revoke",
    "read_values",
    "write_values",
    "delete_values",
];

const TYPES: [&str; 9] = [
    "sites",
    "observations",
    "forecasts",
    "reports",
    "aggregates",
    "cdf_forecasts",
    "users",
    "roles",
    "permissions",
];

const DATA_TYPES: [&str; 4] =
    ["sites", "observations", "forecasts", "reports"];

/// Two organizations of the Arbiter, with `u` in the first, and a small
/// tree of data objects in each.
struct World {
    e: Engine,
    a: OrgId,
    b: OrgId,
    u: UserId,
    /// A: site0, site1, obs0 (site0), fc0 (site0), obs1 (site1), report;
    /// B: site2, obs2 (site2), fc2 (site2).
    data: Vec<ObjectId>,
}

fn world() -> World {
    let mut e = presets::arbiter().build().expect("preset");
    let sys = Actor::System;
    let a = ok(&mut e, sys, |m| m.create_org("Utility A"));
    let b = ok(&mut e, sys, |m| m.create_org("Utility B"));
    ok(&mut e, sys, |m| m.accept_terms(a));
    ok(&mut e, sys, |m| m.accept_terms(b));
    let u = ok(&mut e, sys, |m| m.create_user(a, "u@a.example"));
    ok(&mut e, sys, |m| m.create_user(b, "w@b.example"));
    let mut data = Vec::new();
    let specs: [(usize, &str, &str, Option<usize>); 9] = [
        (0, "sites", "site0", None),
        (0, "sites", "site1", None),
        (0, "observations", "obs0", Some(0)),
        (0, "forecasts", "fc0", Some(0)),
        (0, "observations", "obs1", Some(1)),
        (0, "reports", "report", None),
        (1, "sites", "site2", None),
        (1, "observations", "obs2", Some(6)),
        (1, "forecasts", "fc2", Some(6)),
    ];
    for (org, ty, key, parent) in specs {
        let org = [a, b][org];
        let parents: Vec<ObjectId> =
            parent.map(|i| data[i]).into_iter().collect();
        let o = ok(&mut e, sys, |m| m.create_object(org, ty, key, &parents));
        data.push(o);
    }
    World { e, a, b, u, data }
}

#[derive(Clone, Debug)]
struct Plan {
    /// Default roles of A granted to `u`, optionally bound to an object.
    default_roles: Vec<(usize, Option<usize>)>,
    /// Default roles of B granted to `u` (refused when administrative).
    foreign_roles: Vec<usize>,
    /// Permissions of a new role of A: action, type, applies to all,
    /// which objects of the type (bit mask) otherwise.
    perms: Vec<(usize, usize, bool, u16)>,
    /// Binding of the new role's grant.
    binding: Option<usize>,
    /// Shares: root, grantee (u, A, public), kind (Read Only, Full,
    /// Custom), custom levels (two bits per data type).
    shares: Vec<(usize, usize, usize, u8)>,
    /// Token scopes: a data object, `u`'s own user object (9), or none.
    scopes: Vec<Option<usize>>,
    /// Grants or shares removed afterwards.
    removals: Vec<usize>,
}

fn plan() -> impl Strategy<Value = Plan> {
    (
        prop::collection::vec((0..6usize, prop::option::of(0..9usize)), 0..4),
        prop::collection::vec(0..6usize, 0..2),
        prop::collection::vec(
            (0..ACTIONS.len(), 0..TYPES.len(), any::<bool>(), any::<u16>()),
            0..6,
        ),
        prop::option::of(0..9usize),
        prop::collection::vec(
            (0..9usize, 0..3usize, 0..3usize, any::<u8>()),
            0..5,
        ),
        prop::collection::vec(prop::option::of(0..10usize), 1..4),
        prop::collection::vec(any::<usize>(), 1..3),
    )
        .prop_map(
            |(
                default_roles,
                foreign_roles,
                perms,
                binding,
                shares,
                scopes,
                removals,
            )| {
                Plan {
                    default_roles,
                    foreign_roles,
                    perms,
                    binding,
                    shares,
                    scopes,
                    removals,
                }
            },
        )
}

/// Builds the random policy around `u`. Refused mutations are part of the
/// randomness (e.g. an administrative role granted across organizations).
fn build(w: &mut World, plan: &Plan) {
    let e = &mut w.e;
    let sys = Actor::System;
    let roles_a: Vec<_> = e.org(w.a).expect("org").roles().collect();
    let roles_b: Vec<_> = e.org(w.b).expect("org").roles().collect();
    for (r, bind) in &plan.default_roles {
        let bindings: Vec<ObjectId> =
            bind.map(|i| w.data[i]).into_iter().collect();
        let _ = e.act(sys, T).grant_role(w.u, roles_a[*r], &bindings);
    }
    for r in &plan.foreign_roles {
        let _ = e.act(sys, T).grant_role(w.u, roles_b[*r], &[]);
    }
    if !plan.perms.is_empty() {
        let role = e
            .act(sys, T)
            .create_role(w.a, "Random", "random permissions")
            .expect("role")
            .value;
        for (i, (action, ty, all, mask)) in plan.perms.iter().enumerate() {
            let name = format!("perm {i}");
            let (action, ty) = (ACTIONS[*action], TYPES[*ty]);
            let type_id = e.schema().object_type(ty).expect("type");
            let listed: Vec<ObjectId> = e
                .objects()
                .filter(|(_, o)| o.object_type() == type_id && o.org() == w.a)
                .map(|(id, _)| id)
                .enumerate()
                .filter(|(k, _)| *k < 16 && mask & (1 << k) != 0)
                .map(|(_, id)| id)
                .collect();
            let created = if *all {
                e.act(sys, T).create_permission_all(w.a, &name, action, ty)
            } else {
                e.act(sys, T)
                    .create_permission_for(w.a, &name, action, ty, &listed)
            };
            if let Ok(p) = created {
                let _ = e.act(sys, T).add_permission_to_role(role, p.value);
            }
        }
        let bindings: Vec<ObjectId> =
            plan.binding.map(|i| w.data[i]).into_iter().collect();
        let _ = e.act(sys, T).grant_role(w.u, role, &bindings);
    }
    for (root, grantee, kind, levels) in &plan.shares {
        let grantee =
            [Grantee::User(w.u), Grantee::Org(w.a), Grantee::Public][*grantee];
        let spec = match kind {
            0 => ShareSpec::read_only(),
            1 => ShareSpec::full(),
            _ => {
                let mut spec = ShareSpec::custom();
                for (i, t) in DATA_TYPES.iter().enumerate() {
                    let l = [Level::None, Level::Read, Level::Full]
                        [usize::from((levels >> (2 * i)) & 3) % 3];
                    spec = spec.level(t, l);
                }
                spec
            }
        };
        let _ = e.act(sys, T).share(w.data[*root], grantee, spec);
    }
}

/// The property, over every token of `u`, every action and every object.
fn assert_tokens_capped(
    e: &Engine,
    tokens: &[TokenId],
) -> Result<(), TestCaseError> {
    let objects = all_objects(e);
    for token in tokens {
        let t = e.token(*token).expect("token");
        let (user, scope) = (t.user(), t.scope());
        for (o, ty) in &objects {
            let in_scope = scope.map_or(true, |s| at_or_under(e, *o, s));
            for a in e.schema().actions() {
                let may = token_may_attempt(e, a, *ty) && in_scope;
                let by_token = e.check(Subject::Token(*token), a, *o);
                let by_user = e.check(Subject::User(user), a, *o);
                if by_token.is_allow() {
                    let def = e.schema().action_def(a).expect("action");
                    prop_assert!(
                        def.threshold() <= Threshold::Read,
                        "{a} on {o}"
                    );
                    prop_assert!(
                        !e.schema().is_administrative(a, *ty),
                        "{a} on {o}"
                    );
                    prop_assert!(in_scope, "{a} on {o} outside {scope:?}");
                }
                let expected = if may { by_user } else { Decision::Deny };
                prop_assert_eq!(
                    by_token,
                    expected,
                    "token {} {} on {}",
                    token,
                    a,
                    o
                );
                if !may && by_user.is_allow() {
                    let why = e.explain(Subject::Token(*token), a, *o);
                    prop_assert_eq!(why.denial(), Some(Denial::TokenCap));
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn token_is_its_user_capped_to_reading_inside_its_scope(plan in plan()) {
        let mut w = world();
        build(&mut w, &plan);
        let u = w.u;
        let user_obj = w.e.user(u).expect("user").object();
        let mut tokens = vec![ok(&mut w.e, Actor::User(u), |m| {
            m.issue_token(u, None, "unscoped", None)
        }).0];
        for scope in &plan.scopes {
            let scope = scope.map(|i| w.data.get(i).copied().unwrap_or(user_obj));
            let issued = w.e.act(Actor::User(u), T).issue_token(u, scope, "scoped", None);
            match (issued, scope) {
                (Ok(r), _) => tokens.push(r.value.0),
                (Err(err), Some(s)) => {
                    // Refused only because the user cannot read the scope.
                    prop_assert!(err.is_denied(), "{}", err);
                    prop_assert!(!w.e.check(Subject::User(u), w.e.schema().action("read").expect("read"), s).is_allow());
                }
                (Err(err), None) => prop_assert!(false, "unscoped refused: {}", err),
            }
        }
        assert_tokens_capped(&w.e, &tokens)?;

        // Removals take effect at once, for tokens as for their user.
        for r in &plan.removals {
            let grants: Vec<_> = w.e.user(u).expect("user").grants()
                .filter_map(|g| w.e.grant(g).map(|g| g.role()))
                .collect();
            let shares: Vec<ShareId> = w.e.shares().map(|(id, _)| id).collect();
            let n = grants.len() + shares.len();
            if n == 0 {
                break;
            }
            let k = r % n;
            if k < grants.len() {
                ok(&mut w.e, Actor::System, |m| m.revoke_role(u, grants[k]));
            } else {
                ok(&mut w.e, Actor::System, |m| m.unshare(shares[k - grants.len()]));
            }
            assert_tokens_capped(&w.e, &tokens)?;
        }
    }
}
