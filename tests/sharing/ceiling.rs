//! Share forward and its ceiling (reference §4; SPEC §4 share rules): a
//! grantor never gives more than they hold, per type and per meter, gives
//! share-forward only if they hold it, and a violation is an error, never
//! a silent partial grant.

use super::support::*;

/// Jack shares HQ with Mary under `spec`; Mary and Bill are connected.
fn mary_holds(spec: ShareSpec) -> (World, UserId, UserId) {
    let mut w = world(Downstream::Keep, &["Mary", "Bill"]);
    let (mary, bill) = (w.users[0], w.users[1]);
    let (mo, bo) = (w.orgs[0], w.orgs[1]);
    connect(&mut w.e, mo, bo);
    let root = w.hq.property;
    owner_shares(&mut w, root, mary, spec);
    (w, mary, bill)
}

#[track_caller]
fn ceiling(
    w: &mut World,
    from: UserId,
    root: ObjectId,
    to: Grantee,
    spec: ShareSpec,
) -> (Level, Level) {
    let before = w.e.share_of(root, to).map(|id| w.e.share(id).cloned());
    let err = refused(&mut w.e, |e| {
        e.act(Actor::User(from), T).share(root, to, spec)
    });
    let after = w.e.share_of(root, to).map(|id| w.e.share(id).cloned());
    assert_eq!(before, after, "no partial grant");
    match err {
        ErrorKind::Ceiling { granted, held, .. } => (granted, held),
        other => panic!("expected a ceiling error, got {other:?}"),
    }
}

#[test]
fn read_only_with_share_forward_can_grant_only_read() {
    let (mut w, mary, bill) =
        mary_holds(ShareSpec::custom().share_forward(true));
    let root = w.hq.property;
    let to = Grantee::User(bill);
    assert_eq!(
        ceiling(&mut w, mary, root, to, ShareSpec::full()),
        (Level::Full, Level::Read)
    );
    let full_property = ShareSpec::custom().level("property", Level::Full);
    assert_eq!(
        ceiling(&mut w, mary, root, to, full_property),
        (Level::Full, Level::Read)
    );
    let one_meter = ShareSpec::custom().object_level(w.hq.gas, Level::Full);
    assert_eq!(
        ceiling(&mut w, mary, root, to, one_meter),
        (Level::Full, Level::Read)
    );
    // Read, in any form, goes through.
    let id = ok(&mut w.e, |e| {
        e.act(Actor::User(mary), T).share(root, to, ShareSpec::read_only())
    });
    assert_eq!(w.e.share(id).expect("share").grantor(), Grantor::User(mary));
    ok(&mut w.e, |e| e.act(Actor::User(bill), T).accept_share(id));
    allow(&w.e, bill, "read", w.hq.gas);
    deny(&w.e, bill, "add_bill", w.hq.gas);
}

#[test]
fn the_ceiling_applies_per_type() {
    let spec = ShareSpec::custom()
        .level("property", Level::Full)
        .level("energy_meter", Level::Read)
        .share_forward(true);
    let (mut w, mary, bill) = mary_holds(spec);
    let root = w.hq.property;
    let to = Grantee::User(bill);
    let meters_full = ShareSpec::custom()
        .level("property", Level::Full)
        .level("energy_meter", Level::Full);
    assert_eq!(
        ceiling(&mut w, mary, root, to, meters_full),
        (Level::Full, Level::Read)
    );
    let property_full =
        ShareSpec::custom().level("property", Level::Full).share_forward(true);
    let id = ok(&mut w.e, |e| {
        e.act(Actor::User(mary), T).share(root, to, property_full)
    });
    assert_eq!(level_of(&w.e, id, root), Level::Full);
}

#[test]
fn the_ceiling_applies_per_meter() {
    let hq_gas_read = |gas| {
        ShareSpec::custom()
            .level("energy_meter", Level::Full)
            .object_level(gas, Level::Read)
            .share_forward(true)
    };
    let mut w = world(Downstream::Keep, &["Mary", "Bill"]);
    let (mary, bill) = (w.users[0], w.users[1]);
    let (mo, bo) = (w.orgs[0], w.orgs[1]);
    connect(&mut w.e, mo, bo);
    let hq = w.hq;
    owner_shares(&mut w, hq.property, mary, hq_gas_read(hq.gas));
    let to = Grantee::User(bill);
    let all_meters = ShareSpec::custom().level("energy_meter", Level::Full);
    let err_levels = ceiling(&mut w, mary, hq.property, to, all_meters);
    assert_eq!(err_levels, (Level::Full, Level::Read));
    // The error names the meter over the ceiling.
    let err = w.e.act(Actor::User(mary), T).share(
        hq.property,
        to,
        ShareSpec::custom().level("energy_meter", Level::Full),
    );
    let msg = err.expect_err("ceiling").to_string();
    assert!(msg.contains("HQ gas"), "{msg}");
    // Sharing a single meter root is capped by that meter's level too.
    assert_eq!(
        ceiling(&mut w, mary, hq.gas, to, ShareSpec::full()),
        (Level::Full, Level::Read)
    );
    // Within the ceiling: Full on the electric meter, Read on gas.
    let ok_spec = ShareSpec::custom()
        .level("energy_meter", Level::Full)
        .object_level(hq.gas, Level::Read);
    let id = ok(&mut w.e, |e| {
        e.act(Actor::User(mary), T).share(hq.property, to, ok_spec)
    });
    ok(&mut w.e, |e| e.act(Actor::User(bill), T).accept_share(id));
    allow(&w.e, bill, "add_bill", hq.electric);
    deny(&w.e, bill, "add_bill", hq.gas);
}

