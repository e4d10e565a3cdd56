//! `token generate` as a ceremony: a new Ed25519 key on a token, its test
//! signature, its attestation judged, and its transcript record, through
//! the one pipeline.
//!
//! - **preflight** (before any PIN): `--attestation-out` and the
//!   transcript destination checked, the air-gap guard, the token, card
//!   or key file found, and what is already there checked where it is
//!   visible without a secret (PKCS#11 public objects, the PIV slot's
//!   metadata, the key file's existence); then the one login of the
//!   command (the PIN, or the passphrase of a key file being continued
//!   with) and the rest checked: the place is free, or holds exactly the
//!   key an interrupted attempt made (see "Resuming" below);
//! - **plan/show**: what will be generated (or continued with); nothing to
//!   confirm (a new key changes no authority);
//! - **sign**: the pending marker written, the key generated (on the
//!   logged-in session, the card session, or from a new seed), a test
//!   digest signed and verified on the same session, the attestation
//!   (YubiKey) judged;
//! - **commit**: the attestation certificate and the transcript record
//!   (signed by the new key on the same session: no second PIN) as one
//!   unit; then the marker is removed.
//!
//! ## Resuming
//!
//! Before generating, a *pending marker* ([`PendingMarker`], JSON, no
//! secret) is written atomically: beside the transcript (else beside
//! `--attestation-out`, else in the current directory) for a token or a
//! card, beside the key file for a software key. When a run stops after
//! the key exists (Ctrl-C, kill, a failure before the record is written),
//! the same command run again finds the marker and the key it names and
//! continues with it (test signature, attestation, record; the record
//! says RESUMED and keeps the marker), generating nothing:
//!
//! - **PKCS#11**: the marker names token (label, serial), module, label and
//!   CKA_ID; adopted is a key with that label and id, generated on the
//!   token (CKA_LOCAL true, sensitive, never extractable).
//! - **YubiKey PIV**: the marker names the card's serial, the slot and the
//!   policies asked for, and, written again right after generation, the
//!   new public key. Adopted is the slot's key if it is Ed25519, the card
//!   says it generated it (GET METADATA origin: generated; its attestation
//!   is then verified and judged as for a new key) and its public key is
//!   the marker's (when the marker got that far). A self-signed
//!   certificate is written if the slot has none for the key.
//! - **Software key file** (development only): the seed is made and
//!   encrypted in memory, the marker (absolute path, public key) written,
//!   then the file; adopted is the file at that path, decrypted, whose
//!   public key is the marker's.
//!
//! A key that is not recognised (no marker, a marker naming another key,
//! an imported PIV key, an extractable PKCS#11 key) is never adopted: the
//! error, given before any PIN or passphrase, says how to continue — the
//! `pkcs11-tool` / `ykman … piv keys delete` / `rm` command that frees the
//! place if that key is in no authority, another label / slot / path, or
//! `--force` (a second key with the label on PKCS#11; replacing the slot's
//! key or the file otherwise). A matching marker is followed even with
//! `--force`, so re-running an interrupted `--force` run does not replace
//! its own new key. A YubiKey key whose attestation is refused is a
//! verdict, not an interruption: its marker is removed and the error says
//! to replace it with `--force`.

use super::commit::{check_target, CommitUnit, Existing, Parent};
use super::pipeline::{self, Ceremony, Completed, Options, PipelineError, Shown};
use super::terminal::Terminal;
use crate::attestation_policy::{self, Requirement};
use crate::ceremony::error::{bail, Context};
use crate::signers::piv_attestation::{Attestation, Evidence};
use crate::signers::pkcs11::{new_key_id, Pkcs11Token};
use crate::signers::software::{self, FileSigner, NewKeyFile};
use crate::signers::spec::{FileSpec, SignerSpec, YubiKeySpec};
use crate::signers::yubikey::{NewKeyCard, SlotState};
use crate::signers::{self, GenerateOptions, KeyInfo, OpenOptions};
use crate::tka::signer::{sign_verified, Signer};
use crate::transcript::{self, Entry};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// What `token generate` was asked to do.
pub struct GenerateRequest {
    /// The signer spec naming the token (and slot / key file).
    pub signer: String,
    pub options: GenerateOptions,
    /// Where the attestation certificate (PEM) goes.
    pub attestation_out: Option<PathBuf>,
    /// Accept a YubiKey attestation that does not meet the policies asked.
    pub allow_unverified_attestation: bool,
    /// Who is present, where the record goes, the air-gap override.
    pub record: super::record::RecordOptions,
    /// Test hook: stop right after the key was generated.
    pub after_generation: Option<AfterGeneration>,
}

