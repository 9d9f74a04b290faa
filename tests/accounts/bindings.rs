//! Property: a bound grant never reaches an object outside the
//! intersection of its bindings.
//!
//! Random DAGs of supply companies, service organizations and metering
//! units (units with one or two parents, some owned by a rival
//! organization), then random steps: grants of the Service Company
//! Administrator role (or of a copy of it holding the same permissions, so
//! that one user can hold two bound grants) with random bindings, revokes,
//! links, unlinks and deletions. After every step, for every user, action
//! and object, `check` must equal a reference computed here without the
//! engine's index: allowed iff the object is owned by the platform, the
//! role has the action on its type, and the object lies at or under every
//! binding of one of the user's grants — "at or under" found by walking
//! `Object::parents` recursively. The bound users hold no other role.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::sample::Index;

use super::support::*;

/// The Service Company Administrator's permissions: (action, type).
const SCA_PERMS: [(&str, &str); 5] = [
    ("read", "resource_supply_company"),
    ("read", "service_organization"),
    ("read", "metering_unit"),
    ("read_values", "metering_unit"),
    ("configure", "metering_unit"),
];

const ACTIONS: [&str; 6] =
    ["read", "read_values", "configure", "update", "delete", "create"];

const USERS: usize = 3;

#[derive(Clone, Debug)]
struct Unit {
    /// One or two parents among the nodes created before it.
    parents: Vec<Index>,
    /// Owned by the rival organization rather than the platform.
    rival: bool,
}

#[derive(Clone, Debug)]
enum Step {
    /// Grant the role (or its copy) to a user, bound to a supply company,
    /// a service organization and perhaps one more node.
    Grant {
        user: Index,
        copy: bool,
        rsc: Index,
        so: Index,
        extra: Option<Index>,
    },
    Revoke {
        user: Index,
        copy: bool,
    },
    /// Link a service organization or unit under any node.
    Link {
        child: Index,
        parent: Index,
    },
    /// Remove one parent of a service organization or unit.
    Unlink {
        child: Index,
        parent: Index,
    },
    /// Delete a unit (with the descendants it leaves without a parent).
    Delete {
        unit: Index,
    },
}

#[derive(Clone, Debug)]
struct Plan {
    companies: usize,
    /// For each service organization, perhaps a supply company above it.
    services: Vec<Option<Index>>,
    units: Vec<Unit>,
    grants: Vec<Step>,
    steps: Vec<Step>,
}

fn grant() -> impl Strategy<Value = Step> {
    (
        any::<Index>(),
        any::<bool>(),
        any::<Index>(),
        any::<Index>(),
        prop::option::weighted(0.4, any::<Index>()),
    )
        .prop_map(|(user, copy, rsc, so, extra)| Step::Grant {
            user,
            copy,
            rsc,
            so,
            extra,
        })
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => grant(),
        1 => (any::<Index>(), any::<bool>())
            .prop_map(|(user, copy)| Step::Revoke { user, copy }),
        3 => (any::<Index>(), any::<Index>())
            .prop_map(|(child, parent)| Step::Link { child, parent }),
        2 => (any::<Index>(), any::<Index>())
            .prop_map(|(child, parent)| Step::Unlink { child, parent }),
        1 => any::<Index>().prop_map(|unit| Step::Delete { unit }),
    ]
}

fn plan() -> impl Strategy<Value = Plan> {
    let unit = (
        prop::collection::vec(any::<Index>(), 1..=2),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(parents, rival)| Unit { parents, rival });
    (
        1usize..=3,
        prop::collection::vec(
            prop::option::weighted(0.3, any::<Index>()),
            1..=3,
        ),
        prop::collection::vec(unit, 2..=8),
        prop::collection::vec(grant(), 1..=3),
        prop::collection::vec(step(), 0..=14),
    )
        .prop_map(|(companies, services, units, grants, steps)| Plan {
            companies,
            services,
            units,
            grants,
            steps,
        })
}

