//! What decisions, reasons, denials, receipts and events print: words
//! and handles, never a `Debug` dump.

use accord::{presets, Actor, Subject, Timestamp};

#[test]
fn outputs_print_as_sentences() {
    let mut engine = presets::arbiter().build().unwrap();
    let t = Timestamp::from_unix_millis(0);
    let mut sys = engine.act(Actor::System, t);
    let org = sys.create_org("Utility X").unwrap();
    assert_eq!(org.to_string(), "organization#0 at r1");
    let org = org.value;
    sys.accept_terms(org).unwrap();
    let ann = sys.create_user(org, "ann@x.example").unwrap().value;
    let read_all = sys.engine().role_by_name(org, "Read all").unwrap();
    sys.grant_role(ann, read_all, &[]).unwrap();
    let site = sys.create_object(org, "sites", "plant", &[]).unwrap().value;
    let read = engine.schema().action("read").unwrap();

    let allowed = engine.explain(Subject::User(ann), read, site);
    assert_eq!(allowed.decision().to_string(), "allow");
    let shown = allowed.to_string();
    assert!(shown.starts_with("allow: role#"), "{shown}");
    assert!(shown.contains("grant#") && shown.contains("permission#"));

    let denied = engine.explain(Subject::Anonymous, read, site);
    assert_eq!(
        denied.to_string(),
        "deny: no grant or share of the subject covers the object with \
         this action"
    );
    assert_eq!(Subject::Anonymous.to_string(), "anonymous");
    assert_eq!(Subject::User(ann).to_string(), format!("{ann}"));

    let refused = engine.act(Actor::System, t).create_org("Utility X");
    assert!(refused.is_err());
    let last = engine.events().last().unwrap().to_string();
    assert!(
        last.starts_with("#5 r5 system create organization: refused: "),
        "{last}"
    );
    assert!(!last.contains("Refusal"), "{last}");
    let first = engine.events().first().unwrap().to_string();
    assert_eq!(first, "#0 r1 system create organization: applied");
}
