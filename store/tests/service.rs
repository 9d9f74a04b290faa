//! The service example (`examples/service/`) as two instances on one
//! PostgreSQL database (`DATABASE_URL`, by default
//! `postgres://postgres@127.0.0.1:5432/test`), each following the other:
//! a write through one is seen by a check through the other, at once
//! with `x-accord-at-least`, and by its follower without it. Requests go
//! over real sockets. A server that cannot be reached fails the test,
//! saying so.
#![cfg(feature = "postgres")]

#[path = "../examples/service/app.rs"]
mod app;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use accord::presets;
use accord_store::{DurableEngine, Follower, PgListener, PgStore};

fn url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A namespace of the test's own, dropped when it ends.
struct Ns(String);

impl Drop for Ns {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&url(), postgres::NoTls) {
            let drop = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.0);
            let _ = c.batch_execute(&drop);
        }
    }
}

/// One instance: a durable engine on the namespace, its follower, and
/// the routes served on a port of its own.
fn instance(rt: &tokio::runtime::Runtime, ns: &str) -> (SocketAddr, Follower) {
    let store = PgStore::connect(&url(), ns).unwrap_or_else(|e| {
        panic!(
            "the PostgreSQL server at `{}` is needed by this test and could \
             not be reached: {e}",
            url()
        )
    });
    let policy =
        Arc::new(DurableEngine::open(store, presets::arbiter()).unwrap());
    let listener = PgListener::connect(&url(), ns).unwrap();
    let follower = Follower::spawn(
        Arc::clone(&policy),
        listener,
        Duration::from_secs(30),
    )
    .unwrap();
    let tcp =
        rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = tcp.local_addr().unwrap();
    rt.spawn(async move { axum::serve(tcp, app::router(policy)).await });
    (addr, follower)
}

/// One HTTP/1.1 request; the status and the body.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &str,
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.get(9..12).unwrap().parse().unwrap();
    let body = out.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
    (status, body)
}

/// The revision a write answered with.
fn revision(body: &str) -> u64 {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    v["revision"].as_u64().unwrap()
}

#[test]
fn two_instances_on_one_database_see_each_others_writes() {
    let ns = Ns(format!("accord_svc_{}", std::process::id()));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (a, _fa) = instance(&rt, &ns.0);
    let (b, _fb) = instance(&rt, &ns.0);
    let post = |at, path, body: &str| http(at, "POST", path, &[], body);

    // Set up through A.
    for (path, body) in [
        ("/orgs", r#"{"name":"Utility X"}"#),
        ("/terms", r#"{"name":"Utility X"}"#),
        ("/users", r#"{"org":"Utility X","email":"ann@x.example"}"#),
        ("/objects", r#"{"org":"Utility X","type":"sites","key":"plant"}"#),
    ] {
        let (status, body) = post(a, path, body);
        assert_eq!(status, 200, "{path}: {body}");
    }
    let grant =
        r#"{"user":"ann@x.example","org":"Utility X","role":"Read all"}"#;
    let (status, body) = post(a, "/grants", grant);
    assert_eq!(status, 200, "{body}");
    let written = revision(&body);
    assert_eq!(written, 5);

    // B answers at least as fresh as A's write when asked to.
    let check = "/check?subject=ann@x.example&action=read&object=sites:plant";
    let fresh = [("x-accord-at-least", written.to_string())];
    let (status, body) = http(b, "GET", check, &fresh, "");
    assert_eq!(status, 200, "{body}");
    assert_eq!(revision(&body), written);

    // A write through B reaches A through A's follower, with no header.
    let (status, body) = post(
        b,
        "/objects",
        r#"{"org":"Utility X","type":"sites","key":"plant-2"}"#,
    );
    assert_eq!(status, 200, "{body}");
    let check2 =
        "/check?subject=ann@x.example&action=read&object=sites:plant-2";
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, _) = http(a, "GET", check2, &[], "");
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "A never saw B's write");
        std::thread::sleep(Duration::from_millis(20));
    }

    // A refusal is a 403 with its code; a revision no instance reached
    // is a 503 after the wait.
    let (status, body) = post(a, "/grants", grant);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("\"code\""), "{body}");
    let (status, body) =
        http(b, "GET", check, &[("x-accord-at-least", "99".into())], "");
    assert_eq!(status, 503, "never reached: {body}");
    // Anonymous is denied.
    let anon = "/check?subject=anonymous&action=read&object=sites:plant";
    assert_eq!(http(a, "GET", anon, &[], "").0, 403);
}
