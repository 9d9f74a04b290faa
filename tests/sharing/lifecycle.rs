//! Acceptance, connections, ownership transfer and deletion (reference §1,
//! §5, §6, §7).

use super::support::*;

// ----- acceptance -----------------------------------------------------------

#[test]
fn a_pending_share_confers_nothing_until_accepted() {
    let mut w = world(Downstream::Keep, &["Mary"]);
    let (jack, mary) = (w.jack, w.users[0]);
    let hq = w.hq;
    let id = ok(&mut w.e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::User(mary),
            ShareSpec::full(),
        )
    });
    assert_eq!(status(&w.e, id), ShareStatus::Pending);
    for o in hq.all() {
        for a in ACTIONS {
            deny(&w.e, mary, a, o);
        }
    }
    let r =
        w.e.explain(Subject::User(mary), action(&w.e, "read"), hq.property);
    assert_eq!(r.denial(), Some(Denial::NoMatchingGrant));
    ok(&mut w.e, |e| e.act(Actor::User(mary), T).accept_share(id));
    assert_eq!(status(&w.e, id), ShareStatus::Accepted);
    allow(&w.e, mary, "update", hq.property);
    allow(&w.e, mary, "add_bill", hq.gas);
}

#[test]
fn only_the_grantee_accepts_and_only_once() {
    let mut w = world(Downstream::Keep, &["Mary", "Bill"]);
    let (jack, mary, bill) = (w.jack, w.users[0], w.users[1]);
    let root = w.hq.property;
    let id = ok(&mut w.e, |e| {
        e.act(Actor::User(jack), T).share(
            root,
            Grantee::User(mary),
            ShareSpec::read_only(),
        )
    });
    for actor in [jack, bill] {
        let err = refused(&mut w.e, |e| {
            e.act(Actor::User(actor), T).accept_share(id)
        });
        assert!(matches!(err, ErrorKind::Denied { .. }), "{err:?}");
        let err = refused(&mut w.e, |e| {
            e.act(Actor::User(actor), T).reject_share(id)
        });
        assert!(matches!(err, ErrorKind::Denied { .. }), "{err:?}");
    }
    ok(&mut w.e, |e| e.act(Actor::User(mary), T).accept_share(id));
    let err =
        refused(&mut w.e, |e| e.act(Actor::User(mary), T).accept_share(id));
    assert!(matches!(err, ErrorKind::Invalid { .. }), "{err:?}");
    let err =
        refused(&mut w.e, |e| e.act(Actor::User(mary), T).reject_share(id));
    assert!(matches!(err, ErrorKind::Invalid { .. }), "{err:?}");
    allow(&w.e, mary, "read", root);
}

#[test]
fn rejecting_removes_the_share() {
    let mut w = world(Downstream::Keep, &["Mary"]);
    let (jack, mary, root) = (w.jack, w.users[0], w.hq.property);
    let to = Grantee::User(mary);
    let id = ok(&mut w.e, |e| {
        e.act(Actor::User(jack), T).share(root, to, ShareSpec::full())
    });
    ok(&mut w.e, |e| e.act(Actor::User(mary), T).reject_share(id));
    assert!(w.e.share(id).is_none());
    assert_eq!(w.e.share_of(root, to), None);
    assert_eq!(w.e.shares_to(to).count(), 0);
    deny(&w.e, mary, "view_metrics", root);
    let err =
        refused(&mut w.e, |e| e.act(Actor::User(mary), T).accept_share(id));
    assert!(matches!(err, ErrorKind::NotFound { .. }), "{err:?}");
    // The owner may share again: a new share, pending again.
    let again = ok(&mut w.e, |e| {
        e.act(Actor::User(jack), T).share(root, to, ShareSpec::read_only())
    });
    assert_ne!(again, id);
    assert_eq!(status(&w.e, again), ShareStatus::Pending);
}