/// The world under test and the reference's own record of the grants.
struct World {
    e: Engine,
    platform: OrgId,
    users: Vec<UserId>,
    /// The role and its copy.
    roles: [RoleId; 2],
    companies: Vec<ObjectId>,
    services: Vec<ObjectId>,
    /// Every node ever created: companies, services, units.
    nodes: Vec<ObjectId>,
    /// (user index, copy?, bindings) of every grant in force.
    grants: Vec<(usize, bool, Vec<ObjectId>)>,
}

fn build(plan: &Plan) -> World {
    let mut e = presets::metering().build().expect("preset builds");
    let sys = Actor::System;
    let platform = ok(&mut e, sys, |m| m.create_org("Platform"));
    let rival = ok(&mut e, sys, |m| m.create_org("Rival"));
    let users: Vec<UserId> = (0..USERS)
        .map(|i| {
            let email = format!("tech{i}@domain.com");
            ok(&mut e, sys, |m| m.create_user(platform, &email))
        })
        .collect();
    let sca = e
        .role_by_name(platform, "Service Company Administrator")
        .expect("default role");
    let copy = ok(&mut e, sys, |m| {
        m.create_bound_role(
            platform,
            "SCA copy",
            "the same permissions, granted separately",
            &["resource_supply_company", "service_organization"],
        )
    });
    let perms: Vec<_> = e.role(sca).expect("role").permissions().collect();
    assert_eq!(perms.len(), SCA_PERMS.len());
    for p in perms {
        ok(&mut e, sys, |m| m.add_permission_to_role(copy, p));
    }

    let mut nodes = Vec::new();
    let mut companies = Vec::new();
    for i in 0..plan.companies {
        let key = format!("Supplier {i}");
        let id = ok(&mut e, sys, |m| {
            m.create_object(platform, "resource_supply_company", &key, &[])
        });
        companies.push(id);
        nodes.push(id);
    }
    let mut services = Vec::new();
    for (i, above) in plan.services.iter().enumerate() {
        let key = format!("Service {i}");
        let parents: Vec<ObjectId> =
            above.map(|ix| *ix.get(&companies)).into_iter().collect();
        let id = ok(&mut e, sys, |m| {
            m.create_object(platform, "service_organization", &key, &parents)
        });
        services.push(id);
        nodes.push(id);
    }
    for (i, unit) in plan.units.iter().enumerate() {
        let mut parents: Vec<ObjectId> =
            unit.parents.iter().map(|ix| *ix.get(&nodes)).collect();
        parents.dedup();
        let org = if unit.rival { rival } else { platform };
        let key = format!("MU-{i:03}");
        let id = ok(&mut e, sys, |m| {
            m.create_object(org, "metering_unit", &key, &parents)
        });
        nodes.push(id);
    }
    World {
        e,
        platform,
        users,
        roles: [sca, copy],
        companies,
        services,
        nodes,
        grants: Vec::new(),
    }
}

/// Whether `object` is `ancestor` or lies under it, walking the parents.
fn at_or_under(e: &Engine, object: ObjectId, ancestor: ObjectId) -> bool {
    let mut stack = vec![object];
    let mut seen = BTreeSet::new();
    while let Some(o) = stack.pop() {
        if o == ancestor {
            return true;
        }
        if !seen.insert(o) {
            continue;
        }
        if let Some(rec) = e.object(o) {
            stack.extend(rec.parents().iter().copied());
        }
    }
    false
}

impl World {
    fn held(&self, user: usize, copy: bool) -> bool {
        self.grants.iter().any(|(u, c, _)| *u == user && *c == copy)
    }

    /// The reference decision for user `u` (an index).
    fn expected(&self, u: usize, action: &str, object: ObjectId) -> bool {
        let Some(rec) = self.e.object(object) else { return false };
        let ty = self.e.schema().type_name(rec.object_type()).unwrap_or("");
        rec.org() == self.platform
            && SCA_PERMS.contains(&(action, ty))
            && self.grants.iter().any(|(user, _, bindings)| {
                *user == u
                    && bindings.iter().all(|b| {
                        self.e.object(*b).is_some()
                            && at_or_under(&self.e, object, *b)
                    })
            })
    }

