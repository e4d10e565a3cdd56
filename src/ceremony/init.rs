//! `lock init` as a ceremony: the genesis checkpoint, signed on the
//! token(s), with disablement secrets made offline. Every check comes
//! before the first PIN (an existing store or `--out`, the secrets'
//! directories, the record, the attestation of every YubiKey signer);
//! every output (the store, age files, sheets, `--out`, the transcript
//! record) is written in one commit, or none is.

use super::commit::{check_directory, check_target, CommitUnit, Committed, Existing, Parent};
use super::disablement::{plan_outputs, PassphraseSource, PlannedOutputs, SecretsDestinations};
use super::outputs::PrimaryOutput;
use super::pipeline::{self, Ceremony, Options, PipelineError, Shown};
use super::record::{check_destination, guard, RecordOptions, Staged};
use super::signers::{signers_text, SignerRequest};
use super::terminal::Terminal;
use crate::attestation_policy::{self, Requirement};
use crate::ceremony::error::{bail, Context};
use crate::exchange::ArtifactKind;
use crate::input::{artifact_name, identify, Artifact, Input};
use crate::secrets::{
    generate_secrets, render_outputs, AuthorityLabel, GeneratedSecrets, Progress, WrittenOutputs,
};
use crate::signers::piv_attestation::Evidence;
use crate::store::Store;
use crate::tka::builder::{sign_genesis, unsigned_genesis};
use crate::tka::disablement::value_text;
use crate::tka::keyforms::{parse_lock_key, tlpub_text};
use crate::tka::signer::Signer;
use crate::tka::{hex, Aum, Authority, Key, Meta, State};
use rand_core::RngCore;
use std::path::{Path, PathBuf};

/// What `lock init` asks for. The key, meta and disablement texts are
/// parsed at preflight (before any PIN), in the order they are checked.
pub struct InitRequest {
    pub signer: SignerRequest,
    /// The policies every YubiKey signing key must be attested with.
    pub attestation: AttestationRequest,
    /// Other trusted keys (not signing now): `tlpub:HEX[=VOTES]` or `tlpub:HEX?VOTES`.
    pub keys: Vec<String>,
    /// Votes of each signing (token) key.
    pub votes: u64,
    /// Metadata for the signing keys, `name=VALUE`.
    pub meta: Vec<String>,
    /// Extra disablement values (`disablement:HEX`) kept elsewhere.
    pub disablements: Vec<String>,
    /// The online node whose key the stock init line lists.
    pub online: OnlineNode,
    /// How many disablement secrets to make (0: none, only `disablements`).
    pub secrets_count: usize,
    /// Where the secrets go (its `force` is `force`).
    pub secrets: SecretsDestinations,
    /// Reads the passphrase when `secrets.passphrase` (at preflight).
    pub passphrase: Box<PassphraseSource>,
    /// The secrets are printed (plaintext): writing them nowhere is allowed.
    pub reveal_secrets: bool,
    /// Hold the authority back until every custodian verified their secret.
    pub await_custodians: bool,
    /// The store to create (default: [`Store::default_dir`]).
    pub store: Option<PathBuf>,
    /// Also write the genesis AUM here (with `primary.respond_to`: the
    /// stock init line as a response).
    pub out: Option<PathBuf>,
    pub force: bool,
    /// The response/envelope forms of `out` (its `force` is `force`).
    pub primary: PrimaryOutput,
    pub record: RecordOptions,
}

/// The attestation asked of every YubiKey signer (`--pin-policy`,
/// `--touch-policy`, `--allow-unverified-attestation`, the hidden TEST roots).
#[derive(Debug, Clone, Default)]
pub struct AttestationRequest {
    pub requirement: Requirement,
    /// Accept an attestation that does not verify or meet `requirement`.
    pub allow_unverified: bool,
    /// TEST ONLY: also trust the roots in this PEM file.
    pub test_roots: Option<PathBuf>,
}