#[test]
fn without_required_acceptance_a_share_is_in_force_at_once() {
    let mut e = presets::portfolio()
        .configure(|c| c.require_share_acceptance = false)
        .build()
        .expect("preset");
    let (jo, jack) = owner_account(&mut e, "Jack");
    let (mo, mary) = account(&mut e, "Mary");
    connect(&mut e, jo, mo);
    let hq = building(&mut e, jo, "HQ");
    let id = ok(&mut e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::User(mary),
            ShareSpec::read_only(),
        )
    });
    assert_eq!(status(&e, id), ShareStatus::Accepted);
    allow(&e, mary, "read", hq.water);
}

// ----- connections ------------------------------------------------------------

#[test]
fn sharing_needs_a_connection() {
    let mut e = engine(Downstream::Keep);
    let (jo, jack) = owner_account(&mut e, "Jack");
    let (zo, zed) = account(&mut e, "Zed");
    let hq = building(&mut e, jo, "HQ");
    let share = |e: &mut Engine| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::User(zed),
            ShareSpec::read_only(),
        )
    };
    let err = refused(&mut e, share);
    assert!(matches!(err, ErrorKind::NotConnected { .. }), "{err:?}");
    let err = refused(&mut e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::Org(zo),
            ShareSpec::read_only(),
        )
    });
    assert!(matches!(err, ErrorKind::NotConnected { .. }), "{err:?}");
    // Requested but not yet accepted is not enough.
    ok(&mut e, |e| e.act(Actor::User(jack), T).request_connection(jo, zo));
    let c: Vec<_> = e.connections().copied().collect();
    assert_eq!(c.len(), 1);
    assert_eq!((c[0].from, c[0].to, c[0].accepted), (jo, zo, false));
    let err = refused(&mut e, share);
    assert!(matches!(err, ErrorKind::NotConnected { .. }), "{err:?}");
    ok(&mut e, |e| {
        e.act(Actor::User(zed), T).respond_connection(jo, zo, true)
    });
    assert!(e.connections().all(|c| c.accepted));
    let id = ok(&mut e, share);
    ok(&mut e, |e| e.act(Actor::User(zed), T).accept_share(id));
    allow(&e, zed, "read", hq.property);
}

#[test]
fn only_the_asked_side_answers_a_connection_request() {
    let mut e = engine(Downstream::Keep);
    let (jo, jack) = account(&mut e, "Jack");
    let (zo, zed) = account(&mut e, "Zed");
    let (_, eve) = account(&mut e, "Eve");
    // Only a member may ask on behalf of an account.
    let err = refused(&mut e, |e| {
        e.act(Actor::User(eve), T).request_connection(jo, zo)
    });
    assert!(matches!(err, ErrorKind::Denied { .. }), "{err:?}");
    ok(&mut e, |e| e.act(Actor::User(jack), T).request_connection(jo, zo));
    // Asking twice, or asking back, is a duplicate.
    let err = refused(&mut e, |e| {
        e.act(Actor::User(jack), T).request_connection(jo, zo)
    });
    assert!(matches!(err, ErrorKind::Duplicate { .. }), "{err:?}");
    let err = refused(&mut e, |e| {
        e.act(Actor::User(zed), T).request_connection(zo, jo)
    });
    assert!(matches!(err, ErrorKind::Duplicate { .. }), "{err:?}");
    // The requester and strangers cannot answer.
    for actor in [jack, eve] {
        let err = refused(&mut e, |e| {
            e.act(Actor::User(actor), T).respond_connection(jo, zo, true)
        });
        assert!(matches!(err, ErrorKind::Denied { .. }), "{err:?}");
    }
    // There is no request from Zed to Jack to answer.
    let err = refused(&mut e, |e| {
        e.act(Actor::User(jack), T).respond_connection(zo, jo, true)
    });
    assert!(matches!(err, ErrorKind::NotFound { .. }), "{err:?}");
    ok(&mut e, |e| {
        e.act(Actor::User(zed), T).respond_connection(jo, zo, true)
    });
    let err = refused(&mut e, |e| {
        e.act(Actor::User(zed), T).respond_connection(jo, zo, true)
    });
    assert!(matches!(err, ErrorKind::NotFound { .. }), "{err:?}");
}

