//! Reading artifacts from the command line: a path, `-` for standard
//! input, or inline text; the form (exchange envelope, UR, hex, base64,
//! raw CBOR, upstream JSON, URL, wrapped auth key, QR images) and then the
//! artifact are detected.
//!
//! The form-level decoders are the exchange layer's (one of each:
//! [`crate::exchange::raw_forms::decode_text_encoding`] for hex and base64,
//! [`crate::exchange::multipart::decode_single_ur`] for URs,
//! [`crate::exchange::read_qr_images`] for images); this module adds the
//! typed reading into core artifacts. It does not depend on the CLI: the
//! CLI supplies the `--qr-in` setting and a progress sink for multi-part
//! QR reassembly ([`set_qr_in`], [`set_progress`]).

use crate::tka::nks::NodeKeySignature;
use crate::tka::upstream_json::{self, Status};
use crate::tka::wrapped_authkey::{self, WrappedAuthKey};
use crate::tka::{order_by_parent_links, Aum};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the global `--qr-in` flag: inputs are QR images (a file, a
/// directory of frames, or an animated GIF) to decode first.
static QR_IN: AtomicBool = AtomicBool::new(false);

/// Makes every input read in this process a QR image input.
pub fn set_qr_in(on: bool) {
    QR_IN.store(on, Ordering::Relaxed);
}

/// Receives reassembly progress ("17/24 parts") while QR images are read.
pub type ProgressSink = Box<dyn Fn(&crate::exchange::Progress) + Send + Sync>;

static PROGRESS: std::sync::OnceLock<ProgressSink> = std::sync::OnceLock::new();

/// Sets where QR reassembly progress goes for the rest of the process
/// (the CLI prints it on standard error). Without one, progress is dropped.
pub fn set_progress(sink: ProgressSink) {
    let _ = PROGRESS.set(sink);
}

/// Reports one step of QR reassembly to the sink, if one is set.
pub fn report_progress(p: &crate::exchange::Progress) {
    if let Some(sink) = PROGRESS.get() {
        sink(p);
    }
}

pub use crate::limits::MAX_INPUT_BYTES;

/// Why an input could not be read or understood.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{source_name}: cannot read: {reason}; check the path and its permissions")]
    Read { source_name: String, reason: String },
    #[error("{source_name}: larger than {MAX_INPUT_BYTES} bytes; is this the right file?")]
    TooLarge { source_name: String },
    #[error("{source_name}: {reason}")]
    Invalid { source_name: String, reason: String },
}

/// Bytes read from one command-line input, with a name for messages.
#[derive(Clone, Debug)]
pub struct Input {
    /// The path, `standard input`, or a note that the argument was inline text.
    pub name: String,
    pub bytes: Vec<u8>,
    /// The path, when the input was a file.
    pub path: Option<PathBuf>,
}

impl Input {
    /// Reads `arg`: `-` is standard input, an existing path is read, and
    /// anything else is taken as inline text.
    pub fn read(arg: &str) -> Result<Input, InputError> {
        if QR_IN.load(Ordering::Relaxed) && arg != "-" {
            return Self::read_qr(arg);
        }
        if arg == "-" {
            let mut bytes = Vec::new();
            std::io::stdin()
                .take(MAX_INPUT_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| InputError::Read {
                    source_name: "standard input".into(),
                    reason: e.to_string(),
                })?;
            if bytes.len() as u64 > MAX_INPUT_BYTES {
                return Err(InputError::TooLarge {
                    source_name: "standard input".into(),
                });
            }
            return Ok(Input {
                name: "standard input".into(),
                bytes,
                path: None,
            });
        }
        let path = Path::new(arg);
        if path.is_file() {
            let input = Self::read_file(path)?;
            if crate::exchange::qr_decode::is_image(&input.bytes) {
                // A photo or screenshot of a QR code: decoded without --qr-in.
                return Self::read_qr(arg);
            }
            return Ok(input);
        }
        if path.is_dir() {
            return Err(InputError::Invalid {
                source_name: crate::shown::escape(arg).into_owned(),
                reason:
                    "is a directory; give a file, or use --chain DIR for a directory of AUM files"
                        .into(),
            });
        }
        let shown: String = arg.chars().take(24).collect();
        let ellipsis = if arg.chars().count() > 24 { "…" } else { "" };
        Ok(Input {
            name: format!(
                "argument {shown:?}{ellipsis} (no file by that name; read as inline text)"
            ),
            bytes: arg.as_bytes().to_vec(),
            path: None,
        })
    }

