//! Hostile text through the mutation API: names with invisible, bidi or
//! look-alike characters, confusable organization names, oversized or
//! control-laden descriptions, upper-case token hashes and unknown
//! public-by-default types are refused with a typed error and change
//! nothing but the audit log. A property test checks that a snapshot
//! loads exactly the strings the mutations accept (the load-time side of
//! each rule is in [`super::hostile`]).

use accord::{
    Actor, Builder, Config, Engine, ErrorKind, MutationError, Mutator, Op,
    Outcome, Receipt, Schema, Timestamp,
};
use proptest::prelude::*;
use serde_json::{json, Value};

const T: Timestamp = Timestamp::from_unix_millis(1_700_000_000_000);

/// The policy: the snapshot without its audit log.
fn policy(e: &Engine) -> Value {
    let mut v: Value = serde_json::from_str(&e.to_json()).unwrap();
    let o = v.as_object_mut().unwrap();
    o.remove("events");
    o.remove("log_base");
    v
}

/// Asserts the mutation is refused, changing nothing but one refused
/// event, and returns the error.
fn refused<R>(
    e: &mut Engine,
    f: impl FnOnce(&mut Mutator<'_>) -> Result<Receipt<R>, MutationError>,
) -> MutationError {
    let (before, events, state) = (e.revision(), e.events().len(), policy(e));
    let Err(err) = f(&mut e.act(Actor::System, T)) else {
        panic!("the mutation was applied");
    };
    assert_eq!(e.revision(), before);
    assert_eq!(e.events().len(), events + 1, "the refusal is logged");
    let last = e.events().last().unwrap();
    assert!(
        matches!(&last.outcome, Outcome::Refused(r) if r.code == err.code())
    );
    assert!(policy(e) == state, "a refusal changed the policy: {err}");
    assert!(e.index_is_consistent());
    err
}

/// Asserts a name error whose message contains `reason`.
fn assert_name(err: &MutationError, reason: &str) {
    assert!(matches!(err.kind(), ErrorKind::Name(_)), "{err:?}");
    assert!(err.to_string().contains(reason), "{err}");
    assert!(!err.to_string().contains(char::is_control), "{err}");
}

fn schema() -> Schema {
    Schema::builder().object_type("site").build().unwrap()
}

/// One organization `Org A` with a role `Role`, a user and nothing else.
fn small() -> Engine {
    let mut e = Builder::new(schema()).build().unwrap();
    let mut sys = e.act(Actor::System, T);
    let org = sys.create_org("Org A").unwrap().value;
    sys.create_role(org, "Role", "").unwrap();
    sys.create_user(org, "ann@a.example").unwrap();
    e
}

/// Hostile names and the reason each is refused for.
pub(super) const HOSTILE_NAMES: [(&str, &str); 10] = [
    ("Org\u{202e}A", "bidirectional control"),
    ("Org\u{2067}A\u{2069}", "bidirectional control"),
    ("Org\u{200b}A", "invisible formatting"),
    ("\u{feff}Org A", "invisible formatting"),
    ("Org A\u{fe0f}", "invisible character"),
    ("Org\0A", "control character"),
    ("\u{ff2f}rg A", "NFKC"),
    ("Org \u{410}", "look-alike letters"),
    ("Org\u{a0}A", "white space other than a plain space"),
    ("Org  A", "two spaces in a row"),
];

#[test]
fn hostile_names_are_refused_by_every_mutation() {
    let mut e = small();
    let org = e.org_by_name("Org A").unwrap();
    let user = e.user_by_email("ann@a.example").unwrap();
    for (name, reason) in HOSTILE_NAMES {
        let err = refused(&mut e, |m| m.create_org(name));
        assert_name(&err, reason);
        let err = refused(&mut e, |m| m.create_role(org, name, ""));
        assert_name(&err, reason);
        let err = refused(&mut e, |m| {
            m.create_permission_all(org, name, "read", "site")
        });
        assert_name(&err, reason);
        let err = refused(&mut e, |m| m.create_object(org, "site", name, &[]));
        assert_name(&err, reason);
        let err = refused(&mut e, |m| m.issue_token(user, None, name, None));
        assert_name(&err, reason);
        if !name.contains(' ') {
            let email = format!("{name}@a.example");
            let err = refused(&mut e, |m| m.create_user(org, &email));
            assert_name(&err, reason);
        }
    }
    for (email, reason) in [
        ("\u{430}nn@a.example", "look-alike letters"),
        ("\u{ff41}nn@a.example", "NFKC"),
        ("ann@a.exampl\u{435}", "look-alike letters"),
    ] {
        let err = refused(&mut e, |m| m.create_user(org, email));
        assert_name(&err, reason);
    }
}

#[test]
fn organization_names_are_unique_by_their_skeleton() {
    let mut e = small();
    let mut sys = e.act(Actor::System, T);
    let team = sys.create_org("Team 1").unwrap().value;
    sys.create_org("Modern").unwrap();
    for (name, existing) in
        [("Team l", "Team 1"), ("Team I", "Team 1"), ("Modem", "Modern")]
    {
        let err = refused(&mut e, |m| m.create_org(name));
        assert_eq!(err.code(), "confusable", "{err}");
        assert_eq!(
            err.to_string(),
            format!("organization `{name}` looks like existing `{existing}`")
        );
    }
    // Names that only look alike when folded stay apart, and a deleted
    // organization's skeleton is free again.
    let mut sys = e.act(Actor::System, T);
    sys.create_org("ORG A").unwrap();
    sys.delete_org(team).unwrap();
    sys.create_org("Team l").unwrap();
    let loaded = Engine::from_json(&e.to_json()).unwrap();
    assert_eq!(loaded.to_json(), e.to_json());
    let mut loaded = loaded;
    let err = refused(&mut loaded, |m| m.create_org("Team 1"));
    assert_eq!(err.code(), "confusable");
}

/// Hostile descriptions: NUL, an ANSI escape, a line break, a bidi
/// override and text one byte over the limit.
pub(super) fn hostile_descriptions() -> Vec<(String, &'static str)> {
    vec![
        ("nul\0".to_owned(), "control character"),
        ("\u{1b}[2J\u{1b}[31mroot".to_owned(), "control character"),
        ("two\nlines".to_owned(), "control character"),
        ("\u{202e}nimda".to_owned(), "bidirectional control"),
        ("x".repeat(4097), "longer than 4096 bytes"),
    ]
}

#[test]
fn hostile_descriptions_are_refused() {
    let mut e = small();
    let org = e.org_by_name("Org A").unwrap();
    let mut all = hostile_descriptions();
    all.push(("y".repeat(8 << 20), "longer than 4096 bytes"));
    for (i, (description, reason)) in all.iter().enumerate() {
        let name = format!("R{i}");
        let err = refused(&mut e, |m| m.create_role(org, &name, description));
        assert_name(&err, reason);
    }
    // The limit itself, and plain text in any script, are accepted.
    let mut sys = e.act(Actor::System, T);
    sys.create_role(org, "Long", &"z".repeat(4096)).unwrap();
    sys.create_role(org, "Uz", "Hisoblagichlarni o‘qish — чтение").unwrap();
    for (description, reason) in hostile_descriptions() {
        let err = Schema::builder()
            .object_type("site")
            .default_role("Readers", &description, &[("read", "site")])
            .build()
            .unwrap_err();
        assert!(err.to_string().contains(reason), "{err}");
    }
}

#[test]
fn token_hashes_are_lower_case_hex_only() {
    let mut e = small();
    let user = e.user_by_email("ann@a.example").unwrap();
    let op = |hash: String| Op::IssueToken {
        user,
        scope: None,
        label: "ci".to_owned(),
        expires: None,
        hash,
    };
    let (before, state) = (e.revision(), policy(&e));
    for hash in ["AB".repeat(32), "aB".repeat(32), "g".repeat(64)] {
        let err = e.apply(Actor::System, T, op(hash)).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Invalid { .. }), "{err}");
        assert!(err.to_string().contains("lower-case"), "{err}");
    }
    assert_eq!(e.revision(), before);
    assert!(policy(&e) == state);
    e.apply(Actor::System, T, op("ab".repeat(32))).unwrap();
}

