//! The preset files give the Rust presets' schema and config exactly.

use accord::{presets, Builder};

fn same(name: &str, text: &str, rust: Builder) {
    let file = accord_policy::parse(text).unwrap();
    let from_file = file.builder().unwrap().build().unwrap();
    let from_rust = rust.build().unwrap();
    assert_eq!(from_file.schema(), from_rust.schema(), "{name}: schema");
    assert_eq!(from_file.config(), from_rust.config(), "{name}: config");
    // Loading the file (no seed content) gives the same empty engine.
    let loaded = file.load().unwrap();
    assert_eq!(loaded.schema(), from_rust.schema());
    assert_eq!(loaded.revision().get(), 0);
}

#[test]
fn arbiter() {
    same("arbiter", accord_policy::presets::ARBITER, presets::arbiter());
}

#[test]
fn portfolio() {
    same("portfolio", accord_policy::presets::PORTFOLIO, presets::portfolio());
}

#[test]
fn project_portal() {
    same(
        "project_portal",
        accord_policy::presets::PROJECT_PORTAL,
        presets::project_portal(),
    );
}

#[test]
fn metering() {
    same("metering", accord_policy::presets::METERING, presets::metering());
}

#[test]
fn files_on_disk_are_the_embedded_ones() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/presets");
    for (name, text) in accord_policy::presets::ALL {
        let path = format!("{dir}/{name}.toml");
        assert_eq!(std::fs::read_to_string(path).unwrap(), text);
    }
}

/// Exporting a preset engine's schema and config and loading the result
/// gives the same schema and config again.
#[test]
fn export_of_a_preset_loads_to_it() {
    for rust in [
        presets::arbiter(),
        presets::portfolio(),
        presets::project_portal(),
        presets::metering(),
    ] {
        let engine = rust.build().unwrap();
        let text =
            accord_policy::export(&engine).unwrap().file.to_toml().unwrap();
        let again = accord_policy::load_str(&text, None).unwrap();
        assert_eq!(again.schema(), engine.schema());
        assert_eq!(again.config(), engine.config());
    }
}
