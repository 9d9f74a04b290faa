//! One scenario per statement of the WattMetrics project-security page
//! (seed 000).

#![cfg(test)]

use super::support::*;

/// "Any user with access to the project through the project portal can
/// modify security settings": a project administrator adds and removes
/// project users and administrators, switches visibility and manages the
/// project's tokens.
#[test]
fn project_administrators_modify_security_settings() {
    let mut p = Portal::new();
    let pat = Actor::User(p.pat);
    assert!(p.administers_project(Subject::User(p.pat)));

    // Visibility: require login, then anyone without a grant is out.
    ok(&mut p.e, pat, |m| m.set_public(p.project, false));
    assert!(!p.reads_project(Subject::Anonymous));
    assert!(!p.reads_project(Subject::User(p.olga)));

    // Add a project user by e-mail: read-only access at once.
    let olga_share = ok(&mut p.e, pat, |m| {
        m.share_by_email(p.project, OLGA, ShareSpec::read_only())
    });
    let share = p.e.share(olga_share).expect("share");
    assert_eq!(share.grantee(), Grantee::User(p.olga));
    assert_eq!(share.kind(), ShareKind::ReadOnly);
    assert!(p.reads_project(Subject::User(p.olga)));
    assert!(!p.administers_project(Subject::User(p.olga)));

    // Grant administrative access (the same e-mail, Full Access).
    let again = ok(&mut p.e, pat, |m| {
        m.share_by_email(p.project, OLGA, ShareSpec::full())
    });
    assert_eq!(again, olga_share, "the project user's share is updated");
    assert!(p.administers_project(Subject::User(p.olga)));

    // Remove the user: nothing left.
    ok(&mut p.e, pat, |m| m.unshare(olga_share));
    assert!(p.e.share(olga_share).is_none());
    assert!(!p.reads_project(Subject::User(p.olga)));
    assert!(!p.administers_project(Subject::User(p.olga)));

    // Remove the owner-added project user too.
    ok(&mut p.e, pat, |m| m.unshare(p.vic_share));
    assert!(!p.reads_project(Subject::User(p.vic)));

    // Tokens of the project: the administrator sees and revokes them.
    ok(&mut p.e, Actor::User(p.owner), |m| {
        m.share_by_email(p.project, OLGA, ShareSpec::read_only())
    });
    let (olga_token, olga_secret) = p.token(p.olga, Some(p.project));
    let scoped: Vec<TokenId> =
        p.e.tokens_scoped_to(p.project).iter().map(|(id, _)| *id).collect();
    assert_eq!(scoped, [olga_token]);
    ok(&mut p.e, pat, |m| m.revoke_token(olga_token));
    assert_eq!(p.e.authenticate(olga_secret.expose(), T), None);
    assert!(p.e.tokens_scoped_to(p.project).is_empty());

    // And back to public.
    ok(&mut p.e, pat, |m| m.set_public(p.project, true));
    assert!(p.reads_project(Subject::Anonymous));
    assert_eq!(p.e.public_objects(p.project_ty), [p.project, p.second]);
}

/// A project user ("do NOT check grant administrative access") reads the
/// project but may change none of its security settings.
#[test]
fn project_users_cannot_modify_security_settings() {
    let mut p = Portal::new();
    let vic = Actor::User(p.vic);
    ok(&mut p.e, Actor::User(p.owner), |m| m.set_public(p.project, false));
    assert!(p.reads_project(Subject::User(p.vic)));
    assert!(!p.administers_project(Subject::User(p.vic)));
    let (pat_token, _) = p.token(p.pat, Some(p.project));

    let e = refused(&mut p.e, vic, |m| {
        m.share_by_email(p.project, OLGA, ShareSpec::read_only())
    });
    assert_denied(&e);
    assert_denied(&refused(&mut p.e, vic, |m| m.unshare(p.pat_share)));
    assert_denied(&refused(&mut p.e, vic, |m| m.set_public(p.project, true)));
    assert_denied(&refused(&mut p.e, vic, |m| m.revoke_token(pat_token)));
    // Nor promote themself (refused, for whichever reason).
    refused(&mut p.e, vic, |m| {
        m.share_by_email(p.project, VIC, ShareSpec::full())
    });
    for o in p.project_data() {
        for a in [p.create, p.update, p.delete, p.grant, p.revoke] {
            assert!(!p.e.check(Subject::User(p.vic), a, o).is_allow());
        }
    }
    assert!(p.reads_project(Subject::User(p.pat)), "pat keeps access");
}

