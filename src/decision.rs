//! The decision: [`Engine::check`], [`Engine::explain`] and
//! [`Engine::check_batch`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::id::{
    ActionId, GrantId, ObjectId, OrgId, PermissionId, RoleId, ShareId,
    TokenId, UserId,
};
use crate::index::{mask_on, ObjMeta, UserIndex};
use crate::schema::Threshold;
use crate::share::{Grantee, Grantor};
use crate::Engine;

/// The answer of [`Engine::check`].
///
/// Deliberately not a `bool`: `if engine.check(..) == Decision::Allow`
/// reads unambiguously, and a decision cannot be confused with an unrelated
/// flag. Every unknown subject, action or object yields `Deny`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Decision {
    /// The subject may perform the action on the object.
    Allow,
    /// It may not (the default).
    Deny,
}

impl Decision {
    /// Whether this is [`Decision::Allow`].
    #[inline]
    #[must_use]
    pub fn is_allow(self) -> bool {
        matches!(self, Decision::Allow)
    }
}

/// Who is asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Subject {
    /// A signed-in user.
    User(UserId),
    /// An API token (see [`Engine::authenticate`]): acts as its user,
    /// capped to non-administrative actions of threshold `Read` or below,
    /// inside its scope.
    Token(TokenId),
    /// Nobody signed in.
    Anonymous,
}

/// Why access was allowed: one path through the policy.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Reason {
    /// The subject holds `role` through `grant`, and the role contains
    /// `permission`, which allows the action on the object.
    Role {
        /// The grant (effective on the object given its bindings).
        grant: GrantId,
        /// The role granted.
        role: RoleId,
        /// The permission that matched.
        permission: PermissionId,
    },
    /// An accepted share covering the object gives a level meeting the
    /// action's threshold.
    Share {
        /// The share that matched.
        share: ShareId,
        /// The chain of shares from the owner down to `share`: the first
        /// was granted by the owner, each next one by a grantee of the
        /// previous. Under the `Keep` downstream policy a share may
        /// outlive the share its grantor held; its chain then starts at
        /// the first share that can be traced, granted by a user.
        chain: Vec<ShareId>,
    },
}

/// Why access was denied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Denial {
    /// The subject is not a known user.
    UnknownSubject,
    /// The action is not in the schema.
    UnknownAction,
    /// A token may not attempt this: the action is administrative or above
    /// `Read`, or the object lies outside the token's scope.
    TokenCap,
    /// The object does not exist.
    UnknownObject,
    /// No grant or share of the subject covers the object with this action.
    NoMatchingGrant,
}

/// The answer of [`Engine::explain`]: the decision and the paths that
/// allowed it, or why nothing did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    decision: Decision,
    reasons: Vec<Reason>,
    denial: Option<Denial>,
}

impl Response {
    /// The decision, identical to [`Engine::check`]'s.
    #[must_use]
    pub fn decision(&self) -> Decision {
        self.decision
    }
    /// Every path that allowed access (empty when denied).
    #[must_use]
    pub fn reasons(&self) -> &[Reason] {
        &self.reasons
    }
    /// Why access was denied (`None` when allowed).
    #[must_use]
    pub fn denial(&self) -> Option<Denial> {
        self.denial
    }
}

