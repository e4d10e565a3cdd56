//! The `locksmith` command line: argument parsing and dispatch. Each
//! command group lives in a file of its own.

/// Writes to standard output; a closed pipe (`locksmith … | head`) ends
/// the program quietly instead of panicking.
pub(crate) fn write_stdout(args: std::fmt::Arguments<'_>) {
    // Text output: hostile characters escaped (`shown::for_terminal`),
    // whatever field they came in. Escaped piece by piece as formatting
    // produces it, so no copy of the text (which may hold a revealed
    // secret) is left in a buffer.
    write_stdout_raw(format_args!("{}", TerminalText(args)));
}

/// Formats its arguments through [`crate::shown::for_terminal`].
struct TerminalText<'a>(std::fmt::Arguments<'a>);

impl std::fmt::Display for TerminalText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Escaping<'b, 'c>(&'b mut std::fmt::Formatter<'c>);
        impl std::fmt::Write for Escaping<'_, '_> {
            fn write_str(&mut self, s: &str) -> std::fmt::Result {
                self.0.write_str(&crate::shown::for_terminal(s))
            }
        }
        std::fmt::write(&mut Escaping(f), self.0)
    }
}

/// Writes to standard output as is: JSON only (serde escapes control
/// characters; the exact strings are kept).
pub(crate) fn write_stdout_raw(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: writing to standard output: {e}");
        std::process::exit(1);
    }
}

/// Writes to standard error with hostile characters escaped
/// (`shown::for_terminal`), as [`write_stdout`] does for standard output:
/// file names, labels, notes and values from inputs reach the terminal
/// only through it. An error writing to standard error is ignored (there
/// is nowhere left to report it).
pub(crate) fn write_stderr(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = std::io::stderr()
        .lock()
        .write_fmt(format_args!("{}", TerminalText(args)));
}

/// `eprint!` through [`write_stderr`].
macro_rules! eout {
    ($($arg:tt)*) => { $crate::cli::write_stderr(format_args!($($arg)*)) };
}

