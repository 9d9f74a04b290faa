//! Seed 003, "Accounts Management": one test per statement about who
//! manages accounts and what an account holds — unique e-mail logins,
//! password rules and hashing, time zone and language, editing and
//! irreversible deletion.

use super::support::*;

/// "Only the Platform Administrator has access to this module": a user
/// who is not a platform administrator — even one holding every role the
/// platform organization offers an operator — can neither create, edit
/// nor delete an account (nor make itself administrator); each attempt
/// changes nothing and is logged with its code.
#[test]
fn only_the_platform_administrator_manages_accounts() {
    let mut p = Platform::new();
    let tech = p.account(TECH_EMAIL, TECH_PW);
    let profile = p.e.user(tech).and_then(|u| u.profile().cloned());
    let (org, admin, clerk) = (p.platform, p.admin, p.clerk);
    let by_clerk = Actor::User(clerk);
    let clerk_roles: Vec<RoleId> =
        p.e.user(clerk)
            .expect("clerk")
            .grants()
            .filter_map(|g| p.e.grant(g).map(|g| g.role()))
            .collect();
    assert!(
        clerk_roles.contains(&p.access) && clerk_roles.contains(&p.operator)
    );

    let create = refused(&mut p.e, by_clerk, |m| {
        m.create_account(org, "new@domain.com", None, "Passw0rdX", "UTC", "en")
    });
    let edit = refused(&mut p.e, by_clerk, |m| {
        m.edit_account(
            tech,
            "hijack@domain.com",
            None,
            "Hij4ckIt",
            "UTC",
            "en",
        )
    });
    let delete = refused(&mut p.e, by_clerk, |m| m.delete_account(admin));
    let promote =
        refused(&mut p.e, by_clerk, |m| m.set_platform_admin(clerk, true));
    for (err, op) in [
        (&create, "create account"),
        (&edit, "edit account"),
        (&delete, "delete account"),
        (&promote, "set platform administrator"),
    ] {
        assert!(err.is_denied(), "{err}");
        assert_eq!(err.code(), "denied");
        match err.kind() {
            ErrorKind::Denied { operation, .. } => assert_eq!(*operation, op),
            other => panic!("expected denied, got {other:?}"),
        }
    }
    // The refused attempts are in the log, by the clerk, with their code.
    let refusals: Vec<&str> = p
        .e
        .events()
        .iter()
        .filter(|e| e.actor == by_clerk)
        .filter(|e| {
            matches!(&e.outcome, Outcome::Refused(r) if r.code == "denied")
        })
        .map(|e| e.op.name())
        .collect();
    assert_eq!(
        refusals,
        [
            "create account",
            "edit account",
            "delete account",
            "set platform administrator"
        ]
    );
    assert_eq!(p.e.user_by_email("new@domain.com"), None);
    assert_eq!(p.e.user_by_email("hijack@domain.com"), None);
    assert_eq!(p.e.user_by_email(TECH_EMAIL), Some(tech));
    assert_eq!(p.e.user(tech).and_then(|u| u.profile().cloned()), profile);
    assert!(p.e.verify_password(tech, TECH_PW));
    assert!(!p.e.verify_password(tech, "Hij4ckIt"));
    assert!(p.e.user(admin).is_some());
    assert!(p.e.user(clerk).is_some_and(|u| !u.is_platform_admin()));

    // The platform administrator may do all three.
    let by_admin = Actor::User(admin);
    let new = ok(&mut p.e, by_admin, |m| {
        m.create_account(org, "new@domain.com", None, "Passw0rdX", "UTC", "en")
    });
    ok(&mut p.e, by_admin, |m| {
        m.edit_account(new, "new@domain.com", Some("New"), "", "UTC", "de")
    });
    assert_eq!(
        p.e.user(new).and_then(|u| u.profile()).map(|p| p.language()),
        Some("de")
    );
    ok(&mut p.e, by_admin, |m| m.delete_account(new));
    assert!(p.e.user(new).is_none());

    // Losing the flag loses the authority.
    ok(&mut p.e, Actor::System, |m| m.set_platform_admin(admin, false));
    let err = refused(&mut p.e, by_admin, |m| {
        m.create_account(
            org,
            "late@domain.com",
            None,
            "Passw0rdX",
            "UTC",
            "en",
        )
    });
    assert!(err.is_denied(), "{err}");
}