impl Engine {
    /// Decides whether `subject` may perform `action` on `object`.
    ///
    /// Never fails, never allocates, and reflects every mutation that has
    /// returned. Unknown subjects, actions and objects are denied.
    ///
    /// # Example
    ///
    /// ```
    /// use accord::{Actor, Decision, Subject, Timestamp, presets};
    ///
    /// let mut engine = presets::arbiter().build()?;
    /// let mut sys = engine.act(Actor::System, Timestamp::from_unix_millis(0));
    /// let org = sys.create_org("Utility X")?.value;
    /// sys.accept_terms(org)?;
    /// let ann = sys.create_user(org, "ann@x.example")?.value;
    /// let role = sys.engine().role_by_name(org, "Read all").unwrap();
    /// sys.grant_role(ann, role, &[])?;
    /// let site = sys.create_object(org, "sites", "plant", &[])?.value;
    ///
    /// let s = engine.schema();
    /// let (read, delete) = (s.action("read").unwrap(), s.action("delete").unwrap());
    /// assert_eq!(engine.check(Subject::User(ann), read, site), Decision::Allow);
    /// assert_eq!(engine.check(Subject::User(ann), delete, site), Decision::Deny);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    #[inline]
    pub fn check(
        &self,
        subject: Subject,
        action: ActionId,
        object: ObjectId,
    ) -> Decision {
        if self.allows(subject, action, object) {
            Decision::Allow
        } else {
            Decision::Deny
        }
    }

    #[inline]
    fn allows(
        &self,
        subject: Subject,
        action: ActionId,
        object: ObjectId,
    ) -> bool {
        if action.as_usize() >= self.schema.action_count() {
            return false;
        }
        let Some(meta) = self.index.object(object) else { return false };
        match subject {
            Subject::User(u) => {
                let Some(ui) = self.index.user(u) else { return false };
                self.user_allows(u, ui, meta, action, object)
            }
            Subject::Anonymous => {
                meta.shared && self.share_allows(None, None, action, object)
            }
            Subject::Token(t) => {
                match self.token_user(t, action, object, meta) {
                    Some(u) => self.allows(Subject::User(u), action, object),
                    None => false,
                }
            }
        }
    }

    /// Whether user `u`, whose index entry is `ui`, may perform `action`
    /// (valid) on `object`, whose index entry is `meta`: the role path and
    /// the bound grants (skipped for an object of another organization
    /// when every role the user holds is of the user's own), then the
    /// share path.
    #[inline]
    fn user_allows(
        &self,
        u: UserId,
        ui: &UserIndex,
        meta: ObjMeta,
        action: ActionId,
        object: ObjectId,
    ) -> bool {
        let bit = 1u64 << (action.as_u32() & 63);
        (ui.may_cover(meta.org)
            && (ui.mask_on(object, meta) & bit != 0
                || (!ui.bound().is_empty()
                    && self.bound_allows(ui, object, meta, bit))))
            || (meta.shared
                && self.share_allows(Some(u), ui.org, action, object))
    }

    /// The user a token acts as, if the token may attempt `action` on
    /// `object` at all: the action is not administrative, its threshold is
    /// `Read` or below, and the object lies inside the token's scope.
    fn token_user(
        &self,
        token: TokenId,
        action: ActionId,
        object: ObjectId,
        meta: ObjMeta,
    ) -> Option<UserId> {
        let t = self.model.tokens.get(token)?;
        let def = self.schema.action_def(action)?;
        if def.threshold() > Threshold::Read
            || self.schema.is_administrative(action, meta.ty)
        {
            return None;
        }
        if let Some(scope) = t.scope {
            let rec = self.model.objects.get(object)?;
            if !rec.is_at_or_under(object, scope) {
                return None;
            }
        }
        Some(t.user)
    }

    /// The share path: an accepted share to the user, their organization or
    /// the public, rooted at the object or an ancestor, gives a level that
    /// meets the action's threshold — and, for a compound action, the
    /// required level on every child of the required type.
    ///
    /// Reads the index's per-object reach (the highest level per grantee),
    /// so the cost is one slot and a short scan; [`Engine::explain`] finds
    /// the share itself by walking the policy store instead.
    fn share_allows(
        &self,
        user: Option<UserId>,
        org: Option<OrgId>,
        action: ActionId,
        object: ObjectId,
    ) -> bool {
        let Some(def) = self.schema.action_def(action) else { return false };
        let grantees = [
            user.map_or(Grantee::Public, Grantee::User),
            org.map_or(Grantee::Public, Grantee::Org),
            Grantee::Public,
        ];
        let Some(level) = self.index.reach_level(object, &grantees) else {
            return false;
        };
        if !def.threshold().is_met_by(level) {
            return false;
        }
        let mut every = def.every_child().peekable();
        if every.peek().is_none() {
            return true;
        }
        let Some(rec) = self.model.objects.get(object) else { return false };
        every.all(|(child_ty, need)| {
            rec.links().children.iter().all(|c| {
                let is_type = self
                    .model
                    .objects
                    .get(*c)
                    .is_some_and(|r| r.ty == child_ty);
                !is_type || self.index.reach_level(*c, &grantees) >= Some(need)
            })
        })
    }