impl AttestationRequest {
    /// Judges every YubiKey signer among `specs` before any PIN is asked;
    /// the override and TEST-root warnings go to `term`.
    pub fn check_signers(
        &self,
        specs: &[String],
        term: &mut dyn Terminal,
    ) -> crate::ceremony::error::Result<Vec<Evidence>> {
        let trust = attestation_policy::load_trust(self.test_roots.as_deref())?;
        if let Some(path) = &self.test_roots {
            term.say(&format!(
                "WARNING: {} {}: TEST roots are trusted for attestation; this is for the \
                 virtual test card, never for a real ceremony",
                attestation_policy::TEST_ROOTS_FLAG,
                path.display()
            ));
        }
        let judged = attestation_policy::check_specs(
            specs,
            &self.requirement,
            self.allow_unverified,
            &trust,
        )?;
        Ok(judged
            .into_iter()
            .map(|j| {
                if let Some(w) = j.warning(&j.evidence.tlpub) {
                    term.say(&w);
                }
                j.evidence
            })
            .collect())
    }
}

/// After the signers are open: each attested key is one that will sign.
pub fn ensure_signers_match(
    evidence: &[Evidence],
    signers: &[Box<dyn Signer>],
) -> crate::ceremony::error::Result<()> {
    for e in evidence {
        if !signers
            .iter()
            .any(|s| tlpub_text(&s.public_key()) == e.tlpub)
        {
            bail!(
                "the attested key {} is not the key that was opened to sign (was the card \
                 changed?); nothing was signed",
                e.tlpub
            );
        }
    }
    Ok(())
}

/// The online node whose own tailnet lock key the stock init line must
/// list: upstream's `tailscale lock init` signs the genesis with that key
/// and refuses when it is not among the trusted keys
/// (cmd/tailscale/cli/tailnet-lock.go, runTailnetLockInit: "the tailnet
/// lock key of the current node must be one of the trusted keys during
/// initialization").
#[derive(Debug, Clone, Default)]
pub struct OnlineNode {
    /// `--online-node-key`: the node's key as text (`tlpub:…`).
    pub key: Option<String>,
    /// `--online-export`: a `locksmith online export` or `tailscale lock
    /// status --json=1` output whose `PublicKey` is the node's key.
    pub export: Option<String>,
}

impl OnlineNode {
    /// The node's key, if given; checked before any token is opened.
    pub fn node_key(&self) -> crate::ceremony::error::Result<Option<[u8; 32]>> {
        if let Some(text) = &self.key {
            return parse_lock_key(text)
                .map(Some)
                .with_context(|| format!("--online-node-key {text:?}"));
        }
        let Some(path) = &self.export else {
            return Ok(None);
        };
        let input = Input::read(path)?;
        let status = match identify(&input)? {
            (_, Artifact::LockStatus(s)) | (_, Artifact::NodeExport { status: s, .. }) => s,
            (_, other) => bail!(
                "--online-export {}: expected a `locksmith online export` or `tailscale lock status --json=1` output, found {}",
                input.name,
                artifact_name(&other)
            ),
        };
        if status.enabled {
            bail!("--online-export {}: tailnet lock is already enabled on that node; `tailscale lock init` refuses (\"tailnet lock is already enabled\")", input.name);
        }
        if status.public_key.is_empty() {
            bail!("--online-export {}: the status has no PublicKey (the node's tailnet lock key); pass --online-node-key tlpub:… instead", input.name);
        }
        parse_lock_key(&status.public_key)
            .map(Some)
            .with_context(|| format!("--online-export {}: PublicKey", input.name))
    }
}

/// Why no stock init line is printed.
pub const NO_NODE_KEY: &str = "no stock `tailscale lock init` line: upstream signs the genesis with the online node's own \
tailnet lock key and refuses unless that key is listed, and it is not known here. Pass --online-node-key tlpub:… \
(shown by `tailscale lock status` on that node) or --online-export FILE (`locksmith online export`)";

/// Parses `tlpub:HEX[=N]` or `tlpub:HEX?N`.
pub fn parse_key_with_votes(text: &str) -> crate::ceremony::error::Result<Key> {
    let (key, votes) = match text.split_once(['=', '?']) {
        Some((k, v)) => (
            k,
            v.parse::<u64>()
                .with_context(|| format!("votes in {text:?} must be a number"))?,
        ),
        None => (text, 1),
    };
    let public = parse_lock_key(key).with_context(|| format!("key {text:?}"))?;
    let k = Key::ed25519(public, votes);
    k.static_validate()
        .with_context(|| format!("key {text:?}"))?;
    Ok(k)
}

