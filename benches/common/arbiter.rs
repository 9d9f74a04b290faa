//! The Arbiter workload, shared by `benches/check.rs` and the peer crate
//! (`benches/peers`, which includes this file by path so that it builds on
//! its own).
//!
//! A deterministic generator (seeded SplitMix64) creates `N`
//! organizations, each with:
//!
//! * 50 users;
//! * 50 objects of each of the six data types; observations, forecasts and
//!   probabilistic forecasts have a site of their organization as parent;
//! * the six default roles of [`accord::presets::arbiter`], plus 6 custom
//!   roles of 2 permissions each: half of the 12 custom permissions apply
//!   to all objects of their type, half list 1 to 8 objects of the
//!   organization explicitly;
//! * grants: every user holds one default role (round-robin), every second
//!   user one custom role of their organization, and every tenth user one
//!   custom role of another organization (custom roles hold only data
//!   permissions, so granting them outside is allowed).
//!
//! The query stream is a fixed vector of 4,096 `(user, action, object)`
//! triples: 70% on an object of the user's own organization, 30% on an
//! object of another one (the organization of the user's external role if
//! the user holds one, otherwise a random other organization); actions are
//! drawn from `read`, `read_values`, `write_values`, `update` and `delete`.

use accord::{
    presets, ActionId, Actor, Engine, ObjectId, OrgId, RoleId, Timestamp,
    UserId,
};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Users per organization.
pub const USERS_PER_ORG: usize = 50;
/// Objects per data type per organization.
pub const OBJECTS_PER_TYPE: usize = 50;
/// Custom roles per organization.
pub const CUSTOM_ROLES: usize = 6;
/// Permissions per custom role.
pub const PERMS_PER_CUSTOM_ROLE: usize = 2;
/// Largest explicit object list of a custom permission.
pub const MAX_LISTED: usize = 8;
/// Queries in the stream (a power of two, so an index can be masked).
pub const QUERIES: usize = 4096;
/// Percentage of queries on an object of the user's own organization.
pub const OWN_ORG_PERCENT: usize = 70;
/// Seed of the generators.
pub const SEED: u64 = 0x00ac_c0d5_eed0_2024;

/// Data types, sites first so that children can name a site parent.
pub const TYPES: [&str; 6] = [
    "sites",
    "observations",
    "forecasts",
    "cdf_forecasts",
    "aggregates",
    "reports",
];
/// Types created under a site.
pub const SITE_CHILDREN: [&str; 3] =
    ["observations", "forecasts", "cdf_forecasts"];
/// The arbiter's default roles, in creation order.
pub const DEFAULT_ROLES: [&str; 6] = [
    "Read all",
    "Write all values",
    "Create metadata",
    "Delete metadata",
    "Update all",
    "Administer data access controls",
];
/// Actions used by custom permissions and by queries.
pub const QUERY_ACTIONS: [&str; 5] =
    ["read", "read_values", "write_values", "update", "delete"];

/// SplitMix64: tiny, fast and good enough to shape a workload.
#[derive(Debug)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0), by multiply-shift.
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// A random element of a non-empty slice.
    ///
    /// # Errors
    ///
    /// The slice is empty.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Result<&'a T> {
        let i = self.below(items.len());
        items.get(i).ok_or_else(|| "picked from an empty slice".into())
    }
}

/// One organization of the workload.
#[derive(Debug)]
pub struct OrgData {
    /// Its handle.
    pub id: OrgId,
    /// Its users, in creation order.
    pub users: Vec<UserId>,
    /// Objects per type, in [`TYPES`] order.
    pub objects: Vec<Vec<ObjectId>>,
    /// Its custom roles.
    pub custom_roles: Vec<RoleId>,
}

/// One user of the workload.
#[derive(Clone, Copy, Debug)]
pub struct UserData {
    /// Its handle.
    pub id: UserId,
    /// Its organization's position in [`Generated::orgs`].
    pub org: usize,
    /// Position among the organization's users.
    pub local: usize,
    /// The organization of the user's external custom role, if any.
    pub external: Option<usize>,
}

/// The built engine and what a query generator needs to know about it.
#[derive(Debug)]
pub struct Generated {
    /// The policy.
    pub engine: Engine,
    /// The organizations, in creation order.
    pub orgs: Vec<OrgData>,
    /// Every user.
    pub users: Vec<UserData>,
}

/// One query of the stream.
#[derive(Clone, Copy, Debug)]
pub struct StreamQuery {
    /// The user asking.
    pub user: UserId,
    /// The action, one of [`QUERY_ACTIONS`].
    pub action: ActionId,
    /// The object.
    pub object: ObjectId,
}

