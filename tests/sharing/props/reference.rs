//! A naive reference for the share path, written from the SPEC and the
//! Portfolio Manager preset's documentation: linear scans over
//! `Engine::shares()`, ancestors found by walking `parents()`.

use std::collections::{BTreeMap, BTreeSet};

use accord::schema::Threshold;
use accord::{
    ActionId, Engine, Grantee, Grantor, Level, ObjectId, ObjectKind, OrgId,
    Share, ShareId, ShareStatus, Subject, TypeId, UserId,
};

/// What each action of the preset needs through a share: its threshold
/// and, for the compound ones, a level on every child of a type.
fn requirement(action: &str) -> (Threshold, Option<(&'static str, Level)>) {
    match action {
        "read" => (Threshold::Read, None),
        "view_metrics" => (Threshold::Shared, None),
        "create" | "update" | "add_bill" | "add_meter" | "edit_meter"
        | "delete_meter" => (Threshold::Full, None),
        "select_energy_meters" => {
            (Threshold::Full, Some(("energy_meter", Level::Full)))
        }
        "select_water_meters" => {
            (Threshold::Full, Some(("water_meter", Level::Full)))
        }
        "delete" | "grant" | "revoke" | "transfer" => (Threshold::Owner, None),
        other => panic!("unexpected action `{other}`"),
    }
}

/// Whether the Property Data Administrator role allows `action` on an
/// existing object of type `ty`. Its `create` permissions apply to all and
/// are the right to make new objects: they cover no existing one
/// (DESIGN.md, "What does `create` mean on an object?").
fn pda_holds(action: &str, ty: &str) -> bool {
    const COMMON: [&str; 4] = ["read", "update", "delete", "grant"];
    match ty {
        "property" => {
            COMMON.contains(&action)
                || [
                    "view_metrics",
                    "add_meter",
                    "edit_meter",
                    "delete_meter",
                    "select_energy_meters",
                    "select_water_meters",
                    "transfer",
                ]
                .contains(&action)
        }
        "energy_meter" | "water_meter" => {
            COMMON.contains(&action) || action == "add_bill"
        }
        "goal" | "recognition" => COMMON.contains(&action),
        _ => false,
    }
}

/// The level `s` gives on `o` of type `t`: the object's override, else the
/// type's level, else the kind's default.
/// What a share would be lowered to: per object, (stored, derivable).
pub(crate) type Lowered = BTreeMap<ObjectId, (Level, Level)>;

pub(crate) fn level(s: &Share, o: ObjectId, t: TypeId) -> Level {
    if let Some((_, l)) = s.object_levels().iter().find(|(x, _)| *x == o) {
        return *l;
    }
    if let Some((_, l)) = s.type_levels().iter().find(|(x, _)| *x == t) {
        return *l;
    }
    s.kind().default_level()
}

/// A snapshot of the engine's state, read through its public API only.
pub(crate) struct View<'a> {
    e: &'a Engine,
    owner: UserId,
    owner_org: OrgId,
    /// Live data objects: type, owner, ancestors, direct children.
    objects: BTreeMap<ObjectId, (TypeId, OrgId, BTreeSet<ObjectId>)>,
    children: BTreeMap<ObjectId, Vec<ObjectId>>,
    pub(crate) shares: Vec<(ShareId, Share)>,
}

impl<'a> View<'a> {
    pub(crate) fn new(e: &'a Engine, owner: UserId, owner_org: OrgId) -> Self {
        let mut objects = BTreeMap::new();
        let mut children: BTreeMap<ObjectId, Vec<ObjectId>> = BTreeMap::new();
        for (id, o) in e.objects() {
            if o.kind() != ObjectKind::Data {
                continue;
            }
            let mut anc = BTreeSet::new();
            let mut todo: Vec<ObjectId> = o.parents().to_vec();
            while let Some(p) = todo.pop() {
                if anc.insert(p) {
                    let rec = e.object(p).expect("parent exists");
                    todo.extend_from_slice(rec.parents());
                }
            }
            for p in o.parents() {
                children.entry(*p).or_default().push(id);
            }
            objects.insert(id, (o.object_type(), o.org(), anc));
        }
        let shares = e.shares().map(|(id, s)| (id, s.clone())).collect();
        View { e, owner, owner_org, objects, children, shares }
    }

