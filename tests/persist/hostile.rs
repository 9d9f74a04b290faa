//! Hostile snapshots and logs: each committed sample of
//! `tests/data/hostile/` is refused with its exact error; replay refuses
//! damaged logs; limits hold at mutation and at load time; committed fuzz
//! crashers load without panicking; binary (bincode) snapshots with a
//! length prefix set to a huge value are refused, without aborting.
//!
//! The samples are made from [`base_engine`] by the recipes in
//! [`samples`]; `hostile_samples_match_their_recipes` fails when a
//! committed file no longer matches its recipe (for instance after a
//! change of the snapshot format). Regenerate them, and the fuzz seeds,
//! with
//!
//! ```sh
//! ACCORD_BLESS=1 cargo test --all-features --test integration persist::
//! ```

use std::path::{Path, PathBuf};

use accord::{
    Actor, Builder, Engine, ErrorKind, Limits, LoadErrorKind, Loader, Schema,
    Timestamp,
};
use serde_json::{json, Value};

use super::gen::{self, Mode};
use super::{base_engine, compose, Base};

fn dir(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The base snapshot as a JSON tree.
fn base_value() -> (Value, Base) {
    let (engine, base) = base_engine();
    (serde_json::from_str(&engine.to_json()).unwrap(), base)
}

/// The snapshot `v` as text, with the base schema in its original order.
fn text(v: &Value) -> String {
    let (engine, _) = base_engine();
    compose(v, &serde_json::to_string(engine.schema()).unwrap())
}

fn at<'a>(v: &'a mut Value, pointer: &str) -> &'a mut Value {
    v.pointer_mut(pointer).unwrap_or_else(|| panic!("no `{pointer}`"))
}

/// Every hostile sample: file name and content.
fn samples() -> Vec<(&'static str, String)> {
    let (base, b) = base_value();
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = base.clone();
        f(&mut v);
        text(&v)
    };
    let full = text(&base);
    let half = full.get(..full.len() / 2).unwrap().to_owned();
    let (site, meter) = (b.site.as_usize(), b.meter.as_usize());
    vec![
        ("truncated.json", half),
        (
            "unknown_field.json",
            edit(&|v| {
                let org = at(v, "/model/orgs/0").as_object_mut().unwrap();
                org.insert("superuser".to_owned(), json!(true));
            }),
        ),
        (
            "dangling_id.json",
            edit(&|v| *at(v, "/model/grants/0/role") = json!(4_000)),
        ),
        (
            "parent_cycle.json",
            edit(&|v| {
                *at(v, &format!("/model/objects/{site}/parents")) =
                    json!([meter]);
            }),
        ),
        (
            "over_ceiling.json",
            edit(&|v| {
                *at(v, "/model/shares/1/levels/0/1") = json!("Full");
            }),
        ),
        (
            "admin_role_outside.json",
            edit(&|v| {
                let grants = at(v, "/model/grants").as_array_mut().unwrap();
                grants.push(json!({
                    "user": b.bob.as_usize(),
                    "role": b.admins.as_usize(),
                    "bindings": [],
                }));
            }),
        ),
        (
            "huge_number.json",
            edit(&|v| {
                // Not representable as a `u32` handle (nor as a `u64`).
                *at(v, "/model/users/0/org") =
                    serde_json::from_str("1e400").unwrap_or(json!(1e300));
            }),
        ),
        (
            "handle_beyond_max.json",
            edit(&|v| {
                *at(v, &format!("/model/objects/{meter}/parents")) =
                    json!([u32::MAX]);
            }),
        ),
        (
            "deep_nesting.json",
            format!("{{\"version\":1,\"schema\":{}\n", "[".repeat(100_000)),
        ),
        ("wrong_version.json", edit(&|v| *at(v, "/version") = json!(2))),
        (
            "invalid_name.json",
            edit(&|v| *at(v, "/model/roles/0/name") = json!("Admins\u{7}")),
        ),
        (
            "over_limit.json",
            edit(&|v| {
                // The snapshot raises its own limits, which loading
                // ignores, and gives the meter 17 parents (the default
                // limit is 16).
                for limit in at(v, "/config/limits").as_object_mut().unwrap() {
                    *limit.1 = json!(u64::MAX);
                }
                let objects = at(v, "/model/objects").as_array_mut().unwrap();
                let first = objects.len();
                for i in 0..17 {
                    objects.push(json!({
                        "key": format!("extra-{i}"),
                        "kind": "Data",
                        "org": 0,
                        "parents": [],
                        "ty": objects[site]["ty"],
                    }));
                }
                let parents: Vec<usize> = (first..first + 17).collect();
                *at(v, &format!("/model/objects/{meter}/parents")) =
                    json!(parents);
            }),
        ),
    ]
}

