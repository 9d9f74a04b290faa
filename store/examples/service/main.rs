//! An HTTP service that authorizes requests against a durable policy.
//!
//! ```sh
//! # one instance on a SQLite file
//! cargo run -p accord-store --example service -- sqlite:policy.db 127.0.0.1:3000
//! # two instances on one PostgreSQL database and namespace: each sees
//! # the other's writes
//! cargo run -p accord-store --example service -- postgres://postgres@127.0.0.1/test 127.0.0.1:3001 demo
//! cargo run -p accord-store --example service -- postgres://postgres@127.0.0.1/test 127.0.0.1:3002 demo
//! curl -X POST localhost:3001/orgs -H 'content-type: application/json' -d '{"name":"Utility X"}'
//! curl 'localhost:3002/check?subject=anonymous&action=read&object=sites:plant' \
//!     -H 'x-accord-at-least: 1'
//! ```
//!
//! See `app.rs` for the routes. Checks run on the async tasks (the
//! engine's `check` never waits for a write); writes run on tokio's
//! blocking threads, since a commit waits for the disk or the database.

mod app;

use std::sync::Arc;
use std::time::Duration;

use accord::presets;
use accord_store::{
    DurableEngine, Follower, PgListener, PgStore, SqliteStore,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let store = args.next().unwrap_or_else(|| "sqlite:policy.db".into());
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:3000".into());
    // Keeps the follower of a shared store running while the server is.
    let mut _follower = None;
    let router = if let Some(path) = store.strip_prefix("sqlite:") {
        let policy =
            DurableEngine::open(SqliteStore::open(path)?, presets::arbiter())?;
        app::router(Arc::new(policy))
    } else if store.starts_with("postgres://") {
        // Every instance started on the same database and namespace
        // shares one policy; each follows the others' writes.
        let ns = args.next().unwrap_or_else(|| "service".into());
        let policy = Arc::new(DurableEngine::open(
            PgStore::connect(&store, &ns)?,
            presets::arbiter(),
        )?);
        let listener = PgListener::connect(&store, &ns)?;
        _follower = Some(Follower::spawn(
            Arc::clone(&policy),
            listener,
            Duration::from_secs(1),
        )?);
        app::router(policy)
    } else {
        return Err(format!("unsupported store `{store}`").into());
    };
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("listening on {listen}, policy in {store}");
    axum::serve(listener, router).await?;
    Ok(())
}
