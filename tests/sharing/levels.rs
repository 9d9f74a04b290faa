//! The four share kinds, the derived operation rules and public shares
//! (seed 001; reference §2.1, §2.2).

use super::support::*;

// ----- Read Only (§2.1) -------------------------------------------------

#[test]
fn read_only_reads_every_type_but_changes_nothing() {
    let mut w = world(Downstream::Keep, &["Mary"]);
    let mary = w.users[0];
    let hq = w.hq;
    owner_shares(&mut w, hq.property, mary, ShareSpec::read_only());
    let e = &w.e;
    for o in hq.all() {
        allow(e, mary, "read", o);
        allow(e, mary, "view_metrics", o);
        deny(e, mary, "update", o);
    }
    for meter in [hq.electric, hq.gas, hq.water] {
        deny(e, mary, "add_bill", meter);
    }
    for a in ["add_meter", "edit_meter", "delete_meter"] {
        deny(e, mary, a, hq.property);
    }
    assert_eq!(
        tabs(e, Subject::User(mary), hq.property),
        names(&["read", "view_metrics"])
    );
}

#[test]
fn read_only_has_no_share_forward() {
    let mut w = world(Downstream::Keep, &["Mary", "Bill"]);
    let (mary, bill) = (w.users[0], w.users[1]);
    let (mary_org, bill_org) = (w.orgs[0], w.orgs[1]);
    connect(&mut w.e, mary_org, bill_org);
    let root = w.hq.property;
    let id = owner_shares(&mut w, root, mary, ShareSpec::read_only());
    assert!(!w.e.share(id).expect("share").share_forward());
    assert_eq!(w.e.share(id).expect("share").kind(), ShareKind::ReadOnly);
    for spec in [ShareSpec::read_only(), ShareSpec::custom()] {
        let err = refused(&mut w.e, |e| {
            e.act(Actor::User(mary), T).share(root, Grantee::User(bill), spec)
        });
        assert!(matches!(err, ErrorKind::Denied { .. }), "{err:?}");
    }
    assert_eq!(w.e.share_of(root, Grantee::User(bill)), None);
}

#[test]
fn read_only_and_full_specs_are_fixed() {
    let mut w = world(Downstream::Keep, &["Mary"]);
    let (jack, mary, root) = (w.jack, w.users[0], w.hq.property);
    let bad = [
        ShareSpec::read_only().share_forward(true),
        ShareSpec::read_only().level("energy_meter", Level::Full),
        ShareSpec::read_only().object_level(w.hq.electric, Level::None),
        ShareSpec::full().share_forward(false),
        ShareSpec::full().level("property", Level::Read),
        ShareSpec::full().object_level(w.hq.gas, Level::Read),
    ];
    for spec in bad {
        let err = refused(&mut w.e, |e| {
            e.act(Actor::User(jack), T).share(root, Grantee::User(mary), spec)
        });
        assert!(matches!(err, ErrorKind::Invalid { .. }), "{err:?}");
    }
}

// ----- Full Access (§2.1, §2.2 rules 6 and 7) ----------------------------

#[test]
fn full_access_does_everything_but_delete_and_transfer() {
    let mut w = world(Downstream::Keep, &["Mary"]);
    let mary = w.users[0];
    let hq = w.hq;
    let id = owner_shares(&mut w, hq.property, mary, ShareSpec::full());
    assert!(w.e.share(id).expect("share").share_forward());
    let e = &w.e;
    for o in hq.all() {
        allow(e, mary, "read", o);
        allow(e, mary, "update", o);
        allow(e, mary, "view_metrics", o);
        for a in ["delete", "transfer", "grant", "revoke"] {
            deny(e, mary, a, o);
        }
    }
    for meter in [hq.electric, hq.gas, hq.water] {
        allow(e, mary, "add_bill", meter);
    }
    assert_eq!(
        tabs(e, Subject::User(mary), hq.property),
        names(&[
            "create",
            "read",
            "update",
            "view_metrics",
            "add_bill",
            "add_meter",
            "edit_meter",
            "delete_meter",
            "select_energy_meters",
            "select_water_meters",
        ])
    );
    // The owner can do what Mary can, and delete and transfer besides.
    let jack = tabs(e, Subject::User(w.jack), hq.property);
    for a in ["delete", "transfer", "add_meter", "select_energy_meters"] {
        assert!(jack.contains(a), "owner lacks {a}");
    }
}