fn sample(name: &str) -> String {
    let path = dir("tests/data/hostile").join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn load_err(name: &str) -> LoadErrorKind {
    match Engine::from_json(&sample(name)) {
        Ok(_) => panic!("hostile sample `{name}` loaded"),
        Err(e) => e.kind().clone(),
    }
}

/// Asserts an `Invalid` error at `path` whose reason contains `reason`.
fn assert_invalid(kind: &LoadErrorKind, path: &str, reason: &str) {
    match kind {
        LoadErrorKind::Invalid { path: p, reason: r } => {
            assert_eq!(p, path, "{kind}");
            assert!(r.contains(reason), "{kind}");
        }
        other => panic!("expected an invalid-snapshot error, got {other:?}"),
    }
}

fn assert_syntax(kind: &LoadErrorKind, needle: &str) {
    match kind {
        LoadErrorKind::Syntax(msg) => assert!(msg.contains(needle), "{msg}"),
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

/// Writes the samples and the fuzz seeds when `ACCORD_BLESS` is set.
fn bless() {
    let hostile = dir("tests/data/hostile");
    std::fs::create_dir_all(&hostile).unwrap();
    for (name, content) in samples() {
        std::fs::write(hostile.join(name), content).unwrap();
    }
    let (engine, _) = base_engine();
    let seeds: [&[u8]; 4] = [
        b"\x00\x10\x00\x00\x10\x01\x20\x02\x00\x05\x00\x04\x00\x00\x01\x00",
        b"\x01\x00\x00\x00\x00\x02\x00\x05\x00\x00\x03\x00\x14\x00\x00\x00",
        b"\x02\x00\x00\x01\x00\x00\x00\x00\x02\x01\x05\x00\x00\x00\x14\x00",
        b"\x03\x00\x00\x00\x00\x02\x00\x04\x00\x00\x00\x00\x1c\x00\x00\x00",
    ];
    for target in ["load", "roundtrip"] {
        let d = dir("fuzz/seeds").join(target);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("base.json"), engine.to_json()).unwrap();
        // A snapshot taken after a drain: its log starts past 0.
        let mut drained = engine.clone();
        let _ = drained.drain_events();
        let t = Timestamp::from_unix_millis(1);
        drained.act(Actor::System, t).create_org("Drained").unwrap();
        std::fs::write(d.join("drained.json"), drained.to_json()).unwrap();
        if target == "load" {
            // `load` reads bincode too.
            let bin = |e: &Engine| bincode::serialize(e).unwrap();
            std::fs::write(d.join("base.bincode"), bin(&engine)).unwrap();
            std::fs::write(d.join("drained.bincode"), bin(&drained)).unwrap();
        }
        for (i, s) in seeds.iter().enumerate() {
            let e = gen::build(Mode::Everything, s);
            std::fs::write(d.join(format!("gen{i}.json")), e.to_json())
                .unwrap();
        }
    }
    let d = dir("fuzz/seeds/ops");
    std::fs::create_dir_all(&d).unwrap();
    for (i, s) in seeds.iter().enumerate() {
        std::fs::write(d.join(format!("seed{i}")), s).unwrap();
    }
}

#[test]
fn hostile_samples_match_their_recipes() {
    if std::env::var_os("ACCORD_BLESS").is_some() {
        bless();
    }
    for (name, content) in samples() {
        assert!(
            sample(name) == content,
            "tests/data/hostile/{name} is stale: rerun with ACCORD_BLESS=1"
        );
    }
}

#[test]
fn the_base_of_the_samples_loads() {
    let (engine, _) = base_engine();
    let loaded = Engine::from_json(&engine.to_json()).unwrap();
    assert_eq!(loaded.to_json(), engine.to_json());
}

#[test]
fn hostile_truncated() {
    assert_syntax(&load_err("truncated.json"), "EOF");
}

#[test]
fn hostile_unknown_field() {
    assert_syntax(
        &load_err("unknown_field.json"),
        "unknown field `superuser`",
    );
}

#[test]
fn hostile_dangling_id() {
    assert_invalid(
        &load_err("dangling_id.json"),
        "model.grants[0]",
        "dangling user or role",
    );
}

#[test]
fn hostile_parent_cycle() {
    let (_, b) = base_engine();
    let kind = load_err("parent_cycle.json");
    assert_invalid(
        &kind,
        &format!("model.objects[{}].parents", b.site.as_usize()),
        "cycle among objects",
    );
}

#[test]
fn hostile_over_ceiling_share() {
    assert_invalid(
        &load_err("over_ceiling.json"),
        "model.shares[1]",
        "not derivable from the owner within its grantor's ceiling",
    );
}

#[test]
fn hostile_administrative_role_outside_its_organization() {
    let (engine, _) = base_engine();
    let n = engine.grants().count();
    assert_invalid(
        &load_err("admin_role_outside.json"),
        &format!("model.grants[{n}]"),
        "administrative role granted outside its organization",
    );
}

#[test]
fn hostile_huge_number() {
    assert_syntax(&load_err("huge_number.json"), "");
}

#[test]
fn hostile_handle_beyond_max() {
    let (_, b) = base_engine();
    let kind = load_err("handle_beyond_max.json");
    assert_invalid(
        &kind,
        &format!("model.objects[{}]", b.meter.as_usize()),
        "invalid, repeated or dangling parent",
    );
}

#[test]
fn hostile_deep_nesting() {
    // Refused at the first bracket (the schema is a map), before any
    // recursion: typed deserialization never descends into it.
    assert_syntax(&load_err("deep_nesting.json"), "invalid type: sequence");
    let deep = "[".repeat(100_000);
    assert!(matches!(
        Engine::from_json(&deep).unwrap_err().kind(),
        LoadErrorKind::Syntax(_)
    ));
    let deep = format!("{{\"version\":1,\"events\":{deep}");
    assert!(matches!(
        Engine::from_json(&deep).unwrap_err().kind(),
        LoadErrorKind::Syntax(_)
    ));
}

#[test]
fn hostile_wrong_version() {
    assert_eq!(
        load_err("wrong_version.json"),
        LoadErrorKind::Version {
            found: 2,
            expected: accord::SNAPSHOT_VERSION
        }
    );
}

#[test]
fn hostile_invalid_name() {
    // Names are validated as they are read, as `Name::new` does.
    assert_syntax(&load_err("invalid_name.json"), "control character");
}

#[test]
fn errors_quoting_input_stay_on_one_line() {
    // serde names the unknown field, as decoded: here with a line feed.
    let err = Engine::from_json(r#"{"version":1,"schema":{"acti\ns":[]}}"#)
        .expect_err("unknown field");
    let msg = err.to_string();
    assert!(msg.contains(r"acti\ns"), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
    // A name too long to take is quoted in part, escaped too.
    let long = format!("a\n{}", "b".repeat(300));
    let err = accord::Name::new(&long).expect_err("too long");
    assert!(!err.to_string().contains('\n'), "{err}");
}

#[test]
fn hostile_over_limit() {
    let (_, b) = base_engine();
    assert_invalid(
        &load_err("over_limit.json"),
        &format!("model.objects[{}]", b.meter.as_usize()),
        "too many parents",
    );
}

/// Every sample is also refused through serde (`Deserialize for Engine`).
#[test]
fn hostile_samples_are_refused_through_serde_too() {
    for (name, _) in samples() {
        let r: Result<Engine, _> = serde_json::from_str(&sample(name));
        assert!(r.is_err(), "{name} loaded through serde");
    }
}

/// Every sample is refused from a reader with the error `from_json`
/// gives, and the base snapshot streams in and out unchanged.
#[test]
fn snapshots_stream_through_readers_and_writers() {
    for (name, _) in samples() {
        let text = sample(name);
        let from_str = Engine::from_json(&text).map(|_| ()).unwrap_err();
        let from_reader =
            Engine::read_json(text.as_bytes()).map(|_| ()).unwrap_err();
        match (from_reader.kind(), from_str.kind()) {
            // The two parsers count the column of an error differently.
            (LoadErrorKind::Syntax(a), LoadErrorKind::Syntax(b)) => {
                let what =
                    |m: &str| m.split(" at line").next().map(str::to_owned);
                assert_eq!(what(a), what(b), "{name}");
            }
            (a, b) => assert_eq!(a, b, "{name}"),
        }
    }
    let (engine, _) = base_engine();
    let mut bytes = Vec::new();
    engine.write_json(&mut bytes).unwrap();
    assert_eq!(bytes, engine.to_json().into_bytes());
    let loaded = Engine::read_json(std::io::BufReader::new(&bytes[..]));
    assert_eq!(loaded.unwrap().to_json(), engine.to_json());
}

/// A reader that fails after `n` bytes.
struct Failing<'a> {
    bytes: &'a [u8],
    n: usize,
}

impl std::io::Read for Failing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.n == 0 {
            return Err(std::io::Error::other("disk on fire"));
        }
        let k = buf.len().min(self.n).min(self.bytes.len());
        buf[..k].copy_from_slice(&self.bytes[..k]);
        self.bytes = &self.bytes[k..];
        self.n -= k;
        Ok(k)
    }
}

/// A failing reader or writer gives an I/O error, never a half engine.
#[test]
fn failing_readers_and_writers_give_io_errors() {
    let (engine, _) = base_engine();
    let json = engine.to_json();
    for n in [0, 1, json.len() / 2, json.len() - 1] {
        let r = Failing { bytes: json.as_bytes(), n };
        match Engine::read_json(r).map(|_| ()).unwrap_err().kind() {
            LoadErrorKind::Io(msg) => {
                assert!(msg.contains("disk on fire"), "{msg}");
            }
            other => panic!("after {n} bytes: {other:?}"),
        }
    }
    struct Full(usize);
    impl std::io::Write for Full {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0 < buf.len() {
                return Err(std::io::Error::other("no space left"));
            }
            self.0 -= buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let err = engine.write_json(Full(json.len() / 2)).unwrap_err();
    assert!(err.to_string().contains("no space left"), "{err}");
    engine.write_json(Full(json.len())).unwrap();
}

// ----- replay ---------------------------------------------------------

fn base_builder() -> Builder {
    let schema = Schema::builder()
        .object_type("site")
        .object_type("meter")
        .action("read_values", accord::Threshold::Read)
        .build()
        .unwrap();
    Builder::new(schema)
        .configure(|c| c.downstream = accord::Downstream::Cascade)
}

fn replay_err(events: &[accord::Event]) -> (u64, String) {
    match Engine::replay(base_builder(), events) {
        Ok(_) => panic!("a damaged log replayed"),
        Err(e) => match e.kind() {
            LoadErrorKind::Replay { seq, reason } => (*seq, reason.clone()),
            other => panic!("expected a replay error, got {other:?}"),
        },
    }
}

#[test]
fn replay_of_the_intact_base_log_succeeds() {
    let (engine, _) = base_engine();
    let replayed = Engine::replay(base_builder(), engine.events()).unwrap();
    assert_eq!(replayed.to_json(), engine.to_json());
}

#[test]
fn replay_refuses_a_gap() {
    let (engine, _) = base_engine();
    let mut log = engine.events().to_vec();
    log.remove(5);
    let (seq, reason) = replay_err(&log);
    assert_eq!(seq, 5);
    assert!(reason.contains("out of order or missing"), "{reason}");
}

#[test]
fn replay_refuses_a_reordered_event() {
    let (engine, _) = base_engine();
    let mut log = engine.events().to_vec();
    log.swap(6, 7);
    let (seq, reason) = replay_err(&log);
    assert_eq!(seq, 6);
    assert!(reason.contains("out of order"), "{reason}");
    // Renumbering the swapped events does not help: the chain breaks.
    let (a, b) = (log[6].seq, log[7].seq);
    log[6].seq = b;
    log[7].seq = a;
    let (seq, reason) = replay_err(&log);
    assert_eq!(seq, 6);
    assert!(reason.contains("digest does not match"), "{reason}");
}

#[test]
fn replay_refuses_a_tampered_event() {
    let (engine, _) = base_engine();
    let mut log = engine.events().to_vec();
    // Event 3 created ann; make it create someone else.
    let mut v = serde_json::to_value(&log[3]).unwrap();
    assert_eq!(v["op"]["create_user"]["email"], "ann@a.example");
    v["op"]["create_user"]["email"] = json!("mallory@evil.example");
    log[3] = serde_json::from_value(v).unwrap();
    let (seq, reason) = replay_err(&log);
    assert_eq!(seq, 3);
    assert!(reason.contains("tampered"), "{reason}");
}

#[test]
fn loading_refuses_a_tampered_log() {
    let (engine, _) = base_engine();
    let mut v: Value = serde_json::from_str(&engine.to_json()).unwrap();
    v["events"][4]["at"] = json!(0);
    let err = Engine::from_json(&text(&v)).unwrap_err();
    assert_invalid(err.kind(), "events[4]", "digest does not match");
    let mut v: Value = serde_json::from_str(&engine.to_json()).unwrap();
    v["events"].as_array_mut().unwrap().remove(2);
    let err = Engine::from_json(&text(&v)).unwrap_err();
    assert_invalid(err.kind(), "events[2]", "out of order or missing");
}

// ----- limits ---------------------------------------------------------

/// An engine over the base schema with `limits` adjusted by `f`, and one
/// organization with a user and a site.
fn limited(
    f: impl FnOnce(&mut accord::Limits),
) -> (Engine, accord::OrgId, accord::UserId, accord::ObjectId) {
    let mut engine =
        base_builder().configure(|c| f(&mut c.limits)).build().unwrap();
    let mut sys = engine.act(Actor::System, Timestamp::default());
    let org = sys.create_org("Org A").unwrap().value;
    let user = sys.create_user(org, "ann@a.example").unwrap().value;
    let site = sys.create_object(org, "site", "s0", &[]).unwrap().value;
    (engine, org, user, site)
}

fn assert_limit(
    r: Result<impl std::fmt::Debug, accord::MutationError>,
    max: usize,
) {
    let err = r.unwrap_err();
    assert!(err.is_limit(), "{err}");
    match err.kind() {
        ErrorKind::Limit { max: m, .. } => assert_eq!(*m, max),
        other => panic!("expected a limit error, got {other:?}"),
    }
}

/// The default limits with `limit` (a field's name) set to `max`.
fn limits_with(limit: &str, max: usize) -> Limits {
    let mut v = serde_json::to_value(Limits::default()).unwrap();
    v[limit] = json!(max);
    serde_json::from_value(v).unwrap()
}

/// Loads `e`'s snapshot under the default limits with `limit` lowered to
/// `max`, and returns the error.
fn load_with_limit(e: &Engine, limit: &str, max: usize) -> LoadErrorKind {
    let loader = Loader::new().limits(limits_with(limit, max));
    loader.from_json(&e.to_json()).unwrap_err().kind().clone()
}

#[test]
fn limit_parents_at_mutation_and_load() {
    let (mut engine, org, _, site) = limited(|l| l.max_parents = 1);
    let mut sys = engine.act(Actor::System, Timestamp::default());
    let other = sys.create_object(org, "site", "s1", &[]).unwrap().value;
    let child = sys.create_object(org, "meter", "m", &[site]).unwrap().value;
    let before = sys.engine().revision();
    assert_limit(sys.create_object(org, "meter", "m2", &[site, other]), 1);
    assert_limit(sys.link_object(child, other), 1);
    assert_eq!(engine.revision(), before, "a refusal changes nothing");
    let kind = load_with_limit(&engine, "max_parents", 0);
    assert_invalid(
        &kind,
        &format!("model.objects[{}]", child.as_usize()),
        "too many parents",
    );
}

#[test]
fn limit_ancestors_at_mutation_and_load() {
    let (mut engine, org, _, site) = limited(|l| l.max_ancestors = 2);
    let mut sys = engine.act(Actor::System, Timestamp::default());
    let m1 = sys.create_object(org, "meter", "m1", &[site]).unwrap().value;
    let m2 = sys.create_object(org, "meter", "m2", &[m1]).unwrap().value;
    assert_limit(sys.create_object(org, "meter", "m3", &[m2]), 2);
    let kind = load_with_limit(&engine, "max_ancestors", 1);
    assert_invalid(
        &kind,
        &format!("model.objects[{}]", m2.as_usize()),
        "too many ancestors",
    );
}

#[test]
fn limit_grants_per_user_at_mutation_and_load() {
    let (mut engine, org, user, _) = limited(|l| l.max_grants_per_user = 2);
    let mut sys = engine.act(Actor::System, Timestamp::default());
    for name in ["R0", "R1"] {
        let r = sys.create_role(org, name, "").unwrap().value;
        sys.grant_role(user, r, &[]).unwrap();
    }
    let r = sys.create_role(org, "R2", "").unwrap().value;
    assert_limit(sys.grant_role(user, r, &[]), 2);
    let kind = load_with_limit(&engine, "max_grants_per_user", 1);
    assert_invalid(&kind, "model.grants[1]", "too many grants");
}

#[test]
fn limit_permissions_per_role_at_mutation_and_load() {
    let (mut engine, org, _, _) = limited(|l| l.max_permissions_per_role = 1);
    let mut sys = engine.act(Actor::System, Timestamp::default());
    let role = sys.create_role(org, "R", "").unwrap().value;
    let p0 = sys.create_permission_all(org, "P0", "read", "site").unwrap();
    let p1 = sys.create_permission_all(org, "P1", "update", "site").unwrap();
    sys.add_permission_to_role(role, p0.value).unwrap();
    assert_limit(sys.add_permission_to_role(role, p1.value), 1);
    let kind = load_with_limit(&engine, "max_permissions_per_role", 0);
    assert_invalid(
        &kind,
        &format!("model.roles[{}]", role.as_usize()),
        "too many permissions",
    );
}

#[test]
fn limit_bindings_at_mutation_and_load() {
    let (mut engine, org, user, site) = limited(|l| l.max_bindings = 1);
    let mut sys = engine.act(Actor::System, Timestamp::default());
    let meter = sys.create_object(org, "meter", "m", &[site]).unwrap().value;
    let r0 = sys.create_role(org, "R0", "").unwrap().value;
    let r1 = sys.create_role(org, "R1", "").unwrap().value;
    sys.grant_role(user, r0, &[site]).unwrap();
    assert_limit(sys.grant_role(user, r1, &[site, meter]), 1);
    let kind = load_with_limit(&engine, "max_bindings", 0);
    assert_invalid(&kind, "model.grants[0]", "too many bindings");
}

#[test]
fn limit_objects_per_permission_at_mutation_and_load() {
    let (mut engine, org, _, site) =
        limited(|l| l.max_objects_per_permission = 1);
    let mut sys = engine.act(Actor::System, Timestamp::default());
    let s1 = sys.create_object(org, "site", "s1", &[]).unwrap().value;
    let p = sys
        .create_permission_for(org, "P", "read", "site", &[site])
        .unwrap()
        .value;
    assert_limit(sys.add_object_to_permission(p, s1), 1);
    let kind = load_with_limit(&engine, "max_objects_per_permission", 0);
    assert_invalid(
        &kind,
        &format!("model.permissions[{}]", p.as_usize()),
        "too many objects",
    );
}

#[test]
fn limit_share_depth_at_load() {
    // The base engine's chain: owner → bob (depth 1) → cat (depth 2).
    // (At mutation time: `sharing::ceiling::share_chains_are_bounded_by_
    // the_depth_limit`.)
    let (engine, _) = base_engine();
    let cat_share = engine
        .shares()
        .find(|(_, s)| s.grantor() != accord::Grantor::Owner)
        .map(|(id, _)| id)
        .unwrap();
    let kind = load_with_limit(&engine, "max_share_depth", 1);
    assert_invalid(
        &kind,
        &format!("model.shares[{}]", cat_share.as_usize()),
        "share chain deeper than the limit",
    );
    // At the actual depth it loads.
    let loader = Loader::new().limits(limits_with("max_share_depth", 2));
    assert!(loader.from_json(&engine.to_json()).is_ok());
}

/// A snapshot written under larger limits loads only when the caller
/// says so; its own limits are never trusted, whatever they say.
#[test]
fn a_snapshot_cannot_raise_its_own_limits() {
    let (mut engine, org, _, site) = limited(|l| l.max_parents = 32);
    let mut sys = engine.act(Actor::System, Timestamp::default());
    let mut parents = vec![site];
    for i in 0..19 {
        let s = sys.create_object(org, "site", &format!("p{i}"), &[]);
        parents.push(s.unwrap().value);
    }
    let child =
        sys.create_object(org, "meter", "wide", &parents).unwrap().value;
    let json = engine.to_json();
    assert_invalid(
        Engine::from_json(&json).unwrap_err().kind(),
        &format!("model.objects[{}]", child.as_usize()),
        "too many parents",
    );
    let loaded = Loader::new()
        .limits(engine.config().limits.clone())
        .from_json(&json)
        .unwrap();
    assert_eq!(loaded.to_json(), json);
    // A snapshot that raises its limits to the maximum loads (its content
    // is within the defaults) and runs under the loader's limits.
    let (small, ..) = limited(|l| {
        l.max_parents = usize::MAX;
        l.max_ancestors = usize::MAX;
        l.max_share_depth = usize::MAX;
    });
    let loaded = Engine::from_json(&small.to_json()).unwrap();
    assert_eq!(loaded.config().limits, Limits::default());
}

/// A snapshot of `n` sites of one organization, each with the parents
/// `parents(i)` gives, and limits raised to the maximum.
fn many_objects(n: usize, parents: impl Fn(usize) -> Vec<usize>) -> String {
    let (engine, ..) = limited(|_| {});
    let mut v: Value = serde_json::from_str(&engine.to_json()).unwrap();
    for limit in v["config"]["limits"].as_object_mut().unwrap() {
        *limit.1 = json!(u64::MAX);
    }
    let objects = v["model"]["objects"].as_array_mut().unwrap();
    let ty = objects
        .iter()
        .find(|o| o["kind"] == json!("Data"))
        .map(|o| o["ty"].clone())
        .unwrap();
    let first = objects.len();
    for i in 0..n {
        let ps: Vec<usize> = parents(i).iter().map(|p| first + p).collect();
        objects.push(json!({
            "key": format!("x{i}"), "kind": "Data", "org": 0,
            "parents": ps, "ty": ty,
        }));
    }
    let schema = serde_json::to_string(engine.schema()).unwrap();
    compose(&v, &schema)
}

/// A parent chain 8,000 deep, which would hold 32 million ancestor
/// entries under its own limits, is refused at the default ancestor
/// limit, before any closure grows past it.
#[test]
fn a_deep_parent_chain_is_refused_under_the_loaders_limits() {
    let json = many_objects(8_000, |i| i.checked_sub(1).into_iter().collect());
    let err = Engine::from_json(&json).unwrap_err();
    match err.kind() {
        LoadErrorKind::Invalid { reason, .. } => {
            assert_eq!(reason, "too many ancestors", "{err}");
        }
        other => panic!("expected an invalid snapshot, got {other:?}"),
    }
}

/// 20,000 objects with 16 parents each (the default limit) among the
/// objects before them: refused once an object's ancestors pass the
/// default limit of 64.
#[test]
fn many_wide_objects_are_refused_under_the_loaders_limits() {
    let json = many_objects(20_000, |i| (i.saturating_sub(16)..i).collect());
    let err = Engine::from_json(&json).unwrap_err();
    match err.kind() {
        LoadErrorKind::Invalid { reason, .. } => {
            assert_eq!(reason, "too many ancestors", "{err}");
        }
        other => panic!("expected an invalid snapshot, got {other:?}"),
    }
}

// ----- committed fuzz crashers ------------------------------------------

/// Replays every committed crasher of the `load` and `roundtrip` fuzz
/// targets (and their seeds) as an ordinary test: loading never panics,
/// and whatever loads saves and loads again unchanged, with the same
/// decisions. As in the `roundtrip` target, its inputs that are not a
/// JSON object are decoded into a random policy ([`gen::build`]); as in
/// the `load` target, its other inputs are read as bincode.
///
/// Committed crashers and their root causes:
/// * `fuzz/regressions/roundtrip/unlink-leaves-override`: a share with
///   an override on an object, then that object unlinked from under the
///   share's root; the override stayed, and the engine's own snapshot
///   was refused ("object levels ... outside the root"). Overrides now
///   leave with the link (`Model::drop_stray_overrides`).
#[test]
fn fuzz_regressions_and_seeds_replay() {
    let mut seen = 0;
    for sub in [
        "fuzz/regressions/load",
        "fuzz/regressions/roundtrip",
        "fuzz/seeds/load",
        "fuzz/seeds/roundtrip",
    ] {
        let Ok(entries) = std::fs::read_dir(dir(sub)) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            seen += 1;
            let engine = if bytes.first() == Some(&b'{') {
                let Ok(text) = std::str::from_utf8(&bytes) else { continue };
                let Ok(engine) = Engine::from_json(text) else { continue };
                engine
            } else if sub.ends_with("roundtrip") {
                gen::build(Mode::Everything, &bytes)
            } else {
                // The `load` target reads bincode as well.
                let (sliced, streamed) = load_binary(&bytes);
                assert_eq!(
                    sliced.is_ok(),
                    streamed.is_ok(),
                    "{}",
                    path.display()
                );
                let Ok(engine) = sliced else { continue };
                engine
            };
            let json = engine.to_json();
            let again = Engine::from_json(&json)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(again.to_json(), json, "{}", path.display());
            assert!(again.index_is_consistent(), "{}", path.display());
            assert_eq!(
                gen::decisions(&again, &engine),
                gen::decisions(&engine, &engine),
                "{}",
                path.display()
            );
        }
    }
    assert!(seen > 0, "no fuzz seeds found");
}

// ----- drained logs ---------------------------------------------------

/// A drained snapshot whose recorded chain start (`log_base`) is
/// implausible is refused, naming the field.
#[test]
fn hostile_log_base() {
    let (mut engine, _) = base_engine();
    let mut stored = engine.drain_events();
    assert!(!stored.is_empty());
    let t = Timestamp::from_unix_millis(1);
    engine.act(Actor::System, t).create_org("After the drain").unwrap();
    let schema = serde_json::to_string(engine.schema()).unwrap();
    let good: Value = serde_json::from_str(&engine.to_json()).unwrap();
    assert!(Engine::from_json(&compose(&good, &schema)).is_ok());
    let edited = |pointer: &str, to: Value| {
        let mut v = good.clone();
        *at(&mut v, pointer) = to;
        match Engine::from_json(&compose(&v, &schema)) {
            Ok(_) => panic!("loaded with `{pointer}` edited"),
            Err(e) => e.kind().clone(),
        }
    };
    let kind = edited("/log_base/seq", json!(u64::MAX));
    assert_invalid(&kind, "log_base.seq", "too large");
    let kind = edited("/log_base/revision", json!(1_000_000));
    assert_invalid(&kind, "log_base.revision", "exceeds");
    let kind = edited("/log_base/digest", json!("not hex"));
    assert_invalid(&kind, "log_base.digest", "lower-case hex");
    let kind = edited("/log_base/digest", json!("0".repeat(64)));
    assert_invalid(&kind, "events[0]", "digest does not match");
    let kind = edited("/log_base/digest", json!(""));
    assert_invalid(&kind, "log_base.digest", "empty only at sequence 0");
    let kind =
        edited("/revision", json!(good["revision"].as_u64().unwrap() + 1));
    assert_invalid(&kind, "revision", "differs");
    // The drained batch and the retained events replay the engine: the
    // same policy, and the whole log where the original kept only the
    // retained part.
    stored.extend(engine.events().iter().cloned());
    let replayed = Engine::replay(base_builder(), &stored).unwrap();
    assert_eq!(replayed.events(), stored.as_slice());
    let policy = |e: &Engine| {
        let mut v: Value = serde_json::from_str(&e.to_json()).unwrap();
        let o = v.as_object_mut().unwrap();
        o.remove("events");
        o.remove("log_base");
        v
    };
    assert_eq!(policy(&replayed), policy(&engine));
}

/// A schema naming one object type twice is refused: the second would
/// shift every later handle.
#[test]
fn hostile_schema_with_a_repeated_type() {
    let (engine, _) = base_engine();
    let json = engine.to_json();
    let doubled = json.replacen(
        "[\"site\",{\"policy\":false}]",
        "[\"site\",{\"policy\":false}],[\"site\",{\"policy\":false}]",
        1,
    );
    assert_ne!(doubled, json);
    match Engine::from_json(&doubled) {
        Ok(_) => panic!("a schema with `site` twice loaded"),
        Err(e) => assert_syntax(e.kind(), "duplicate name `site`"),
    }
}

#[test]
fn a_policy_object_key_must_name_its_handle() {
    // Its key is derived from the handle, not stored, so any other key
    // is refused (a leading zero, another handle, a data-like key).
    let (base, b) = base_value();
    let (engine, _) = base_engine();
    let bob = engine.user(b.bob).unwrap().object();
    let admins = engine.role(b.admins).unwrap().object();
    let cases = [
        (bob, format!("{}", b.bob), None),
        (bob, format!("user#0{}", b.bob.as_u32()), Some(())),
        (bob, format!("user#{}", b.bob.as_u32() + 1), Some(())),
        (bob, "bob".to_owned(), Some(())),
        (admins, format!("{}", b.admins), None),
        (admins, format!("{}", b.bob), Some(())),
    ];
    for (object, key, refused) in cases {
        let mut v = base.clone();
        *at(&mut v, &format!("/model/objects/{}/key", object.as_usize())) =
            json!(key);
        match (Engine::from_json(&text(&v)), refused) {
            (Ok(e), None) => {
                assert_eq!(e.object(object).unwrap().key(), key);
                assert_eq!(e.to_json(), engine.to_json());
            }
            (Err(e), Some(())) => assert_invalid(
                e.kind(),
                &format!("model.objects[{}]", object.as_usize()),
                "not its handle",
            ),
            (got, _) => panic!("key `{key}`: {:?}", got.map(|_| ())),
        }
    }
}

#[test]
fn a_policy_object_has_no_parents() {
    let (base, b) = base_value();
    let (engine, _) = base_engine();
    let bob = engine.user(b.bob).unwrap().object();
    let mut v = base.clone();
    *at(&mut v, &format!("/model/objects/{}/parents", bob.as_usize())) =
        json!([b.site.as_u32()]);
    let err = Engine::from_json(&text(&v)).map(|_| ()).unwrap_err();
    assert_syntax(err.kind(), "object has no parents");
}

// ----- binary snapshots -----------------------------------------------

/// The bincode configuration that reads what `bincode::serialize` writes
/// (fixed-width integers, trailing bytes allowed; `DefaultOptions` alone
/// reads varints), refusing to read more than `limit` bytes. The limit is
/// checked before bincode allocates a string of the length the input
/// claims, which it otherwise does before reading from an `io::Read`.
fn bincode_with_limit(limit: u64) -> impl bincode::Options {
    use bincode::Options;
    bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .allow_trailing_bytes()
        .with_limit(limit)
}

/// Loads a binary snapshot from the slice, and streamed from a reader
/// with its length as the limit.
fn load_binary(
    bytes: &[u8],
) -> (bincode::Result<Engine>, bincode::Result<Engine>) {
    use bincode::Options;
    let sliced = bincode::deserialize::<Engine>(bytes);
    let limit = bincode_with_limit(bytes.len() as u64);
    (sliced, limit.deserialize_from(bytes))
}

/// The offsets of the 8-byte words of `bytes` that may be a length
/// prefix. bincode writes the length of each sequence, map and string as
/// a little-endian `u64` before its elements, each of which takes at
/// least a byte, so a length is never more than the bytes after it.
/// Every length prefix is among these, and some other integers.
fn length_candidates(bytes: &[u8]) -> Vec<usize> {
    (0..bytes.len().saturating_sub(7))
        .filter(|&i| {
            let word: [u8; 8] = bytes[i..i + 8].try_into().unwrap();
            u64::from_le_bytes(word) <= (bytes.len() - i - 8) as u64
        })
        .collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).position(|w| w == needle).unwrap()
}