/// Parses `KEY=VALUE` pairs.
pub fn parse_meta(pairs: &[String]) -> crate::ceremony::error::Result<Option<Meta>> {
    if pairs.is_empty() {
        return Ok(None);
    }
    let mut meta = Meta::new();
    for p in pairs {
        let (k, v) = p
            .split_once('=')
            .with_context(|| format!("--meta {p:?} must be KEY=VALUE"))?;
        if meta.insert(k.to_string(), v.to_string()).is_some() {
            bail!("--meta key {k:?} given twice");
        }
    }
    Ok(Some(meta))
}

fn parse_disablement_value(text: &str) -> crate::ceremony::error::Result<Vec<u8>> {
    let hex_part = text.strip_prefix("disablement:").with_context(|| {
        format!(
            "--disablement {text:?} must be `disablement:<64 hex digits>` (a value, not a secret)"
        )
    })?;
    let v = hex::decode(hex_part)
        .filter(|v| v.len() == 32)
        .with_context(|| format!("--disablement {text:?}: expected 64 hex digits"))?;
    Ok(v)
}

/// `tailscale lock init --gen-disablements 0 tlpub:NODE tlpub:… disablement:…`,
/// or `None` when the online node's key is unknown (the line would fail).
///
/// Argument forms checked in upstream's cmd/tailscale/cli/tailnet-lock.go:
/// flags come before the positional arguments (Go's flag package stops at
/// the first non-flag); keys are `tlpub:HEX` or `nlpub:HEX` with an
/// optional `?VOTES` (parseTLArgs); `disablement:HEX` are values,
/// `disablement-secret:HEX` would be secrets (both parsed as hex and used
/// as given: a secret passed there would be stored as a value, so only
/// values are printed); `--gen-disablements 0` makes no new secrets.
pub fn stock_init_command(st: &State, node_key: Option<[u8; 32]>) -> Option<String> {
    let node_key = node_key?;
    let mut parts = vec!["tailscale lock init --gen-disablements 0".to_string()];
    let listed = st
        .keys()
        .iter()
        .any(|k| k.public.as_deref() == Some(&node_key[..]));
    if !listed {
        parts.push(tlpub_text(&node_key));
    }
    for k in st.keys() {
        let key = tlpub_text(k.public.as_deref().unwrap_or(&[]));
        parts.push(if k.votes == 1 {
            key
        } else {
            format!("{key}?{}", k.votes)
        });
    }
    for v in st.disablement_values() {
        parts.push(value_text(v));
    }
    Some(parts.join(" "))
}

/// `lock init` on the pipeline.
pub struct InitCeremony {
    req: InitRequest,
    store_dir: PathBuf,
    planned: Option<PlannedOutputs>,
    extra_values: Vec<Vec<u8>>,
    extra_keys: Vec<Key>,
    meta: Option<Meta>,
    signers: Vec<Box<dyn Signer>>,
    generated: Option<GeneratedSecrets>,
    node_key: Option<[u8; 32]>,
    attested: Vec<Evidence>,
    // Filled by the stage step, printed after the commit.
    written: Option<WrittenOutputs>,
    record: Option<Staged>,
    note: Option<String>,
}

/// The signed genesis and the new authority.
pub struct Signed {
    pub genesis: Aum,
    pub authority: Authority,
}

/// What a completed `lock init` made, for the CLI to print.
pub struct InitOutcome {
    pub genesis: Aum,
    pub authority: Authority,
    /// The store created.
    pub store: PathBuf,
    /// Every file written.
    pub committed: Committed,
    /// What to do with a response file.
    pub note: Option<String>,
    /// Where the record went.
    pub record: Option<Staged>,
    /// The values, age files and sheets of the generated secrets.
    pub written: Option<WrittenOutputs>,
    /// The generated secrets (printed only when asked to reveal them).
    pub generated: Option<GeneratedSecrets>,
    /// The online node's key, if known.
    pub node_key: Option<[u8; 32]>,
    pub signers: Vec<Box<dyn Signer>>,
}

impl InitOutcome {
    /// The stock `tailscale lock init` line, if the node's key is known.
    pub fn stock_init_command(&self) -> Option<String> {
        stock_init_command(self.authority.state(), self.node_key)
    }
}