#[test]
fn full_access_comes_with_share_forward() {
    let mut w = world(Downstream::Keep, &["Mary", "Bill"]);
    let (mary, bill) = (w.users[0], w.users[1]);
    let (mary_org, bill_org) = (w.orgs[0], w.orgs[1]);
    connect(&mut w.e, mary_org, bill_org);
    let hq = w.hq;
    owner_shares(&mut w, hq.property, mary, ShareSpec::full());
    let id =
        share_accepted(&mut w.e, mary, hq.property, bill, ShareSpec::full());
    let s = w.e.share(id).expect("share");
    assert_eq!(s.grantor(), Grantor::User(mary));
    assert_eq!(s.kind(), ShareKind::Full);
    allow(&w.e, bill, "add_bill", hq.electric);
    allow(&w.e, bill, "update", hq.property);
    deny(&w.e, bill, "delete", hq.property);
}

// ----- Custom Access (§2.1) ----------------------------------------------

#[test]
fn custom_defaults_to_read_on_every_type_without_share_forward() {
    let mut w = world(Downstream::Keep, &["Mary", "Bill"]);
    let (mary, bill) = (w.users[0], w.users[1]);
    let (mary_org, bill_org) = (w.orgs[0], w.orgs[1]);
    connect(&mut w.e, mary_org, bill_org);
    let hq = w.hq;
    let id = owner_shares(&mut w, hq.property, mary, ShareSpec::custom());
    let s = w.e.share(id).expect("share");
    assert_eq!(s.kind(), ShareKind::Custom);
    assert!(!s.share_forward());
    assert_eq!(ShareKind::Custom.default_level(), Level::Read);
    for o in hq.all() {
        assert_eq!(level_of(&w.e, id, o), Level::Read);
        allow(&w.e, mary, "read", o);
        deny(&w.e, mary, "update", o);
    }
    let err = refused(&mut w.e, |e| {
        e.act(Actor::User(mary), T).share(
            hq.property,
            Grantee::User(bill),
            ShareSpec::custom(),
        )
    });
    assert!(matches!(err, ErrorKind::Denied { .. }), "{err:?}");
}

#[test]
fn custom_levels_per_type_and_per_meter() {
    let mut w = world(Downstream::Keep, &["Mary"]);
    let mary = w.users[0];
    let hq = w.hq;
    let spec = ShareSpec::custom()
        .level("property", Level::Full)
        .level("energy_meter", Level::Read)
        .level("goal", Level::None)
        .object_level(hq.gas, Level::Full)
        .object_level(hq.water, Level::None);
    let id = owner_shares(&mut w, hq.property, mary, spec);
    let e = &w.e;
    let expected = [
        (hq.property, Level::Full),
        (hq.electric, Level::Read),
        (hq.gas, Level::Full),
        (hq.water, Level::None),
        (hq.goal, Level::None),
        (hq.recognition, Level::Read),
    ];
    for (o, l) in expected {
        assert_eq!(level_of(e, id, o), l, "level of {o}");
        assert_eq!(can(e, mary, "read", o), l >= Level::Read, "read {o}");
        assert_eq!(can(e, mary, "update", o), l == Level::Full, "upd {o}");
    }
    deny(e, mary, "add_bill", hq.electric);
    allow(e, mary, "add_bill", hq.gas);
    deny(e, mary, "add_bill", hq.water);
    // The per-meter level is stored as an override, sorted by object.
    let s = e.share(id).expect("share");
    let mut overrides = vec![(hq.gas, Level::Full), (hq.water, Level::None)];
    overrides.sort();
    assert_eq!(s.object_levels(), overrides.as_slice());
}