    fn matching_share(
        &self,
        user: Option<UserId>,
        org: Option<OrgId>,
        action: ActionId,
        object: ObjectId,
    ) -> Option<ShareId> {
        let def = self.schema.action_def(action)?;
        let rec = self.model.objects.get(object)?;
        let grantees = [
            user.map(Grantee::User),
            org.map(Grantee::Org),
            Some(Grantee::Public),
        ];
        let mut found = None;
        'roots: for a in
            std::iter::once(object).chain(rec.ancestors().iter().copied())
        {
            if !self.index.is_root(a) {
                continue;
            }
            for g in grantees.iter().flatten() {
                let Some(id) = self.index.share(a, *g) else { continue };
                let Some(share) = self.model.shares.get(id) else { continue };
                if def.threshold().is_met_by(share.level_for(object, rec.ty)) {
                    found = Some(id);
                    break 'roots;
                }
            }
        }
        let id = found?;
        let all: SmallVec<[Grantee; 3]> =
            grantees.iter().flatten().copied().collect();
        for (child_ty, level) in def.every_child() {
            for c in &rec.links().children {
                let is_type = self
                    .model
                    .objects
                    .get(*c)
                    .is_some_and(|r| r.ty == child_ty);
                if is_type && self.share_level(&all, *c) < Some(level) {
                    return None;
                }
            }
        }
        Some(id)
    }

    /// The chain of shares from the owner to `share`, following each
    /// grantor's own share-forward.
    pub(crate) fn share_chain(&self, share: ShareId) -> Vec<ShareId> {
        // Breadth first through the shares each grantor forwards from: the
        // shortest chain that starts at a share the owner granted. Following
        // the first upstream share found can walk into a circle (two
        // holders who forwarded to each other) while another chain from the
        // owner exists.
        let mut below: HashMap<ShareId, ShareId> = HashMap::new();
        let mut queue = std::collections::VecDeque::from([share]);
        while let Some(current) = queue.pop_front() {
            let Some(s) = self.model.shares.get(current) else { continue };
            let Grantor::User(g) = s.grantor else {
                let mut chain = vec![current];
                let mut at = current;
                while let Some(next) = below.get(&at) {
                    chain.push(*next);
                    at = *next;
                }
                return chain;
            };
            for id in self.upstream_of(g, s.root) {
                if id != share && !below.contains_key(&id) {
                    below.insert(id, current);
                    queue.push_back(id);
                }
            }
        }
        // No chain reaches the owner (a share kept under `Keep` after its
        // upstream went): trace back as far as the shares go.
        let mut chain = vec![share];
        let mut current = share;
        while let Some(s) = self.model.shares.get(current) {
            let Grantor::User(g) = s.grantor else { break };
            let next = self
                .upstream_of(g, s.root)
                .into_iter()
                .find(|id| !chain.contains(id));
            match next {
                Some(n) => {
                    chain.push(n);
                    current = n;
                }
                None => break,
            }
        }
        chain.reverse();
        chain
    }

    /// The accepted shares with share-forward that reach `grantor` (in
    /// person or through their organization) on `root` or an ancestor.
    fn upstream_of(
        &self,
        grantor: UserId,
        root: ObjectId,
    ) -> SmallVec<[ShareId; 4]> {
        let grantees = self.grantees_of(grantor);
        let personal = grantees.get(..2).unwrap_or(&[]);
        let mut out = self.shares_covering(personal, root);
        out.retain(|id| {
            self.model.shares.get(*id).is_some_and(|v| v.share_forward)
        });
        out
    }

