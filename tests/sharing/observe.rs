//! Audit events and revisions of share operations, `explain` with the
//! share chain, the share tree, and the queries over shares.

use super::support::*;

// ----- audit ------------------------------------------------------------

#[test]
fn every_share_operation_is_an_audited_event() {
    let mut e = engine(Downstream::Keep);
    let (jo, jack) = owner_account(&mut e, "Jack");
    let (mo, mary) = account(&mut e, "Mary");
    let hq = building(&mut e, jo, "HQ");
    let start = e.events().len();
    let at = Timestamp::from_unix_millis(42);
    let r0 = e.revision().get();
    e.act(Actor::User(jack), at).request_connection(jo, mo).expect("request");
    e.act(Actor::User(mary), at)
        .respond_connection(jo, mo, true)
        .expect("accept");
    let spec = ShareSpec::custom().level("property", Level::Full);
    let to = Grantee::User(mary);
    let id = e
        .act(Actor::User(jack), at)
        .share(hq.property, to, spec.clone())
        .expect("share")
        .value;
    e.act(Actor::User(mary), at).accept_share(id).expect("accept share");
    // A refused attempt: Mary has no share-forward.
    let err = e
        .act(Actor::User(mary), at)
        .share(hq.gas, Grantee::User(jack), ShareSpec::read_only())
        .expect_err("refused");
    e.act(Actor::User(jack), at).unshare(id).expect("unshare");
    let evs = &e.events()[start..];
    let ops: Vec<Op> = evs.iter().map(|ev| ev.op.clone()).collect();
    assert_eq!(
        ops,
        [
            Op::RequestConnection { from: jo, to: mo },
            Op::RespondConnection { from: jo, to: mo, accept: true },
            Op::Share { root: hq.property, grantee: to, spec },
            Op::AcceptShare { share: id },
            Op::Share {
                root: hq.gas,
                grantee: Grantee::User(jack),
                spec: ShareSpec::read_only()
            },
            Op::Unshare { share: id },
        ]
    );
    let names: Vec<&str> = ops.iter().map(Op::name).collect();
    assert_eq!(
        names,
        [
            "request connection",
            "respond to connection",
            "share",
            "accept share",
            "share",
            "unshare"
        ]
    );
    let revisions: Vec<u64> = evs.iter().map(|ev| ev.revision.get()).collect();
    assert_eq!(revisions, [r0 + 1, r0 + 2, r0 + 3, r0 + 4, r0 + 4, r0 + 5]);
    let actors: Vec<Actor> = evs.iter().map(|ev| ev.actor).collect();
    assert_eq!(
        actors,
        [jack, mary, jack, mary, mary, jack].map(Actor::User).to_vec()
    );
    assert!(evs.iter().all(|ev| ev.at == at));
    for (i, ev) in evs.iter().enumerate() {
        assert_eq!(ev.seq, (start + i) as u64);
        assert_eq!(ev.applied(), i != 4);
    }
    match &evs[4].outcome {
        Outcome::Refused(r) => {
            assert_eq!(r.code, "denied");
            assert_eq!(r.code, err.code());
            assert_eq!(r.message, err.to_string());
        }
        Outcome::Applied => panic!("refusal logged as applied"),
    }
    assert_eq!(e.revision().get(), r0 + 5);
}

#[test]
fn refusals_are_logged_with_their_codes() {
    let mut c = chain(Downstream::Restrict);
    let (jack, jane, nick) = (c.jack, c.user(JANE), c.user(NICK));
    let root = c.hq.property;
    let rev = c.e.revision();
    let raised = ShareSpec::custom().level("property", Level::Full);
    let _ =
        c.e.act(Actor::User(jane), T).share(root, Grantee::User(nick), raised);
    let mary_share = c.share(MARY);
    let _ = c.e.act(Actor::User(jack), T).unshare(mary_share);
    let (_, zed) = account(&mut c.e, "Zed");
    let rev2 = c.e.revision();
    let _ = c.e.act(Actor::User(jack), T).share(
        root,
        Grantee::User(zed),
        ShareSpec::read_only(),
    );
    let codes: Vec<String> =
        c.e.events()
            .iter()
            .rev()
            .filter_map(|ev| match &ev.outcome {
                Outcome::Refused(r) => Some(r.code.clone()),
                Outcome::Applied => None,
            })
            .take(3)
            .collect();
    assert_eq!(codes, ["not_connected", "dependent_shares", "ceiling"]);
    assert_eq!(c.e.revision(), rev2);
    assert_eq!(rev2.get(), rev.get() + 2, "only the account was created");
}

