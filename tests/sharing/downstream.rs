//! What happens downstream when an upstream share is removed or lowered:
//! `Keep` (Portfolio Manager, reference §4 and §7), `Cascade` (PostgreSQL's
//! REVOKE CASCADE, grant-option §1) and `Restrict` (REVOKE RESTRICT).

use super::support::*;

fn snapshot(c: &Chain, people: &[usize]) -> Vec<Option<Share>> {
    people.iter().map(|i| c.e.share(c.share(*i)).cloned()).collect()
}

fn emails(c: &Chain, people: &[usize]) -> Vec<String> {
    people
        .iter()
        .map(|i| c.e.user(c.user(*i)).expect("user").email().to_owned())
        .collect()
}

/// Custom: Read on every type, with share-forward.
fn read_forward() -> ShareSpec {
    ShareSpec::custom().share_forward(true)
}

// ----- Keep --------------------------------------------------------------

#[test]
fn keep_removing_an_upstream_share_leaves_the_downstream_shares() {
    let mut c = chain(Downstream::Keep);
    let (jack, hq) = (c.jack, c.hq);
    let below = [BILL, JANE, NICK, EMMA];
    let before = snapshot(&c, &below);
    let mary_share = c.share(MARY);
    ok(&mut c.e, |e| e.act(Actor::User(jack), T).unshare(mary_share));
    assert!(c.e.share(mary_share).is_none());
    assert_eq!(snapshot(&c, &below), before, "downstream unchanged");
    deny(&c.e, c.user(MARY), "read", hq.property);
    allow(&c.e, c.user(BILL), "update", hq.property);
    for i in [JANE, NICK, EMMA] {
        allow(&c.e, c.user(i), "add_bill", hq.electric);
        deny(&c.e, c.user(i), "update", hq.property);
    }
}

#[test]
fn keep_lowering_an_upstream_share_leaves_the_downstream_levels() {
    let mut c = chain(Downstream::Keep);
    let (jack, hq) = (c.jack, c.hq);
    let below = [JANE, NICK, EMMA];
    let before = snapshot(&c, &below);
    let bill = c.user(BILL);
    let id = ok(&mut c.e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::User(bill),
            ShareSpec::custom(),
        )
    });
    assert_eq!(id, c.share(BILL));
    deny(&c.e, bill, "add_bill", hq.electric);
    allow(&c.e, bill, "read", hq.electric);
    assert_eq!(snapshot(&c, &below), before);
    for i in below {
        allow(&c.e, c.user(i), "add_bill", hq.electric);
    }
}

#[test]
fn keep_downstream_shares_stay_editable_by_the_owner_and_full_holders() {
    let mut c = chain(Downstream::Keep);
    let jack = c.jack;
    let (mary_share, bill_share) = (c.share(MARY), c.share(BILL));
    let (emma_share, nick_share) = (c.share(EMMA), c.share(NICK));
    ok(&mut c.e, |e| e.act(Actor::User(jack), T).unshare(mary_share));
    // Mary, who lost her share, lost her edit rights with it.
    let mary = c.user(MARY);
    let err =
        refused(&mut c.e, |e| e.act(Actor::User(mary), T).unshare(bill_share));
    assert!(matches!(err, ErrorKind::Denied { .. }), "{err:?}");
    // Bill (Full) still edits and removes downstream; so does Jack.
    let bill = c.user(BILL);
    ok(&mut c.e, |e| e.act(Actor::User(bill), T).unshare(nick_share));
    ok(&mut c.e, |e| e.act(Actor::User(jack), T).unshare(emma_share));
    assert!(c.e.share(nick_share).is_none());
    assert!(c.e.share(emma_share).is_none());
    allow(&c.e, c.user(JANE), "read", c.hq.property);
}

// ----- Cascade -----------------------------------------------------------

