//! Fixtures and assertions shared by the sharing scenarios.
//!
//! Mutations go through [`ok`] (asserts the mutation was applied, bumped
//! the revision by exactly one, logged one applied event and left the
//! index consistent) or [`refused`] (asserts the revision, the shares,
//! the connections, the pending transfers and every decision are
//! unchanged, and that one refused event was logged).

#![cfg(test)]

use std::collections::BTreeSet;
use std::fmt::Debug;

pub(super) use accord::{
    presets, ActionId, Actor, Decision, Denial, Downstream, Engine, ErrorKind,
    Grantee, Grantor, Level, MutationError, ObjectId, Op, OrgId, Outcome,
    Reason, Receipt, Share, ShareId, ShareKind, ShareSpec, ShareStatus,
    Subject, Timestamp, TypeId, UserId,
};

/// The time every scenario acts at.
pub(super) const T: Timestamp = Timestamp::from_unix_millis(1_700_000_000_000);

/// The owner's role in the Portfolio Manager preset.
pub(super) const PDA: &str = "Property Data Administrator";

/// Every action of the Portfolio Manager preset, in schema order.
pub(super) const ACTIONS: [&str; 14] = [
    "create",
    "read",
    "update",
    "delete",
    "grant",
    "revoke",
    "view_metrics",
    "add_bill",
    "add_meter",
    "edit_meter",
    "delete_meter",
    "select_energy_meters",
    "select_water_meters",
    "transfer",
];

/// A Portfolio Manager engine with the given downstream policy (sharing
/// needs acceptance and connections, as in the preset).
pub(super) fn engine(downstream: Downstream) -> Engine {
    presets::portfolio()
        .configure(|c| c.downstream = downstream)
        .build()
        .expect("preset builds")
}

pub(super) fn action(e: &Engine, name: &str) -> ActionId {
    e.schema().action(name).unwrap_or_else(|| panic!("no action `{name}`"))
}

pub(super) fn ty(e: &Engine, name: &str) -> TypeId {
    e.schema().object_type(name).unwrap_or_else(|| panic!("no type `{name}`"))
}

/// An account (organization) with one user `<name>@example.com`.
pub(super) fn account(e: &mut Engine, name: &str) -> (OrgId, UserId) {
    let mut sys = e.act(Actor::System, T);
    let org = sys.create_org(name).expect("create org").value;
    let email = format!("{}@example.com", name.to_lowercase());
    let user = sys.create_user(org, &email).expect("create user").value;
    (org, user)
}

/// Another user in an existing account.
pub(super) fn member(e: &mut Engine, org: OrgId, email: &str) -> UserId {
    e.act(Actor::System, T).create_user(org, email).expect("user").value
}

/// An account whose user is its Property Data Administrator.
pub(super) fn owner_account(e: &mut Engine, name: &str) -> (OrgId, UserId) {
    let (org, user) = account(e, name);
    let pda = e.role_by_name(org, PDA).expect("PDA role");
    e.act(Actor::System, T).grant_role(user, pda, &[]).expect("grant PDA");
    (org, user)
}

/// Connects two accounts (requested by `a`, accepted by `b`).
pub(super) fn connect(e: &mut Engine, a: OrgId, b: OrgId) {
    let mut sys = e.act(Actor::System, T);
    sys.request_connection(a, b).expect("request connection");
    sys.respond_connection(a, b, true).expect("accept connection");
}

/// A data object created by the system for `org`.
pub(super) fn object(
    e: &mut Engine,
    org: OrgId,
    ty: &str,
    key: &str,
    parents: &[ObjectId],
) -> ObjectId {
    e.act(Actor::System, T)
        .create_object(org, ty, key, parents)
        .expect("create object")
        .value
}

/// A property with two energy meters, one water meter, a goal and a
/// recognition.
#[derive(Clone, Copy, Debug)]
pub(super) struct Building {
    pub(super) property: ObjectId,
    pub(super) electric: ObjectId,
    pub(super) gas: ObjectId,
    pub(super) water: ObjectId,
    pub(super) goal: ObjectId,
    pub(super) recognition: ObjectId,
}

