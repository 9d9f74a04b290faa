//! A deliberately naive reference evaluator of the role path, and a check
//! of the policy store's structural invariants.
//!
//! Everything here reads the policy only through the engine's public,
//! read-only record accessors (`users`, `objects`, `roles`, `permissions`,
//! `grants`) and re-derives every decision by a linear scan, so it shares
//! no code and no data structure with the index that `Engine::check`
//! reads. Ancestors are found by walking `parents()`, never through the
//! precomputed `Object::ancestors`.

use std::collections::BTreeSet;

use accord::schema::CREATE;
use accord::{
    ActionId, Engine, GrantId, ObjectId, ObjectKind, Permission, PermissionId,
    RoleId, Subject,
};

/// Whether `object` is `target` or lies under it, found by walking the
/// `parents()` links upwards (depth first, each object visited once).
pub fn at_or_under(
    engine: &Engine,
    object: ObjectId,
    target: ObjectId,
) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![object];
    while let Some(o) = stack.pop() {
        if o == target {
            return true;
        }
        if !seen.insert(o) {
            continue;
        }
        if let Some(rec) = engine.object(o) {
            stack.extend(rec.parents().iter().copied());
        }
    }
    false
}

/// Every ancestor of `object` (excluding itself), by walking `parents()`.
pub fn walked_ancestors(engine: &Engine, object: ObjectId) -> Vec<ObjectId> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<ObjectId> = match engine.object(object) {
        Some(rec) => rec.parents().to_vec(),
        None => Vec::new(),
    };
    while let Some(o) = stack.pop() {
        if seen.insert(o) {
            if let Some(rec) = engine.object(o) {
                stack.extend(rec.parents().iter().copied());
            }
        }
    }
    seen.into_iter().collect()
}

/// Whether `perm` covers `object` (ignoring the action): an applies-to-all
/// permission covers every object of its type owned by its organization;
/// any other covers exactly the objects in its list.
///
/// One exception, as documented on `Permission::covers`: an applies-to-all
/// `create` permission is the right to make new objects of its type and
/// covers no existing object.
pub fn covers(engine: &Engine, perm: &Permission, object: ObjectId) -> bool {
    let Some(obj) = engine.object(object) else { return false };
    if perm.applies_to_all() {
        perm.action() != CREATE
            && perm.object_type() == obj.object_type()
            && perm.org() == obj.org()
    } else {
        perm.objects().any(|o| o == object)
    }
}

/// The reference decision: `true` iff some grant of `subject` is effective
/// on `object` (the object is at or under every binding) and its role
/// holds a permission for `action` that covers `object`. Anonymous and
/// unknown subjects, unknown actions and unknown objects are denied.
pub fn reference_check(
    engine: &Engine,
    subject: Subject,
    action: ActionId,
    object: ObjectId,
) -> bool {
    !reference_paths(engine, subject, action, object).is_empty()
}

/// Every `(grant, role, permission)` path that allows `subject` to perform
/// `action` on `object`, found by scanning all grants of the policy.
pub fn reference_paths(
    engine: &Engine,
    subject: Subject,
    action: ActionId,
    object: ObjectId,
) -> BTreeSet<(GrantId, RoleId, PermissionId)> {
    let mut out = BTreeSet::new();
    let user = match subject {
        Subject::User(u) => u,
        _ => return out,
    };
    if engine.user(user).is_none() || engine.object(object).is_none() {
        return out;
    }
    for (gid, grant) in engine.grants() {
        if grant.user() != user {
            continue;
        }
        let effective =
            grant.bindings().iter().all(|b| at_or_under(engine, object, *b));
        if !effective {
            continue;
        }
        let Some(role) = engine.role(grant.role()) else { continue };
        for pid in role.permissions() {
            let Some(perm) = engine.permission(pid) else { continue };
            if perm.action() == action && covers(engine, perm, object) {
                out.insert((gid, grant.role(), pid));
            }
        }
    }
    out
}

