//! A command's main output: the raw artifact at its path, or (answering a
//! request of `locksmith online export`) a response envelope, and
//! optionally the artifact's envelope beside it.

use super::commit::{check_target, CommitUnit, Existing, Parent};
use crate::ceremony::error::{bail, Context};
use crate::exchange::{ArtifactKind, Envelope, RequestInfo};
use std::path::{Path, PathBuf};

/// A file to write: its path and its bytes.
pub type OutputFile = (PathBuf, Vec<u8>);

/// Where the main output goes besides its path.
#[derive(Debug, Clone, Default)]
pub struct PrimaryOutput {
    /// Answer this request (a file `locksmith online export` wrote) with a
    /// response envelope instead of the raw artifact.
    pub respond_to: Option<PathBuf>,
    /// Also write the artifact's exchange envelope here.
    pub envelope_out: Option<PathBuf>,
    /// Replace existing files.
    pub force: bool,
}

impl PrimaryOutput {
    /// Checks, at preflight, where the output goes: `path`, the envelope
    /// file, and the request (readable, a request, not expired).
    pub fn check(&self, path: &Path) -> crate::ceremony::error::Result<()> {
        check_target(path, Existing::from_force(self.force), Parent::MustExist)?;
        if let Some(env_path) = &self.envelope_out {
            check_target(
                env_path,
                Existing::from_force(self.force),
                Parent::MustExist,
            )?;
        }
        if let Some(request_path) = &self.respond_to {
            read_request(request_path)?;
        }
        Ok(())
    }

    /// The output as files: the raw artifact at `path` (or a response
    /// envelope answering the request), and the envelope if asked. The
    /// note says what to do with a response.
    pub fn files(
        &self,
        path: &Path,
        kind: ArtifactKind,
        payload: &[u8],
    ) -> crate::ceremony::error::Result<(Vec<OutputFile>, Option<String>)> {
        let mut files = Vec::new();
        if let Some(env_path) = &self.envelope_out {
            let env = Envelope::new(kind, payload.to_vec());
            files.push((env_path.clone(), env.to_bytes()));
        }
        let Some(request_path) = &self.respond_to else {
            files.push((path.to_path_buf(), payload.to_vec()));
            return Ok((files, None));
        };
        let info = read_request(request_path)?;
        let response = Envelope::new_response(kind, payload.to_vec(), info.nonce);
        files.push((path.to_path_buf(), response.to_bytes()));
        let note = format!(
            "{} is a response to request {}: run `locksmith online submit {}` on the online machine",
            path.display(),
            info.nonce.to_hex(),
            path.display()
        );
        Ok((files, Some(note)))
    }

    /// Stages the output (see [`PrimaryOutput::files`]) in `unit`; returns
    /// the note to print once it is written.
    pub fn stage(
        &self,
        unit: &mut CommitUnit,
        path: &Path,
        kind: ArtifactKind,
        payload: &[u8],
    ) -> crate::ceremony::error::Result<Option<String>> {
        let (files, note) = self.files(path, kind, payload)?;
        for (p, bytes) in files {
            unit.add(
                p,
                bytes,
                Existing::from_force(self.force),
                Parent::MustExist,
            )?;
        }
        Ok(note)
    }
}

/// Reads the request a response answers: an envelope carrying a nonce,
/// not expired.
pub fn read_request(request_path: &Path) -> crate::ceremony::error::Result<RequestInfo> {
    let bytes = crate::input::Input::read_path(request_path)
        .context("--respond-to")?
        .bytes;
    let request = Envelope::from_bytes(&bytes, &request_path.display().to_string())?;
    let Some(info) = request.request else {
        bail!("{} is not a request (it carries no nonce); use the file `locksmith online export` wrote", request_path.display());
    };
    if info.expires <= crate::exchange::unix_now() {
        bail!(
            "the request {} has expired; make a new export on the online machine",
            request_path.display()
        );
    }
    Ok(info)
}
