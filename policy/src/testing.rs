//! Policy test files: a policy to load, seed content of the test's own,
//! and steps asserting decisions, explanations, reverse queries and
//! mutations.
//!
//! ```toml
//! preset = "arbiter"              # or: policy = "path/to/policy.toml"
//!
//! # Seed content of the test, in the policy file's sections.
//! [[orgs]]
//! name = "Utility X"
//! accepted_terms = true
//!
//! [[users]]
//! email = "ann@utility.example"
//! org = "Utility X"
//!
//! [[objects]]
//! type = "sites"
//! key = "plant-x"
//! org = "Utility X"
//!
//! [[grants]]
//! user = "ann@utility.example"
//! role = "Read all"
//!
//! # Steps run in the order they appear in the file.
//! [[check]]
//! subject = "user:ann@utility.example"     # or `anonymous`
//! action = "read"
//! object = "sites:plant-x"
//! expect = "allow"                          # or `deny`
//!
//! [[explain]]
//! subject = "user:ann@utility.example"
//! action = "read"
//! object = "sites:plant-x"
//! expect = "role"      # role | share | no_matching_grant | unknown_object ...
//! role = "Read all"    # optional: a reason names this role
//!
//! [[objects_for]]
//! subject = "user:ann@utility.example"
//! action = "read"
//! type = "sites"
//! expect = ["plant-x"]                      # keys, the exact set
//!
//! [[subjects_for]]
//! action = "read"
//! object = "sites:plant-x"
//! expect = ["ann@utility.example"]          # e-mails, the exact set
//!
//! [[mutate]]
//! actor = "ann@utility.example"             # or `system`
//! create_role = { org = "Utility X", name = "Mine" }
//! expect = "denied"                         # `ok` or a refusal code
//! ```
//!
//! A `mutate` step holds exactly one operation; those that take a seed
//! entry (`create_org`, `create_user`, `create_object`, `create_role`,
//! `create_permission`, `grant_role`, `share`, `transfer`) take it in the
//! policy file's form, applied as the actor (a `share` is then accepted
//! on the grantee's behalf unless it says `accepted = false`; an entry
//! needing several operations stops at the first refusal, whose code the
//! step compares); the others are listed in
//! [`MutateStep`]. The refusal codes are those of
//! [`accord::MutationError::code`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use accord::{Actor, Engine, Reason, Subject};
use serde::Deserialize;

use crate::describe;
use crate::error::{PolicyError, PolicyErrorKind};
use crate::file::{
    ConnectionDecl, GrantDecl, ObjectDecl, OrgDecl, PermissionDecl, RoleDecl,
    ShareDecl, Spanned, TransferDecl, UserDecl,
};
use crate::load::{Sections, Seeder};
use crate::refs;

/// A whole test file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// A policy file to load, relative to the test file.
    #[serde(default)]
    pub policy: Option<String>,
    /// Or one of the shipped presets (`arbiter`, `portfolio`,
    /// `project_portal`, `metering`).
    #[serde(default)]
    pub preset: Option<String>,
    /// Seed content applied after the policy's own.
    #[serde(default)]
    pub orgs: Vec<Spanned<OrgDecl>>,
    /// As in a policy file.
    #[serde(default)]
    pub users: Vec<Spanned<UserDecl>>,
    /// As in a policy file.
    #[serde(default)]
    pub objects: Vec<Spanned<ObjectDecl>>,
    /// As in a policy file.
    #[serde(default)]
    pub roles: Vec<Spanned<RoleDecl>>,
    /// As in a policy file.
    #[serde(default)]
    pub permissions: Vec<Spanned<PermissionDecl>>,
    /// As in a policy file.
    #[serde(default)]
    pub grants: Vec<Spanned<GrantDecl>>,
    /// As in a policy file.
    #[serde(default)]
    pub connections: Vec<Spanned<ConnectionDecl>>,
    /// As in a policy file.
    #[serde(default)]
    pub shares: Vec<Spanned<ShareDecl>>,
    /// As in a policy file.
    #[serde(default)]
    pub transfers: Vec<Spanned<TransferDecl>>,
    /// Decisions.
    #[serde(default)]
    pub check: Vec<Spanned<CheckStep>>,
    /// Explanations.
    #[serde(default)]
    pub explain: Vec<Spanned<ExplainStep>>,
    /// [`Engine::objects_for`].
    #[serde(default)]
    pub objects_for: Vec<Spanned<ObjectsForStep>>,
    /// [`Engine::subjects_for`].
    #[serde(default)]
    pub subjects_for: Vec<Spanned<SubjectsForStep>>,
    /// Mutations.
    #[serde(default)]
    pub mutate: Vec<Spanned<MutateStep>>,
}