#[test]
fn a_rejected_connection_request_is_removed() {
    let mut e = engine(Downstream::Keep);
    let (jo, jack) = owner_account(&mut e, "Jack");
    let (yo, yan) = account(&mut e, "Yan");
    let hq = building(&mut e, jo, "HQ");
    ok(&mut e, |e| e.act(Actor::User(jack), T).request_connection(jo, yo));
    ok(&mut e, |e| {
        e.act(Actor::User(yan), T).respond_connection(jo, yo, false)
    });
    assert_eq!(e.connections().count(), 0);
    let err = refused(&mut e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::User(yan),
            ShareSpec::read_only(),
        )
    });
    assert!(matches!(err, ErrorKind::NotConnected { .. }), "{err:?}");
    // It may be asked again, from either side.
    ok(&mut e, |e| e.act(Actor::User(yan), T).request_connection(yo, jo));
    ok(&mut e, |e| {
        e.act(Actor::User(jack), T).respond_connection(yo, jo, true)
    });
    ok(&mut e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::User(yan),
            ShareSpec::read_only(),
        )
    });
}

#[test]
fn share_forward_needs_a_connection_between_forwarder_and_recipient() {
    let mut w = world(Downstream::Keep, &["Mary", "Bill"]);
    let (mary, bill) = (w.users[0], w.users[1]);
    let (mo, bo) = (w.orgs[0], w.orgs[1]);
    let root = w.hq.property;
    owner_shares(&mut w, root, mary, ShareSpec::full());
    // Jack is connected to Bill; Mary is not.
    let err = refused(&mut w.e, |e| {
        e.act(Actor::User(mary), T).share(
            root,
            Grantee::User(bill),
            ShareSpec::read_only(),
        )
    });
    assert!(matches!(err, ErrorKind::NotConnected { .. }), "{err:?}");
    connect(&mut w.e, mo, bo);
    share_accepted(&mut w.e, mary, root, bill, ShareSpec::read_only());
}

#[test]
fn without_required_connections_anyone_can_be_shared_with() {
    let mut e = presets::portfolio()
        .configure(|c| c.require_connection = false)
        .build()
        .expect("preset");
    let (jo, jack) = owner_account(&mut e, "Jack");
    let (_, zed) = account(&mut e, "Zed");
    let hq = building(&mut e, jo, "HQ");
    share_accepted(&mut e, jack, hq.property, zed, ShareSpec::read_only());
    allow(&e, zed, "read", hq.property);
}

// ----- ownership transfer (§5) ---------------------------------------------

struct Transfer {
    w: World,
    kate_org: OrgId,
    kate: UserId,
    mary_share: ShareId,
}

fn transfer_world() -> Transfer {
    let mut w = world(Downstream::Keep, &["Mary"]);
    let (kate_org, kate) = owner_account(&mut w.e, "Kate");
    let jack_org = w.jack_org;
    connect(&mut w.e, jack_org, kate_org);
    let (mary, root) = (w.users[0], w.hq.property);
    let mary_share = owner_shares(&mut w, root, mary, ShareSpec::full());
    Transfer { w, kate_org, kate, mary_share }
}

#[test]
fn only_the_owner_may_transfer() {
    let Transfer { mut w, kate_org, kate, .. } = transfer_world();
    let (mary, root) = (w.users[0], w.hq.property);
    deny(&w.e, mary, "transfer", root);
    let err = refused(&mut w.e, |e| {
        e.act(Actor::User(mary), T).transfer(root, kate_org)
    });
    assert!(matches!(err, ErrorKind::Denied { .. }), "{err:?}");
    let err = refused(&mut w.e, |e| {
        e.act(Actor::User(kate), T).transfer(root, kate_org)
    });
    assert!(matches!(err, ErrorKind::Denied { .. }), "{err:?}");
    let jack_org = w.jack_org;
    let kim = member(&mut w.e, jack_org, "kim@jack.example");
    let err = refused(&mut w.e, |e| {
        e.act(Actor::User(kim), T).transfer(root, kate_org)
    });
    assert!(matches!(err, ErrorKind::Denied { .. }), "{err:?}");
    assert_eq!(w.e.pending_transfer(root), None);
}