#[test]
fn cascade_removing_marys_share_removes_the_chain_below_her() {
    let mut c = chain(Downstream::Cascade);
    let (jack, jack_org, hq) = (c.jack, c.jack_org, c.hq);
    // An unrelated owner share survives.
    let (oo, olga) = account(&mut c.e, "Olga");
    connect(&mut c.e, jack_org, oo);
    let olga_share =
        share_accepted(&mut c.e, jack, hq.property, olga, ShareSpec::full());
    let mary_share = c.share(MARY);
    let rev = c.e.revision().get();
    ok(&mut c.e, |e| e.act(Actor::User(jack), T).unshare(mary_share));
    assert_eq!(c.e.revision().get(), rev + 1, "one revision for the cascade");
    for i in 0..5 {
        assert!(c.e.share(c.share(i)).is_none(), "share {i} removed");
        assert_eq!(c.e.shares_to(Grantee::User(c.user(i))).count(), 0);
        for o in hq.all() {
            deny(&c.e, c.user(i), "view_metrics", o);
        }
    }
    let left: Vec<ShareId> = c.e.shares().map(|(id, _)| id).collect();
    assert_eq!(left, [olga_share]);
    allow(&c.e, olga, "update", hq.property);
}

#[test]
fn cascade_a_middleman_dropping_their_share_removes_what_hangs_on_it() {
    let mut c = chain(Downstream::Cascade);
    let bill = c.user(BILL);
    let bill_share = c.share(BILL);
    ok(&mut c.e, |e| e.act(Actor::User(bill), T).unshare(bill_share));
    for i in [BILL, JANE, NICK, EMMA] {
        assert!(c.e.share(c.share(i)).is_none());
        deny(&c.e, c.user(i), "read", c.hq.property);
    }
    assert!(c.e.share(c.share(MARY)).is_some());
    allow(&c.e, c.user(MARY), "update", c.hq.property);
}

#[test]
fn cascade_lowering_bill_to_read_clamps_everyone_below_to_read() {
    let mut c = chain(Downstream::Cascade);
    let (jack, hq) = (c.jack, c.hq);
    let bill = c.user(BILL);
    let id = ok(&mut c.e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::User(bill),
            read_forward(),
        )
    });
    assert_eq!(id, c.share(BILL));
    for i in [BILL, JANE, NICK, EMMA] {
        let s = c.share(i);
        assert!(c.e.share(s).is_some(), "share {i} kept");
        assert_eq!(status(&c.e, s), ShareStatus::Accepted);
        for o in hq.all() {
            assert_eq!(level_of(&c.e, s, o), Level::Read, "share {i} on {o}");
            allow(&c.e, c.user(i), "read", o);
            deny(&c.e, c.user(i), "update", o);
        }
        for m in [hq.electric, hq.gas, hq.water] {
            deny(&c.e, c.user(i), "add_bill", m);
        }
    }
    // Share-forward survives where it was held.
    assert!(c.e.share(c.share(JANE)).expect("jane").share_forward());
    assert!(c.e.share(c.share(NICK)).expect("nick").share_forward());
    assert!(!c.e.share(c.share(EMMA)).expect("emma").share_forward());
    // Mary, upstream of Bill, is untouched.
    allow(&c.e, c.user(MARY), "update", hq.property);
}

#[test]
fn cascade_clamps_hold_for_meters_created_afterwards() {
    let mut c = chain(Downstream::Cascade);
    let (jack, jack_org, hq) = (c.jack, c.jack_org, c.hq);
    let bill = c.user(BILL);
    ok(&mut c.e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::User(bill),
            read_forward(),
        )
    });
    let steam =
        object(&mut c.e, jack_org, "energy_meter", "HQ steam", &[hq.property]);
    // Bill holds Read on it; nobody who got their share through Bill may
    // hold more.
    deny(&c.e, bill, "add_bill", steam);
    for i in [JANE, NICK, EMMA] {
        allow(&c.e, c.user(i), "read", steam);
        deny(&c.e, c.user(i), "add_bill", steam);
    }
}

