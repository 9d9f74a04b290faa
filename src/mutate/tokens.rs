//! API tokens, public visibility and sharing by e-mail.

use super::commit::Cascade;
use super::handlers::{denied, invalid, not_found, Result, Who};
use crate::audit::Timestamp;
use crate::decision::Subject;
use crate::id::{Name, ObjectId, ShareId, TokenId, UserId};
use crate::model::Dirty;
use crate::schema::{READ, UPDATE};
use crate::share::{
    Grantee, Grantor, Share, ShareKind, ShareSpec, ShareStatus,
};
use crate::token::{claimed_id, constant_time_eq, hash, Token};
use crate::Engine;

impl Engine {
    pub(super) fn share_by_email(
        &mut self,
        who: Who,
        op: &'static str,
        root: ObjectId,
        email: &str,
        spec: &ShareSpec,
    ) -> Result<ShareId> {
        // Authority first, so that outsiders cannot probe which e-mails
        // have accounts.
        self.data_object(root)?;
        let may_share = self.acts_as_owner(who, root)
            || matches!(who, Who::User(u, _) if self.holds_share_forward(u, root));
        if !may_share {
            return Err(denied(
                op,
                format!("actor may not share {}", self.describe(root)),
            ));
        }
        let user = self
            .user_by_email(email)
            .ok_or_else(|| not_found("account with e-mail", email))?;
        self.share_op(who, op, root, Grantee::User(user), spec)
    }

    pub(super) fn set_public(
        &mut self,
        who: Who,
        op: &'static str,
        root: ObjectId,
        public: bool,
    ) -> Result<()> {
        self.data_object(root)?;
        let existing =
            self.model.share_keys.get(&(root, Grantee::Public)).copied();
        match (public, existing) {
            (true, Some(_)) => Err(invalid("the object is already public")),
            (false, None) => {
                Err(invalid("the object already requires a login"))
            }
            (true, None) => {
                let spec = ShareSpec::read_only();
                self.share_op(who, op, root, Grantee::Public, &spec)
                    .map(|_| ())
            }
            (false, Some(id)) => self.unshare_op(who, op, id),
        }
    }

    /// Gives a new object of a public-by-default type its public share.
    pub(super) fn publish_new(&mut self, object: ObjectId, dirty: &mut Dirty) {
        let Some(rec) = self.model.objects.get(object) else { return };
        let Some(name) = self.schema.type_name(rec.ty) else { return };
        if !self.config.public_by_default.iter().any(|t| t == name) {
            return;
        }
        let share = Share {
            root: object,
            grantee: Grantee::Public,
            kind: ShareKind::ReadOnly,
            levels: smallvec::SmallVec::new(),
            overrides: smallvec::SmallVec::new(),
            share_forward: false,
            grantor: Grantor::Owner,
            status: ShareStatus::Accepted,
        };
        if let Some(id) = self.model.insert_share(share) {
            dirty.shares.insert(id);
        }
    }

    #[expect(clippy::too_many_arguments, reason = "one per op field")]
    pub(super) fn issue_token(
        &mut self,
        who: Who,
        op: &'static str,
        user: UserId,
        scope: Option<ObjectId>,
        label: &str,
        expires: Option<Timestamp>,
        hash: &str,
    ) -> Result<TokenId> {
        let u = self
            .model
            .users
            .get(user)
            .ok_or_else(|| not_found("user", user))?;
        if let Who::User(actor, _) = who {
            if actor != user {
                return Err(denied(
                    op,
                    "a token can only be issued to oneself",
                ));
            }
        }
        let label = Name::new(label)?;
        if !crate::token::is_hash(hash) {
            return Err(invalid(
                "token hash must be 64 lower-case hexadecimal digits",
            ));
        }
        let max = self.config.limits.max_tokens_per_user;
        if u.tokens.len() >= max {
            return Err(super::handlers::limit("tokens per user", max));
        }
        if let Some(s) = scope {
            if !self.model.objects.contains(s) {
                return Err(not_found("scope object", s));
            }
            if !self.check(Subject::User(user), READ, s).is_allow() {
                return Err(denied(
                    op,
                    format!("the user cannot read {}", self.describe(s)),
                ));
            }
        }
        self.room(0, 1)?;
        let token =
            Token { user, scope, label, expires, hash: hash.to_owned() };
        let id: TokenId = self
            .model
            .tokens
            .push(token)
            .ok_or_else(|| super::handlers::limit("tokens", 0))?;
        if let Some(u) = self.model.users.get_mut(user) {
            u.tokens.insert(id);
        }
        if let Some(o) = scope.and_then(|s| self.model.objects.get_mut(s)) {
            o.links_mut().rare_mut().tokens.insert(id);
        }
        self.commit(Dirty::default(), Cascade::Nothing);
        Ok(id)
    }