    /// Decodes QR images (a file, a directory of frames, an animated GIF).
    pub fn read_qr(arg: &str) -> Result<Input, InputError> {
        let name = format!("{arg} (QR codes)");
        let mut progress = report_progress;
        let art = crate::exchange::read_qr_images(&[PathBuf::from(arg)], Some(&mut progress))
            .map_err(|e| InputError::Invalid {
                source_name: name.clone(),
                reason: e.to_string(),
            })?;
        let bytes = match &art.envelope {
            Some(env) => env.to_bytes(),
            None => art.payload.clone(),
        };
        Ok(Input {
            name,
            bytes,
            path: None,
        })
    }

    /// Reads a file.
    pub fn read_file(path: &Path) -> Result<Input, InputError> {
        let name = crate::shown::path(path);
        let meta = std::fs::metadata(path).map_err(|e| InputError::Read {
            source_name: name.clone(),
            reason: e.to_string(),
        })?;
        if meta.len() > MAX_INPUT_BYTES {
            return Err(InputError::TooLarge { source_name: name });
        }
        let bytes = std::fs::read(path).map_err(|e| InputError::Read {
            source_name: name.clone(),
            reason: e.to_string(),
        })?;
        Ok(Input {
            name,
            bytes,
            path: Some(path.to_path_buf()),
        })
    }

    pub fn invalid(&self, reason: impl Into<String>) -> InputError {
        InputError::Invalid {
            source_name: self.name.clone(),
            reason: reason.into(),
        }
    }

    /// The input as trimmed UTF-8 text, if it is text.
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.bytes).ok().map(str::trim)
    }
}

/// How an input's bytes were encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    RawCbor,
    Hex,
    Base64,
    Json,
    Url,
    WrappedAuthKey,
    Envelope,
    /// A single-part Uniform Resource (`ur:locksmith/...`, `ur:bytes/...`).
    Ur,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::RawCbor => "raw CBOR",
            Encoding::Hex => "hex",
            Encoding::Base64 => "base64",
            Encoding::Json => "upstream JSON",
            Encoding::Url => "URL",
            Encoding::WrappedAuthKey => "wrapped auth key",
            Encoding::Envelope => "locksmith exchange envelope",
            Encoding::Ur => "UR",
        }
    }
}

/// An identified artifact.
#[derive(Debug)]
pub enum Artifact {
    Aum(Aum),
    Nks(NodeKeySignature),
    WrappedAuthKey(WrappedAuthKey),
    Deeplink(String),
    LockLog(Vec<Aum>),
    LockStatus(Box<Status>),
    /// `locksmith online export`: a status and a log together.
    NodeExport {
        log: Vec<Aum>,
        status: Box<Status>,
    },
}

/// Decodes text that is hex (either case) or base64 (standard or URL
/// alphabet, padded or not) to bytes, ignoring whitespace (line breaks in
/// pasted blobs), with the exchange layer's decoder.
fn decode_text_bytes(text: &str) -> Option<(Encoding, Vec<u8>)> {
    use crate::exchange::RawForm;
    let compact: String = text.split_whitespace().collect();
    let (bytes, form) = crate::exchange::raw_forms::decode_text_encoding(&compact)?;
    let encoding = match form {
        RawForm::HexUpper | RawForm::HexLower => Encoding::Hex,
        _ => Encoding::Base64,
    };
    Some((encoding, bytes))
}

/// Whether `text` is a Uniform Resource (`ur:` in either case).
fn is_ur(text: &str) -> bool {
    text.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("ur:"))
}

/// The bytes a single-part UR carries, as a new input named after it.
fn unwrap_ur(input: &Input, text: &str) -> Result<Input, InputError> {
    let bytes = crate::exchange::multipart::decode_single_ur(text, &input.name)
        .map_err(|e| input.invalid(e.to_string()))?;
    Ok(Input {
        name: format!("{} (UR)", input.name),
        bytes,
        path: input.path.clone(),
    })
}