#[test]
fn cascade_a_lowered_type_keeps_what_an_upstream_override_still_gives() {
    let mut c = chain(Downstream::Cascade);
    let (jack, hq) = (c.jack, c.hq);
    let bill = c.user(BILL);
    // Bill keeps Full on the property itself, by an override, while the
    // property type drops to None: what Jane holds on the property is
    // still derivable and must stay.
    let spec = ShareSpec::custom()
        .level("property", Level::None)
        .level("energy_meter", Level::Full)
        .level("water_meter", Level::Full)
        .share_forward(true)
        .object_level(hq.property, Level::Full);
    ok(&mut c.e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::User(bill),
            spec,
        )
    });
    allow(&c.e, bill, "update", hq.property);
    for i in [JANE, NICK, EMMA] {
        let s = c.share(i);
        assert_eq!(level_of(&c.e, s, hq.property), Level::Read, "share {i}");
        allow(&c.e, c.user(i), "read", hq.property);
        allow(&c.e, c.user(i), "add_bill", hq.electric);
    }
}

#[test]
fn cascade_lowering_without_share_forward_removes_the_chain_below() {
    let mut c = chain(Downstream::Cascade);
    let (jack, hq) = (c.jack, c.hq);
    let bill = c.user(BILL);
    let all_full_no_forward = ShareSpec::custom()
        .level("property", Level::Full)
        .level("energy_meter", Level::Full)
        .level("water_meter", Level::Full)
        .level("goal", Level::Full)
        .level("recognition", Level::Full);
    ok(&mut c.e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::User(bill),
            all_full_no_forward,
        )
    });
    allow(&c.e, bill, "update", hq.property);
    for i in [JANE, NICK, EMMA] {
        assert!(c.e.share(c.share(i)).is_none(), "share {i} removed");
        deny(&c.e, c.user(i), "read", hq.property);
    }
}

#[test]
fn cascade_keeps_what_another_chain_still_supports() {
    let mut c = chain(Downstream::Cascade);
    let (jack, jack_org, hq) = (c.jack, c.jack_org, c.hq);
    let (jane, jane_org) = (c.user(JANE), c.orgs[JANE]);
    connect(&mut c.e, jack_org, jane_org);
    // Jane's account also receives the property from Jack directly.
    let org_share = ok(&mut c.e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::Org(jane_org),
            chain_custom(true),
        )
    });
    ok(&mut c.e, |e| e.act(Actor::User(jane), T).accept_share(org_share));
    let nick_before = snapshot(&c, &[NICK, EMMA]);
    let mary_share = c.share(MARY);
    ok(&mut c.e, |e| e.act(Actor::User(jack), T).unshare(mary_share));
    for i in [MARY, BILL, JANE] {
        assert!(c.e.share(c.share(i)).is_none(), "share {i} removed");
    }
    assert!(c.e.share(org_share).is_some());
    assert_eq!(snapshot(&c, &[NICK, EMMA]), nick_before, "still derivable");
    allow(&c.e, jane, "add_bill", hq.electric);
    allow(&c.e, c.user(NICK), "add_bill", hq.electric);
    allow(&c.e, c.user(EMMA), "add_bill", hq.electric);
    deny(&c.e, c.user(BILL), "read", hq.property);
}

#[test]
fn cascade_circular_chains_confer_nothing() {
    for drop_by_owner in [true, false] {
        let mut e = engine(Downstream::Cascade);
        let (jo, jack) = owner_account(&mut e, "Jack");
        let (bo, b) = account(&mut e, "B");
        let b2 = member(&mut e, bo, "b2@example.com");
        let (co, c) = account(&mut e, "C");
        connect(&mut e, jo, bo);
        connect(&mut e, bo, co);
        let hq = building(&mut e, jo, "HQ");
        let p = hq.property;
        let ab = share_accepted(&mut e, jack, p, b, ShareSpec::full());
        let bc = share_accepted(&mut e, b, p, c, ShareSpec::full());
        // C shares back to B's whole account, with share-forward: B now
        // holds share-forward both from Jack and, through C, from itself.
        let cb = ok(&mut e, |e| {
            e.act(Actor::User(c), T).share(
                p,
                Grantee::Org(bo),
                ShareSpec::full(),
            )
        });
        ok(&mut e, |e| e.act(Actor::User(b2), T).accept_share(cb));
        for u in [b, b2, c] {
            allow(&e, u, "update", p);
        }
        let actor = if drop_by_owner { jack } else { b };
        ok(&mut e, |e| e.act(Actor::User(actor), T).unshare(ab));
        for id in [ab, bc, cb] {
            assert!(e.share(id).is_none(), "{id} left in a cycle");
        }
        for u in [b, b2, c] {
            for o in hq.all() {
                deny(&e, u, "view_metrics", o);
            }
        }
        assert_eq!(e.shares().count(), 0);
    }
}

