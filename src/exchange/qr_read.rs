//! QR images in: decodes image files (or directories of frames, or an
//! image already read) and reassembles what their codes carry, one code
//! or a multi-part sequence in any order. Reading a command-line input
//! is the front door's ([`crate::input::Input::read`]), which calls this
//! for images; this module reads no argument itself.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::error::{ExchangeError, Result};
use super::multipart::{is_multipart_ur, Progress, Reassembler};
use super::qr_decode::decode_image_file;
use super::raw_forms::{parse_artifact, Artifact, InputForm};
use super::spare_pages::SparePage;
use crate::limits::MAX_INPUT_BYTES;

/// Receives reassembly progress ("17/24 parts").
pub type ProgressFn<'a> = &'a mut dyn FnMut(&Progress);

/// One image file, under the one input cap ([`MAX_INPUT_BYTES`]).
fn read_file(path: &Path) -> Result<Vec<u8>> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| ExchangeError::io(path, "open", e))?;
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ExchangeError::io(path, "read", e))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(ExchangeError::TooLarge {
            input: name.into(),
            size: bytes.len() as u64,
            limit: MAX_INPUT_BYTES,
        });
    }
    Ok(bytes)
}

/// The artifact in the codes of one image already read (`name` names it).
pub fn artifact_from_image(
    bytes: &[u8],
    name: &str,
    progress: Option<ProgressFn>,
) -> Result<Artifact> {
    let contents = decode_image_file(bytes, name)?;
    let n = contents.len();
    let named: Vec<(String, Vec<u8>)> = contents
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let label = if n > 1 {
                format!("{name} code {}", i + 1)
            } else {
                name.to_string()
            };
            (label, c)
        })
        .collect();
    artifact_from_qr_contents(named, progress)
}

/// Whether `dir` holds any image file [`read_qr_images`] would read.
pub fn has_images(dir: &Path) -> bool {
    images_in(dir).is_ok()
}

/// The image files in `dir`, sorted by name (frame order does not matter
/// for reassembly, but a sorted listing makes progress readable).
fn images_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| ExchangeError::io(dir, "list", e))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| ExchangeError::io(dir, "list", e))?;
        let path = entry.path();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        if path.is_file() && matches!(ext.as_deref(), Some("png" | "jpg" | "jpeg" | "gif")) {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(ExchangeError::QrNotFound {
            input: format!(
                "{} (no .png, .jpg or .gif files in the directory)",
                dir.display()
            )
            .into(),
        });
    }
    Ok(files)
}

/// Decodes QR images (files, or directories of them) and reassembles the
/// artifact: one code, or the parts of a multi-part sequence in any order.
/// Images without a readable code are skipped as long as the sequence
/// still completes.
pub fn read_qr_images(paths: &[PathBuf], mut progress: Option<ProgressFn>) -> Result<Artifact> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            files.extend(images_in(p)?);
        } else {
            files.push(p.clone());
        }
    }
    if files.len() > crate::limits::MAX_FRAME_FILES {
        return Err(ExchangeError::OverLimit {
            input: format!("{} image files", files.len()).into(),
            reason: format!(
                "more than the {} frames locksmith reads at once; pass the frames of one artifact only",
                crate::limits::MAX_FRAME_FILES
            ),
        });
    }
    let mut contents = Vec::new();
    let mut last_error = None;
    for f in &files {
        let name = f.display().to_string();
        let bytes = read_file(f)?;
        match decode_image_file(&bytes, &name) {
            Ok(found) => {
                let n = found.len();
                for (i, c) in found.into_iter().enumerate() {
                    let label = if n > 1 {
                        format!("{name} code {}", i + 1)
                    } else {
                        name.clone()
                    };
                    contents.push((label, c));
                }
            }
            Err(e @ ExchangeError::QrNotFound { .. })
            | Err(e @ ExchangeError::ImageRead { .. }) => last_error = Some(e),
            Err(e) => return Err(e),
        }
    }
    if contents.is_empty() {
        return Err(last_error.unwrap_or(ExchangeError::QrNotFound {
            input: "the given images".into(),
        }));
    }
    artifact_from_qr_contents(contents, progress.as_mut().map(|p| &mut **p as ProgressFn))
}