#[test]
fn public_by_default_names_data_types_only() {
    for bad in ["nowhere", "users", "Site", ""] {
        let built = Builder::new(schema())
            .configure(|c| c.public_by_default = vec![bad.to_owned()])
            .build();
        let err = built.map(|_| ()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("unknown object type `{bad}` in `public_by_default`")
        );
    }
    let mut config = Config::default();
    config.public_by_default = vec!["site".to_owned()];
    assert!(Builder::new(schema()).config(config).build().is_ok());
}

// ----- load accepts exactly what the mutations accept ------------------

/// Characters hostile text is made of: letters of several scripts and
/// their look-alikes, marks, spaces, controls and invisible characters.
const POOL: &[char] = &[
    'a',
    'e',
    'o',
    'p',
    'x',
    'A',
    'K',
    'l',
    '1',
    '0',
    ' ',
    ' ',
    '-',
    '.',
    '@',
    '\u{430}',
    '\u{43e}',
    '\u{44f}',
    '\u{3b1}',
    '\u{3bb}',
    '東',
    'へ',
    '\u{301}',
    '\u{327}',
    '\u{e9}',
    '\u{a0}',
    '\u{3000}',
    '\u{200b}',
    '\u{200d}',
    '\u{202e}',
    '\u{2066}',
    '\u{feff}',
    '\u{fe0f}',
    '\u{115f}',
    '\0',
    '\t',
    '\n',
    '\u{1b}',
    '\u{7f}',
    '\u{85}',
    '\u{e000}',
    '\u{378}',
    '\u{ff41}',
    '\u{fb01}',
    '\u{212a}',
    '\u{2028}',
    '\u{1f511}',
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::collection::vec(prop::sample::select(POOL), 0..10)
            .prop_map(String::from_iter),
        1 => any::<String>(),
    ]
}