#[test]
fn keep_circular_chains_stay() {
    // Contrast with Cascade: under Keep the same removal leaves B's
    // account and C their shares.
    let mut e = engine(Downstream::Keep);
    let (jo, jack) = owner_account(&mut e, "Jack");
    let (bo, b) = account(&mut e, "B");
    let (co, c) = account(&mut e, "C");
    connect(&mut e, jo, bo);
    connect(&mut e, bo, co);
    let hq = building(&mut e, jo, "HQ");
    let p = hq.property;
    let ab = share_accepted(&mut e, jack, p, b, ShareSpec::full());
    share_accepted(&mut e, b, p, c, ShareSpec::full());
    let cb = ok(&mut e, |e| {
        e.act(Actor::User(c), T).share(p, Grantee::Org(bo), ShareSpec::full())
    });
    ok(&mut e, |e| e.act(Actor::User(b), T).accept_share(cb));
    ok(&mut e, |e| e.act(Actor::User(jack), T).unshare(ab));
    allow(&e, b, "update", p);
    allow(&e, c, "update", p);
}

#[test]
fn share_forward_cannot_be_granted_back_to_ones_own_grantor() {
    for policy in [Downstream::Cascade, Downstream::Restrict] {
        let mut c = chain(policy);
        let hq = c.hq;
        let (mary, bill, jane) = (c.user(MARY), c.user(BILL), c.user(JANE));
        // Bill gives his grantor Mary share-forward on a meter ...
        let err = refused(&mut c.e, |e| {
            e.act(Actor::User(bill), T).share(
                hq.electric,
                Grantee::User(mary),
                ShareSpec::full(),
            )
        });
        assert!(
            matches!(err, ErrorKind::CircularShareForward { .. }),
            "{policy:?}: {err:?}"
        );
        // Re-applying Full to her share is an edit of an upstream share
        // (a Full holder may): it keeps its provenance, the owner, so it
        // is no cycle and nobody loses anything.
        let id = ok(&mut c.e, |e| {
            e.act(Actor::User(bill), T).share(
                hq.property,
                Grantee::User(mary),
                ShareSpec::full(),
            )
        });
        assert_eq!(id, c.share(MARY));
        let s = c.e.share(id).expect("Mary's share");
        assert_eq!(s.grantor(), Grantor::Owner, "{policy:?}");
        allow(&c.e, mary, "update", hq.property);
        allow(&c.e, bill, "update", hq.property);
        // Jane to Bill, her grantor's grantor's grantee: also a cycle.
        let fwd = ShareSpec::custom()
            .level("energy_meter", Level::Full)
            .share_forward(true);
        let err = refused(&mut c.e, |e| {
            e.act(Actor::User(jane), T).share(
                hq.electric,
                Grantee::User(bill),
                fwd,
            )
        });
        assert!(
            matches!(err, ErrorKind::CircularShareForward { .. }),
            "{policy:?}: {err:?}"
        );
        // Without share-forward there is no cycle to refuse.
        let plain = ShareSpec::custom().level("energy_meter", Level::Full);
        ok(&mut c.e, |e| {
            e.act(Actor::User(bill), T).share(
                hq.electric,
                Grantee::User(mary),
                plain,
            )
        });
    }
}

#[test]
fn cascade_shares_granted_by_a_deleted_user_go_with_them() {
    let mut c = chain(Downstream::Cascade);
    let bill = c.user(BILL);
    ok(&mut c.e, |e| e.act(Actor::System, T).delete_user(bill));
    for i in [BILL, JANE, NICK, EMMA] {
        assert!(c.e.share(c.share(i)).is_none(), "share {i} removed");
    }
    for i in [JANE, NICK, EMMA] {
        deny(&c.e, c.user(i), "read", c.hq.property);
    }
    allow(&c.e, c.user(MARY), "read", c.hq.property);
}

// ----- Restrict ----------------------------------------------------------

#[track_caller]
fn dependents(err: &ErrorKind) -> &str {
    match err {
        ErrorKind::DependentShares { shares } => shares,
        other => panic!("expected dependent shares, got {other:?}"),
    }
}

