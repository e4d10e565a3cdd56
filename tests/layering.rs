//! The layering docs/architecture.md draws: the library (everything in
//! `src/` but `src/cli/` and `src/main.rs`) never reaches into the CLI,
//! and the pure core (`src/tka/`) does no I/O and knows no command line.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("src readable") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn library_files() -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.retain(|p| !p.starts_with(src.join("cli")) && *p != src.join("main.rs"));
    files.sort();
    assert!(files.len() > 20, "found the library's files: {files:?}");
    files
}

/// The library's files whose text matches `offends`.
fn library_files_where(offends: impl Fn(&str) -> bool) -> Vec<String> {
    library_files()
        .iter()
        .filter(|p| offends(&std::fs::read_to_string(p).expect("read")))
        .map(|p| p.display().to_string())
        .collect()
}

#[test]
fn the_library_does_not_use_the_cli() {
    let offenders =
        library_files_where(|text| text.contains("crate::cli") || text.contains("super::cli"));
    assert!(
        offenders.is_empty(),
        "library files using src/cli: {offenders:?}"
    );
}

#[test]
fn the_core_does_no_io_and_knows_no_command_line() {
    let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tka");
    let mut files = Vec::new();
    rust_files(&core, &mut files);
    assert!(!files.is_empty());
    for p in files {
        let text = std::fs::read_to_string(&p).expect("read");
        for banned in [
            "std::fs",
            "std::net",
            "std::process",
            "clap::",
            "crate::cli",
            "crate::signers",
        ] {
            assert!(
                !text.contains(banned),
                "{} uses {banned}: the core stays pure",
                p.display()
            );
        }
    }
}

/// clap belongs to the CLI: library enums name their values themselves
/// (`ALL`, `name()`, `FromStr`) and `src/cli/values.rs` makes them clap
/// value enums.
#[test]
fn the_library_does_not_use_clap() {
    let offenders = library_files_where(|text| text.contains("clap"));
    assert!(
        offenders.is_empty(),
        "library files using clap: {offenders:?}"
    );
}

/// One error type per layer: below the CLI every module returns its own
/// typed error (`thiserror`), the ceremony layer `ceremony::Error`; only
/// the CLI turns them into `anyhow` messages with context.
#[test]
fn only_the_cli_uses_anyhow() {
    let offenders = library_files_where(|text| text.contains("anyhow"));
    assert!(
        offenders.is_empty(),
        "library files using anyhow: {offenders:?}"
    );
}

/// The CLI parses and prints; the library writes files and starts
/// processes. Allowed: `completions.rs` making the directory it was told
/// to write man pages into (the pages themselves go through
/// `output::write_atomic`), and anything inside a `#[cfg(test)]` module.
#[test]
fn the_cli_writes_no_files_and_starts_no_processes() {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli");
    let mut files = Vec::new();
    rust_files(&cli, &mut files);
    assert!(files.len() > 10, "found the CLI's files: {files:?}");
    let banned = [
        "fs::write(",
        "File::create(",
        "OpenOptions::new(",
        "fs::rename(",
        "fs::remove_file(",
        "fs::copy(",
        "process::Command",
        "Command::new(",
    ];
    let mut offenders = Vec::new();
    for p in &files {
        let text = std::fs::read_to_string(p).expect("read");
        // Only the code before the file's test module.
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for b in banned {
            if code.contains(b) {
                offenders.push(format!("{}: {b}", p.display()));
            }
        }
        if code.contains("create_dir_all(") && !p.ends_with("completions.rs") {
            offenders.push(format!("{}: create_dir_all(", p.display()));
        }
    }
    assert!(
        offenders.is_empty(),
        "src/cli doing the library's I/O: {offenders:?}"
    );
}
