//! The one front door for every input a command reads: a path, `-` for
//! standard input, inline text, or QR images (an image file, a directory
//! of frames, several of them, or any input with `--qr-in`). Every
//! command reads its artifact arguments through [`Input::read`] (or
//! [`Input::read_all`] for several QR images), under the one size cap
//! [`MAX_INPUT_BYTES`]; a mistyped path is reported as "no such file" with
//! the nearest names ([`path_hint`]), never decoded as inline data.
//!
//! Identification is one step on top: [`Input::artifact`] gives the form
//! and kind (the exchange layer's [`crate::exchange::parse_artifact`]:
//! envelope, UR, hex, base64, raw CBOR, upstream JSON, text artifacts),
//! [`identify`] the typed core artifact (AUM, signature, status…). The
//! form-level decoders are the exchange layer's (one of each:
//! [`crate::exchange::raw_forms::decode_text_encoding`] for hex and base64,
//! [`crate::exchange::multipart::decode_single_ur`] for URs,
//! [`crate::exchange::read_qr_images`] for images).
//!
//! It does not depend on the CLI: the CLI supplies the global `--qr-in`
//! setting ([`set_qr_in`]) and a progress sink for multi-part QR
//! reassembly ([`set_progress`], any [`ProgressSink`]).

pub mod path_hint;

use crate::exchange::ExchangeError;
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
/// The CLI's prints it on standard error; tests may count.
pub trait ProgressSink: Send + Sync {
    fn progress(&self, p: &crate::exchange::Progress);
}

impl<F: Fn(&crate::exchange::Progress) + Send + Sync> ProgressSink for F {
    fn progress(&self, p: &crate::exchange::Progress) {
        self(p)
    }
}

static PROGRESS: std::sync::OnceLock<Box<dyn ProgressSink>> = std::sync::OnceLock::new();

/// Sets where QR reassembly progress goes for the rest of the process.
/// Without one, progress is dropped.
pub fn set_progress(sink: Box<dyn ProgressSink>) {
    let _ = PROGRESS.set(sink);
}

/// Reports one step of QR reassembly to the sink, if one is set.
pub fn report_progress(p: &crate::exchange::Progress) {
    if let Some(sink) = PROGRESS.get() {
        sink.progress(p);
    }
}

pub use crate::limits::MAX_INPUT_BYTES;

/// Why an input could not be read or understood. Each names the input as
/// the user gave it.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{source_name}: cannot read: {reason}; check the path and its permissions")]
    Read { source_name: String, reason: String },
    #[error("{source_name}: larger than {MAX_INPUT_BYTES} bytes; is this the right file?")]
    TooLarge { source_name: String },
    /// An argument that looks like a path names nothing (see [`path_hint`]).
    #[error("{source_name}: {hint}")]
    NoSuchFile { source_name: String, hint: String },
    #[error("{source_name}: {reason}")]
    Invalid { source_name: String, reason: String },
    /// The exchange layer's error, which names the input itself.
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
}

/// Where an input came from.
#[derive(Clone, Debug)]
pub enum Origin {
    File,
    Stdin,
    /// The argument itself (it names no file and does not look like a path).
    Inline,
    /// Decoded from QR images: the artifact their codes carry.
    Qr(Box<crate::exchange::Artifact>),
}

/// Bytes read from one command-line input, with a name for messages.
#[derive(Clone, Debug)]
pub struct Input {
    /// The path, `standard input`, or a note that the argument was inline text.
    pub name: String,
    pub bytes: Vec<u8>,
    /// The path, when the input was a file.
    pub path: Option<PathBuf>,
    pub origin: Origin,
}

impl Input {
    /// Bytes from elsewhere (a test, a fuzzer), named `name`.
    pub fn from_bytes(name: impl Into<String>, bytes: Vec<u8>) -> Input {
        Input {
            name: name.into(),
            bytes,
            path: None,
            origin: Origin::Inline,
        }
    }