#[test]
fn binary_snapshots_load_with_the_documented_options() {
    use bincode::Options;
    let (engine, _) = base_engine();
    let bytes = bincode::serialize(&engine).unwrap();
    let (sliced, streamed) = load_binary(&bytes);
    assert_eq!(sliced.unwrap().to_json(), engine.to_json());
    assert_eq!(streamed.unwrap().to_json(), engine.to_json());
    // The limit counts every byte read: one byte fewer is refused.
    let short = bincode_with_limit(bytes.len() as u64 - 1)
        .deserialize_from::<_, Engine>(&bytes[..]);
    assert!(matches!(*short.unwrap_err(), bincode::ErrorKind::SizeLimit));
    // Without the encoding options, the snapshot does not read.
    let varint = bincode::DefaultOptions::new().with_limit(bytes.len() as u64);
    assert!(varint.deserialize::<Engine>(&bytes).is_err());
}

/// Every word of a binary snapshot that may be a length prefix, set to
/// 2^40 and to 2^60, loads from a slice as it loads streamed with a
/// limit, and never into a collection of the length claimed. Nothing
/// aborts on the allocation such a length asks for (the test binary
/// would die). The few edits that load landed on a flag or an integer
/// free to take the value written; `tests/alloc.rs` bounds the memory
/// the refused loads request.
#[test]
fn binary_snapshots_with_huge_lengths_are_refused() {
    let (engine, _) = base_engine();
    let bytes = bincode::serialize(&engine).unwrap();
    let candidates = length_candidates(&bytes);
    // Among them: the length of a string.
    let key = find(&bytes, b"plant-x");
    assert!(candidates.contains(&(key - 8)));
    for &i in &candidates {
        for huge in [1u64 << 40, 1 << 60] {
            let mut edited = bytes.clone();
            edited[i..i + 8].copy_from_slice(&huge.to_le_bytes());
            let (sliced, streamed) = load_binary(&edited);
            let what = format!("word at {i} set to {huge}");
            assert_eq!(sliced.is_ok(), streamed.is_ok(), "{what}");
            // An edit may land on an integer, a flag or a tag that is
            // free to take the value written; then the engine writes
            // the edited snapshot back as it is, with the huge value,
            // which cannot be a length (the snapshot is much shorter) —
            // or, for one of the config's limits, which loading replaces
            // by the loader's own, as it was before the edit.
            if let Ok(loaded) = sliced {
                let again = bincode::serialize(&loaded).unwrap();
                assert!(
                    again == edited || again == bytes,
                    "{what} loaded as another"
                );
            }
        }
    }
}

