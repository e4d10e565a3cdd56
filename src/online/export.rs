//! `locksmith online export`: the node's lock status and log, as
//! `tailscale lock status --json=1` and `tailscale lock log --json=1` print
//! them, in one request envelope for the offline machine.

use std::path::PathBuf;
use std::time::Duration;

use super::error::OnlineError;
use super::tailscale::Tailscale;
use crate::exchange::{unix_now, ArtifactKind, Envelope, NodeExport};

/// Where the status and log come from.
#[derive(Debug, Clone)]
pub enum ExportSource {
    /// Run the tailscale CLI; `log_limit` is passed as `--limit`.
    Cli {
        tailscale: Tailscale,
        log_limit: Option<u32>,
    },
    /// Read files saved earlier.
    Files { status: PathBuf, log: PathBuf },
}

fn check_json(
    bytes: &[u8],
    input: &str,
    what: &'static str,
    command: &'static str,
    required: &str,
) -> Result<(), OnlineError> {
    let bad = |reason: String| OnlineError::BadJson {
        input: input.into(),
        what,
        command,
        reason,
    };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
    if value.get(required).is_none() {
        return Err(bad(format!("no `{required}` field")));
    }
    Ok(())
}

/// Collects status and log and wraps them in a request envelope valid for
/// `lifetime`. The caller records the request and writes the envelope.
pub fn build_export(
    source: &ExportSource,
    lifetime: Duration,
    label: Option<&str>,
) -> Result<Envelope, OnlineError> {
    let (status, log, status_name, log_name) = match source {
        ExportSource::Cli {
            tailscale,
            log_limit,
        } => {
            let status = tailscale.output(&["lock", "status", "--json=1"])?;
            // Before `tailscale lock init` there is no log, and upstream's
            // `tailscale lock log` fails ("Tailnet Lock is not enabled",
            // cmd/tailscale/cli/tailnet-lock.go runTailnetLockLog): record
            // an empty log, so that the export still carries the node's
            // key for `locksmith lock init --online-export`.
            let enabled = serde_json::from_slice::<serde_json::Value>(&status)
                .ok()
                .and_then(|v| v.get("Enabled").and_then(serde_json::Value::as_bool))
                .unwrap_or(true);
            let log = if enabled {
                let limit = log_limit.map(|n| format!("--limit={n}"));
                let mut args = vec!["lock", "log", "--json=1"];
                if let Some(l) = &limit {
                    args.push(l);
                }
                tailscale.output(&args)?
            } else {
                br#"{"Messages":[]}"#.to_vec()
            };
            (
                status,
                log,
                "tailscale lock status".to_string(),
                "tailscale lock log".to_string(),
            )
        }
        ExportSource::Files { status, log } => {
            let read = |p: &PathBuf| {
                std::fs::read(p).map_err(|e| crate::exchange::ExchangeError::io(p, "read", e))
            };
            (
                read(status)?,
                read(log)?,
                status.display().to_string(),
                log.display().to_string(),
            )
        }
    };
    check_json(
        &status,
        &status_name,
        "lock status",
        "lock status --json=1",
        "Enabled",
    )?;
    check_json(&log, &log_name, "lock log", "lock log --json=1", "Messages")?;
    let payload = NodeExport {
        status_json: status,
        log_json: log,
        exported_at: unix_now(),
    }
    .to_bytes();
    let mut env = Envelope::new_request(ArtifactKind::NodeExport, payload, lifetime);
    if let Some(l) = label {
        env = env.with_label(l);
    }
    Ok(env)
}
