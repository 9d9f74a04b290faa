//! The test-file runner: the shipped preset test files pass, and a
//! failing step is reported with the engine's explanation.

use std::path::Path;

use accord_policy::testing::{run_path, run_str};

#[test]
fn preset_test_files_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/tests");
    for name in ["arbiter", "portfolio", "project_portal", "metering"] {
        let report = run_path(&dir.join(format!("{name}.toml"))).unwrap();
        let failures: Vec<String> =
            report.failures.iter().map(ToString::to_string).collect();
        assert!(failures.is_empty(), "{name}: {failures:#?}");
        assert!(report.steps > 10, "{name}: {} steps", report.steps);
    }
}

const SCENARIO: &str = r#"
preset = "arbiter"

[[orgs]]
name = "Utility X"
accepted_terms = true

[[users]]
email = "ann@utility.example"
org = "Utility X"

[[objects]]
type = "sites"
key = "plant-x"
org = "Utility X"

[[grants]]
user = "ann@utility.example"
role = "Read all"
"#;

fn run(steps: &str) -> accord_policy::testing::Report {
    run_str(&format!("{SCENARIO}{steps}"), Some("t.toml"), Path::new("."))
        .unwrap()
}

#[test]
fn failures_carry_the_explanation_and_line() {
    let report = run(r#"
[[check]]
subject = "user:ann@utility.example"
action = "update"
object = "sites:plant-x"
expect = "allow"

[[check]]
subject = "user:ann@utility.example"
action = "read"
object = "sites:plant-x"
expect = "deny"
"#);
    assert_eq!(report.steps, 2);
    assert_eq!(report.failures.len(), 2);
    let first = &report.failures[0];
    assert_eq!(first.step, "check[0]");
    assert_eq!(first.line, SCENARIO.lines().count() + 2);
    assert_eq!(
        first.message,
        "expected allow, got deny: no grant or share allows it"
    );
    assert_eq!(
        report.failures[1].message,
        "expected deny, got allow: via role `Read all` of `Utility X`, \
         permission `Read all sites`"
    );
}

#[test]
fn steps_run_in_file_order() {
    // A check after a revoke sees the revoke, whatever the sections.
    let report = run(r#"
[[check]]
subject = "user:ann@utility.example"
action = "read"
object = "sites:plant-x"
expect = "allow"

[[mutate]]
actor = "system"
revoke_role = { user = "ann@utility.example", role = "Read all" }
expect = "ok"

[[check]]
subject = "user:ann@utility.example"
action = "read"
object = "sites:plant-x"
expect = "deny"
"#);
    assert!(report.passed(), "{:?}", report.failures);
}

#[test]
fn wrong_expectations_of_every_kind_fail() {
    let report = run(r#"
[[explain]]
subject = "user:ann@utility.example"
action = "read"
object = "sites:plant-x"
expect = "role"
role = "Update all"

[[explain]]
subject = "anonymous"
action = "read"
object = "sites:plant-x"
expect = "share"

[[objects_for]]
subject = "user:ann@utility.example"
action = "read"
type = "sites"
expect = ["plant-x", "plant-z"]

[[subjects_for]]
action = "read"
object = "sites:plant-x"
expect = []

[[mutate]]
actor = "ann@utility.example"
create_role = { org = "Utility X", name = "Mine" }
expect = "ok"

[[mutate]]
actor = "system"
create_role = { org = "Utility X", name = "Mine" }
expect = "denied"

[[mutate]]
actor = "system"
expect = "ok"

[[check]]
subject = "user:nobody@utility.example"
action = "read"
object = "sites:plant-x"
expect = "deny"
"#);
    let messages: Vec<&str> =
        report.failures.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "expected role by role `Update all`, got allow: via role `Read \
             all` of `Utility X`, permission `Read all sites`",
            "expected share, got deny: no grant or share allows it",
            "expected `sites:plant-x`, `sites:plant-z`, got `sites:plant-x`: \
             missing `sites:plant-z`",
            "expected nothing, got `ann@utility.example`: unexpected \
             `ann@utility.example`",
            "expected ok, got `denied`: `create role` denied: actor lacks \
             `create` on `roles`",
            "expected refusal `denied`, got ok",
            "a mutate step holds exactly one operation, this one holds 0",
            "unknown user `nobody@utility.example`",
        ]
    );
}

#[test]
fn a_broken_test_file_is_an_error_with_position() {
    let err = run_str(
        "preset = \"arbiter\"\n[[check]]\nsubject = 1\n",
        Some("t.toml"),
        Path::new("."),
    )
    .unwrap_err();
    assert_eq!(err.line(), Some(3));
    assert!(err.to_string().starts_with("t.toml:3:"), "{err}");
    let err =
        run_str("preset = \"nope\"\n", None, Path::new(".")).unwrap_err();
    assert_eq!(err.message(), "unknown preset `nope`");
    let err =
        run_str("policy = \"missing.toml\"\n", None, Path::new("/nowhere"))
            .unwrap_err();
    assert!(
        err.message().starts_with("cannot read `/nowhere/missing.toml`"),
        "{err}"
    );
    let err = run_str(
        &format!(
            "{SCENARIO}[[grants]]\nuser = \"x@y.example\"\nrole = \"R\"\n"
        ),
        Some("t.toml"),
        Path::new("."),
    )
    .unwrap_err();
    assert_eq!(err.entry(), Some("grants[1]"));
    assert_eq!(err.line(), Some(SCENARIO.lines().count() + 1));
}
