//! The four presets of [`accord::presets`] as policy files: schema and
//! config, no seed content. The same text is in this crate's `presets/`
//! folder, for the command-line tool and for review.
//!
//! # Example
//!
//! ```
//! let file = accord_policy::parse(accord_policy::presets::ARBITER)?;
//! let from_file = file.builder()?.build()?;
//! let from_rust = accord::presets::arbiter().build()?;
//! assert_eq!(from_file.schema(), from_rust.schema());
//! assert_eq!(from_file.config(), from_rust.config());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

/// [`accord::presets::arbiter`]: the Solar Forecast Arbiter.
pub const ARBITER: &str = include_str!("../presets/arbiter.toml");
/// [`accord::presets::portfolio`]: ENERGY STAR Portfolio Manager.
pub const PORTFOLIO: &str = include_str!("../presets/portfolio.toml");
/// [`accord::presets::project_portal`]: WattMetrics project security.
pub const PROJECT_PORTAL: &str =
    include_str!("../presets/project_portal.toml");
/// [`accord::presets::metering`]: the IoT metering platform.
pub const METERING: &str = include_str!("../presets/metering.toml");

/// Every preset file: its name (as in `presets/<name>.toml`) and text.
pub const ALL: [(&str, &str); 4] = [
    ("arbiter", ARBITER),
    ("portfolio", PORTFOLIO),
    ("project_portal", PROJECT_PORTAL),
    ("metering", METERING),
];
