//! The metering platform's example workflow: a platform administrator
//! creates an account for a service company employee, assigns the access
//! level "Service Company Administrator" bound to Hududgaz and TechService,
//! and connects the Reporting and Equipment monitoring modules. The
//! employee then reaches only the metering units of TechService.
//!
//! Run with `cargo run --features accounts --example metering`.

use accord::{presets, Actor, ErrorKind, Subject, Timestamp};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut engine = presets::metering().build()?;
    let t = Timestamp::from_unix_millis(1_700_000_000_000);

    // Bootstrap: the platform organization and its administrator.
    let mut sys = engine.act(Actor::System, t);
    let platform = sys.create_org("Platform")?.value;
    let admin = sys
        .create_account(
            platform,
            "admin@platform.example",
            Some("Admin"),
            "adm1n-pass",
            "UTC",
            "en",
        )?
        .value;
    sys.set_platform_admin(admin, true)?;
    let access = sys
        .engine()
        .role_by_name(platform, "Access administrator")
        .ok_or("no role")?;
    sys.grant_role(admin, access, &[])?;
    let gaz = sys
        .create_object(platform, "resource_supply_company", "Hududgaz", &[])?
        .value;
    let other_supplier = sys
        .create_object(platform, "resource_supply_company", "Suvsoz", &[])?
        .value;
    let tech = sys
        .create_object(platform, "service_organization", "TechService", &[])?
        .value;
    let rival = sys
        .create_object(platform, "service_organization", "FixIt", &[])?
        .value;
    let units = [
        ("MU-001", gaz, tech),
        ("MU-002", gaz, tech),
        ("MU-003", gaz, rival),
        ("MU-004", other_supplier, tech),
    ];
    let mut unit_ids = Vec::new();
    for (key, supplier, service) in units {
        let id = sys
            .create_object(
                platform,
                "metering_unit",
                key,
                &[supplier, service],
            )?
            .value;
        unit_ids.push((key, id));
    }

    // The workflow, performed by the platform administrator.
    let mut a = engine.act(Actor::User(admin), t);
    let weak = a.create_account(
        platform,
        "service_tech@domain.com",
        None,
        "short",
        "Asia/Tashkent",
        "uz",
    );
    println!("weak password: {}", weak.err().ok_or("expected a refusal")?);
    let employee = a
        .create_account(
            platform,
            "service_tech@domain.com",
            Some("Service Technician"),
            "Tashkent2024",
            "Asia/Tashkent",
            "uz",
        )?
        .value;
    let dup = a.create_account(
        platform,
        "SERVICE_TECH@domain.com",
        None,
        "Another1x",
        "UTC",
        "en",
    );
    if let Some(err) = dup.err() {
        assert!(matches!(err.kind(), ErrorKind::Duplicate { .. }));
        println!("duplicate e-mail: {err}");
    }
    let role =
        |name: &str| a.engine().role_by_name(platform, name).ok_or("no role");
    let (sca, reporting, monitoring) = (
        role("Service Company Administrator")?,
        role("Reporting")?,
        role("Equipment monitoring")?,
    );
    let unbound = a.grant_role(employee, sca, &[gaz]);
    println!(
        "access level bound to Hududgaz only: {}",
        unbound.err().ok_or("expected a refusal")?
    );
    a.grant_role(employee, sca, &[gaz, tech])?;
    a.grant_role(employee, reporting, &[gaz, tech])?;
    a.grant_role(employee, monitoring, &[gaz, tech])?;

    // Editing with a blank password keeps the old one.
    a.edit_account(
        employee,
        "service_tech@domain.com",
        Some("Service Tech"),
        "",
        "Asia/Samarkand",
        "ru",
    )?;
    println!(
        "\npassword still valid after edit: {}",
        engine.verify_password(employee, "Tashkent2024")
    );

    let read_values =
        engine.schema().action("read_values").ok_or("no action")?;
    println!("\nthe employee reads values of:");
    for (key, id) in &unit_ids {
        let d = engine.check(Subject::User(employee), read_values, *id);
        println!("  {key}: {d:?}");
    }

    // Someone who is not a platform administrator cannot manage accounts.
    let refused = engine.act(Actor::User(employee), t).delete_account(admin);
    println!(
        "\nemployee deletes an account: {}",
        refused.err().ok_or("expected a refusal")?
    );

    // Deleting the account removes its grants; the data stays.
    engine.act(Actor::User(admin), t).delete_account(employee)?;
    println!(
        "after deletion: {} metering units remain, audit log has {} events",
        unit_ids.iter().filter(|(_, id)| engine.object(*id).is_some()).count(),
        engine.events().len()
    );
    for e in engine.events().iter().filter(|e| e.op.name() == "create account")
    {
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
