//! `accord`'s [`Engine::check`](accord::Engine::check) side by side with
//! `cedar-policy` and `casbin` on the same policy.
//!
//! [`workload::build`] creates the Arbiter workload of `benches/check.rs`
//! (the same generator, seeds and query stream) in an accord engine through
//! the public mutation API. [`translate::read_policy`] reads the
//! role-based data policy back through accord's public getters, and
//! [`cedar_peer::CedarPeer`] and [`casbin_peer::CasbinPeer`] translate it.
//! [`Peers::mismatches`] answers every query with all three engines.
//!
//! # Scope of the comparison
//!
//! The queries name data objects only (sites, observations, forecasts,
//! probabilistic forecasts, aggregates, reports) with the actions `read`,
//! `read_values`, `write_values`, `update` and `delete`. The translation
//! therefore carries over roles, grants and permissions on data types;
//! accord's rules about policy objects (personal roles, role self-read,
//! administrative permissions, `create` on types) decide nothing on these
//! queries and are left out. The workload has no shares and no bound
//! grants; [`translate::read_policy`] refuses a policy holding either.
//!
//! Run `benches/peers/run.sh` (or `cargo bench --bench peers` in this
//! directory); `run.sh --test` is the smoke mode.

#![forbid(unsafe_code)]

pub mod casbin_peer;
pub mod cedar_peer;
pub mod translate;
pub mod workload;

use accord::Subject;
use cedar_policy::Request;

use crate::casbin_peer::{CasbinPeer, CasbinQuery};
use crate::cedar_peer::CedarPeer;
use crate::workload::{Query, Workload};

/// The error type of this crate.
pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A query prepared for every engine, built before timing.
#[derive(Debug)]
pub struct Prepared {
    /// The query.
    pub query: Query,
    /// Cedar's request.
    pub cedar: Request,
    /// Casbin's request.
    pub casbin: CasbinQuery,
}

/// One query on which the engines disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Position in the stream.
    pub index: usize,
    /// The query.
    pub query: Query,
    /// accord's answer.
    pub accord: bool,
    /// Cedar's answer.
    pub cedar: bool,
    /// Casbin's answer.
    pub casbin: bool,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "query {} (user u{}, {}, object o{}): accord {}, cedar {}, \
             casbin {}",
            self.index,
            self.query.user.as_u32(),
            self.query.action_name,
            self.query.object.as_u32(),
            verdict(self.accord),
            verdict(self.cedar),
            verdict(self.casbin),
        )
    }
}

fn verdict(allow: bool) -> &'static str {
    if allow {
        "allow"
    } else {
        "deny"
    }
}

/// The three engines on one workload, and the prepared query stream.
#[derive(Debug)]
pub struct Peers {
    /// The accord engine and the query stream.
    pub workload: Workload,
    /// The Cedar translation.
    pub cedar: CedarPeer,
    /// The Casbin translation.
    pub casbin: CasbinPeer,
    /// Every query, prepared for each engine.
    pub prepared: Vec<Prepared>,
}

impl Peers {
    /// Builds the workload of `orgs` organizations and its translations.
    ///
    /// # Errors
    ///
    /// The workload or a translation fails (a bug).
    pub fn build(orgs: usize) -> Result<Peers> {
        let workload = workload::build(orgs)?;
        let policy = translate::read_policy(&workload.engine)?;
        let cedar = CedarPeer::new(&policy)?;
        let casbin = CasbinPeer::new(&policy)?;
        let mut prepared = Vec::with_capacity(workload.queries.len());
        for q in &workload.queries {
            prepared.push(Prepared {
                query: *q,
                cedar: cedar.request(q)?,
                casbin: CasbinPeer::request(q),
            });
        }
        Ok(Peers { workload, cedar, casbin, prepared })
    }

    /// accord's answer to a query.
    #[inline]
    #[must_use]
    pub fn accord_allows(&self, q: &Query) -> bool {
        self.workload
            .engine
            .check(Subject::User(q.user), q.action, q.object)
            .is_allow()
    }

    /// Answers every query with the three engines and returns the ones on
    /// which they disagree.
    ///
    /// # Errors
    ///
    /// Casbin fails to evaluate a query.
    pub fn mismatches(&self) -> Result<Vec<Mismatch>> {
        let mut out = Vec::new();
        for (index, p) in self.prepared.iter().enumerate() {
            let accord = self.accord_allows(&p.query);
            let cedar = self.cedar.is_allowed(&p.cedar);
            let casbin = self.casbin.is_allowed(&p.casbin)?;
            if accord != cedar || accord != casbin {
                out.push(Mismatch {
                    index,
                    query: p.query,
                    accord,
                    cedar,
                    casbin,
                });
            }
        }
        Ok(out)
    }

    /// How many queries accord allows.
    #[must_use]
    pub fn allowed(&self) -> usize {
        self.prepared.iter().filter(|p| self.accord_allows(&p.query)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_engines_agree_at_10_orgs() -> Result<()> {
        let peers = Peers::build(10)?;
        assert_eq!(peers.prepared.len(), workload::QUERIES);
        let mismatches = peers.mismatches()?;
        for m in &mismatches {
            eprintln!("mismatch: {m}");
        }
        assert!(mismatches.is_empty(), "{} mismatches", mismatches.len());
        // A stream where every answer is the same would prove little.
        let allowed = peers.allowed();
        assert!(allowed > 100 && allowed < workload::QUERIES - 100);
        Ok(())
    }

    #[test]
    fn a_change_after_translation_is_caught() -> Result<()> {
        let mut peers = Peers::build(2)?;
        assert!(peers.mismatches()?.is_empty());
        let query = peers
            .prepared
            .iter()
            .map(|p| p.query)
            .find(|q| peers.accord_allows(q))
            .ok_or("no allowed query")?;
        // Revoke every role of the query's user in accord only.
        let engine = &mut peers.workload.engine;
        let roles: Vec<accord::RoleId> = engine
            .user(query.user)
            .ok_or("unknown user")?
            .grants()
            .filter_map(|g| engine.grant(g).map(accord::Grant::role))
            .collect();
        let t = accord::Timestamp::from_unix_millis(1);
        let mut sys = engine.act(accord::Actor::System, t);
        for role in roles {
            sys.revoke_role(query.user, role)?;
        }
        let mismatches = peers.mismatches()?;
        assert!(mismatches
            .iter()
            .any(|m| m.query == query && !m.accord && m.cedar && m.casbin));
        Ok(())
    }

    #[test]
    fn translation_counts_at_2_orgs() -> Result<()> {
        let w = workload::build(2)?;
        let policy = translate::read_policy(&w.engine)?;
        // 300 data objects per organization.
        assert_eq!(policy.objects.len(), 2 * 300);
        assert_eq!(policy.users.len(), 2 * 50);
        // Default roles: Read all 11, Write all values 5, Delete metadata
        // 6, Update all 5 (Create metadata's applies-to-all `create` and
        // the administrator's policy-type permissions are dropped), plus
        // 12 custom permissions.
        assert_eq!(policy.rules.len(), 2 * (11 + 5 + 6 + 5 + 12));
        let cedar = CedarPeer::new(&policy)?;
        assert_eq!(cedar.policy_count(), policy.rules.len());
        Ok(())
    }
}
