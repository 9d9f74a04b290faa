/*!
An embeddable policy engine for platforms that hold other people's data.

# Overview

`accord` keeps a policy — organizations, users, roles, permissions, objects
and grants — and answers [`Engine::check`]`(subject, action, object)` with a
[`Decision`]. The answer is read from an index that every mutation keeps up
to date incrementally, so `check` costs a few array accesses and two probes
of a small hash table, never allocates, and reflects every mutation that
has returned.

Changes to the policy are themselves authorized by the engine: each
mutation names an [`Actor`], is checked against the same policy, is
validated, and is recorded in an audit log with the revision it produced —
or is refused with a typed [`MutationError`] and changes nothing.

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

# Concepts

* **Schema** ([`Schema`]): the object types and actions of the application.
  Each action declares the [`Threshold`] a share must meet to reach it and
  whether it is administrative. `users`, `roles` and `permissions` are
  built-in object types, so authority over the policy is decided by the
  same `check` as authority over data.
* **Organization**: owns users, roles, permissions and objects; created
  with the schema's default roles.
* **User**: belongs to exactly one organization.
* **Object**: typed, owned by one organization, with parents forming a DAG
  (site → observation). Cycles are refused.
* **Permission**: one action on one object type, either *applies to all*
  (every current and future object of the type owned by the permission's
  organization) or an explicit list of objects of that organization.
  Immutable once created, apart from its list.
* **Role**: a set of permissions of one organization.
* **Grant**: a user holding a role, optionally *bound* to objects: a bound
  grant is effective only on objects at or under every binding. A role can
  require bindings of given types.
* **Administrative** permissions (any action but `read` on the policy
  types, or an action declared administrative) never reach users of
  another organization: a role holding one cannot be granted outside, and
  one cannot be added to a role granted outside.
* **Share** ([`Share`], [`ShareSpec`]): a root object and its subtree made
  available to a user, an organization or the public, with a [`Level`]
  per object type and per object, a [`ShareKind`] that decides edit
  rights, and optional share-forward capped by the grantor's own levels.
  What happens downstream when a share is removed is a [`Downstream`]
  setting.
* **Token** ([`Token`]): a read-only credential of a user, optionally
  scoped to a subtree, verified by [`Engine::authenticate`].
* **Subjects** ([`Subject`]): a user, a token, or anonymous.

# Thread safety

[`Engine`] is `Send + Sync`. Queries take `&self`; mutations take
`&mut self`, so any number of threads can `check` one engine at once.
To mutate while serving readers, wrap it in [`Shared`]: readers check the
published copy without waiting for a mutation in progress, the writer
mutates a second copy and publishes it with a pointer swap (left-right;
twice the memory).

# Serialization

Every record, [`Op`] and audit [`Event`] implements serde's traits, with
`deny_unknown_fields`; [`Engine`] serializes to a versioned snapshot in
any serde format (the tests round-trip it through JSON and bincode), and
deserializing it validates everything, as [`Engine::from_json`] does.
[`Engine::write_json`] and [`Engine::read_json`] stream the JSON form to
a writer and from a reader, so a large policy loads from a file without
its text in memory (slower than from a string, which parses from one
buffer). The audit log's applied events, replayed in order on an empty
engine with the same schema, reproduce the same state.

Loading does not trust the lengths a snapshot claims: no collection
reserves more than 1 MiB ahead of the elements that actually arrive, so
an edited length prefix in a binary snapshot makes a load reserve a few
MiB at most, and is refused when the data runs out. JSON states no
lengths at all. A binary format may still allocate on its own before
the engine sees a value: bincode 1, reading from an [`std::io::Read`],
allocates the length a string claims before reading it, and when that
allocation fails the process aborts. Give it a byte limit, which it
checks before allocating, and the encoding `bincode::serialize` writes
(fixed-width integers, trailing bytes allowed; `DefaultOptions` alone
reads varints):

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

An application that keeps its audit log elsewhere moves the events out
with [`Engine::drain_events`] (say, after each batch of mutations); the
engine then holds only the events since the last drain, the hash chain
carries on across drains, and a snapshot records where its retained
events start so that loading still verifies them.

Loading is configured by a [`Loader`]: the [`Limits`] to validate under
(never the snapshot's own, which a hostile file could raise), an
[`AuditKey`] that keys the chain with HMAC-SHA256 and seals snapshots so
that only its holder can forge events or state, and
[`Loader::verify_log`], which replays the log and refuses a state it
does not produce. An unkeyed chain detects damage, not forgery; see
`DESIGN.md` for exactly what each mode detects.

# Performance

The index has three parts, each maintained incrementally by the
mutation that changes what it depends on:

* **Objects**: a dense array of 12-byte entries: type, owner (all bits
  set for a deleted object) and where the object's share reach is kept,
  if any share reaches it.
* **Users**: per user, one 64-byte entry pointing at a table that merges
  the compiled maps of their unbound role grants, from a scope key —
  "every object of type T owned by organization O" or "object X" — to a
  64-bit action mask. Users with the same grants share one table (every
  "Read all" holder of an organization); the entries that would make it
  unique (a personal role's two) sit in the user's entry itself, and no
  separate map is kept for a personal role (unless a bound grant names
  it). Bound grants are a short list beside it.
* **Share reach**: for each object under an accepted share (and only
  those), the grantees (users, organizations, the public) that reach it
  and their highest level, sorted, in a side table the object's entry
  points into.

`check` for a user reads the object's entry and the user's, probes the
user's table twice (type scope, then object scope; open addressing, at
most half full, so a probe usually reads one slot) and tests one bit —
unless the object is of another organization and every role the user
holds is of their own, since a role covers only its organization's
objects: then the table is not read at all; bound grants (rare)
are tested against the object's precomputed, sorted ancestor set; only
for an object under a share does it read the object's reach list (one
word per grantee, the grantee's code and its level packed together, so
the scan compares integers) and compare the level with the action's
threshold. Nothing allocates and
nothing depends on the number of organizations except cache misses. A
mutation rebuilds only the entries of the roles, users, shares and
objects it touched — never the whole index — and a test helper compares
the incremental index with a full rebuild after every step of random
mutation sequences.

Memory follows the policy, not its history, once the audit log is
drained: policy records keep their back-references in compact 24-byte
sets (up to four handles in place, an exact-size slice up to 16, a
vector plus a table of positions beyond) and an object's
back-references in one optional box (the rare ones, bound grants,
shares and tokens, one pointer further), and its parents and ancestors
in one allocation, so most objects cost 48 bytes plus their key and 12
bytes of index. Lookups by key, e-mail and role name hold 4-byte
handles and read the key from the record; the key of an object
standing for a user, role or permission is derived from its handle,
an object whose one parent has no parent keeps both in place, and one
standing for a user, role or permission keeps the first permission
listing it in place. At 10,000 organizations (500,000 users, 5.5
million objects) the build peaks at 0.99 GiB resident; the engine
loads from bincode in about 6 s and from a JSON string in 8–13 s, and
a load streamed from a file peaks at 0.96 GiB. At that size `check` on
a random stream of queries is bound by cache and TLB misses (two
dependent steps, see above), not by work: backing the heap with 2 MB
pages (with glibc, `GLIBC_TUNABLES=glibc.malloc.hugetlb=1`) took a
quarter off it on the benchmark machine, and [`Engine::check_batch`]
reads the index entries of several queries before deciding them, so
their misses overlap (44 ns per query instead of 73 there).

Under concurrency, any number of threads can call `check` on one
`&Engine`; [`Shared`] adds one writer without blocking readers.
Figures, peers and the commands that produce them are in
`BENCHMARKS.md`.

# Crate features

* `accounts` (off by default): account management — e-mail logins with
  Argon2id password hashes (pulls in `argon2`), IANA time zones and
  languages, managed by platform administrators.

Serialization with serde is always available.

# Design notes

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
