//! API tokens: strictly read-only, inside their scope, revocable, expiring,
//! and issued and revoked only by those entitled to.

#![cfg(test)]

use proptest::prelude::*;

use super::support::*;

/// Asserts that for every object and action, `token` is allowed exactly
/// when the action is `read`-level and not administrative, the object is
/// inside the token's scope, and the token's user is allowed. Returns how
/// many non-read actions the user was allowed (and the token denied).
fn assert_capped(e: &Engine, token: TokenId) -> usize {
    let t = e.token(token).expect("token");
    let (user, scope) = (t.user(), t.scope());
    let mut writes_denied = 0;
    for (o, ty) in all_objects(e) {
        let in_scope = scope.map_or(true, |s| at_or_under(e, o, s));
        for a in e.schema().actions() {
            let by_user = e.check(Subject::User(user), a, o);
            let by_token = e.check(Subject::Token(token), a, o);
            let capped = token_may_attempt(e, a, ty) && in_scope;
            let expected = if capped { by_user } else { Decision::Deny };
            assert_eq!(by_token, expected, "token {token} {a} on {o}");
            if !capped {
                let why = e.explain(Subject::Token(token), a, o);
                assert_eq!(why.denial(), Some(Denial::TokenCap), "{a} {o}");
                if by_user.is_allow() {
                    writes_denied += 1;
                }
            }
        }
    }
    writes_denied
}

#[test]
fn token_never_writes_whatever_its_user_holds() {
    let mut p = Portal::new();
    // The owner holds every action on every project; pat holds Full
    // Access on `project`.
    let (owner_token, _) = p.token(p.owner, None);
    let (pat_token, _) = p.token(p.pat, Some(p.project));
    for (user, token) in [(p.owner, owner_token), (p.pat, pat_token)] {
        let u = Subject::User(user);
        let t = Subject::Token(token);
        for o in p.project_data() {
            assert!(p.e.check(u, p.update, o).is_allow(), "{user} {o}");
            for a in [p.update, p.create, p.delete, p.grant, p.revoke] {
                assert_eq!(p.e.check(t, a, o), Decision::Deny);
            }
            assert!(p.e.check(t, p.read, o).is_allow());
        }
        assert!(assert_capped(&p.e, token) > 0);
    }
    // The owner may delete; the token may not.
    let u = Subject::User(p.owner);
    assert!(p.e.check(u, p.delete, p.dataset).is_allow());
    assert!(!p
        .e
        .check(Subject::Token(owner_token), p.delete, p.dataset)
        .is_allow());
}

#[test]
fn token_never_administers() {
    let mut e = presets::arbiter().build().expect("preset");
    let org = ok(&mut e, Actor::System, |m| m.create_org("Utility X"));
    ok(&mut e, Actor::System, |m| m.accept_terms(org));
    let ada = ok(&mut e, Actor::System, |m| {
        m.create_user(org, "ada@utility.example")
    });
    let bob = ok(&mut e, Actor::System, |m| {
        m.create_user(org, "bob@utility.example")
    });
    let roles: Vec<_> = e
        .org(org)
        .expect("org")
        .roles()
        .filter(|r| e.role(*r).is_some_and(|r| r.personal_to().is_none()))
        .collect();
    assert_eq!(roles.len(), 6, "the six default roles");
    for r in &roles {
        ok(&mut e, Actor::System, |m| m.grant_role(ada, *r, &[]));
    }
    ok(&mut e, Actor::System, |m| m.create_object(org, "sites", "plant", &[]));
    let token = ok(&mut e, Actor::User(ada), |m| {
        m.issue_token(ada, None, "admin script", None)
    })
    .0;
    let t = Subject::Token(token);
    let s = e.schema();
    let (grant, revoke, read) = (
        s.action("grant").expect("a"),
        s.action("revoke").expect("a"),
        s.action("read").expect("a"),
    );
    let read_all = e.role_by_name(org, "Read all").expect("role");
    let role_obj = e.role(read_all).expect("role").object();
    let bob_obj = e.user(bob).expect("user").object();
    for (a, o) in [(grant, role_obj), (revoke, role_obj)] {
        assert!(e.check(Subject::User(ada), a, o).is_allow());
        assert_eq!(e.check(t, a, o), Decision::Deny);
    }
    for o in [role_obj, bob_obj] {
        assert!(e.check(Subject::User(ada), read, o).is_allow());
        assert!(e.check(t, read, o).is_allow(), "reading policy is not admin");
    }
    // Nothing but `read` on users, roles and permissions.
    let policy = ["users", "roles", "permissions"]
        .map(|n| e.schema().object_type(n).expect("type"));
    let mut user_admin = 0;
    for (o, ty) in all_objects(&e) {
        if !policy.contains(&ty) {
            continue;
        }
        for a in e.schema().actions() {
            if a == read {
                continue;
            }
            user_admin +=
                usize::from(e.check(Subject::User(ada), a, o).is_allow());
            assert_eq!(e.check(t, a, o), Decision::Deny, "{a} on {o}");
        }
    }
    assert!(user_admin > 10, "ada administers the policy");
    assert!(assert_capped(&e, token) > 0);
}