#[test]
fn a_transfer_needs_a_connection() {
    let Transfer { mut w, .. } = transfer_world();
    let (lo, _) = owner_account(&mut w.e, "Lone");
    let (jack, root) = (w.jack, w.hq.property);
    let err =
        refused(&mut w.e, |e| e.act(Actor::User(jack), T).transfer(root, lo));
    assert!(matches!(err, ErrorKind::NotConnected { .. }), "{err:?}");
}

#[test]
fn a_transfer_is_pending_until_the_recipient_accepts() {
    let Transfer { mut w, kate_org, kate, mary_share } = transfer_world();
    let (jack, jack_org, mary) = (w.jack, w.jack_org, w.users[0]);
    let hq = w.hq;
    ok(&mut w.e, |e| {
        e.act(Actor::User(jack), T).transfer(hq.property, kate_org)
    });
    assert_eq!(w.e.pending_transfer(hq.property), Some(kate_org));
    for o in hq.all() {
        assert_eq!(w.e.object(o).expect("object").org(), jack_org);
        allow(&w.e, jack, "delete", o);
        deny(&w.e, kate, "read", o);
    }
    // Only the recipient answers.
    for actor in [jack, mary] {
        let err = refused(&mut w.e, |e| {
            e.act(Actor::User(actor), T).respond_transfer(hq.property, true)
        });
        assert!(matches!(err, ErrorKind::Denied { .. }), "{err:?}");
    }
    // Rejecting leaves everything with Jack.
    ok(&mut w.e, |e| {
        e.act(Actor::User(kate), T).respond_transfer(hq.property, false)
    });
    assert_eq!(w.e.pending_transfer(hq.property), None);
    assert_eq!(w.e.object(hq.property).expect("object").org(), jack_org);
    allow(&w.e, jack, "transfer", hq.property);
    let err = refused(&mut w.e, |e| {
        e.act(Actor::User(kate), T).respond_transfer(hq.property, true)
    });
    assert!(matches!(err, ErrorKind::NotFound { .. }), "{err:?}");
    allow(&w.e, mary, "update", hq.property);
    assert_eq!(status(&w.e, mary_share), ShareStatus::Accepted);
}

#[test]
fn an_accepted_transfer_moves_ownership_and_keeps_other_shares() {
    let Transfer { mut w, kate_org, kate, mary_share } = transfer_world();
    let (jack, mary) = (w.jack, w.users[0]);
    let hq = w.hq;
    let before = w.e.share(mary_share).cloned();
    ok(&mut w.e, |e| {
        e.act(Actor::User(jack), T).transfer(hq.property, kate_org)
    });
    ok(&mut w.e, |e| {
        e.act(Actor::User(kate), T).respond_transfer(hq.property, true)
    });
    assert_eq!(w.e.pending_transfer(hq.property), None);
    for o in hq.all() {
        assert_eq!(w.e.object(o).expect("object").org(), kate_org);
        // The old owner loses access; the new one has every right.
        for a in ["read", "view_metrics", "delete", "transfer"] {
            deny(&w.e, jack, a, o);
        }
        allow(&w.e, kate, "read", o);
        allow(&w.e, kate, "delete", o);
        // Mary's share is unchanged.
        allow(&w.e, mary, "update", o);
        deny(&w.e, mary, "delete", o);
    }
    allow(&w.e, kate, "transfer", hq.property);
    assert_eq!(w.e.share(mary_share).cloned(), before);
    // Jack keeps access only if the new owner shares with him.
    let err = refused(&mut w.e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::User(mary),
            ShareSpec::read_only(),
        )
    });
    assert!(matches!(err, ErrorKind::Denied { .. }), "{err:?}");
    share_accepted(&mut w.e, kate, hq.property, jack, ShareSpec::read_only());
    allow(&w.e, jack, "read", hq.gas);
    deny(&w.e, jack, "update", hq.gas);
    // Kate, as owner, edits Mary's share.
    let lowered = ok(&mut w.e, |e| {
        e.act(Actor::User(kate), T).share(
            hq.property,
            Grantee::User(mary),
            ShareSpec::read_only(),
        )
    });
    assert_eq!(lowered, mary_share);
    deny(&w.e, mary, "update", hq.property);
}

