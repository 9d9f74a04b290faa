//! The one dispatch from an [`Op`] to the handler of its concept.
//!
//! The `match` names every variant and has no fall-through arm, so an op
//! without a handler does not compile.

use super::handlers::{Result, Who};
use super::Op;
use crate::Engine;

impl Engine {
    /// Runs the handler of `op`; what it created is dropped (a
    /// [`Mutator`](super::Mutator) method that returns it calls the
    /// handler itself).
    pub(super) fn execute(&mut self, who: Who, op: &Op) -> Result<()> {
        let n = op.name();
        match op {
            Op::CreateOrg { name } => self.create_org(who, n, name).map(drop),
            Op::DeleteOrg { org } => self.delete_org(who, n, *org),
            Op::AcceptTerms { org } => self.accept_terms(who, n, *org),
            Op::CreateUser { org, email } => {
                self.create_user(who, n, *org, email).map(drop)
            }
            Op::DeleteUser { user } => self.delete_user(who, n, *user),
            Op::SetPlatformAdmin { user, admin } => {
                self.set_platform_admin(who, n, *user, *admin)
            }
            Op::CreateObject { org, object_type, key, parents } => self
                .create_object(who, n, *org, object_type, key, parents)
                .map(drop),
            Op::DeleteObject { object } => self.delete_object(who, n, *object),
            Op::LinkObject { child, parent } => {
                self.link_object(who, n, *child, *parent)
            }
            Op::UnlinkObject { child, parent } => {
                self.unlink_object(who, n, *child, *parent)
            }
            Op::CreateRole { org, name, description, required_bindings } => {
                self.create_role(
                    who,
                    n,
                    *org,
                    name,
                    description,
                    required_bindings,
                )
                .map(drop)
            }
            Op::DeleteRole { role } => self.delete_role(who, n, *role),
            Op::CreatePermission {
                org,
                name,
                action,
                object_type,
                applies_to_all,
                objects,
            } => self
                .create_permission(
                    who,
                    n,
                    *org,
                    name,
                    action,
                    object_type,
                    *applies_to_all,
                    objects,
                )
                .map(drop),
            Op::DeletePermission { permission } => {
                self.delete_permission(who, n, *permission)
            }
            Op::AddObjectToPermission { permission, object } => {
                self.add_object_to_permission(who, n, *permission, *object)
            }
            Op::RemoveObjectFromPermission { permission, object } => self
                .remove_object_from_permission(who, n, *permission, *object),
            Op::AddPermissionToRole { role, permission } => {
                self.add_permission_to_role(who, n, *role, *permission)
            }
            Op::RemovePermissionFromRole { role, permission } => {
                self.remove_permission_from_role(who, n, *role, *permission)
            }
            Op::GrantRole { user, role, bindings } => {
                self.grant_role(who, n, *user, *role, bindings).map(drop)
            }
            Op::RevokeRole { user, role } => {
                self.revoke_role(who, n, *user, *role)
            }
            Op::Share { root, grantee, spec } => {
                self.share_op(who, n, *root, *grantee, spec).map(drop)
            }
            Op::Unshare { share } => self.unshare_op(who, n, *share),
            Op::AcceptShare { share } => {
                self.respond_share(who, n, *share, true)
            }
            Op::RejectShare { share } => {
                self.respond_share(who, n, *share, false)
            }
            Op::RequestConnection { from, to } => {
                self.request_connection(who, n, *from, *to)
            }
            Op::RespondConnection { from, to, accept } => {
                self.respond_connection(who, n, *from, *to, *accept)
            }
            Op::Transfer { root, to } => self.transfer(who, n, *root, *to),
            Op::RespondTransfer { root, accept } => {
                self.respond_transfer(who, n, *root, *accept)
            }
            Op::ShareByEmail { root, email, spec } => {
                self.share_by_email(who, n, *root, email, spec).map(drop)
            }
            Op::SetPublic { root, public } => {
                self.set_public(who, n, *root, *public)
            }
            Op::IssueToken { user, scope, label, expires, hash } => self
                .issue_token(who, n, *user, *scope, label, *expires, hash)
                .map(drop),
            Op::RevokeToken { token } => self.revoke_token(who, n, *token),
            #[cfg(feature = "accounts")]
            Op::CreateAccount {
                org,
                email,
                name,
                time_zone,
                language,
                password,
            } => self
                .create_account(
                    who,
                    n,
                    *org,
                    email,
                    name.as_deref(),
                    time_zone,
                    language,
                    password,
                )
                .map(drop),
            #[cfg(feature = "accounts")]
            Op::EditAccount {
                user,
                name,
                email,
                time_zone,
                language,
                password,
            } => self.edit_account(
                who,
                n,
                *user,
                email,
                name.as_deref(),
                time_zone,
                language,
                password,
            ),
            #[cfg(feature = "accounts")]
            Op::DeleteAccount { user } => self.delete_account(who, n, *user),
            #[cfg(not(feature = "accounts"))]
            Op::CreateAccount { .. }
            | Op::EditAccount { .. }
            | Op::DeleteAccount { .. } => {
                Err(crate::error::ErrorKind::FeatureDisabled {
                    feature: "accounts",
                }
                .into())
            }
        }
    }
}
