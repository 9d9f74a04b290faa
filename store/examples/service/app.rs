//! The service's routes: checks answered from memory on the async task
//! itself, writes committed on a blocking thread.
//!
//! * `GET /check?subject=EMAIL&action=ACTION&object=TYPE:KEY` answers
//!   `200 allow` or `403 deny` (`subject=anonymous` for no user). With the
//!   header `x-accord-at-least: N` (the revision a write returned, maybe
//!   on another instance) it first waits, up to two seconds, until this
//!   instance has caught up with revision N: read-your-writes across
//!   instances.
//! * `POST /orgs`, `/terms`, `/users`, `/objects`, `/grants` (JSON
//!   bodies, by name
//!   and key, never by handle) mutate as the user named in `x-actor` (an
//!   e-mail) or as the system when it is absent. They answer `200` with
//!   the new revision in the body and the header `x-accord-revision`,
//!   `403` when the engine refuses (the refusal is committed too), `409`
//!   when another instance won the race (retry), `503` when the store
//!   failed (nothing changed).
//!
//! A check costs the engine's `check` plus a lookup of the names: it
//! never waits for a write, and a write never blocks an async task.

use std::sync::Arc;
use std::time::Duration;

use accord::{
    Actor, MutationError, ObjectId, Op, Revision, Subject, Timestamp,
};
use accord_store::{DurableEngine, Store, StoreError, WriteError};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

/// The routes over `policy`.
pub fn router<S: Store + 'static>(policy: Arc<DurableEngine<S>>) -> Router {
    Router::new()
        .route("/check", get(check::<S>))
        .route("/orgs", post(create_org::<S>))
        .route("/terms", post(accept_terms::<S>))
        .route("/users", post(create_user::<S>))
        .route("/objects", post(create_object::<S>))
        .route("/grants", post(grant::<S>))
        .with_state(policy)
}

#[derive(Deserialize)]
struct CheckQuery {
    subject: String,
    action: String,
    object: String,
}

async fn check<S: Store + 'static>(
    State(policy): State<Arc<DurableEngine<S>>>,
    headers: HeaderMap,
    Query(q): Query<CheckQuery>,
) -> Response {
    let wanted = headers
        .get("x-accord-at-least")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let engine = match wanted {
        Some(n) if policy.revision().get() < n => {
            let policy = Arc::clone(&policy);
            let waited = tokio::task::spawn_blocking(move || {
                policy.at_least(Revision::new(n), Duration::from_secs(2))
            })
            .await;
            match waited {
                Ok(Ok(engine)) => engine,
                Ok(Err(e)) => {
                    return error(StatusCode::SERVICE_UNAVAILABLE, &e)
                }
                Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e),
            }
        }
        _ => policy.snapshot(),
    };
    let subject = if q.subject == "anonymous" {
        Some(Subject::Anonymous)
    } else {
        engine.user_by_email(&q.subject).map(Subject::User)
    };
    let action = engine.schema().action(&q.action);
    let object = object_by_name(&engine, &q.object);
    // Unknown names deny, as `check` does for unknown handles.
    let decision = match (subject, action, object) {
        (Some(s), Some(a), Some(o)) => engine.check(s, a, o),
        _ => accord::Decision::Deny,
    };
    let status = if decision.is_allow() {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    let body = serde_json::json!({
        "decision": if decision.is_allow() { "allow" } else { "deny" },
        "revision": engine.revision().get(),
    });
    (status, Json(body)).into_response()
}

/// `type:key`, as the object's type and key.
fn object_by_name(engine: &accord::Engine, name: &str) -> Option<ObjectId> {
    let (ty, key) = name.split_once(':')?;
    engine.object_by_key(engine.schema().object_type(ty)?, key)
}

#[derive(Deserialize)]
struct OrgBody {
    name: String,
}

#[derive(Deserialize)]
struct UserBody {
    org: String,
    email: String,
}

#[derive(Deserialize)]
struct ObjectBody {
    org: String,
    #[serde(rename = "type")]
    object_type: String,
    key: String,
    #[serde(default)]
    parents: Vec<String>,
}

#[derive(Deserialize)]
struct GrantBody {
    user: String,
    org: String,
    role: String,
}

