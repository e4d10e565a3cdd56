//! `locksmith completions SHELL` and `locksmith man DIR`: shell completions
//! and man pages made from the clap definition the binary itself parses
//! with, so they cannot drift from it.

use super::definition::command;
use std::path::{Path, PathBuf};

/// `locksmith completions SHELL`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to write a completion script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `locksmith man DIR`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// The directory for the pages (created if missing), e.g.
    /// /usr/local/share/man/man1.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Replace pages that already exist.
    #[arg(long)]
    pub force: bool,
}

/// The completion script for `shell`.
pub fn completion_script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut cmd = command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "locksmith", &mut script);
    script
}

/// Every man page: `locksmith.1`, then one per command and subcommand
/// (`locksmith-lock-init.1`), as (file name, roff text).
pub fn man_pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    fn walk(cmd: &clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
        let name = cmd
            .get_display_name()
            .unwrap_or_else(|| cmd.get_name())
            .to_string();
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd.clone()).render(&mut page)?;
        out.push((format!("{name}.1"), page));
        for sub in cmd.get_subcommands() {
            if sub.is_hide_set() || sub.get_name() == "help" {
                continue;
            }
            walk(sub, out)?;
        }
        Ok(())
    }
    // Built, so each subcommand has its display name (locksmith-token-generate).
    let mut cmd = command();
    cmd.build();
    let mut pages = Vec::new();
    walk(&cmd, &mut pages)?;
    Ok(pages)
}

pub fn completions(args: CompletionsArgs) -> anyhow::Result<()> {
    let script = completion_script(args.shell);
    super::write_stdout(format_args!("{}", String::from_utf8_lossy(&script)));
    Ok(())
}

/// Writes every page, or none: an existing page without --force is
/// refused before anything is written.
pub fn man(args: ManArgs) -> anyhow::Result<()> {
    use anyhow::Context;
    let pages = man_pages().context("rendering the man pages")?;
    if !args.force {
        let existing: Vec<String> = pages
            .iter()
            .map(|(name, _)| args.dir.join(name))
            .filter(|p| p.exists())
            .map(|p| p.display().to_string())
            .collect();
        if !existing.is_empty() {
            anyhow::bail!(
                "{} already exist{}; pass --force to replace them, or choose another directory",
                existing.join(", "),
                if existing.len() == 1 { "s" } else { "" }
            );
        }
    }
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating the man page directory {}", args.dir.display()))?;
    for (name, page) in &pages {
        crate::output::write_atomic(&args.dir.join(name), page, args.force)?;
    }
    outln!(
        "wrote {} man pages to {} (read one with: man {})",
        pages.len(),
        args.dir.display(),
        Path::new(&args.dir).join("locksmith.1").display()
    );
    Ok(())
}