/// `base` with `pointer` set to `s`, loaded.
fn load_with(base: &Value, pointer: &str, s: &str) -> Result<Engine, String> {
    let mut v = base.clone();
    *v.pointer_mut(pointer).unwrap() = json!(s);
    Engine::from_json(&serde_json::to_string(&v).unwrap())
        .map_err(|e| e.to_string())
}

/// Applies `f` to a clone of `e`; if applied, the new engine's snapshot
/// must load as itself.
fn accepted<R>(
    e: &Engine,
    f: impl FnOnce(&mut Mutator<'_>) -> Result<Receipt<R>, MutationError>,
) -> bool {
    let mut e = e.clone();
    let ok = f(&mut e.act(Actor::System, T)).is_ok();
    if ok {
        let json = e.to_json();
        let loaded = Engine::from_json(&json).unwrap();
        assert_eq!(loaded.to_json(), json);
    }
    ok
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A string is accepted by a mutation exactly when a snapshot holding
    /// it in the same field loads, for organization names, object keys,
    /// token labels and role descriptions; whatever a mutation accepted
    /// saves and loads unchanged.
    #[test]
    fn load_accepts_exactly_what_mutations_accept(s in text()) {
        let empty = Builder::new(schema()).build().unwrap();
        let e = small();
        let org = e.org_by_name("Org A").unwrap();
        let user = e.user_by_email("ann@a.example").unwrap();
        let mut with_site = e.clone();
        with_site.act(Actor::System, T).create_object(org, "site", "k", &[])
            .unwrap();
        let mut with_token = e.clone();
        with_token.act(Actor::System, T).issue_token(user, None, "t", None)
            .unwrap();
        let snapshot = |e: &Engine| -> Value {
            serde_json::from_str(&e.to_json()).unwrap()
        };
        let site = with_site.objects().last().unwrap().0.as_usize();
        let role = e.role_by_name(org, "Role").unwrap().as_usize();
        let cases = [
            (
                accepted(&empty, |m| m.create_org(&s)),
                load_with(&snapshot(&e), "/model/orgs/0/name", &s),
            ),
            (
                accepted(&e, |m| m.create_object(org, "site", &s, &[])),
                load_with(
                    &snapshot(&with_site),
                    &format!("/model/objects/{site}/key"),
                    &s,
                ),
            ),
            (
                accepted(&e, |m| m.issue_token(user, None, &s, None)),
                load_with(&snapshot(&with_token), "/model/tokens/0/label", &s),
            ),
            (
                accepted(&e, |m| m.create_role(org, "R2", &s)),
                load_with(
                    &snapshot(&e),
                    &format!("/model/roles/{role}/description"),
                    &s,
                ),
            ),
        ];
        for (i, (api, load)) in cases.into_iter().enumerate() {
            prop_assert_eq!(api, load.is_ok(), "field {} {:?}: {:?}", i, s, load.err());
        }
    }
}
