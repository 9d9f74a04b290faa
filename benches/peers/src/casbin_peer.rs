//! The policy in Casbin (`casbin`).
//!
//! An RBAC model with two role groupings: `g` (user → role) and `g2`
//! (object → the group "every object of the type owned by the
//! organization"). One `p, role, object-or-group, action` line per
//! (role, data permission, target): an applies-to-all permission names
//! its group, an explicit list gives one line per listed object.
//!
//! The enforcer is built once through a `StringAdapter` on a
//! current-thread tokio runtime (casbin's builders are async) and queried
//! with the synchronous [`CoreApi::enforce`].

use std::fmt::Write as _;

use casbin::{CoreApi, DefaultModel, Enforcer, StringAdapter};

use crate::translate::{
    group_name, object_name, role_name, user_name, Policy, Target,
};
use crate::workload::Query;
use crate::Result;

/// The Casbin model.
pub const MODEL: &str = "\
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _
g2 = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && (r.obj == p.obj || g2(r.obj, p.obj)) && r.act == p.act
";

/// A Casbin enforcer with the translated policy.
pub struct CasbinPeer {
    enforcer: Enforcer,
    policies: usize,
}

impl std::fmt::Debug for CasbinPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CasbinPeer")
            .field("policies", &self.policies)
            .finish_non_exhaustive()
    }
}

/// A query in Casbin's terms, built once before timing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CasbinQuery {
    /// The user.
    pub sub: String,
    /// The object.
    pub obj: String,
    /// The action.
    pub act: &'static str,
}

impl CasbinPeer {
    /// Translates `policy`.
    ///
    /// # Errors
    ///
    /// Casbin refuses the model or the policy (a bug here).
    pub fn new(policy: &Policy) -> Result<CasbinPeer> {
        let mut csv = String::new();
        let mut policies = 0;
        for rule in &policy.rules {
            let role = role_name(rule.role);
            let act = &rule.action;
            match &rule.target {
                Target::AllOfType { org, ty } => {
                    let ty = policy.type_name(*ty).ok_or("unknown type")?;
                    writeln!(
                        csv,
                        "p, {role}, {}, {act}",
                        group_name(*org, ty)
                    )?;
                    policies += 1;
                }
                Target::Objects(objects) => {
                    for o in objects {
                        writeln!(
                            csv,
                            "p, {role}, {}, {act}",
                            object_name(*o)
                        )?;
                        policies += 1;
                    }
                }
            }
        }
        for (user, roles) in &policy.users {
            for r in roles {
                writeln!(csv, "g, {}, {}", user_name(*user), role_name(*r))?;
            }
        }
        for object in &policy.objects {
            let ty = policy.type_name(object.ty).ok_or("unknown type")?;
            let group = group_name(object.org, ty);
            writeln!(csv, "g2, {}, {group}", object_name(object.id))?;
        }
        let runtime = tokio::runtime::Builder::new_current_thread().build()?;
        let enforcer = runtime.block_on(async {
            let model = DefaultModel::from_str(MODEL).await?;
            Enforcer::new(model, StringAdapter::new(csv)).await
        })?;
        Ok(CasbinPeer { enforcer, policies })
    }

    /// The number of `p` lines.
    #[must_use]
    pub fn policy_count(&self) -> usize {
        self.policies
    }

    /// The Casbin request of a query.
    #[must_use]
    pub fn request(q: &Query) -> CasbinQuery {
        CasbinQuery {
            sub: user_name(q.user),
            obj: object_name(q.object),
            act: q.action_name,
        }
    }

    /// Whether Casbin allows the request.
    ///
    /// # Errors
    ///
    /// Casbin fails to evaluate its matcher.
    #[inline]
    pub fn is_allowed(&self, q: &CasbinQuery) -> Result<bool> {
        Ok(self.enforcer.enforce((q.sub.as_str(), q.obj.as_str(), q.act))?)
    }
}