/// "The email must be for a user with a WattMetrics services account":
/// an unknown e-mail is refused as not found, nothing changes, and the
/// refusal is in the audit log.
#[test]
fn adding_a_project_user_needs_an_existing_account() {
    let mut p = Portal::new();
    ok(&mut p.e, Actor::User(p.owner), |m| m.set_public(p.second, false));
    for (actor, root) in [
        (Actor::User(p.owner), p.second),
        (Actor::User(p.pat), p.project),
        (Actor::System, p.second),
    ] {
        for spec in [ShareSpec::read_only(), ShareSpec::full()] {
            let err = refused(&mut p.e, actor, |m| {
                m.share_by_email(root, "nobody@other.example", spec.clone())
            });
            assert_not_found(&err);
            assert!(err.is_not_found());
            assert!(err.to_string().contains("nobody@other.example"));
            let last = p.e.events().last().expect("event");
            assert_eq!(
                last.op,
                Op::ShareByEmail {
                    root,
                    email: "nobody@other.example".to_owned(),
                    spec,
                }
            );
            assert!(
                matches!(&last.outcome, Outcome::Refused(r) if r.code == "not_found")
            );
        }
    }
    assert!(p.e.share_of(p.second, Grantee::User(p.olga)).is_none());

    // The e-mail of a deleted account is unknown too.
    ok(&mut p.e, Actor::System, |m| m.delete_user(p.olga));
    assert_not_found(&refused(&mut p.e, Actor::User(p.owner), |m| {
        m.share_by_email(p.second, OLGA, ShareSpec::read_only())
    }));

    // An existing account, whatever the case of its e-mail, is added.
    let share = ok(&mut p.e, Actor::User(p.owner), |m| {
        m.share_by_email(p.second, "VIC@Other.Example", ShareSpec::read_only())
    });
    assert_eq!(
        p.e.share(share).expect("share").grantee(),
        Grantee::User(p.vic)
    );
    let read = p.read;
    assert!(p.e.check(Subject::User(p.vic), read, p.second).is_allow());
    assert!(p
        .e
        .check(Subject::User(p.vic), read, p.second_dashboard)
        .is_allow());
}

/// "To revoke access to the projects portal … click remove user": the
/// owner removes a project administrator, who at once can change nothing
/// and, once login is required, read nothing.
#[test]
fn owner_revokes_portal_access() {
    let mut p = Portal::new();
    let pat = Actor::User(p.pat);
    ok(&mut p.e, pat, |m| m.set_public(p.project, false));
    let (pat_token, pat_secret) = p.token(p.pat, Some(p.project));
    let (vic_token, _) = p.token(p.vic, Some(p.project));
    let token = Subject::Token(pat_token);
    assert!(p.e.check(token, p.read, p.dataset).is_allow());

    ok(&mut p.e, Actor::User(p.owner), |m| m.unshare(p.pat_share));
    assert!(!p.administers_project(Subject::User(p.pat)));
    assert!(!p.reads_project(Subject::User(p.pat)));
    assert!(!p.e.check(token, p.read, p.dataset).is_allow());
    assert_eq!(p.e.authenticate(pat_secret.expose(), T), Some(token));

    assert_denied(&refused(&mut p.e, pat, |m| m.set_public(p.project, true)));
    assert_denied(&refused(&mut p.e, pat, |m| {
        m.share_by_email(p.project, OLGA, ShareSpec::read_only())
    }));
    assert_denied(&refused(&mut p.e, pat, |m| m.unshare(p.vic_share)));
    assert_denied(&refused(&mut p.e, pat, |m| m.revoke_token(vic_token)));
    assert!(p.reads_project(Subject::User(p.vic)), "vic is unaffected");
}

/// A project administrator removes another administrator's portal access;
/// an administrator may also give up their own.
#[test]
fn administrators_revoke_portal_access() {
    let mut p = Portal::new();
    let olga_share = ok(&mut p.e, Actor::User(p.owner), |m| {
        m.share_by_email(p.project, OLGA, ShareSpec::full())
    });
    ok(&mut p.e, Actor::User(p.owner), |m| m.set_public(p.project, false));
    assert!(p.administers_project(Subject::User(p.olga)));

    ok(&mut p.e, Actor::User(p.pat), |m| m.unshare(olga_share));
    assert!(!p.administers_project(Subject::User(p.olga)));
    assert!(!p.reads_project(Subject::User(p.olga)));
    assert_denied(&refused(&mut p.e, Actor::User(p.olga), |m| {
        m.set_public(p.project, true)
    }));

    ok(&mut p.e, Actor::User(p.pat), |m| m.unshare(p.pat_share));
    assert!(!p.administers_project(Subject::User(p.pat)));
    assert!(!p.reads_project(Subject::User(p.pat)));
    assert!(p.administers_project(Subject::User(p.owner)), "owner stays");
}