#[test]
fn none_means_nothing_can_be_granted() {
    let spec = ShareSpec::exchange_data()
        .level("property", Level::Read)
        .share_forward(true);
    let (mut w, mary, bill) = mary_holds(spec);
    let root = w.hq.property;
    let to = Grantee::User(bill);
    // Custom defaults to Read on the meters Mary holds at None.
    assert_eq!(
        ceiling(&mut w, mary, root, to, ShareSpec::custom()),
        (Level::Read, Level::None)
    );
    assert_eq!(
        ceiling(&mut w, mary, root, to, ShareSpec::read_only()),
        (Level::Read, Level::None)
    );
    // Read on the property and None elsewhere stays within the ceiling.
    let ed = ShareSpec::exchange_data().level("property", Level::Read);
    ok(&mut w.e, |e| e.act(Actor::User(mary), T).share(root, to, ed));
}

#[test]
fn share_forward_only_if_held() {
    let spec = ShareSpec::custom()
        .level("property", Level::Full)
        .level("energy_meter", Level::Full);
    let (mut w, mary, bill) = mary_holds(spec);
    let root = w.hq.property;
    let err = refused(&mut w.e, |e| {
        e.act(Actor::User(mary), T).share(
            root,
            Grantee::User(bill),
            ShareSpec::read_only(),
        )
    });
    assert!(matches!(err, ErrorKind::Denied { .. }), "{err:?}");
    // A holder of share-forward may pass share-forward on.
    let (mut w, mary, bill) =
        mary_holds(ShareSpec::custom().share_forward(true));
    let root = w.hq.property;
    let fwd = ShareSpec::custom().share_forward(true);
    let id = share_accepted(&mut w.e, mary, root, bill, fwd);
    assert!(w.e.share(id).expect("share").share_forward());
}

#[test]
fn a_pending_share_gives_no_share_forward() {
    let mut w = world(Downstream::Keep, &["Mary", "Bill"]);
    let (jack, mary, bill) = (w.jack, w.users[0], w.users[1]);
    let (mo, bo) = (w.orgs[0], w.orgs[1]);
    connect(&mut w.e, mo, bo);
    let root = w.hq.property;
    let id = ok(&mut w.e, |e| {
        e.act(Actor::User(jack), T).share(
            root,
            Grantee::User(mary),
            ShareSpec::full(),
        )
    });
    let err = refused(&mut w.e, |e| {
        e.act(Actor::User(mary), T).share(
            root,
            Grantee::User(bill),
            ShareSpec::read_only(),
        )
    });
    assert!(matches!(err, ErrorKind::Denied { .. }), "{err:?}");
    ok(&mut w.e, |e| e.act(Actor::User(mary), T).accept_share(id));
    share_accepted(&mut w.e, mary, root, bill, ShareSpec::read_only());
}

#[test]
fn share_forward_on_a_meter_does_not_reach_the_property() {
    let mut w = world(Downstream::Keep, &["Mary", "Bill"]);
    let (mary, bill) = (w.users[0], w.users[1]);
    let (mo, bo) = (w.orgs[0], w.orgs[1]);
    connect(&mut w.e, mo, bo);
    let hq = w.hq;
    owner_shares(&mut w, hq.electric, mary, ShareSpec::full());
    let err = refused(&mut w.e, |e| {
        e.act(Actor::User(mary), T).share(
            hq.property,
            Grantee::User(bill),
            ShareSpec::read_only(),
        )
    });
    assert!(matches!(err, ErrorKind::Denied { .. }), "{err:?}");
    let err = refused(&mut w.e, |e| {
        e.act(Actor::User(mary), T).share(
            hq.gas,
            Grantee::User(bill),
            ShareSpec::read_only(),
        )
    });
    assert!(matches!(err, ErrorKind::Denied { .. }), "{err:?}");
    share_accepted(&mut w.e, mary, hq.electric, bill, ShareSpec::full());
    allow(&w.e, bill, "add_bill", hq.electric);
    deny(&w.e, bill, "read", hq.property);
}