#[test]
fn custom_share_forward_is_chosen_by_the_grantor() {
    let mut w = world(Downstream::Keep, &["Mary", "Bill", "Ann"]);
    let (mary, bill, ann) = (w.users[0], w.users[1], w.users[2]);
    let (mo, bo, ao) = (w.orgs[0], w.orgs[1], w.orgs[2]);
    connect(&mut w.e, mo, bo);
    connect(&mut w.e, bo, ao);
    let root = w.hq.property;
    let read_forward = ShareSpec::custom().share_forward(true);
    owner_shares(&mut w, root, mary, read_forward.clone());
    // Read everywhere plus share-forward: Mary may pass Read on, with or
    // without share-forward.
    let id = share_accepted(&mut w.e, mary, root, bill, read_forward);
    assert!(w.e.share(id).expect("share").share_forward());
    share_accepted(&mut w.e, bill, root, ann, ShareSpec::read_only());
    allow(&w.e, ann, "read", w.hq.electric);
}

#[test]
fn custom_rejects_unknown_types_and_objects_outside_the_root() {
    let mut w = world(Downstream::Keep, &["Mary"]);
    let (jack, mary, jack_org) = (w.jack, w.users[0], w.jack_org);
    let other = building(&mut w.e, jack_org, "Annex");
    let hq = w.hq;
    let bad = [
        ShareSpec::custom().level("no_such_type", Level::Read),
        ShareSpec::custom().level("users", Level::Read),
        ShareSpec::custom()
            .level("energy_meter", Level::Read)
            .level("energy_meter", Level::Full),
        ShareSpec::custom().object_level(other.electric, Level::Full),
        ShareSpec::custom()
            .object_level(hq.gas, Level::Full)
            .object_level(hq.gas, Level::Read),
    ];
    for spec in bad {
        let err = refused(&mut w.e, |e| {
            e.act(Actor::User(jack), T).share(
                hq.property,
                Grantee::User(mary),
                spec,
            )
        });
        assert!(
            matches!(
                err,
                ErrorKind::Invalid { .. } | ErrorKind::NotFound { .. }
            ),
            "{err:?}"
        );
    }
}

// ----- Exchange Data (§2.1, §5 of seed) ----------------------------------

#[test]
fn exchange_data_defaults_to_none() {
    let mut w = world(Downstream::Keep, &["Provider"]);
    let pat = w.users[0];
    let hq = w.hq;
    let id =
        owner_shares(&mut w, hq.property, pat, ShareSpec::exchange_data());
    let s = w.e.share(id).expect("share");
    assert_eq!(s.kind(), ShareKind::ExchangeData);
    assert!(!s.share_forward());
    assert_eq!(ShareKind::ExchangeData.default_level(), Level::None);
    for o in hq.all() {
        assert_eq!(level_of(&w.e, id, o), Level::None);
        deny(&w.e, pat, "read", o);
        allow(&w.e, pat, "view_metrics", o);
    }
    assert_eq!(
        tabs(&w.e, Subject::User(pat), hq.property),
        names(&["view_metrics"])
    );
}