/// Builds the workload of `n` organizations through the public mutation
/// API, deterministically. The audit log is drained as the policy grows,
/// as an application storing it elsewhere would.
///
/// # Errors
///
/// A refused mutation (a bug in the generator).
pub fn generate(n: usize) -> Result<Generated> {
    let mut engine = presets::arbiter().build()?;
    let mut rng = Rng(SEED ^ n as u64);
    let t = Timestamp::from_unix_millis(0);
    let mut orgs = Vec::with_capacity(n);
    let mut users = Vec::with_capacity(n * USERS_PER_ORG);

    for o in 0..n {
        // The audit log is streamed out as the policy grows, as an
        // application storing it elsewhere would (`Engine::drain_events`).
        let _ = engine.drain_events();
        let mut sys = engine.act(Actor::System, t);
        let id = sys.create_org(&format!("Org {o}"))?.value;
        sys.accept_terms(id)?;
        let mut org_users = Vec::with_capacity(USERS_PER_ORG);
        for u in 0..USERS_PER_ORG {
            let user = sys.create_user(id, &format!("u{u}@o{o}.example"))?;
            org_users.push(user.value);
        }
        let mut objects: Vec<Vec<ObjectId>> = Vec::with_capacity(TYPES.len());
        for ty in TYPES {
            let mut of_type = Vec::with_capacity(OBJECTS_PER_TYPE);
            for i in 0..OBJECTS_PER_TYPE {
                let parent = if SITE_CHILDREN.contains(&ty) {
                    let sites = objects.first().ok_or("no sites")?;
                    vec![*rng.pick(sites)?]
                } else {
                    Vec::new()
                };
                let key = format!("o{o}-{ty}-{i}");
                of_type.push(sys.create_object(id, ty, &key, &parent)?.value);
            }
            objects.push(of_type);
        }
        let mut custom_roles = Vec::with_capacity(CUSTOM_ROLES);
        for r in 0..CUSTOM_ROLES {
            let name = format!("Custom {r}");
            let role = sys.create_role(id, &name, "benchmark role")?.value;
            for p in 0..PERMS_PER_CUSTOM_ROLE {
                let action = *rng.pick(&QUERY_ACTIONS)?;
                let t = rng.below(TYPES.len());
                let ty = *TYPES.get(t).ok_or("type index")?;
                let pname = format!("Custom {r}.{p}");
                // Alternate so exactly half of the permissions apply to all.
                let perm = if p % 2 == 0 {
                    sys.create_permission_all(id, &pname, action, ty)?
                } else {
                    let pool = objects.get(t).ok_or("type index")?;
                    let count = 1 + rng.below(MAX_LISTED);
                    let mut listed: Vec<ObjectId> = Vec::with_capacity(count);
                    while listed.len() < count {
                        let obj = *rng.pick(pool)?;
                        if !listed.contains(&obj) {
                            listed.push(obj);
                        }
                    }
                    sys.create_permission_for(id, &pname, action, ty, &listed)?
                };
                sys.add_permission_to_role(role, perm.value)?;
            }
            custom_roles.push(role);
        }
        for (local, user) in org_users.iter().enumerate() {
            let id = *user;
            users.push(UserData { id, org: o, local, external: None });
        }
        orgs.push(OrgData { id, users: org_users, objects, custom_roles });
    }

    // Grants, once every organization's custom roles exist.
    for (i, user) in users.iter_mut().enumerate() {
        if i % USERS_PER_ORG == 0 {
            let _ = engine.drain_events();
        }
        let mut sys = engine.act(Actor::System, t);
        let org = orgs.get(user.org).ok_or("org index")?;
        let local = user.local;
        let default_name = DEFAULT_ROLES
            .get(local % DEFAULT_ROLES.len())
            .ok_or("default role index")?;
        let default = sys
            .engine()
            .role_by_name(org.id, default_name)
            .ok_or("missing default role")?;
        sys.grant_role(user.id, default, &[])?;
        if local % 2 == 0 {
            let role = *rng.pick(&org.custom_roles)?;
            sys.grant_role(user.id, role, &[])?;
        }
        if local % 10 == 1 && n > 1 {
            let other = (user.org + 1 + rng.below(n - 1)) % n;
            let foreign = orgs.get(other).ok_or("org index")?;
            let role = *rng.pick(&foreign.custom_roles)?;
            sys.grant_role(user.id, role, &[])?;
            user.external = Some(other);
        }
    }
    let _ = engine.drain_events();
    Ok(Generated { engine, orgs, users })
}

/// The fixed stream of [`QUERIES`] queries on `g`.
///
/// # Errors
///
/// An action of [`QUERY_ACTIONS`] missing from the schema.
pub fn stream(g: &Generated) -> Result<Vec<StreamQuery>> {
    let mut rng = Rng(SEED.rotate_left(17) ^ g.orgs.len() as u64);
    let schema = g.engine.schema();
    let mut actions = Vec::with_capacity(QUERY_ACTIONS.len());
    for name in QUERY_ACTIONS {
        actions.push(schema.action(name).ok_or("unknown action")?);
    }
    let n = g.orgs.len();
    let mut out = Vec::with_capacity(QUERIES);
    for _ in 0..QUERIES {
        let user = *rng.pick(&g.users)?;
        let org = if rng.below(100) < OWN_ORG_PERCENT || n < 2 {
            user.org
        } else {
            match user.external {
                Some(o) => o,
                None => (user.org + 1 + rng.below(n - 1)) % n,
            }
        };
        let objects = &g.orgs.get(org).ok_or("org index")?.objects;
        let of_type = rng.pick(objects)?;
        let object = *rng.pick(of_type)?;
        let action = *rng.pick(&actions)?;
        out.push(StreamQuery { user: user.id, action, object });
    }
    Ok(out)
}