/// An action at threshold `Read` that is administrative — declared so, or
/// any non-`read` action on a policy type — is still out of a token's
/// reach.
#[test]
fn token_never_exercises_read_level_administrative_actions() {
    let schema = Schema::builder()
        .object_type("project")
        .action("inspect", Threshold::Read)
        .action_spec(
            ActionSpec::new("export_all", Threshold::Read).administrative(),
        )
        .default_role(
            "Operator",
            "reads, inspects and exports",
            &[
                ("read", "project"),
                ("inspect", "project"),
                ("export_all", "project"),
                ("read", "roles"),
                ("inspect", "roles"),
                ("inspect", "users"),
                ("inspect", "permissions"),
            ],
        )
        .build()
        .expect("schema");
    let mut e = Engine::builder(schema).build().expect("engine");
    let org = ok(&mut e, Actor::System, |m| m.create_org("Ops"));
    let ann =
        ok(&mut e, Actor::System, |m| m.create_user(org, "ann@ops.example"));
    let role = e.role_by_name(org, "Operator").expect("role");
    ok(&mut e, Actor::System, |m| m.grant_role(ann, role, &[]));
    let project = ok(&mut e, Actor::System, |m| {
        m.create_object(org, "project", "P", &[])
    });
    let token =
        ok(&mut e, Actor::User(ann), |m| m.issue_token(ann, None, "t", None))
            .0;
    let (t, u) = (Subject::Token(token), Subject::User(ann));
    let s = e.schema();
    let [read, inspect, export] = ["read", "inspect", "export_all"]
        .map(|n| s.action(n).expect("action"));
    let role_obj = e.role(role).expect("role").object();
    let ann_obj = e.user(ann).expect("user").object();

    assert!(e.check(t, read, project).is_allow());
    assert!(e.check(t, inspect, project).is_allow());
    assert!(e.check(u, export, project).is_allow());
    assert_eq!(e.check(t, export, project), Decision::Deny);
    assert!(e.check(t, read, role_obj).is_allow());
    for o in [role_obj, ann_obj] {
        assert!(e.check(u, inspect, o).is_allow());
        assert_eq!(e.check(t, inspect, o), Decision::Deny, "policy {o}");
        assert_eq!(e.explain(t, inspect, o).denial(), Some(Denial::TokenCap));
    }
    assert!(assert_capped(&e, token) >= 3);
}

#[test]
fn token_never_reads_outside_its_scope() {
    let mut p = Portal::new();
    ok(&mut p.e, Actor::User(p.owner), |m| m.set_public(p.project, false));
    let (dash_token, _) = p.token(p.owner, Some(p.dashboard));
    let (second_token, _) = p.token(p.owner, Some(p.second));
    // Pat administers `project` but scopes the token to `second`.
    let (pat_token, _) = p.token(p.pat, Some(p.second));
    let (pat_project_token, _) = p.token(p.pat, Some(p.project));

    let t = Subject::Token(dash_token);
    assert!(p.e.check(t, p.read, p.dashboard).is_allow());
    for o in [p.project, p.dataset, p.second, p.second_dashboard] {
        assert!(p.e.check(Subject::User(p.owner), p.read, o).is_allow());
        assert_eq!(p.e.check(t, p.read, o), Decision::Deny, "{o}");
        assert_eq!(p.e.explain(t, p.read, o).denial(), Some(Denial::TokenCap));
    }
    let owner_obj = p.e.user(p.owner).expect("user").object();
    assert!(p.e.check(Subject::User(p.owner), p.read, owner_obj).is_allow());
    assert_eq!(p.e.check(t, p.read, owner_obj), Decision::Deny);

    let t = Subject::Token(pat_token);
    assert!(p.e.check(t, p.read, p.second_dashboard).is_allow());
    for o in p.project_data() {
        assert!(p.e.check(Subject::User(p.pat), p.read, o).is_allow());
        assert_eq!(p.e.check(t, p.read, o), Decision::Deny, "{o}");
    }
    let t = Subject::Token(pat_project_token);
    assert!(p.e.check(t, p.read, p.dataset).is_allow());
    assert_eq!(p.e.check(t, p.read, p.second), Decision::Deny);

    for token in [dash_token, second_token, pat_token, pat_project_token] {
        assert_capped(&p.e, token);
    }
}

