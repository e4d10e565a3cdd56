//! Typed errors of the online helper.

use std::path::PathBuf;

use crate::exchange::ExchangeError;

#[derive(Debug, thiserror::Error)]
pub enum OnlineError {
    #[error("cannot run `{program}`: {cause}; is the tailscale CLI installed and on PATH (or pass --tailscale PATH)?")]
    Spawn {
        program: String,
        cause: std::io::Error,
    },

    #[error("`{command}` failed ({status}): {stderr}")]
    CommandFailed {
        command: String,
        status: String,
        stderr: String,
    },

    #[error("{input}: {what} is not the JSON `tailscale {command}` prints ({reason}); check that Tailnet Lock is enabled on this node and the CLI is recent")]
    BadJson {
        input: String,
        what: &'static str,
        command: &'static str,
        reason: String,
    },

    #[error("{input}: not a response to a request (it names no request); only answers to `locksmith online export` requests made on this machine are applied")]
    NotAResponse { input: String },

    #[error("{input}: answers request {nonce}, which this machine did not make or has already applied (state directory {state}); make a fresh request with `locksmith online export`")]
    UnknownRequest {
        input: String,
        nonce: String,
        state: PathBuf,
    },

    #[error("{input}: answers request {nonce}, which expired {ago} seconds ago; make a fresh request with `locksmith online export`")]
    Expired {
        input: String,
        nonce: String,
        ago: u64,
    },

    #[error("{input}: a {kind} response has no stock tailscale command that applies it{hint}")]
    Unsupported {
        input: String,
        kind: String,
        hint: String,
    },

    #[error("{input}: {reason}")]
    BadResponse { input: String, reason: String },

    #[error("state directory {path}: {action} failed: {cause}")]
    State {
        path: PathBuf,
        action: &'static str,
        cause: std::io::Error,
    },

    #[error("state directory {path}: corrupt request record ({reason}); delete the file to forget that request")]
    CorruptRecord { path: PathBuf, reason: String },

    #[error(transparent)]
    Exchange(#[from] ExchangeError),
}