/// An expected decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// [`accord::Decision::Allow`].
    Allow,
    /// [`accord::Decision::Deny`].
    Deny,
}

/// `check`: the decision on one question.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckStep {
    /// `user:<e-mail>`, an e-mail or `anonymous`.
    pub subject: String,
    /// The action.
    pub action: String,
    /// `type:key`.
    pub object: String,
    /// `allow` or `deny`.
    pub expect: Expect,
}

/// `explain`: the kind of the reason (or denial).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplainStep {
    /// As in [`CheckStep`].
    pub subject: String,
    /// As in [`CheckStep`].
    pub action: String,
    /// As in [`CheckStep`].
    pub object: String,
    /// `role` or `share` (a reason of that kind allows it), or a denial
    /// code: `no_matching_grant`, `unknown_subject`, `unknown_action`,
    /// `unknown_object`, `token_cap`.
    pub expect: String,
    /// A role reason names this role.
    #[serde(default)]
    pub role: Option<String>,
    /// A role reason names this permission.
    #[serde(default)]
    pub permission: Option<String>,
}

/// `objects_for`: the exact set of objects of a type.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectsForStep {
    /// As in [`CheckStep`].
    pub subject: String,
    /// The action.
    pub action: String,
    /// The object type.
    #[serde(rename = "type")]
    pub object_type: String,
    /// Keys (or `type:key` names).
    pub expect: Vec<String>,
}

/// `subjects_for`: the exact set of users.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectsForStep {
    /// The action.
    pub action: String,
    /// `type:key`.
    pub object: String,
    /// E-mails.
    pub expect: Vec<String>,
}

/// A share, named by root and grantee.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareRef {
    /// `type:key`.
    pub root: String,
    /// `user:<e-mail>`, `org:<name>` or `public`.
    pub to: String,
}

/// A role, named in its organization.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleRef {
    /// The organization.
    pub org: String,
    /// The role's name.
    pub name: String,
}

/// A role of a user.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeDecl {
    /// The user's e-mail.
    pub user: String,
    /// The role's name.
    pub role: String,
    /// The role's organization; the user's when left out.
    #[serde(default)]
    pub org: Option<String>,
}

/// A permission joining a role.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembershipDecl {
    /// The organization of both.
    pub org: String,
    /// The permission's name (unique in the organization).
    pub permission: String,
    /// The role's name.
    pub role: String,
}

/// A parent link.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkDecl {
    /// `type:key`.
    pub child: String,
    /// `type:key`.
    pub parent: String,
}

/// A root's visibility.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicDecl {
    /// `type:key`.
    pub root: String,
    /// Public, or login required.
    pub public: bool,
}

/// An answer to a connection request.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RespondDecl {
    /// The requesting organization.
    pub from: String,
    /// The organization asked.
    pub to: String,
    /// Accept or reject.
    pub accept: bool,
}

/// An answer to a transfer.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RespondTransferDecl {
    /// `type:key`.
    pub root: String,
    /// Accept or reject.
    pub accept: bool,
}

