//! The `accord` binary as a user runs it: real files in a temporary
//! folder, stdout, stderr and exit codes.

use std::path::{Path, PathBuf};
use std::process::Command;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn accord(args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .output()
        .unwrap();
    let o = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    o
}

fn presets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../policy/presets")
}

fn preset(name: &str) -> String {
    presets().join(format!("{name}.toml")).display().to_string()
}

/// The Arbiter preset with a few organizations, users and sites.
const SEED: &str = r#"
[[orgs]]
name = "Utility X"
accepted_terms = true

[[orgs]]
name = "Partner"
accepted_terms = true

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
type = "sites"
key = "plant-y"
org = "Utility X"

[[grants]]
user = "ann@utility.example"
role = "Read all"
"#;

fn policy(dir: &Path) -> String {
    let text = std::fs::read_to_string(preset("arbiter")).unwrap() + SEED;
    write(dir, "policy.toml", &text)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn validate() {
    let out = accord(&["validate", &preset("portfolio")]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("ok: "), "{}", out.stdout);
    let dir = tempfile::tempdir().unwrap();
    let p = policy(dir.path());
    let out = accord(&["validate", "--json", &p]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["organizations"], 2);
    assert_eq!(v["users"], 2);
    assert_eq!(v["objects"], 2);
}

#[test]
fn check_exits_1_on_deny() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy(dir.path());
    let out = accord(&[
        "check",
        &p,
        "user:ann@utility.example",
        "read",
        "sites:plant-x",
    ]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "allow\n"));
    let out =
        accord(&["check", &p, "pat@partner.example", "read", "sites:plant-x"]);
    assert_eq!((out.code, out.stdout.as_str()), (1, "deny\n"));
    let out =
        accord(&["check", "--json", &p, "anonymous", "read", "sites:plant-x"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "{\"decision\":\"deny\"}\n");
    // Naming something that does not exist is an input error.
    let out =
        accord(&["check", &p, "nobody@x.example", "read", "sites:plant-x"]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stderr, "error: unknown user `nobody@x.example`\n");
    let out = accord(&["check", &p, "anonymous", "fly", "sites:plant-x"]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (2, "error: unknown action `fly`\n")
    );
    let out = accord(&["check", &p, "anonymous", "read", "plant-x"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("`type:key`"), "{}", out.stderr);
}

#[test]
fn explain() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy(dir.path());
    let out = accord(&[
        "explain",
        &p,
        "ann@utility.example",
        "read",
        "sites:plant-x",
    ]);
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stdout,
        "allow\n  via role `Read all` of `Utility X`, permission `Read all sites`\n"
    );
    let out = accord(&[
        "explain",
        &p,
        "pat@partner.example",
        "read",
        "sites:plant-x",
    ]);
    assert_eq!(out.stdout, "deny\n  no grant or share allows it\n");
    let out = accord(&[
        "explain",
        "--json",
        &p,
        "ann@utility.example",
        "read",
        "sites:plant-x",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["decision"], "allow");
    assert_eq!(v["reasons"][0]["kind"], "role");
    assert_eq!(v["reasons"][0]["role"], "Read all");
    assert_eq!(v["reasons"][0]["permission"], "Read all sites");
}

#[test]
fn list() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy(dir.path());
    let out = accord(&[
        "list",
        "objects",
        &p,
        "ann@utility.example",
        "read",
        "sites",
    ]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "sites:plant-x\nsites:plant-y\n")
    );
    let out =
        accord(&["list", "subjects", "--json", &p, "read", "sites:plant-y"]);
    assert_eq!(out.stdout, "[\"user:ann@utility.example\"]\n");
    let portal = std::fs::read_to_string(preset("project_portal")).unwrap()
        + "[[orgs]]\nname = \"Solar\"\n[[objects]]\ntype = \"project\"\nkey = \"Roof\"\norg = \"Solar\"\n";
    let p = write(dir.path(), "portal.toml", &portal);
    let out = accord(&["list", "subjects", &p, "read", "project:Roof"]);
    assert_eq!(out.stdout, "anonymous\n");
}