async fn create_org<S: Store + 'static>(
    State(policy): State<Arc<DurableEngine<S>>>,
    headers: HeaderMap,
    Json(body): Json<OrgBody>,
) -> Response {
    write(policy, &headers, move |_| Ok(Op::CreateOrg { name: body.name }))
        .await
}

async fn accept_terms<S: Store + 'static>(
    State(policy): State<Arc<DurableEngine<S>>>,
    headers: HeaderMap,
    Json(body): Json<OrgBody>,
) -> Response {
    write(policy, &headers, move |e| {
        let org = e.org_by_name(&body.name).ok_or("unknown organization")?;
        Ok(Op::AcceptTerms { org })
    })
    .await
}

async fn create_user<S: Store + 'static>(
    State(policy): State<Arc<DurableEngine<S>>>,
    headers: HeaderMap,
    Json(body): Json<UserBody>,
) -> Response {
    write(policy, &headers, move |e| {
        let org = e.org_by_name(&body.org).ok_or("unknown organization")?;
        Ok(Op::CreateUser { org, email: body.email })
    })
    .await
}

async fn create_object<S: Store + 'static>(
    State(policy): State<Arc<DurableEngine<S>>>,
    headers: HeaderMap,
    Json(body): Json<ObjectBody>,
) -> Response {
    write(policy, &headers, move |e| {
        let org = e.org_by_name(&body.org).ok_or("unknown organization")?;
        let parents = body
            .parents
            .iter()
            .map(|p| object_by_name(e, p).ok_or("unknown parent"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Op::CreateObject {
            org,
            object_type: body.object_type,
            key: body.key,
            parents,
        })
    })
    .await
}

async fn grant<S: Store + 'static>(
    State(policy): State<Arc<DurableEngine<S>>>,
    headers: HeaderMap,
    Json(body): Json<GrantBody>,
) -> Response {
    write(policy, &headers, move |e| {
        let user = e.user_by_email(&body.user).ok_or("unknown user")?;
        let org = e.org_by_name(&body.org).ok_or("unknown organization")?;
        let role = e.role_by_name(org, &body.role).ok_or("unknown role")?;
        Ok(Op::GrantRole { user, role, bindings: Vec::new() })
    })
    .await
}

/// Resolves the names into an op on the published engine, then applies
/// and commits it on a blocking thread.
async fn write<S: Store + 'static>(
    policy: Arc<DurableEngine<S>>,
    headers: &HeaderMap,
    op: impl FnOnce(&accord::Engine) -> Result<Op, &'static str> + Send + 'static,
) -> Response {
    let actor = headers
        .get("x-actor")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let done = tokio::task::spawn_blocking(move || {
        let engine = policy.snapshot();
        let actor = match actor {
            None => Actor::System,
            Some(email) => match engine.user_by_email(&email) {
                Some(u) => Actor::User(u),
                None => return Err(Failure::BadRequest("unknown actor")),
            },
        };
        let op = op(&engine).map_err(Failure::BadRequest)?;
        drop(engine);
        policy.apply(actor, now(), op).map_err(Failure::Write)
    })
    .await;
    match done {
        Ok(Ok(revision)) => {
            let n = revision.get();
            (
                StatusCode::OK,
                [("x-accord-revision", n.to_string())],
                Json(serde_json::json!({ "revision": n })),
            )
                .into_response()
        }
        Ok(Err(Failure::BadRequest(why))) => {
            error(StatusCode::BAD_REQUEST, &why)
        }
        Ok(Err(Failure::Write(WriteError::Refused(e)))) => refused(&e),
        Ok(Err(Failure::Write(WriteError::Store(
            e @ StoreError::Conflict { .. },
        )))) => error(StatusCode::CONFLICT, &e),
        Ok(Err(Failure::Write(e))) => {
            error(StatusCode::SERVICE_UNAVAILABLE, &e)
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e),
    }
}

enum Failure {
    BadRequest(&'static str),
    Write(WriteError),
}

fn refused(e: &MutationError) -> Response {
    let body = serde_json::json!({ "error": e.to_string(), "code": e.code() });
    (StatusCode::FORBIDDEN, Json(body)).into_response()
}

fn error(status: StatusCode, e: &dyn std::fmt::Display) -> Response {
    let body = serde_json::json!({ "error": e.to_string() });
    (status, Json(body)).into_response()
}

fn now() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp::from_unix_millis(ms)
}