#[test]
fn unscoped_token_reads_what_its_user_reads() {
    let mut p = Portal::new();
    ok(&mut p.e, Actor::User(p.owner), |m| m.set_public(p.project, false));
    ok(&mut p.e, Actor::User(p.owner), |m| m.set_public(p.second, false));
    let users = [p.owner, p.member, p.pat, p.vic, p.olga];
    let tokens: Vec<(UserId, TokenId)> =
        users.iter().map(|u| (*u, p.token(*u, None).0)).collect();
    for (user, token) in &tokens {
        for (o, _) in all_objects(&p.e) {
            assert_eq!(
                p.e.check(Subject::Token(*token), p.read, o),
                p.e.check(Subject::User(*user), p.read, o),
                "{user} {o}"
            );
        }
        assert_capped(&p.e, *token);
    }
    let vic = Subject::Token(tokens[3].1);
    assert!(p.e.check(vic, p.read, p.dataset).is_allow());
    assert!(!p.e.check(vic, p.read, p.second).is_allow());
    let olga = Subject::Token(tokens[4].1);
    assert!(!p.e.check(olga, p.read, p.dataset).is_allow());
    let owner = Subject::Token(tokens[0].1);
    assert!(p.e.check(owner, p.read, p.second_dashboard).is_allow());
}

#[test]
fn revoked_token_no_longer_authenticates() {
    let mut p = Portal::new();
    let (gone, gone_secret) = p.token(p.vic, Some(p.project));
    let (kept, kept_secret) = p.token(p.vic, None);
    assert_eq!(
        p.e.authenticate(gone_secret.expose(), T),
        Some(Subject::Token(gone))
    );
    ok(&mut p.e, Actor::User(p.vic), |m| m.revoke_token(gone));
    assert_eq!(p.e.authenticate(gone_secret.expose(), T), None);
    assert!(p.e.token(gone).is_none());
    let t = Subject::Token(gone);
    for (o, _) in all_objects(&p.e) {
        for a in p.e.schema().actions() {
            assert_eq!(p.e.check(t, a, o), Decision::Deny);
        }
    }
    assert_eq!(
        p.e.explain(t, p.read, p.dataset).denial(),
        Some(Denial::UnknownSubject)
    );
    let left: Vec<TokenId> = p.e.tokens_of(p.vic).map(|(id, _)| id).collect();
    assert_eq!(left, [kept]);
    assert_eq!(
        p.e.authenticate(kept_secret.expose(), T),
        Some(Subject::Token(kept))
    );
    assert!(p.e.check(Subject::Token(kept), p.read, p.dataset).is_allow());

    let err = refused(&mut p.e, Actor::User(p.vic), |m| m.revoke_token(gone));
    assert_not_found(&err);
    // A later token does not revive the revoked secret.
    let (_, newer) = p.token(p.vic, Some(p.project));
    assert_eq!(p.e.authenticate(gone_secret.expose(), T), None);
    assert!(p.e.authenticate(newer.expose(), T).is_some());
}