#[test]
fn test_files() {
    let dir = presets().join("tests");
    let files: Vec<String> =
        ["arbiter", "portfolio", "project_portal", "metering"]
            .iter()
            .map(|n| dir.join(format!("{n}.toml")).display().to_string())
            .collect();
    let mut args = vec!["test"];
    args.extend(files.iter().map(String::as_str));
    let out = accord(&args);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.ends_with(" passed, 0 failed\n"), "{}", out.stdout);
    assert_eq!(
        out.stdout.lines().filter(|l| l.starts_with("ok ")).count(),
        4,
        "{}",
        out.stdout
    );

    let tmp = tempfile::tempdir().unwrap();
    policy(tmp.path());
    let failing = write(
        tmp.path(),
        "failing.toml",
        "policy = \"policy.toml\"\n\n[[check]]\nsubject = \"pat@partner.example\"\n\
         action = \"read\"\nobject = \"sites:plant-x\"\nexpect = \"allow\"\n",
    );
    let out = accord(&["test", &failing]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stdout,
        format!(
            "FAILED {failing}\n  {failing}:3: check[0]: expected allow, got deny: \
             no grant or share allows it\n0 passed, 1 failed\n"
        )
    );
    let out = accord(&["test", "--json", &failing]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["failed"], 1);
    assert_eq!(v["files"][0]["failures"][0]["line"], 3);
}

#[test]
fn export_import_and_log_verify() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy(dir.path());
    let snap = dir.path().join("engine.json").display().to_string();
    let out = accord(&["export", &p, "-o", &snap]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = accord(&["log", "verify", &snap]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("the hash chain holds and the log replays"));
    // Queries read snapshots too.
    let out = accord(&[
        "check",
        &snap,
        "ann@utility.example",
        "read",
        "sites:plant-y",
    ]);
    assert_eq!(out.code, 0);

    let back = dir.path().join("back.toml").display().to_string();
    let out = accord(&["import", &snap, "-o", &back]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = accord(&[
        "check",
        &back,
        "ann@utility.example",
        "read",
        "sites:plant-y",
    ]);
    assert_eq!(out.code, 0);
    let out = accord(&[
        "check",
        &back,
        "pat@partner.example",
        "read",
        "sites:plant-y",
    ]);
    assert_eq!(out.code, 1);
    // The imported file and the snapshot hold the same policy.
    let out = accord(&["diff", &snap, &back]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "no differences\n"));

    // An edited state no longer matches its log.
    let text = std::fs::read_to_string(&snap).unwrap();
    let forged = text.replacen("plant-y", "plant-z", 1);
    assert_ne!(forged, text);
    let bad = write(dir.path(), "forged.json", &forged);
    let out = accord(&["log", "verify", &bad]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.starts_with("verification failed: "), "{}", out.stderr);
    // Not a snapshot at all: an input error.
    let junk = write(dir.path(), "junk.json", "{\"version\": ");
    let out = accord(&["log", "verify", &junk]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
}

#[test]
fn diff() {
    let dir = tempfile::tempdir().unwrap();
    let a = policy(dir.path());
    let text = std::fs::read_to_string(&a).unwrap();
    let changed = text
        .replace("key = \"plant-y\"", "key = \"plant-z\"")
        .replace("threshold = \"full\"\n\n[[schema.actions]]\nname = \"delete_values\"", "threshold = \"read\"\n\n[[schema.actions]]\nname = \"delete_values\"")
        .replace("types = [\"sites\",", "types = [\"meters\", \"sites\",")
        + "[[grants]]\nuser = \"pat@partner.example\"\nrole = \"Read all\"\n\
           [config.limits]\nmax_parents = 4\n";
    let b = write(dir.path(), "b.toml", &changed);
    let out = accord(&["diff", &a, &b]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "+ type `meters`\n\
         ~ action `write_values`: threshold: `full` → `read`\n\
         ~ config `limits`: max_parents: `16` → `4`\n\
         - object `sites:plant-y`\n\
         + object `sites:plant-z`\n\
         + grant `pat@partner.example → Read all`\n"
    );
    let out = accord(&["diff", "--json", &a, &a]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "{\"changes\":[]}\n"));
}