    /// The role path through bound grants: the role allows the action and
    /// the object lies at or under every binding.
    #[cold]
    fn bound_allows(
        &self,
        ui: &UserIndex,
        object: ObjectId,
        meta: ObjMeta,
        bit: u64,
    ) -> bool {
        let Some(rec) = self.model.objects.get(object) else { return false };
        ui.bound().iter().any(|(g, role)| {
            let allowed = self
                .index
                .role(*role)
                .is_some_and(|m| mask_on(m, object, meta) & bit != 0);
            allowed
                && self.model.grants.get(*g).is_some_and(|grant| {
                    grant
                        .bindings
                        .iter()
                        .all(|b| rec.is_at_or_under(object, *b))
                })
        })
    }

    /// Decides many queries at once, writing one decision per query into
    /// `out` (which is cleared first). Reusing `out` across calls makes
    /// the batch allocation-free.
    ///
    /// Each decision is the one [`Engine::check`] makes. On a policy too
    /// large for the processor's caches the batch is also faster per
    /// query: it reads the index entries of several queries before
    /// deciding any of them, so their cache misses overlap instead of
    /// following one another (see `BENCHMARKS.md`).
    ///
    /// # Example
    ///
    /// ```
    /// use accord::{Decision, Subject, ObjectId, presets};
    ///
    /// let engine = presets::arbiter().build()?;
    /// let read = engine.schema().action("read").unwrap();
    /// let mut out = Vec::new();
    /// engine.check_batch(&[(Subject::Anonymous, read, ObjectId::new(0)?)], &mut out);
    /// assert_eq!(out, [Decision::Deny]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_batch(
        &self,
        queries: &[(Subject, ActionId, ObjectId)],
        out: &mut Vec<Decision>,
    ) {
        /// Queries whose first reads are issued together.
        const STAGE: usize = 8;
        out.clear();
        out.reserve(queries.len());
        let actions = self.schema.action_count();
        for chunk in queries.chunks(STAGE) {
            // First the object's and the user's index entries of every
            // user query in the chunk: independent reads, so that on a
            // large policy their cache misses overlap instead of coming
            // one query after another.
            let mut entries: [Option<(ObjMeta, &UserIndex)>; STAGE] =
                [None; STAGE];
            for (e, (s, a, o)) in entries.iter_mut().zip(chunk) {
                if let (Subject::User(u), true) = (s, a.as_usize() < actions) {
                    *e = self.index.object(*o).zip(self.index.user(*u));
                }
            }
            // Then each decision, as `check` makes it.
            for (e, (s, a, o)) in entries.iter().zip(chunk) {
                let allowed = match (e, s) {
                    (Some((meta, ui)), Subject::User(u)) => {
                        self.user_allows(*u, ui, *meta, *a, *o)
                    }
                    _ => self.allows(*s, *a, *o),
                };
                out.push(if allowed {
                    Decision::Allow
                } else {
                    Decision::Deny
                });
            }
        }
    }

    /// Decides like [`Engine::check`] and says why: every grant, role and
    /// permission that allows the action and a share that does, or the
    /// reason for denial.
    ///
    /// The decision is `check`'s. The reasons are read from the policy
    /// store: the subject's grants, their roles and permissions (scanned
    /// only when the index says one of the user's grants may cover the
    /// object), and the share that reaches the object, with its chain.
    ///
    /// # Example
    ///
    /// ```
    /// use accord::{Actor, Denial, Reason, Subject, Timestamp, presets};
    ///
    /// let mut engine = presets::arbiter().build()?;
    /// let mut sys = engine.act(Actor::System, Timestamp::from_unix_millis(0));
    /// let org = sys.create_org("Utility X")?.value;
    /// let ann = sys.create_user(org, "ann@x.example")?.value;
    /// let site = sys.create_object(org, "sites", "plant", &[])?.value;
    /// let read = engine.schema().action("read").unwrap();
    ///
    /// let r = engine.explain(Subject::User(ann), read, site);
    /// assert_eq!(r.denial(), Some(Denial::NoMatchingGrant));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn explain(
        &self,
        subject: Subject,
        action: ActionId,
        object: ObjectId,
    ) -> Response {
        let decision = self.check(subject, action, object);
        let mut reasons = Vec::new();
        let denial = if self.schema.action_def(action).is_none() {
            Some(Denial::UnknownAction)
        } else if self.model.objects.get(object).is_none() {
            Some(Denial::UnknownObject)
        } else {
            match subject {
                Subject::User(u) if self.model.users.contains(u) => {
                    if self.may_have_role_reason(u, action, object) {
                        self.role_reasons(u, action, object, &mut reasons);
                    }
                    let org = self.model.users.get(u).map(|r| r.org);
                    if let Some(id) =
                        self.matching_share(Some(u), org, action, object)
                    {
                        let chain = self.share_chain(id);
                        reasons.push(Reason::Share { share: id, chain });
                    }
                    None
                }
                Subject::Anonymous => {
                    if let Some(id) =
                        self.matching_share(None, None, action, object)
                    {
                        let chain = self.share_chain(id);
                        reasons.push(Reason::Share { share: id, chain });
                    }
                    None
                }
                Subject::Token(t) if self.model.tokens.contains(t) => {
                    let user = self.model.objects.get(object).and_then(|r| {
                        let meta =
                            ObjMeta { ty: r.ty, org: r.org, shared: false };
                        self.token_user(t, action, object, meta)
                    });
                    match user {
                        Some(u) => {
                            let inner =
                                self.explain(Subject::User(u), action, object);
                            reasons.extend(inner.reasons);
                            None
                        }
                        None => Some(Denial::TokenCap),
                    }
                }
                _ => Some(Denial::UnknownSubject),
            }
        };
        let denial = match (decision, denial) {
            (Decision::Allow, _) => None,
            (Decision::Deny, Some(d)) => Some(d),
            (Decision::Deny, None) => Some(Denial::NoMatchingGrant),
        };
        Response { decision, reasons, denial }
    }

    /// Whether a role grant of `user` may cover `object` for `action`:
    /// the index's mask of the user's unbound grants has the action, or the
    /// user holds bound grants (tested record by record). When neither
    /// holds, [`Engine::role_reasons`] would find nothing, and it reads
    /// every grant, role and permission record of the user to find it.
    fn may_have_role_reason(
        &self,
        user: UserId,
        action: ActionId,
        object: ObjectId,
    ) -> bool {
        let (Some(ui), Some(meta)) =
            (self.index.user(user), self.index.object(object))
        else {
            return true;
        };
        let bit = 1u64 << (action.as_u32() & 63);
        ui.mask_on(object, meta) & bit != 0 || !ui.bound().is_empty()
    }

    fn role_reasons(
        &self,
        user: UserId,
        action: ActionId,
        object: ObjectId,
        out: &mut Vec<Reason>,
    ) {
        let m = &self.model;
        let (Some(u), Some(obj)) = (m.users.get(user), m.objects.get(object))
        else {
            return;
        };
        for (role, g) in &u.grants {
            let Some(grant) = m.grants.get(*g) else { continue };
            if !grant.bindings.iter().all(|b| obj.is_at_or_under(object, *b)) {
                continue;
            }
            let Some(r) = m.roles.get(*role) else { continue };
            for p in &r.permissions {
                let Some(perm) = m.permissions.get(*p) else { continue };
                if perm.action == action
                    && perm.covers(object, obj.ty, obj.org)
                {
                    out.push(Reason::Role {
                        grant: *g,
                        role: *role,
                        permission: *p,
                    });
                }
            }
        }
    }

    /// Renders a [`Response`] in words, naming roles, permissions and
    /// organizations.
    #[must_use]
    pub fn render(&self, response: &Response) -> String {
        let mut s = String::new();
        match response.decision {
            Decision::Allow => s.push_str("allow"),
            Decision::Deny => s.push_str("deny"),
        }
        for reason in &response.reasons {
            match reason {
                Reason::Role { role, permission, grant } => {
                    let r = self.model.roles.get(*role);
                    let org = r
                        .and_then(|r| self.model.orgs.get(r.org))
                        .map_or("?", |o| o.name.as_str());
                    let rname = r.map_or(Cow::Borrowed("?"), |r| r.name());
                    let pname = self
                        .model
                        .permissions
                        .get(*permission)
                        .map_or(Cow::Borrowed("?"), |p| p.name());
                    let _ = write!(
                        s,
                        "; via role `{rname}` of `{org}`, permission `{pname}`"
                    );
                    let bound = self
                        .model
                        .grants
                        .get(*grant)
                        .is_some_and(|g| !g.bindings.is_empty());
                    if bound {
                        s.push_str(" (bound grant)");
                    }
                }
                Reason::Share { share, chain } => {
                    let links: Vec<String> = chain
                        .iter()
                        .filter_map(|id| self.model.shares.get(*id))
                        .map(|sh| self.describe_grantee(sh.grantee))
                        .collect();
                    let kind = self
                        .model
                        .shares
                        .get(*share)
                        .map(|sh| format!("{:?}", sh.kind))
                        .unwrap_or_default();
                    let _ = write!(
                        s,
                        "; via {kind} share, chain owner → {}",
                        links.join(" → ")
                    );
                }
            }
        }
        if let Some(d) = response.denial {
            let why = match d {
                Denial::UnknownSubject => "unknown subject",
                Denial::UnknownAction => "unknown action",
                Denial::UnknownObject => "unknown object",
                Denial::TokenCap => "outside what a read-only token may do",
                Denial::NoMatchingGrant => "no grant allows it",
            };
            let _ = write!(s, ": {why}");
        }
        s
    }
}