// ----- hostile text ---------------------------------------------------

/// `v` as text, loaded; the error's kind.
fn load_value_err(v: &Value) -> LoadErrorKind {
    match Engine::from_json(&text(v)) {
        Ok(_) => panic!("loaded"),
        Err(e) => e.kind().clone(),
    }
}

/// Every name a snapshot holds is validated as it is read, with the rule
/// the mutations apply (`Name::new`): organization, role and permission
/// names, object keys and e-mails with bidi overrides, zero-width or
/// look-alike characters are refused, naming the rule broken.
#[test]
fn hostile_names_are_refused_on_load() {
    let (base, b) = base_value();
    let site = b.site.as_usize();
    let fields = [
        "/model/orgs/0/name".to_owned(),
        "/model/roles/0/name".to_owned(),
        "/model/permissions/0/name".to_owned(),
        format!("/model/objects/{site}/key"),
    ];
    for (name, reason) in super::text::HOSTILE_NAMES {
        for field in &fields {
            let mut v = base.clone();
            *at(&mut v, field) = json!(name);
            let kind = load_value_err(&v);
            assert_syntax(&kind, reason);
            assert!(!kind.to_string().contains(char::is_control), "{kind}");
        }
    }
    for (email, reason) in [
        ("ann\u{202e}@a.example", "bidirectional control"),
        ("\u{430}nn@a.example", "look-alike letters"),
        ("\u{ff41}nn@a.example", "NFKC"),
    ] {
        let mut v = base.clone();
        *at(&mut v, "/model/users/0/email") = json!(email);
        assert_syntax(&load_value_err(&v), reason);
    }
}