impl Building {
    pub(super) fn all(&self) -> [ObjectId; 6] {
        [
            self.property,
            self.electric,
            self.gas,
            self.water,
            self.goal,
            self.recognition,
        ]
    }
}

pub(super) fn building(e: &mut Engine, org: OrgId, name: &str) -> Building {
    let property = object(e, org, "property", name, &[]);
    let p = [property];
    Building {
        property,
        electric: object(e, org, "energy_meter", &format!("{name} el"), &p),
        gas: object(e, org, "energy_meter", &format!("{name} gas"), &p),
        water: object(e, org, "water_meter", &format!("{name} water"), &p),
        goal: object(e, org, "goal", &format!("{name} goal"), &p),
        recognition: object(
            e,
            org,
            "recognition",
            &format!("{name} recognition"),
            &p,
        ),
    }
}

/// The owner Jack with a building, and one connected account per
/// `names`, each with one user.
pub(super) struct World {
    pub(super) e: Engine,
    pub(super) jack_org: OrgId,
    pub(super) jack: UserId,
    pub(super) hq: Building,
    pub(super) orgs: Vec<OrgId>,
    pub(super) users: Vec<UserId>,
}

pub(super) fn world(downstream: Downstream, names: &[&str]) -> World {
    let mut e = engine(downstream);
    let (jack_org, jack) = owner_account(&mut e, "Jack");
    let hq = building(&mut e, jack_org, "HQ");
    let mut orgs = Vec::new();
    let mut users = Vec::new();
    for n in names {
        let (o, u) = account(&mut e, n);
        connect(&mut e, jack_org, o);
        orgs.push(o);
        users.push(u);
    }
    World { e, jack_org, jack, hq, orgs, users }
}

/// Jack shares `root` with `to` and `to` accepts.
pub(super) fn owner_shares(
    w: &mut World,
    root: ObjectId,
    to: UserId,
    spec: ShareSpec,
) -> ShareId {
    let jack = w.jack;
    share_accepted(&mut w.e, jack, root, to, spec)
}

/// `from` shares `root` with user `to`, who accepts.
pub(super) fn share_accepted(
    e: &mut Engine,
    from: UserId,
    root: ObjectId,
    to: UserId,
    spec: ShareSpec,
) -> ShareId {
    let id = ok(e, |e| {
        e.act(Actor::User(from), T).share(root, Grantee::User(to), spec)
    });
    assert_eq!(status(e, id), ShareStatus::Pending);
    ok(e, |e| e.act(Actor::User(to), T).accept_share(id));
    assert_eq!(status(e, id), ShareStatus::Accepted);
    id
}

pub(super) fn status(e: &Engine, id: ShareId) -> ShareStatus {
    e.share(id).expect("share exists").status()
}

/// The level a share gives on `obj`.
pub(super) fn level_of(e: &Engine, id: ShareId, obj: ObjectId) -> Level {
    let t = e.object(obj).expect("object").object_type();
    e.share(id).expect("share exists").level_for(obj, t)
}

/// Every share, in handle order.
pub(super) fn all_shares(e: &Engine) -> Vec<(ShareId, Share)> {
    e.shares().map(|(id, s)| (id, s.clone())).collect()
}

/// The live data objects, in handle order.
pub(super) fn data_objects(e: &Engine) -> Vec<ObjectId> {
    e.objects()
        .filter(|(_, o)| o.kind() == accord::ObjectKind::Data)
        .map(|(id, _)| id)
        .collect()
}

/// Every decision of every user and of `Anonymous` on every data object.
pub(super) fn decisions(
    e: &Engine,
) -> Vec<(Subject, ActionId, ObjectId, bool)> {
    let mut subjects: Vec<Subject> =
        e.users().map(|(u, _)| Subject::User(u)).collect();
    subjects.push(Subject::Anonymous);
    let objects = data_objects(e);
    let mut out = Vec::new();
    for s in &subjects {
        for a in e.schema().actions() {
            for o in &objects {
                out.push((*s, a, *o, e.check(*s, a, *o).is_allow()));
            }
        }
    }
    out
}

