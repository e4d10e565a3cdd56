//! The command tree as the binary parses it, shows it in `--help`, and
//! writes it into completions and man pages: the derive definition
//! ([`super::Cli`]), built, with each global option listed once.
//!
//! Global options (`--qr-in`) are accepted before or after the command, as
//! clap propagates them; they are listed once, in `locksmith --help` under
//! "Global options", not repeated in every subcommand's help (as ykman and
//! step list theirs). Completions still offer them everywhere.

use clap::CommandFactory;

/// The heading global options are listed under in `locksmith --help`.
pub const GLOBAL_HEADING: &str = "Global options";

/// The command tree, global options hidden below the top level.
///
/// clap copies a global argument into each subcommand when the tree is
/// built, unless the subcommand already has an argument with that id; so
/// each subcommand gets a hidden copy first (still global, so it parses and
/// propagates the same). A subcommand's own argument with the same id
/// stays as it is.
pub fn command() -> clap::Command {
    let cmd = super::Cli::command();
    let globals: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .map(|a| a.clone().hide(true))
        .collect();
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    let mut cmd = cmd;
    for name in names {
        cmd = cmd.mut_subcommand(name, |sub| with_hidden(sub, &globals));
    }
    cmd
}

/// `cmd` and its subcommands, each with a hidden copy of `globals`.
fn with_hidden(mut cmd: clap::Command, globals: &[clap::Arg]) -> clap::Command {
    for g in globals {
        if cmd.get_arguments().all(|a| a.get_id() != g.get_id()) {
            cmd = cmd.arg(g.clone());
        }
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, |sub| with_hidden(sub, globals));
    }
    cmd
}

/// Parses the process's arguments against [`command`] (what `Cli::parse`
/// does, with the same errors and exit codes).
pub fn parse() -> super::Cli {
    use clap::FromArgMatches;
    let mut matches = command().get_matches();
    super::Cli::from_arg_matches_mut(&mut matches)
        .map_err(|e| e.format(&mut command()))
        .unwrap_or_else(|e| e.exit())
}

/// Parses `argv` (its first item is the program name) against [`command`].
pub fn try_parse_from<I, T>(argv: I) -> Result<super::Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::FromArgMatches;
    let mut matches = command().try_get_matches_from(argv)?;
    super::Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut command()))
}