#[test]
fn a_cascade_is_one_event_and_one_revision() {
    let mut c = chain(Downstream::Cascade);
    let jack = c.jack;
    let logged = c.e.events().len();
    let mary_share = c.share(MARY);
    let r =
        c.e.act(Actor::User(jack), T).unshare(mary_share).expect("unshare");
    assert_eq!(c.e.events().len(), logged + 1);
    assert_eq!(c.e.events()[logged].op, Op::Unshare { share: mary_share });
    assert_eq!(c.e.events()[logged].revision, r.revision);
    assert_eq!(c.e.shares().count(), 0);
}

#[test]
fn replaying_the_applied_share_events_reproduces_the_state() {
    for policy in [Downstream::Keep, Downstream::Cascade, Downstream::Restrict]
    {
        let mut c = chain(policy);
        let (jack, hq) = (c.jack, c.hq);
        let bill = c.user(BILL);
        let _ = c.e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::User(bill),
            ShareSpec::custom().share_forward(true),
        );
        let nick_share = c.share(NICK);
        let _ = c.e.act(Actor::User(jack), T).unshare(nick_share);
        let mut fresh = engine(policy);
        for ev in c.e.events().iter().filter(|ev| ev.applied()) {
            let r = fresh.apply(ev.actor, ev.at, ev.op.clone());
            assert_eq!(r.expect("replayed"), ev.revision, "{policy:?}");
        }
        assert_eq!(fresh.revision(), c.e.revision());
        assert_eq!(all_shares(&fresh), all_shares(&c.e), "{policy:?}");
        assert_eq!(decisions(&fresh), decisions(&c.e), "{policy:?}");
        assert!(fresh.index_is_consistent());
    }
}

// ----- explain ----------------------------------------------------------

#[test]
fn explain_gives_the_share_chain_from_the_owner() {
    let c = chain(Downstream::Keep);
    let hq = c.hq;
    let add_bill = action(&c.e, "add_bill");
    for i in 0..5 {
        let r = c.e.explain(Subject::User(c.user(i)), add_bill, hq.electric);
        assert_eq!(r.decision(), Decision::Allow);
        assert_eq!(
            r.reasons(),
            [Reason::Share {
                share: c.share(i),
                chain: c.shares[..=i].to_vec()
            }],
            "chain of person {i}"
        );
        let text = c.e.render(&r);
        assert!(text.starts_with("allow"), "{text}");
        assert!(text.contains("mary@example.com"), "{text}");
    }
    // Chains start with an owner grant and link grantor to grantee.
    let first = c.e.share(c.share(MARY)).expect("share");
    assert_eq!(first.grantor(), Grantor::Owner);
    for pair in c.shares.windows(2) {
        let up = c.e.share(pair[0]).expect("share");
        let down = c.e.share(pair[1]).expect("share");
        assert_eq!(
            Grantee::User(match down.grantor() {
                Grantor::User(u) => u,
                Grantor::Owner => panic!("owner in the middle"),
            }),
            up.grantee()
        );
    }
    // The owner is allowed through the role, not a share.
    let r = c.e.explain(Subject::User(c.jack), add_bill, hq.electric);
    assert!(!r.reasons().is_empty());
    assert!(r.reasons().iter().all(|x| matches!(x, Reason::Role { .. })));
    // Denied: no reasons, and why.
    let update = action(&c.e, "update");
    let r = c.e.explain(Subject::User(c.user(EMMA)), update, hq.property);
    assert_eq!(r.decision(), Decision::Deny);
    assert!(r.reasons().is_empty());
    assert_eq!(r.denial(), Some(Denial::NoMatchingGrant));
}

