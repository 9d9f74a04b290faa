//! An engine as a policy file: schema, config and content, every record
//! named by key, e-mail or name.

use std::collections::{BTreeMap, HashMap, HashSet};

use accord::{
    Engine, Grantee, Grantor, ObjectId, ObjectKind, ShareId, ShareKind,
    ShareStatus,
};

use crate::convert;
use crate::error::{PolicyError, PolicyErrorKind};
use crate::file::{
    ConnectionDecl, GrantDecl, ObjectDecl, OrgDecl, PermissionDecl,
    PolicyFile, RoleDecl, ShareDecl, Spanned, TransferDecl, UserDecl,
    POLICY_VERSION,
};
use crate::refs;

/// The result of [`export()`]: the file and what it could not say
/// exactly.
#[derive(Clone, Debug)]
pub struct Export {
    /// The policy file, with `exact = true`.
    pub file: PolicyFile,
    /// What the file leaves out or says differently, one line each
    /// (API tokens, which are credentials; account profiles; shares whose
    /// granting user could no longer grant them, written as granted by
    /// the owner). Empty when the file reproduces the engine exactly.
    pub warnings: Vec<String>,
}

fn spanned<T>(value: T) -> Spanned<T> {
    Spanned::new(0..0, value)
}

/// Writes `engine` as a policy file that loads to an engine making the
/// same decisions on every (subject, action, object) question, subjects
/// and objects matched by e-mail and `type:key`.
///
/// The file is checked by loading it before it is returned.
///
/// # Errors
///
/// When the file does not load (a permission name that is ambiguous in
/// its organization and listed as an object, for example), with the
/// loader's error.
///
/// # Example
///
/// ```
/// use accord::{presets, Actor, Timestamp};
///
/// let mut engine = presets::arbiter().build()?;
/// let mut sys = engine.act(Actor::System, Timestamp::default());
/// let org = sys.create_org("Utility X")?.value;
/// sys.create_object(org, "sites", "plant-x", &[])?;
///
/// let export = accord_policy::export(&engine)?;
/// assert!(export.warnings.is_empty());
/// let text = export.file.to_toml()?;
/// let again = accord_policy::load_str(&text, None)?;
/// assert!(again.org_by_name("Utility X").is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn export(engine: &Engine) -> Result<Export, PolicyError> {
    let mut warnings = Vec::new();
    let config = engine.config();
    let orgs = engine
        .orgs()
        .map(|(_, o)| {
            spanned(OrgDecl {
                name: o.name().to_owned(),
                accepted_terms: config.require_terms && o.accepted_terms(),
            })
        })
        .collect();
    let mut tokens = 0;
    let mut profiles = 0;
    let users = engine
        .users()
        .map(|(_, u)| {
            tokens += u.tokens().count();
            profiles += usize::from(u.profile().is_some());
            spanned(UserDecl {
                email: u.email().to_owned(),
                org: refs::org_name(engine, u.org()),
                platform_admin: u.is_platform_admin(),
            })
        })
        .collect();
    if tokens > 0 {
        warnings.push(format!(
            "{tokens} API tokens left out: tokens are credentials, issued at \
             run time"
        ));
    }
    if profiles > 0 {
        warnings.push(format!(
            "{profiles} account profiles left out: their users are written \
             as plain users"
        ));
    }
    let name = |o: ObjectId, ctx| refs::object_name(engine, o, ctx);
    let objects = data_objects_parents_first(engine)
        .into_iter()
        .filter_map(|id| {
            let o = engine.object(id)?;
            Some(spanned(ObjectDecl {
                object_type: engine
                    .schema()
                    .type_name(o.object_type())?
                    .to_owned(),
                key: o.key().into_owned(),
                org: refs::org_name(engine, o.org()),
                parents: o.parents().iter().map(|p| name(*p, None)).collect(),
            }))
        })
        .collect();
    let roles = engine
        .roles()
        .map(|(_, r)| {
            let schema = engine.schema();
            spanned(RoleDecl {
                org: refs::org_name(engine, r.org()),
                name: r.name().into_owned(),
                description: Some(r.description().to_owned()),
                bound_to: Some(
                    r.required_bindings()
                        .iter()
                        .filter_map(|t| {
                            schema.type_name(*t).map(str::to_owned)
                        })
                        .collect(),
                ),
                personal_to: r
                    .personal_to()
                    .and_then(|u| engine.user(u))
                    .map(|u| u.email().to_owned()),
            })
        })
        .collect();
    let permissions = engine
        .permissions()
        .map(|(_, p)| {
            let schema = engine.schema();
            let org = Some(p.org());
            spanned(PermissionDecl {
                org: refs::org_name(engine, p.org()),
                name: p.name().into_owned(),
                action: schema
                    .action_name(p.action())
                    .unwrap_or("?")
                    .to_owned(),
                object_type: schema
                    .type_name(p.object_type())
                    .unwrap_or("?")
                    .to_owned(),
                applies_to_all: p.applies_to_all(),
                objects: p.objects().map(|o| name(o, org)).collect(),
                roles: p.roles().map(|r| refs::role_name(engine, r)).collect(),
            })
        })
        .collect();
    let grants = engine
        .grants()
        .filter_map(|(_, g)| {
            let user = engine.user(g.user())?;
            let role = engine.role(g.role())?;
            let ctx = Some(role.org());
            Some(spanned(GrantDecl {
                user: user.email().to_owned(),
                role: role.name().into_owned(),
                org: (role.org() != user.org())
                    .then(|| refs::org_name(engine, role.org())),
                bindings: g.bindings().iter().map(|b| name(*b, ctx)).collect(),
            }))
        })
        .collect();
    let connections = engine
        .connections()
        .map(|c| {
            spanned(ConnectionDecl {
                from: refs::org_name(engine, c.from),
                to: refs::org_name(engine, c.to),
                accepted: c.accepted,
            })
        })
        .collect();
    let shares = shares_upstream_first(engine)
        .into_iter()
        .filter_map(|id| share_decl(engine, id).map(spanned))
        .collect();
    let transfers = data_objects_parents_first(engine)
        .into_iter()
        .filter_map(|o| {
            let to = engine.pending_transfer(o)?;
            Some(spanned(TransferDecl {
                root: name(o, None),
                to: refs::org_name(engine, to),
            }))
        })
        .collect();
    let mut file = PolicyFile {
        version: POLICY_VERSION,
        exact: true,
        schema: convert::schema_decl(engine.schema()),
        config: convert::config_decl(config),
        orgs,
        users,
        objects,
        roles,
        permissions,
        grants,
        connections,
        shares,
        transfers,
    };
    let (_, fell) = file.load_with_fallback().map_err(|e| {
        PolicyError::new(
            PolicyErrorKind::Export,
            format!("the exported file does not load: {e}"),
        )
    })?;
    for i in fell {
        if let Some(s) = file.shares.get_mut(i) {
            let d = s.get_mut();
            warnings.push(format!(
                "shares[{i}]: the share of `{}` to `{}` is written as granted \
                 by the owner: its grantor `{}` could no longer grant it",
                d.root,
                d.to,
                d.by.take().unwrap_or_default()
            ));
        }
    }
    Ok(Export { file, warnings })
}

