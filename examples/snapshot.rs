//! Saving and loading a policy: the audit log moved out to storage, the
//! policy streamed to a file and back, the same decisions after the
//! round trip, and a damaged file refused with a typed error.
//!
//! Run with `cargo run --example snapshot`.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};

use accord::{presets, Actor, Engine, Subject, Timestamp};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut engine = presets::arbiter().build()?;
    let t = Timestamp::from_unix_millis(1_700_000_000_000);
    let mut sys = engine.act(Actor::System, t);
    let org = sys.create_org("Utility X")?.value;
    sys.accept_terms(org)?;
    let ann = sys.create_user(org, "ann@utility.example")?.value;
    let bob = sys.create_user(org, "bob@utility.example")?.value;
    let read_all =
        sys.engine().role_by_name(org, "Read all").ok_or("no role")?;
    sys.grant_role(ann, read_all, &[])?;
    let site = sys.create_object(org, "sites", "plant-x", &[])?.value;

    // The application keeps the audit log in its own storage; the engine
    // keeps the hash chain going across drains.
    let stored = engine.drain_events();
    println!("moved {} audit events to storage", stored.len());

    // Stream the policy to a file and back, without holding its text.
    let path = std::env::temp_dir()
        .join(format!("accord-snapshot-{}.json", std::process::id()));
    let mut out = BufWriter::new(File::create(&path)?);
    engine.write_json(&mut out)?;
    out.flush()?;
    drop(out);
    let loaded = Engine::read_json(BufReader::new(File::open(&path)?))?;
    println!(
        "saved {} bytes to {}; loaded at revision {}",
        std::fs::metadata(&path)?.len(),
        path.display(),
        loaded.revision()
    );

    let read = engine.schema().action("read").ok_or("no action")?;
    for (who, user) in [("ann", ann), ("bob", bob)] {
        let before = engine.check(Subject::User(user), read, site);
        let after = loaded.check(Subject::User(user), read, site);
        println!("{who} read plant-x: {before:?} before, {after:?} after");
        if before != after {
            return Err("the round trip changed a decision".into());
        }
    }

    // A damaged snapshot is refused with a typed error, never a panic.
    let text = std::fs::read_to_string(&path)?;
    let damaged = text.replacen("\"version\":1", "\"version\":99", 1);
    match Engine::from_json(&damaged) {
        Ok(_) => return Err("a damaged snapshot loaded".into()),
        Err(e) => println!("damaged snapshot refused: {e}"),
    }
    std::fs::remove_file(&path)?;
    Ok(())
}
