/*!
An embeddable policy engine for platforms that hold other people's data.

`accord` keeps a policy — organizations, users, roles, permissions,
objects, grants, shares and API tokens — in memory, and answers
[`Engine::check`]`(subject, action, object)` with a [`Decision`]. The
answer is read from an index that every mutation keeps up to date, so
`check` never allocates, never fails (whatever it does not know, it
denies), and reflects every mutation that has returned.

Changes to the policy are authorized by the engine itself: each mutation
names an [`Actor`], is checked against the same policy, is validated, and
is recorded in an audit log with the revision it produced — or is
refused with a typed [`MutationError`], recorded too, and changes
nothing else.

This crate is the engine. Its workspace holds three more:
`accord-store` keeps an engine durable in SQLite or PostgreSQL,
`accord-policy` reads policies from TOML files, and `accord-cli` is the
`accord` command-line tool; see [Persistence](#persistence).

# Quick start

```
use accord::{Actor, Decision, Subject, Timestamp, presets};

let mut engine = presets::arbiter().build()?;
let t = Timestamp::from_unix_millis(1_700_000_000_000);
let mut sys = engine.act(Actor::System, t);

// An organization arrives with its default roles.
let utility = sys.create_org("Utility X")?.value;
sys.accept_terms(utility)?;
let admin = sys.create_user(utility, "admin@utility.example")?.value;
let admin_role = sys.engine()
    .role_by_name(utility, "Administer data access controls").unwrap();
let create = sys.engine().role_by_name(utility, "Create metadata").unwrap();
sys.grant_role(admin, admin_role, &[])?;
sys.grant_role(admin, create, &[])?;

// The administrator works as themself from now on.
let mut adm = engine.act(Actor::User(admin), t);
let site = adm.create_object(utility, "sites", "plant-x", &[])?.value;
let role = adm.create_role(utility, "Read plant X", "plant X for partners")?.value;
let perm = adm.create_permission_for(utility, "Read site X", "read", "sites", &[site]);
// Reading the site needs `read` on it, which the administrator lacks.
assert!(perm.unwrap_err().is_denied());

let read = engine.schema().action("read").unwrap();
assert_eq!(engine.check(Subject::User(admin), read, site), Decision::Deny);
# let _ = role;
# Ok::<(), Box<dyn std::error::Error>>(())
```

[`Engine::act`] starts mutations by one actor at one time: each
[`Mutator`] method applies one [`Op`] and returns a [`Receipt`] with the
new revision (or the refusal). [`presets`] holds four ready-made
schemas and configs; the repository's `examples/` run a longer scenario
with each (`cargo run --example quickstart`).

# Concepts

* **Schema** ([`Schema`]): the object types and actions of the
  application. Each action declares the [`Threshold`] a share must meet
  to reach it and whether it is administrative. `users`, `roles` and
  `permissions` are built-in object types, so authority over the policy
  is decided by the same `check` as authority over data. The [`Config`]
  beside it says which rules apply (terms of use, personal roles, share
  acceptance, connections, the downstream policy, public types, the
  [`Limits`]).
* **Organization**: owns users, roles, permissions and objects; created
  with the schema's default roles. Where the config requires it, its
  users can be granted roles only once it has accepted the terms of
  use.
* **User**: belongs to exactly one organization. With the config's
  personal roles, each user gets a personal role that reads the user and
  the role itself.
* **Object**: typed, owned by one organization, named by a key unique
  within its type, with parents forming a DAG (site → observation).
  Cycles are refused. Every user, role and permission also stands for an
  object of its built-in type.
* **Permission**: one action on one object type, either *applies to all*
  (every current and future object of the type owned by the permission's
  organization) or an explicit list of objects of that organization.
  Immutable once created, apart from its list.
* **Role**: a set of permissions of one organization.
* **Grant** and **bindings**: a user holding a role, optionally *bound*
  to objects: a bound grant is effective only on objects at or under
  every binding. A role can require bindings of given types
  ([`Mutator::create_bound_role`]).
* **Administrative** permissions (any action but `read` on the policy
  types, or an action declared administrative) never reach users of
  another organization: a role holding one cannot be granted outside, and
  one cannot be added to a role granted outside.
* **Share** and **levels** ([`Share`], [`ShareSpec`]): a root object and
  its subtree made available to a user, an organization or the public
  ([`Grantee`]), with a [`Level`] (`None`, `Read`, `Full`) per object type
  and per object. A [`ShareKind`] decides what its holder may edit, and a
  share may allow share-forward, capped by the grantor's own levels. The
  config may require the grantee to accept a share and the two
  organizations to be connected; [`Downstream`] says what happens to
  shares granted onward when one is removed or lowered (`Keep`,
  `Cascade`, `Restrict`).
* **Token** ([`Token`]): a read-only API credential of a user, optionally
  scoped to a subtree. Its secret is returned once and stored only as a
  hash; [`Engine::authenticate`] verifies a secret at a given time
  (expiry included) and returns the subject to check with. A token acts
  as its user, capped to non-administrative actions of threshold `Read`
  or below, inside its scope.
* **Subject** ([`Subject`]): a user, a token, or anonymous (who reaches
  only what is shared with the public).
* **Accounts** (feature `accounts`, module [`accounts`]): e-mail logins
  with Argon2id password hashes, time zones and languages, managed by
  platform administrators.
* **The audit log** ([`Event`]): every mutation attempted, applied or
  refused, in order: its sequence number, the [`Revision`] it left (the
  number of applied mutations so far), the actor, the caller's
  [`Timestamp`] (the engine never reads a clock), the [`Op`], the
  [`Outcome`] and a digest chained to the previous event's.
  [`Engine::events`] reads it, [`Engine::drain_events`] moves it out to
  storage, and [`Engine::replay`] rebuilds an engine from it: the applied
  events, replayed in order on an empty engine of the same schema and
  config, reproduce the state (accounts without their passwords, which
  the log never holds). [`Engine::apply`] applies one [`Op`] directly,
  as a replay or a store does.

[`Engine::explain`] decides like `check` and says why (the grants, roles,
permissions or shares that allow, or the reason for denial);
[`Engine::allowed_actions`], [`Engine::objects_for`] and
[`Engine::subjects_for`] answer the reverse questions.

# Thread safety

[`Engine`] is `Send + Sync` and has no interior mutability: queries take
`&self`, mutations `&mut self`, so any number of threads can `check` one
`&Engine` (or `Arc<Engine>`) at once while nobody mutates it.

To mutate while serving readers, wrap the engine in [`Shared`].
[`Shared::write`] runs a closure on a private copy and publishes it with
a pointer swap ([`Shared::try_write`] publishes only if the closure
returns `Ok`); writers are serialized, readers never wait for a mutation
in progress, and every read sees all of a write or none of it.
[`Shared::check`] takes the published engine on each call; a thread
that checks in a loop keeps a [`Reader`] instead ([`Shared::reader`]),
which costs one atomic load per check on top of [`Engine::check`] and
follows each publication. Drop idle readers: while one holds an old
copy, the next write copies the engine instead of reusing it. The price
of all this is twice the memory of one engine.

# Persistence

## Snapshots

[`Engine::to_json`] saves the whole state — schema, config, policy,
audit log and revision — as a versioned snapshot
([`SNAPSHOT_VERSION`]), and [`Engine::from_json`] loads it.
[`Engine::write_json`] and [`Engine::read_json`] stream the same JSON to
a writer and from a reader, so a large policy loads from a file without
its text in memory (slower than from a string, which parses from one
buffer). [`Engine`] implements serde's traits for any other format (the
tests round-trip it through JSON and bincode), and so does every record,
[`Op`] and [`Event`], with `deny_unknown_fields`.

Loading validates everything a snapshot holds, and rebuilds every
back-reference, ancestor set and index entry itself rather than reading
them. It checks the
version and the schema; that no handle dangles and objects form no
cycle; that permissions list only objects of their organization and
type, no administrative role is granted outside its organization,
required bindings are present and names are valid and unique; the
limits, including the depth of share-forward chains; under
[`Downstream::Cascade`], that every share is derivable from the owner
within its grantor's ceiling; and the audit log: sequence numbers
without gaps, each digest chained to the one before, and revisions that
follow the applied events to the snapshot's own. A failed load returns a
[`LoadError`] naming what is wrong and where, and never panics.

A [`Loader`] configures a load ([`Engine::from_json`] uses
`Loader::new()`):

* [`Loader::limits`]: the [`Limits`] to validate under, which the loaded
  engine then runs under. A snapshot's own limits are never trusted (a
  hostile file could raise them to make a load take minutes and
  gigabytes), so an application with larger limits says so again when
  it loads.
* [`Loader::audit_key`]: the [`AuditKey`] that keys the chain with
  HMAC-SHA256 (give it to [`Builder::audit_key`] when building). With a
  key, only its holder can forge events, and a snapshot carries a seal
  over its state and where its log starts and ends, so a dropped tail or
  a state edited apart from its log is refused, after a drain too. A
  keyed loader refuses an unkeyed snapshot ([`LoadErrorKind::Unkeyed`]),
  an unkeyed loader a keyed one ([`LoadErrorKind::KeyRequired`]).
  Without a key the chain is plain SHA-256: it shows accidental damage
  (a flipped byte, a lost, repeated or reordered event, spliced logs),
  not forgery, since a writer can recompute every digest. A key does not
  detect a writer who holds it, and neither mode detects a whole
  snapshot replaced by an older genuine one (a rollback): compare its
  revision with one kept elsewhere.
* [`Loader::verify_log`]: also replays the snapshot's whole log and
  refuses a state it does not produce
  ([`LoadErrorKind::StateMismatch`]); it needs the log from the genesis,
  so a snapshot taken after a drain is refused
  ([`LoadErrorKind::LogIncomplete`]): seal those with a key instead.
* [`Loader::schema`]: moves the loaded engine to a newer schema (below).
* [`Loader::replay`]: [`Engine::replay`] under the loader's key and
  limits, for a log stored apart from any snapshot.

The [design notes](#why-a-hash-chain-in-the-log-and-what-does-it-prove)
say exactly what each mode of the chain detects.

An application that keeps its audit log elsewhere moves the events out
with [`Engine::drain_events`] (say, after each batch of mutations); the
engine then holds only the events since the last drain, the hash chain
carries on across drains, and a snapshot records where its retained
events start so that loading still verifies them. Replaying needs the
whole history: the drained batches, in order, then [`Engine::events`].

## Binary snapshots

Loading does not trust the lengths a snapshot claims either: no
collection reserves more than 1 MiB ahead of the elements that actually
arrive, so an edited length prefix in a binary snapshot makes a load
reserve a few MiB at most, and is refused when the data runs out. JSON
states no lengths at all. A binary format may still allocate on its own
before the engine sees a value: bincode 1, reading from an
[`std::io::Read`], allocates the length a string claims before reading
it, and when that allocation fails the process aborts. Give it a byte
limit, which it checks before allocating, and the encoding
`bincode::serialize` writes (fixed-width integers, trailing bytes
allowed; `DefaultOptions` alone reads varints):

```
use std::error::Error;
use std::io::BufReader;
use std::path::Path;

use accord::Engine;
use bincode::Options;

/// Loads a snapshot that `bincode::serialize_into` wrote to `path`.
fn load(path: &Path) -> Result<Engine, Box<dyn Error>> {
    let file = std::fs::File::open(path)?;
    let limit = file.metadata()?.len();
    let engine = bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .allow_trailing_bytes()
        .with_limit(limit)
        .deserialize_from(BufReader::new(file))?;
    Ok(engine)
}
# let engine = accord::presets::arbiter().build()?;
# let name = format!("accord-doc-{}.bin", std::process::id());
# let path = std::env::temp_dir().join(name);
# bincode::serialize_into(std::fs::File::create(&path)?, &engine)?;
# let loaded = load(&path);
# std::fs::remove_file(&path)?;
# assert_eq!(loaded?.to_json(), engine.to_json());
# Ok::<(), Box<dyn std::error::Error>>(())
```

From a byte slice (`bincode::deserialize`), bincode refuses a length
beyond the slice before allocating, so the slice is the limit. Another
binary format read from a stream needs its own limit.

## Schema evolution

Handles are positions, so a schema may grow only at its end: a newer
version appends object types and actions and adds default roles, and
keeps every existing type, action and default role where and as it is.
[`Engine::upgrade_schema`] moves an engine to such a schema
(organizations created from then on get the new default roles; existing
ones keep theirs) and refuses any other change with
[`LoadErrorKind::SchemaChange`] naming it. [`Loader::schema`] does the
same as part of a load, after validating the snapshot (and checking its
log) under the schema it was written with. Replay a log under the schema
it was written with, then upgrade: a replay under a schema with more
default roles would create more roles and give later records other
handles.

## Durable storage: `accord-store`

The `accord-store` crate of this workspace makes every mutation durable
before it returns. Its `DurableEngine` owns an engine and a store: a
write (`apply`, `apply_batch`, `act`) runs on a private copy
([`Shared::try_write`]), commits the events it logged — refusals too —
in one transaction, and publishes the copy only once the commit
returned; a failed commit leaves memory and store as they were. Reads
(`check`, `snapshot`, `reader`) run in memory as with [`Shared`].
`DurableEngine::open(store, builder)` loads the newest checkpoint and
replays the events after it, each of which must reproduce its recorded
outcome, revision and digest; an empty store starts from the engine the
builder makes. A checkpoint is written every 10,000 events by default
(`Options::checkpoint_every`); the store keeps the whole log, and the
engine drops the events before each checkpoint from memory.

* `SqliteStore` (feature `sqlite`): one file in WAL mode with
  `synchronous=FULL`, the embedded default
  (`SqliteStore::open("policy.db")`).
* `PgStore` (feature `postgres`): a PostgreSQL schema of its own (a
  *namespace*) that many application instances share. Events are keyed
  by sequence number, so of two writers racing for one, exactly one
  commits; the other gets `StoreError::Conflict`, catches up, and may
  retry.
* **Followers**: `Follower::spawn` keeps an instance up to date with the
  other instances' writes, woken by a `PgListener`'s notifications (or
  `Polling`) and reading the store after every wake-up and at least once
  per interval, so a lost notification only delays it.
  `DurableEngine::progress` shows how far behind an instance is, and
  `DurableEngine::at_least` waits for a revision (read-your-writes across
  instances).

To move to a newer schema, open the store with a builder of the newer
schema: the events replay under the one they were written with, then
the engine upgrades and a checkpoint records the move. Upgrade every
instance of a shared store together. One known limit: the log never
holds a password hash, so with the `accounts` feature a password set
through a durable engine reaches the store only with the next
checkpoint, and followers replaying the events get the account without
its password. `cargo run -p accord-store --example durable` keeps a
policy in one SQLite file.

## Policy files and the `accord` tool

`accord-policy` reads a policy from a TOML file — schema, config and
optional seed content (organizations, users, objects, roles,
permissions, grants, connections, shares, pending transfers), each
record named by key, e-mail or name — and loads it through the engine's
own audited mutations as [`Actor::System`], so a file can never make a
state the API could not (`accord_policy::load_path`, `load_str`;
`export` writes an engine back as a file). It also runs policy test
files that assert decisions, explanations, reverse queries and
mutations. The four presets ship as such files in `policy/presets/`,
shown on each preset's page here. The `accord` tool (`accord-cli`:
`cargo install --path cli`) validates, checks, explains, lists, tests,
diffs, exports and imports policy files, and verifies a snapshot's audit
log (`accord log verify`); the README shows a session.

# A web service

`store/examples/service/` is an HTTP service (axum on tokio) that
authorizes requests against a durable policy, on either store:

```sh
# one instance on a SQLite file
cargo run -p accord-store --example service -- sqlite:policy.db 127.0.0.1:3000
# instances on one PostgreSQL database and namespace see each other's writes
cargo run -p accord-store --example service -- postgres://postgres@127.0.0.1/test 127.0.0.1:3001 demo
```

The pattern it follows:

* **One engine per process.** An `Arc<DurableEngine<_>>` is the router's
  state; on PostgreSQL each instance also runs a `Follower` on a
  `PgListener` for the other instances' writes.
* **Checks on the async task.** A check takes the published engine
  (`snapshot()`), resolves the request's names on it (`user_by_email`,
  `schema().action`, `object_by_key`) and calls `check`. Nothing in it
  waits for a write, so it runs on the async task itself; unknown names
  deny, as unknown handles do. (A thread that answers many checks in a
  loop keeps a `reader()` instead.)
* **Writes on blocking threads.** A commit waits for the disk or the
  database, so a write runs in `tokio::task::spawn_blocking`: it resolves
  names into an [`Op`] on a snapshot and calls `apply(actor, now, op)`,
  with the time the service supplies. A refusal (committed too) answers
  403, a `StoreError::Conflict` 409 (retry: the instance has caught up),
  any other store error 503 (nothing changed).
* **Read-your-writes with `x-accord-at-least`.** A write answers with
  the revision it produced (also in `x-accord-revision`). A client that
  sends it back in the header `x-accord-at-least: N`, to any instance,
  is answered by an instance that has caught up with revision N: one
  that is behind first waits for `at_least(Revision::new(N), timeout)`
  on a blocking thread (two seconds there; a timeout answers 503).

# Crate features

* `accounts` (off by default): account management — e-mail logins with
  Argon2id password hashes (pulls in `argon2`), IANA time zones and
  languages, managed by platform administrators.

Serialization with serde is always available. `accord-store` has the
features `sqlite` and `postgres`, both on by default.

# Performance

On the benchmark machine `check` takes about 13–18 ns at 10
organizations and 56–85 ns at 10,000 (500,000 users, 5.5 million
objects), where it waits on memory rather than computing, and
[`Engine::check_batch`] overlaps those waits when many questions come at
once. With its audit log drained, the 10,000-organization engine stays
under 1 GiB. `BENCHMARKS.md` gives the figures with their commands and
machines, and how the index and records are laid out.

*/
#![doc = include_str!("../DESIGN.md")]
/*!
*/

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]
#![deny(rustdoc::broken_intra_doc_links)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod accounts;
mod audit;
mod decision;
mod engine;
pub mod error;
mod id;
mod index;
mod lookup;
mod model;
mod mutate;
mod persist;
pub mod presets;
mod query;
pub mod schema;
mod serde_util;
mod set;
mod share;
mod shared;
mod stored_name;
mod text;
mod token;