#[test]
fn expired_token_no_longer_authenticates() {
    let mut p = Portal::new();
    let expires = Timestamp::from_unix_millis(T.as_unix_millis() + 3_600_000);
    let (id, secret) = ok(&mut p.e, Actor::User(p.vic), |m| {
        m.issue_token(p.vic, Some(p.project), "one hour", Some(expires))
    });
    assert_eq!(p.e.token(id).expect("token").expires(), Some(expires));
    let at =
        |ms: i64| Timestamp::from_unix_millis(expires.as_unix_millis() + ms);
    let some = Some(Subject::Token(id));
    assert_eq!(p.e.authenticate(secret.expose(), T), some);
    assert_eq!(p.e.authenticate(secret.expose(), at(-1)), some);
    assert_eq!(p.e.authenticate(secret.expose(), expires), None);
    assert_eq!(p.e.authenticate(secret.expose(), at(1)), None);
    assert_eq!(p.e.authenticate(secret.expose(), at(86_400_000)), None);

    // Without an expiry, a token works at any time.
    let (forever, forever_secret) = p.token(p.vic, None);
    let far = Timestamp::from_unix_millis(i64::MAX);
    assert_eq!(
        p.e.authenticate(forever_secret.expose(), far),
        Some(Subject::Token(forever))
    );
    // A token issued already expired never works.
    let (_, stale) = ok(&mut p.e, Actor::User(p.vic), |m| {
        m.issue_token(p.vic, None, "stale", Some(T))
    });
    assert_eq!(p.e.authenticate(stale.expose(), T), None);
}

#[test]
fn token_of_a_deleted_user_stops_at_once() {
    let mut p = Portal::new();
    let (vic_token, vic_secret) = p.token(p.vic, Some(p.project));
    let (pat_token, pat_secret) = p.token(p.pat, None);
    let (olga_token, olga_secret) = p.token(p.olga, None);
    assert!(p
        .e
        .check(Subject::Token(vic_token), p.read, p.dataset)
        .is_allow());

    ok(&mut p.e, Actor::User(p.root), |m| m.delete_user(p.vic));
    assert_eq!(p.e.authenticate(vic_secret.expose(), T), None);
    assert!(p.e.token(vic_token).is_none());
    assert!(p.e.tokens_of(p.vic).next().is_none());
    for o in p.project_data() {
        assert_eq!(
            p.e.check(Subject::Token(vic_token), p.read, o),
            Decision::Deny
        );
    }
    assert!(p.e.authenticate(pat_secret.expose(), T).is_some(), "others stay");

    // Deleting the whole organization stops its users' tokens too.
    ok(&mut p.e, Actor::System, |m| m.delete_org(p.other));
    for (t, s) in [(pat_token, &pat_secret), (olga_token, &olga_secret)] {
        assert_eq!(p.e.authenticate(s.expose(), T), None);
        assert_eq!(
            p.e.check(Subject::Token(t), p.read, p.second),
            Decision::Deny
        );
    }
}

#[test]
fn deleting_its_scope_revokes_a_token_and_the_snapshot_still_loads() {
    let mut p = Portal::new();
    let (on_dashboard, dash_secret) = p.token(p.vic, Some(p.dashboard));
    let (on_project, project_secret) = p.token(p.vic, Some(p.project));
    assert!(p.e.authenticate(dash_secret.expose(), T).is_some());

    ok(&mut p.e, Actor::System, |m| m.delete_object(p.dashboard));
    assert_eq!(p.e.authenticate(dash_secret.expose(), T), None);
    assert!(p.e.token(on_dashboard).is_none());
    let left: Vec<TokenId> = p.e.tokens_of(p.vic).map(|(id, _)| id).collect();
    assert_eq!(left, [on_project]);
    assert!(p.e.authenticate(project_secret.expose(), T).is_some());

    // The engine's own snapshot loads (a dangling scope would not), and
    // replaying the log gives the same tokens.
    let loaded = Engine::from_json(&p.e.to_json()).expect("loads");
    let replayed = Engine::replay(presets::project_portal(), p.e.events())
        .expect("replays");
    for other in [&loaded, &replayed] {
        assert!(other.token(on_dashboard).is_none());
        assert_eq!(other.token(on_project), p.e.token(on_project));
    }
    // Revoking the other one unlinks it from its scope as well: deleting
    // the project afterwards has nothing left to revoke.
    ok(&mut p.e, Actor::User(p.vic), |m| m.revoke_token(on_project));
    ok(&mut p.e, Actor::System, |m| m.delete_object(p.project));
    assert!(p.e.tokens_of(p.vic).next().is_none());
    assert!(Engine::from_json(&p.e.to_json()).is_ok());
}

