//! Account management: platform administrators create, edit and delete
//! accounts.

use super::commit::Cascade;
use super::handlers::{invalid, not_found, validate_email, Result, Who};
use crate::accounts::{
    is_language, is_time_zone, password_hash_problem, PasswordField, Profile,
};
use crate::error::{excerpt, ErrorKind};
use crate::id::{Name, OrgId, UserId};
use crate::model::Dirty;
use crate::Engine;

/// The validated fields of an account op.
struct Fields {
    name: Option<Name>,
    time_zone: String,
    language: String,
    password: Option<Option<String>>,
}

impl Engine {
    #[expect(clippy::too_many_arguments, reason = "one per op field")]
    pub(super) fn create_account(
        &mut self,
        who: Who,
        op: &'static str,
        org: OrgId,
        email: &str,
        name: Option<&str>,
        time_zone: &str,
        language: &str,
        password: &PasswordField,
    ) -> Result<UserId> {
        self.require_platform(who, op)?;
        let fields = fields(name, time_zone, language, password, false)?;
        let uid = self.create_user(who, op, org, email)?;
        if let Some(user) = self.model.users.get_mut(uid) {
            user.profile = Some(Box::new(Profile {
                name: fields.name,
                time_zone: fields.time_zone,
                language: fields.language,
                password: fields.password.flatten(),
            }));
        }
        Ok(uid)
    }

    #[expect(clippy::too_many_arguments, reason = "one per op field")]
    pub(super) fn edit_account(
        &mut self,
        who: Who,
        op: &'static str,
        user: UserId,
        email: &str,
        name: Option<&str>,
        time_zone: &str,
        language: &str,
        password: &PasswordField,
    ) -> Result<()> {
        self.require_platform(who, op)?;
        let f = fields(name, time_zone, language, password, true)?;
        let u = self
            .model
            .users
            .get(user)
            .ok_or_else(|| not_found("account", user))?;
        let Some(old) = u.profile.clone() else {
            return Err(not_found("account", user));
        };
        let email = validate_email(email)?;
        let taken = self.model.emails.get(&self.model.users, email.as_str());
        if taken.is_some_and(|other| other != user) {
            return Err(ErrorKind::Duplicate {
                what: "user with e-mail",
                name: email.to_string(),
            }
            .into());
        }
        self.model.emails.remove(u.email.as_str(), user);
        if let Some(u) = self.model.users.get_mut(user) {
            u.email = email;
            u.profile = Some(Box::new(Profile {
                name: f.name,
                time_zone: f.time_zone,
                language: f.language,
                password: match f.password {
                    Some(new) => new,
                    None => old.password,
                },
            }));
        }
        self.model.emails.insert_new(&self.model.users, user);
        self.commit(Dirty::default(), Cascade::Nothing);
        Ok(())
    }

    pub(super) fn delete_account(
        &mut self,
        who: Who,
        op: &'static str,
        user: UserId,
    ) -> Result<()> {
        self.require_platform(who, op)?;
        let has_account =
            self.model.users.get(user).is_some_and(|u| u.profile.is_some());
        if !has_account {
            return Err(not_found("account", user));
        }
        self.change(Cascade::All, |m, dirty| m.remove_user(user, dirty));
        Ok(())
    }

    /// Whether `password` is the password of `user`'s account (checked
    /// against the Argon2id hash). `false` for unknown users, users without
    /// an account, and accounts whose password is unset.
    ///
    /// # Example
    ///
    /// ```
    /// use accord::{presets, Actor, Timestamp};
    ///
    /// let mut engine = presets::metering().build()?;
    /// let mut sys = engine.act(Actor::System, Timestamp::default());
    /// let org = sys.create_org("Platform")?.value;
    /// let tech = sys.create_account(org, "service_tech@domain.com", None,
    ///     "s3cret-pass", "Asia/Tashkent", "uz")?.value;
    /// assert!(engine.verify_password(tech, "s3cret-pass"));
    /// assert!(!engine.verify_password(tech, "wrong-pass1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn verify_password(&self, user: UserId, password: &str) -> bool {
        self.model
            .users
            .get(user)
            .and_then(|u| u.profile.as_ref())
            .and_then(|p| p.password.as_deref())
            .is_some_and(|phc| crate::accounts::verify(password, phc))
    }
}

/// Validates the profile fields of an op. `password` is `None` to keep
/// the current one, `Some(None)` for a hash withheld by the log, or
/// `Some(Some(hash))`.
fn fields(
    name: Option<&str>,
    time_zone: &str,
    language: &str,
    password: &PasswordField,
    edit: bool,
) -> Result<Fields> {
    let name = name.map(Name::new).transpose()?;
    if !is_time_zone(time_zone) {
        let zone = excerpt(time_zone);
        return Err(invalid(format!("`{zone}` is not an IANA time zone")));
    }
    if !is_language(language) {
        let tag = excerpt(language);
        return Err(invalid(format!("`{tag}` is not a language tag")));
    }
    let password = match password {
        PasswordField::Keep if edit => None,
        PasswordField::Keep => {
            return Err(ErrorKind::WeakPassword {
                reason: "a password is required".to_owned(),
            }
            .into())
        }
        PasswordField::Rejected(reason) => {
            return Err(
                ErrorKind::WeakPassword { reason: reason.clone() }.into()
            )
        }
        PasswordField::Set(hash) => Some(hash.0.clone()),
    };
    // The engine hashes the password itself; the check keeps what an
    // account holds the same as what a snapshot may hold.
    let stored = password.as_ref().and_then(Option::as_deref);
    if let Some(why) = stored.and_then(password_hash_problem) {
        return Err(invalid(format!("password hash refused: {why}")));
    }
    Ok(Fields {
        name,
        time_zone: time_zone.to_owned(),
        language: language.to_owned(),
        password,
    })
}