#[test]
fn exchange_data_is_shared_with_an_organization_and_all_its_members() {
    let mut w = world(Downstream::Keep, &["Provider", "Mary"]);
    let (prov, pat, mary) = (w.orgs[0], w.users[0], w.users[1]);
    let quinn = member(&mut w.e, prov, "quinn@provider.example");
    let (jack, hq) = (w.jack, w.hq);
    let spec = ShareSpec::exchange_data()
        .level("property", Level::Read)
        .object_level(hq.electric, Level::Full)
        .share_forward(true);
    let id = ok(&mut w.e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::Org(prov),
            spec,
        )
    });
    // Pending: nobody in the provider has anything yet.
    deny(&w.e, pat, "view_metrics", hq.property);
    // Someone outside the organization cannot accept it.
    let err =
        refused(&mut w.e, |e| e.act(Actor::User(mary), T).accept_share(id));
    assert!(matches!(err, ErrorKind::Denied { .. }), "{err:?}");
    // Any member accepts on behalf of the organization.
    ok(&mut w.e, |e| e.act(Actor::User(quinn), T).accept_share(id));
    let late = member(&mut w.e, prov, "late@provider.example");
    for u in [pat, quinn, late] {
        allow(&w.e, u, "read", hq.property);
        deny(&w.e, u, "update", hq.property);
        allow(&w.e, u, "add_bill", hq.electric);
        deny(&w.e, u, "read", hq.gas);
        deny(&w.e, u, "read", hq.goal);
        allow(&w.e, u, "view_metrics", hq.property);
    }
    deny(&w.e, mary, "read", hq.property);
    assert_eq!(w.e.shares_to(Grantee::Org(prov)).collect::<Vec<_>>(), [id]);
    assert_eq!(w.e.share_of(hq.property, Grantee::Org(prov)), Some(id));
}

#[test]
fn an_account_cannot_share_with_itself() {
    let mut w = world(Downstream::Keep, &[]);
    let (jack, jack_org, root) = (w.jack, w.jack_org, w.hq.property);
    let err = refused(&mut w.e, |e| {
        e.act(Actor::User(jack), T).share(
            root,
            Grantee::Org(jack_org),
            ShareSpec::read_only(),
        )
    });
    assert!(matches!(err, ErrorKind::Invalid { .. }), "{err:?}");
}

// ----- None (§2.2 rule 4) ------------------------------------------------

#[test]
fn none_hides_the_tab_but_annual_metrics_stay_visible() {
    let mut w = world(Downstream::Keep, &["Mary", "Bill"]);
    let (mary, bill) = (w.users[0], w.users[1]);
    let hq = w.hq;
    let spec = ShareSpec::custom()
        .level("property", Level::None)
        .level("energy_meter", Level::None)
        .level("water_meter", Level::None)
        .level("goal", Level::None)
        .level("recognition", Level::None);
    let id = owner_shares(&mut w, hq.property, mary, spec);
    for o in hq.all() {
        assert_eq!(level_of(&w.e, id, o), Level::None);
        deny(&w.e, mary, "read", o);
    }
    allow(&w.e, mary, "view_metrics", hq.property);
    assert_eq!(
        tabs(&w.e, Subject::User(mary), hq.property),
        names(&["view_metrics"])
    );
    // Without any share there are no metrics either; a pending share
    // shows none.
    deny(&w.e, bill, "view_metrics", hq.property);
    let jack = w.jack;
    ok(&mut w.e, |e| {
        e.act(Actor::User(jack), T).share(
            hq.property,
            Grantee::User(bill),
            ShareSpec::exchange_data(),
        )
    });
    deny(&w.e, bill, "view_metrics", hq.property);
}

// ----- derived rules (§2.2 rules 1-3) -----------------------------------

#[test]
fn adding_a_bill_needs_full_on_that_meter() {
    let mut w = world(Downstream::Keep, &["Mary"]);
    let mary = w.users[0];
    let hq = w.hq;
    // Full on property information does not imply Full on the meters.
    let spec = ShareSpec::custom()
        .level("property", Level::Full)
        .level("energy_meter", Level::Read)
        .object_level(hq.gas, Level::Full);
    owner_shares(&mut w, hq.property, mary, spec);
    allow(&w.e, mary, "update", hq.property);
    deny(&w.e, mary, "add_bill", hq.electric);
    allow(&w.e, mary, "add_bill", hq.gas);
    deny(&w.e, mary, "add_bill", hq.water);
}