#[test]
fn explain_after_keep_removal_starts_where_the_chain_breaks() {
    let mut c = chain(Downstream::Keep);
    let jack = c.jack;
    let mary_share = c.share(MARY);
    ok(&mut c.e, |e| e.act(Actor::User(jack), T).unshare(mary_share));
    let read = action(&c.e, "read");
    let r = c.e.explain(Subject::User(c.user(NICK)), read, c.hq.property);
    assert_eq!(
        r.reasons(),
        [Reason::Share {
            share: c.share(NICK),
            chain: vec![c.share(BILL), c.share(JANE), c.share(NICK)]
        }]
    );
}

#[test]
fn explain_names_the_organization_share() {
    let mut w = world(Downstream::Keep, &["Provider"]);
    let (prov, pat, jack, hq) = (w.orgs[0], w.users[0], w.jack, w.hq);
    let spec = ShareSpec::exchange_data().level("energy_meter", Level::Read);
    let id = ok(&mut w.e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::Org(prov),
            spec,
        )
    });
    ok(&mut w.e, |e| e.act(Actor::User(pat), T).accept_share(id));
    let r = w.e.explain(Subject::User(pat), action(&w.e, "read"), hq.gas);
    assert_eq!(r.reasons(), [Reason::Share { share: id, chain: vec![id] }]);
}

#[test]
fn explain_finds_the_chain_from_the_owner_past_a_circle() {
    // Pat holds share-forward through her organization's share from the
    // owner; she forwards to Kim, and Kim forwards back to Pat in person.
    // Kim's chain must run through the organization share, not around the
    // circle of the two personal shares.
    let mut w = world(Downstream::Cascade, &["Provider", "Installer"]);
    let (prov, inst, jack, hq) = (w.orgs[0], w.orgs[1], w.jack, w.hq);
    let (pat, kim) = (w.users[0], w.users[1]);
    connect(&mut w.e, prov, inst);
    let spec = || ShareSpec::custom().share_forward(true);
    let org_share = ok(&mut w.e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::Org(prov),
            spec(),
        )
    });
    ok(&mut w.e, |e| e.act(Actor::User(pat), T).accept_share(org_share));
    let to_kim = share_accepted(&mut w.e, pat, hq.property, kim, spec());
    let back = share_accepted(&mut w.e, kim, hq.property, pat, spec());
    let read = action(&w.e, "read");
    let r = w.e.explain(Subject::User(kim), read, hq.gas);
    assert_eq!(
        r.reasons(),
        [Reason::Share { share: to_kim, chain: vec![org_share, to_kim] }]
    );
    // Pat reaches it twice: through her organization, and in person
    // through Kim, whose chain again starts at the owner.
    let r = w.e.explain(Subject::User(pat), read, hq.gas);
    let chains: Vec<Vec<ShareId>> = r
        .reasons()
        .iter()
        .filter_map(|x| match x {
            Reason::Share { chain, .. } => Some(chain.clone()),
            _ => None,
        })
        .collect();
    assert!(chains.contains(&vec![org_share, to_kim, back]), "{chains:?}");
}

// ----- share tree -------------------------------------------------------

#[test]
fn the_share_tree_follows_the_chain() {
    let c = chain(Downstream::Keep);
    let tree = c.e.share_tree(c.hq.property);
    let got: Vec<(ShareId, usize, bool)> =
        tree.iter().map(|n| (n.share, n.depth, n.detached)).collect();
    let want: Vec<(ShareId, usize, bool)> =
        (0..5).map(|i| (c.share(i), i, false)).collect();
    assert_eq!(got, want);
    for (i, n) in tree.iter().enumerate() {
        assert_eq!(n.grantee, Grantee::User(c.user(i)));
        let grantor =
            if i == 0 { Grantor::Owner } else { Grantor::User(c.user(i - 1)) };
        assert_eq!(n.grantor, grantor);
    }
}