#[test]
fn restrict_refuses_a_removal_naming_the_dependents() {
    let mut c = chain(Downstream::Restrict);
    let jack = c.jack;
    let mary_share = c.share(MARY);
    let before = snapshot(&c, &[MARY, BILL, JANE, NICK, EMMA]);
    let err =
        refused(&mut c.e, |e| e.act(Actor::User(jack), T).unshare(mary_share));
    let named = dependents(&err);
    for m in emails(&c, &[BILL, JANE, NICK, EMMA]) {
        assert!(named.contains(&m), "{m} not named in `{named}`");
    }
    assert!(!named.contains("mary@"), "the removed share is not a dependent");
    assert_eq!(snapshot(&c, &[MARY, BILL, JANE, NICK, EMMA]), before);
    allow(&c.e, c.user(MARY), "update", c.hq.property);
    // The grantee dropping it is refused the same way.
    let mary = c.user(MARY);
    let err =
        refused(&mut c.e, |e| e.act(Actor::User(mary), T).unshare(mary_share));
    dependents(&err);
}

#[test]
fn restrict_refuses_a_lowering_naming_the_dependents() {
    let mut c = chain(Downstream::Restrict);
    let (jack, hq) = (c.jack, c.hq);
    let bill = c.user(BILL);
    let err = refused(&mut c.e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::User(bill),
            read_forward(),
        )
    });
    let named = dependents(&err);
    for m in emails(&c, &[JANE, NICK, EMMA]) {
        assert!(named.contains(&m), "{m} not named in `{named}`");
    }
    for m in emails(&c, &[MARY, BILL]) {
        assert!(!named.contains(&m), "{m} wrongly named in `{named}`");
    }
    allow(&c.e, bill, "update", hq.property);
    allow(&c.e, c.user(EMMA), "add_bill", hq.electric);
    // Taking share-forward away is a lowering too.
    let no_forward = chain_custom(false);
    let jane = c.user(JANE);
    let err = refused(&mut c.e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::User(jane),
            no_forward,
        )
    });
    let named = dependents(&err);
    assert!(named.contains("nick@") && named.contains("emma@"), "{named}");
}

#[test]
fn restrict_allows_changes_that_leave_dependents_intact() {
    let mut c = chain(Downstream::Restrict);
    let (jack, hq) = (c.jack, c.hq);
    let bill = c.user(BILL);
    // Bill down to Jane's levels: nobody below him loses anything.
    let id = ok(&mut c.e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::User(bill),
            chain_custom(true),
        )
    });
    assert_eq!(id, c.share(BILL));
    deny(&c.e, bill, "update", hq.property);
    allow(&c.e, c.user(EMMA), "add_bill", hq.electric);
    // Leaves go first; then each share has no dependents left.
    for i in [EMMA, NICK, JANE, BILL, MARY] {
        let s = c.share(i);
        ok(&mut c.e, |e| e.act(Actor::User(jack), T).unshare(s));
        deny(&c.e, c.user(i), "read", hq.property);
    }
    assert_eq!(c.e.shares().count(), 0);
}

// ----- provenance of edits and shares on shared meters --------------------

/// An edit either leaves the edited share in place as asked, or is
/// refused with nothing changed; it never returns a share that its own
/// cascade removed.
#[track_caller]
fn edit_keeps_or_refuses(
    e: &mut Engine,
    actor: UserId,
    root: ObjectId,
    grantee: Grantee,
    spec: ShareSpec,
) -> bool {
    let id = e.share_of(root, grantee).expect("an existing share");
    let before = all_shares(e);
    let rev = e.revision();
    match e.act(Actor::User(actor), T).share(root, grantee, spec.clone()) {
        Ok(r) => {
            assert_eq!(r.value, id);
            let s = e.share(id).unwrap_or_else(|| {
                panic!(
                    "the edit returned {id}, which its own cascade removed; \
                     shares left: {:?}",
                    all_shares(e)
                )
            });
            assert_eq!(s.kind(), spec.kind());
            true
        }
        Err(err) => {
            assert_eq!(e.revision(), rev, "{err}");
            assert_eq!(all_shares(e), before, "{err}");
            false
        }
    }
}

