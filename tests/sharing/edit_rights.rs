//! Who may edit or remove whose share (reference §2.3, EPA's worked
//! example), and re-sharing to an existing grantee (reference §1).

use super::support::*;

const PEOPLE: [&str; 5] = ["Mary", "Bill", "Jane", "Nick", "Emma"];

/// Whether `editor` may re-apply the current spec of person `target`'s
/// share (tried on a copy of the engine). A refusal must be `Denied`.
fn may_edit(c: &Chain, editor: UserId, target: usize) -> bool {
    let mut e = c.e.clone();
    let root = c.hq.property;
    let grantee = Grantee::User(c.user(target));
    let spec = c.spec(target);
    let before = e.share(c.share(target)).cloned();
    match e.act(Actor::User(editor), T).share(root, grantee, spec) {
        Ok(r) => {
            assert_eq!(r.value, c.share(target), "an edit keeps the share");
            let after = e.share(c.share(target)).expect("share");
            assert_eq!(after.status(), ShareStatus::Accepted);
            true
        }
        Err(err) => {
            assert!(err.is_denied(), "edit refused as denied: {err}");
            assert_eq!(e.share(c.share(target)).cloned(), before);
            false
        }
    }
}

/// Whether `actor` may remove person `target`'s share (on a copy).
fn may_remove(c: &Chain, actor: UserId, target: usize) -> bool {
    let mut e = c.e.clone();
    match e.act(Actor::User(actor), T).unshare(c.share(target)) {
        Ok(_) => {
            assert!(e.share(c.share(target)).is_none());
            true
        }
        Err(err) => {
            assert!(err.is_denied(), "removal refused as denied: {err}");
            assert!(e.share(c.share(target)).is_some());
            false
        }
    }
}

fn editable_by(
    c: &Chain,
    editor: UserId,
    f: fn(&Chain, UserId, usize) -> bool,
) -> Vec<&'static str> {
    (0..5)
        .filter(|t| c.user(*t) != editor && f(c, editor, *t))
        .map(|t| PEOPLE[t])
        .collect()
}

#[test]
fn epa_chain_edit_rights() {
    let c = chain(Downstream::Keep);
    let expect: [(usize, &[&str]); 5] = [
        (MARY, &["Bill", "Jane", "Nick", "Emma"]),
        (BILL, &["Mary", "Jane", "Nick", "Emma"]),
        (JANE, &["Nick"]),
        (NICK, &["Emma"]),
        (EMMA, &[]),
    ];
    for (who, want) in expect {
        assert_eq!(
            editable_by(&c, c.user(who), may_edit),
            want,
            "{} edits",
            PEOPLE[who]
        );
    }
    assert_eq!(editable_by(&c, c.jack, may_edit), PEOPLE);
}

#[test]
fn epa_chain_removal_rights_follow_edit_rights() {
    let c = chain(Downstream::Keep);
    let expect: [(usize, &[&str]); 5] = [
        (MARY, &["Bill", "Jane", "Nick", "Emma"]),
        (BILL, &["Mary", "Jane", "Nick", "Emma"]),
        (JANE, &["Nick"]),
        (NICK, &["Emma"]),
        (EMMA, &[]),
    ];
    for (who, want) in expect {
        assert_eq!(
            editable_by(&c, c.user(who), may_remove),
            want,
            "{} removes",
            PEOPLE[who]
        );
    }
    assert_eq!(editable_by(&c, c.jack, may_remove), PEOPLE);
    // Everyone may drop their own share.
    for (i, name) in PEOPLE.iter().enumerate() {
        assert!(may_remove(&c, c.user(i), i), "{name} drops own");
    }
}

#[test]
fn read_only_edits_nobody() {
    let mut c = chain(Downstream::Keep);
    let (olga_org, olga) = account(&mut c.e, "Olga");
    let jack_org = c.jack_org;
    connect(&mut c.e, jack_org, olga_org);
    let root = c.hq.property;
    let jack = c.jack;
    share_accepted(&mut c.e, jack, root, olga, ShareSpec::read_only());
    assert!(editable_by(&c, olga, may_edit).is_empty());
    assert!(editable_by(&c, olga, may_remove).is_empty());
}

#[test]
fn full_access_edits_upstream() {
    let mut c = chain(Downstream::Keep);
    let (mary, bill) = (c.user(MARY), c.user(BILL));
    let root = c.hq.property;
    allow(&c.e, mary, "update", root);
    let id = ok(&mut c.e, |e| {
        e.act(Actor::User(bill), T).share(
            root,
            Grantee::User(mary),
            ShareSpec::read_only(),
        )
    });
    assert_eq!(id, c.share(MARY));
    assert_eq!(status(&c.e, id), ShareStatus::Accepted, "no re-acceptance");
    assert_eq!(c.e.share(id).expect("share").kind(), ShareKind::ReadOnly);
    deny(&c.e, mary, "update", root);
    allow(&c.e, mary, "read", root);
}

#[test]
fn custom_equal_to_full_still_edits_only_its_own_grantees() {
    let mut c = chain(Downstream::Keep);
    let (bill, jane) = (c.user(BILL), c.user(JANE));
    let root = c.hq.property;
    // Bill gives Jane Full on every type with share-forward, as Custom.
    let as_full = ShareSpec::custom()
        .level("property", Level::Full)
        .level("energy_meter", Level::Full)
        .level("water_meter", Level::Full)
        .level("goal", Level::Full)
        .level("recognition", Level::Full)
        .share_forward(true);
    ok(&mut c.e, |e| {
        e.act(Actor::User(bill), T).share(root, Grantee::User(jane), as_full)
    });
    for o in c.hq.all() {
        allow(&c.e, jane, "update", o);
    }
    assert_eq!(editable_by(&c, jane, may_edit), ["Nick"]);
}

