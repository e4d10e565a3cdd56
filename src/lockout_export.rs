//! The latest status export (`tailscale lock status --json=1`) kept in the
//! authority store, for the lockout preview ([`crate::lockout`]).
//!
//! `locksmith lock import` stores it when given a status JSON file or a
//! `locksmith online export` (which carries the node's status next to its
//! log). It is kept verbatim as `<store>/status-export.json`, written
//! atomically, replaced by each newer import. It is hostile input: it is
//! re-parsed on every use and only ever checked against the verified chain.

use crate::input::Input;
use crate::lockout::{nodes_of, standings};
use crate::tka::upstream_json::{self, Status};
use crate::tka::Authority;
use std::path::Path;

/// The file name inside the store directory.
pub const FILE: &str = "status-export.json";

/// Why a status export could not be stored or read.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{input}: {reason}")]
    Invalid { input: String, reason: String },
    #[error("{input}: the status export was taken at head {head}, which this store has not verified. Import the node's log first (`locksmith online export` carries both), or export again")]
    UnknownHead { input: String, head: String },
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
}

/// The status JSON an input carries: a plain status export, or the status
/// inside a `locksmith online export` envelope. `None` when it has none.
pub fn status_text_of(input: &Input) -> Result<Option<String>, ExportError> {
    let invalid = |reason: String| ExportError::Invalid {
        input: input.name.clone(),
        reason,
    };
    if crate::exchange::is_envelope(&input.bytes) {
        let env = crate::exchange::Envelope::from_bytes(&input.bytes, &input.name)
            .map_err(|e| invalid(e.to_string()))?;
        if env.kind != crate::exchange::ArtifactKind::NodeExport {
            return Ok(None);
        }
        let export = crate::exchange::NodeExport::from_bytes(&env.payload, &input.name)
            .map_err(|e| invalid(e.to_string()))?;
        return String::from_utf8(export.status_json)
            .map(Some)
            .map_err(|_| invalid("the export's status is not UTF-8 JSON".into()));
    }
    match input.text() {
        Some(t) if t.starts_with('{') && upstream_json::looks_like_status(t) => {
            Ok(Some(t.to_string()))
        }
        _ => Ok(None),
    }
}

/// What was stored, for the import summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub head: String,
    pub nodes: usize,
    pub verifying: usize,
}

/// Checks a status export against the verified `authority` and stores it
/// in `store_dir`, replacing the previous one.
pub fn save(
    store_dir: &Path,
    authority: &Authority,
    input_name: &str,
    text: &str,
) -> Result<Stored, ExportError> {
    let invalid = |reason: String| ExportError::Invalid {
        input: input_name.to_string(),
        reason,
    };
    let status = upstream_json::parse_status(text).map_err(|e| invalid(e.to_string()))?;
    let nodes = nodes_of(&status).map_err(|e| invalid(e.to_string()))?;
    let head_text = status.head.clone().unwrap_or_default();
    let head: crate::tka::AumHash = head_text
        .parse()
        .map_err(|_| invalid(format!("Head {head_text:?} is not an AUM hash")))?;
    let Ok(state) = authority.state_at(head) else {
        return Err(ExportError::UnknownHead {
            input: input_name.to_string(),
            head: head.to_string(),
        });
    };
    let verifying = standings(&state, &nodes)
        .iter()
        .filter(|s| s.works())
        .count();
    let path = store_dir.join(FILE);
    crate::output::write_atomic(&path, text.as_bytes(), true).map_err(|e| ExportError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    Ok(Stored {
        head: head.to_string(),
        nodes: nodes.len(),
        verifying,
    })
}

/// The latest stored status export, if one was imported.
pub fn load(store_dir: &Path) -> Result<Option<Status>, ExportError> {
    let path = store_dir.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(ExportError::Io {
                path: path.display().to_string(),
                reason: e.to_string(),
            })
        }
    };
    upstream_json::parse_status(&text)
        .map(Some)
        .map_err(|e| ExportError::Invalid {
            input: path.display().to_string(),
            reason: e.to_string(),
        })
}