    fn apply(&mut self, step: &Step) {
        let sys = Actor::System;
        match step {
            Step::Grant { user, copy, rsc, so, extra } => {
                let u = user.index(USERS);
                let mut bindings =
                    vec![*rsc.get(&self.companies), *so.get(&self.services)];
                let extra = extra.map(|ix| *ix.get(&self.nodes));
                if let Some(x) = extra {
                    if !bindings.contains(&x) {
                        bindings.push(x);
                    }
                }
                let (uid, role) =
                    (self.users[u], self.roles[usize::from(*copy)]);
                let gone =
                    bindings.iter().any(|b| self.e.object(*b).is_none());
                if gone {
                    let err = refused(&mut self.e, sys, |m| {
                        m.grant_role(uid, role, &bindings)
                    });
                    assert!(err.is_not_found(), "{err}");
                } else if self.held(u, *copy) {
                    let err = refused(&mut self.e, sys, |m| {
                        m.grant_role(uid, role, &bindings)
                    });
                    assert!(
                        matches!(err.kind(), ErrorKind::Duplicate { .. }),
                        "{err}"
                    );
                } else {
                    ok(&mut self.e, sys, |m| {
                        m.grant_role(uid, role, &bindings)
                    });
                    self.grants.push((u, *copy, bindings));
                }
            }
            Step::Revoke { user, copy } => {
                let u = user.index(USERS);
                let (uid, role) =
                    (self.users[u], self.roles[usize::from(*copy)]);
                if self.held(u, *copy) {
                    ok(&mut self.e, sys, |m| m.revoke_role(uid, role));
                    self.grants.retain(|(x, c, _)| !(*x == u && *c == *copy));
                } else {
                    refused(&mut self.e, sys, |m| m.revoke_role(uid, role));
                }
            }
            Step::Link { child, parent } => {
                let movable = &self.nodes[self.companies.len()..];
                let (child, parent) =
                    (*child.get(movable), *parent.get(&self.nodes));
                let (Some(c), Some(_)) =
                    (self.e.object(child), self.e.object(parent))
                else {
                    let err = refused(&mut self.e, sys, |m| {
                        m.link_object(child, parent)
                    });
                    assert!(err.is_not_found(), "{err}");
                    return;
                };
                if c.parents().contains(&parent) {
                    let err = refused(&mut self.e, sys, |m| {
                        m.link_object(child, parent)
                    });
                    assert!(
                        matches!(err.kind(), ErrorKind::Duplicate { .. }),
                        "{err}"
                    );
                } else if at_or_under(&self.e, parent, child) {
                    let err = refused(&mut self.e, sys, |m| {
                        m.link_object(child, parent)
                    });
                    assert!(
                        matches!(err.kind(), ErrorKind::Cycle { .. }),
                        "{err}"
                    );
                } else {
                    ok(&mut self.e, sys, |m| m.link_object(child, parent));
                    assert!(self
                        .e
                        .object(child)
                        .is_some_and(|c| c.parents().contains(&parent)));
                }
            }
            Step::Unlink { child, parent } => {
                let movable = &self.nodes[self.companies.len()..];
                let child = *child.get(movable);
                let parents = self
                    .e
                    .object(child)
                    .map(|c| c.parents().to_vec())
                    .unwrap_or_default();
                if parents.is_empty() {
                    return;
                }
                let parent = *parent.get(&parents);
                ok(&mut self.e, sys, |m| m.unlink_object(child, parent));
                assert!(!at_or_under_directly(&self.e, child, parent));
            }
            Step::Delete { unit } => {
                let units =
                    &self.nodes[self.companies.len() + self.services.len()..];
                let unit = *unit.get(units);
                if self.e.object(unit).is_none() {
                    let err =
                        refused(&mut self.e, sys, |m| m.delete_object(unit));
                    assert!(err.is_not_found(), "{err}");
                    return;
                }
                ok(&mut self.e, sys, |m| m.delete_object(unit));
                assert!(self.e.object(unit).is_none());
                // Grants bound to a deleted object go with it.
                let e = &self.e;
                self.grants.retain(|(_, _, bindings)| {
                    bindings.iter().all(|b| e.object(*b).is_some())
                });
            }
        }
    }