#[test]
fn cascade_an_upstream_edit_by_a_full_holder_keeps_the_edited_share() {
    // EPA: Bill (Full) may edit Mary, who shared with him. Lowering Mary
    // to Read Only must leave her Read Only (or be refused) — not remove
    // her share, and with it his own and everyone's below.
    let mut c = chain(Downstream::Cascade);
    let (mary, bill) = (c.user(MARY), c.user(BILL));
    let root = c.hq.property;
    let applied = edit_keeps_or_refuses(
        &mut c.e,
        bill,
        root,
        Grantee::User(mary),
        ShareSpec::read_only(),
    );
    if applied {
        allow(&c.e, mary, "read", root);
        deny(&c.e, mary, "update", root);
    }
}

#[test]
fn cascade_a_member_editing_their_accounts_share_keeps_it() {
    let mut w = world(Downstream::Cascade, &["B"]);
    let (jack, bo, b1) = (w.jack, w.orgs[0], w.users[0]);
    let b2 = member(&mut w.e, bo, "b2@example.com");
    let root = w.hq.property;
    let id = ok(&mut w.e, |e| {
        e.act(Actor::User(jack), T).share(
            root,
            Grantee::Org(bo),
            ShareSpec::full(),
        )
    });
    ok(&mut w.e, |e| e.act(Actor::User(b2), T).accept_share(id));
    // b1 holds Full through the account's share and lowers it.
    let applied = edit_keeps_or_refuses(
        &mut w.e,
        b1,
        root,
        Grantee::Org(bo),
        ShareSpec::read_only(),
    );
    if applied {
        allow(&w.e, b2, "read", root);
    }
}

/// Jack owns P0 and P1 and a meter under both; Kim holds P1 with
/// share-forward and passes the meter on to Ann.
fn shared_meter(policy: Downstream) -> (World, ObjectId, ObjectId, ShareId) {
    let mut w = world(policy, &["Kim", "Ann", "Bob"]);
    let (jack, jack_org) = (w.jack, w.jack_org);
    let (kim, ann) = (w.users[0], w.users[1]);
    let (ko, ao) = (w.orgs[0], w.orgs[1]);
    connect(&mut w.e, ko, ao);
    let p0 = object(&mut w.e, jack_org, "property", "P0", &[]);
    let p1 = object(&mut w.e, jack_org, "property", "P1", &[]);
    let meter = object(&mut w.e, jack_org, "energy_meter", "M", &[p0, p1]);
    share_accepted(&mut w.e, jack, p1, kim, ShareSpec::full());
    let ann_share =
        share_accepted(&mut w.e, kim, meter, ann, ShareSpec::read_only());
    allow(&w.e, ann, "read", meter);
    (w, p0, meter, ann_share)
}

#[test]
fn cascade_a_share_of_another_parent_does_not_touch_a_meter_share() {
    let (mut w, p0, meter, ann_share) = shared_meter(Downstream::Cascade);
    let (jack, ann, bob) = (w.jack, w.users[1], w.users[2]);
    // Sharing P0 with Bob has nothing to do with Kim's right on P1.
    share_accepted(&mut w.e, jack, p0, bob, ShareSpec::read_only());
    assert!(w.e.share(ann_share).is_some(), "Ann's meter share was removed");
    allow(&w.e, ann, "read", meter);
}

#[test]
fn restrict_names_only_shares_that_depend_on_the_change() {
    let (mut w, p0, meter, ann_share) = shared_meter(Downstream::Restrict);
    let (jack, ann, bob) = (w.jack, w.users[1], w.users[2]);
    let bob_share =
        share_accepted(&mut w.e, jack, p0, bob, ShareSpec::read_only());
    // Nothing was granted on the strength of Bob's share.
    ok(&mut w.e, |e| e.act(Actor::User(jack), T).unshare(bob_share));
    assert!(w.e.share(ann_share).is_some());
    allow(&w.e, ann, "read", meter);
}