pub use crate::audit::{Actor, AuditKey, Event, Outcome, Revision, Timestamp};
pub use crate::decision::{Decision, Denial, Reason, Response, Subject};
pub use crate::engine::{Builder, Config, Downstream, Engine, Limits};
pub use crate::error::{
    ErrorKind, IdError, LoadError, LoadErrorKind, MutationError, NameError,
    Refusal, SchemaError,
};
pub use crate::id::{
    ActionId, GrantId, Ident, Name, ObjectId, OrgId, PermissionId, RoleId,
    ShareId, TokenId, TypeId, UserId, MAX_IDENT_LEN, MAX_NAME_LEN,
};
pub use crate::model::Connection;
pub use crate::model::{
    Grant, Object, ObjectKind, Org, Permission, Role, User,
};
pub use crate::mutate::{Mutator, Op, Receipt};
pub use crate::persist::{Loader, SNAPSHOT_VERSION};
pub use crate::query::{ActionSet, RoleGrantee, ShareNode};
pub use crate::schema::{
    ActionSpec, Level, Schema, SchemaBuilder, SchemaChange, Threshold,
};
pub use crate::share::{
    Grantee, Grantor, Share, ShareKind, ShareSpec, ShareStatus,
};
pub use crate::shared::{Reader, Shared};
pub use crate::text::MAX_DESCRIPTION_LEN;
pub use crate::token::{Secret, Token};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
