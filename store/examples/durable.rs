//! A durable policy in one SQLite file: set up once, reopened on every
//! run with everything committed before.
//!
//! The first run creates `policy.db` (or the path given as the first
//! argument): a utility and a forecaster, a plant's site shared with the
//! forecaster through a role, each step committed to the file before it
//! returns. Every later run reopens the file — the newest checkpoint plus
//! the events after it, each verified against its digest — and finds the
//! same decisions. Each run also attempts one mutation that is refused:
//! the refusal is committed to the audit log like any other event, so the
//! log grows by one per run while the revision stays.
//!
//! Run with `cargo run -p accord-store --example durable` (twice).

use accord::{presets, Actor, Decision, Subject, Timestamp};
use accord_store::{DurableEngine, SqliteStore, WriteError};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "policy.db".into());
    let policy =
        DurableEngine::open(SqliteStore::open(&path)?, presets::arbiter())?;
    let t = Timestamp::from_unix_millis(1_700_000_000_000);
    println!(
        "opened `{path}` at revision {} ({} events since its checkpoint)",
        policy.revision(),
        policy.snapshot().events().len()
    );

    if policy.snapshot().org_by_name("Utility X").is_none() {
        // One transaction: every step below, or none of them.
        policy.act(
            Actor::System,
            t,
            |sys| -> Result<(), accord::MutationError> {
                let utility = sys.create_org("Utility X")?.value;
                let forecaster = sys.create_org("Forecaster A")?.value;
                sys.accept_terms(utility)?;
                sys.accept_terms(forecaster)?;
                let ursula =
                    sys.create_user(utility, "ursula@utility.example")?.value;
                sys.create_user(forecaster, "fred@forecaster.example")?;
                let roles = [
                    "Administer data access controls",
                    "Create metadata",
                    "Read all",
                ];
                for name in roles {
                    let role = sys.engine().role_by_name(utility, name);
                    let role = role.ok_or(accord::ErrorKind::Invalid {
                        reason: format!("no role `{name}`"),
                    })?;
                    sys.grant_role(ursula, role, &[])?;
                }
                Ok(())
            },
        )??;
        println!("set up two organizations (one transaction)");

        let snap = policy.snapshot();
        let utility = snap.org_by_name("Utility X").ok_or("no org")?;
        let ursula =
            snap.user_by_email("ursula@utility.example").ok_or("no user")?;
        let fred =
            snap.user_by_email("fred@forecaster.example").ok_or("no user")?;
        drop(snap);
        // Ursula, the utility's administrator, shares the plant with Fred.
        policy.act(
            Actor::User(ursula),
            t,
            |u| -> Result<(), accord::MutationError> {
                let site =
                    u.create_object(utility, "sites", "plant-x", &[])?.value;
                let role = u
                    .create_role(utility, "Read Plant X", "for partners")?
                    .value;
                let p = u.create_permission_for(
                    utility,
                    "Read site X",
                    "read",
                    "sites",
                    &[site],
                )?;
                u.add_permission_to_role(role, p.value)?;
                u.grant_role(fred, role, &[])?;
                Ok(())
            },
        )??;
        println!("ursula shared plant-x with fred through `Read Plant X`");
    }

    let snap = policy.snapshot();
    let fred =
        snap.user_by_email("fred@forecaster.example").ok_or("no user")?;
    let sites = snap.schema().object_type("sites").ok_or("no type")?;
    let site = snap.object_by_key(sites, "plant-x").ok_or("no site")?;
    let read = snap.schema().action("read").ok_or("no action")?;
    let delete = snap.schema().action("delete").ok_or("no action")?;
    drop(snap);
    for (name, action) in [("read", read), ("delete", delete)] {
        let decision = policy.check(Subject::User(fred), action, site);
        println!("fred {name} plant-x: {decision:?}");
    }
    assert_eq!(policy.check(Subject::User(fred), read, site), Decision::Allow);
    assert_eq!(
        policy.check(Subject::User(fred), delete, site),
        Decision::Deny
    );

    // Fred may not delete the site: refused, and the refusal is committed
    // to the audit log too.
    let refused = policy.apply(
        Actor::User(fred),
        t,
        accord::Op::DeleteObject { object: site },
    );
    match refused {
        Err(WriteError::Refused(e)) => {
            println!("fred deletes plant-x: refused: {e}")
        }
        other => {
            return Err(format!("expected a refusal, got {other:?}").into())
        }
    }
    println!(
        "now at revision {}, {} events in the audit log since the checkpoint; \
         run again to reopen",
        policy.revision(),
        policy.snapshot().events().len()
    );
    Ok(())
}