#[test]
fn token_stops_reading_a_project_its_user_lost() {
    let mut p = Portal::new();
    ok(&mut p.e, Actor::User(p.owner), |m| m.set_public(p.project, false));
    let (scoped, scoped_secret) = p.token(p.vic, Some(p.project));
    let (unscoped, _) = p.token(p.vic, None);
    for t in [scoped, unscoped] {
        assert!(p.reads_project(Subject::Token(t)));
    }
    ok(&mut p.e, Actor::User(p.pat), |m| m.unshare(p.vic_share));
    for t in [scoped, unscoped] {
        assert!(!p.reads_project(Subject::Token(t)), "{t}");
    }
    // The token itself is still valid; it just reaches nothing.
    assert_eq!(
        p.e.authenticate(scoped_secret.expose(), T),
        Some(Subject::Token(scoped))
    );
    assert_eq!(
        p.e.explain(Subject::Token(scoped), p.read, p.dataset).denial(),
        Some(Denial::NoMatchingGrant)
    );
    // Re-adding the user restores it, at once.
    ok(&mut p.e, Actor::User(p.pat), |m| {
        m.share_by_email(p.project, VIC, ShareSpec::read_only())
    });
    assert!(p.reads_project(Subject::Token(scoped)));

    // A token that read a public project stops when login is required.
    ok(&mut p.e, Actor::User(p.owner), |m| m.set_public(p.project, true));
    let (olga_token, _) = p.token(p.olga, Some(p.project));
    assert!(p.reads_project(Subject::Token(olga_token)));
    ok(&mut p.e, Actor::User(p.pat), |m| m.set_public(p.project, false));
    assert!(!p.reads_project(Subject::Token(olga_token)));
    assert!(p.reads_project(Subject::Token(scoped)));
}

#[test]
fn only_the_user_or_system_issues_tokens_for_the_user() {
    let mut p = Portal::new();
    for actor in [p.owner, p.root, p.pat, p.olga] {
        let err = refused(&mut p.e, Actor::User(actor), |m| {
            m.issue_token(p.vic, Some(p.project), "on behalf", None)
        });
        assert_denied(&err);
        assert!(p.e.tokens_of(p.vic).next().is_none());
    }
    let ghost = UserId::new(9_999).expect("id");
    assert_denied(&refused(&mut p.e, Actor::User(ghost), |m| {
        m.issue_token(p.vic, None, "ghost", None)
    }));
    assert_not_found(&refused(&mut p.e, Actor::System, |m| {
        m.issue_token(ghost, None, "ghost", None)
    }));
    let nowhere = ObjectId::new(9_999).expect("id");
    assert_not_found(&refused(&mut p.e, Actor::User(p.vic), |m| {
        m.issue_token(p.vic, Some(nowhere), "nowhere", None)
    }));
    // A scope the user cannot read is refused.
    ok(&mut p.e, Actor::User(p.owner), |m| m.set_public(p.second, false));
    assert_denied(&refused(&mut p.e, Actor::User(p.vic), |m| {
        m.issue_token(p.vic, Some(p.second), "not mine", None)
    }));

    let (by_system, _) = ok(&mut p.e, Actor::System, |m| {
        m.issue_token(p.vic, Some(p.project), "provisioned", None)
    });
    let (by_self, _) = p.token(p.vic, Some(p.dashboard));
    for (id, scope, label) in [
        (by_system, p.project, "provisioned"),
        (by_self, p.dashboard, "export job"),
    ] {
        let t = p.e.token(id).expect("token");
        assert_eq!(t.user(), p.vic);
        assert_eq!(t.scope(), Some(scope));
        assert_eq!(t.label(), label);
        assert_eq!(t.expires(), None);
    }
    let mine: Vec<TokenId> = p.e.tokens_of(p.vic).map(|(id, _)| id).collect();
    assert_eq!(mine, [by_system, by_self]);
    let scoped: Vec<TokenId> =
        p.e.tokens_scoped_to(p.project).iter().map(|(id, _)| *id).collect();
    assert_eq!(
        scoped,
        [by_system, by_self],
        "the dashboard is in the project"
    );
}

