//! Loading seed content: decisions, audit, and errors that point at the
//! file's line and entry.

use accord::{Actor, Subject};
use accord_policy::{load_str, refs, PolicyErrorKind};

/// The Arbiter preset with two organizations.
fn arbiter_with(extra: &str) -> String {
    format!(
        "{}\n{}\n{extra}",
        accord_policy::presets::ARBITER,
        r#"
[[orgs]]
name = "Utility X"
accepted_terms = true

[[orgs]]
name = "Partner"
accepted_terms = true

[[users]]
email = "admin@utility.example"
org = "Utility X"

[[users]]
email = "ann@utility.example"
org = "Utility X"

[[users]]
email = "pat@partner.example"
org = "Partner"

[[objects]]
type = "sites"
key = "plant-x"
org = "Utility X"

[[objects]]
type = "observations"
key = "plant-x-power"
org = "Utility X"
parents = ["sites:plant-x"]

[[grants]]
user = "ann@utility.example"
role = "Read all"

[[grants]]
user = "admin@utility.example"
role = "Administer data access controls"
"#
    )
}

fn allowed(
    engine: &accord::Engine,
    who: &str,
    action: &str,
    object: &str,
) -> bool {
    let s = refs::subject(engine, who).unwrap();
    let a = engine.schema().action(action).unwrap();
    let o = refs::object(engine, object, None).unwrap();
    engine.check(s, a, o).is_allow()
}

#[test]
fn seed_content_decides() {
    let e = load_str(&arbiter_with(""), None).unwrap();
    assert!(allowed(&e, "ann@utility.example", "read", "sites:plant-x"));
    assert!(allowed(
        &e,
        "ann@utility.example",
        "read_values",
        "observations:plant-x-power"
    ));
    assert!(!allowed(&e, "ann@utility.example", "update", "sites:plant-x"));
    assert!(!allowed(&e, "pat@partner.example", "read", "sites:plant-x"));
    assert!(!allowed(&e, "anonymous", "read", "sites:plant-x"));
    // Every seed entry went through the audited mutations as `System`.
    assert!(!e.events().is_empty());
    assert!(e.events().iter().all(|ev| ev.actor == Actor::System));
    assert!(e.events().iter().all(accord::Event::applied));
    assert!(e.index_is_consistent());
}

#[test]
fn a_refused_entry_names_its_line_entry_and_code() {
    let text = arbiter_with(
        r#"
[[grants]]
user = "pat@partner.example"
role = "Administer data access controls"
org = "Utility X"
"#,
    );
    let err = load_str(&text, Some("policy.toml")).unwrap_err();
    assert_eq!(err.kind(), PolicyErrorKind::Refused);
    assert_eq!(err.code(), Some("administrative_role_outside"));
    assert_eq!(err.entry(), Some("grants[2]"));
    let line = text
        .lines()
        .position(|l| {
            l.contains("pat@partner.example") && l.starts_with("user")
        })
        .unwrap();
    // The entry starts at its header, the line above the `user` field.
    assert_eq!(err.line(), Some(line));
    assert_eq!(
        err.to_string(),
        format!(
            "policy.toml:{line}:1: grants[2]: cannot share administrative \
             role `Administer data access controls` outside its organization"
        )
    );
}

#[test]
fn an_unknown_name_is_a_reference_error() {
    let text = arbiter_with(
        "[[users]]\nemail = \"x@y.example\"\norg = \"Nowhere\"\n",
    );
    let err = load_str(&text, Some("p.toml")).unwrap_err();
    assert_eq!(err.kind(), PolicyErrorKind::Reference);
    assert_eq!(err.entry(), Some("users[3]"));
    assert!(err.to_string().ends_with("unknown organization `Nowhere`"));
    let bad_parent = arbiter_with(
        "[[objects]]\ntype = \"sites\"\nkey = \"k\"\norg = \"Partner\"\n\
         parents = [\"sites:missing\"]\n",
    );
    let err = load_str(&bad_parent, None).unwrap_err();
    assert_eq!(err.message(), "unknown object `sites:missing`");
    let bad_ref = arbiter_with(
        "[[grants]]\nuser = \"ann@utility.example\"\nrole = \"Update all\"\n\
         bindings = [\"plant-x\"]\n",
    );
    let err = load_str(&bad_ref, None).unwrap_err();
    assert_eq!(err.message(), "object `plant-x` is not written `type:key`");
}