    pub(crate) fn objects(&self) -> impl Iterator<Item = ObjectId> + '_ {
        self.objects.keys().copied()
    }

    pub(crate) fn ty(&self, o: ObjectId) -> Option<TypeId> {
        self.objects.get(&o).map(|(t, _, _)| *t)
    }

    /// Whether `o` is `root` or lies under it.
    pub(crate) fn covers(&self, root: ObjectId, o: ObjectId) -> bool {
        root == o
            || self.objects.get(&o).is_some_and(|(_, _, a)| a.contains(&root))
    }

    /// `root` and everything under it.
    pub(crate) fn subtree(&self, root: ObjectId) -> Vec<ObjectId> {
        self.objects().filter(|o| self.covers(root, *o)).collect()
    }

    pub(crate) fn org_of(&self, u: UserId) -> Option<OrgId> {
        self.e.user(u).map(|u| u.org())
    }

    /// The grantees a subject matches.
    pub(crate) fn grantees(&self, s: Subject) -> Vec<Grantee> {
        match s {
            Subject::User(u) => {
                let mut g = vec![Grantee::User(u), Grantee::Public];
                if let Some(o) = self.org_of(u) {
                    g.push(Grantee::Org(o));
                }
                g
            }
            _ => vec![Grantee::Public],
        }
    }

    /// The highest level the grantees hold on `o` through accepted
    /// shares, if any covers it.
    pub(crate) fn held(&self, gs: &[Grantee], o: ObjectId) -> Option<Level> {
        let t = self.ty(o)?;
        self.shares
            .iter()
            .filter(|(_, s)| s.status() == ShareStatus::Accepted)
            .filter(|(_, s)| gs.contains(&s.grantee()))
            .filter(|(_, s)| self.covers(s.root(), o))
            .map(|(_, s)| level(s, o, t))
            .max()
    }

    /// Whether `u` holds share-forward on `root` through an accepted
    /// share to them or their organization, rooted at or above it.
    pub(crate) fn holds_forward(&self, u: UserId, root: ObjectId) -> bool {
        let mut personal = vec![Grantee::User(u)];
        if let Some(o) = self.org_of(u) {
            personal.push(Grantee::Org(o));
        }
        self.shares.iter().any(|(_, s)| {
            s.status() == ShareStatus::Accepted
                && s.share_forward()
                && personal.contains(&s.grantee())
                && self.covers(s.root(), root)
        })
    }

    /// The reference decision.
    pub(crate) fn allows(&self, s: Subject, a: ActionId, o: ObjectId) -> bool {
        let Some((t, org, _)) = self.objects.get(&o) else { return false };
        let (t, org) = (*t, *org);
        let schema = self.e.schema();
        let action = schema.action_name(a).expect("action");
        let tname = schema.type_name(t).expect("type");
        if s == Subject::User(self.owner)
            && org == self.owner_org
            && pda_holds(action, tname)
        {
            return true;
        }
        let gs = self.grantees(s);
        let (threshold, every) = requirement(action);
        let reached = self.shares.iter().any(|(_, sh)| {
            sh.status() == ShareStatus::Accepted
                && gs.contains(&sh.grantee())
                && self.covers(sh.root(), o)
                && threshold.is_met_by(level(sh, o, t))
        });
        if !reached {
            return false;
        }
        let Some((child_type, need)) = every else { return true };
        let ct = schema.object_type(child_type).expect("type");
        self.children.get(&o).into_iter().flatten().all(|c| {
            self.ty(*c) != Some(ct)
                || self.held(&gs, *c).is_some_and(|h| h >= need)
        })
    }

    /// The shares not derivable by a chain from the owner at their stored
    /// levels (PostgreSQL's grant-option semantics): the least fixpoint of
    /// "an owner share is derivable at its levels; a share granted by a
    /// user is derivable when the user holds share-forward on its root (or
    /// above) through another derivable accepted share to them or their
    /// organization, at the lesser of its levels and the user's derivable
    /// levels". Returns each offending share with what it would be.
    pub(crate) fn underivable(&self) -> Vec<(ShareId, Option<Lowered>)> {
        type Levels = BTreeMap<ObjectId, Level>;
        let mut derived: BTreeMap<ShareId, Option<Levels>> =
            self.shares.iter().map(|(id, _)| (*id, None)).collect();
        loop {
            let mut changed = false;
            for (id, s) in &self.shares {
                let subtree = self.subtree(s.root());
                let stored = |o: ObjectId| {
                    level(s, o, self.ty(o).expect("live object"))
                };
                let target: Option<Levels> = match s.grantor() {
                    Grantor::Owner => Some(
                        subtree.iter().map(|o| (*o, stored(*o))).collect(),
                    ),
                    Grantor::User(g) => self.org_of(g).and_then(|org| {
                        let personal = [Grantee::User(g), Grantee::Org(org)];
                        let sources: Vec<(&Share, &Levels)> = self
                            .shares
                            .iter()
                            .filter(|(vid, v)| {
                                vid != id
                                    && v.status() == ShareStatus::Accepted
                            })
                            .filter_map(|(vid, v)| {
                                derived
                                    .get(vid)
                                    .and_then(Option::as_ref)
                                    .map(|l| (v, l))
                            })
                            .collect();
                        let forward = sources.iter().any(|(v, _)| {
                            v.share_forward()
                                && personal.contains(&v.grantee())
                                && self.covers(v.root(), s.root())
                        });
                        if !forward {
                            return None;
                        }
                        let mut out = Levels::new();
                        for o in &subtree {
                            let held = sources
                                .iter()
                                .filter(|(v, _)| {
                                    personal.contains(&v.grantee())
                                        || v.grantee() == Grantee::Public
                                })
                                .filter_map(|(_, l)| l.get(o).copied())
                                .max()
                                .unwrap_or(Level::None);
                            out.insert(*o, stored(*o).min(held));
                        }
                        Some(out)
                    }),
                };
                if derived.get(id) != Some(&target) {
                    derived.insert(*id, target);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let mut bad = Vec::new();
        for (id, s) in &self.shares {
            match derived.get(id).and_then(Option::as_ref) {
                None => bad.push((*id, None)),
                Some(levels) => {
                    let lowered: BTreeMap<ObjectId, (Level, Level)> = levels
                        .iter()
                        .map(|(o, d)| {
                            let t = self.ty(*o).expect("live");
                            (*o, (level(s, *o, t), *d))
                        })
                        .filter(|(_, (stored, d))| d < stored)
                        .collect();
                    if !lowered.is_empty() {
                        bad.push((*id, Some(lowered)));
                    }
                }
            }
        }
        bad
    }
}

/// Whether the schema declares exactly the actions the reference knows,
/// with the thresholds it assumes.
pub(crate) fn assert_schema_matches(e: &Engine) {
    let schema = e.schema();
    for a in schema.actions() {
        let name = schema.action_name(a).expect("name");
        let (threshold, every) = requirement(name);
        let def = schema.action_def(a).expect("def");
        assert_eq!(def.threshold(), threshold, "threshold of {name}");
        let declared: Vec<(TypeId, Level)> = def.every_child().collect();
        let expected: Vec<(TypeId, Level)> = every
            .map(|(t, l)| (schema.object_type(t).expect("type"), l))
            .into_iter()
            .collect();
        assert_eq!(declared, expected, "every-child rule of {name}");
    }
}
