//! Two organizations share a solar plant's data through a role.
//!
//! Utility X owns a plant's site and its observations. It shares them with
//! Forecaster A through a non-administrative role, "Read Plant X". The
//! forecaster creates a forecast for the plant in its own organization and
//! shares it back. An attempt to share an administrative role outside the
//! utility is refused. Every decision is printed with its explanation.
//!
//! Run with `cargo run --example quickstart`.

use accord::{
    presets, Actor, Engine, ErrorKind, ObjectId, Subject, Timestamp, UserId,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut engine = presets::arbiter().build()?;
    let mut clock = 1_700_000_000_000_i64;
    let mut at = move || {
        clock += 1_000;
        Timestamp::from_unix_millis(clock)
    };

    // The platform sets up two organizations and their first users.
    let mut sys = engine.act(Actor::System, at());
    let utility = sys.create_org("Utility X")?.value;
    let forecaster = sys.create_org("Forecaster A")?.value;
    sys.accept_terms(utility)?;
    sys.accept_terms(forecaster)?;
    let ursula = sys.create_user(utility, "ursula@utility.example")?.value;
    let fred = sys.create_user(forecaster, "fred@forecaster.example")?.value;
    let fiona = sys.create_user(forecaster, "fiona@forecaster.example")?.value;
    for (user, org) in [(ursula, utility), (fred, forecaster)] {
        let roles =
            ["Administer data access controls", "Create metadata", "Read all"];
        for role in roles {
            let r = sys.engine().role_by_name(org, role).ok_or("no role")?;
            sys.grant_role(user, r, &[])?;
        }
    }

    // Ursula, the utility's administrator, creates the plant's metadata.
    let mut u = engine.act(Actor::User(ursula), at());
    let site = u.create_object(utility, "sites", "plant-x", &[])?.value;
    let ghi =
        u.create_object(utility, "observations", "plant-x-ghi", &[site])?;
    let ghi = ghi.value;

    // …and shares it with the forecaster through a dedicated role.
    let share =
        u.create_role(utility, "Read Plant X", "plant X for partners")?;
    let share = share.value;
    let perms = [
        ("Read site X", "read", "sites", site),
        ("Read GHI metadata", "read", "observations", ghi),
        ("Read GHI values", "read_values", "observations", ghi),
    ];
    for (name, action, ty, object) in perms {
        let p =
            u.create_permission_for(utility, name, action, ty, &[object])?;
        u.add_permission_to_role(share, p.value)?;
    }
    let granted = u.grant_role(fred, share, &[])?;
    println!(
        "granted `Read Plant X` to fred at revision {}",
        granted.revision
    );

    // Fred creates a forecast for the plant in his own organization: he
    // can create forecasts there and can read the utility's site.
    let mut f = engine.act(Actor::User(fred), at());
    let fx = f.create_object(
        forecaster,
        "forecasts",
        "plant-x-day-ahead",
        &[site],
    )?;
    let fx = fx.value;
    // …and shares it back with the utility.
    let back =
        f.create_role(forecaster, "Plant X forecasts", "for Utility X")?;
    let p = f.create_permission_for(
        forecaster,
        "Read plant X forecast values",
        "read_values",
        "forecasts",
        &[fx],
    )?;
    f.add_permission_to_role(back.value, p.value)?;
    f.grant_role(ursula, back.value, &[])?;

    println!();
    show(&engine, "fred", fred, "read", site);
    show(&engine, "fred", fred, "read_values", ghi);
    show(&engine, "fred", fred, "write_values", ghi);
    show(&engine, "fiona", fiona, "read", site);
    show(&engine, "ursula", ursula, "read_values", fx);
    show(&engine, "ursula", ursula, "delete", fx);

    // Sharing the administrative role outside the utility is refused.
    let admin =
        engine.role_by_name(utility, "Administer data access controls");
    let admin = admin.ok_or("no role")?;
    let before = engine.revision();
    let err = engine
        .act(Actor::User(ursula), at())
        .grant_role(fred, admin, &[])
        .err()
        .ok_or("the administrative role must not reach another org")?;
    assert!(matches!(err.kind(), ErrorKind::AdministrativeRoleOutside { .. }));
    assert_eq!(engine.revision(), before);
    println!();
    println!("ursula grants `Administer data access controls` to fred: {err}");

    println!();
    println!(
        "audit log ({} events, revision {}):",
        engine.events().len(),
        engine.revision()
    );
    for e in engine.events().iter().rev().take(3).rev() {
        println!(
            "  #{} {} by {}: {:?}",
            e.seq,
            e.op.name(),
            e.actor,
            e.outcome
        );
    }
    Ok(())
}

fn show(
    engine: &Engine,
    who: &str,
    user: UserId,
    action: &str,
    object: ObjectId,
) {
    let Some(a) = engine.schema().action(action) else { return };
    let key = engine.object(object).map_or("?".into(), |o| o.key());
    let response = engine.explain(Subject::User(user), a, object);
    println!("{who:>6} {action:<12} {key:<20} {}", engine.render(&response));
}
