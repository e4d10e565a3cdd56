//! The `locksmith` command line: argument parsing and dispatch. Each
//! command group lives in a file of its own.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub mod exchange;
pub mod online;

/// Tailnet Lock key ceremonies on smart cards and HSMs, from an offline machine.
#[derive(Debug, Parser)]
#[command(name = "locksmith", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Derive the disablement value of a secret (placeholder until the core lands).
    Version,
    /// Move artifacts across the air gap: envelopes, raw forms, QR codes.
    Exchange {
        #[command(subcommand)]
        cmd: exchange::ExchangeCommand,
    },
    /// The helper for the connected machine (runs the stock tailscale CLI).
    Online {
        #[command(subcommand)]
        cmd: online::OnlineCommand,
    },
}

/// Parses the command line, runs the command, and maps errors to exit codes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Version => {
            println!("locksmith {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        Command::Exchange { cmd } => exchange::run(cmd),
        Command::Online { cmd } => online::run(cmd),
    }
}
