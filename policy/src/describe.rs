//! Decisions in words and as JSON, every record named by key, e-mail or
//! name.

use accord::{Decision, Denial, Engine, Reason, Response};
use serde_json::{json, Value};

use crate::refs;

/// The code of a denial, as test files write it: `unknown_subject`,
/// `unknown_action`, `token_cap`, `unknown_object` or `no_matching_grant`.
#[must_use]
pub fn denial_code(d: Denial) -> &'static str {
    match d {
        Denial::UnknownSubject => "unknown_subject",
        Denial::UnknownAction => "unknown_action",
        Denial::TokenCap => "token_cap",
        Denial::UnknownObject => "unknown_object",
        _ => "no_matching_grant",
    }
}

fn denial_words(d: Denial) -> &'static str {
    match d {
        Denial::UnknownSubject => "unknown subject",
        Denial::UnknownAction => "unknown action",
        Denial::TokenCap => "outside what a read-only token may do",
        Denial::UnknownObject => "unknown object",
        _ => "no grant or share allows it",
    }
}

/// `allow` or `deny`.
#[must_use]
pub fn decision_word(d: Decision) -> &'static str {
    match d {
        Decision::Allow => "allow",
        Decision::Deny => "deny",
    }
}

/// The kind of a reason: `role` or `share`.
#[must_use]
pub fn reason_kind(r: &Reason) -> &'static str {
    match r {
        Reason::Role { .. } => "role",
        _ => "share",
    }
}

/// One reason in words.
#[must_use]
pub fn reason_text(engine: &Engine, reason: &Reason) -> String {
    match reason {
        Reason::Role { grant, role, permission } => {
            let r = engine.role(*role);
            let org = r.map_or_else(
                || "?".to_owned(),
                |r| refs::org_name(engine, r.org()),
            );
            let p = engine
                .permission(*permission)
                .map_or_else(|| "?".to_owned(), |p| p.name().into_owned());
            let bindings: Vec<String> = engine
                .grant(*grant)
                .map(|g| {
                    g.bindings()
                        .iter()
                        .map(|b| refs::object_name(engine, *b, None))
                        .collect()
                })
                .unwrap_or_default();
            let mut s = format!(
                "role `{}` of `{org}`, permission `{p}`",
                refs::role_name(engine, *role)
            );
            if !bindings.is_empty() {
                s.push_str(&format!(", bound to {}", quoted(&bindings)));
            }
            s
        }
        Reason::Share { share, chain } => {
            let Some(sh) = engine.share(*share) else {
                return "share".to_owned();
            };
            let links: Vec<String> = chain
                .iter()
                .filter_map(|id| engine.share(*id))
                .map(|s| refs::grantee_name(engine, s.grantee()))
                .collect();
            format!(
                "{} share of `{}` to `{}`, chain owner → {}",
                crate::share_kind_word(sh.kind()),
                refs::object_name(engine, sh.root(), None),
                refs::grantee_name(engine, sh.grantee()),
                links.join(" → ")
            )
        }
        _ => "other".to_owned(),
    }
}

fn quoted(items: &[String]) -> String {
    items.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
}

/// The response in words: `allow: via ...; via ...` or `deny: why`.
#[must_use]
pub fn response_text(engine: &Engine, response: &Response) -> String {
    let mut s = decision_word(response.decision()).to_owned();
    let reasons: Vec<String> =
        response.reasons().iter().map(|r| reason_text(engine, r)).collect();
    if !reasons.is_empty() {
        s.push_str(": via ");
        s.push_str(&reasons.join("; via "));
    }
    if let Some(d) = response.denial() {
        s.push_str(": ");
        s.push_str(denial_words(d));
    }
    s
}

/// The response as JSON: `decision`, `reasons` (each with its `kind` and
/// names) and `denial`.
#[must_use]
pub fn response_json(engine: &Engine, response: &Response) -> Value {
    let reasons: Vec<Value> = response
        .reasons()
        .iter()
        .map(|r| match r {
            Reason::Role { grant, role, permission } => {
                let org = engine.role(*role).map(|r| refs::org_name(engine, r.org()));
                let bindings: Vec<String> = engine
                    .grant(*grant)
                    .map(|g| {
                        g.bindings()
                            .iter()
                            .map(|b| refs::object_name(engine, *b, None))
                            .collect()
                    })
                    .unwrap_or_default();
                json!({
                    "kind": "role",
                    "role": refs::role_name(engine, *role),
                    "org": org,
                    "permission": engine.permission(*permission).map(|p| p.name().into_owned()),
                    "bindings": bindings,
                })
            }
            Reason::Share { share, chain } => {
                let sh = engine.share(*share);
                let chain: Vec<String> = chain
                    .iter()
                    .filter_map(|id| engine.share(*id))
                    .map(|s| refs::grantee_name(engine, s.grantee()))
                    .collect();
                json!({
                    "kind": "share",
                    "share_kind": sh.map(|s| crate::share_kind_word(s.kind())),
                    "root": sh.map(|s| refs::object_name(engine, s.root(), None)),
                    "to": sh.map(|s| refs::grantee_name(engine, s.grantee())),
                    "chain": chain,
                })
            }
            _ => json!({ "kind": "other" }),
        })
        .collect();
    json!({
        "decision": decision_word(response.decision()),
        "reasons": reasons,
        "denial": response.denial().map(denial_code),
    })
}
