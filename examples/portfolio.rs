//! Share forward along a chain, with ceilings, edit rights and the three
//! downstream policies.
//!
//! Jack owns a property with two energy meters. He shares it with Mary
//! (Full Access), Mary with Bill (Full Access), Bill with Jane (Custom:
//! Read on the property, Full on meters, share-forward), Jane with Nick
//! (Custom, share-forward) and Nick with Emma (Custom). The example prints
//! who may edit whose share, refuses a share above its grantor's level,
//! and removes Mary's share under `Keep`, `Cascade` and `Restrict`.
//!
//! Run with `cargo run --example portfolio`.

#![expect(
    clippy::indexing_slicing,
    reason = "a demonstration over fixed-size arrays of six people"
)]

use accord::{
    presets, Actor, Downstream, Engine, Grantee, Level, ObjectId, ShareId,
    ShareSpec, Subject, Timestamp, UserId,
};

const PEOPLE: [&str; 6] = ["Jack", "Mary", "Bill", "Jane", "Nick", "Emma"];

struct Chain {
    engine: Engine,
    users: Vec<UserId>,
    property: ObjectId,
    meter: ObjectId,
    /// Share received by each person after Jack, in chain order.
    shares: Vec<ShareId>,
}

fn build(downstream: Downstream) -> Result<Chain, Box<dyn std::error::Error>> {
    let mut engine = presets::portfolio()
        .configure(|c| c.downstream = downstream)
        .build()?;
    let t = Timestamp::from_unix_millis(1_700_000_000_000);
    let mut sys = engine.act(Actor::System, t);
    let mut orgs = Vec::new();
    let mut users = Vec::new();
    for name in PEOPLE {
        let org = sys.create_org(name)?.value;
        let email = format!("{}@example.com", name.to_lowercase());
        users.push(sys.create_user(org, &email)?.value);
        orgs.push(org);
    }
    let owner_role = sys
        .engine()
        .role_by_name(orgs[0], "Property Data Administrator")
        .ok_or("no role")?;
    sys.grant_role(users[0], owner_role, &[])?;
    for pair in orgs.windows(2) {
        sys.request_connection(pair[0], pair[1])?;
        sys.respond_connection(pair[0], pair[1], true)?;
    }
    let property = sys.create_object(orgs[0], "property", "HQ", &[])?.value;
    let meter = sys.create_object(
        orgs[0],
        "energy_meter",
        "HQ electric",
        &[property],
    )?;
    sys.create_object(orgs[0], "energy_meter", "HQ gas", &[property])?;

    let custom = |forward: bool| {
        ShareSpec::custom()
            .level("property", Level::Read)
            .level("energy_meter", Level::Full)
            .share_forward(forward)
    };
    let specs = [
        ShareSpec::full(),
        ShareSpec::full(),
        custom(true),
        custom(true),
        custom(false),
    ];
    let mut shares = Vec::new();
    for (i, spec) in specs.into_iter().enumerate() {
        let (from, to) = (users[i], users[i + 1]);
        let share = engine
            .act(Actor::User(from), t)
            .share(property, Grantee::User(to), spec)?
            .value;
        engine.act(Actor::User(to), t).accept_share(share)?;
        shares.push(share);
    }
    Ok(Chain { engine, users, property, meter: meter.value, shares })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut chain = build(Downstream::Keep)?;
    let t = Timestamp::from_unix_millis(1_700_000_100_000);
    println!("share tree of HQ:");
    for node in chain.engine.share_tree(chain.property) {
        let who = match node.grantee {
            Grantee::User(u) => chain
                .users
                .iter()
                .position(|x| *x == u)
                .map_or("?", |i| PEOPLE[i]),
            _ => "?",
        };
        let kind = chain.engine.share(node.share).map(|s| s.kind());
        println!("  {}{who} ({kind:?})", "  ".repeat(node.depth));
    }

    println!(
        "\nwho may edit whose share (each edit re-applies the same spec):"
    );
    for (e, editor) in chain.users.clone().into_iter().enumerate().skip(1) {
        let mut may = Vec::new();
        for (s, share) in chain.shares.clone().into_iter().enumerate() {
            if s + 1 == e {
                continue;
            }
            let Some(current) = chain.engine.share(share) else { continue };
            let grantee = current.grantee();
            let Some(spec) = chain.engine.share_spec(share) else { continue };
            let mut probe = chain.engine.clone();
            let ok = probe
                .act(Actor::User(editor), t)
                .share(chain.property, grantee, spec)
                .is_ok();
            if ok {
                may.push(PEOPLE[s + 1]);
            }
        }
        println!("  {:<5} may edit: {}", PEOPLE[e], may.join(", "));
    }

    let update = chain.engine.schema().action("update").ok_or("no action")?;
    let add_bill =
        chain.engine.schema().action("add_bill").ok_or("no action")?;
    let jane = chain.users[3];
    let nick = chain.users[4];
    println!("\nceiling:");
    let err = chain
        .engine
        .act(Actor::User(jane), t)
        .share(
            chain.property,
            Grantee::User(nick),
            ShareSpec::custom()
                .level("property", Level::Full)
                .level("energy_meter", Level::Full)
                .share_forward(true),
        )
        .err()
        .ok_or("Jane cannot give Full on the property")?;
    println!("  Jane gives Nick Full on the property: {err}");
    for (who, u) in [("Nick", nick), ("Emma", chain.users[5])] {
        let r = chain.engine.explain(Subject::User(u), add_bill, chain.meter);
        println!(
            "  {who} add_bill on HQ electric: {}",
            chain.engine.render(&r)
        );
        let r = chain.engine.explain(Subject::User(u), update, chain.property);
        println!("  {who} update HQ: {}", chain.engine.render(&r));
    }

    println!("\nJack removes Mary's share:");
    for policy in [Downstream::Keep, Downstream::Cascade, Downstream::Restrict]
    {
        let mut c = build(policy)?;
        let jack = c.users[0];
        let read = c.engine.schema().action("read").ok_or("no action")?;
        let result = c.engine.act(Actor::User(jack), t).unshare(c.shares[0]);
        let outcome = match result {
            Ok(r) => format!("removed at revision {}", r.revision),
            Err(e) => format!("refused: {e}"),
        };
        let readers: Vec<&str> = c
            .users
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(_, u)| {
                c.engine.check(Subject::User(**u), read, c.property).is_allow()
            })
            .map(|(i, _)| PEOPLE[i])
            .collect();
        println!("  {policy:?}: {outcome}; can still read HQ: {readers:?}");
    }
    Ok(())
}
