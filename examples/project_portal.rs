//! Project security: a public dashboard, "require login", a viewer, an
//! administrator, and a read-only API token.
//!
//! Run with `cargo run --example project_portal`.

use accord::{presets, Actor, ShareSpec, Subject, Timestamp};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut engine = presets::project_portal().build()?;
    let t = Timestamp::from_unix_millis(1_700_000_000_000);
    let later = Timestamp::from_unix_millis(1_700_000_900_000);

    let mut sys = engine.act(Actor::System, t);
    let solar = sys.create_org("Solar Co")?.value;
    let others = sys.create_org("Other Co")?.value;
    let owner = sys.create_user(solar, "owner@solar.example")?.value;
    let admin = sys.create_user(others, "pat@other.example")?.value;
    let viewer = sys.create_user(others, "vic@other.example")?.value;
    let account_admin = sys
        .engine()
        .role_by_name(solar, "Account administrator")
        .ok_or("no role")?;
    sys.grant_role(owner, account_admin, &[])?;

    let mut o = engine.act(Actor::User(owner), t);
    let project = o.create_object(solar, "project", "Rooftop 7", &[])?.value;
    let dashboard =
        o.create_object(solar, "dashboard", "Rooftop 7 live", &[project])?;
    let dashboard = dashboard.value;
    let data =
        o.create_object(solar, "dataset", "Rooftop 7 kWh", &[project])?;
    let data = data.value;

    let s = engine.schema();
    let read = s.action("read").ok_or("no action")?;
    let update = s.action("update").ok_or("no action")?;
    let project_type = s.object_type("project").ok_or("no type")?;
    let live = |e: &accord::Engine| e.public_objects(project_type).len();
    println!("new project is public:");
    println!(
        "  anonymous reads dashboard: {:?}",
        engine.check(Subject::Anonymous, read, dashboard)
    );
    println!("  live projects listed: {}", live(&engine));

    // The owner gives Pat portal access and Vic read access, by e-mail.
    let mut o = engine.act(Actor::User(owner), t);
    o.share_by_email(project, "pat@other.example", ShareSpec::full())?;
    o.share_by_email(project, "vic@other.example", ShareSpec::read_only())?;
    let missing = o.share_by_email(
        project,
        "nobody@other.example",
        ShareSpec::read_only(),
    );
    println!(
        "\nadding an e-mail without an account: {}",
        missing.err().ok_or("expected an error")?
    );

    // Pat, a project administrator, requires a login for all project data.
    let r =
        engine.act(Actor::User(admin), later).set_public(project, false)?;
    println!(
        "\nPat requires login (revision {}), effective at once:",
        r.revision
    );
    println!(
        "  anonymous reads dashboard: {:?}",
        engine.check(Subject::Anonymous, read, dashboard)
    );
    println!("  live projects listed: {}", live(&engine));
    println!(
        "  Vic (viewer) reads data: {:?}",
        engine.check(Subject::User(viewer), read, data)
    );
    println!(
        "  Vic (viewer) changes settings: {:?}",
        engine.check(Subject::User(viewer), update, project)
    );
    println!(
        "  Pat (admin) changes settings: {:?}",
        engine.check(Subject::User(admin), update, project)
    );

    // Pat issues an API token for the project: strictly read-only.
    let issued = engine.act(Actor::User(admin), later).issue_token(
        admin,
        Some(project),
        "export job",
        None,
    )?;
    let (token_id, secret) = issued.value;
    let subject =
        engine.authenticate(secret.expose(), later).ok_or("token refused")?;
    println!("\ntoken {token_id} (secret shown once, stored hashed):");
    println!("  reads data: {:?}", engine.check(subject, read, data));
    println!(
        "  writes settings: {:?}",
        engine.check(subject, update, project)
    );
    let why = engine.explain(subject, update, project);
    println!("  why: {}", engine.render(&why));

    engine.act(Actor::User(owner), later).revoke_token(token_id)?;
    println!(
        "  after revocation: authenticate = {:?}",
        engine.authenticate(secret.expose(), later)
    );
    Ok(())
}