    pub(super) fn revoke_token(
        &mut self,
        who: Who,
        op: &'static str,
        token: TokenId,
    ) -> Result<()> {
        let t = self
            .model
            .tokens
            .get(token)
            .ok_or_else(|| not_found("token", token))?;
        let allowed = match who {
            Who::System => true,
            Who::User(u, _) => {
                u == t.user
                    || self
                        .model
                        .users
                        .get(u)
                        .is_some_and(|x| x.platform_admin)
                    || t.scope.is_some_and(|s| {
                        self.check(Subject::User(u), UPDATE, s).is_allow()
                    })
            }
        };
        if !allowed {
            return Err(denied(op, "only the token's user, an administrator of its scope or a platform administrator may revoke it"));
        }
        self.model.remove_token(token);
        self.commit(Dirty::default(), Cascade::Nothing);
        Ok(())
    }

    /// Verifies an API token's secret at time `now` and returns the subject
    /// to pass to [`Engine::check`], or `None` if the secret is unknown,
    /// revoked, expired (at or after its expiry), or its user is gone. The
    /// comparison of hashes takes the same time wherever they differ.
    ///
    /// # Example
    ///
    /// ```
    /// use accord::{presets, Actor, Subject, Timestamp};
    ///
    /// let mut engine = presets::project_portal().build()?;
    /// let t = Timestamp::from_unix_millis(0);
    /// let mut sys = engine.act(Actor::System, t);
    /// let org = sys.create_org("Solar Co")?.value;
    /// let ann = sys.create_user(org, "ann@solar.example")?.value;
    /// let (token, secret) = engine.act(Actor::User(ann), t)
    ///     .issue_token(ann, None, "dashboard feed", None)?.value;
    /// assert_eq!(engine.authenticate(secret.expose(), t), Some(Subject::Token(token)));
    /// assert_eq!(engine.authenticate("acc_0_nope", t), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn authenticate(
        &self,
        secret: &str,
        now: Timestamp,
    ) -> Option<Subject> {
        let id = claimed_id(secret)?;
        let t = self.model.tokens.get(id)?;
        if !constant_time_eq(&hash(secret), &t.hash) {
            return None;
        }
        if t.expires.is_some_and(|e| now >= e) {
            return None;
        }
        self.model.users.get(t.user)?;
        Some(Subject::Token(id))
    }

    /// A token (never its secret).
    #[must_use]
    pub fn token(&self, id: TokenId) -> Option<&Token> {
        self.model.tokens.get(id)
    }

    /// The tokens of `user`, without secrets.
    pub fn tokens_of(
        &self,
        user: UserId,
    ) -> impl Iterator<Item = (TokenId, &Token)> {
        self.model
            .users
            .get(user)
            .into_iter()
            .flat_map(|u| u.tokens.iter())
            .filter_map(|id| self.model.tokens.get(*id).map(|t| (*id, t)))
    }

    /// The tokens scoped at or under `object` (what a project
    /// administrator manages), without secrets.
    #[must_use]
    pub fn tokens_scoped_to(
        &self,
        object: ObjectId,
    ) -> Vec<(TokenId, &Token)> {
        self.model
            .tokens
            .iter()
            .filter(|(_, t): &(TokenId, &Token)| {
                t.scope.is_some_and(|s| {
                    self.model
                        .objects
                        .get(s)
                        .is_some_and(|r| r.is_at_or_under(s, object))
                })
            })
            .collect()
    }
}