/// `mutate`: one operation by an actor and its expected outcome.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(missing_docs, reason = "each operation is the mutation of its name")]
pub struct MutateStep {
    /// `system` or a user's e-mail.
    pub actor: String,
    /// `ok`, or the refusal code ([`accord::MutationError::code`]).
    pub expect: String,
    #[serde(default)]
    pub create_org: Option<OrgDecl>,
    #[serde(default)]
    pub accept_terms: Option<String>,
    #[serde(default)]
    pub create_user: Option<UserDecl>,
    #[serde(default)]
    pub delete_user: Option<String>,
    #[serde(default)]
    pub create_object: Option<ObjectDecl>,
    #[serde(default)]
    pub delete_object: Option<String>,
    #[serde(default)]
    pub link_object: Option<LinkDecl>,
    #[serde(default)]
    pub unlink_object: Option<LinkDecl>,
    #[serde(default)]
    pub create_role: Option<RoleDecl>,
    #[serde(default)]
    pub delete_role: Option<RoleRef>,
    #[serde(default)]
    pub create_permission: Option<PermissionDecl>,
    #[serde(default)]
    pub add_permission_to_role: Option<MembershipDecl>,
    #[serde(default)]
    pub remove_permission_from_role: Option<MembershipDecl>,
    #[serde(default)]
    pub grant_role: Option<GrantDecl>,
    #[serde(default)]
    pub revoke_role: Option<RevokeDecl>,
    #[serde(default)]
    pub share: Option<ShareDecl>,
    #[serde(default)]
    pub unshare: Option<ShareRef>,
    #[serde(default)]
    pub accept_share: Option<ShareRef>,
    #[serde(default)]
    pub reject_share: Option<ShareRef>,
    #[serde(default)]
    pub set_public: Option<PublicDecl>,
    #[serde(default)]
    pub request_connection: Option<ConnectionDecl>,
    #[serde(default)]
    pub respond_connection: Option<RespondDecl>,
    #[serde(default)]
    pub transfer: Option<TransferDecl>,
    #[serde(default)]
    pub respond_transfer: Option<RespondTransferDecl>,
}

/// One failed step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The step, as `check[3]`.
    pub step: String,
    /// Its line in the test file (from 1).
    pub line: usize,
    /// What was expected and what happened, with the engine's
    /// explanation.
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.line, self.step, self.message)
    }
}

/// The outcome of a test file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The steps run.
    pub steps: usize,
    /// The steps that failed, in file order.
    pub failures: Vec<Failure>,
}

