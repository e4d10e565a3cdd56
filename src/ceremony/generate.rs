//! `token generate` as a ceremony: a new Ed25519 key on a token, its test
//! signature, its attestation judged, and its transcript record, through
//! the one pipeline.
//!
//! - **preflight** (before any PIN): `--attestation-out` and the
//!   transcript destination checked, the air-gap guard, the token found,
//!   and the label checked on the public objects (visible without a
//!   login); then the one login of the command (the PIN prompt) and the
//!   private keys checked: the label is free, or holds exactly the key an
//!   interrupted attempt made (see "Resuming" below);
//! - **plan/show**: what will be generated (or continued with); nothing to
//!   confirm (a new key changes no authority);
//! - **sign**: the pending marker written, the key generated on the
//!   logged-in session, a test digest signed and verified on the same
//!   session, the attestation (YubiKey) judged;
//! - **commit**: the attestation certificate and the transcript record
//!   (signed by the new key on the same session: no second PIN) as one
//!   unit; then the marker is removed.
//!
//! ## Resuming (PKCS#11)
//!
//! Before generating, a *pending marker* (JSON: label, CKA_ID, token label
//! and serial, module, time; no secret) is written atomically beside the
//! transcript (else beside `--attestation-out`, else in the current
//! directory), named after the token and label. When a run stops after the
//! key exists (Ctrl-C, kill, a failure before the record is written), the
//! next run of the same command finds the marker and a key with the same
//! label and id on the same token, generated there (CKA_LOCAL true,
//! sensitive, never extractable), and continues with it: test signature,
//! attestation, record. A key with the label but no matching marker is
//! never adopted: the error says how to delete it or which flag to use.
//!
//! Other backends (YubiKey, the software file) keep their own checks
//! (occupied slot, existing file) and are not resumable.

use super::commit::{check_target, CommitUnit, Existing, Parent};
use super::pipeline::{self, Ceremony, Completed, Options, PipelineError, Shown};
use super::terminal::Terminal;
use crate::attestation_policy::{self, Requirement};
use crate::signers::piv_attestation::{Attestation, Evidence};
use crate::signers::pkcs11::{new_key_id, Pkcs11Token};
use crate::signers::spec::SignerSpec;
use crate::signers::{self, GenerateOptions, KeyInfo, OpenOptions};
use crate::tka::signer::{sign_verified, Signer};
use crate::transcript::{self, Entry};
use anyhow::{bail, Context};
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

/// The pending marker: what an attempt was about to generate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingMarker {
    pub command: String,
    pub label: String,
    /// CKA_ID, lowercase hex.
    pub id: String,
    pub token_label: String,
    pub token_serial: String,
    pub module: String,
    /// Unix seconds when it was written.
    pub written: u64,
}

impl PendingMarker {
    /// The file for (token serial, label) in `dir`.
    pub fn path(dir: &Path, token_serial: &str, label: &str) -> PathBuf {
        let tag = Sha256::digest(format!("{token_serial}\0{label}").as_bytes());
        dir.join(format!(
            ".locksmith-pending-key-{}.json",
            crate::tka::hex::lower(&tag[..8])
        ))
    }