#[test]
fn exchange_data_edits_only_the_shares_it_granted() {
    let mut c = chain(Downstream::Keep);
    let (prov, pat) = account(&mut c.e, "Provider");
    let (quinn_org, quinn) = account(&mut c.e, "Quinn");
    let jack_org = c.jack_org;
    connect(&mut c.e, jack_org, prov);
    connect(&mut c.e, prov, quinn_org);
    let (jack, root) = (c.jack, c.hq.property);
    let spec = ShareSpec::exchange_data()
        .level("property", Level::Read)
        .level("energy_meter", Level::Full)
        .share_forward(true);
    let id = ok(&mut c.e, |e| {
        e.act(Actor::User(jack), T).share(root, Grantee::Org(prov), spec)
    });
    ok(&mut c.e, |e| e.act(Actor::User(pat), T).accept_share(id));
    let spec = ShareSpec::exchange_data().level("energy_meter", Level::Read);
    let qid = share_accepted(&mut c.e, pat, root, quinn, spec);
    allow(&c.e, quinn, "read", c.hq.electric);
    deny(&c.e, quinn, "read", root);
    // Pat edits the share Pat granted ...
    let raised = ShareSpec::exchange_data().level("energy_meter", Level::Full);
    let again = ok(&mut c.e, |e| {
        e.act(Actor::User(pat), T).share(root, Grantee::User(quinn), raised)
    });
    assert_eq!(again, qid);
    allow(&c.e, quinn, "add_bill", c.hq.electric);
    // ... and nobody else's.
    assert!(editable_by(&c, pat, may_edit).is_empty());
    assert!(editable_by(&c, pat, may_remove).is_empty());
}

#[test]
fn no_one_but_the_owner_edits_the_owners_rights() {
    let mut c = chain(Downstream::Keep);
    let (jack, jack_org, mary) = (c.jack, c.jack_org, c.user(MARY));
    let pda = c.e.role_by_name(jack_org, PDA).expect("role");
    let err = refused(&mut c.e, |e| {
        e.act(Actor::User(mary), T).revoke_role(jack, pda)
    });
    assert!(matches!(err, ErrorKind::Denied { .. }), "{err:?}");
    allow(&c.e, jack, "delete", c.hq.property);
}

// ----- re-sharing (reference §1) -----------------------------------------

#[test]
fn re_sharing_to_an_existing_grantee_updates_the_same_share() {
    let mut w = world(Downstream::Keep, &["Mary"]);
    let (jack, mary) = (w.jack, w.users[0]);
    let hq = w.hq;
    let id = owner_shares(&mut w, hq.property, mary, ShareSpec::read_only());
    deny(&w.e, mary, "update", hq.property);
    let again = ok(&mut w.e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::User(mary),
            ShareSpec::full(),
        )
    });
    assert_eq!(again, id, "same share");
    let s = w.e.share(id).expect("share");
    assert_eq!(s.kind(), ShareKind::Full);
    assert!(s.share_forward());
    assert_eq!(s.status(), ShareStatus::Accepted, "edits need no acceptance");
    allow(&w.e, mary, "update", hq.property);
    assert_eq!(w.e.shares_to(Grantee::User(mary)).collect::<Vec<_>>(), [id]);
    assert_eq!(w.e.shares().count(), 1);
    // Lowering again, the same share.
    let spec = ShareSpec::custom().level("property", Level::None);
    let third = ok(&mut w.e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::User(mary),
            spec,
        )
    });
    assert_eq!(third, id);
    deny(&w.e, mary, "read", hq.property);
    allow(&w.e, mary, "read", hq.electric);
    assert_eq!(w.e.shares().count(), 1);
}

#[test]
fn re_sharing_a_pending_share_keeps_it_pending() {
    let mut w = world(Downstream::Keep, &["Mary"]);
    let (jack, mary, root) = (w.jack, w.users[0], w.hq.property);
    let to = Grantee::User(mary);
    let id = ok(&mut w.e, |e| {
        e.act(Actor::User(jack), T).share(root, to, ShareSpec::read_only())
    });
    let again = ok(&mut w.e, |e| {
        e.act(Actor::User(jack), T).share(root, to, ShareSpec::full())
    });
    assert_eq!(again, id);
    assert_eq!(status(&w.e, id), ShareStatus::Pending);
    deny(&w.e, mary, "read", root);
    ok(&mut w.e, |e| e.act(Actor::User(mary), T).accept_share(id));
    allow(&w.e, mary, "update", root);
}

#[test]
fn a_share_of_a_meter_and_of_its_property_are_distinct() {
    let mut w = world(Downstream::Keep, &["Mary"]);
    let mary = w.users[0];
    let hq = w.hq;
    let p = owner_shares(&mut w, hq.property, mary, ShareSpec::read_only());
    let m = owner_shares(&mut w, hq.electric, mary, ShareSpec::full());
    assert_ne!(p, m);
    allow(&w.e, mary, "add_bill", hq.electric);
    deny(&w.e, mary, "add_bill", hq.gas);
    let mut to_mary: Vec<_> = w.e.shares_to(Grantee::User(mary)).collect();
    to_mary.sort();
    let mut want = vec![p, m];
    want.sort();
    assert_eq!(to_mary, want);
}