impl std::fmt::Display for Decision {
    /// `allow` or `deny`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_allow() { "allow" } else { "deny" })
    }
}

impl std::fmt::Display for Subject {
    /// `user#3`, `token#1` or `anonymous`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::User(u) => write!(f, "{u}"),
            Subject::Token(t) => write!(f, "{t}"),
            Subject::Anonymous => f.write_str("anonymous"),
        }
    }
}

impl std::fmt::Display for Reason {
    /// The path in handles, e.g. `role#2 (grant#4, permission#7)`; for
    /// names, use [`Engine::render`].
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Role { grant, role, permission } => {
                write!(f, "{role} ({grant}, {permission})")
            }
            Reason::Share { share, chain } => {
                write!(f, "{share}")?;
                if chain.len() > 1 {
                    f.write_str(" (chain")?;
                    for s in chain {
                        write!(f, " {s}")?;
                    }
                    f.write_str(")")?;
                }
                Ok(())
            }
        }
    }
}

impl std::fmt::Display for Denial {
    /// Why access was denied, in words.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Denial::UnknownSubject => "the subject is not a known user",
            Denial::UnknownAction => "the action is not in the schema",
            Denial::TokenCap => {
                "a token may not do this: the action is administrative or \
                 above read, or the object is outside the token's scope"
            }
            Denial::UnknownObject => "the object does not exist",
            Denial::NoMatchingGrant => {
                "no grant or share of the subject covers the object with \
                 this action"
            }
        })
    }
}

impl std::fmt::Display for Response {
    /// The decision, then each reason or the denial, in handles, e.g.
    /// `allow: role#2 (grant#4, permission#7)`; for names, use
    /// [`Engine::render`].
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.decision)?;
        let mut sep = ": ";
        for r in &self.reasons {
            write!(f, "{sep}{r}")?;
            sep = "; ";
        }
        if let Some(d) = &self.denial {
            write!(f, "{sep}{d}")?;
        }
        Ok(())
    }
}