/// "Email - used as login (must be unique)" and "If an email is
/// duplicated, the system will issue a warning": the e-mail finds the
/// account whatever its case, and a second account with the same e-mail
/// in any case — in any organization — is a duplicate naming the e-mail.
#[test]
fn email_is_the_login_and_unique_case_insensitively() {
    let mut p = Platform::new();
    let tech = p.account(TECH_EMAIL, TECH_PW);
    assert_eq!(p.e.user(tech).map(|u| u.email()), Some(TECH_EMAIL));
    for login in
        [TECH_EMAIL, "SERVICE_TECH@DOMAIN.COM", "Service_Tech@Domain.com"]
    {
        assert_eq!(p.e.user_by_email(login), Some(tech), "{login}");
    }
    let other = ok(&mut p.e, Actor::System, |m| m.create_org("Other"));
    let (org, by) = (p.platform, Actor::User(p.admin));
    for (org, email) in [
        (org, TECH_EMAIL),
        (org, "SERVICE_TECH@domain.com"),
        (other, "Service_Tech@Domain.COM"),
    ] {
        let err = refused(&mut p.e, by, |m| {
            m.create_account(org, email, None, "An0therOne", "UTC", "en")
        });
        match err.kind() {
            ErrorKind::Duplicate { name, .. } => assert_eq!(name, email),
            other => panic!("expected a duplicate, got {other:?}"),
        }
        assert_eq!(err.code(), "duplicate");
        assert!(err.to_string().contains(&format!("`{email}`")), "{err}");
    }
    // A plain user cannot take the login either.
    let err = refused(&mut p.e, Actor::System, |m| {
        m.create_user(other, "SERVICE_tech@domain.com")
    });
    assert!(matches!(err.kind(), ErrorKind::Duplicate { .. }), "{err}");
    let holders =
        p.e.users()
            .filter(|(_, u)| u.email().eq_ignore_ascii_case(TECH_EMAIL))
            .count();
    assert_eq!(holders, 1);
    // Not an e-mail at all.
    for bad in ["service_tech", "service tech@domain.com", "tech@domain"] {
        let err = refused(&mut p.e, by, |m| {
            m.create_account(org, bad, None, "Passw0rdX", "UTC", "en")
        });
        assert!(
            matches!(
                err.kind(),
                ErrorKind::Invalid { .. } | ErrorKind::Name(_)
            ),
            "{bad}: {err}"
        );
    }
}

/// "Password - minimum 8 characters (numbers, letters)" and "it is
/// mandatory when you create it": a missing, short, letter-only or
/// digit-only password is refused as weak, and no account is created.
#[test]
fn password_is_required_with_eight_characters_letters_and_digits() {
    let mut p = Platform::new();
    let (org, by) = (p.platform, Actor::User(p.admin));
    for (password, rule) in [
        ("", "8 characters"),
        ("abc1234", "8 characters"),
        ("ééééé1a", "8 characters"), // 7 characters in 13 bytes
        ("abcdefgh", "digit"),
        ("ABCDEFGHIJKL", "digit"),
        ("12345678", "letter"),
        ("1234-5678!", "letter"),
    ] {
        let err = refused(&mut p.e, by, |m| {
            m.create_account(org, TECH_EMAIL, None, password, "UTC", "en")
        });
        match err.kind() {
            ErrorKind::WeakPassword { reason } => {
                assert!(reason.contains(rule), "{password:?}: {reason}");
            }
            other => panic!("{password:?}: expected weak, got {other:?}"),
        }
        assert_eq!(err.code(), "weak_password");
        assert_eq!(p.e.user_by_email(TECH_EMAIL), None, "{password:?}");
    }
    // Exactly eight characters with a letter and a digit is enough, also
    // with non-ASCII letters.
    for (i, password) in
        ["abcdefg1", "Пароль2024", "1234567x"].iter().enumerate()
    {
        let email = format!("user{i}@domain.com");
        let u = ok(&mut p.e, by, |m| {
            m.create_account(org, &email, None, password, "UTC", "en")
        });
        assert!(p.e.verify_password(u, password), "{password}");
        assert!(p
            .e
            .user(u)
            .and_then(|u| u.profile())
            .is_some_and(|p| p.has_password()));
    }
}