/// Identifies the artifact in an input. CBOR that decodes both as an AUM
/// and as a node-key signature is taken as whichever passes its static
/// rules (an AUM first).
pub fn identify(input: &Input) -> Result<(Encoding, Artifact), InputError> {
    if crate::exchange::is_envelope(&input.bytes) {
        return identify_envelope(input);
    }
    if let Some(text) = input.text() {
        if text.starts_with('{') {
            if upstream_json::looks_like_log(text) {
                let aums =
                    upstream_json::parse_log(text).map_err(|e| input.invalid(e.to_string()))?;
                return Ok((Encoding::Json, Artifact::LockLog(aums)));
            }
            if upstream_json::looks_like_status(text) {
                let status =
                    upstream_json::parse_status(text).map_err(|e| input.invalid(e.to_string()))?;
                return Ok((Encoding::Json, Artifact::LockStatus(Box::new(status))));
            }
            return Err(input.invalid(
                "JSON, but neither `tailscale lock log --json=1` (no Messages) nor `tailscale lock status --json=1` output",
            ));
        }
        if text.starts_with("tailscale://") {
            return Ok((Encoding::Url, Artifact::Deeplink(text.to_string())));
        }
        if text.contains("--TL") {
            return match wrapped_authkey::decode(text) {
                Ok(w) => Ok((Encoding::WrappedAuthKey, Artifact::WrappedAuthKey(w))),
                Err(e) => Err(input.invalid(format!("looks like a wrapped auth key, but {e}"))),
            };
        }
        if is_ur(text) {
            let (_, artifact) = identify(&unwrap_ur(input, text)?)?;
            return Ok((Encoding::Ur, artifact));
        }
        if text.starts_with("tskey-") {
            return Err(input.invalid(
                "a plain pre-auth key with no --TL credential suffix; use `locksmith lock sign tskey-auth-…` to wrap one",
            ));
        }
        if let Some((encoding, bytes)) = decode_text_bytes(text) {
            return identify_cbor(input, encoding, &bytes);
        }
    }
    identify_cbor(input, Encoding::RawCbor, &input.bytes)
}

/// Unwraps a locksmith exchange envelope and identifies what it carries.
fn identify_envelope(input: &Input) -> Result<(Encoding, Artifact), InputError> {
    use crate::exchange::{ArtifactKind, Envelope, NodeExport};
    let env = Envelope::from_bytes(&input.bytes, &input.name)
        .map_err(|e| input.invalid(e.to_string()))?;
    if env.kind == ArtifactKind::NodeExport {
        let export = NodeExport::from_bytes(&env.payload, &input.name)
            .map_err(|e| input.invalid(e.to_string()))?;
        let log_text = String::from_utf8(export.log_json)
            .map_err(|_| input.invalid("the export's log is not UTF-8 JSON"))?;
        let status_text = String::from_utf8(export.status_json)
            .map_err(|_| input.invalid("the export's status is not UTF-8 JSON"))?;
        let log = upstream_json::parse_log(&log_text)
            .map_err(|e| input.invalid(format!("the export's log: {e}")))?;
        let status = upstream_json::parse_status(&status_text)
            .map_err(|e| input.invalid(format!("the export's status: {e}")))?;
        return Ok((
            Encoding::Envelope,
            Artifact::NodeExport {
                log,
                status: Box::new(status),
            },
        ));
    }
    let inner = Input {
        name: format!("{} (envelope: {})", input.name, env.kind),
        bytes: env.payload.clone(),
        path: input.path.clone(),
    };
    let (_, artifact) = identify(&inner)?;
    Ok((Encoding::Envelope, artifact))
}

/// What the two CBOR decoders make of some bytes: each either decoded it
/// strictly (decoded and passed its static rules), decoded it but found it
/// invalid, or failed to decode it.
#[derive(Debug)]
pub struct CborReading {
    pub encoding: Encoding,
    pub aum: Result<Aum, String>,
    pub aum_valid: Result<(), String>,
    pub nks: Result<NodeKeySignature, String>,
    pub nks_valid: Result<(), String>,
}

