//! The Arbiter workload of `benches/check.rs`: the same generator, included
//! by path from `benches/common/arbiter.rs` (see its documentation for the
//! policy and the query stream), so both benchmarks see the same policy
//! and the same queries while this crate builds on its own.

use accord::{ActionId, Engine, ObjectId, UserId};

use crate::Result;

#[path = "../../common/arbiter.rs"]
mod arbiter;

pub use arbiter::QUERIES;

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
/// A refused mutation (a bug in the generator), or a generated
/// organization without its users.
pub fn build(n: usize) -> Result<Workload> {
    let g = arbiter::generate(n)?;
    if g.orgs.iter().any(|o| o.users.len() != arbiter::USERS_PER_ORG) {
        return Err("an organization lacks users".into());
    }
    let schema = g.engine.schema();
    let mut queries = Vec::with_capacity(QUERIES);
    for q in arbiter::stream(&g)? {
        let action_name = arbiter::QUERY_ACTIONS
            .into_iter()
            .find(|name| schema.action(name) == Some(q.action))
            .ok_or("query action outside the stream's actions")?;
        queries.push(Query {
            user: q.user,
            action: q.action,
            action_name,
            object: q.object,
        });
    }
    Ok(Workload { engine: g.engine, orgs: n, queries })
}
