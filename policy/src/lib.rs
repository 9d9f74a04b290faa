/*!
Policy as reviewable files for [`accord`] engines: a declarative policy
file, policy test files and their runner.

# Overview

A **policy file** declares an engine's schema (object types, actions with
their share threshold, administrative flag and every-child requirements,
default roles with their permissions and required bindings), its config
(terms of use, personal roles, share acceptance, connections, downstream
policy, public types, limits) and, optionally, seed content:
organizations, users, objects, roles, permissions, grants, connections,
shares and pending transfers.

Loading a file builds the engine from the schema and config, then applies
every seed entry through [`Engine::act`](accord::Engine::act) as
[`Actor::System`](accord::Actor::System) (a share with `by` as its
granting user): the same authorized, validated and audited mutations as
the API, so a file can never create a state the API could not. Every
record is named by key, e-mail or name, never by an internal handle (see
[`refs`]).

A **test file** loads a policy file and asserts decisions, explanations,
reverse queries and mutations, each failure reported with the engine's
explanation; see [`testing`].

# Why TOML

* **Comments.** A policy is reviewed like code: each rule can say why it
  is there, and the comment stays beside it (JSON has none).
* **No indentation traps.** Unlike YAML, moving a line cannot silently
  move a value into another table, and `no` is not `false`.
* **Reviewable diffs.** One entry is a `[[section]]` header and a few
  `key = value` lines, so a change to a grant is a change to that grant's
  lines.

Every table refuses unknown fields, so a misspelt key is an error, never a
setting silently left at its default. Errors name the file, line and
column, and the entry (`grants[2]`); for an entry the engine refuses, the
engine's own message and refusal code ([`PolicyError::code`]).

# Example

```toml
version = 1

[schema]
types = ["site", "observation"]

[[schema.actions]]
name = "read_values"
threshold = "read"          # shared | read | full | owner

[[schema.default_roles]]
name = "Read all"
description = "every site and observation"
permissions = [
    { action = "read", type = "site" },
    { name = "Read values", action = "read_values", type = "observation" },
]

[config]
require_terms = true
downstream = "cascade"      # keep | cascade | restrict

[[orgs]]
name = "Utility X"
accepted_terms = true

[[users]]
email = "ann@utility.example"
org = "Utility X"

[[objects]]
type = "site"
key = "plant-x"
org = "Utility X"

[[objects]]
type = "observation"
key = "plant-x-power"
org = "Utility X"
parents = ["site:plant-x"]

[[grants]]
user = "ann@utility.example"
role = "Read all"           # a role of the user's organization
```

# Sections

Seed sections load in this order, each in its own order: `orgs`, `users`,
`objects` (parents first), `roles`, `permissions` (each listing the roles
that hold it), `grants`, `connections`, `shares` (each after the share its
grantor forwards from), `transfers`. An entry naming a role, permission,
grant or share the engine created by itself (a default role, a personal
role, a public share) refers to it. With `exact = true`, whatever the
engine created by itself and the file does not list is removed after
loading, so that an exported file ([`export()`]) reproduces its engine.

The four presets of [`accord::presets`] ship as files (`presets/<name>.toml`
in this crate, also in [`presets`]), tested to give the same schema and
config as the Rust presets.
*/

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]
#![deny(rustdoc::broken_intra_doc_links)]

mod convert;
pub mod describe;
pub mod diff;
mod error;
mod export;
pub mod file;
mod load;
pub mod presets;
pub mod refs;
pub mod testing;

pub use crate::convert::{level_word, share_kind_word, threshold_word};
pub use crate::error::{PolicyError, PolicyErrorKind};
pub use crate::export::{export, Export};
pub use crate::file::{PolicyFile, POLICY_VERSION};
pub use crate::load::{load_path, load_str, parse, read_text, MAX_FILE_BYTES};
