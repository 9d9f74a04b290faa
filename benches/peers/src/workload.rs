//! The Arbiter workload of `benches/check.rs`, rebuilt here so that this
//! crate does not depend on the root crate's benchmark file.
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
//!   custom role of another organization.
//!
//! The queries are a fixed vector of 4,096 `(user, action, object)`
//! triples: 70% on an object of the user's own organization, 30% on an
//! object of another one (the organization of the user's external role if
//! the user holds one, otherwise a random other organization); actions are
//! drawn from `read`, `read_values`, `write_values`, `update` and `delete`.
//!
//! The seeds, constants and draw order are those of `benches/check.rs`, so
//! both benchmarks see the same policy and the same queries.

use accord::{
    presets, ActionId, Actor, Engine, ObjectId, OrgId, RoleId, Timestamp,
    UserId,
};

use crate::Result;

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
/// Queries in the stream.
pub const QUERIES: usize = 4096;
/// Percentage of queries on an object of the user's own organization.
pub const OWN_ORG_PERCENT: usize = 70;
/// Seed of the generator.
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
const SITE_CHILDREN: [&str; 3] =
    ["observations", "forecasts", "cdf_forecasts"];
/// The arbiter's default roles, in creation order.
const DEFAULT_ROLES: [&str; 6] = [
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
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0), by multiply-shift.
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// A random element of a non-empty slice.
    fn pick<'a, T>(&mut self, items: &'a [T]) -> Result<&'a T> {
        let i = self.below(items.len());
        items.get(i).ok_or_else(|| "picked from an empty slice".into())
    }
}

/// One organization of the workload.
#[derive(Debug)]
struct OrgData {
    id: OrgId,
    /// Objects per type, in [`TYPES`] order.
    objects: Vec<Vec<ObjectId>>,
    custom_roles: Vec<RoleId>,
}

/// One user of the workload.
#[derive(Clone, Copy, Debug)]
struct UserData {
    id: UserId,
    org: usize,
    /// Position among the organization's users.
    local: usize,
    /// The organization of the user's external custom role, if any.
    external: Option<usize>,
}

/// One query of the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Query {
    /// The user asking.
    pub user: UserId,
    /// The action, as an accord handle.
    pub action: ActionId,
    /// The action's name (shared by the peers' translations).
    pub action_name: &'static str,
    /// The object.
    pub object: ObjectId,
}

/// The built engine and its query stream.
#[derive(Debug)]
pub struct Workload {
    /// The policy, built through the public mutation API.
    pub engine: Engine,
    /// The organizations created.
    pub orgs: usize,
    /// The fixed query stream.
    pub queries: Vec<Query>,
}

/// Builds the workload of `n` organizations and its query stream,
/// deterministically.
///
/// # Errors
///
/// A refused mutation (a bug in the generator).
pub fn build(n: usize) -> Result<Workload> {
    let mut engine = presets::arbiter().build()?;
    let mut rng = Rng(SEED ^ n as u64);
    let mut sys = engine.act(Actor::System, Timestamp::from_unix_millis(0));
    let mut orgs = Vec::with_capacity(n);
    let mut users = Vec::with_capacity(n * USERS_PER_ORG);

    for o in 0..n {
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
        orgs.push(OrgData { id, objects, custom_roles });
    }

    // Grants, once every organization's custom roles exist.
    for user in &mut users {
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
    let queries = make_queries(&engine, &orgs, &users)?;
    Ok(Workload { engine, orgs: n, queries })
}

/// Generates the fixed query stream.
fn make_queries(
    engine: &Engine,
    orgs: &[OrgData],
    users: &[UserData],
) -> Result<Vec<Query>> {
    let mut rng = Rng(SEED.rotate_left(17) ^ orgs.len() as u64);
    let schema = engine.schema();
    let mut actions = Vec::with_capacity(QUERY_ACTIONS.len());
    for name in QUERY_ACTIONS {
        actions.push((schema.action(name).ok_or("unknown action")?, name));
    }
    let n = orgs.len();
    let mut out = Vec::with_capacity(QUERIES);
    for _ in 0..QUERIES {
        let user = *rng.pick(users)?;
        let org = if rng.below(100) < OWN_ORG_PERCENT || n < 2 {
            user.org
        } else {
            match user.external {
                Some(o) => o,
                None => (user.org + 1 + rng.below(n - 1)) % n,
            }
        };
        let objects = &orgs.get(org).ok_or("org index")?.objects;
        let of_type = rng.pick(objects)?;
        let object = *rng.pick(of_type)?;
        let (action, action_name) = *rng.pick(&actions)?;
        out.push(Query { user: user.id, action, action_name, object });
    }
    Ok(out)
}