/// "Password encryption - data is stored in encrypted form": the password
/// is kept only as a salted Argon2id PHC hash, verifiable but not
/// readable.
#[test]
fn password_is_stored_as_an_argon2id_hash() {
    let mut p = Platform::new();
    let tech = p.account(TECH_EMAIL, TECH_PW);
    let twin = p.account("twin@domain.com", TECH_PW);
    let profile = p.e.user(tech).and_then(|u| u.profile()).expect("profile");
    assert!(profile.has_password());

    assert!(p.e.verify_password(tech, TECH_PW));
    for wrong in ["tashkent2024", "Tashkent202", "Tashkent20245", "", " "] {
        assert!(!p.e.verify_password(tech, wrong), "{wrong:?}");
    }
    assert!(!p.e.verify_password(tech, ADMIN_PW));
    assert!(p.e.verify_password(p.admin, ADMIN_PW));
    // Users without an account, and unknown users, have no password.
    let org = p.platform;
    let plain = ok(&mut p.e, Actor::System, |m| {
        m.create_user(org, "plain@domain.com")
    });
    assert!(p.e.user(plain).is_some_and(|u| u.profile().is_none()));
    assert!(!p.e.verify_password(plain, ""));
    assert!(!p.e.verify_password(plain, TECH_PW));

    // What is stored: one Argon2id PHC string per account, salted (the
    // same password hashes differently), never the password.
    let hashes = stored_hashes(&p.e);
    assert_eq!(hashes.len(), 4, "admin, clerk, tech, twin: {hashes:?}");
    for h in &hashes {
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert_eq!(h.split('$').count(), 6, "PHC fields: {h}");
        assert!(!h.contains(TECH_PW));
    }
    let mut unique = hashes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), hashes.len(), "hashes are salted");
    assert!(!p.e.to_json().contains(TECH_PW));
    assert!(p.e.verify_password(twin, TECH_PW));
}

/// "Time zone - for correct time display" and "Language package -
/// interface display language": the time zone must be an IANA name; both
/// are stored with the display name.
#[test]
fn time_zone_is_an_iana_name_and_language_is_stored() {
    let mut p = Platform::new();
    let (org, by) = (p.platform, Actor::User(p.admin));
    let tech = ok(&mut p.e, by, |m| {
        m.create_account(
            org,
            TECH_EMAIL,
            Some("Service Technician"),
            TECH_PW,
            "Asia/Tashkent",
            "uz-Latn",
        )
    });
    let profile = p.e.user(tech).and_then(|u| u.profile()).expect("profile");
    assert_eq!(profile.name(), Some("Service Technician"));
    assert_eq!(profile.time_zone(), "Asia/Tashkent");
    assert_eq!(profile.language(), "uz-Latn");

    let nameless = ok(&mut p.e, by, |m| {
        m.create_account(org, "x@domain.com", None, TECH_PW, "UTC", "ru")
    });
    let profile =
        p.e.user(nameless).and_then(|u| u.profile()).expect("profile");
    assert_eq!(profile.name(), None);
    assert_eq!((profile.time_zone(), profile.language()), ("UTC", "ru"));

    for zone in ["Mars/Olympus", "", "Tashkent", "Asia/Tashkent ", "+05:00"] {
        let err = refused(&mut p.e, by, |m| {
            m.create_account(org, "tz@domain.com", None, TECH_PW, zone, "en")
        });
        assert!(matches!(err.kind(), ErrorKind::Invalid { .. }), "{err}");
        assert_eq!(err.code(), "invalid");
        assert!(err.to_string().contains(&format!("`{zone}`")), "{err}");
    }
    for language in ["", "english language", "e", "en_US"] {
        let err = refused(&mut p.e, by, |m| {
            m.create_account(
                org,
                "tz@domain.com",
                None,
                TECH_PW,
                "UTC",
                language,
            )
        });
        assert!(matches!(err.kind(), ErrorKind::Invalid { .. }), "{err}");
    }
    assert_eq!(p.e.user_by_email("tz@domain.com"), None);
}

