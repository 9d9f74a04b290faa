//! Persistence and hostile input: snapshots (`Engine::to_json` /
//! `Engine::from_json`), replay of the audit log (`Engine::replay`), and
//! loading of malformed or malicious snapshots.
//!
//! * [`props`]: a save/load round trip preserves every decision and the
//!   snapshot itself; every state a random sequence of mutations passes
//!   through loads back; replaying the log on an empty engine reproduces
//!   the state; loading a damaged snapshot (byte flips, truncations,
//!   deleted fields) never panics.
//! * [`reachable`]: scenarios in which a mutation used to reach a state
//!   that the loader refuses, or the loader accepted a snapshot that an
//!   ordinary mutation then turned into one it refuses.
//! * [`hostile`]: one test per committed sample in `tests/data/hostile/`,
//!   each asserting the exact [`accord::LoadErrorKind`] (and path); replay
//!   refuses logs with gaps, reordered and tampered events; limits are
//!   enforced both when mutating and when loading; the committed fuzz
//!   crashers of `fuzz/regressions/` load without panicking; a snapshot
//!   cannot raise its own limits; bincode snapshots with a huge length
//!   prefix are refused, from a slice and from a reader with a byte
//!   limit.
//! * [`keyed`]: a keyed audit chain and sealed snapshots refuse every
//!   forgery of the log and the state; `Loader::verify_log` refuses a
//!   state that its unkeyed log does not replay to.
//! * Hostile text in every field (names, descriptions, token hashes,
//!   `public_by_default`) is refused on load, naming the field
//!   ([`hostile`]).
//! * [`text`]: the same hostile text refused by the mutations, changing
//!   nothing; a property test that a snapshot loads exactly the strings
//!   the mutations accept.
//!
//! Random policies come from [`gen`], which is shared with the fuzz
//! targets in `fuzz/`.

mod evolve;
mod features;
mod gen;
mod hostile;
mod keyed;
mod props;
mod reachable;
mod text;

use accord::{
    Actor, Builder, Downstream, Engine, Grantee, Level, ObjectId, RoleId,
    Schema, ShareSpec, Threshold, Timestamp, UserId,
};

/// The snapshot `v` as JSON text, with `schema` (the schema as the engine
/// serializes it) in place of `v["schema"]`, and the top-level fields in
/// the engine's order, so that a sample differs from the engine's own
/// output only where a recipe edited it. (Reordered keys load too: the
/// schema's types and actions are written as arrays of pairs.) Top-level
/// fields missing from `v` are left out.
pub fn compose(v: &serde_json::Value, schema: &str) -> String {
    let mut parts = Vec::new();
    for key in [
        "version", "schema", "config", "revision", "model", "log_base",
        "events", "chain",
    ] {
        if key == "schema" {
            if v.get(key).is_some() {
                parts.push(format!("\"schema\":{schema}"));
            }
        } else if let Some(x) = v.get(key) {
            parts.push(format!("\"{key}\":{x}"));
        }
    }
    format!("{{{}}}", parts.join(","))
}

/// The handles of [`base_engine`] that the hostile samples edit.
#[derive(Clone, Copy, Debug)]
pub struct Base {
    pub bob: UserId,
    pub site: ObjectId,
    pub meter: ObjectId,
    pub admins: RoleId,
}

/// A small valid engine, the base of every hostile sample: a schema with
/// `site` and `meter` types, no default roles, [`Downstream::Cascade`] (so
/// that share ceilings are validated on load), three organizations with a
/// user each, a meter under a site, an administrative role (it may grant
/// roles) held by ann, a data role held by bob of another organization,
/// and a chain of shares org A → bob (share-forward, `Read`) → cat
/// (`Read`).
pub fn base_engine() -> (Engine, Base) {
    let schema = Schema::builder()
        .object_type("site")
        .object_type("meter")
        .action("read_values", Threshold::Read)
        .build()
        .unwrap();
    let mut engine = Builder::new(schema)
        .configure(|c| c.downstream = Downstream::Cascade)
        .build()
        .unwrap();
    let t = Timestamp::from_unix_millis(1_700_000_000_000);
    let mut sys = engine.act(Actor::System, t);
    let a = sys.create_org("Org A").unwrap().value;
    let b = sys.create_org("Org B").unwrap().value;
    let c = sys.create_org("Org C").unwrap().value;
    let ann = sys.create_user(a, "ann@a.example").unwrap().value;
    let bob = sys.create_user(b, "bob@b.example").unwrap().value;
    let cat = sys.create_user(c, "cat@c.example").unwrap().value;
    let site = sys.create_object(a, "site", "plant-x", &[]).unwrap().value;
    let meter =
        sys.create_object(a, "meter", "meter-1", &[site]).unwrap().value;
    let admins = sys.create_role(a, "Admins", "").unwrap().value;
    let grant_roles =
        sys.create_permission_all(a, "Grant roles", "grant", "roles").unwrap();
    sys.add_permission_to_role(admins, grant_roles.value).unwrap();
    sys.grant_role(ann, admins, &[]).unwrap();
    let viewers = sys.create_role(a, "Viewers", "").unwrap().value;
    let read_sites =
        sys.create_permission_all(a, "Read sites", "read", "site").unwrap();
    sys.add_permission_to_role(viewers, read_sites.value).unwrap();
    sys.grant_role(bob, viewers, &[]).unwrap();
    let custom = ShareSpec::custom().level("site", Level::Read);
    sys.share(site, Grantee::User(bob), custom.clone().share_forward(true))
        .unwrap();
    engine
        .act(Actor::User(bob), t)
        .share(site, Grantee::User(cat), custom)
        .unwrap();
    (engine, Base { bob, site, meter, admins })
}