/// "By default, the public dashboard for a project is visible to anyone":
/// anonymous callers and every user read a new project and everything
/// under it, and none of them can change it.
#[test]
fn public_dashboard_is_visible_to_anyone_by_default() {
    let mut p = Portal::new();
    // A project created just now is public as well.
    let fresh = ok(&mut p.e, Actor::User(p.owner), |m| {
        m.create_object(p.solar, "project", "Fresh", &[])
    });
    let fresh_dash = ok(&mut p.e, Actor::User(p.owner), |m| {
        m.create_object(p.solar, "dashboard", "Fresh live", &[fresh])
    });
    let nobody_special = [
        Subject::Anonymous,
        Subject::User(p.olga),
        Subject::User(p.member),
        Subject::User(p.root),
    ];
    let objects = [
        p.project,
        p.dashboard,
        p.dataset,
        p.second,
        p.second_dashboard,
        fresh,
        fresh_dash,
    ];
    for s in nobody_special {
        for o in objects {
            assert!(p.e.check(s, p.read, o).is_allow(), "{s:?} reads {o}");
            for a in [p.create, p.update, p.delete, p.grant, p.revoke] {
                assert!(!p.e.check(s, a, o).is_allow(), "{s:?} {a} {o}");
            }
        }
    }
    for s in [p.owner, p.pat, p.vic] {
        for o in objects {
            assert!(p.e.check(Subject::User(s), p.read, o).is_allow());
        }
    }
    assert_eq!(p.e.public_objects(p.project_ty), [p.project, p.second, fresh]);
    let why = p.e.explain(Subject::Anonymous, p.read, fresh_dash);
    assert_eq!(why.decision(), Decision::Allow);
    let [Reason::Share { share, .. }] = why.reasons() else {
        panic!("one share path expected: {why:?}");
    };
    let share = p.e.share(*share).expect("share");
    assert_eq!(share.grantee(), Grantee::Public);
    assert_eq!(share.root(), fresh);
    assert_eq!(share.kind(), ShareKind::ReadOnly);
}

/// "Require login for all project data": then only the project's granted
/// users (and its owner) read it — the project, its dashboard, its data,
/// and data added later — while other projects stay public.
#[test]
fn require_login_limits_project_data_to_granted_users() {
    let mut p = Portal::new();
    ok(&mut p.e, Actor::User(p.owner), |m| m.set_public(p.project, false));
    for s in
        [Subject::Anonymous, Subject::User(p.olga), Subject::User(p.member)]
    {
        assert!(!p.reads_project(s), "{s:?}");
        let why = p.e.explain(s, p.read, p.dashboard);
        assert_eq!(why.denial(), Some(Denial::NoMatchingGrant));
        assert!(p.e.check(s, p.read, p.second).is_allow(), "other project");
        assert!(p.e.check(s, p.read, p.second_dashboard).is_allow());
    }
    for u in [p.owner, p.pat, p.vic] {
        assert!(p.reads_project(Subject::User(u)), "{u}");
    }

    let later = ok(&mut p.e, Actor::User(p.owner), |m| {
        m.create_object(p.solar, "dataset", "Rooftop 7 kWh 2024", &[p.project])
    });
    assert!(!p.e.check(Subject::Anonymous, p.read, later).is_allow());
    assert!(!p.e.check(Subject::User(p.olga), p.read, later).is_allow());
    assert!(p.e.check(Subject::User(p.vic), p.read, later).is_allow());
    let found = p.e.objects_for(Subject::Anonymous, p.read, p.project_ty);
    assert_eq!(found, [p.second]);

    // Requiring login twice is an error, not a silent success.
    let err = refused(&mut p.e, Actor::User(p.owner), |m| {
        m.set_public(p.project, false)
    });
    assert!(matches!(err.kind(), ErrorKind::Invalid { .. }), "{err}");
}