/// Two organizations whose names look alike (same confusable skeleton)
/// are refused, as `create_org` refuses the second.
#[test]
fn hostile_confusable_organization_names() {
    let (base, _) = base_value();
    for (second, loads) in
        [("0rg A", false), ("Org A", false), ("ORG A", true)]
    {
        let mut v = base.clone();
        *at(&mut v, "/model/orgs/1/name") = json!(second);
        match Engine::from_json(&text(&v)) {
            Ok(_) => assert!(loads, "{second} loaded"),
            Err(e) => {
                assert!(!loads, "{second}: {e}");
                let reason =
                    if second == "Org A" { "duplicate" } else { "looks like" };
                assert_invalid(e.kind(), "model.orgs[1].name", reason);
            }
        }
    }
}

/// A role description with NUL, ANSI escapes, a line break, a bidi
/// override, or more than 4,096 bytes (up to 8 MB) is refused, naming
/// the field.
#[test]
fn hostile_descriptions_are_refused_on_load() {
    let (base, _) = base_value();
    let mut all = super::text::hostile_descriptions();
    all.push(("y".repeat(8 << 20), "longer than 4096 bytes"));
    for (description, reason) in all {
        let mut v = base.clone();
        *at(&mut v, "/model/roles/1/description") = json!(description);
        let kind = load_value_err(&v);
        assert_invalid(&kind, "model.roles[1].description", reason);
        assert!(kind.to_string().len() < 400, "the error quotes in part");
        assert!(!kind.to_string().contains(char::is_control), "{kind}");
    }
    let mut v = base.clone();
    *at(&mut v, "/model/roles/1/description") = json!("z".repeat(4096));
    assert!(Engine::from_json(&text(&v)).is_ok());
}