#[test]
fn hostile_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let full = std::fs::read_to_string(policy(dir.path())).unwrap();
    let cases: Vec<(&str, String)> = vec![
        ("truncated.toml", full[..full.len() / 2 + 7].to_owned()),
        ("wrong.toml", "version = \"one\"\n[schema]\n".to_owned()),
        ("unknown.toml", "version = 1\n[schema]\ntypes = []\n[[orgs]]\nname = \"X\"\ncolour = 1\n".to_owned()),
        ("nested.toml", format!("version = 1\n[schema]\ntypes = {}\n", "[".repeat(100_000))),
        ("empty.toml", String::new()),
        ("binary.toml", String::from_utf8_lossy(&[0xff, 0x00, 0x13]).into_owned()),
    ];
    for (name, text) in &cases {
        let p = write(dir.path(), name, text);
        let out = accord(&["validate", &p]);
        assert_eq!(out.code, 2, "{name}: {}", out.stdout);
        assert!(
            out.stderr.starts_with(&format!("error: {p}:")),
            "{name}: {}",
            out.stderr
        );
        assert_eq!(out.stderr.lines().count(), 1, "{name}: {}", out.stderr);
    }
    let p = write(dir.path(), "wrong.toml", "version = \"one\"\n[schema]\n");
    let out = accord(&["validate", &p]);
    assert!(
        out.stderr.starts_with(&format!("error: {p}:1:11: ")),
        "{}",
        out.stderr
    );
    let p = write(dir.path(), "unknown.toml", &cases[2].1);
    let out = accord(&["validate", &p]);
    assert!(
        out.stderr
            .starts_with(&format!("error: {p}:6:1: unknown field `colour`")),
        "{}",
        out.stderr
    );

    // Not UTF-8 at all.
    let raw = dir.path().join("raw.toml");
    std::fs::write(&raw, [0xff_u8, 0xfe, 0x00]).unwrap();
    let out = accord(&["validate", raw.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("is not UTF-8 text"), "{}", out.stderr);

    // Larger than the limit: refused before it is read.
    let huge = dir.path().join("huge.toml");
    let f = std::fs::File::create(&huge).unwrap();
    f.set_len(accord_policy::MAX_FILE_BYTES + 1).unwrap();
    let out = accord(&["validate", huge.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("is larger than"), "{}", out.stderr);

    let out = accord(&["validate", "/nonexistent/policy.toml"]);
    assert_eq!(out.code, 2);
    assert!(out
        .stderr
        .starts_with("error: cannot read `/nonexistent/policy.toml`"));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(accord(&[]).code, 2);
    assert_eq!(accord(&["frobnicate"]).code, 2);
    assert_eq!(accord(&["check", "only-a-file"]).code, 2);
    let help = accord(&["--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("validate"));
}

/// A policy file moves into a new SQLite store, which the queries and
/// `import` then read; a store that holds a policy refuses a second one,
/// and a missing store is an input error that creates nothing.
#[test]
fn export_to_a_store_and_read_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy(dir.path());
    let db = dir.path().join("policy.db");
    let store = format!("sqlite:{}", db.display());
    let out = accord(&["export", &p, "-o", &store]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = accord(&[
        "check",
        &store,
        "ann@utility.example",
        "read",
        "sites:plant-y",
    ]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "allow\n"),
        "{}",
        out.stderr
    );
    let back = dir.path().join("back.toml").display().to_string();
    let out = accord(&["import", &store, "-o", &back]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The same policy as the file's own snapshot.
    let snap = dir.path().join("engine.json").display().to_string();
    assert_eq!(accord(&["export", &p, "-o", &snap]).code, 0);
    let out = accord(&["diff", &snap, &back]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "no differences\n"));
    let out = accord(&["export", &p, "-o", &store]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("already holds a policy"), "{}", out.stderr);
    let missing = dir.path().join("missing.db");
    let out = accord(&[
        "check",
        &format!("sqlite:{}", missing.display()),
        "anonymous",
        "read",
        "sites:plant-y",
    ]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no such store"), "{}", out.stderr);
    assert!(!missing.exists());
}