#[test]
fn the_ceiling_holds_per_type_for_meters_not_yet_created() {
    // Mary holds Read on water meters; HQ has none with a Full level yet.
    // Granting Full on the type would let Bill exceed Mary as soon as the
    // owner adds a water meter, so it is a ceiling violation now.
    let mut w = world(Downstream::Keep, &["Mary", "Bill"]);
    let (mary, bill) = (w.users[0], w.users[1]);
    let (mo, bo) = (w.orgs[0], w.orgs[1]);
    connect(&mut w.e, mo, bo);
    let org = w.jack_org;
    let bare = object(&mut w.e, org, "property", "Bare", &[]);
    let spec = ShareSpec::custom()
        .level("property", Level::Full)
        .level("water_meter", Level::Read)
        .share_forward(true);
    owner_shares(&mut w, bare, mary, spec);
    let wanted = ShareSpec::custom()
        .level("property", Level::Full)
        .level("water_meter", Level::Full);
    let result =
        w.e.act(Actor::User(mary), T).share(bare, Grantee::User(bill), wanted);
    if let Ok(r) = &result {
        // Show the consequence before failing.
        w.e.act(Actor::User(bill), T).accept_share(r.value).expect("accept");
        let m = object(&mut w.e, org, "water_meter", "Bare water", &[bare]);
        let (bill_bills, mary_bills) =
            (can(&w.e, bill, "add_bill", m), can(&w.e, mary, "add_bill", m));
        panic!(
            "type ceiling not enforced: Bill add_bill={bill_bills}, \
             Mary add_bill={mary_bills} on a new water meter"
        );
    }
    let err = result.expect_err("ceiling");
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Ceiling { granted: Level::Full, held: Level::Read, .. }
        ),
        "{err:?}"
    );
}

#[test]
fn edits_are_capped_by_the_editor() {
    let mut c = chain(Downstream::Keep);
    let (jane, nick) = (c.user(JANE), c.user(NICK));
    let root = c.hq.property;
    // Jane holds Read on the property; she may not raise Nick above it.
    let raised = ShareSpec::custom()
        .level("property", Level::Full)
        .level("energy_meter", Level::Full)
        .share_forward(true);
    let before = c.e.share(c.share(NICK)).cloned();
    let err = refused(&mut c.e, |e| {
        e.act(Actor::User(jane), T).share(root, Grantee::User(nick), raised)
    });
    assert!(
        matches!(err, ErrorKind::Ceiling { granted: Level::Full, .. }),
        "{err:?}"
    );
    assert_eq!(c.e.share(c.share(NICK)).cloned(), before);
    // The owner is never capped.
    let jack = c.jack;
    let raised = ShareSpec::custom()
        .level("property", Level::Full)
        .level("energy_meter", Level::Full)
        .share_forward(true);
    ok(&mut c.e, |e| {
        e.act(Actor::User(jack), T).share(root, Grantee::User(nick), raised)
    });
    allow(&c.e, nick, "update", root);
}

#[test]
fn an_owner_member_without_the_administrator_role_cannot_share() {
    let mut w = world(Downstream::Keep, &["Mary"]);
    let jack_org = w.jack_org;
    let kim = member(&mut w.e, jack_org, "kim@jack.example");
    let (mary, root) = (w.users[0], w.hq.property);
    let err = refused(&mut w.e, |e| {
        e.act(Actor::User(kim), T).share(
            root,
            Grantee::User(mary),
            ShareSpec::read_only(),
        )
    });
    assert!(matches!(err, ErrorKind::Denied { .. }), "{err:?}");
}

#[test]
fn share_chains_are_bounded_by_the_depth_limit() {
    // Limit 3: Jack → A (1) → B (2) → C (3) is fine; C → D is refused,
    // naming the limit, and changes nothing.
    let mut e = presets::portfolio()
        .configure(|c| c.limits.max_share_depth = 3)
        .build()
        .expect("preset builds");
    let (jo, jack) = owner_account(&mut e, "Jack");
    let hq = building(&mut e, jo, "HQ");
    let mut users = Vec::new();
    for n in ["A", "B", "C", "D"] {
        let (o, u) = account(&mut e, n);
        connect(&mut e, jo, o);
        users.push((o, u));
    }
    for pair in users.windows(2) {
        connect(&mut e, pair[0].0, pair[1].0);
    }
    let mut from = jack;
    for (_, to) in &users[..3] {
        share_accepted(&mut e, from, hq.property, *to, ShareSpec::full());
        from = *to;
    }
    let (c, d) = (users[2].1, users[3].1);
    let before = all_shares(&e);
    let err = refused(&mut e, |e| {
        e.act(Actor::User(c), T).share(
            hq.property,
            Grantee::User(d),
            ShareSpec::read_only(),
        )
    });
    assert!(
        matches!(err, ErrorKind::Limit { what: "share chain depth", max: 3 }),
        "{err:?}"
    );
    assert_eq!(all_shares(&e), before);
    deny(&e, d, "read", hq.property);
    // The explained chain of C's access has the three shares.
    let r = e.explain(Subject::User(c), action(&e, "read"), hq.property);
    match r.reasons() {
        [Reason::Share { chain, .. }] => assert_eq!(chain.len(), 3),
        other => panic!("expected one share reason, got {other:?}"),
    }
}
