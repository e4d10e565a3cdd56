//! Writes shell completions (bash, zsh, fish) and man pages (one per
//! command and subcommand) for `locksmith`, from the clap definition the
//! binary itself uses:
//!
//! ```text
//! cargo run --example gen-completions -- DIR
//! ```
//!
//! makes `DIR/completions/{locksmith.bash,_locksmith,locksmith.fish}` and
//! `DIR/man/locksmith.1`, `DIR/man/locksmith-lock.1`,
//! `DIR/man/locksmith-lock-status.1`, …
//!
//! Why an example and not build.rs: the `Cli` definition spans the whole
//! `cli` module and takes argument types from `signers` and `secrets`;
//! `include!`-ing it into build.rs would mean compiling most of the crate
//! twice or splitting the definitions from their code. An example links the
//! real crate, so the pages always match the binary. tests/completions.rs
//! runs [`generate_all`] so it is checked on every test run.

#![allow(dead_code)] // main is unused when tests/completions.rs includes this file

use clap::CommandFactory;
use clap_complete::Shell;
use std::path::{Path, PathBuf};

/// Writes completions and man pages under `out`; returns the files written.
pub fn generate_all(out: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut cmd = locksmith::cli::Cli::command();
    cmd.build();
    let mut written = Vec::new();

    let completions = out.join("completions");
    std::fs::create_dir_all(&completions)?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        written.push(clap_complete::generate_to(
            shell,
            &mut cmd,
            "locksmith",
            &completions,
        )?);
    }

    let man = out.join("man");
    std::fs::create_dir_all(&man)?;
    write_man_pages(&cmd, &man, &mut written)?;
    Ok(written)
}

/// One page for `cmd`, named after its display name (`locksmith-lock-init`),
/// then one for each visible subcommand.
fn write_man_pages(
    cmd: &clap::Command,
    dir: &Path,
    written: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    let name = cmd
        .get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_string();
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut page)?;
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, page)?;
    written.push(path);
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        write_man_pages(sub, dir, written)?;
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(dir), None) = (args.next(), args.next()) else {
        eprintln!("usage: cargo run --example gen-completions -- DIR");
        return std::process::ExitCode::from(2);
    };
    match generate_all(Path::new(&dir)) {
        Ok(files) => {
            for f in files {
                println!("{}", f.display());
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "error: writing completions and man pages under {}: {e}",
                Path::new(&dir).display()
            );
            std::process::ExitCode::FAILURE
        }
    }
}