/// A schema's default role whose description is hostile, or whose name
/// repeats another's, is refused as the schema builder refuses it.
#[test]
fn hostile_default_roles_are_refused_on_load() {
    let schema = Schema::builder()
        .object_type("site")
        .default_role("Readers", "read sites", &[("read", "site")])
        .default_role("Writers", "update sites", &[("update", "site")])
        .build()
        .unwrap();
    let engine = Builder::new(schema).build().unwrap();
    let good: Value = serde_json::from_str(&engine.to_json()).unwrap();
    let load = |v: &Value| {
        Engine::from_json(&serde_json::to_string(v).unwrap()).map(|_| ())
    };
    assert!(load(&good).is_ok());
    for (description, reason) in super::text::hostile_descriptions() {
        let mut v = good.clone();
        *at(&mut v, "/schema/default_roles/1/description") =
            json!(description);
        match load(&v).unwrap_err().kind() {
            LoadErrorKind::Schema(e) => {
                assert!(e.to_string().contains(reason), "{e}");
            }
            other => panic!("expected a schema error, got {other:?}"),
        }
    }
    let mut v = good.clone();
    *at(&mut v, "/schema/default_roles/1/name") = json!("Readers");
    match load(&v).unwrap_err().kind() {
        LoadErrorKind::Schema(e) => assert_eq!(
            e.to_string(),
            "duplicate default role `Readers` in schema"
        ),
        other => panic!("expected a schema error, got {other:?}"),
    }
}