#[test]
fn syntax_errors_have_positions() {
    let unknown = "version = 1\n[schema]\ntypes = []\ncolour = \"red\"\n";
    let err = load_str(unknown, Some("p.toml")).unwrap_err();
    assert_eq!(err.kind(), PolicyErrorKind::Syntax);
    assert_eq!((err.line(), err.column()), (Some(4), Some(1)));
    assert!(err.message().contains("unknown field `colour`"), "{err}");

    let wrong = "version = 1\n[schema]\ntypes = \"site\"\n";
    let err = load_str(wrong, None).unwrap_err();
    assert_eq!(err.line(), Some(3));

    let truncated = "version = 1\n[schema\n";
    let err = load_str(truncated, None).unwrap_err();
    assert_eq!(err.line(), Some(2));

    let missing = "version = 1\n";
    let err = load_str(missing, None).unwrap_err();
    assert!(err.message().contains("missing field `schema`"), "{err}");

    let version = "version = 7\n[schema]\n";
    let err = load_str(version, None).unwrap_err();
    assert_eq!(err.kind(), PolicyErrorKind::Version);

    let deep = format!("version = 1\n[schema]\ntypes = {}", "[".repeat(5000));
    let err = load_str(&deep, None).unwrap_err();
    assert_eq!(err.kind(), PolicyErrorKind::Syntax);

    let threshold =
        "version = 1\n[schema]\n[[schema.actions]]\nname = \"a\"\n\
                     threshold = \"high\"\n";
    let err = load_str(threshold, None).unwrap_err();
    assert_eq!(err.line(), Some(5));
    assert!(err.message().contains("unknown variant `high`"), "{err}");
}

#[test]
fn schema_errors_name_their_declaration() {
    let text = "version = 1\n[schema]\ntypes = [\"site\"]\n\n\
                [[schema.default_roles]]\nname = \"R\"\n\
                permissions = [{ action = \"read\", type = \"nowhere\" }]\n";
    let err = load_str(text, Some("p.toml")).unwrap_err();
    assert_eq!(err.kind(), PolicyErrorKind::Schema);
    assert_eq!(err.entry(), Some("schema.default_roles[0]"));
    assert_eq!(err.line(), Some(5));
    assert_eq!(err.message(), "unknown object type `nowhere` in `R`");

    let dup = "version = 1\n[schema]\ntypes = [\"site\", \"site\"]\n";
    let err = load_str(dup, None).unwrap_err();
    assert_eq!(err.entry(), Some("schema.types[1]"));
    assert_eq!((err.line(), err.column()), (Some(3), Some(18)));

    let public = "version = 1\n[schema]\ntypes = [\"site\"]\n[config]\n\
                  public_by_default = [\"users\"]\n";
    let err = load_str(public, None).unwrap_err();
    assert_eq!(err.entry(), Some("config.public_by_default[0]"));
}

#[test]
fn entries_refer_to_what_the_engine_created() {
    // A default role named again is that role; a differing description is
    // an error, not a second role.
    let text = arbiter_with(
        r#"
[[roles]]
org = "Utility X"
name = "Read all"

[[roles]]
org = "Utility X"
name = "Partner access"

[[permissions]]
org = "Utility X"
name = "Read all sites"
action = "read"
type = "sites"
applies_to_all = true
roles = ["Read all", "Partner access"]
"#,
    );
    let e = load_str(&text, None).unwrap();
    let org = e.org_by_name("Utility X").unwrap();
    assert_eq!(e.org(org).unwrap().roles().count(), 6 + 2 + 1);
    let partner = e.role_by_name(org, "Partner access").unwrap();
    let read_all = e.role_by_name(org, "Read all").unwrap();
    let shared: Vec<_> = e
        .role(partner)
        .unwrap()
        .permissions()
        .filter(|p| e.role(read_all).unwrap().permissions().any(|q| q == *p))
        .collect();
    assert_eq!(shared.len(), 1, "the default permission is reused");

    let clash = arbiter_with(
        "[[roles]]\norg = \"Utility X\"\nname = \"Read all\"\n\
         description = \"something else\"\n",
    );
    let err = load_str(&clash, None).unwrap_err();
    assert_eq!(
        err.message(),
        "role `Read all` exists with another description"
    );
}