#[test]
fn cascade_unlinking_a_meter_from_the_forwarders_property_removes_what_kim_gave(
) {
    let (mut w, _, meter, ann_share) = shared_meter(Downstream::Cascade);
    let (kim, ann) = (w.users[0], w.users[1]);
    let p1 = w.e.object_by_key(ty(&w.e, "property"), "P1").expect("P1");
    // The meter leaves P1: Kim's share-forward no longer reaches it, and
    // nothing derives Ann's share from the owner any more.
    ok(&mut w.e, |e| e.act(Actor::System, T).unlink_object(meter, p1));
    deny(&w.e, kim, "read", meter);
    assert!(w.e.share(ann_share).is_none(), "Ann's share outlived its source");
    deny(&w.e, ann, "read", meter);
}

/// Regression (found by `check_matches_the_reference` with more cases):
/// unlinking a meter from its property could leave a share rooted at the
/// meter without any chain from the owner, because only share removals
/// and lowerings were checked. Under `Restrict` the unlink is now refused,
/// naming the share, and changes nothing; under `Keep` it goes through.
#[test]
fn restrict_refuses_an_unlink_that_orphans_a_share() {
    for policy in [Downstream::Restrict, Downstream::Keep] {
        let mut c = chain(policy);
        let hq = c.hq;
        let (jane, nick) = (c.user(JANE), c.user(NICK));
        let meter_share = share_accepted(
            &mut c.e,
            jane,
            hq.electric,
            nick,
            chain_custom(false),
        );
        // The policy itself (a refusal is still logged).
        let policy_of = |e: &Engine| {
            let v: serde_json::Value = serde_json::from_str(&e.to_json())
                .expect("a snapshot is JSON");
            (v["revision"].clone(), v["model"].clone())
        };
        let before = policy_of(&c.e);
        let unlink = |e: &mut Engine| {
            e.act(Actor::System, T).unlink_object(hq.electric, hq.property)
        };
        if policy == Downstream::Restrict {
            let err = refused(&mut c.e, unlink);
            let named = dependents(&err);
            assert!(named.contains(&meter_share.to_string()), "{named}");
            assert!(policy_of(&c.e) == before, "a refusal changes nothing");
            assert!(c.e.index_is_consistent());
            allow(&c.e, nick, "add_bill", hq.electric);
        } else {
            ok(&mut c.e, unlink);
            assert!(c.e.share(meter_share).is_some(), "Keep keeps it");
        }
    }
}

/// Regression (found by the `roundtrip` fuzz target): an override names
/// an object inside its share's subtree; unlinking or deleting an object
/// above it used to leave the override behind, and the engine then wrote
/// a snapshot it refused to load ("object levels ... outside the root").
/// Such overrides now go with the link, under every policy.
#[test]
fn overrides_leave_a_share_with_the_objects_they_name() {
    for policy in [Downstream::Keep, Downstream::Cascade, Downstream::Restrict]
    {
        for delete in [false, true] {
            let mut w = world(policy, &["Kim"]);
            let (hq, kim, org) = (w.hq, w.users[0], w.jack_org);
            let sub = object(&mut w.e, org, "goal", "HQ sub", &[hq.electric]);
            let spec = ShareSpec::custom()
                .object_level(hq.electric, Level::Full)
                .object_level(sub, Level::Full)
                .object_level(hq.gas, Level::Full);
            let id = owner_shares(&mut w, hq.property, kim, spec);
            allow(&w.e, kim, "update", sub);
            ok(&mut w.e, |e| {
                let mut sys = e.act(Actor::System, T);
                if delete {
                    sys.delete_object(hq.electric)
                } else {
                    sys.unlink_object(hq.electric, hq.property)
                }
            });
            let share = w.e.share(id).expect("the share stays");
            let named: Vec<ObjectId> =
                share.object_levels().iter().map(|(o, _)| *o).collect();
            assert_eq!(named, [hq.gas], "{policy:?} delete={delete}");
            deny(&w.e, kim, "read", sub);
            allow(&w.e, kim, "update", hq.gas);
            assert!(w.e.index_is_consistent());
            let again = Engine::from_json(&w.e.to_json())
                .unwrap_or_else(|e| panic!("{policy:?} delete={delete}: {e}"));
            assert_eq!(again.to_json(), w.e.to_json());
        }
    }
}