#[test]
fn delete_and_transfer_are_never_reached_through_a_share() {
    let Transfer { mut w, kate_org, .. } = transfer_world();
    let mary = w.users[0];
    let hq = w.hq;
    for o in hq.all() {
        deny(&w.e, mary, "delete", o);
        deny(&w.e, mary, "transfer", o);
        let err = refused(&mut w.e, |e| {
            e.act(Actor::User(mary), T).delete_object(o)
        });
        assert!(matches!(err, ErrorKind::Denied { .. }), "{err:?}");
    }
    let err = refused(&mut w.e, |e| {
        e.act(Actor::User(mary), T).transfer(hq.property, kate_org)
    });
    assert!(matches!(err, ErrorKind::Denied { .. }), "{err:?}");
    // Not even a share giving Full on every type as Custom.
    let (jack, root) = (w.jack, hq.property);
    let all_full = ShareSpec::custom()
        .level("property", Level::Full)
        .level("energy_meter", Level::Full)
        .level("water_meter", Level::Full)
        .level("goal", Level::Full)
        .level("recognition", Level::Full);
    ok(&mut w.e, |e| {
        e.act(Actor::User(jack), T).share(root, Grantee::User(mary), all_full)
    });
    deny(&w.e, mary, "delete", root);
    deny(&w.e, mary, "transfer", root);
}

// ----- deletion ----------------------------------------------------------------

#[test]
fn deleting_the_root_removes_the_shares_of_its_subtree() {
    let mut c = chain(Downstream::Keep);
    let (jack, jack_org) = (c.jack, c.jack_org);
    let hq = c.hq;
    let annex = building(&mut c.e, jack_org, "Annex");
    let (mary, bill) = (c.user(MARY), c.user(BILL));
    let bill_org = c.orgs[BILL];
    connect(&mut c.e, jack_org, bill_org);
    // A meter share to Bill and an annex share to Bill, besides the chain.
    let meter =
        share_accepted(&mut c.e, jack, hq.gas, bill, ShareSpec::full());
    let other = share_accepted(
        &mut c.e,
        jack,
        annex.property,
        mary,
        ShareSpec::read_only(),
    );
    assert_eq!(c.e.shares().count(), 7);
    ok(&mut c.e, |e| e.act(Actor::User(jack), T).delete_object(hq.property));
    for o in hq.all() {
        assert!(c.e.object(o).is_none(), "subtree deleted");
    }
    let left: Vec<ShareId> = c.e.shares().map(|(id, _)| id).collect();
    assert_eq!(left, [other]);
    for id in c.shares.iter().chain([&meter]) {
        assert!(c.e.share(*id).is_none());
    }
    for u in c.people {
        assert!(c.e.shares_to(Grantee::User(u)).all(|id| id == other));
    }
    assert!(c.e.share_tree(hq.property).is_empty());
    allow(&c.e, mary, "read", annex.property);
}

#[test]
fn deleting_a_meter_removes_its_shares_and_overrides() {
    let mut w = world(Downstream::Keep, &["Mary", "Bill"]);
    let (jack, mary, bill) = (w.jack, w.users[0], w.users[1]);
    let hq = w.hq;
    let spec = ShareSpec::custom().object_level(hq.gas, Level::Full);
    let p = owner_shares(&mut w, hq.property, mary, spec);
    let m = owner_shares(&mut w, hq.gas, bill, ShareSpec::full());
    ok(&mut w.e, |e| e.act(Actor::User(jack), T).delete_object(hq.gas));
    assert!(w.e.share(m).is_none());
    let s = w.e.share(p).expect("property share stays");
    assert!(s.object_levels().is_empty(), "override of a deleted meter");
    allow(&w.e, mary, "read", hq.electric);
}
