//! Runs the stock `tailscale` CLI. The only process locksmith talks to on
//! the online side; it is found on PATH unless given explicitly.

use std::path::PathBuf;
use std::process::Command;

use super::error::OnlineError;

/// The `tailscale` executable to run.
#[derive(Debug, Clone)]
pub struct Tailscale {
    pub program: PathBuf,
}

impl Default for Tailscale {
    fn default() -> Self {
        Self {
            program: PathBuf::from("tailscale"),
        }
    }
}

impl Tailscale {
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
        }
    }

    fn display(&self, args: &[&str]) -> String {
        format!("tailscale {}", args.join(" "))
    }

    /// Runs `tailscale ARGS...` and returns its standard output.
    pub fn output(&self, args: &[&str]) -> Result<Vec<u8>, OnlineError> {
        let out = Command::new(&self.program)
            .args(args)
            .output()
            .map_err(|cause| OnlineError::Spawn {
                program: self.program.display().to_string(),
                cause,
            })?;
        if !out.status.success() {
            return Err(OnlineError::CommandFailed {
                command: self.display(args),
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        Ok(out.stdout)
    }

    /// Runs `tailscale ARGS...` with the terminal attached (for commands
    /// that may prompt, such as `lock init`).
    pub fn run(&self, args: &[String]) -> Result<(), OnlineError> {
        let status = Command::new(&self.program)
            .args(args)
            .status()
            .map_err(|cause| OnlineError::Spawn {
                program: self.program.display().to_string(),
                cause,
            })?;
        if !status.success() {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            return Err(OnlineError::CommandFailed {
                command: self.display(&refs),
                status: status.to_string(),
                stderr: "see its output above".into(),
            });
        }
        Ok(())
    }
}
