//! `accord`: validate, query, test, diff, export and import policy files,
//! and verify audit logs, from the command line.
//!
//! Subjects and objects are named as in policy files: `user:<e-mail>` (or
//! the bare e-mail) or `anonymous`, and `type:key`. A FILE is a policy
//! file (TOML), or a JSON snapshot when its name ends in `.json`.
//!
//! Exit status: 0 when all is well, 1 when a check denies, a test fails,
//! two files differ or a log does not verify, 2 for a usage or input
//! error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use accord::{Engine, Subject};
use accord_policy::{describe, refs, PolicyError};
use clap::{Parser, Subcommand};
use serde_json::json;

#[derive(Debug, Parser)]
#[command(name = "accord", version, about = "Policy files for accord engines")]
struct Cli {
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load a policy file (or snapshot) and report what it holds.
    Validate {
        /// The policy file.
        file: PathBuf,
    },
    /// Decide one question; exits 1 on deny.
    Check {
        /// The policy file.
        file: PathBuf,
        /// `user:<e-mail>` or `anonymous`.
        subject: String,
        /// The action.
        action: String,
        /// `type:key`.
        object: String,
    },
    /// Decide one question and say why.
    Explain {
        /// The policy file.
        file: PathBuf,
        /// `user:<e-mail>` or `anonymous`.
        subject: String,
        /// The action.
        action: String,
        /// `type:key`.
        object: String,
    },
    /// Reverse queries.
    #[command(subcommand)]
    List(List),
    /// Run policy test files; exits 1 if a step fails.
    Test {
        /// The test files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write a policy file's engine as a JSON snapshot, or into a new
    /// store (`-o sqlite:PATH`).
    Export {
        /// The policy file.
        file: PathBuf,
        /// Where to write (standard output when left out; `sqlite:PATH`
        /// for a new SQLite store).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Write a JSON snapshot's (or a store's, `sqlite:PATH`) engine as a
    /// policy file.
    Import {
        /// The snapshot, or `sqlite:PATH`.
        snapshot: PathBuf,
        /// Where to write (standard output when left out).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Audit log operations.
    #[command(subcommand)]
    Log(Log),
    /// What differs between two policy files (or snapshots); exits 1 if
    /// they differ.
    Diff {
        /// The old file.
        a: PathBuf,
        /// The new file.
        b: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum List {
    /// The objects of a type on which a subject may do an action.
    Objects {
        /// The policy file.
        file: PathBuf,
        /// `user:<e-mail>` or `anonymous`.
        subject: String,
        /// The action.
        action: String,
        /// The object type.
        #[arg(value_name = "TYPE")]
        object_type: String,
    },
    /// The users who may do an action on an object (and `anonymous` when
    /// the object is public).
    Subjects {
        /// The policy file.
        file: PathBuf,
        /// The action.
        action: String,
        /// `type:key`.
        object: String,
    },
}

#[derive(Debug, Subcommand)]
enum Log {
    /// Verify a snapshot's hash chain and replay its log.
    Verify {
        /// The JSON snapshot.
        snapshot: PathBuf,
    },
}

/// A failure: exit 2 (input or usage) with a message.
#[derive(Debug)]
struct Fatal(String);

impl From<PolicyError> for Fatal {
    fn from(e: PolicyError) -> Fatal {
        Fatal(e.to_string())
    }
}

type Run = Result<ExitCode, Fatal>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(Fatal(message)) => {
            if cli.json {
                println!("{}", json!({ "error": message }));
            }
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn is_json(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Loads a policy file, or a snapshot when the name ends in `.json`.
/// A store given as `sqlite:PATH`: the path.
fn store_path(path: &Path) -> Option<&Path> {
    path.to_str()?.strip_prefix("sqlite:").map(Path::new)
}

fn load(path: &Path) -> Result<Engine, Fatal> {
    if let Some(db) = store_path(path) {
        if !db.is_file() {
            return Err(Fatal(format!("{}: no such store", db.display())));
        }
        let fail = |e: accord_store::StoreError| {
            Fatal(format!("{}: {e}", db.display()))
        };
        let store = accord_store::SqliteStore::open(db).map_err(fail)?;
        let options = accord_store::Options::new().checkpoint_every(0);
        let durable =
            accord_store::DurableEngine::open_existing(store, options)
                .map_err(fail)?;
        return Ok(Engine::clone(&durable.snapshot()));
    }
    if is_json(path) {
        let text = accord_policy::read_text(path)?;
        Engine::from_json(&text)
            .map_err(|e| Fatal(format!("{}: {e}", path.display())))
    } else {
        Ok(accord_policy::load_path(path)?)
    }
}

/// A policy file's declarations, or a snapshot's as exported.
fn declarations(path: &Path) -> Result<accord_policy::PolicyFile, Fatal> {
    if is_json(path) {
        let engine = load(path)?;
        Ok(accord_policy::export(&engine)?.file)
    } else {
        let text = accord_policy::read_text(path)?;
        accord_policy::parse(&text).map_err(|e| {
            Fatal(
                e.locate(Some(&path.display().to_string()), &text).to_string(),
            )
        })
    }
}

fn question(
    engine: &Engine,
    subject: &str,
    action: &str,
    object: &str,
) -> Result<(Subject, accord::ActionId, accord::ObjectId), Fatal> {
    let s = refs::subject(engine, subject)?;
    let a = engine
        .schema()
        .action(action)
        .ok_or_else(|| Fatal(format!("unknown action `{action}`")))?;
    let o = refs::object(engine, object, None)?;
    Ok((s, a, o))
}

fn write_out(output: Option<&Path>, text: &str) -> Result<(), Fatal> {
    match output {
        Some(path) => std::fs::write(path, text).map_err(|e| {
            Fatal(format!("cannot write `{}`: {e}", path.display()))
        }),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

fn run(cli: &Cli) -> Run {
    let json = cli.json;
    match &cli.command {
        Command::Validate { file } => validate(file, json),
        Command::Check { file, subject, action, object } => {
            let engine = load(file)?;
            let (s, a, o) = question(&engine, subject, action, object)?;
            let d = engine.check(s, a, o);
            if json {
                println!(
                    "{}",
                    json!({ "decision": describe::decision_word(d) })
                );
            } else {
                println!("{}", describe::decision_word(d));
            }
            Ok(if d.is_allow() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Explain { file, subject, action, object } => {
            let engine = load(file)?;
            let (s, a, o) = question(&engine, subject, action, object)?;
            let r = engine.explain(s, a, o);
            if json {
                println!("{}", describe::response_json(&engine, &r));
            } else {
                println!("{}", describe::decision_word(r.decision()));
                for reason in r.reasons() {
                    println!(
                        "  via {}",
                        describe::reason_text(&engine, reason)
                    );
                }
                if r.denial().is_some() {
                    let text = describe::response_text(&engine, &r);
                    let why = text.split_once(": ").map_or("", |(_, w)| w);
                    println!("  {why}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::List(List::Objects {
            file,
            subject,
            action,
            object_type,
        }) => {
            let engine = load(file)?;
            let s = refs::subject(&engine, subject)?;
            let a = engine
                .schema()
                .action(action)
                .ok_or_else(|| Fatal(format!("unknown action `{action}`")))?;
            let ty = refs::object_type(&engine, object_type)?;
            let names: Vec<String> = engine
                .objects_for(s, a, ty)
                .into_iter()
                .map(|o| refs::object_name(&engine, o, None))
                .collect();
            print_list(&names, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::List(List::Subjects { file, action, object }) => {
            let engine = load(file)?;
            let a = engine
                .schema()
                .action(action)
                .ok_or_else(|| Fatal(format!("unknown action `{action}`")))?;
            let o = refs::object(&engine, object, None)?;
            let mut names = Vec::new();
            if engine.check(Subject::Anonymous, a, o).is_allow() {
                names.push("anonymous".to_owned());
            }
            names.extend(
                engine
                    .subjects_for(a, o)
                    .into_iter()
                    .map(|u| format!("user:{}", refs::user_name(&engine, u))),
            );
            print_list(&names, json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Test { files } => test(files, json),
        Command::Export { file, output } => {
            let engine = load(file)?;
            if let Some(db) = output.as_deref().and_then(store_path) {
                let fail = |e: accord_store::StoreError| {
                    Fatal(format!("{}: {e}", db.display()))
                };
                let store =
                    accord_store::SqliteStore::open(db).map_err(fail)?;
                let options = accord_store::Options::new();
                accord_store::DurableEngine::import(store, engine, options)
                    .map_err(fail)?;
                return Ok(ExitCode::SUCCESS);
            }
            let mut text = engine.to_json();
            text.push('\n');
            write_out(output.as_deref(), &text)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { snapshot, output } => {
            let engine = if store_path(snapshot).is_some() {
                load(snapshot)?
            } else {
                let text = accord_policy::read_text(snapshot)?;
                Engine::from_json(&text).map_err(|e| {
                    Fatal(format!("{}: {e}", snapshot.display()))
                })?
            };
            let export = accord_policy::export(&engine)?;
            for w in &export.warnings {
                eprintln!("warning: {w}");
            }
            write_out(output.as_deref(), &export.file.to_toml()?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Log(Log::Verify { snapshot }) => verify(snapshot, json),
        Command::Diff { a, b } => {
            let changes = accord_policy::diff::diff(
                &declarations(a)?,
                &declarations(b)?,
            );
            if json {
                println!("{}", json!({ "changes": changes }));
            } else if changes.is_empty() {
                println!("no differences");
            } else {
                for c in &changes {
                    println!("{c}");
                }
            }
            Ok(if changes.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

fn print_list(names: &[String], json: bool) {
    if json {
        println!("{}", json!(names));
    } else {
        for n in names {
            println!("{n}");
        }
    }
}

fn validate(file: &Path, json: bool) -> Run {
    let e = load(file)?;
    let data = e
        .objects()
        .filter(|(_, o)| o.kind() == accord::ObjectKind::Data)
        .count();
    let counts = [
        ("organization", "organizations", e.orgs().count()),
        ("user", "users", e.users().count()),
        ("object", "objects", data),
        ("role", "roles", e.roles().count()),
        ("permission", "permissions", e.permissions().count()),
        ("grant", "grants", e.grants().count()),
        ("share", "shares", e.shares().count()),
    ];
    if json {
        let mut v = serde_json::Map::new();
        v.insert("ok".to_owned(), json!(true));
        for (_, k, n) in counts {
            v.insert(k.to_owned(), json!(n));
        }
        v.insert("revision".to_owned(), json!(e.revision().get()));
        println!("{}", serde_json::Value::Object(v));
    } else {
        let parts: Vec<String> = counts
            .iter()
            .map(|(one, many, n)| {
                format!("{n} {}", if *n == 1 { one } else { many })
            })
            .collect();
        println!(
            "ok: {}: {} (revision {})",
            file.display(),
            parts.join(", "),
            e.revision().get()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn test(files: &[PathBuf], json: bool) -> Run {
    let (mut passed, mut failed) = (0_usize, 0_usize);
    let mut results = Vec::new();
    for file in files {
        let report = accord_policy::testing::run_path(file)?;
        let name = file.display().to_string();
        passed += report.steps - report.failures.len();
        failed += report.failures.len();
        if json {
            let failures: Vec<_> = report
                .failures
                .iter()
                .map(|f| json!({ "step": f.step, "line": f.line, "message": f.message }))
                .collect();
            results.push(json!({ "file": name, "steps": report.steps, "failures": failures }));
        } else if report.passed() {
            println!("ok {name} ({} steps)", report.steps);
        } else {
            println!("FAILED {name}");
            for f in &report.failures {
                println!("  {name}:{}: {}: {}", f.line, f.step, f.message);
            }
        }
    }
    if json {
        println!(
            "{}",
            json!({ "files": results, "passed": passed, "failed": failed })
        );
    } else {
        println!("{passed} passed, {failed} failed");
    }
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn verify(snapshot: &Path, json: bool) -> Run {
    use accord::LoadErrorKind as K;
    let text = accord_policy::read_text(snapshot)?;
    let name = snapshot.display();
    let (verdict, replayed) =
        match accord::Loader::new().verify_log(true).from_json(&text) {
            Ok(e) => (Ok(e), true),
            Err(e) if matches!(e.kind(), K::LogIncomplete) => {
                // A drained log cannot be replayed from the start: verify
                // the chain of the retained events alone.
                (accord::Loader::new().from_json(&text), false)
            }
            Err(e) => (Err(e), true),
        };
    match verdict {
        Ok(engine) => {
            let events = engine.events().len();
            let revision = engine.revision().get();
            if json {
                println!(
                    "{}",
                    json!({ "ok": true, "events": events, "revision": revision, "replayed": replayed })
                );
            } else if replayed {
                println!(
                    "ok: {name}: {events} events, revision {revision}: the \
                     hash chain holds and the log replays to the state"
                );
            } else {
                println!(
                    "ok: {name}: {events} retained events, revision \
                     {revision}: the hash chain holds (the log was drained, \
                     so it was not replayed)"
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => match e.kind() {
            K::Syntax(_) | K::Io(_) | K::Version { .. } => {
                Err(Fatal(format!("{name}: {e}")))
            }
            _ => {
                if json {
                    println!(
                        "{}",
                        json!({ "ok": false, "error": e.to_string() })
                    );
                }
                eprintln!("verification failed: {name}: {e}");
                Ok(ExitCode::from(1))
            }
        },
    }
}