/// Asserts the structural invariants of the policy store: no dangling
/// references, back-references agree with forward ones, explicit lists
/// hold only objects of the permission's type and organization, the
/// parent graph is acyclic, and each object's precomputed ancestors equal
/// the ancestors found by walking its parents.
pub fn assert_invariants(engine: &Engine) {
    let limits = &engine.config().limits;
    for (id, org) in engine.orgs() {
        for u in org.users() {
            let user = engine.user(u).expect("org lists a dangling user");
            assert_eq!(user.org(), id, "user {u} listed in the wrong org");
        }
        for r in org.roles() {
            let role = engine.role(r).expect("org lists a dangling role");
            assert_eq!(role.org(), id, "role {r} listed in the wrong org");
        }
        for p in org.permissions() {
            let perm =
                engine.permission(p).expect("org lists a dangling permission");
            assert_eq!(perm.org(), id, "{p} listed in the wrong org");
        }
    }
    for (id, user) in engine.users() {
        let org = engine.org(user.org()).expect("user in a dangling org");
        assert!(org.users().any(|u| u == id), "{id} missing from its org");
        let obj = engine.object(user.object()).expect("user object missing");
        assert_eq!(obj.kind(), ObjectKind::User(id));
        assert!(user.grants().count() <= limits.max_grants_per_user);
        for g in user.grants() {
            let grant = engine.grant(g).expect("user holds a dangling grant");
            assert_eq!(grant.user(), id, "{g} listed under the wrong user");
        }
    }
    for (id, obj) in engine.objects() {
        assert!(engine.org(obj.org()).is_some(), "object in a dangling org");
        assert!(
            engine
                .objects_of_type(obj.org(), obj.object_type())
                .any(|o| o == id),
            "{id} missing from its org"
        );
        match obj.kind() {
            ObjectKind::Data => {}
            ObjectKind::User(u) => {
                assert_eq!(engine.user(u).map(|u| u.object()), Some(id));
            }
            ObjectKind::Role(r) => {
                assert_eq!(engine.role(r).map(|r| r.object()), Some(id));
            }
            ObjectKind::Permission(p) => {
                assert_eq!(engine.permission(p).map(|p| p.object()), Some(id));
            }
        }
        for p in obj.parents() {
            let parent = engine.object(*p).expect("dangling parent");
            assert!(parent.children().any(|c| c == id), "{p} lost child {id}");
        }
        for c in obj.children() {
            let child = engine.object(c).expect("dangling child");
            assert!(child.parents().contains(&id), "{c} lost parent {id}");
        }
        assert!(obj.parents().len() <= limits.max_parents, "{id} parents");
        let walked = walked_ancestors(engine, id);
        assert!(walked.len() <= limits.max_ancestors, "{id} ancestors");
        assert!(!walked.contains(&id), "{id} lies on a cycle");
        assert_eq!(
            obj.ancestors(),
            walked.as_slice(),
            "precomputed ancestors of {id} differ from its parent walk"
        );
    }
    for (id, role) in engine.roles() {
        assert!(engine.org(role.org()).is_some(), "{id} in a dangling org");
        let n = role.permissions().count();
        assert!(n <= limits.max_permissions_per_role, "{id} holds {n}");
        for p in role.permissions() {
            let perm =
                engine.permission(p).expect("role holds a dangling perm");
            assert_eq!(perm.org(), role.org(), "{id} holds a foreign {p}");
            assert!(perm.roles().any(|r| r == id), "{p} forgot role {id}");
        }
        let administrative = role.permissions().any(|p| {
            engine.permission(p).is_some_and(|p| {
                engine.schema().is_administrative(p.action(), p.object_type())
            })
        });
        for g in role.grants() {
            let grant = engine.grant(g).expect("role lists a dangling grant");
            assert_eq!(grant.role(), id, "{g} listed under the wrong role");
            let outside = engine
                .user(grant.user())
                .is_some_and(|u| u.org() != role.org());
            assert!(
                !(administrative && outside),
                "administrative {id} granted outside its org by {g}"
            );
        }
    }
    for (id, perm) in engine.permissions() {
        assert!(engine.org(perm.org()).is_some(), "{id} in a dangling org");
        if perm.applies_to_all() {
            assert_eq!(perm.objects().count(), 0, "{id} applies to all");
        }
        let n = perm.objects().count();
        assert!(n <= limits.max_objects_per_permission, "{id} lists {n}");
        for o in perm.objects() {
            let obj = engine.object(o).expect("permission lists dangling");
            assert_eq!(
                obj.object_type(),
                perm.object_type(),
                "{id} lists {o}"
            );
            assert_eq!(obj.org(), perm.org(), "{id} lists foreign {o}");
        }
        for r in perm.roles() {
            let role = engine.role(r).expect("permission in a dangling role");
            assert!(role.permissions().any(|p| p == id), "{r} forgot {id}");
        }
    }
    for (id, grant) in engine.grants() {
        let user = engine.user(grant.user()).expect("grant to dangling user");
        let role = engine.role(grant.role()).expect("grant of dangling role");
        assert!(user.grants().any(|g| g == id), "user forgot {id}");
        assert!(role.grants().any(|g| g == id), "role forgot {id}");
        assert!(
            grant.bindings().len() <= limits.max_bindings,
            "{id} bindings"
        );
        for b in grant.bindings() {
            let obj = engine.object(*b).expect("grant bound to dangling");
            assert_eq!(obj.kind(), ObjectKind::Data, "{id} bound to {b}");
        }
        for ty in role.required_bindings() {
            let bound = grant.bindings().iter().any(|b| {
                engine.object(*b).is_some_and(|o| o.object_type() == *ty)
            });
            assert!(bound, "{id} lacks a required binding");
        }
    }
}
