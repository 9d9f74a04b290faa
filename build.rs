//! Says whether the preset policy files sit beside this crate.
//!
//! Each preset's documentation page (`src/presets.rs`) shows its policy
//! file, `policy/presets/<name>.toml`, with `include_str!`. That folder
//! belongs to the `accord-policy` package of the workspace, and
//! `cargo package` never puts another package's files into this crate's
//! archive (not even when `include` names them), so an unconditional
//! `include_str!` would fail every build of the published crate, its
//! documentation on docs.rs included. The cfg `accord_preset_files` is
//! set only when the four files are there; without it, the pages name
//! the file instead of showing it.

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(accord_preset_files)");
    // The files are found or not once per checkout; a change to their
    // text rebuilds the documentation through `include_str!` itself.
    println!("cargo::rerun-if-changed=build.rs");
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default();
    let presets = Path::new(&dir).join("policy").join("presets");
    let found = ["arbiter", "portfolio", "project_portal", "metering"]
        .iter()
        .all(|name| presets.join(format!("{name}.toml")).is_file());
    if found {
        println!("cargo::rustc-cfg=accord_preset_files");
    }
}