/// Runs `lock init` through the pipeline.
pub fn run(
    request: InitRequest,
    term: &mut dyn Terminal,
    options: &Options,
) -> Result<InitOutcome, PipelineError> {
    let mut c = InitCeremony::new(request);
    let done = pipeline::run(&mut c, term, options)?;
    let Signed { genesis, authority } = done.signed;
    Ok(InitOutcome {
        genesis,
        authority,
        store: c.store_dir,
        committed: done.committed,
        note: c.note,
        record: c.record,
        written: c.written,
        generated: c.generated,
        node_key: c.node_key,
        signers: c.signers,
    })
}

impl InitCeremony {
    /// A ceremony for `request`.
    pub fn new(req: InitRequest) -> Self {
        InitCeremony {
            store_dir: req.store.clone().unwrap_or_else(Store::default_dir),
            req,
            planned: None,
            extra_values: Vec::new(),
            extra_keys: Vec::new(),
            meta: None,
            signers: Vec::new(),
            generated: None,
            node_key: None,
            attested: Vec::new(),
            written: None,
            record: None,
            note: None,
        }
    }

    /// The main output's forms as staged: a response only for the stock line.
    fn primary(&self, respond: bool) -> PrimaryOutput {
        PrimaryOutput {
            respond_to: if respond {
                self.req.primary.respond_to.clone()
            } else {
                None
            },
            force: self.req.force,
            ..self.req.primary.clone()
        }
    }
}

impl Ceremony for InitCeremony {
    type Plan = Aum;
    type Signed = Signed;