/// Applies a mutation that must succeed; see the module documentation.
#[track_caller]
pub(super) fn ok<V: Debug>(
    e: &mut Engine,
    f: impl FnOnce(&mut Engine) -> Result<Receipt<V>, MutationError>,
) -> V {
    let before = e.revision().get();
    let logged = e.events().len();
    let receipt = match f(e) {
        Ok(r) => r,
        Err(err) => panic!("mutation refused: {err} ({:?})", err.kind()),
    };
    assert_eq!(receipt.revision.get(), before + 1, "revision +1");
    assert_eq!(e.revision(), receipt.revision);
    assert_eq!(e.events().len(), logged + 1, "one event logged");
    let ev = e.events().last().expect("event");
    assert!(ev.applied(), "event marked applied");
    assert_eq!(ev.revision, receipt.revision);
    assert!(e.index_is_consistent(), "index consistent after mutation");
    receipt.value
}

/// Applies a mutation that must be refused, asserts nothing changed and
/// returns the reason.
#[track_caller]
pub(super) fn refused<V: Debug>(
    e: &mut Engine,
    f: impl FnOnce(&mut Engine) -> Result<Receipt<V>, MutationError>,
) -> ErrorKind {
    let revision = e.revision();
    let logged = e.events().len();
    let shares = all_shares(e);
    let connections: Vec<accord::Connection> =
        e.connections().copied().collect();
    let objects = data_objects(e);
    let transfers: Vec<_> =
        objects.iter().map(|o| e.pending_transfer(*o)).collect();
    let owners: Vec<_> =
        objects.iter().map(|o| e.object(*o).expect("object").org()).collect();
    let table = decisions(e);
    let err = match f(e) {
        Ok(r) => panic!("mutation applied, expected a refusal: {r:?}"),
        Err(err) => err,
    };
    assert_eq!(e.revision(), revision, "refusal keeps the revision");
    assert_eq!(e.events().len(), logged + 1, "refusal is logged");
    let ev = e.events().last().expect("event");
    match &ev.outcome {
        Outcome::Refused(r) => assert_eq!(r.code, err.code()),
        Outcome::Applied => panic!("refusal logged as applied"),
    }
    assert_eq!(ev.revision, revision);
    assert_eq!(all_shares(e), shares, "refusal changes no share");
    let now: Vec<accord::Connection> = e.connections().copied().collect();
    assert_eq!(now, connections, "refusal changes no connection");
    assert_eq!(data_objects(e), objects, "refusal changes no object");
    let t: Vec<_> = objects.iter().map(|o| e.pending_transfer(*o)).collect();
    assert_eq!(t, transfers, "refusal changes no pending transfer");
    let o: Vec<_> =
        objects.iter().map(|o| e.object(*o).expect("object").org()).collect();
    assert_eq!(o, owners, "refusal changes no owner");
    assert_eq!(decisions(e), table, "refusal changes no decision");
    assert!(e.index_is_consistent());
    err.kind().clone()
}

/// The decision of `user` doing `act` on `obj`, cross-checked against
/// `explain` and `allowed_actions`.
#[track_caller]
pub(super) fn can(e: &Engine, user: UserId, act: &str, obj: ObjectId) -> bool {
    subject_can(e, Subject::User(user), act, obj)
}

#[track_caller]
pub(super) fn subject_can(
    e: &Engine,
    s: Subject,
    act: &str,
    obj: ObjectId,
) -> bool {
    let a = action(e, act);
    let d = e.check(s, a, obj);
    let r = e.explain(s, a, obj);
    assert_eq!(r.decision(), d, "explain agrees with check");
    assert_eq!(r.reasons().is_empty(), d == Decision::Deny);
    assert_eq!(r.denial().is_none(), d == Decision::Allow);
    assert_eq!(e.allowed_actions(s, obj).contains(a), d.is_allow());
    d.is_allow()
}