/// "Editing an account: Name, email, time zone, language": all four
/// change at once; the old e-mail no longer logs in and becomes free.
#[test]
fn editing_changes_name_email_time_zone_and_language() {
    let mut p = Platform::new();
    let tech = p.account(TECH_EMAIL, TECH_PW);
    let by = Actor::User(p.admin);
    let new_email = "tech@techservice.uz";
    ok(&mut p.e, by, |m| {
        m.edit_account(
            tech,
            new_email,
            Some("Service Tech"),
            "",
            "Asia/Samarkand",
            "ru",
        )
    });
    let user = p.e.user(tech).expect("still there");
    assert_eq!(user.email(), new_email);
    let profile = user.profile().expect("profile");
    assert_eq!(profile.name(), Some("Service Tech"));
    assert_eq!(profile.time_zone(), "Asia/Samarkand");
    assert_eq!(profile.language(), "ru");
    assert_eq!(p.e.user_by_email(new_email), Some(tech));
    assert_eq!(p.e.user_by_email(TECH_EMAIL), None);
    let event = p.e.events().last().expect("event");
    assert!(
        matches!(&event.op, Op::EditAccount { user, .. } if *user == tech)
    );

    // Invalid values are refused and change nothing.
    let err = refused(&mut p.e, by, |m| {
        m.edit_account(tech, new_email, None, "", "Mars/Olympus", "ru")
    });
    assert!(matches!(err.kind(), ErrorKind::Invalid { .. }), "{err}");
    let err = refused(&mut p.e, by, |m| {
        m.edit_account(tech, new_email, None, "", "UTC", "not a language")
    });
    assert!(matches!(err.kind(), ErrorKind::Invalid { .. }), "{err}");
    let err = refused(&mut p.e, by, |m| {
        m.edit_account(tech, "not-an-email", None, "", "UTC", "ru")
    });
    assert!(
        matches!(err.kind(), ErrorKind::Invalid { .. } | ErrorKind::Name(_)),
        "{err}"
    );

    // The old e-mail is free again.
    let newcomer = p.account(TECH_EMAIL, "Newc0mer!");
    assert_ne!(newcomer, tech);
    assert_eq!(p.e.user_by_email(TECH_EMAIL), Some(newcomer));

    // Only accounts are edited: a plain user or an unknown one is not
    // found.
    let org = p.platform;
    let plain = ok(&mut p.e, Actor::System, |m| {
        m.create_user(org, "plain@domain.com")
    });
    let err = refused(&mut p.e, by, |m| {
        m.edit_account(plain, "plain@domain.com", None, TECH_PW, "UTC", "en")
    });
    assert!(err.is_not_found(), "{err}");
}

/// The e-mail stays unique when edited: taking another account's e-mail
/// in another case is a duplicate; changing the case of one's own is
/// fine.
#[test]
fn email_stays_unique_when_edited() {
    let mut p = Platform::new();
    let tech = p.account(TECH_EMAIL, TECH_PW);
    let other = p.account("other@domain.com", "0therPass");
    let by = Actor::User(p.admin);
    let err = refused(&mut p.e, by, |m| {
        m.edit_account(other, "Service_Tech@DOMAIN.com", None, "", "UTC", "en")
    });
    match err.kind() {
        ErrorKind::Duplicate { name, .. } => {
            assert_eq!(name, "Service_Tech@DOMAIN.com");
        }
        kind => panic!("expected a duplicate, got {kind:?}"),
    }
    assert!(err.to_string().contains("`Service_Tech@DOMAIN.com`"), "{err}");
    assert_eq!(p.e.user_by_email(TECH_EMAIL), Some(tech));
    assert_eq!(p.e.user_by_email("other@domain.com"), Some(other));

    ok(&mut p.e, by, |m| {
        m.edit_account(tech, "Service_Tech@Domain.com", None, "", "UTC", "en")
    });
    assert_eq!(
        p.e.user(tech).map(|u| u.email()),
        Some("Service_Tech@Domain.com")
    );
    assert_eq!(p.e.user_by_email(TECH_EMAIL), Some(tech));
    assert_eq!(p.e.user_by_email("SERVICE_TECH@DOMAIN.COM"), Some(tech));
    // Keeping one's e-mail exactly is an edit like any other.
    ok(&mut p.e, by, |m| {
        m.edit_account(other, "other@domain.com", Some("O"), "", "UTC", "en")
    });
    assert_eq!(p.e.user_by_email("other@domain.com"), Some(other));
}