    fn journal(&self) -> PathBuf {
        let name = self
            .store_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "store".into());
        self.store_dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join(format!(".{name}.locksmith-journal"))
    }

    fn preflight(&mut self, term: &mut dyn Terminal) -> crate::ceremony::error::Result<()> {
        let req = &self.req;
        if self.store_dir.join("anchor").exists() {
            bail!("an authority store already exists at {}; lock init creates a new authority, use another --store", self.store_dir.display());
        }
        let count = req.secrets_count;
        if count > 32 {
            bail!("at most 32 disablement secrets (asked for {count})");
        }
        if req.await_custodians && count == 0 {
            bail!("--await-custodians needs generated disablement secrets (--gen-disablements N)");
        }
        for d in &req.disablements {
            self.extra_values.push(parse_disablement_value(d)?);
        }
        if count == 0 && self.extra_values.is_empty() {
            bail!("no disablement values: generate some (--gen-disablements N) or give --disablement disablement:HEX");
        }
        self.meta = parse_meta(&req.meta)?;
        for text in &req.keys {
            self.extra_keys.push(parse_key_with_votes(text)?);
        }
        // Every output path, before any PIN or passphrase.
        check_target(
            &self.store_dir.join("anchor"),
            Existing::Refuse,
            Parent::Create,
        )?;
        if let Some(out) = &req.out {
            if !req.await_custodians {
                self.primary(true).check(out)?;
            }
        }
        let mut destinations = req.secrets.clone();
        destinations.force = req.force;
        if count > 0 {
            for dir in destinations.out.iter().chain(destinations.sheet_dir.iter()) {
                check_directory(dir, Parent::Create)
                    .context("checking where the disablement secrets go")?;
            }
        }
        check_destination(&req.record, Some(&self.store_dir))?;
        if count > 0 {
            self.planned = Some(
                plan_outputs(&destinations, req.reveal_secrets, &*req.passphrase)
                    .context("planning where the disablement secrets go")?,
            );
        }
        self.node_key = req.online.node_key()?;
        if self.node_key.is_none() && req.primary.respond_to.is_some() && req.out.is_some() {
            bail!("--respond-to answers with the stock init line, and there is {NO_NODE_KEY}");
        }
        guard(&req.record, term);
        self.attested = req.attestation.check_signers(&req.signer.specs()?, term)?;
        self.signers = req.signer.open(term)?;
        ensure_signers_match(&self.attested, &self.signers)?;
        Ok(())
    }

    fn plan(&mut self) -> crate::ceremony::error::Result<Aum> {
        let mut keys: Vec<Key> = Vec::new();
        for s in &self.signers {
            let mut k = Key::ed25519(s.public_key(), self.req.votes);
            k.meta = self.meta.clone();
            keys.push(k);
        }
        keys.extend(self.extra_keys.iter().cloned());
        let count = self.req.secrets_count;
        self.generated = if count > 0 {
            Some(generate_secrets(count, Progress::Auto)?)
        } else {
            None
        };
        let mut values: Vec<Vec<u8>> = self
            .generated
            .iter()
            .flat_map(|g| g.values.iter().map(|v| v.to_vec()))
            .collect();
        values.extend(self.extra_values.iter().cloned());
        let mut rng = rand_core::OsRng;
        Ok(unsigned_genesis(
            keys,
            values,
            rng.next_u64(),
            rng.next_u64(),
        )?)
    }

    fn show(&self, genesis: &Aum) -> Shown {
        Shown {
            text: format!(
                "About to sign a NEW tailnet lock authority (genesis checkpoint):\n{}{}{}  sighash:   {}  (the value to compare: what the token signs)\n{}",
                signers_text(&self.signers),
                attestation_policy::summary_text(&self.attested),
                super::render::unsigned_aum_text(genesis, None),
                hex::lower(&genesis.sig_hash()),
                match self.node_key {
                    Some(k) => format!(
                        "  node-held key (the online node's own key, NOT on a token; the stock init line lists it and signs with it): {}\n",
                        tlpub_text(&k)
                    ),
                    None => format!("  {NO_NODE_KEY}\n"),
                }
            ),
            action: "sign the genesis".into(),
        }
    }

    fn sign(&mut self, genesis: Aum) -> crate::ceremony::error::Result<Signed> {
        let authority = sign_genesis(genesis, &mut self.signers)?;
        let genesis = authority.head_aum().clone();
        Ok(Signed { genesis, authority })
    }

    fn stage(
        &mut self,
        signed: &Signed,
        shown: &Shown,
        unit: &mut CommitUnit,
    ) -> crate::ceremony::error::Result<()> {
        let hash = signed.authority.head();
        let st = signed.authority.state();
        let existing = Existing::from_force(self.req.force);
        if let (Some(g), Some(p)) = (&self.generated, &self.planned) {
            let mut written = WrittenOutputs {
                values: g
                    .values
                    .iter()
                    .map(crate::secrets::values::value_text)
                    .collect(),
                ..Default::default()
            };
            if !p.is_empty() {
                let today = time::OffsetDateTime::now_utc().date();
                let label =
                    AuthorityLabel::new(&hash.to_string(), st.state_id1, st.state_id2, today)?;
                let options = p.options();
                for (path, bytes) in render_outputs(g, &label, &options)? {
                    let is_age = options
                        .age
                        .as_ref()
                        .is_some_and(|(d, _)| path.starts_with(d))
                        && path.extension().is_some_and(|e| e == "age");
                    if is_age {
                        written.age_files.push(path.clone());
                    } else {
                        written.sheets.push(path.clone());
                    }
                    unit.add(path, bytes.to_vec(), existing, Parent::Create)?;
                }
            }
            self.written = Some(written);
        }
        for (path, bytes) in Store::new_store_files(
            &self.store_dir,
            &signed.authority,
            self.req.await_custodians,
        ) {
            unit.add(path, bytes, Existing::Refuse, Parent::Create)?;
        }
        if let (Some(path), false) = (&self.req.out, self.req.await_custodians) {
            self.note = if self.req.primary.respond_to.is_some() {
                // The stock path: the online node runs `tailscale lock init` with these arguments.
                let text = stock_init_command(st, self.node_key).context(NO_NODE_KEY)?;
                self.primary(true)
                    .stage(unit, path, ArtifactKind::InitCommand, text.as_bytes())?
            } else {
                self.primary(false).stage(
                    unit,
                    path,
                    ArtifactKind::Aum,
                    &signed.genesis.serialize(),
                )?
            };
        }
        let sig_hash = signed.genesis.sig_hash();
        let entry = crate::transcript::Entry::new("lock init", &shown.text)
            .signed([sig_hash])
            .input("unsigned genesis AUM", &{
                let mut unsigned = signed.genesis.clone();
                unsigned.signatures = None;
                unsigned.serialize()
            })
            .output("genesis AUM", &signed.genesis.serialize())
            .attestations(self.attested.clone());
        self.record = super::record::stage(
            &self.req.record,
            Some(&self.store_dir),
            entry,
            &mut self.signers,
            unit,
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::pipeline::{Hooks, Stage};
    use super::super::terminal::Scripted;
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;

    /// A request for a store in `dir` signed by `signer`, one secret shown
    /// (not written), counting how often the passphrase is asked for.
    fn request(dir: &Path, signer: &str, asked: &Rc<Cell<u32>>) -> InitRequest {
        let asked = asked.clone();
        InitRequest {
            signer: SignerRequest {
                specs: vec![signer.to_string()],
                ..Default::default()
            },
            attestation: AttestationRequest::default(),
            keys: Vec::new(),
            votes: 1,
            meta: Vec::new(),
            disablements: Vec::new(),
            online: OnlineNode::default(),
            secrets_count: 1,
            secrets: SecretsDestinations::default(),
            passphrase: Box::new(move || {
                asked.set(asked.get() + 1);
                bail!("no passphrase in this test")
            }),
            reveal_secrets: true,
            await_custodians: false,
            store: Some(dir.join("store")),
            out: Some(dir.join("genesis.aum")),
            force: false,
            primary: PrimaryOutput::default(),
            record: RecordOptions {
                allow_network: true,
                ..Default::default()
            },
        }
    }

    fn yes() -> Options {
        Options {
            yes: true,
            ..Default::default()
        }
    }

    use crate::ceremony::test_key_file as key_file;

    #[test]
    fn an_existing_out_is_refused_at_preflight_before_any_prompt_or_signer() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("genesis.aum"), b"keep me").unwrap();
        let asked = Rc::new(Cell::new(0));
        let mut req = request(d.path(), "file:/nonexistent/key", &asked);
        // A passphrase would be read after the --out check: it is not.
        req.secrets = SecretsDestinations {
            passphrase: true,
            out: Some(d.path().join("age")),
            ..Default::default()
        };
        let mut term = Scripted::none();
        let e = run(req, &mut term, &yes()).err().unwrap();
        assert_eq!(e.stage(), Some(Stage::Preflight), "{e}");
        assert!(e.to_string().contains("genesis.aum"), "{e}");
        assert_eq!(asked.get(), 0, "no passphrase asked");
        assert!(
            term.transcript.is_empty(),
            "nothing shown or asked: {:?}",
            term.transcript
        );
        assert_eq!(
            std::fs::read(d.path().join("genesis.aum")).unwrap(),
            b"keep me"
        );
        assert!(!d.path().join("store").exists());
        assert!(!d.path().join("age").exists());
    }

    #[test]
    fn respond_to_without_the_node_key_is_refused_before_any_signer() {
        let d = tempfile::tempdir().unwrap();
        let asked = Rc::new(Cell::new(0));
        let mut req = request(d.path(), "file:/nonexistent/key", &asked);
        let request_file = d.path().join("request");
        req.primary.respond_to = Some(request_file.clone());
        // The request is read at preflight: make a valid one.
        let nonce_env = crate::exchange::Envelope::new_request(
            ArtifactKind::NodeExport,
            Vec::new(),
            std::time::Duration::from_secs(3600),
        );
        std::fs::write(&request_file, nonce_env.to_bytes()).unwrap();
        let e = run(req, &mut Scripted::none(), &yes()).err().unwrap();
        assert_eq!(e.stage(), Some(Stage::Preflight), "{e}");
        assert!(e.to_string().contains(NO_NODE_KEY), "{e}");
        assert!(!d.path().join("store").exists());
    }

    #[test]
    fn a_run_without_a_terminal_writes_store_out_and_record_and_a_rerun_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let spec = key_file(d.path());
        let asked = Rc::new(Cell::new(0));
        // A failure after signing leaves nothing behind.
        let failing = Options {
            yes: true,
            hooks: Hooks {
                fail_after: Some(Stage::Sign),
                commit_fault: None,
            },
        };
        let e = run(
            request(d.path(), &spec, &asked),
            &mut Scripted::none(),
            &failing,
        )
        .err()
        .unwrap();
        assert_eq!(e.stage(), Some(Stage::Sign), "{e}");
        assert!(!d.path().join("store").join("anchor").exists());
        assert!(!d.path().join("genesis.aum").exists());

        let mut term = Scripted::none();
        let done = run(request(d.path(), &spec, &asked), &mut term, &yes()).unwrap();
        let said = term.transcript.join("\n");
        assert!(
            said.contains("About to sign a NEW tailnet lock authority"),
            "{said}"
        );
        assert!(said.contains("is a software key"), "{said}");
        assert!(said.contains(NO_NODE_KEY), "{said}");
        assert_eq!(
            std::fs::read(d.path().join("genesis.aum")).unwrap(),
            done.genesis.serialize()
        );
        assert!(done.store.join("anchor").is_file());
        let record = done.record.as_ref().expect("recorded in the store");
        assert_eq!(
            record.path,
            crate::transcript::store_transcript(&done.store)
        );
        assert!(record.path.is_file());
        assert_eq!(done.generated.as_ref().map(|g| g.secrets.len()), Some(1));
        assert_eq!(done.authority.state().disablement_values().count(), 1);
        assert!(done.stock_init_command().is_none(), "node key unknown");
        assert_eq!(asked.get(), 0);

        let again = run(
            request(d.path(), &spec, &asked),
            &mut Scripted::none(),
            &yes(),
        )
        .err()
        .unwrap();
        assert_eq!(again.stage(), Some(Stage::Preflight));
        assert!(again.to_string().contains("already exists"), "{again}");
    }

    #[test]
    fn key_and_meta_arguments_parse_as_upstream_writes_them() {
        let key = format!("tlpub:{}", "11".repeat(32));
        assert_eq!(parse_key_with_votes(&key).unwrap().votes, 1);
        assert_eq!(parse_key_with_votes(&format!("{key}=3")).unwrap().votes, 3);
        assert_eq!(parse_key_with_votes(&format!("{key}?2")).unwrap().votes, 2);
        assert!(parse_key_with_votes(&format!("{key}=x")).is_err());
        assert!(parse_meta(&[]).unwrap().is_none());
        let twice = parse_meta(&["a=1".into(), "a=2".into()]).unwrap_err();
        assert!(twice.to_string().contains("given twice"), "{twice}");
        assert!(parse_disablement_value("disablement:00").is_err());
        assert_eq!(
            parse_disablement_value(&format!("disablement:{}", "ab".repeat(32)))
                .unwrap()
                .len(),
            32
        );
    }
}