    fn read(path: &Path) -> anyhow::Result<Option<PendingMarker>> {
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
    fn write(&self, path: &Path) -> anyhow::Result<()> {
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
    on_token: Option<OnToken>,
    /// The pending-key marker of this run (PKCS#11), removed after the commit.
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
        on_token: None,
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
    fn preflight_pkcs11(&self, uri: &signers::spec::Pkcs11Uri) -> anyhow::Result<OnToken> {
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
            m.token_serial == token.serial() && m.token_label == token.label() && m.label == label
        });
        let marked_id = marker.as_ref().and_then(|m| crate::tka::hex::decode(&m.id));
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
            Some(m) if m.id != id_hex => format!(
                "the pending-key marker {} names another key (id {})",
                marker_path.display(),
                m.id
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
    ) -> anyhow::Result<(Vec<Evidence>, Vec<String>)> {
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
            anyhow::anyhow!(
                "{e}. The key was generated and stays in {}; do not use it for a ceremony \
                 (`lock init` refuses it too), or replace it with `token generate --force`",
                key.spec
            )
        })?;
        let notes = judged.warning(&judged.evidence.tlpub).into_iter().collect();
        Ok((vec![judged.evidence], notes))
    }

    fn interrupt_hook(&self) -> anyhow::Result<()> {
        match self.req.after_generation {
            Some(AfterGeneration::Fail) => {
                bail!("injected failure right after the key was generated (test hook); the key and its pending-key marker stay, the same command run again continues with it")
            }
            Some(AfterGeneration::Crash) => std::process::exit(CRASH_EXIT),
            None => Ok(()),
        }
    }

    fn test_signature(&mut self) -> anyhow::Result<()> {
        let mut digest = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut digest);
        for s in &mut self.signers {
            sign_verified(s.as_mut(), &digest)
                .with_context(|| format!("test signature with {}", s.describe()))?;
        }
        Ok(())
    }

    fn sign_pkcs11(&mut self, t: OnToken) -> anyhow::Result<Generated> {
        let (id, resumed) = match &t.start {
            Start::Fresh(id) => {
                PendingMarker {
                    command: "token generate".into(),
                    label: t.label.clone(),
                    id: crate::tka::hex::lower(id),
                    token_label: t.token.label(),
                    token_serial: t.token.serial(),
                    module: t.token.module().display().to_string(),
                    written: std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or(0),
                }
                .write(&t.marker_path)?;
                t.token
                    .generate(&t.label, id, self.req.options.allow_extractable)?;
                self.interrupt_hook()?;
                (id.clone(), false)
            }
            Start::Resume(m) => (
                crate::tka::hex::decode(&m.id).context("the pending-key marker's id is not hex")?,
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

    /// YubiKey and software keys: the backend generates (and checks its
    /// slot or file); the new key signs on the card session of the
    /// generation (one PIN) or from the seed just made (one passphrase).
    fn sign_other(&mut self) -> anyhow::Result<Generated> {
        let spec = &self.req.signer;
        let (key, att, signer) = signers::generate_key_signer(spec, &self.req.options)
            .with_context(|| {
                format!(
                    "generating a key with --signer {}",
                    signers::spec::shown(spec)
                )
            })?;
        self.interrupt_hook()?;
        let (evidence, mut notes) = self.judge(&key, att.as_ref())?;
        let mut tested = false;
        // Tested (a touch, for a touch policy) only when the record is
        // signed anyway.
        let recording = self.req.record.transcript.is_some();
        if let Some(signer) = signer.filter(|_| recording) {
            self.signers = vec![signer];
            self.test_signature()?;
            tested = true;
        } else if recording {
            bail!(
                "the key {} was generated, but this backend gives no signer for its record; \
                 run `locksmith token test --signer {}`",
                key.tlpub,
                key.spec
            );
        }
        if self.req.attestation_out.is_some() && key.attestation_pem.is_none() {
            notes.push("note: this token gives no attestation; nothing written".into());
        }
        Ok(Generated {
            key,
            evidence,
            resumed: false,
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

    fn preflight(&mut self, term: &mut dyn Terminal) -> anyhow::Result<()> {
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
        if let SignerSpec::Pkcs11(uri) = spec {
            self.on_token = Some(self.preflight_pkcs11(&uri)?);
        }
        Ok(())
    }

    fn plan(&mut self) -> anyhow::Result<GeneratePlan> {
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
        let text = match &self.on_token {
            Some(OnToken {
                token,
                label,
                start: Start::Fresh(id),
                marker_path,
            }) => format!(
                "About to generate an Ed25519 key on {}:\n  label: {label}\n  id:    {}\n  {custody}; a test digest is signed and verified; {record}.\n  (pending-key marker {} until the record is written)",
                token.name(),
                crate::tka::hex::lower(id),
                marker_path.display()
            ),
            Some(OnToken {
                token,
                label,
                start: Start::Resume(m),
                marker_path,
            }) => format!(
                "Continuing an interrupted `token generate`: the key labelled \"{label}\" (id {}) on {} was generated by it (pending-key marker {}, written at unix time {}). No new key is generated; a test digest is signed and verified; {record}.",
                m.id,
                token.name(),
                marker_path.display(),
                m.written
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

    fn sign(&mut self, _plan: GeneratePlan) -> anyhow::Result<Generated> {
        match self.on_token.take() {
            Some(t) => {
                self.marker = Some(t.marker_path.clone());
                self.sign_pkcs11(t)
            }
            None => self.sign_other(),
        }
    }

    fn stage(
        &mut self,
        generated: &Generated,
        shown: &Shown,
        unit: &mut CommitUnit,
    ) -> anyhow::Result<()> {
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
            label: "tailnet-lock".into(),
            id: "00ff".into(),
            token_label: "t".into(),
            token_serial: "serial-1".into(),
            module: "/m.so".into(),
            written: 1,
        };
        m.write(&a).unwrap();
        assert_eq!(PendingMarker::read(&a).unwrap(), Some(m));
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