/// Upstream's static checks for a node-key signature that stands alone: a
/// known kind, a node key, a signature, and an authorizing key.
pub fn nks_static_check(n: &NodeKeySignature) -> Result<(), String> {
    use crate::tka::nks::SigKind;
    if ![SigKind::DIRECT, SigKind::ROTATION, SigKind::CREDENTIAL].contains(&n.kind) {
        return Err(format!("unknown signature kind {}", n.kind.0));
    }
    if n.kind != SigKind::CREDENTIAL && n.pubkey.as_deref().is_none_or(<[u8]>::is_empty) {
        return Err("no node key (field 2)".into());
    }
    let sig_len = n.signature.as_deref().map_or(0, <[u8]>::len);
    if sig_len != 64 {
        return Err(format!(
            "the signature (field 4) is {sig_len} bytes, not 64"
        ));
    }
    n.authorizing_key_id()
        .map(|_| ())
        .map_err(|e| e.to_string())
}

impl CborReading {
    /// Runs both decoders over `bytes`.
    pub fn of(encoding: Encoding, bytes: &[u8]) -> Self {
        let aum = Aum::decode(bytes).map_err(|e| e.to_string());
        let aum_valid = match &aum {
            Ok(a) => a.static_validate().map_err(|e| e.to_string()),
            Err(e) => Err(e.clone()),
        };
        let nks = NodeKeySignature::decode(bytes).map_err(|e| e.to_string());
        let nks_valid = match &nks {
            Ok(n) => nks_static_check(n),
            Err(e) => Err(e.clone()),
        };
        CborReading {
            encoding,
            aum,
            aum_valid,
            nks,
            nks_valid,
        }
    }

    /// The artifact, if exactly one reading is strict, or both are (an AUM
    /// with signatures wins, then a signature). `None` when neither
    /// decoder reads the bytes strictly.
    pub fn strict(&self) -> Option<Artifact> {
        match (
            &self.aum,
            self.aum_valid.is_ok(),
            &self.nks,
            self.nks_valid.is_ok(),
        ) {
            (Ok(a), true, Ok(n), true) => Some(if a.signatures().is_empty() {
                Artifact::Nks(n.clone())
            } else {
                Artifact::Aum(a.clone())
            }),
            (Ok(a), true, _, _) => Some(Artifact::Aum(a.clone())),
            (_, _, Ok(n), true) => Some(Artifact::Nks(n.clone())),
            _ => None,
        }
    }

    /// Both decoders' complaints, for messages.
    pub fn both_errors(&self) -> String {
        let e = |r: &Result<(), String>| r.as_ref().err().cloned().unwrap_or_default();
        format!(
            "as an AUM: {}; as a node-key signature: {}",
            e(&self.aum_valid),
            e(&self.nks_valid)
        )
    }
}

/// The bytes an input holds for the CBOR decoders: hex or base64 text
/// decoded, raw bytes as they are; `None` for envelopes and text artifacts.
pub fn cbor_bytes(input: &Input) -> Option<(Encoding, Vec<u8>)> {
    if crate::exchange::is_envelope(&input.bytes) {
        return None;
    }
    if let Some(text) = input.text() {
        if text.starts_with('{')
            || text.starts_with("tailscale://")
            || text.starts_with("tskey-")
            || text.contains("--TL")
        {
            return None;
        }
        if is_ur(text) {
            let inner = unwrap_ur(input, text).ok()?;
            return cbor_bytes(&inner).map(|(_, bytes)| (Encoding::Ur, bytes));
        }
        if let Some(found) = decode_text_bytes(text) {
            return Some(found);
        }
    }
    Some((Encoding::RawCbor, input.bytes.clone()))
}

fn identify_cbor(
    input: &Input,
    encoding: Encoding,
    bytes: &[u8],
) -> Result<(Encoding, Artifact), InputError> {
    let reading = CborReading::of(encoding, bytes);
    if let Some(artifact) = reading.strict() {
        return Ok((encoding, artifact));
    }
    // Neither is strictly valid. An AUM that decodes goes on to the
    // caller, whose checks say what is wrong; anything else is refused
    // with both decoders' errors, so that a malformed AUM is never taken
    // for a malformed signature.
    if let Ok(a) = &reading.aum {
        return Ok((encoding, Artifact::Aum(a.clone())));
    }
    Err(input.invalid(format!(
        "not a Tailnet Lock artifact: read as {}, it is neither a valid AUM nor a valid node-key signature ({}). \
         Accepted: raw CBOR, hex, base64, `tailscale lock log|status --json=1` output, a signing deeplink or a wrapped auth key",
        encoding.name(),
        reading.both_errors()
    )))
}