    /// Reads `arg`: `-` is standard input, an existing file is read (an
    /// image is decoded as QR codes), a directory of images is read as QR
    /// frames, an argument that looks like a path but names nothing is
    /// refused with the nearest names, and anything else is inline text.
    /// With the global `--qr-in`, the input must be QR images.
    pub fn read(arg: &str) -> Result<Input, InputError> {
        Self::read_with(arg, false)
    }

    /// [`Input::read`], with `qr_in` (a command's own `--qr-in`) added to
    /// the global setting.
    pub fn read_with(arg: &str, qr_in: bool) -> Result<Input, InputError> {
        let qr_in = qr_in || QR_IN.load(Ordering::Relaxed);
        if arg == "-" {
            return Self::read_stdin(qr_in);
        }
        let path = Path::new(arg);
        if path.is_dir() {
            if qr_in || crate::exchange::qr_read::has_images(path) {
                return Self::read_qr(&[arg.to_string()]);
            }
            return Err(InputError::Invalid {
                source_name: crate::shown::escape(arg).into_owned(),
                reason: "is a directory with no QR images in it; give a file, or use --chain DIR for a directory of AUM files".into(),
            });
        }
        if path.exists() {
            let input = Self::read_path(path)?;
            if crate::exchange::qr_decode::is_image(&input.bytes) {
                // A photo or screenshot of a QR code: decoded without --qr-in.
                let mut progress = report_progress;
                let art =
                    crate::exchange::artifact_from_image(&input.bytes, arg, Some(&mut progress))?;
                return Ok(Self::of_qr(format!("{arg} (QR codes)"), art));
            }
            if qr_in {
                return Err(ExchangeError::ImageRead {
                    input: input.name.as_str().into(),
                    reason: "--qr-in was given but this is not a PNG, JPEG or GIF image".into(),
                }
                .into());
            }
            return Ok(input);
        }
        if qr_in || path_hint::looks_like_path(arg) {
            return Err(InputError::NoSuchFile {
                source_name: crate::shown::escape_short(arg, 200),
                hint: path_hint::no_such_file(path),
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
            origin: Origin::Inline,
        })
    }

    /// Reads the inputs of a command that takes several: one is read as
    /// [`Input::read_with`] reads it; several are QR images (files or
    /// directories of frames) holding one artifact between them.
    pub fn read_all(args: &[String], qr_in: bool) -> Result<Input, InputError> {
        match args {
            [one] => Self::read_with(one, qr_in),
            [] => Err(InputError::Invalid {
                source_name: "the command line".into(),
                reason: "no input given".into(),
            }),
            several => {
                for a in several {
                    if !Path::new(a).exists() {
                        return Err(InputError::NoSuchFile {
                            source_name: crate::shown::escape_short(a, 200),
                            hint: path_hint::no_such_file(Path::new(a)),
                        });
                    }
                }
                Self::read_qr(several)
            }
        }
    }

    fn read_stdin(qr_in: bool) -> Result<Input, InputError> {
        let name = "standard input";
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| InputError::Read {
                source_name: name.into(),
                reason: e.to_string(),
            })?;
        if bytes.len() as u64 > MAX_INPUT_BYTES {
            return Err(InputError::TooLarge {
                source_name: name.into(),
            });
        }
        if crate::exchange::qr_decode::is_image(&bytes) {
            let mut progress = report_progress;
            let art = crate::exchange::artifact_from_image(&bytes, name, Some(&mut progress))?;
            return Ok(Self::of_qr(format!("{name} (QR codes)"), art));
        }
        if qr_in {
            return Err(ExchangeError::ImageRead {
                input: name.into(),
                reason: "--qr-in was given but this is not a PNG, JPEG or GIF image".into(),
            }
            .into());
        }
        Ok(Input {
            name: name.into(),
            bytes,
            path: None,
            origin: Origin::Stdin,
        })
    }

