//! What `locksmith --version` prints: the version and how this binary was
//! built (values recorded by build.rs), so a ceremony record can name the
//! exact build that was used.

/// The crate version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit built (`-dirty` when tracked files had changes), or a note.
pub const COMMIT: &str = env!("LOCKSMITH_BUILD_COMMIT");
/// The target triple.
pub const TARGET: &str = env!("LOCKSMITH_BUILD_TARGET");
/// The cargo profile (`debug` or `release`).
pub const PROFILE: &str = env!("LOCKSMITH_BUILD_PROFILE");
/// Enabled cargo features, comma-separated, or `none`.
pub const FEATURES: &str = env!("LOCKSMITH_BUILD_FEATURES");
/// The compiler.
pub const RUSTC: &str = env!("LOCKSMITH_BUILD_RUSTC");

/// The long version text (the CLI's `--version` text; the argument parser prefixes the
/// command name): the version, then one `key: value` line per fact.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\ncommit:   ",
    env!("LOCKSMITH_BUILD_COMMIT"),
    "\ntarget:   ",
    env!("LOCKSMITH_BUILD_TARGET"),
    "\nprofile:  ",
    env!("LOCKSMITH_BUILD_PROFILE"),
    "\nfeatures: ",
    env!("LOCKSMITH_BUILD_FEATURES"),
    "\nrustc:    ",
    env!("LOCKSMITH_BUILD_RUSTC"),
);