/// "If a project dashboard is password protected, the project will not be
/// listed in the live projects section."
#[test]
fn password_protected_project_is_not_listed_as_live() {
    let mut p = Portal::new();
    assert_eq!(p.e.public_objects(p.project_ty), [p.project, p.second]);
    ok(&mut p.e, Actor::User(p.pat), |m| m.set_public(p.project, false));
    assert_eq!(p.e.public_objects(p.project_ty), [p.second]);
    ok(&mut p.e, Actor::User(p.owner), |m| m.set_public(p.second, false));
    assert!(p.e.public_objects(p.project_ty).is_empty());
    ok(&mut p.e, Actor::User(p.owner), |m| m.set_public(p.project, true));
    assert_eq!(p.e.public_objects(p.project_ty), [p.project]);
    // Deleting a live project removes it from the listing.
    ok(&mut p.e, Actor::User(p.owner), |m| m.delete_object(p.project));
    assert!(p.e.public_objects(p.project_ty).is_empty());
}

/// Only a project administrator or the owner switches visibility; a
/// project user, an outsider, a member of the owning organization without
/// a role, and an unknown actor are refused as denied.
#[test]
fn only_project_administrators_change_visibility() {
    let mut p = Portal::new();
    let ghost = UserId::new(9_999).expect("id");
    let refused_actors = [
        Actor::User(p.vic),
        Actor::User(p.olga),
        Actor::User(p.member),
        Actor::User(ghost),
    ];
    for a in refused_actors {
        let err = refused(&mut p.e, a, |m| m.set_public(p.project, false));
        assert_denied(&err);
        assert!(p.reads_project(Subject::Anonymous), "still public");
    }
    // Nor may they remove the public share directly.
    let public = p.e.share_of(p.project, Grantee::Public).expect("public");
    for a in refused_actors {
        assert_denied(&refused(&mut p.e, a, |m| m.unshare(public)));
    }
    ok(&mut p.e, Actor::User(p.owner), |m| m.set_public(p.project, false));
    for a in refused_actors {
        let err = refused(&mut p.e, a, |m| m.set_public(p.project, true));
        assert_denied(&err);
        assert!(!p.reads_project(Subject::Anonymous), "still private");
    }
    ok(&mut p.e, Actor::User(p.pat), |m| m.set_public(p.project, true));
    assert!(p.reads_project(Subject::Anonymous));
    ok(&mut p.e, Actor::User(p.pat), |m| m.set_public(p.project, false));
    assert!(!p.reads_project(Subject::Anonymous));
    // Pat administers `project` only, not `second`.
    assert_denied(&refused(&mut p.e, Actor::User(p.pat), |m| {
        m.set_public(p.second, false)
    }));
}

/// "Using the projects portal is the only way to modify any project
/// settings or other data": without portal access — anonymous, outsiders,
/// members of the owning organization without a role, project users, even
/// a platform administrator — nothing of the project can be changed.
#[test]
fn only_portal_access_modifies_project_data() {
    let mut p = Portal::new();
    let without = [
        Subject::Anonymous,
        Subject::User(p.olga),
        Subject::User(p.member),
        Subject::User(p.vic),
        Subject::User(p.root),
    ];
    for public in [true, false] {
        if !public {
            ok(&mut p.e, Actor::User(p.owner), |m| {
                m.set_public(p.project, false)
            });
        }
        for s in without {
            for o in p.project_data() {
                for a in [p.create, p.update, p.delete, p.grant, p.revoke] {
                    assert_eq!(p.e.check(s, a, o), Decision::Deny, "{s:?}");
                }
            }
        }
        for u in [p.owner, p.pat] {
            for o in p.project_data() {
                assert!(p.e.check(Subject::User(u), p.update, o).is_allow());
            }
        }
    }
    assert_denied(&refused(&mut p.e, Actor::User(p.vic), |m| {
        m.create_object(p.solar, "dataset", "sneaky", &[p.project])
    }));
    assert_denied(&refused(&mut p.e, Actor::User(p.olga), |m| {
        m.delete_object(p.dataset)
    }));
}

/// The public (anyone, signed in or not) only ever views a project: no
/// share to the public — whoever grants it, whatever its levels — lets an
/// anonymous caller or a user without portal access change project data.
#[test]
fn public_access_never_includes_writes() {
    let mut p = Portal::new();
    let full_to_public = [
        ShareSpec::custom()
            .level("project", Level::Full)
            .level("dashboard", Level::Full)
            .level("dataset", Level::Full),
        ShareSpec::exchange_data()
            .level("project", Level::Full)
            .level("dashboard", Level::Full)
            .level("dataset", Level::Full),
    ];
    for actor in [p.owner, p.pat] {
        for spec in &full_to_public {
            // Refusing is fine; so is capping. Writing is not.
            let _ = p.e.act(Actor::User(actor), T).share(
                p.project,
                Grantee::Public,
                spec.clone(),
            );
            for s in [Subject::Anonymous, Subject::User(p.olga)] {
                for o in p.project_data() {
                    for a in [p.create, p.update] {
                        assert_eq!(
                            p.e.check(s, a, o),
                            Decision::Deny,
                            "{s:?} may {a} {o} after {actor} shared {spec:?} \
                             to the public"
                        );
                    }
                }
            }
        }
    }
}