    /// Decodes QR images (files, directories of frames, animated GIFs).
    fn read_qr(args: &[String]) -> Result<Input, InputError> {
        let paths: Vec<PathBuf> = args.iter().map(PathBuf::from).collect();
        let mut progress = report_progress;
        let art = crate::exchange::read_qr_images(&paths, Some(&mut progress))?;
        Ok(Self::of_qr(format!("{} (QR codes)", args.join(" ")), art))
    }

    fn of_qr(name: String, art: crate::exchange::Artifact) -> Input {
        let bytes = match &art.envelope {
            Some(env) => env.to_bytes(),
            None => art.payload.clone(),
        };
        Input {
            name,
            bytes,
            path: None,
            origin: Origin::Qr(Box::new(art)),
        }
    }

    /// Reads a file named by a path, under the one cap. A missing file
    /// gets "no such file" with the nearest names.
    pub fn read_path(path: &Path) -> Result<Input, InputError> {
        let name = crate::shown::path(path);
        let read_error = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::NotFound => InputError::NoSuchFile {
                source_name: name.clone(),
                hint: path_hint::no_such_file(path),
            },
            _ => InputError::Read {
                source_name: name.clone(),
                reason: e.to_string(),
            },
        };
        let file = std::fs::File::open(path).map_err(read_error)?;
        let mut bytes = Vec::new();
        file.take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
        if bytes.len() as u64 > MAX_INPUT_BYTES {
            return Err(InputError::TooLarge { source_name: name });
        }
        Ok(Input {
            name,
            bytes,
            path: Some(path.to_path_buf()),
            origin: Origin::File,
        })
    }

    /// The artifact's form and kind, as the exchange layer reads it (the
    /// one QR images decoded to, for a QR input).
    pub fn artifact(&self) -> Result<crate::exchange::Artifact, InputError> {
        match &self.origin {
            Origin::Qr(art) => Ok((**art).clone()),
            _ => {
                let art = crate::exchange::parse_artifact(&self.bytes, &self.name)?;
                Ok(art)
            }
        }
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
        origin: Origin::Inline,
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
        origin: Origin::Inline,
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
fn read_chain_file(path: &Path) -> Result<Vec<Aum>, InputError> {
    let input = Input::read_path(path)?;
    // A store's AUM pack (`aums/DIGEST.pack`, src/store/pack.rs): the
    // AUMs of one `lock import`, so that `--chain STORE/aums` reads a store.
    if let Some(stem) = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".pack"))
    {
        let records = crate::store::pack::decode(stem, &input.bytes)
            .map_err(|e| input.invalid(format!("a store's AUM pack that cannot be read: {e}")))?;
        return records
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                Aum::decode(r)
                    .map_err(|e| input.invalid(format!("record {i} of the AUM pack: {e}")))
            })
            .collect();
    }
    if !crate::exchange::is_envelope(&input.bytes) && input.text().is_none() {
        if let Ok(aum) = Aum::decode(&input.bytes) {
            if !aum.signatures().is_empty() && aum.static_validate().is_ok() {
                return Ok(vec![aum]);
            }
        }
    }
    match identify(&input)? {
        (_, Artifact::Aum(a)) => Ok(vec![a]),
        (_, other) => Err(input.invalid(format!(
            "expected an AUM file, found {}",
            artifact_name(&other)
        ))),
    }
}

/// One `--chain` argument: a directory of AUM files, or an input already
/// read and identified (so that a command that looks at an input first,
/// as `lock import` does, reads it once).
pub enum ChainInput {
    Dir(String),
    Found { name: String, artifact: Artifact },
}