fn share_decl(engine: &Engine, id: ShareId) -> Option<ShareDecl> {
    let s = engine.share(id)?;
    let schema = engine.schema();
    let levels: BTreeMap<_, _> = s
        .type_levels()
        .iter()
        .filter_map(|(t, l)| {
            Some((schema.type_name(*t)?.to_owned(), convert::level_decl(*l)))
        })
        .collect();
    let objects: BTreeMap<_, _> = s
        .object_levels()
        .iter()
        .map(|(o, l)| {
            (refs::object_name(engine, *o, None), convert::level_decl(*l))
        })
        .collect();
    let default_forward = s.kind() == ShareKind::Full;
    Some(ShareDecl {
        root: refs::object_name(engine, s.root(), None),
        to: refs::grantee_name(engine, s.grantee()),
        kind: convert::share_kind_decl(s.kind()),
        levels,
        objects,
        share_forward: (s.share_forward() != default_forward)
            .then_some(s.share_forward()),
        by: match s.grantor() {
            Grantor::User(u) => engine.user(u).map(|u| u.email().to_owned()),
            Grantor::Owner => None,
        },
        accepted: s.status() == ShareStatus::Accepted,
    })
}

/// The data objects, every one after its parents.
fn data_objects_parents_first(engine: &Engine) -> Vec<ObjectId> {
    let mut out = Vec::new();
    let mut placed: HashSet<ObjectId> = HashSet::new();
    for (id, o) in engine.objects() {
        if o.kind() != ObjectKind::Data || placed.contains(&id) {
            continue;
        }
        // Depth first, parents before the object; the graph is acyclic.
        let mut stack = vec![(id, false)];
        while let Some((at, expanded)) = stack.pop() {
            if placed.contains(&at) {
                continue;
            }
            if expanded {
                placed.insert(at);
                out.push(at);
                continue;
            }
            stack.push((at, true));
            if let Some(rec) = engine.object(at) {
                for p in rec.parents().iter().rev() {
                    if !placed.contains(p) {
                        stack.push((*p, false));
                    }
                }
            }
        }
    }
    out
}

/// The shares, each after the shares through which its grantor could
/// forward it (shares to the grantor or the grantor's organization, with
/// share-forward, on its root or an ancestor).
fn shares_upstream_first(engine: &Engine) -> Vec<ShareId> {
    let ids: Vec<ShareId> = engine.shares().map(|(id, _)| id).collect();
    let mut upstream: HashMap<ShareId, Vec<ShareId>> = HashMap::new();
    for id in &ids {
        let Some(s) = engine.share(*id) else { continue };
        let Grantor::User(g) = s.grantor() else { continue };
        let org = engine.user(g).map(accord::User::org);
        let root = engine.object(s.root());
        let ups = ids
            .iter()
            .copied()
            .filter(|u| u != id)
            .filter(|u| {
                engine.share(*u).is_some_and(|up| {
                    let to_grantor = up.grantee() == Grantee::User(g)
                        || org
                            .is_some_and(|o| up.grantee() == Grantee::Org(o));
                    let covers = up.root() == s.root()
                        || root.is_some_and(|r| {
                            r.ancestors().contains(&up.root())
                        });
                    to_grantor && covers && up.share_forward()
                })
            })
            .collect();
        upstream.insert(*id, ups);
    }
    let mut out = Vec::new();
    let mut placed: HashSet<ShareId> = HashSet::new();
    let mut visiting: HashSet<ShareId> = HashSet::new();
    for id in &ids {
        let mut stack = vec![(*id, false)];
        while let Some((at, expanded)) = stack.pop() {
            if placed.contains(&at) {
                continue;
            }
            if expanded {
                placed.insert(at);
                out.push(at);
                continue;
            }
            // A circle of forwards: whichever comes first goes first.
            if !visiting.insert(at) {
                continue;
            }
            stack.push((at, true));
            for u in upstream.get(&at).into_iter().flatten().rev() {
                if !placed.contains(u) && !visiting.contains(u) {
                    stack.push((*u, false));
                }
            }
        }
    }
    out
}