/// The test hook between key generation and record
/// (`LOCKSMITH_TEST_FAIL_AFTER=generated` / `generated-crash`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterGeneration {
    /// Fail as an error would (the key stays, the marker stays).
    Fail,
    /// Stop dead as a kill would (no destructor runs).
    Crash,
}

impl AfterGeneration {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "generated" => Some(AfterGeneration::Fail),
            "generated-crash" => Some(AfterGeneration::Crash),
            _ => None,
        }
    }
}

/// The exit code of the `generated-crash` hook.
pub const CRASH_EXIT: i32 = 86;

/// The pending marker: what an attempt was about to generate (no secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingMarker {
    pub command: String,
    /// Where the key goes.
    #[serde(flatten)]
    pub key: PendingKey,
    /// The new key's `tlpub:`, once known: for a YubiKey written right
    /// after generation (absent if the attempt stopped in between), for a
    /// software key before the file is written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<String>,
    /// Unix seconds when it was written.
    pub written: u64,
}

/// The backend a pending key is made on, and what names it there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "lowercase")]
pub enum PendingKey {
    Pkcs11 {
        label: String,
        /// CKA_ID, lowercase hex.
        id: String,
        token_label: String,
        token_serial: String,
        module: String,
    },
    Yubikey {
        serial: u32,
        /// Two hex digits ("9a").
        slot: String,
        label: Option<String>,
        /// The policies asked for (`default` is the slot's default).
        pin_policy: String,
        touch_policy: String,
    },
    File {
        /// The key file, absolute.
        path: PathBuf,
    },
}