/// "Access to project data via the API is strictly read-only": a token of
/// a project administrator reads the project and nothing else.
#[test]
fn data_api_access_is_strictly_read_only() {
    let mut p = Portal::new();
    ok(&mut p.e, Actor::User(p.pat), |m| m.set_public(p.project, false));
    let (id, secret) = p.token(p.pat, Some(p.project));
    let token = p.e.authenticate(secret.expose(), T).expect("authenticates");
    assert_eq!(token, Subject::Token(id));
    for o in p.project_data() {
        assert!(p.e.check(token, p.read, o).is_allow());
        let set = p.e.allowed_actions(token, o);
        assert_eq!(set.iter().collect::<Vec<_>>(), [p.read]);
        assert!(p.e.check(Subject::User(p.pat), p.update, o).is_allow());
        for a in [p.create, p.update, p.delete, p.grant, p.revoke] {
            assert_eq!(p.e.check(token, a, o), Decision::Deny);
            let why = p.e.explain(token, a, o);
            assert_eq!(why.denial(), Some(Denial::TokenCap));
        }
    }
    // Whoever's token it is: the owner's, too.
    let (owner_token, _) = p.token(p.owner, None);
    let t = Subject::Token(owner_token);
    for (o, _) in all_objects(&p.e) {
        for a in p.e.schema().actions() {
            if a != p.read {
                assert_eq!(p.e.check(t, a, o), Decision::Deny, "{a} on {o}");
            }
        }
    }
}

/// "Changes to security settings can take up to 15 minutes": not here.
/// Each change is visible to the very next check, and its receipt carries
/// the engine's revision.
#[test]
fn changes_take_effect_immediately() {
    let mut p = Portal::new();
    let owner = Actor::User(p.owner);
    let olga = Subject::User(p.olga);

    let r = p.e.act(owner, T).set_public(p.project, false).expect("ok");
    assert_eq!(r.revision, p.e.revision());
    assert!(!p.e.check(Subject::Anonymous, p.read, p.dashboard).is_allow());
    assert_eq!(p.e.public_objects(p.project_ty), [p.second]);

    let before = p.e.revision();
    let added =
        p.e.act(owner, T)
            .share_by_email(p.project, OLGA, ShareSpec::read_only())
            .expect("ok");
    assert_eq!(added.revision, p.e.revision());
    assert_eq!(added.revision.get(), before.get() + 1);
    assert!(p.e.check(olga, p.read, p.dataset).is_allow());
    assert!(!p.e.check(olga, p.update, p.dataset).is_allow());

    let upgraded =
        p.e.act(owner, T)
            .share_by_email(p.project, OLGA, ShareSpec::full())
            .expect("ok");
    assert_eq!(upgraded.revision, p.e.revision());
    assert!(p.e.check(olga, p.update, p.dataset).is_allow());

    let issued =
        p.e.act(Actor::User(p.olga), T)
            .issue_token(p.olga, Some(p.project), "feed", None)
            .expect("ok");
    assert_eq!(issued.revision, p.e.revision());
    let (token, secret) = issued.value;
    let subject = Subject::Token(token);
    assert_eq!(p.e.authenticate(secret.expose(), T), Some(subject));
    assert!(p.e.check(subject, p.read, p.dataset).is_allow());

    let removed = p.e.act(owner, T).unshare(added.value).expect("ok");
    assert_eq!(removed.revision, p.e.revision());
    assert!(!p.e.check(olga, p.read, p.dataset).is_allow());
    assert!(!p.e.check(subject, p.read, p.dataset).is_allow());

    let revoked = p.e.act(owner, T).revoke_token(token).expect("ok");
    assert_eq!(revoked.revision, p.e.revision());
    assert_eq!(p.e.authenticate(secret.expose(), T), None);

    let public = p.e.act(Actor::User(p.pat), T).set_public(p.project, true);
    assert_eq!(public.expect("ok").revision, p.e.revision());
    assert!(p.e.check(Subject::Anonymous, p.read, p.dashboard).is_allow());
    assert!(p.e.check(olga, p.read, p.dataset).is_allow());
    assert_eq!(p.e.public_objects(p.project_ty), [p.project, p.second]);
}