use crate::limits::MAX_SEQUENCES;

/// A short description of what a code holds, for messages about two
/// different codes: its kind if it parses, else its size.
fn describe_code(bytes: &[u8]) -> String {
    match parse_artifact(bytes, "code") {
        Ok(a) => format!("a {} artifact of {} bytes", a.kind, a.payload.len()),
        Err(_) => format!("{} bytes locksmith cannot read", bytes.len()),
    }
}

/// Turns decoded QR contents (name, bytes) into one artifact: multi-part
/// UR frames are reassembled (in any order, with duplicates; frames of a
/// different sequence, such as a stale code left on screen, are kept apart
/// and do not spoil the one that completes); a single code is parsed like
/// any input.
pub fn artifact_from_qr_contents(
    contents: Vec<(String, Vec<u8>)>,
    mut progress: Option<ProgressFn>,
) -> Result<Artifact> {
    let mut sequences: Vec<(String, Reassembler)> = Vec::new();
    let mut single: Option<(String, Vec<u8>)> = None;
    let mut damaged: Option<ExchangeError> = None;
    for (name, bytes) in contents {
        let text = std::str::from_utf8(&bytes).ok().map(str::trim);
        match text {
            Some(t) if is_multipart_ur(t) || SparePage::is_spare(t) => {
                if sequences.iter().any(|(_, r)| r.is_complete()) {
                    continue;
                }
                let feed = |r: &mut Reassembler| {
                    if SparePage::is_spare(t) {
                        r.push_spare(t, &name)
                    } else {
                        r.push(t, &name)
                    }
                };
                let mut placed = false;
                for (_, r) in sequences.iter_mut() {
                    match feed(r) {
                        Ok(p) => {
                            if let Some(cb) = progress.as_mut() {
                                cb(&p);
                            }
                            placed = true;
                            break;
                        }
                        Err(ExchangeError::MixedSequences { .. }) => continue,
                        Err(e) => {
                            damaged.get_or_insert(e);
                            placed = true;
                            break;
                        }
                    }
                }
                if !placed && sequences.len() < MAX_SEQUENCES {
                    let mut r = Reassembler::new();
                    match feed(&mut r) {
                        Ok(p) => {
                            if let Some(cb) = progress.as_mut() {
                                cb(&p);
                            }
                            sequences.push((name.clone(), r));
                        }
                        Err(e) => {
                            damaged.get_or_insert(e);
                        }
                    }
                }
            }
            _ => match &single {
                None => single = Some((name, bytes)),
                Some((_, seen)) if *seen == bytes => {}
                Some((other, seen)) => {
                    return Err(ExchangeError::TwoArtifacts {
                        first: other.as_str().into(),
                        first_is: describe_code(seen),
                        second: name.into(),
                        second_is: describe_code(&bytes),
                    })
                }
            },
        }
    }
    if let Some((first, r)) = sequences.iter().find(|(_, r)| r.is_complete()) {
        let message = r.finish(first)?;
        let mut art = parse_artifact(&message, first)?;
        art.form = InputForm::QrImage;
        return Ok(art);
    }
    if sequences.len() > 1 {
        return Err(ExchangeError::MixedSequences {
            input: sequences
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
                .into(),
        });
    }
    if let Some((first, r)) = sequences.first() {
        return Err(damaged.unwrap_or_else(|| match r.finish(first) {
            Err(e) => e,
            Ok(_) => ExchangeError::ReassemblyFailed {
                input: first.as_str().into(),
            },
        }));
    }
    if let Some(e) = damaged {
        return Err(e);
    }
    match single {
        Some((name, bytes)) => {
            let mut art = parse_artifact(&bytes, &name)?;
            art.form = InputForm::QrImage;
            Ok(art)
        }
        None => Err(ExchangeError::QrNotFound {
            input: "the given images".into(),
        }),
    }
}