    /// The grants the engine holds for the bound users, as the reference
    /// records them.
    fn engine_grants(&self) -> BTreeSet<(usize, bool, Vec<ObjectId>)> {
        let mut out = BTreeSet::new();
        for (u, uid) in self.users.iter().enumerate() {
            let user = self.e.user(*uid).expect("user");
            for g in user.grants() {
                let grant = self.e.grant(g).expect("grant");
                let copy = grant.role() == self.roles[1];
                assert!(grant.role() == self.roles[0] || copy);
                let mut b = grant.bindings().to_vec();
                b.sort();
                out.insert((u, copy, b));
            }
        }
        out
    }

    fn verify(&self) {
        let model: BTreeSet<(usize, bool, Vec<ObjectId>)> = self
            .grants
            .iter()
            .map(|(u, c, b)| {
                let mut b = b.clone();
                b.sort();
                (*u, *c, b)
            })
            .collect();
        assert_eq!(self.engine_grants(), model, "grants in force");

        let mut objects: BTreeSet<ObjectId> =
            self.e.objects().map(|(id, _)| id).collect();
        objects.extend(self.nodes.iter().copied());
        objects.insert(ObjectId::new(9_999).expect("id"));
        let unit_ty =
            self.e.schema().object_type("metering_unit").expect("type");
        for (u, uid) in self.users.iter().enumerate() {
            let subject = Subject::User(*uid);
            for action in ACTIONS {
                let a = self.e.schema().action(action).expect("action");
                for o in &objects {
                    let allowed = self.e.check(subject, a, *o).is_allow();
                    // Allow implies: under every binding of some grant.
                    if allowed {
                        let inside = self.grants.iter().any(|(x, _, bs)| {
                            *x == u
                                && bs
                                    .iter()
                                    .all(|b| at_or_under(&self.e, *o, *b))
                        });
                        assert!(
                            inside,
                            "user {u} may {action} {o}, outside the \
                             intersection of every grant's bindings"
                        );
                    }
                    assert_eq!(
                        allowed,
                        self.expected(u, action, *o),
                        "user {u} {action} {o}"
                    );
                }
            }
            // Conversely: every platform metering unit under all bindings
            // of one of the user's grants is readable.
            for (x, _, bs) in &self.grants {
                if *x != u {
                    continue;
                }
                for (o, rec) in self.e.objects() {
                    let mine = rec.object_type() == unit_ty
                        && rec.org() == self.platform
                        && bs.iter().all(|b| at_or_under(&self.e, o, *b));
                    if mine {
                        for action in ["read", "read_values"] {
                            let a = self
                                .e
                                .schema()
                                .action(action)
                                .expect("action");
                            assert!(
                                self.e.check(subject, a, o).is_allow(),
                                "user {u} cannot {action} {o}, under {bs:?}"
                            );
                        }
                    }
                }
            }
        }
    }
}

/// Whether `parent` is a direct parent of `child`.
fn at_or_under_directly(
    e: &Engine,
    child: ObjectId,
    parent: ObjectId,
) -> bool {
    e.object(child).is_some_and(|c| c.parents().contains(&parent))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn bound_grants_stay_inside_the_intersection_of_their_bindings(
        plan in plan()
    ) {
        let mut w = build(&plan);
        for g in &plan.grants {
            w.apply(g);
        }
        w.verify();
        for s in &plan.steps {
            w.apply(s);
            w.verify();
        }
    }
}