/// Reads one input that must be an AUM (a file, hex blob or `-`).
pub fn read_aum(arg: &str) -> Result<Aum, InputError> {
    let input = Input::read(arg)?;
    match identify(&input)? {
        (_, Artifact::Aum(a)) => Ok(a),
        (_, other) => {
            Err(input.invalid(format!("expected an AUM, found {}", artifact_name(&other))))
        }
    }
}

/// A human name for an artifact kind.
pub fn artifact_name(a: &Artifact) -> &'static str {
    match a {
        Artifact::Aum(_) => "an AUM",
        Artifact::Nks(_) => "a node-key signature",
        Artifact::WrappedAuthKey(_) => "a wrapped auth key",
        Artifact::Deeplink(_) => "a signing deeplink",
        Artifact::LockLog(_) => "a lock log export",
        Artifact::LockStatus(_) => "a lock status export",
        Artifact::NodeExport { .. } => "a `locksmith online export`",
    }
}

/// One file of a chain directory, as [`identify`] reads it. Fast path: raw
/// CBOR (neither an envelope nor text) that decodes as a valid AUM with
/// signatures is exactly what `identify` returns for it, without decoding
/// it a second time as a node-key signature or copying it.
fn read_chain_file(path: &Path) -> Result<Aum, InputError> {
    let input = Input::read_file(path)?;
    if !crate::exchange::is_envelope(&input.bytes) && input.text().is_none() {
        if let Ok(aum) = Aum::decode(&input.bytes) {
            if !aum.signatures().is_empty() && aum.static_validate().is_ok() {
                return Ok(aum);
            }
        }
    }
    match identify(&input)? {
        (_, Artifact::Aum(a)) => Ok(a),
        (_, other) => Err(input.invalid(format!(
            "expected an AUM file, found {}",
            artifact_name(&other)
        ))),
    }
}

/// Reads `--chain` inputs into AUMs ordered for bootstrap + inform: single
/// AUM files in the order given (as upstream takes them); a directory of
/// AUM files or a lock log export ordered by parent links.
pub fn read_chain(args: &[String]) -> Result<Vec<Aum>, InputError> {
    let mut out = Vec::new();
    for arg in args {
        let path = Path::new(arg);
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| InputError::Read {
                    source_name: crate::shown::escape(arg).into_owned(),
                    reason: e.to_string(),
                })?
                .filter_map(Result::ok)
                // The entry's type needs no stat; a symlink is followed.
                .filter(|e| match e.file_type() {
                    Ok(t) if !t.is_symlink() => t.is_file(),
                    _ => e.path().is_file(),
                })
                .map(|e| e.path())
                .collect();
            entries.sort();
            // Read and decode on every core; the first error in file order wins.
            use rayon::prelude::*;
            let read: Vec<Result<Aum, InputError>> =
                entries.par_iter().map(|p| read_chain_file(p)).collect();
            let aums = read.into_iter().collect::<Result<Vec<Aum>, InputError>>()?;
            if aums.is_empty() {
                return Err(InputError::Invalid {
                    source_name: crate::shown::escape(arg).into_owned(),
                    reason: "the directory holds no AUM files".into(),
                });
            }
            out.extend(
                order_by_parent_links(aums).map_err(|e| InputError::Invalid {
                    source_name: crate::shown::escape(arg).into_owned(),
                    reason: e.to_string(),
                })?,
            );
            continue;
        }
        let input = Input::read(arg)?;
        match identify(&input)? {
            (_, Artifact::Aum(a)) => out.push(a),
            (_, Artifact::LockLog(aums)) | (_, Artifact::NodeExport { log: aums, .. }) => {
                out.extend(order_by_parent_links(aums).map_err(|e| input.invalid(e.to_string()))?);
            }
            (_, other) => {
                return Err(input.invalid(format!(
                    "expected AUMs (an AUM file, a directory of them, or `tailscale lock log --json=1` output), found {}",
                    artifact_name(&other)
                )))
            }
        }
    }
    if out.is_empty() {
        return Err(InputError::Invalid {
            source_name: "--chain".into(),
            reason: "no AUMs given".into(),
        });
    }
    Ok(out)
}