/// A token hash the engine would not write (upper-case or mixed-case
/// hex, the wrong length) is refused, naming the field: such a token
/// could never authenticate.
#[test]
fn hostile_token_hashes_are_refused_on_load() {
    let (mut engine, b) = base_engine();
    let t = Timestamp::from_unix_millis(1);
    let (_, secret) = engine
        .act(Actor::System, t)
        .issue_token(b.bob, None, "ci", None)
        .unwrap()
        .value;
    let good: Value = serde_json::from_str(&engine.to_json()).unwrap();
    let hash = good["model"]["tokens"][0]["hash"].as_str().unwrap().to_owned();
    assert!(Engine::from_json(&text(&good)).is_ok());
    let loaded = Engine::from_json(&text(&good)).unwrap();
    assert!(loaded.authenticate(secret.expose(), t).is_some());
    for bad in
        [hash.to_uppercase(), format!("A{}", &hash[1..]), hash[1..].to_owned()]
    {
        if bad == hash {
            continue;
        }
        let mut v = good.clone();
        *at(&mut v, "/model/tokens/0/hash") = json!(bad);
        assert_invalid(
            &load_value_err(&v),
            "model.tokens[0].hash",
            "lower-case",
        );
    }
}

/// `public_by_default` must name data types of the schema.
#[test]
fn hostile_public_by_default_is_refused_on_load() {
    let (base, _) = base_value();
    for (list, at_index) in [
        (json!(["nowhere"]), 0),
        (json!(["site", "users"]), 1),
        (json!(["site", "meter", "Site"]), 2),
        (json!(["site", "\u{1b}[2J"]), 1),
    ] {
        let mut v = base.clone();
        *at(&mut v, "/config/public_by_default") = list;
        let kind = load_value_err(&v);
        assert_invalid(
            &kind,
            &format!("config.public_by_default[{at_index}]"),
            "is not a data type",
        );
        assert!(!kind.to_string().contains(char::is_control), "{kind}");
    }
    let mut v = base.clone();
    *at(&mut v, "/config/public_by_default") = json!(["site", "meter"]);
    assert!(Engine::from_json(&text(&v)).is_ok());
}