#[test]
fn revoking_a_token_needs_its_user_its_scopes_administrator_or_the_platform() {
    let mut p = Portal::new();
    // Olga becomes a second project user: no authority over vic's tokens.
    ok(&mut p.e, Actor::User(p.owner), |m| {
        m.share_by_email(p.project, OLGA, ShareSpec::read_only())
    });
    let (scoped, _) = p.token(p.vic, Some(p.project));
    let (dash, _) = p.token(p.vic, Some(p.dashboard));
    let (second, _) = p.token(p.vic, Some(p.second));
    let (unscoped, _) = p.token(p.vic, None);
    let (own, _) = p.token(p.vic, None);
    let (sys, _) = p.token(p.vic, None);

    for actor in [p.olga, p.member] {
        for t in [scoped, dash, second, unscoped] {
            assert_denied(&refused(&mut p.e, Actor::User(actor), |m| {
                m.revoke_token(t)
            }));
        }
    }
    // Pat administers `project`, not `second`, and no unscoped token.
    assert_denied(&refused(&mut p.e, Actor::User(p.pat), |m| {
        m.revoke_token(second)
    }));
    assert_denied(&refused(&mut p.e, Actor::User(p.pat), |m| {
        m.revoke_token(unscoped)
    }));
    // The owner's account administrator administers `second`, not an
    // unscoped token of someone else.
    assert_denied(&refused(&mut p.e, Actor::User(p.owner), |m| {
        m.revoke_token(unscoped)
    }));

    ok(&mut p.e, Actor::User(p.pat), |m| m.revoke_token(scoped));
    ok(&mut p.e, Actor::User(p.pat), |m| m.revoke_token(dash));
    ok(&mut p.e, Actor::User(p.owner), |m| m.revoke_token(second));
    ok(&mut p.e, Actor::User(p.root), |m| m.revoke_token(unscoped));
    ok(&mut p.e, Actor::User(p.vic), |m| m.revoke_token(own));
    ok(&mut p.e, Actor::System, |m| m.revoke_token(sys));
    assert!(p.e.tokens_of(p.vic).next().is_none());
}

/// Replaces the last character of `s` by another hexadecimal digit.
fn wrong_last_digit(s: &str) -> String {
    let mut v: Vec<char> = s.chars().collect();
    let last = v.pop().expect("non-empty");
    v.push(if last == '0' { '1' } else { '0' });
    v.into_iter().collect()
}

#[test]
fn malformed_secrets_do_not_authenticate() {
    let mut p = Portal::new();
    let (a, sa) = p.token(p.vic, None);
    let (b, sb) = p.token(p.pat, None);
    let (sa, sb) = (sa.expose().to_owned(), sb.expose().to_owned());
    assert_eq!(p.e.authenticate(&sa, T), Some(Subject::Token(a)));
    assert_eq!(p.e.authenticate(&sb, T), Some(Subject::Token(b)));

    let (prefix_a, hex_a) = sa.rsplit_once('_').expect("prefix_hex");
    let (prefix_b, hex_b) = sb.rsplit_once('_').expect("prefix_hex");
    let stored_hash = p
        .e
        .events()
        .iter()
        .find_map(|ev| match &ev.op {
            Op::IssueToken { hash, .. } if ev.applied() => Some(hash.clone()),
            _ => None,
        })
        .expect("an issue event");
    let mut first_digit: Vec<char> = hex_a.chars().collect();
    first_digit[0] = if first_digit[0] == 'a' { 'b' } else { 'a' };
    let first_digit: String = first_digit.into_iter().collect();
    let candidates = [
        String::new(),
        " ".to_owned(),
        "acc_".to_owned(),
        "acc_0".to_owned(),
        "acc_0_".to_owned(),
        "acc_0_nope".to_owned(),
        "password".to_owned(),
        "🔑".repeat(20),
        "x".repeat(10_000),
        format!("acc_0_{}", "0".repeat(64)),
        format!("acc_1_{}", "f".repeat(64)),
        format!("acc_18446744073709551616_{hex_a}"),
        format!("acc_-1_{hex_a}"),
        wrong_last_digit(&sa),
        format!("{prefix_a}_{first_digit}"),
        sa[..sa.len() - 1].to_owned(),
        format!("{sa}0"),
        format!("{sa} "),
        format!(" {sa}"),
        format!("Bearer {sa}"),
        sa.to_uppercase(),
        format!("{prefix_a}_{}", hex_a.to_uppercase()),
        format!("{prefix_a}_{hex_b}"),
        format!("{prefix_b}_{hex_a}"),
        hex_a.to_owned(),
        stored_hash.clone(),
        format!("{prefix_a}_{stored_hash}"),
        format!("{prefix_b}_{stored_hash}"),
    ];
    for c in &candidates {
        assert_eq!(p.e.authenticate(c, T), None, "{c:?}");
    }
    // The genuine secrets still work after all those attempts.
    assert_eq!(p.e.authenticate(&sa, T), Some(Subject::Token(a)));
}