#[track_caller]
pub(super) fn allow(e: &Engine, user: UserId, act: &str, obj: ObjectId) {
    assert!(
        can(e, user, act, obj),
        "expected {user} allowed `{act}` on {obj}"
    );
}

#[track_caller]
pub(super) fn deny(e: &Engine, user: UserId, act: &str, obj: ObjectId) {
    assert!(
        !can(e, user, act, obj),
        "expected {user} denied `{act}` on {obj}"
    );
}

/// The names of the actions `s` may perform on `obj` (its tabs).
pub(super) fn tabs(e: &Engine, s: Subject, obj: ObjectId) -> BTreeSet<String> {
    let set = e.allowed_actions(s, obj);
    let names: BTreeSet<String> = set
        .iter()
        .map(|a| e.schema().action_name(a).expect("name").to_owned())
        .collect();
    let brute: BTreeSet<String> = ACTIONS
        .iter()
        .filter(|a| e.check(s, action(e, a), obj).is_allow())
        .map(|a| (*a).to_owned())
        .collect();
    assert_eq!(names, brute, "allowed_actions equals check per action");
    names
}

pub(super) fn names(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The EPA chain: Jack (owner) → Mary (Full) → Bill (Full) → Jane (Custom)
/// → Nick (Custom) → Emma (Custom), each in their own account, each
/// connected to the next.
pub(super) struct Chain {
    pub(super) e: Engine,
    pub(super) jack: UserId,
    pub(super) jack_org: OrgId,
    pub(super) hq: Building,
    /// Mary, Bill, Jane, Nick, Emma.
    pub(super) people: [UserId; 5],
    pub(super) orgs: [OrgId; 5],
    /// The share each of them received, in chain order.
    pub(super) shares: [ShareId; 5],
}

pub(super) const MARY: usize = 0;
pub(super) const BILL: usize = 1;
pub(super) const JANE: usize = 2;
pub(super) const NICK: usize = 3;
pub(super) const EMMA: usize = 4;

/// The Custom share of the chain: Read on the property, goals and
/// recognition, Full on every meter; share-forward as given.
pub(super) fn chain_custom(forward: bool) -> ShareSpec {
    ShareSpec::custom()
        .level("property", Level::Read)
        .level("energy_meter", Level::Full)
        .level("water_meter", Level::Full)
        .share_forward(forward)
}

pub(super) fn chain(downstream: Downstream) -> Chain {
    let mut e = engine(downstream);
    let (jack_org, jack) = owner_account(&mut e, "Jack");
    let hq = building(&mut e, jack_org, "HQ");
    let mut people = Vec::new();
    let mut orgs = Vec::new();
    let mut prev = jack_org;
    for name in ["Mary", "Bill", "Jane", "Nick", "Emma"] {
        let (o, u) = account(&mut e, name);
        connect(&mut e, prev, o);
        prev = o;
        people.push(u);
        orgs.push(o);
    }
    let specs = [
        ShareSpec::full(),
        ShareSpec::full(),
        chain_custom(true),
        chain_custom(true),
        chain_custom(false),
    ];
    let mut shares = Vec::new();
    let mut from = jack;
    for (to, spec) in people.iter().zip(specs) {
        shares.push(share_accepted(&mut e, from, hq.property, *to, spec));
        from = *to;
    }
    Chain {
        e,
        jack,
        jack_org,
        hq,
        people: people.try_into().expect("five people"),
        orgs: orgs.try_into().expect("five accounts"),
        shares: shares.try_into().expect("five shares"),
    }
}

impl Chain {
    pub(super) fn user(&self, i: usize) -> UserId {
        self.people[i]
    }
    pub(super) fn share(&self, i: usize) -> ShareId {
        self.shares[i]
    }
    /// The current spec of the share received by person `i`.
    pub(super) fn spec(&self, i: usize) -> ShareSpec {
        self.e.share_spec(self.shares[i]).expect("share exists")
    }
}