impl Report {
    /// Whether every step passed.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs the test file at `path`.
///
/// # Errors
///
/// When the test file or its policy cannot be read, parsed or loaded; a
/// failed step is not an error but a [`Failure`] in the report.
pub fn run_path(path: &Path) -> Result<Report, PolicyError> {
    let text = crate::read_text(path)?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    run_str(&text, Some(&path.display().to_string()), &base)
}

/// Runs a test file's text; `base` is the folder `policy` is relative to.
///
/// # Errors
///
/// As [`run_path`].
///
/// # Example
///
/// ```
/// let text = r#"
/// preset = "arbiter"
/// [[orgs]]
/// name = "Utility X"
/// [[check]]
/// subject = "anonymous"
/// action = "read"
/// object = "roles:Utility X/Read all"
/// expect = "allow"
/// "#;
/// let report = accord_policy::testing::run_str(text, None, ".".as_ref())?;
/// assert_eq!(report.steps, 1);
/// assert!(!report.passed());
/// assert!(report.failures[0].message.starts_with("expected allow, got deny"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn run_str(
    text: &str,
    origin: Option<&str>,
    base: &Path,
) -> Result<Report, PolicyError> {
    let locate = |e: PolicyError| e.locate(origin, text);
    let test: TestFile =
        toml::from_str(text).map_err(|e| locate(PolicyError::syntax(&e)))?;
    let engine = policy_engine(&test, base).map_err(locate)?;
    let mut seeder = Seeder::new(engine, accord::Timestamp::default(), true);
    let sections = Sections {
        orgs: &test.orgs,
        users: &test.users,
        objects: &test.objects,
        roles: &test.roles,
        permissions: &test.permissions,
        grants: &test.grants,
        connections: &test.connections,
        shares: &test.shares,
        transfers: &test.transfers,
    };
    seeder.seed(&sections).map_err(locate)?;
    let mut seeder =
        Seeder::new(seeder.engine, accord::Timestamp::default(), false);

    let mut steps: Vec<(usize, String, Step<'_>)> = Vec::new();
    let mut add =
        |name: &str, span: std::ops::Range<usize>, i: usize, step| {
            steps.push((span.start, format!("{name}[{i}]"), step));
        };
    for (i, s) in test.check.iter().enumerate() {
        add("check", s.span(), i, Step::Check(s.get_ref()));
    }
    for (i, s) in test.explain.iter().enumerate() {
        add("explain", s.span(), i, Step::Explain(s.get_ref()));
    }
    for (i, s) in test.objects_for.iter().enumerate() {
        add("objects_for", s.span(), i, Step::ObjectsFor(s.get_ref()));
    }
    for (i, s) in test.subjects_for.iter().enumerate() {
        add("subjects_for", s.span(), i, Step::SubjectsFor(s.get_ref()));
    }
    for (i, s) in test.mutate.iter().enumerate() {
        add("mutate", s.span(), i, Step::Mutate(s.get_ref()));
    }
    steps.sort_by_key(|(start, _, _)| *start);

    let mut report = Report::default();
    for (start, name, step) in steps {
        report.steps += 1;
        if let Err(message) = run_step(&mut seeder, step) {
            let line =
                text.get(..start).map_or(1, |b| b.matches('\n').count() + 1);
            report.failures.push(Failure { step: name, line, message });
        }
    }
    Ok(report)
}

fn policy_engine(test: &TestFile, base: &Path) -> Result<Engine, PolicyError> {
    let (name, text): (String, String) = match (&test.policy, &test.preset) {
        (Some(p), None) => {
            let path: PathBuf = base.join(p);
            (path.display().to_string(), crate::read_text(&path)?)
        }
        (None, Some(p)) => {
            let text = crate::presets::ALL
                .iter()
                .find(|(n, _)| n == p)
                .map(|(_, t)| (*t).to_owned())
                .ok_or_else(|| {
                    PolicyError::reference(format!("unknown preset `{p}`"))
                        .in_entry("preset")
                })?;
            (format!("preset `{p}`"), text)
        }
        _ => {
            return Err(PolicyError::new(
                PolicyErrorKind::Syntax,
                "a test file names exactly one of `policy` and `preset`",
            ))
        }
    };
    // The policy's own errors are placed in the policy's text; the
    // resulting message names that file, not the test file.
    crate::load_str(&text, Some(&name)).map_err(|e| {
        PolicyError::new(PolicyErrorKind::Reference, e.to_string())
            .in_entry("policy")
    })
}

#[derive(Debug, Clone, Copy)]
enum Step<'a> {
    Check(&'a CheckStep),
    Explain(&'a ExplainStep),
    ObjectsFor(&'a ObjectsForStep),
    SubjectsFor(&'a SubjectsForStep),
    Mutate(&'a MutateStep),
}

type Outcome = Result<(), String>;

fn question(
    engine: &Engine,
    subject: &str,
    action: &str,
    object: &str,
) -> Result<(Subject, accord::ActionId, accord::ObjectId), String> {
    let s = refs::subject(engine, subject).map_err(|e| e.to_string())?;
    let a = engine
        .schema()
        .action(action)
        .ok_or_else(|| format!("unknown action `{action}`"))?;
    let o = refs::object(engine, object, None).map_err(|e| e.to_string())?;
    Ok((s, a, o))
}

fn run_step(seeder: &mut Seeder, step: Step<'_>) -> Outcome {
    let engine = &seeder.engine;
    match step {
        Step::Check(c) => {
            let (s, a, o) =
                question(engine, &c.subject, &c.action, &c.object)?;
            let got = engine.check(s, a, o);
            let want = match c.expect {
                Expect::Allow => accord::Decision::Allow,
                Expect::Deny => accord::Decision::Deny,
            };
            if got == want {
                return Ok(());
            }
            let why =
                describe::response_text(engine, &engine.explain(s, a, o));
            Err(format!(
                "expected {}, got {why}",
                describe::decision_word(want)
            ))
        }
        Step::Explain(x) => {
            let (s, a, o) =
                question(engine, &x.subject, &x.action, &x.object)?;
            let r = engine.explain(s, a, o);
            let text = describe::response_text(engine, &r);
            let matches = |reason: &Reason| {
                let kind = describe::reason_kind(reason) == x.expect;
                let names = match reason {
                    Reason::Role { role, permission, .. } => {
                        x.role.as_ref().is_none_or(|n| {
                            *n == refs::role_name(engine, *role)
                        }) && x.permission.as_ref().is_none_or(|n| {
                            engine
                                .permission(*permission)
                                .is_some_and(|p| p.name() == n.as_str())
                        })
                    }
                    _ => x.role.is_none() && x.permission.is_none(),
                };
                kind && names
            };
            let ok = match r.denial() {
                Some(d) => describe::denial_code(d) == x.expect,
                None => r.reasons().iter().any(matches),
            };
            if ok {
                Ok(())
            } else {
                let mut want = x.expect.clone();
                if let Some(role) = &x.role {
                    want.push_str(&format!(" by role `{role}`"));
                }
                if let Some(p) = &x.permission {
                    want.push_str(&format!(" by permission `{p}`"));
                }
                Err(format!("expected {want}, got {text}"))
            }
        }
        Step::ObjectsFor(q) => {
            let s = refs::subject(engine, &q.subject)
                .map_err(|e| e.to_string())?;
            let a = engine
                .schema()
                .action(&q.action)
                .ok_or_else(|| format!("unknown action `{}`", q.action))?;
            let ty = refs::object_type(engine, &q.object_type)
                .map_err(|e| e.to_string())?;
            let prefix = format!("{}:", q.object_type);
            let got: BTreeSet<String> = engine
                .objects_for(s, a, ty)
                .into_iter()
                .map(|o| refs::object_name(engine, o, None))
                .collect();
            let want: BTreeSet<String> = q
                .expect
                .iter()
                .map(|k| {
                    if k.starts_with(&prefix) {
                        k.clone()
                    } else {
                        format!("{prefix}{k}")
                    }
                })
                .collect();
            same_sets(&want, &got)
        }
        Step::SubjectsFor(q) => {
            let a = engine
                .schema()
                .action(&q.action)
                .ok_or_else(|| format!("unknown action `{}`", q.action))?;
            let o = refs::object(engine, &q.object, None)
                .map_err(|e| e.to_string())?;
            let got: BTreeSet<String> = engine
                .subjects_for(a, o)
                .into_iter()
                .map(|u| refs::user_name(engine, u).to_lowercase())
                .collect();
            let want: BTreeSet<String> =
                q.expect.iter().map(|e| e.to_lowercase()).collect();
            same_sets(&want, &got)
        }
        Step::Mutate(m) => mutate(seeder, m),
    }
}

fn same_sets(want: &BTreeSet<String>, got: &BTreeSet<String>) -> Outcome {
    if want == got {
        return Ok(());
    }
    let list = |s: &BTreeSet<String>| {
        if s.is_empty() {
            "nothing".to_owned()
        } else {
            s.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
        }
    };
    let missing: BTreeSet<String> = want.difference(got).cloned().collect();
    let extra: BTreeSet<String> = got.difference(want).cloned().collect();
    let mut parts =
        vec![format!("expected {}, got {}", list(want), list(got))];
    if !missing.is_empty() {
        parts.push(format!("missing {}", list(&missing)));
    }
    if !extra.is_empty() {
        parts.push(format!("unexpected {}", list(&extra)));
    }
    Err(parts.join(": "))
}

fn mutate(seeder: &mut Seeder, m: &MutateStep) -> Outcome {
    let actor = if m.actor == "system" {
        Actor::System
    } else {
        Actor::User(
            refs::user(&seeder.engine, &m.actor).map_err(|e| e.to_string())?,
        )
    };
    let result = apply(seeder, actor, m)?;
    match (result, m.expect.as_str()) {
        (Ok(()), "ok") => Ok(()),
        (Ok(()), code) => Err(format!("expected refusal `{code}`, got ok")),
        (Err(e), code) if e.code() == Some(code) => Ok(()),
        (Err(e), code) => {
            let got = e.code().unwrap_or("error");
            let want = if code == "ok" {
                "ok".to_owned()
            } else {
                format!("refusal `{code}`")
            };
            Err(format!("expected {want}, got `{got}`: {}", e.message()))
        }
    }
}

/// Applies the one operation of a step: `Err` for a malformed step (no
/// operation, several, an unknown name), `Ok(Err)` for a refusal.
fn apply(
    s: &mut Seeder,
    actor: Actor,
    m: &MutateStep,
) -> Result<Result<(), PolicyError>, String> {
    let count = [
        m.create_org.is_some(),
        m.accept_terms.is_some(),
        m.create_user.is_some(),
        m.delete_user.is_some(),
        m.create_object.is_some(),
        m.delete_object.is_some(),
        m.link_object.is_some(),
        m.unlink_object.is_some(),
        m.create_role.is_some(),
        m.delete_role.is_some(),
        m.create_permission.is_some(),
        m.add_permission_to_role.is_some(),
        m.remove_permission_from_role.is_some(),
        m.grant_role.is_some(),
        m.revoke_role.is_some(),
        m.share.is_some(),
        m.unshare.is_some(),
        m.accept_share.is_some(),
        m.reject_share.is_some(),
        m.set_public.is_some(),
        m.request_connection.is_some(),
        m.respond_connection.is_some(),
        m.transfer.is_some(),
        m.respond_transfer.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if count != 1 {
        return Err(format!(
            "a mutate step holds exactly one operation, this one holds {count}"
        ));
    }
    // Names that refer to nothing make the step malformed, not refused.
    let r = |e: PolicyError| e.to_string();
    let e = &s.engine;
    let share_id = |x: &ShareRef| -> Result<accord::ShareId, String> {
        let root = refs::object(e, &x.root, None).map_err(r)?;
        let to = refs::grantee(e, &x.to).map_err(r)?;
        e.share_of(root, to)
            .ok_or_else(|| format!("no share of `{}` to `{}`", x.root, x.to))
    };
    let membership = |x: &MembershipDecl| {
        let org = refs::org(e, &x.org).map_err(r)?;
        let role = refs::role(e, org, &x.role).map_err(r)?;
        let p = refs::object(
            e,
            &format!("permissions:{}", x.permission),
            Some(org),
        )
        .map_err(r)?;
        let perm = e
            .object(p)
            .and_then(|o| match o.kind() {
                accord::ObjectKind::Permission(p) => Some(p),
                _ => None,
            })
            .ok_or_else(|| format!("unknown permission `{}`", x.permission))?;
        Ok::<_, String>((role, perm))
    };
    let link = |x: &LinkDecl| {
        Ok::<_, String>((
            refs::object(e, &x.child, None).map_err(r)?,
            refs::object(e, &x.parent, None).map_err(r)?,
        ))
    };
    if let Some(d) = &m.create_org {
        return Ok(s.org(actor, d));
    }
    if let Some(d) = &m.create_user {
        return Ok(s.user(actor, d));
    }
    if let Some(d) = &m.create_object {
        return Ok(s.object(actor, d));
    }
    if let Some(d) = &m.create_role {
        return Ok(s.role(actor, d));
    }
    if let Some(d) = &m.create_permission {
        return Ok(s.permission(actor, d));
    }
    if let Some(d) = &m.grant_role {
        return Ok(s.grant(actor, d));
    }
    if let Some(d) = &m.share {
        if d.by.is_some() {
            return Err("a mutate step's share is granted by its actor: \
                        leave out `by`"
                .to_owned());
        }
        return Ok(s.share(actor, d));
    }
    if let Some(d) = &m.transfer {
        return Ok(s.transfer(actor, d));
    }
    if let Some(org) = &m.accept_terms {
        let org = refs::org(e, org).map_err(r)?;
        return Ok(s.run(actor, |m| m.accept_terms(org)));
    }
    if let Some(email) = &m.delete_user {
        let u = refs::user(e, email).map_err(r)?;
        return Ok(s.run(actor, |m| m.delete_user(u)));
    }
    if let Some(o) = &m.delete_object {
        let o = refs::object(e, o, None).map_err(r)?;
        return Ok(s.run(actor, |m| m.delete_object(o)));
    }
    if let Some(x) = &m.link_object {
        let (c, p) = link(x)?;
        return Ok(s.run(actor, |m| m.link_object(c, p)));
    }
    if let Some(x) = &m.unlink_object {
        let (c, p) = link(x)?;
        return Ok(s.run(actor, |m| m.unlink_object(c, p)));
    }
    if let Some(x) = &m.delete_role {
        let org = refs::org(e, &x.org).map_err(r)?;
        let role = refs::role(e, org, &x.name).map_err(r)?;
        return Ok(s.run(actor, |m| m.delete_role(role)));
    }
    if let Some(x) = &m.add_permission_to_role {
        let (role, p) = membership(x)?;
        return Ok(s.run(actor, |m| m.add_permission_to_role(role, p)));
    }
    if let Some(x) = &m.remove_permission_from_role {
        let (role, p) = membership(x)?;
        return Ok(s.run(actor, |m| m.remove_permission_from_role(role, p)));
    }
    if let Some(x) = &m.revoke_role {
        let u = refs::user(e, &x.user).map_err(r)?;
        let org = match &x.org {
            Some(o) => refs::org(e, o).map_err(r)?,
            None => e.user(u).map(accord::User::org).ok_or("unknown user")?,
        };
        let role = refs::role(e, org, &x.role).map_err(r)?;
        return Ok(s.run(actor, |m| m.revoke_role(u, role)));
    }
    if let Some(x) = &m.unshare {
        let id = share_id(x)?;
        return Ok(s.run(actor, |m| m.unshare(id)));
    }
    if let Some(x) = &m.accept_share {
        let id = share_id(x)?;
        return Ok(s.run(actor, |m| m.accept_share(id)));
    }
    if let Some(x) = &m.reject_share {
        let id = share_id(x)?;
        return Ok(s.run(actor, |m| m.reject_share(id)));
    }
    if let Some(x) = &m.set_public {
        let root = refs::object(e, &x.root, None).map_err(r)?;
        let public = x.public;
        return Ok(s.run(actor, |m| m.set_public(root, public)));
    }
    if let Some(x) = &m.request_connection {
        let (from, to) = (
            refs::org(e, &x.from).map_err(r)?,
            refs::org(e, &x.to).map_err(r)?,
        );
        return Ok(s.run(actor, |m| m.request_connection(from, to)));
    }
    if let Some(x) = &m.respond_connection {
        let (from, to) = (
            refs::org(e, &x.from).map_err(r)?,
            refs::org(e, &x.to).map_err(r)?,
        );
        let accept = x.accept;
        return Ok(s.run(actor, |m| m.respond_connection(from, to, accept)));
    }
    if let Some(x) = &m.respond_transfer {
        let root = refs::object(e, &x.root, None).map_err(r)?;
        let accept = x.accept;
        return Ok(s.run(actor, |m| m.respond_transfer(root, accept)));
    }
    Err("no operation".to_owned())
}