#[test]
fn the_share_tree_branches_and_covers_the_subtree() {
    let mut w = world(Downstream::Keep, &["Mary", "Olga", "Bill", "Ivy"]);
    let (mary, olga, bill, ivy) =
        (w.users[0], w.users[1], w.users[2], w.users[3]);
    let (mo, bo, io) = (w.orgs[0], w.orgs[2], w.orgs[3]);
    connect(&mut w.e, mo, bo);
    connect(&mut w.e, mo, io);
    let hq = w.hq;
    let m = owner_shares(&mut w, hq.property, mary, ShareSpec::full());
    let o = owner_shares(&mut w, hq.property, olga, ShareSpec::read_only());
    let b = share_accepted(
        &mut w.e,
        mary,
        hq.property,
        bill,
        ShareSpec::read_only(),
    );
    // A meter share forwarded by Mary hangs under her property share.
    let i =
        share_accepted(&mut w.e, mary, hq.electric, ivy, ShareSpec::full());
    let tree = w.e.share_tree(hq.property);
    assert_eq!(tree.len(), 4);
    let depth =
        |id: ShareId| tree.iter().find(|n| n.share == id).map(|n| n.depth);
    assert_eq!(depth(m), Some(0));
    assert_eq!(depth(o), Some(0));
    assert_eq!(depth(b), Some(1));
    assert_eq!(depth(i), Some(1));
    assert!(tree.iter().all(|n| !n.detached));
    // Pre-order: every child comes after its parent, before the parent's
    // next sibling.
    let pos =
        |id: ShareId| tree.iter().position(|n| n.share == id).expect("node");
    assert!(pos(b) > pos(m) && pos(i) > pos(m));
    let (first, second) = if pos(m) < pos(o) { (m, o) } else { (o, m) };
    if first == m {
        assert!(pos(b) < pos(second) && pos(i) < pos(second));
    }
    // The tree of the meter lists only the shares rooted in its subtree.
    let meter_tree = w.e.share_tree(hq.electric);
    assert_eq!(meter_tree.iter().map(|n| n.share).collect::<Vec<_>>(), [i]);
}

#[test]
fn the_share_tree_marks_shares_kept_after_their_source_went() {
    let mut c = chain(Downstream::Keep);
    let jack = c.jack;
    let mary_share = c.share(MARY);
    ok(&mut c.e, |e| e.act(Actor::User(jack), T).unshare(mary_share));
    let tree = c.e.share_tree(c.hq.property);
    let got: Vec<(ShareId, usize, bool)> =
        tree.iter().map(|n| (n.share, n.depth, n.detached)).collect();
    assert_eq!(
        got,
        [
            (c.share(BILL), 0, true),
            (c.share(JANE), 1, false),
            (c.share(NICK), 2, false),
            (c.share(EMMA), 3, false),
        ]
    );
}

// ----- allowed actions and lookups ---------------------------------------

#[test]
fn allowed_actions_are_the_tabs_to_show() {
    let mut w = world(Downstream::Keep, &["Ro", "Full", "Meters", "Ex"]);
    let (ro, full, meters, ex) =
        (w.users[0], w.users[1], w.users[2], w.users[3]);
    let hq = w.hq;
    owner_shares(&mut w, hq.property, ro, ShareSpec::read_only());
    owner_shares(&mut w, hq.property, full, ShareSpec::full());
    let spec = ShareSpec::custom()
        .level("property", Level::Full)
        .level("energy_meter", Level::Read)
        .level("water_meter", Level::Full)
        .object_level(hq.gas, Level::Full);
    owner_shares(&mut w, hq.property, meters, spec);
    let spec = ShareSpec::exchange_data().object_level(hq.water, Level::Full);
    owner_shares(&mut w, hq.property, ex, spec);
    let e = &w.e;
    let s = Subject::User;
    assert_eq!(tabs(e, s(ro), hq.electric), names(&["read", "view_metrics"]));
    assert_eq!(
        tabs(e, s(meters), hq.property),
        names(&[
            "create",
            "read",
            "update",
            "view_metrics",
            "add_bill",
            "add_meter",
            "edit_meter",
            "delete_meter",
            "select_water_meters",
        ])
    );
    assert!(!tabs(e, s(meters), hq.electric).contains("add_bill"));
    assert!(tabs(e, s(meters), hq.gas).contains("add_bill"));
    assert_eq!(tabs(e, s(ex), hq.property), names(&["view_metrics"]));
    assert!(tabs(e, s(ex), hq.water).contains("add_bill"));
    assert!(tabs(e, s(full), hq.gas).contains("add_bill"));
    let owner = tabs(e, s(w.jack), hq.property);
    let fulls = tabs(e, s(full), hq.property);
    let only_owner: Vec<&String> = owner.difference(&fulls).collect();
    assert_eq!(only_owner, ["delete", "grant", "transfer"]);
    assert!(tabs(e, Subject::Anonymous, hq.property).is_empty());
}