/// "Password (if you leave the field blank, the old password will be
/// retained)": the hash is untouched and the log records a kept password.
#[test]
fn blank_password_on_edit_keeps_the_old_one() {
    let mut p = Platform::new();
    let tech = p.account(TECH_EMAIL, TECH_PW);
    let before = stored_hashes(&p.e);
    let by = Actor::User(p.admin);
    ok(&mut p.e, by, |m| {
        m.edit_account(
            tech,
            TECH_EMAIL,
            Some("Tech"),
            "",
            "Asia/Tashkent",
            "uz",
        )
    });
    assert!(p.e.verify_password(tech, TECH_PW));
    assert!(!p.e.verify_password(tech, ""));
    assert!(p
        .e
        .user(tech)
        .and_then(|u| u.profile())
        .is_some_and(|p| p.has_password()));
    assert_eq!(stored_hashes(&p.e), before, "the hash itself is kept");
    let event = p.e.events().last().expect("event");
    assert!(
        matches!(
            &event.op,
            Op::EditAccount {
                password: accord::accounts::PasswordField::Keep,
                ..
            }
        ),
        "{event:?}"
    );
}

/// "You can change the password later": a new password replaces the old
/// one; a weak one is refused and the old one stays.
#[test]
fn new_password_replaces_the_old_one() {
    let mut p = Platform::new();
    let tech = p.account(TECH_EMAIL, TECH_PW);
    let by = Actor::User(p.admin);
    let before = stored_hashes(&p.e);
    ok(&mut p.e, by, |m| {
        m.edit_account(tech, TECH_EMAIL, None, "Samarkand2025", "UTC", "en")
    });
    assert!(p.e.verify_password(tech, "Samarkand2025"));
    assert!(!p.e.verify_password(tech, TECH_PW));
    assert_ne!(stored_hashes(&p.e), before);

    // The same password again gets a fresh salt, and still verifies.
    let before = stored_hashes(&p.e);
    ok(&mut p.e, by, |m| {
        m.edit_account(tech, TECH_EMAIL, None, "Samarkand2025", "UTC", "en")
    });
    assert_ne!(stored_hashes(&p.e), before);
    assert!(p.e.verify_password(tech, "Samarkand2025"));

    for weak in ["short1", "onlyletters", "1234567890", " "] {
        let err = refused(&mut p.e, by, |m| {
            m.edit_account(tech, TECH_EMAIL, None, weak, "UTC", "en")
        });
        assert!(matches!(err.kind(), ErrorKind::WeakPassword { .. }), "{err}");
    }
    assert!(p.e.verify_password(tech, "Samarkand2025"));
}