#[test]
fn issued_secrets_differ() {
    let mut p = Portal::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut ids = std::collections::BTreeSet::new();
    for i in 0..24 {
        let user = [p.vic, p.pat, p.owner][i % 3];
        let (id, secret) = p.token(user, Some(p.project));
        assert!(seen.insert(secret.expose().to_owned()), "secret repeated");
        assert!(ids.insert(id), "token id repeated");
        assert_eq!(
            p.e.authenticate(secret.expose(), T),
            Some(Subject::Token(id))
        );
        let hex = secret.expose().rsplit('_').next().expect("hex");
        assert!(hex.len() >= 32, "secret has enough entropy: {hex}");
    }
    // Two tokens with identical parameters, for the same user: different.
    let (x, sx) = p.token(p.olga, None);
    let (y, sy) = p.token(p.olga, None);
    assert_ne!(x, y);
    assert_ne!(sx, sy);
    assert_ne!(sx.expose(), sy.expose());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Strings shaped like secrets, and arbitrary ones, never
    /// authenticate.
    #[test]
    fn guessed_secrets_do_not_authenticate(
        shaped in "acc_[0-9]{1,2}_[0-9a-f]{64}",
        any in ".{0,80}",
    ) {
        let mut p = Portal::new();
        let (_, real) = p.token(p.vic, None);
        p.token(p.pat, Some(p.project));
        for guess in [&shaped, &any] {
            prop_assume!(guess.as_str() != real.expose());
            prop_assert_eq!(p.e.authenticate(guess, T), None);
        }
    }
}

/// Tokens survive a snapshot and a replay of the audit log: the same
/// records, the same secrets verify, the same decisions, and deleting a
/// user afterwards still takes their tokens with them.
#[test]
fn tokens_survive_a_snapshot_and_a_replay() {
    let mut p = Portal::new();
    ok(&mut p.e, Actor::User(p.owner), |m| m.set_public(p.project, false));
    let expires = Timestamp::from_unix_millis(T.as_unix_millis() + 1_000);
    let (scoped, scoped_secret) = ok(&mut p.e, Actor::User(p.vic), |m| {
        m.issue_token(p.vic, Some(p.project), "expiring", Some(expires))
    });
    let (gone, gone_secret) = p.token(p.vic, None);
    let (pat_token, pat_secret) = p.token(p.pat, Some(p.dashboard));
    ok(&mut p.e, Actor::User(p.vic), |m| m.revoke_token(gone));

    let loaded = Engine::from_json(&p.e.to_json()).expect("loads");
    let replayed = Engine::replay(presets::project_portal(), p.e.events())
        .expect("replays");
    for other in [&loaded, &replayed] {
        assert_eq!(other.revision(), p.e.revision());
        for (id, secret) in [
            (scoped, &scoped_secret),
            (gone, &gone_secret),
            (pat_token, &pat_secret),
        ] {
            assert_eq!(other.token(id), p.e.token(id));
            for at in [T, expires] {
                assert_eq!(
                    other.authenticate(secret.expose(), at),
                    p.e.authenticate(secret.expose(), at)
                );
            }
        }
        let mine: Vec<TokenId> =
            other.tokens_of(p.vic).map(|(id, _)| id).collect();
        assert_eq!(mine, [scoped]);
        let scoped_ids: Vec<TokenId> = other
            .tokens_scoped_to(p.project)
            .iter()
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(scoped_ids, [scoped, pat_token]);
        for (o, _) in all_objects(&p.e) {
            for t in [scoped, gone, pat_token] {
                for a in p.e.schema().actions() {
                    let s = Subject::Token(t);
                    assert_eq!(other.check(s, a, o), p.e.check(s, a, o));
                }
            }
        }
    }
    assert_eq!(
        p.e.authenticate(scoped_secret.expose(), T),
        Some(Subject::Token(scoped))
    );
    assert_eq!(p.e.authenticate(gone_secret.expose(), T), None);

    let mut loaded = loaded;
    ok(&mut loaded, Actor::System, |m| m.delete_user(p.vic));
    assert_eq!(loaded.authenticate(scoped_secret.expose(), T), None);
    assert!(loaded.token(scoped).is_none());
    assert!(loaded
        .tokens_scoped_to(p.project)
        .iter()
        .all(|(id, _)| *id == pat_token));
    let again = Engine::from_json(&loaded.to_json()).expect("reloads");
    assert_eq!(
        again.authenticate(pat_secret.expose(), T),
        Some(Subject::Token(pat_token))
    );
}