#[test]
fn subjects_for_lists_share_holders() {
    let mut w = world(Downstream::Keep, &["Mary", "Provider", "Bill"]);
    let (mary, prov, pat, bill) =
        (w.users[0], w.orgs[1], w.users[1], w.users[2]);
    let quinn = member(&mut w.e, prov, "quinn@provider.example");
    let (jack, hq) = (w.jack, w.hq);
    owner_shares(&mut w, hq.property, mary, ShareSpec::full());
    let spec =
        ShareSpec::exchange_data().object_level(hq.electric, Level::Full);
    let id = ok(&mut w.e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::Org(prov),
            spec,
        )
    });
    ok(&mut w.e, |e| e.act(Actor::User(quinn), T).accept_share(id));
    // Bill's share is pending.
    ok(&mut w.e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::User(bill),
            ShareSpec::full(),
        )
    });
    let add_bill = action(&w.e, "add_bill");
    let mut want = vec![jack, mary, pat, quinn];
    want.sort();
    assert_eq!(w.e.subjects_for(add_bill, hq.electric), want);
    let mut want = vec![jack, mary];
    want.sort();
    assert_eq!(w.e.subjects_for(add_bill, hq.gas), want);
    let metrics = action(&w.e, "view_metrics");
    let mut want = vec![jack, mary, pat, quinn];
    want.sort();
    assert_eq!(w.e.subjects_for(metrics, hq.property), want);
}

#[test]
fn objects_for_lists_objects_reached_through_shares() {
    let mut w = world(Downstream::Keep, &["Mary"]);
    let mary = w.users[0];
    let hq = w.hq;
    let spec = ShareSpec::custom()
        .level("energy_meter", Level::Read)
        .object_level(hq.gas, Level::Full);
    owner_shares(&mut w, hq.property, mary, spec);
    let e = &w.e;
    let s = Subject::User(mary);
    let mut meters = vec![hq.electric, hq.gas];
    meters.sort();
    assert_eq!(
        e.objects_for(s, action(e, "read"), ty(e, "energy_meter")),
        meters
    );
    assert_eq!(
        e.objects_for(s, action(e, "add_bill"), ty(e, "energy_meter")),
        [hq.gas]
    );
    assert_eq!(
        e.objects_for(s, action(e, "read"), ty(e, "property")),
        [hq.property]
    );
    assert!(e
        .objects_for(s, action(e, "update"), ty(e, "property"))
        .is_empty());
}

#[test]
fn objects_for_an_anonymous_caller_lists_public_shares() {
    let mut w = world(Downstream::Keep, &[]);
    let (jack, hq) = (w.jack, w.hq);
    let id = ok(&mut w.e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::Public,
            ShareSpec::read_only(),
        )
    });
    if status(&w.e, id) == ShareStatus::Pending {
        ok(&mut w.e, |e| e.act(Actor::System, T).accept_share(id));
    }
    let e = &w.e;
    assert!(subject_can(e, Subject::Anonymous, "read", hq.property));
    assert_eq!(
        e.objects_for(
            Subject::Anonymous,
            action(e, "read"),
            ty(e, "property")
        ),
        [hq.property]
    );
}

#[test]
fn check_batch_agrees_with_check_on_shares() {
    let c = chain(Downstream::Keep);
    let mut queries = Vec::new();
    for u in c.people.iter().chain([&c.jack]) {
        for a in ACTIONS {
            for o in c.hq.all() {
                queries.push((Subject::User(*u), action(&c.e, a), o));
            }
        }
    }
    let mut out = Vec::new();
    c.e.check_batch(&queries, &mut out);
    let single: Vec<Decision> =
        queries.iter().map(|(s, a, o)| c.e.check(*s, *a, *o)).collect();
    assert_eq!(out, single);
    assert!(out.contains(&Decision::Allow) && out.contains(&Decision::Deny));
}