/// "Account deletion cannot be undone. All associated data will be
/// retained in the system": the account, its grants, the shares it
/// received and its tokens are gone for good — the handle never comes
/// back, the e-mail no longer logs in, a new account with that e-mail is
/// another user — while the organization's objects and the audit log
/// stay.
#[test]
fn deleting_an_account_is_irreversible_and_keeps_the_data() {
    let mut p = Platform::new();
    let tech = p.account(TECH_EMAIL, TECH_PW);
    let (gaz, tech_so, mu) = (p.gaz, p.tech, p.units[0]);
    let (sca, reporting) = (p.sca, p.reporting);
    let by = Actor::User(p.admin);
    let g1 = ok(&mut p.e, by, |m| m.grant_role(tech, sca, &[gaz, tech_so]));
    let g2 = ok(&mut p.e, by, |m| m.grant_role(tech, reporting, &[]));
    let report = {
        let org = p.platform;
        ok(&mut p.e, Actor::System, |m| {
            m.create_object(org, "report", "Monthly gas", &[])
        })
    };
    let share = ok(&mut p.e, Actor::System, |m| {
        m.share(report, Grantee::User(tech), ShareSpec::read_only())
    });
    let (token, _secret) = ok(&mut p.e, Actor::System, |m| {
        m.issue_token(tech, None, "exports", None)
    });
    let read = p.action("read");
    assert!(p.can(tech, "configure", mu));
    assert!(p.e.check(Subject::Token(token), read, mu).is_allow());
    assert!(p.e.share(share).is_some());
    let objects_before: Vec<(ObjectId, Vec<ObjectId>)> =
        p.e.objects()
            .filter(|(id, _)| *id != user_object(&p.e, tech))
            .map(|(id, o)| (id, o.parents().to_vec()))
            .collect();
    let clerk_reads = p.can(p.clerk, "read", mu);
    assert!(clerk_reads);

    ok(&mut p.e, by, |m| m.delete_account(tech));

    assert!(p.e.user(tech).is_none());
    assert_eq!(p.e.user_by_email(TECH_EMAIL), None);
    assert!(!p.e.verify_password(tech, TECH_PW));
    assert!(p.e.grant(g1).is_none() && p.e.grant(g2).is_none());
    assert!(p.e.grants().all(|(_, g)| g.user() != tech));
    assert!(p.e.role(sca).is_some_and(|r| r.grants().count() == 0));
    assert!(p.e.share(share).is_none());
    assert!(p.e.shares().all(|(_, s)| s.grantee() != Grantee::User(tech)));
    for action in ["read", "read_values", "configure"] {
        assert!(!p.can(tech, action, mu), "{action}");
    }
    assert!(!p.e.check(Subject::Token(token), read, mu).is_allow());
    assert!(!p.e.check(Subject::Token(token), read, report).is_allow());
    // The organization's data stays, unchanged, and others keep access.
    let objects_after: Vec<(ObjectId, Vec<ObjectId>)> =
        p.e.objects().map(|(id, o)| (id, o.parents().to_vec())).collect();
    assert_eq!(objects_after, objects_before);
    assert!(p.can(p.clerk, "read", mu));
    // The audit log keeps the history of the account.
    let ops: Vec<&Op> = p.e.events().iter().map(|e| &e.op).collect();
    assert!(ops.iter().any(|op| matches!(op,
        Op::CreateAccount { email, .. } if email == TECH_EMAIL)));
    assert!(ops.iter().any(|op| matches!(op,
        Op::GrantRole { user, .. } if *user == tech)));
    let last = p.e.events().last().expect("event");
    assert!(last.applied());
    assert_eq!(last.actor, by);
    assert!(matches!(last.op, Op::DeleteAccount { user } if user == tech));

    // Nothing brings it back.
    let err = refused(&mut p.e, by, |m| m.delete_account(tech));
    assert!(err.is_not_found(), "{err}");
    let err = refused(&mut p.e, by, |m| {
        m.edit_account(tech, TECH_EMAIL, None, TECH_PW, "UTC", "en")
    });
    assert!(err.is_not_found(), "{err}");
    let err = refused(&mut p.e, by, |m| m.grant_role(tech, reporting, &[]));
    assert!(err.is_not_found(), "{err}");
    let org = p.platform;
    let err = refused(&mut p.e, Actor::User(tech), |m| {
        m.create_object(org, "report", "Ghost", &[])
    });
    assert!(err.is_denied(), "a deleted user cannot act: {err}");

    let again = p.account(TECH_EMAIL, TECH_PW);
    assert_ne!(again, tech);
    assert_eq!(p.e.user_by_email(TECH_EMAIL), Some(again));
    assert!(p.e.user(tech).is_none());
    assert!(!p.e.verify_password(tech, TECH_PW));
    assert!(p.e.verify_password(again, TECH_PW));
    assert_eq!(p.e.user(again).map(|u| u.grants().count()), Some(0));
    assert!(!p.can(again, "read", mu), "grants do not come back");
    assert!(!p.can(again, "read", report), "shares do not come back");
    assert!(!p.e.check(Subject::Token(token), read, mu).is_allow());

    // The history survives a snapshot round trip.
    let loaded = Engine::from_json(&p.e.to_json()).expect("snapshot loads");
    assert_eq!(loaded.events(), p.e.events());
    assert!(loaded.user(tech).is_none());
}

/// The user object of an account (every user is an object too).
fn user_object(e: &Engine, user: UserId) -> ObjectId {
    e.user(user).map(|u| u.object()).expect("user")
}