/// `eprintln!` through [`write_stderr`].
macro_rules! eoutln {
    () => { $crate::cli::write_stderr(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::write_stderr(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!` through [`write_stdout`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::write_stdout(format_args!($($arg)*)) };
}

/// `println!` through [`write_stdout`].
macro_rules! outln {
    () => { $crate::cli::write_stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::write_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

pub mod attestation;
pub mod ceremony;
pub(crate) mod chain_source;
pub mod completions;
pub mod definition;
pub mod examples;
mod inspect;
mod lock;
mod lock_init;
mod lock_revoke;
mod lock_sign;
mod lock_update;
mod lockout;
pub mod record;
pub mod render;
mod secret_input;
pub mod secrets;
pub(crate) mod signing;
pub mod token;
mod values;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub mod exchange;
pub mod online;

/// Tailnet Lock key ceremonies on smart cards and HSMs, from an offline machine.
#[derive(Debug, Parser)]
#[command(name = "locksmith", version, long_version = crate::build_info::LONG_VERSION, about, long_about = None, after_help = examples::LOCKSMITH)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Read every artifact input from QR images instead: an image file
    /// (PNG, JPEG, an animated GIF) or a directory of frames, in any order.
    /// Accepted before or after the command.
    #[arg(long, global = true, help_heading = definition::GLOBAL_HEADING)]
    pub qr_in: bool,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Identify and decode any Tailnet Lock artifact (AUM, recovery blob,
    /// node-key signature, wrapped auth key, deeplink, upstream JSON).
    #[command(after_help = examples::INSPECT)]
    Inspect(inspect::InspectArgs),
    /// Tailnet Lock operations, mirroring `tailscale lock`.
    #[command(after_help = examples::LOCK)]
    Lock {
        #[command(subcommand)]
        cmd: lock::LockCommand,
    },
    /// Tokens and keys: list, generate, show, test.
    #[command(after_help = examples::TOKEN)]
    Token {
        #[command(subcommand)]
        cmd: token::TokenCommand,
    },
    /// Disablement secrets: generate, verify, decrypt.
    #[command(after_help = examples::SECRETS)]
    Secrets {
        #[command(subcommand)]
        cmd: secrets::SecretsCommand,
    },
    /// Move artifacts across the air gap: envelopes, raw forms, QR codes.
    #[command(after_help = examples::EXCHANGE)]
    Exchange {
        #[command(subcommand)]
        cmd: exchange::ExchangeCommand,
    },
    /// Ceremony transcripts (verify, print) and ceremony plans (run).
    #[command(after_help = examples::CEREMONY)]
    Ceremony {
        #[command(subcommand)]
        cmd: ceremony::CeremonyCommand,
    },
    /// The helper for the connected machine (runs the stock tailscale CLI).
    #[command(after_help = examples::ONLINE)]
    Online {
        #[command(subcommand)]
        cmd: online::OnlineCommand,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_help = examples::COMPLETIONS)]
    Completions(completions::CompletionsArgs),
    /// Write man pages (locksmith.1 and one per command) into a directory.
    #[command(after_help = examples::MAN)]
    Man(completions::ManArgs),
}

/// A failure that has already been reported and only sets the exit code.
#[derive(Debug)]
pub struct Exit(pub u8);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}", self.0)
    }
}

impl std::error::Error for Exit {}

/// Parses the command line, runs the command, and maps errors to exit codes.
pub fn main() -> ExitCode {
    let cli = definition::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if let Some(Exit(code)) = err.downcast_ref::<Exit>() {
                return ExitCode::from(*code);
            }
            let message = format!("{err:#}");
            eprintln!("error: {}", crate::shown::for_terminal(&message));
            if interrupted(&err) {
                return ExitCode::from(crate::ceremony::terminal::INTERRUPTED_EXIT);
            }
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    crate::input::set_qr_in(cli.qr_in);
    crate::input::set_progress(Box::new(exchange::progress_printer()));
    match cli.command {
        Command::Inspect(args) => inspect::run(args),
        Command::Lock { cmd } => lock::run(cmd),
        Command::Token { cmd } => exit_code(token::run(cmd)?),
        Command::Secrets { cmd } => exit_code(secrets::run(cmd)?),
        Command::Exchange { cmd } => exit_code(exchange::run(cmd)?),
        Command::Online { cmd } => exit_code(online::run(cmd)?),
        Command::Ceremony { cmd } => ceremony::run(cmd),
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
    }
}

/// Turns a command's exit code into the `run` result, keeping its value
/// (`secrets verify` exits 3 for "matches none", for example).
fn exit_code(code: ExitCode) -> anyhow::Result<()> {
    if code == ExitCode::SUCCESS {
        return Ok(());
    }
    let value = (1..=u8::MAX)
        .find(|c| code == ExitCode::from(*c))
        .unwrap_or(1);
    Err(Exit(value).into())
}

/// Prints a JSON value on one line.
pub(crate) fn print_json(v: &serde_json::Value) {
    write_stdout_raw(format_args!("{v}\n"));
}

/// Whether the person stopped the command at a prompt (Ctrl-C, or Ctrl-D
/// where an answer was needed), anywhere in the error's chain: the
/// command then exits with `INTERRUPTED_EXIT` (130) instead of 1.
fn interrupted(err: &anyhow::Error) -> bool {
    err.chain().any(crate::ceremony::error::is_interruption)
}

/// A secret the CLI prompted for (or read from `-` or `file:`), handed to
/// the ceremony layer through one of its callbacks: a failure becomes the
/// layer's refusal with the CLI's whole message.
fn prompted<T>(read: anyhow::Result<T>) -> crate::ceremony::Result<T> {
    read.map_err(|e| crate::ceremony::Error::refused(format!("{e:#}")))
}