#[test]
fn adding_editing_and_deleting_meters_needs_full_on_the_property() {
    let mut w = world(Downstream::Keep, &["Mary", "Bill"]);
    let (mary, bill) = (w.users[0], w.users[1]);
    let hq = w.hq;
    let meters_only = ShareSpec::custom()
        .level("property", Level::Read)
        .level("energy_meter", Level::Full)
        .level("water_meter", Level::Full);
    owner_shares(&mut w, hq.property, mary, meters_only);
    let property_full = ShareSpec::custom().level("property", Level::Full);
    owner_shares(&mut w, hq.property, bill, property_full);
    for a in ["add_meter", "edit_meter", "delete_meter"] {
        deny(&w.e, mary, a, hq.property);
        allow(&w.e, bill, a, hq.property);
    }
    allow(&w.e, mary, "add_bill", hq.electric);
    deny(&w.e, bill, "add_bill", hq.electric);
}

#[test]
fn choosing_metric_meters_needs_full_on_property_and_every_meter() {
    let mut w = world(Downstream::Keep, &["Mary", "Bill", "Ann", "Olga"]);
    let (mary, bill, ann, olga) =
        (w.users[0], w.users[1], w.users[2], w.users[3]);
    let hq = w.hq;
    let p = hq.property;
    // Mary: Full on the property and on every energy meter, Read on water.
    let mary_spec = ShareSpec::custom()
        .level("property", Level::Full)
        .level("energy_meter", Level::Full)
        .level("water_meter", Level::Read);
    owner_shares(&mut w, p, mary, mary_spec);
    allow(&w.e, mary, "select_energy_meters", p);
    deny(&w.e, mary, "select_water_meters", p);
    // Bill: the same, but one energy meter only at Read.
    let bill_spec = ShareSpec::custom()
        .level("property", Level::Full)
        .level("energy_meter", Level::Full)
        .level("water_meter", Level::Full)
        .object_level(hq.gas, Level::Read);
    owner_shares(&mut w, p, bill, bill_spec);
    deny(&w.e, bill, "select_energy_meters", p);
    allow(&w.e, bill, "select_water_meters", p);
    allow(&w.e, bill, "add_bill", hq.electric);
    // Ann: Full on every meter but Read on the property.
    let ann_spec = ShareSpec::custom()
        .level("energy_meter", Level::Full)
        .level("water_meter", Level::Full);
    owner_shares(&mut w, p, ann, ann_spec);
    deny(&w.e, ann, "select_energy_meters", p);
    deny(&w.e, ann, "select_water_meters", p);
    // Olga: Full Access.
    owner_shares(&mut w, p, olga, ShareSpec::full());
    allow(&w.e, olga, "select_energy_meters", p);
    allow(&w.e, olga, "select_water_meters", p);
    // A new energy meter that Mary's share overrides to None takes the
    // choice away from her.
    let jack = w.jack;
    let org = w.jack_org;
    let steam = object(&mut w.e, org, "energy_meter", "HQ steam", &[p]);
    allow(&w.e, mary, "select_energy_meters", p);
    let mid = w.e.share_of(p, Grantee::User(mary)).expect("share");
    let spec =
        w.e.share_spec(mid).expect("spec").object_level(steam, Level::None);
    ok(&mut w.e, |e| {
        e.act(Actor::User(jack), T).share(p, Grantee::User(mary), spec)
    });
    deny(&w.e, mary, "select_energy_meters", p);
    allow(&w.e, mary, "add_bill", hq.electric);
}

#[test]
fn the_every_meter_rule_counts_a_meter_shared_separately() {
    let mut w = world(Downstream::Keep, &["Mary"]);
    let mary = w.users[0];
    let hq = w.hq;
    let spec = ShareSpec::custom()
        .level("property", Level::Full)
        .level("energy_meter", Level::Full)
        .object_level(hq.gas, Level::Read);
    owner_shares(&mut w, hq.property, mary, spec);
    deny(&w.e, mary, "select_energy_meters", hq.property);
    // The gas meter shared on its own at Full: Mary's level on it is Full.
    owner_shares(&mut w, hq.gas, mary, ShareSpec::full());
    allow(&w.e, mary, "add_bill", hq.gas);
    allow(&w.e, mary, "select_energy_meters", hq.property);
}