/// What `lock release` asks for: a store held back by `lock init
/// --await-custodians`, the custodians' verification record, the online
/// node whose key the stock `tailscale lock init` line needs.
pub struct ReleaseRequest {
    pub store: std::path::PathBuf,
    /// Default: `STORE/verifications.json`.
    pub record: Option<std::path::PathBuf>,
    pub online: OnlineNode,
}

/// A released authority: its genesis and state, for the online commands.
pub struct Released {
    pub genesis: Aum,
    pub state: State,
    pub node_key: Option<[u8; 32]>,
}

/// `lock release`: lets a held-back authority go live once every
/// disablement secret has a custodian's verification. Signs nothing; every
/// check comes before the store's hold is removed.
pub fn release(request: &ReleaseRequest) -> crate::ceremony::error::Result<Released> {
    let dir = &request.store;
    let store = Store::open(dir, true)?;
    if !Store::is_held(dir) {
        bail!(
            "the authority in {} is not held back; nothing to release",
            crate::shown::path(dir)
        );
    }
    let authority = store.load()?;
    let record_path = request
        .record
        .clone()
        .unwrap_or_else(|| dir.join("verifications.json"));
    let record = crate::secrets::VerificationRecord::load(&record_path)?;
    let values: Vec<[u8; 32]> = authority
        .state()
        .disablement_values()
        .filter_map(|v| v.try_into().ok())
        .collect();
    let node_key = request.online.node_key()?;
    let missing = record.unverified(&values);
    if !missing.is_empty() {
        let shown: Vec<String> = missing.iter().map(|i| format!("#{i}")).collect();
        bail!(
            "not every custodian has verified: disablement secret(s) {} have no verification in {}; \
             custodians run `locksmith secrets verify --store {} --custodian NAME --record {}`",
            shown.join(", "),
            crate::shown::path(&record_path),
            crate::shown::path(dir),
            crate::shown::path(&record_path)
        );
    }
    let genesis = authority
        .tree()
        .get(&authority.oldest_ancestor())
        .cloned()
        .context("the store's genesis AUM is missing: run `locksmith lock status --store` to see what the store holds")?;
    let state = genesis
        .state
        .clone()
        .context("the store's genesis AUM has no state")?;
    store.release()?;
    Ok(Released {
        genesis,
        state,
        node_key,
    })
}