/// A PIN or touch policy as the flag spells it ("once").
fn policy_text(p: impl std::fmt::Debug) -> String {
    format!("{p:?}").to_lowercase()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl PendingMarker {
    /// A marker for `key`, written now, public key not yet known.
    fn new(key: PendingKey) -> Self {
        PendingMarker {
            command: "token generate".into(),
            key,
            public: None,
            written: unix_now(),
        }
    }

    /// The CKA_ID of a PKCS#11 marker.
    fn pkcs11_id(&self) -> Option<&str> {
        match &self.key {
            PendingKey::Pkcs11 { id, .. } => Some(id),
            _ => None,
        }
    }

    /// The file for (token serial, label) in `dir`.
    pub fn path(dir: &Path, token_serial: &str, label: &str) -> PathBuf {
        let tag = Sha256::digest(format!("{token_serial}\0{label}").as_bytes());
        dir.join(format!(
            ".locksmith-pending-key-{}.json",
            crate::tka::hex::lower(&tag[..8])
        ))
    }

    fn read(path: &Path) -> crate::ceremony::error::Result<Option<PendingMarker>> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).with_context(|| {
                format!(
                    "the pending-key marker {} cannot be read; remove it and run the command again",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Written to a temporary beside `path`, fsynced and renamed.
    fn write(&self, path: &Path) -> crate::ceremony::error::Result<()> {
        use std::io::Write;
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)
            .with_context(|| format!("writing a pending-key marker in {}", dir.display()))?;
        tmp.write_all(&serde_json::to_vec_pretty(self)?)?;
        tmp.as_file().sync_all()?;
        tmp.persist(path)
            .with_context(|| format!("writing the pending-key marker {}", path.display()))?;
        Ok(())
    }
}

/// How the key comes about.
enum Start {
    /// A new key with this CKA_ID.
    Fresh(Vec<u8>),
    /// The key an interrupted attempt made (its marker).
    Resume(PendingMarker),
}

/// The PKCS#11 side: the token (one login) and what preflight decided.
struct OnToken {
    token: Pkcs11Token,
    label: String,
    marker_path: PathBuf,
    start: Start,
}

/// The YubiKey side: the card (one PIN) and what preflight decided.
struct OnCard {
    card: NewKeyCard,
    marker_path: PathBuf,
    /// The marker of the interrupted attempt whose key is in the slot.
    resume: Option<PendingMarker>,
    /// The slot holds a key `--force` replaces.
    replacing: bool,
}

/// The software side: the key file and what preflight decided.
struct OnFile {
    spec: FileSpec,
    /// The key file, absolute.
    path: PathBuf,
    marker_path: PathBuf,
    /// The interrupted attempt's marker and its key file, decrypted.
    resume: Option<(PendingMarker, FileSigner)>,
    /// The file exists and `--force` replaces it.
    replacing: bool,
}

/// What preflight prepared, per backend.
enum Prepared {
    Pkcs11(OnToken),
    YubiKey(OnCard),
    File(OnFile),
}

impl Prepared {
    fn marker_path(&self) -> &Path {
        match self {
            Prepared::Pkcs11(t) => &t.marker_path,
            Prepared::YubiKey(c) => &c.marker_path,
            Prepared::File(f) => &f.marker_path,
        }
    }
}

/// What the plan stage decided, shown before the sign stage.
pub struct GeneratePlan {
    text: String,
}

/// The new key and what was checked about it.
pub struct Generated {
    pub key: KeyInfo,
    /// The attestation evidence (YubiKey), kept in the record.
    pub evidence: Vec<Evidence>,
    /// The key an interrupted attempt had generated was used.
    pub resumed: bool,
    /// Whether a test digest was signed and verified.
    pub tested: bool,
    /// Warnings to print (attestation overrides, no attestation to write).
    pub notes: Vec<String>,
}

pub struct GenerateCeremony {
    req: GenerateRequest,
    prepared: Option<Prepared>,
    /// The pending-key marker of this run, removed after the commit.
    marker: Option<PathBuf>,
    signers: Vec<Box<dyn Signer>>,
    staged: Option<super::record::Staged>,
}

/// What a completed `token generate` produced.
pub struct GenerateOutcome {
    pub generated: Generated,
    pub record: Option<super::record::Staged>,
}

/// Runs `token generate` through the pipeline, then removes the pending
/// marker (the record is written: nothing is pending any more).
pub fn run(
    req: GenerateRequest,
    term: &mut dyn Terminal,
    options: &Options,
) -> Result<GenerateOutcome, PipelineError> {
    let mut c = GenerateCeremony {
        req,
        prepared: None,
        marker: None,
        signers: Vec::new(),
        staged: None,
    };
    let Completed { signed, .. } = pipeline::run(&mut c, term, options)?;
    if let Some(marker) = &c.marker {
        if let Err(e) = std::fs::remove_file(marker) {
            if e.kind() != std::io::ErrorKind::NotFound {
                term.say(&format!(
                    "warning: the key is recorded, but the pending-key marker {} could not be removed ({e}); remove it by hand",
                    marker.display()
                ));
            }
        }
    }
    Ok(GenerateOutcome {
        generated: signed,
        record: c.staged.take(),
    })
}

impl GenerateCeremony {
    /// Where the marker and the commit journal live: beside the
    /// transcript, else beside `--attestation-out`, else here.
    fn work_dir(&self) -> PathBuf {
        self.req
            .record
            .transcript
            .as_deref()
            .or(self.req.attestation_out.as_deref())
            .and_then(Path::parent)
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    }

    fn open_options(&self) -> OpenOptions {
        OpenOptions {
            allow_extractable: self.req.options.allow_extractable,
            ..Default::default()
        }
    }

    /// The PKCS#11 preflight: label free, or the key of an interrupted attempt.
    fn preflight_pkcs11(
        &self,
        uri: &signers::spec::Pkcs11Uri,
    ) -> crate::ceremony::error::Result<OnToken> {
        let req = &self.req;
        let mut token = Pkcs11Token::find(uri)?;
        let label = req
            .options
            .label
            .clone()
            .or_else(|| uri.object.clone())
            .context("give the new key a label: --label NAME or object=NAME in the URI")?;
        let marker_path = PendingMarker::path(&self.work_dir(), &token.serial(), &label);
        let marker = PendingMarker::read(&marker_path)?.filter(|m| {
            matches!(&m.key, PendingKey::Pkcs11 { token_serial, token_label, label: l, .. }
                if *token_serial == token.serial() && *token_label == token.label() && *l == label)
        });
        let marked_id = marker
            .as_ref()
            .and_then(PendingMarker::pkcs11_id)
            .and_then(crate::tka::hex::decode);
        // Before the PIN: the public halves are visible without a login.
        let public = token.public_key_ids_labelled(&label)?;
        if let Some(other) = public.iter().find(|id| Some(*id) != marked_id.as_ref()) {
            if !req.options.force {
                bail!(self.not_recognised(&token, &label, other, &marker_path, marker.as_ref()));
            }
        }
        token.login()?;
        let private = token.private_keys_labelled(&label)?;
        let resumed = marked_id
            .as_ref()
            .and_then(|id| private.iter().find(|k| &k.id == id));
        if let (Some(key), Some(m)) = (resumed, &marker) {
            let ok = key.made_on_the_token()
                || (req.options.allow_extractable && key.local == Some(true));
            if !ok {
                bail!(self.not_recognised(&token, &label, &key.id, &marker_path, marker.as_ref()));
            }
            return Ok(OnToken {
                token,
                label,
                marker_path,
                start: Start::Resume(m.clone()),
            });
        }
        if let Some(k) = private.first().filter(|_| !req.options.force) {
            bail!(self.not_recognised(&token, &label, &k.id, &marker_path, marker.as_ref()));
        }
        Ok(OnToken {
            token,
            label,
            marker_path,
            start: Start::Fresh(new_key_id()),
        })
    }

    /// The how-to-continue error for a key with the label that is not the
    /// one an interrupted attempt of this command made.
    fn not_recognised(
        &self,
        token: &Pkcs11Token,
        label: &str,
        id: &[u8],
        marker_path: &Path,
        marker: Option<&PendingMarker>,
    ) -> String {
        let id_hex = crate::tka::hex::lower(id);
        let why = match marker {
            None => format!(
                "no pending-key marker {} says an interrupted `token generate` made it",
                marker_path.display()
            ),
            Some(m) if m.pkcs11_id() != Some(id_hex.as_str()) => format!(
                "the pending-key marker {} names another key (id {})",
                marker_path.display(),
                m.pkcs11_id().unwrap_or("none")
            ),
            Some(_) => "it was not generated on the token as a non-extractable key (CKA_LOCAL, CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_NEVER_EXTRACTABLE)".to_string(),
        };
        let module = token.module().display().to_string();
        let tl = token.label();
        format!(
            "{} already holds a key labelled \"{label}\" (id {id_hex}) that locksmith does not \
             recognise as left by an interrupted `token generate`: {why}. Nothing was generated. \
             To continue, either choose another --label; or, if that key is in no authority \
             (check `locksmith token list` and `locksmith lock status`), delete it with\n  \
             pkcs11-tool --module {module} --token-label '{tl}' --login --delete-object --type privkey --id {id_hex}\n  \
             pkcs11-tool --module {module} --token-label '{tl}' --login --delete-object --type pubkey --id {id_hex}\n\
             and run this command again; or pass --force to add a second key with that label \
             (select it by id= afterwards)",
            token.name()
        )
    }

    /// Whether the transcript already records this key's `token generate`
    /// (an attempt stopped after its commit, before removing the marker).
    fn already_recorded(&self, tlpub: &str) -> bool {
        let Some(path) = &self.req.record.transcript else {
            return false;
        };
        transcript::verify(path, None).is_ok_and(|records| {
            records.iter().any(|r| {
                r.body.command == "token generate"
                    && r.body.signers.iter().any(|s| s.tlpub == tlpub)
            })
        })
    }

    fn judge(
        &self,
        key: &KeyInfo,
        att: Option<&Attestation>,
    ) -> crate::ceremony::error::Result<(Vec<Evidence>, Vec<String>)> {
        let Some(att) = att else {
            return Ok((vec![], vec![]));
        };
        let o = &self.req.options;
        let judged = attestation_policy::judge(
            att,
            &Requirement {
                pin: o.pin_policy,
                touch: o.touch_policy,
            },
            self.req.allow_unverified_attestation,
            &format!("the new key {} ({})", key.tlpub, key.description),
        )
        .map_err(|e| {
            crate::ceremony::error::refusal!(
                "{e}. The key was generated and stays in {}; do not use it for a ceremony \
                 (`lock init` refuses it too), or replace it with `token generate --force`",
                key.spec
            )
        })?;
        let notes = judged.warning(&judged.evidence.tlpub).into_iter().collect();
        Ok((vec![judged.evidence], notes))
    }

    fn interrupt_hook(&self) -> crate::ceremony::error::Result<()> {
        match self.req.after_generation {
            Some(AfterGeneration::Fail) => {
                bail!("injected failure right after the key was generated (test hook); the key and its pending-key marker stay, the same command run again continues with it")
            }
            Some(AfterGeneration::Crash) => std::process::exit(CRASH_EXIT),
            None => Ok(()),
        }
    }

    fn test_signature(&mut self) -> crate::ceremony::error::Result<()> {
        let mut digest = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut digest);
        for s in &mut self.signers {
            sign_verified(s.as_mut(), &digest)
                .with_context(|| format!("test signature with {}", s.describe()))?;
        }
        Ok(())
    }

    fn sign_pkcs11(&mut self, t: OnToken) -> crate::ceremony::error::Result<Generated> {
        let (id, resumed) = match &t.start {
            Start::Fresh(id) => {
                PendingMarker::new(PendingKey::Pkcs11 {
                    label: t.label.clone(),
                    id: crate::tka::hex::lower(id),
                    token_label: t.token.label(),
                    token_serial: t.token.serial(),
                    module: t.token.module().display().to_string(),
                })
                .write(&t.marker_path)?;
                t.token
                    .generate(&t.label, id, self.req.options.allow_extractable)?;
                self.interrupt_hook()?;
                (id.clone(), false)
            }
            Start::Resume(m) => (
                m.pkcs11_id()
                    .and_then(crate::tka::hex::decode)
                    .context("the pending-key marker's id is not hex")?,
                true,
            ),
        };
        let key = t.token.key_info(&id)?;
        let signer = t.token.into_signer(&id, &self.open_options())?;
        self.signers = vec![Box::new(signer)];
        self.test_signature()?;
        Ok(Generated {
            key,
            evidence: vec![],
            resumed,
            tested: true,
            notes: vec![],
        })
    }

    /// The YubiKey preflight (PIN last): the slot is empty, or holds the
    /// key an interrupted attempt made (an Ed25519 key the card generated,
    /// with the public key the marker recorded if it got that far), or
    /// `--force` replaces what it holds.
    fn preflight_yubikey(&self, spec: &YubiKeySpec) -> crate::ceremony::error::Result<OnCard> {
        let force = self.req.options.force;
        let mut card = NewKeyCard::open(spec)?;
        let (serial, slot) = (card.serial(), card.slot());
        let marker_path =
            PendingMarker::path(&self.work_dir(), &format!("yubikey:{serial}"), &slot);
        let marker = PendingMarker::read(&marker_path)?.filter(|m| {
            matches!(&m.key, PendingKey::Yubikey { serial: s, slot: sl, .. }
                if *s == serial && *sl == slot)
        });
        let state = card.slot_state()?;
        let replacing = state != SlotState::Empty;
        let resume = match (state, marker) {
            (SlotState::Empty, _) => None,
            (SlotState::Ed25519 { public, generated }, Some(m)) => {
                let tl = signers::tlpub(&public);
                let why = if !generated {
                    Some(format!(
                        "{tl}: the card says it was imported, not generated on the card, so it \
                         is not the key an interrupted `token generate` made"
                    ))
                } else {
                    m.public.as_ref().filter(|p| **p != tl).map(|p| {
                        format!(
                            "{tl}, but the pending-key marker {} names another key ({p})",
                            marker_path.display()
                        )
                    })
                };
                match why {
                    None => Some(m),
                    Some(_) if force => None,
                    Some(why) => bail!(card.occupied(Some(&why))),
                }
            }
            _ if force => None,
            (SlotState::Ed25519 { public, .. }, None) => bail!(card.occupied(Some(&format!(
                "{}; no pending-key marker {} says an interrupted `token generate` made it",
                signers::tlpub(&public),
                marker_path.display()
            )))),
            (SlotState::Other(alg), _) => {
                bail!(card.occupied(Some(&format!("a {alg} key, not Ed25519"))))
            }
        };
        card.login()?;
        Ok(OnCard {
            card,
            marker_path,
            resume,
            replacing,
        })
    }

    /// The software preflight: the key file does not exist, or is the one
    /// an interrupted attempt wrote (its marker names the path and the
    /// public key: the file is decrypted here to compare), or `--force`
    /// replaces it.
    fn preflight_file(&self, spec: &FileSpec) -> crate::ceremony::error::Result<OnFile> {
        let path = std::path::absolute(&spec.path)
            .with_context(|| format!("the key file {}", spec.path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("/"));
        if !dir.is_dir() {
            bail!(
                "the directory {} for the key file does not exist; create it and run the command again",
                dir.display()
            );
        }
        let marker_path = PendingMarker::path(dir, "file", &path.to_string_lossy());
        let marker = PendingMarker::read(&marker_path)?
            .filter(|m| matches!(&m.key, PendingKey::File { path: p } if *p == path));
        let force = self.req.options.force;
        let exists = spec.path.symlink_metadata().is_ok();
        let resume = match marker {
            _ if !exists => None,
            Some(m) => {
                let signer = FileSigner::open(spec)?;
                let tl = signers::tlpub(&signer.public_key());
                if m.public.as_deref() == Some(tl.as_str()) {
                    Some((m, signer))
                } else if force {
                    None
                } else {
                    bail!(software::existing_file_guidance(
                        &spec.path,
                        Some(&format!(
                            "its key {tl} is not the one the pending-key marker {} names ({})",
                            marker_path.display(),
                            m.public.as_deref().unwrap_or("none")
                        ))
                    ));
                }
            }
            None if force => None,
            None => bail!(software::existing_file_guidance(
                &spec.path,
                Some(&format!(
                    "no pending-key marker {} says an interrupted `token generate` wrote it",
                    marker_path.display()
                ))
            )),
        };
        Ok(OnFile {
            spec: spec.clone(),
            path,
            marker_path,
            resume,
            replacing: exists,
        })
    }

    /// YubiKey: the marker written, the key generated on the card session
    /// of the login (skipped when continuing), the public key added to the
    /// marker; then the certificate (if the slot has none for the key),
    /// the attestation judged, the test signature on the same session.
    fn sign_yubikey(&mut self, mut c: OnCard) -> crate::ceremony::error::Result<Generated> {
        let resumed = c.resume.is_some();
        if !resumed {
            let o = &self.req.options;
            let mut marker = PendingMarker::new(PendingKey::Yubikey {
                serial: c.card.serial(),
                slot: c.card.slot(),
                label: o.label.clone(),
                pin_policy: policy_text(o.pin_policy),
                touch_policy: policy_text(o.touch_policy),
            });
            marker.write(&c.marker_path)?;
            let public = c.card.generate(o).with_context(|| {
                format!(
                    "generating a key in slot {} of {}",
                    c.card.slot(),
                    c.card.name()
                )
            })?;
            marker.public = Some(signers::tlpub(&public));
            marker.write(&c.marker_path)?;
            self.interrupt_hook()?;
        }
        let (key, att, signer) = c.card.finish(&self.req.options)?;
        let judged = self.judge(&key, Some(&att));
        let (evidence, notes) = match judged {
            Ok(j) => j,
            Err(e) => {
                // A verdict, not an interruption: the key is not adopted
                // by a later run either.
                let _ = std::fs::remove_file(&c.marker_path);
                return Err(e);
            }
        };
        self.tested(key, evidence, notes, Box::new(signer), resumed)
    }

    /// Software: a new seed encrypted in memory, the marker (path and
    /// public key) written, then the file; or the file the interrupted
    /// attempt wrote, decrypted in preflight.
    fn sign_file(&mut self, f: OnFile) -> crate::ceremony::error::Result<Generated> {
        let (key, signer, resumed) = match f.resume {
            Some((_, signer)) => (software::info(&f.spec, &signer.public_key()), signer, true),
            None => {
                let new = NewKeyFile::prepare(&f.spec)?;
                let mut marker = PendingMarker::new(PendingKey::File {
                    path: f.path.clone(),
                });
                marker.public = Some(signers::tlpub(&new.public_key()));
                marker.write(&f.marker_path)?;
                let (key, signer) = match new.write(self.req.options.force) {
                    Ok(k) => k,
                    Err(e) => {
                        // Nothing of this attempt is on disk but the marker.
                        let _ = std::fs::remove_file(&f.marker_path);
                        return Err(e.into());
                    }
                };
                self.interrupt_hook()?;
                (key, signer, false)
            }
        };
        self.tested(key, vec![], vec![], Box::new(signer), resumed)
    }

    /// The test signature (when a record is signed anyway: a touch, for a
    /// touch policy) and the notes.
    fn tested(
        &mut self,
        key: KeyInfo,
        evidence: Vec<Evidence>,
        mut notes: Vec<String>,
        signer: Box<dyn Signer>,
        resumed: bool,
    ) -> crate::ceremony::error::Result<Generated> {
        let tested = self.req.record.transcript.is_some();
        if tested {
            self.signers = vec![signer];
            self.test_signature()?;
        }
        if self.req.attestation_out.is_some() && key.attestation_pem.is_none() {
            notes.push("note: this token gives no attestation; nothing written".into());
        }
        Ok(Generated {
            key,
            evidence,
            resumed,
            tested,
            notes,
        })
    }
}

/// The text of a generated key, for the printout and the record.
pub fn key_text(key: &KeyInfo) -> String {
    let mut text = format!(
        "Generated an Ed25519 key:\n  {}\n  {}\n  custody: {}\n  spec:    {}\n",
        key.tlpub, key.description, key.custody, key.spec
    );
    for (name, value) in &key.details {
        text.push_str(&format!("  {name}: {value}\n"));
    }
    text
}

impl Ceremony for GenerateCeremony {
    type Plan = GeneratePlan;
    type Signed = Generated;

    fn journal(&self) -> PathBuf {
        self.work_dir()
            .join(".locksmith-generate.locksmith-journal")
    }

    fn preflight(&mut self, term: &mut dyn Terminal) -> crate::ceremony::error::Result<()> {
        let req = &self.req;
        if let Some(path) = &req.attestation_out {
            check_target(
                path,
                Existing::from_force(req.options.force),
                Parent::MustExist,
            )?;
        }
        super::record::check_destination(&req.record, None)?;
        super::record::guard(&req.record, term);
        let spec = SignerSpec::parse(&req.signer).with_context(|| {
            format!(
                "generating a key with --signer {}",
                signers::spec::shown(&req.signer)
            )
        })?;
        self.prepared = Some(match spec {
            SignerSpec::Pkcs11(uri) => Prepared::Pkcs11(self.preflight_pkcs11(&uri)?),
            SignerSpec::YubiKey(y) => Prepared::YubiKey(self.preflight_yubikey(&y)?),
            SignerSpec::File(f) => Prepared::File(self.preflight_file(&f)?),
        });
        Ok(())
    }

    fn plan(&mut self) -> crate::ceremony::error::Result<GeneratePlan> {
        let o = &self.req.options;
        let custody = if o.allow_extractable {
            "EXTRACTABLE (--allow-extractable: for tests only)"
        } else {
            "sensitive, never extractable"
        };
        let record = match &self.req.record.transcript {
            Some(p) => format!("recorded in the ceremony transcript {}", p.display()),
            None => "no transcript record (no --transcript)".into(),
        };
        let marker_note = |p: &Path| {
            format!(
                "(pending-key marker {} until the record is written)",
                p.display()
            )
        };
        let continuing = |what: String, m: &PendingMarker, p: &Path| {
            format!(
                "Continuing an interrupted `token generate`: {what} was made by it (pending-key \
                 marker {}, written at unix time {}). No new key is generated; a test digest is \
                 signed and verified; {record}.",
                p.display(),
                m.written
            )
        };
        let text = match &self.prepared {
            Some(Prepared::Pkcs11(OnToken {
                token,
                label,
                start: Start::Fresh(id),
                marker_path,
            })) => format!(
                "About to generate an Ed25519 key on {}:\n  label: {label}\n  id:    {}\n  {custody}; a test digest is signed and verified; {record}.\n  {}",
                token.name(),
                crate::tka::hex::lower(id),
                marker_note(marker_path)
            ),
            Some(Prepared::Pkcs11(OnToken {
                token,
                label,
                start: Start::Resume(m),
                marker_path,
            })) => continuing(
                format!(
                    "the key labelled \"{label}\" (id {}) on {}",
                    m.pkcs11_id().unwrap_or(""),
                    token.name()
                ),
                m,
                marker_path,
            ),
            Some(Prepared::YubiKey(OnCard {
                card,
                marker_path,
                resume: None,
                replacing,
            })) => format!(
                "About to generate an Ed25519 key on {} in slot {}{}:\n  pin policy: {}, touch policy: {}\n  generated on the card, never exportable; a test digest is signed and verified; {record}.\n  {}",
                card.name(),
                card.slot(),
                if *replacing { ", DESTROYING the key in it (--force)" } else { "" },
                policy_text(o.pin_policy),
                policy_text(o.touch_policy),
                marker_note(marker_path)
            ),
            Some(Prepared::YubiKey(OnCard {
                card,
                marker_path,
                resume: Some(m),
                ..
            })) => continuing(
                format!(
                    "the Ed25519 key in slot {} of {}{}",
                    card.slot(),
                    card.name(),
                    m.public.as_ref().map(|p| format!(" ({p})")).unwrap_or_default()
                ),
                m,
                marker_path,
            ),
            Some(Prepared::File(OnFile {
                spec,
                marker_path,
                resume: None,
                replacing,
                ..
            })) => format!(
                "About to generate a software Ed25519 key (NOT HARDWARE-BACKED) in {}{}; {record}.\n  {}",
                crate::shown::path(&spec.path),
                if *replacing { ", REPLACING that file (--force)" } else { "" },
                marker_note(marker_path)
            ),
            Some(Prepared::File(OnFile {
                spec,
                marker_path,
                resume: Some((m, _)),
                ..
            })) => continuing(
                format!(
                    "the software key file {} ({})",
                    crate::shown::path(&spec.path),
                    m.public.as_deref().unwrap_or("")
                ),
                m,
                marker_path,
            ),
            None => format!(
                "About to generate an Ed25519 key with --signer {}; {record}.",
                signers::spec::shown(&self.req.signer)
            ),
        };
        Ok(GeneratePlan { text })
    }

    fn show(&self, plan: &GeneratePlan) -> Shown {
        Shown {
            text: plan.text.clone(),
            action: "generate the key".into(),
        }
    }

    fn needs_confirmation(&self) -> bool {
        false
    }

    fn sign(&mut self, _plan: GeneratePlan) -> crate::ceremony::error::Result<Generated> {
        let prepared = self
            .prepared
            .take()
            .context("token generate: sign stage without a preflight")?;
        self.marker = Some(prepared.marker_path().to_path_buf());
        match prepared {
            Prepared::Pkcs11(t) => self.sign_pkcs11(t),
            Prepared::YubiKey(c) => self.sign_yubikey(c),
            Prepared::File(f) => self.sign_file(f),
        }
    }

    fn stage(
        &mut self,
        generated: &Generated,
        shown: &Shown,
        unit: &mut CommitUnit,
    ) -> crate::ceremony::error::Result<()> {
        let key = &generated.key;
        if let (Some(path), Some(pem)) = (&self.req.attestation_out, &key.attestation_pem) {
            unit.add(
                path,
                pem.as_bytes().to_vec(),
                Existing::from_force(self.req.options.force),
                Parent::MustExist,
            )?;
        }
        if self.req.record.transcript.is_none() || self.already_recorded(&key.tlpub) {
            return Ok(());
        }
        let mut entry = Entry::new(
            "token generate",
            format!(
                "{}\n{}{}",
                shown.text,
                key_text(key),
                crate::attestation_policy::summary_text(&generated.evidence)
            ),
        )
        .attestations(generated.evidence.clone());
        if generated.resumed {
            if let Some(m) = self.marker.as_ref().and_then(|p| std::fs::read(p).ok()) {
                entry = entry.input(
                    "RESUMED: the key was generated by an interrupted attempt (its pending-key marker)",
                    &m,
                );
            }
        }
        if let Some(pem) = &key.attestation_pem {
            entry = entry.output("attestation certificate (PEM)", pem.as_bytes());
        }
        self.staged = super::record::stage(&self.req.record, None, entry, &mut self.signers, unit)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_is_per_token_and_label_and_round_trips() {
        let d = tempfile::tempdir().unwrap();
        let a = PendingMarker::path(d.path(), "serial-1", "tailnet-lock");
        assert_ne!(a, PendingMarker::path(d.path(), "serial-2", "tailnet-lock"));
        assert_ne!(a, PendingMarker::path(d.path(), "serial-1", "other"));
        assert!(PendingMarker::read(&a).unwrap().is_none());
        let m = PendingMarker {
            command: "token generate".into(),
            key: PendingKey::Pkcs11 {
                label: "tailnet-lock".into(),
                id: "00ff".into(),
                token_label: "t".into(),
                token_serial: "serial-1".into(),
                module: "/m.so".into(),
            },
            public: None,
            written: 1,
        };
        m.write(&a).unwrap();
        assert_eq!(PendingMarker::read(&a).unwrap(), Some(m.clone()));
        // One flat JSON object: the backend's fields beside the common ones.
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&a).unwrap()).unwrap();
        assert_eq!(v["backend"], "pkcs11");
        assert_eq!(v["id"], "00ff");
        assert_eq!(m.pkcs11_id(), Some("00ff"));
        for key in [
            PendingKey::Yubikey {
                serial: 12345678,
                slot: "9a".into(),
                label: None,
                pin_policy: "once".into(),
                touch_policy: "default".into(),
            },
            PendingKey::File {
                path: PathBuf::from("/keys/dev.key"),
            },
        ] {
            let mut m = PendingMarker::new(key);
            m.public = Some(format!("tlpub:{}", "ab".repeat(32)));
            m.write(&a).unwrap();
            assert_eq!(PendingMarker::read(&a).unwrap(), Some(m.clone()));
            assert_eq!(m.pkcs11_id(), None);
        }
        std::fs::write(&a, b"not json").unwrap();
        let e = PendingMarker::read(&a).unwrap_err().to_string();
        assert!(e.contains("remove it"), "{e}");
    }

    #[test]
    fn only_a_key_made_on_the_token_and_kept_there_is_recognised() {
        let made = made();
        assert!(made.made_on_the_token());
        let imported = FoundKey {
            local: Some(false),
            ..made.clone()
        };
        assert!(!imported.made_on_the_token());
        let extractable = FoundKey {
            extractable: Some(true),
            ..made.clone()
        };
        assert!(!extractable.made_on_the_token());
        let unknown = FoundKey {
            local: None,
            ..made
        };
        assert!(
            !unknown.made_on_the_token(),
            "CKA_LOCAL unreported proves nothing"
        );
        assert_eq!(
            AfterGeneration::parse("generated"),
            Some(AfterGeneration::Fail)
        );
        assert_eq!(
            AfterGeneration::parse("generated-crash"),
            Some(AfterGeneration::Crash)
        );
        assert_eq!(AfterGeneration::parse("sign"), None);
    }

    use crate::signers::pkcs11::FoundKey;

    fn made() -> FoundKey {
        FoundKey {
            label: "k".into(),
            id: vec![1],
            local: Some(true),
            extractable: Some(false),
            sensitive: Some(true),
            never_extractable: Some(true),
        }
    }
}