#[test]
fn a_property_without_energy_meters_needs_only_full_on_the_property() {
    let mut w = world(Downstream::Keep, &["Mary"]);
    let mary = w.users[0];
    let org = w.jack_org;
    let bare = object(&mut w.e, org, "property", "Bare", &[]);
    let spec = ShareSpec::custom().level("property", Level::Full);
    owner_shares(&mut w, bare, mary, spec);
    allow(&w.e, mary, "select_energy_meters", bare);
    allow(&w.e, mary, "select_water_meters", bare);
}

// ----- public shares -------------------------------------------------------

#[test]
fn a_public_share_reaches_anonymous_callers_and_every_user() {
    let mut w = world(Downstream::Keep, &["Mary"]);
    let (jack, mary) = (w.jack, w.users[0]);
    let hq = w.hq;
    let (_, stranger) = account(&mut w.e, "Stranger");
    let spec = ShareSpec::custom()
        .level("energy_meter", Level::None)
        .level("water_meter", Level::None);
    let id = ok(&mut w.e, |e| {
        e.act(Actor::User(jack), T).share(hq.property, Grantee::Public, spec)
    });
    // No user is "the public" and can answer for it; the system can.
    if status(&w.e, id) == ShareStatus::Pending {
        ok(&mut w.e, |e| e.act(Actor::System, T).accept_share(id));
    }
    let anon = Subject::Anonymous;
    assert!(subject_can(&w.e, anon, "read", hq.property));
    assert!(subject_can(&w.e, anon, "read", hq.goal));
    assert!(!subject_can(&w.e, anon, "read", hq.electric));
    assert!(!subject_can(&w.e, anon, "update", hq.property));
    assert!(subject_can(&w.e, anon, "view_metrics", hq.electric));
    for u in [mary, stranger] {
        allow(&w.e, u, "read", hq.property);
        deny(&w.e, u, "read", hq.water);
    }
    let r = w.e.explain(anon, action(&w.e, "read"), hq.property);
    assert_eq!(r.reasons(), [Reason::Share { share: id, chain: vec![id] }]);
    assert_eq!(
        tabs(&w.e, anon, hq.property),
        names(&["read", "view_metrics"])
    );
    // Removing it ends anonymous access at once.
    ok(&mut w.e, |e| e.act(Actor::User(jack), T).unshare(id));
    assert!(!subject_can(&w.e, anon, "read", hq.property));
    assert!(!subject_can(&w.e, anon, "view_metrics", hq.property));
}

#[test]
fn a_public_share_is_in_force_without_anyones_acceptance() {
    // Nobody can accept on behalf of "the public": only a user can act,
    // and no user is the public. A public share must therefore take
    // effect at once even where acceptance is required.
    let mut w = world(Downstream::Keep, &[]);
    let (jack, root) = (w.jack, w.hq.property);
    let id = ok(&mut w.e, |e| {
        e.act(Actor::User(jack), T).share(
            root,
            Grantee::Public,
            ShareSpec::read_only(),
        )
    });
    assert_eq!(status(&w.e, id), ShareStatus::Accepted);
    assert!(subject_can(&w.e, Subject::Anonymous, "read", root));
}

#[test]
fn share_forward_cannot_be_given_to_the_public() {
    let mut w = world(Downstream::Keep, &[]);
    let (jack, root) = (w.jack, w.hq.property);
    for spec in [ShareSpec::full(), ShareSpec::custom().share_forward(true)] {
        let err = refused(&mut w.e, |e| {
            e.act(Actor::User(jack), T).share(root, Grantee::Public, spec)
        });
        assert!(matches!(err, ErrorKind::Invalid { .. }), "{err:?}");
    }
    assert_eq!(w.e.shares_to(Grantee::Public).count(), 0);
}