#[test]
fn exact_removes_what_the_file_does_not_list() {
    let text = format!(
        "{}\nexact = true\n",
        accord_policy::presets::PROJECT_PORTAL.replacen(
            "version = 1\n",
            "version = 1\nexact = true\n",
            1
        )
    );
    // `exact` given twice is a duplicate key.
    assert!(load_str(&text, None).is_err());
    let text = accord_policy::presets::PROJECT_PORTAL.replacen(
        "version = 1\n",
        "version = 1\nexact = true\n",
        1,
    ) + r#"
[[orgs]]
name = "Solar Co"

[[objects]]
type = "project"
key = "rooftop"
org = "Solar Co"
"#;
    let e = load_str(&text, None).unwrap();
    let org = e.org_by_name("Solar Co").unwrap();
    assert_eq!(e.org(org).unwrap().roles().count(), 0);
    assert_eq!(e.shares().count(), 0, "the public share is not listed");
    assert!(!allowed(&e, "anonymous", "read", "project:rooftop"));

    let listed = text
        + "[[shares]]\nroot = \"project:rooftop\"\nto = \"public\"\n\
           kind = \"read_only\"\n";
    let e = load_str(&listed, None).unwrap();
    assert!(allowed(&e, "anonymous", "read", "project:rooftop"));
}

#[test]
fn shares_by_users_and_pending_shares() {
    let text = accord_policy::presets::PORTFOLIO.to_owned()
        + r#"
[[orgs]]
name = "Jack"
[[orgs]]
name = "Mary"
[[orgs]]
name = "Sam"
[[users]]
email = "mary@example.com"
org = "Mary"
[[users]]
email = "sam@example.com"
org = "Sam"
[[objects]]
type = "property"
key = "HQ"
org = "Jack"
[[objects]]
type = "energy_meter"
key = "HQ electric"
org = "Jack"
parents = ["property:HQ"]
[[connections]]
from = "Jack"
to = "Mary"
[[connections]]
from = "Mary"
to = "Sam"
[[shares]]
root = "property:HQ"
to = "user:mary@example.com"
kind = "custom"
levels = { energy_meter = "full" }
share_forward = true
[[shares]]
root = "property:HQ"
to = "user:sam@example.com"
kind = "custom"
levels = { energy_meter = "read", property = "read" }
by = "mary@example.com"
accepted = false
"#;
    let e = load_str(&text, None).unwrap();
    assert!(allowed(
        &e,
        "mary@example.com",
        "add_bill",
        "energy_meter:HQ electric"
    ));
    assert!(!allowed(&e, "mary@example.com", "update", "property:HQ"));
    // Pending: confers nothing yet.
    assert!(!allowed(&e, "sam@example.com", "read", "property:HQ"));
    let sam = e.user_by_email("sam@example.com").unwrap();
    assert_eq!(e.shares_to(accord::Grantee::User(sam)).count(), 1);

    // Mary cannot forward more than she holds.
    let over = text.replace(
        "levels = { energy_meter = \"read\", property = \"read\" }",
        "levels = { property = \"full\" }",
    );
    let err = load_str(&over, None).unwrap_err();
    assert_eq!(err.code(), Some("ceiling"));
    assert_eq!(err.entry(), Some("shares[1]"));
    let _ = Subject::Anonymous;
}