/// Reads `--chain` inputs into AUMs ordered for bootstrap + inform: single
/// AUM files in the order given (as upstream takes them); a directory of
/// AUM files or a lock log export ordered by parent links.
pub fn read_chain(args: &[String]) -> Result<Vec<Aum>, InputError> {
    let mut parts = Vec::with_capacity(args.len());
    for arg in args {
        if Path::new(arg).is_dir() {
            parts.push(ChainInput::Dir(arg.clone()));
        } else {
            let input = Input::read(arg)?;
            let (_, artifact) = identify(&input)?;
            parts.push(ChainInput::Found {
                name: input.name,
                artifact,
            });
        }
    }
    chain_of(parts)
}

/// The AUMs of `parts`, as [`read_chain`] orders them.
pub fn chain_of(parts: Vec<ChainInput>) -> Result<Vec<Aum>, InputError> {
    let mut out = Vec::new();
    for part in parts {
        match part {
            ChainInput::Dir(arg) => out.extend(read_chain_dir(&arg)?),
            ChainInput::Found { name, artifact } => {
                let invalid = |reason: String| InputError::Invalid {
                    source_name: name.clone(),
                    reason,
                };
                match artifact {
                    Artifact::Aum(a) => out.push(a),
                    Artifact::LockLog(aums) | Artifact::NodeExport { log: aums, .. } => {
                        out.extend(order_by_parent_links(aums).map_err(|e| invalid(e.to_string()))?);
                    }
                    other => {
                        return Err(invalid(format!(
                            "expected AUMs (an AUM file, a directory of them, or `tailscale lock log --json=1` output), found {}",
                            artifact_name(&other)
                        )))
                    }
                }
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

/// A directory of AUM files, ordered by parent links.
fn read_chain_dir(arg: &str) -> Result<Vec<Aum>, InputError> {
    let path = Path::new(arg);
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
    let read: Vec<Result<Vec<Aum>, InputError>> =
        entries.par_iter().map(|p| read_chain_file(p)).collect();
    let mut aums = Vec::with_capacity(read.len());
    let mut several = false;
    for file in read {
        let file = file?;
        several |= file.len() > 1;
        aums.extend(file);
    }
    if several {
        // A store's packs may repeat its single AUM files: each AUM once.
        crate::store::dedup_by_hash(&mut aums);
    }
    if aums.is_empty() {
        return Err(InputError::Invalid {
            source_name: crate::shown::escape(arg).into_owned(),
            reason: "the directory holds no AUM files".into(),
        });
    }
    order_by_parent_links(aums).map_err(|e| InputError::Invalid {
        source_name: crate::shown::escape(arg).into_owned(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_front_door_tells_paths_inline_data_and_directories_apart() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("genesis.aum"), b"\xa0").unwrap();
        // An existing file is read as a file.
        let file = d.path().join("genesis.aum");
        let input = Input::read(file.to_str().unwrap()).unwrap();
        assert!(matches!(input.origin, Origin::File) && input.bytes == b"\xa0");
        // A mistyped one is "no such file" with the nearest name, never
        // inline data.
        let typo = d.path().join("genesis.aun");
        let err = Input::read(typo.to_str().unwrap()).unwrap_err();
        assert!(matches!(err, InputError::NoSuchFile { .. }), "{err}");
        assert!(err.to_string().contains("genesis.aum"), "{err}");
        // Hex and base64 are inline.
        for inline in [
            "a1b2c3d4",
            "pAEF9sjJysvMzc7P0NHS09TV1tfY2drb3N3e3+Dh4uPk5ebn6Onq6+zt",
        ] {
            let input = Input::read(inline).unwrap();
            assert!(matches!(input.origin, Origin::Inline), "{inline}");
            assert_eq!(input.bytes, inline.as_bytes());
        }
        // A directory with no images is refused, saying what to give.
        let err = Input::read(d.path().to_str().unwrap()).unwrap_err();
        assert!(err.to_string().contains("--chain DIR"), "{err}");
        // Several inputs must all exist (they are QR images).
        let err = Input::read_all(
            &[file.display().to_string(), typo.display().to_string()],
            false,
        )
        .unwrap_err();
        assert!(matches!(err, InputError::NoSuchFile { .. }), "{err}");
    }
}
