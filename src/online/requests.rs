//! The record of outstanding requests: one small JSON file per request in
//! a state directory, so that `online submit` applies only answers to
//! requests this machine made, and each at most once.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::OnlineError;
use crate::exchange::{ArtifactKind, Nonce, RequestInfo};

/// One outstanding request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutstandingRequest {
    pub nonce: String,
    pub kind: String,
    /// Unix seconds.
    pub created: u64,
    /// Unix seconds.
    pub expires: u64,
    #[serde(default)]
    pub label: Option<String>,
}

/// The state directory holding outstanding requests.
#[derive(Debug, Clone)]
pub struct RequestStore {
    dir: PathBuf,
}

impl RequestStore {
    /// The store in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The default: `<user data dir>/locksmith/online`.
    pub fn default_dir() -> PathBuf {
        dirs::data_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("locksmith")
            .join("online")
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, nonce: &Nonce) -> PathBuf {
        self.dir.join(format!("request-{}.json", nonce.to_hex()))
    }

    fn state_err(&self, action: &'static str) -> impl FnOnce(std::io::Error) -> OnlineError + '_ {
        move |cause| OnlineError::State {
            path: self.dir.clone(),
            action,
            cause,
        }
    }

    /// Records a request just made.
    pub fn record(
        &self,
        info: &RequestInfo,
        kind: ArtifactKind,
        label: Option<&str>,
    ) -> Result<(), OnlineError> {
        std::fs::create_dir_all(&self.dir).map_err(self.state_err("create"))?;
        let rec = OutstandingRequest {
            nonce: info.nonce.to_hex(),
            kind: kind.name().into(),
            created: info.created,
            expires: info.expires,
            label: label.map(str::to_string),
        };
        let json = serde_json::to_vec_pretty(&rec).map_err(|e| OnlineError::CorruptRecord {
            path: self.dir.clone(),
            reason: e.to_string(),
        })?;
        crate::output::write_atomic(&self.path_of(&info.nonce), &json, false)
            .map_err(crate::exchange::ExchangeError::from)?;
        Ok(())
    }

    /// The outstanding request with `nonce`, if recorded.
    pub fn lookup(&self, nonce: &Nonce) -> Result<Option<OutstandingRequest>, OnlineError> {
        let path = self.path_of(nonce);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(cause) => {
                return Err(OnlineError::State {
                    path,
                    action: "read",
                    cause,
                })
            }
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| OnlineError::CorruptRecord {
                path,
                reason: e.to_string(),
            })
    }

    /// Forgets a request once its answer has been applied.
    pub fn complete(&self, nonce: &Nonce) -> Result<(), OnlineError> {
        match std::fs::remove_file(self.path_of(nonce)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(cause) => Err(OnlineError::State {
                path: self.path_of(nonce),
                action: "remove",
                cause,
            }),
        }
    }

    /// Every outstanding request, oldest first.
    pub fn list(&self) -> Result<Vec<OutstandingRequest>, OnlineError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(cause) => {
                return Err(OnlineError::State {
                    path: self.dir.clone(),
                    action: "list",
                    cause,
                })
            }
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(self.state_err("list"))?;
            let name = entry.file_name().to_string_lossy().to_string();
            if let Some(hex) = name
                .strip_prefix("request-")
                .and_then(|n| n.strip_suffix(".json"))
            {
                if let Some(nonce) = Nonce::from_hex(hex) {
                    if let Some(rec) = self.lookup(&nonce)? {
                        out.push(rec);
                    }
                }
            }
        }
        out.sort_by_key(|r| r.created);
        Ok(out)
    }
}
