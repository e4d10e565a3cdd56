//! `lock sign` as ceremonies: node-key signatures (direct, with a
//! rotation key, from a signing deeplink, for the locked-out peers of a
//! status export) and pre-auth credentials, driven by
//! [`super::pipeline::run`].
//!
//! Credentials: upstream's `tailscale lock sign tskey-…` adds a separate
//! lock key per credential; locksmith signs the credential with the token
//! key itself, so the only way to revoke a leaked credential made here is
//! to revoke (or remove) that token key. Prefer short-lived, single-use
//! auth keys with credentials.

use super::chain::ChainRequest;
use super::commit::{check_directory, check_target, CommitUnit, Existing, Parent};
use super::outputs::PrimaryOutput;
use super::pipeline::{Ceremony, Shown};
use super::record::{check_destination, guard, store_of, RecordOptions, Staged};
use super::signers::{signers_text, SignerRequest};
use super::terminal::Terminal;
use crate::ceremony::error::{bail, Context};
use crate::exchange::ArtifactKind;
use crate::input::{identify, Artifact, Input};
use crate::shown::Untrusted;
use crate::tka::keyforms::tlpub_text;
use crate::tka::keyforms::{node_key_binary, node_key_text, parse_lock_key, parse_node_key};
use crate::tka::nks::{self, NodeKeySignature, SigKind};
use crate::tka::signer::{sign_verified_batch, Signer, SoftwareSigner};
use crate::tka::{deeplink, wrapped_authkey, Authority};
use std::path::PathBuf;
use zeroize::Zeroizing;

/// What `lock sign` of node keys asks for.
#[derive(Debug, Clone, Default)]
pub struct SignRequest {
    /// `nodekey:HEX` or a `tailscale://sign-device/v1/?…` deeplink.
    pub target: Option<String>,
    /// With `nodekey:HEX`: the node's rotation key (`tlpub:HEX`).
    pub rotation: Option<String>,
    /// A `tailscale lock status --json=1` export whose locked-out peers are signed.
    pub from_status: Option<String>,
    pub setup: SigningSetup,
}

/// What every `lock sign` form takes: the key, the authority, where the
/// output and the record go.
#[derive(Debug, Clone, Default)]
pub struct SigningSetup {
    pub signer: SignerRequest,
    pub chain: ChainRequest,
    /// A file; with `from_status` a directory of NODEKEY.nks files; for a
    /// credential the file holds a private key.
    pub out: Option<PathBuf>,
    pub force: bool,
    /// The response/envelope forms of `out` (its `force` is `force`).
    pub primary: PrimaryOutput,
    pub record: RecordOptions,
}

/// Reads the pre-auth key (from standard input, a file, a prompt), at
/// preflight after every output path was checked.
pub type AuthKeySource = Box<dyn Fn() -> crate::ceremony::error::Result<Zeroizing<String>>>;

/// What `lock sign --credential` asks for.
#[derive(Default)]
pub struct CredentialRequest {
    /// An argument given with --credential: refused.
    pub target: Option<String>,
    /// The pre-auth key to wrap; none: only the `--TL…` suffix is made.
    pub auth_key: Option<AuthKeySource>,
    pub setup: SigningSetup,
}

/// The checks on a pre-auth key read: the first line, trimmed, a
/// `tskey-…` key with no credential yet.
pub fn check_auth_key(text: &str) -> crate::ceremony::error::Result<Zeroizing<String>> {
    checked_auth_key(
        text.lines().next().unwrap_or(""),
        "the pre-auth key read with --auth-key",
    )
}

/// One pre-auth key (`what` names it in errors, which never show it):
/// trimmed, a `tskey-…` key with no credential yet.
pub fn checked_auth_key(
    line: &str,
    what: &str,
) -> crate::ceremony::error::Result<Zeroizing<String>> {
    let first = line.trim();
    if !first.starts_with("tskey-") || first.chars().any(|c| c.is_whitespace() || c.is_control()) {
        bail!(
            "{what} does not look like `tskey-auth-…` (not shown); \
             give the key the admin console made"
        );
    }
    // Any `--TL`, decodable or not (as upstream's runTskeyWrapCmd refuses
    // it, cmd/tailscale/cli/tailnet-lock.go): a node cuts at the first one
    // (tka.DecodeWrappedAuthkey), so a second suffix would never be read.
    if first.contains("--TL") {
        bail!("{what} is already wrapped with a credential (it has a --TL suffix)");
    }
    let mut key = Zeroizing::new(String::with_capacity(first.len()));
    key.push_str(first);
    Ok(key)
}

/// A node key to sign and what is known about it.
pub struct NodeKeyTarget {
    pub node_key: [u8; 32],
    pub rotation: Option<[u8; 32]>,
    /// How it is shown (outside text escaped).
    pub label: String,
}

/// The refusal of a pre-auth key typed on the command line.
pub const AUTH_KEY_IN_ARGV: &str = "a pre-auth key on the command line is visible to every process on \
this machine (ps, /proc/PID/cmdline) and lands in shell history, so locksmith refuses it (nothing was \
signed). Revoke that key in the admin console if other users share this machine, then give a key with \
--auth-key - (standard input), --auth-key file:PATH or --auth-key prompt (a list: --auth-keys file:PATH \
or --auth-keys -)";

/// The journal of a `lock sign`: in the store, else beside the output.
pub fn sign_journal(setup: &SigningSetup) -> PathBuf {
    let store = store_of(&setup.chain.chain, &setup.chain.store);
    super::commit::journal_path(
        store.as_deref(),
        setup
            .out
            .clone()
            .or_else(|| setup.record.transcript.clone()),
    )
}

/// Stages the record of a `lock sign` (in the store's transcript, or --transcript).
pub fn stage_record(
    setup: &SigningSetup,
    entry: crate::transcript::Entry,
    signers: &mut [Box<dyn Signer>],
    unit: &mut CommitUnit,
) -> crate::ceremony::error::Result<Option<Staged>> {
    let store = store_of(&setup.chain.chain, &setup.chain.store);
    super::record::stage(&setup.record, store.as_deref(), entry, signers, unit)
}

/// `lock sign` of node keys (direct, deeplink, --from-status).
pub struct NodeKeyCeremony {
    args: SignRequest,
    /// The verified authority (after preflight).
    pub authority: Option<Authority>,
    /// What is signed, in order (after preflight).
    pub requests: Vec<NodeKeyTarget>,
    source_text: String,
    /// The opened signer (after preflight).
    pub signers: Vec<Box<dyn Signer>>,
    /// Where the record went (after the commit).
    pub record: Option<Staged>,
    /// What to do with a response file (after the commit).
    pub note: Option<String>,
}

impl NodeKeyCeremony {
    /// A ceremony for `request`.
    pub fn new(request: SignRequest) -> Self {
        NodeKeyCeremony {
            args: request,
            authority: None,
            requests: Vec::new(),
            source_text: String::new(),
            signers: Vec::new(),
            record: None,
            note: None,
        }
    }

    /// The verified authority (after preflight).
    pub fn authority(&self) -> crate::ceremony::error::Result<&Authority> {
        self.authority
            .as_ref()
            .context("no authority (preflight did not run)")
    }

    fn out_file(&self, r: &NodeKeyTarget) -> Option<PathBuf> {
        let out = self.args.setup.out.as_ref()?;
        Some(if self.args.from_status.is_some() {
            out.join(format!("{}.nks", crate::tka::hex::lower(&r.node_key)))
        } else {
            out.clone()
        })
    }
}

impl Ceremony for NodeKeyCeremony {
    type Plan = Vec<NodeKeySignature>;
    /// The verified signatures, serialized, in request order.
    type Signed = (Vec<[u8; 32]>, Vec<Vec<u8>>);

    fn journal(&self) -> PathBuf {
        sign_journal(&self.args.setup)
    }

    fn preflight(&mut self, term: &mut dyn Terminal) -> crate::ceremony::error::Result<()> {
        let args = &self.args;
        let authority = signing_authority(&args.setup, term)?;
        // What was asked, for the transcript: the status export (the bytes
        // the requests were read from, read once), or the argument(s).
        let mut status_text = None;
        self.requests = if let Some(status) = &args.from_status {
            let (requests, text) = from_status(&authority, status)?;
            status_text = Some(text);
            requests
        } else {
            let target = args.target.as_deref().context(
                "missing argument: nodekey:HEX, a signing deeplink, or --from-status FILE",
            )?;
            vec![single_request(
                &authority,
                target,
                args.rotation.as_deref(),
            )?]
        };
        self.source_text = match status_text {
            Some(text) => text,
            None => [args.target.clone(), args.rotation.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
        };
        if let Some(out) = &args.setup.out {
            if args.from_status.is_some() {
                check_directory(out, Parent::Create)?;
                for r in &self.requests {
                    if let Some(file) = self.out_file(r) {
                        check_target(
                            &file,
                            Existing::from_force(args.setup.force),
                            Parent::Create,
                        )?;
                    }
                }
            } else {
                args.setup.primary.check(out)?;
            }
        }
        let store = store_of(&args.setup.chain.chain, &args.setup.chain.store);
        check_destination(&args.setup.record, store.as_deref())?;
        guard(&args.setup.record, term);
        self.signers = args.setup.signer.open(term)?;
        require_trusted(&authority, self.signers[0].as_ref())?;
        self.authority = Some(authority);
        Ok(())
    }

    fn plan(&mut self) -> crate::ceremony::error::Result<Vec<NodeKeySignature>> {
        let key_id = self.signers[0].public_key().to_vec();
        Ok(self
            .requests
            .iter()
            .map(|r| NodeKeySignature {
                kind: SigKind::DIRECT,
                pubkey: Some(node_key_binary(&r.node_key).to_vec()),
                key_id: Some(key_id.clone()),
                wrapping_pubkey: r.rotation.map(|w| w.to_vec()),
                ..Default::default()
            })
            .collect())
    }

    fn show(&self, unsigned: &Vec<NodeKeySignature>) -> Shown {
        let Some(authority) = self.authority.as_ref() else {
            return Shown {
                text: String::new(),
                action: "sign these node keys".into(),
            };
        };
        let mut text = format!(
            "About to sign {} node key(s) under head {}:\n{}",
            self.requests.len(),
            authority.head(),
            signers_text(&self.signers)
        );
        for (r, u) in self.requests.iter().zip(unsigned) {
            text.push_str(&format!("  {}\n", r.label));
            text.push_str(
                &super::render::nks_text(u, Some(authority.state()))
                    .lines()
                    .map(|l| format!("    {l}\n"))
                    .collect::<String>(),
            );
        }
        Shown {
            text,
            action: "sign these node keys".into(),
        }
    }

    fn sign(
        &mut self,
        mut unsigned: Vec<NodeKeySignature>,
    ) -> crate::ceremony::error::Result<Self::Signed> {
        let digests: Vec<[u8; 32]> = unsigned.iter().map(NodeKeySignature::sig_hash).collect();
        let signatures = sign_verified_batch(self.signers[0].as_mut(), &digests)?;
        for (u, s) in unsigned.iter_mut().zip(signatures) {
            u.signature = Some(s.to_vec());
        }
        let authority = self.authority()?;
        let mut out = Vec::new();
        for (r, sig) in self.requests.iter().zip(&unsigned) {
            let bytes = sig.serialize();
            nks::node_key_authorized(authority.state(), &r.node_key, &bytes).with_context(
                || {
                    format!(
                        "the new signature for {} does not verify",
                        node_key_text(&r.node_key)
                    )
                },
            )?;
            out.push(bytes);
        }
        Ok((digests, out))
    }

    fn stage(
        &mut self,
        signed: &Self::Signed,
        shown: &Shown,
        unit: &mut CommitUnit,
    ) -> crate::ceremony::error::Result<()> {
        let (digests, sigs) = signed;
        let args = &self.args;
        if let Some(out) = &args.setup.out {
            if args.from_status.is_some() {
                for (r, bytes) in self.requests.iter().zip(sigs) {
                    if let Some(file) = self.out_file(r) {
                        unit.add(
                            file,
                            bytes.clone(),
                            Existing::from_force(args.setup.force),
                            Parent::Create,
                        )?;
                    }
                }
            } else if let Some(bytes) = sigs.first() {
                self.note = args
                    .setup
                    .primary
                    .stage(unit, out, ArtifactKind::Nks, bytes)?;
            }
        }
        let authority = self.authority()?;
        let entry = self.requests.iter().zip(sigs).fold(
            crate::transcript::Entry::new("lock sign", &shown.text)
                .input(
                    format!("authority head AUM {}", authority.head()),
                    &authority.head_aum().serialize(),
                )
                .input("what was asked to be signed", self.source_text.as_bytes())
                .signed(digests.iter().copied()),
            |e, (r, b)| e.output(format!("signature for {}", node_key_text(&r.node_key)), b),
        );
        self.record = stage_record(&args.setup, entry, &mut self.signers, unit)?;
        Ok(())
    }
}

/// The authority to sign on, and exactly one signer asked for.
fn signing_authority(
    setup: &SigningSetup,
    term: &mut dyn Terminal,
) -> crate::ceremony::error::Result<Authority> {
    let authority = setup.chain.authority_for_signing(term)?;
    if setup.signer.specs()?.len() != 1 {
        bail!("give exactly one --signer: a node-key signature carries one signing key");
    }
    Ok(authority)
}

/// Refuses a signer whose key the authority does not trust.
pub fn require_trusted(
    authority: &Authority,
    signer: &dyn Signer,
) -> crate::ceremony::error::Result<()> {
    if !authority.key_trusted(&signer.public_key()) {
        bail!(
            "the signer's key {} is not trusted by this authority (head {}): nodes would reject its signatures",
            tlpub_text(&signer.public_key()),
            authority.head()
        );
    }
    Ok(())
}

/// The node key (direct, with a rotation key, or from a signing
/// deeplink) one argument asks to sign.
pub fn single_request(
    authority: &Authority,
    target: &str,
    rotation: Option<&str>,
) -> crate::ceremony::error::Result<NodeKeyTarget> {
    if target.starts_with("tailscale://") {
        if rotation.is_some() {
            bail!("a deeplink carries its own rotation key; give no second argument");
        }
        let v = deeplink::validate(authority.state().state_id1, target);
        if !v.is_valid {
            bail!(
                "the signing deeplink is not valid for this tailnet: {}",
                v.error
            );
        }
        let p = &v.params;
        for (name, value) in [
            ("device name (dn)", &p.device_name),
            ("OS (os)", &p.os_name),
            ("login (em)", &p.login_name),
        ] {
            if value.is_empty() {
                bail!("the signing deeplink has an empty {name}; refusing to sign a link that does not say what it is for");
            }
        }
        let node_key = parse_node_key(&p.node_key).context("the deeplink's node key (nk)")?;
        let rotation = parse_lock_key(&p.tlpub).context("the deeplink's tailnet lock key (tp)")?;
        return Ok(NodeKeyTarget {
            node_key,
            rotation: Some(rotation),
            label: format!(
                "deeplink (its HMAC only ties it to this tailnet; it authenticates nothing): device {:?}, OS {:?}, login {:?}",
                Untrusted::from(p.device_name.as_str()),
                Untrusted::from(p.os_name.as_str()),
                Untrusted::from(p.login_name.as_str())
            ),
        });
    }
    let node_key = parse_node_key(target).context("the node key argument")?;
    let rotation = rotation
        .map(|r| parse_lock_key(r).context("the rotation key argument"))
        .transpose()?;
    Ok(NodeKeyTarget {
        node_key,
        rotation,
        label: node_key_text(&node_key),
    })
}

/// The locked-out peers (FilteredPeers) of a status export at `path`, and
/// the export's text as read (for the record: the file is read once).
pub fn from_status(
    authority: &Authority,
    path: &str,
) -> crate::ceremony::error::Result<(Vec<NodeKeyTarget>, String)> {
    let input = Input::read(path)?;
    // The status export's JSON (also inside an `online export` envelope).
    let text = crate::lockout_export::status_text_of(&input)?
        .unwrap_or_else(|| String::from_utf8_lossy(&input.bytes).into_owned());
    let status = match identify(&input)? {
        (_, Artifact::LockStatus(s)) | (_, Artifact::NodeExport { status: s, .. }) => s,
        (_, other) => bail!(
            "{}: expected `tailscale lock status --json=1` output, found {}",
            input.name,
            crate::input::artifact_name(&other)
        ),
    };
    if status
        .state
        .is_some_and(|s| s != authority.state().state_id1)
    {
        bail!(
            "{}: the status export is from another tailnet (state ID {} is not this authority's)",
            input.name,
            status.state.unwrap_or_default()
        );
    }
    if status.filtered_peers.is_empty() {
        bail!(
            "{}: no locked-out peers (FilteredPeers is empty); nothing to sign",
            input.name
        );
    }
    status
        .filtered_peers
        .iter()
        .map(|p| {
            let node_key = parse_node_key(&p.node_key).with_context(|| {
                format!(
                    "{}: peer {} node key",
                    input.name,
                    Untrusted::from(p.id.to_string())
                )
            })?;
            Ok(NodeKeyTarget {
                node_key,
                rotation: None,
                label: format!(
                    "peer {} {} ({})",
                    Untrusted::from(p.id.to_string()),
                    Untrusted::from(p.dns_name.as_str()),
                    node_key_text(&node_key)
                ),
            })
        })
        .collect::<crate::ceremony::error::Result<Vec<_>>>()
        .map(|requests| (requests, text))
}

/// `lock sign --credential`.
pub struct CredentialCeremony {
    args: CredentialRequest,
    /// The verified authority (after preflight).
    pub authority: Option<Authority>,
    /// The pre-auth key read (after preflight).
    pub auth_key: Option<Zeroizing<String>>,
    /// The opened signer (after preflight).
    pub signers: Vec<Box<dyn Signer>>,
    wrapping: Option<SoftwareSigner>,
    /// Where the record went (after the commit).
    pub record: Option<Staged>,
    /// What to do with a response file (after the commit).
    pub note: Option<String>,
}

/// A signed credential.
pub struct Credential {
    pub cred: NodeKeySignature,
    pub wrapping_public: [u8; 32],
    /// The auth key (if given) and the `--TL…` suffix: holds a private key.
    pub text: Zeroizing<String>,
}

impl CredentialCeremony {
    /// A ceremony for `request`.
    pub fn new(request: CredentialRequest) -> Self {
        CredentialCeremony {
            args: request,
            authority: None,
            auth_key: None,
            signers: Vec::new(),
            wrapping: None,
            record: None,
            note: None,
        }
    }
}

impl Ceremony for CredentialCeremony {
    type Plan = NodeKeySignature;
    type Signed = Credential;

    fn journal(&self) -> PathBuf {
        sign_journal(&self.args.setup)
    }

    fn preflight(&mut self, term: &mut dyn Terminal) -> crate::ceremony::error::Result<()> {
        let args = &self.args;
        if let Some(other) = args.target.as_deref() {
            bail!(
                "with --credential there is no argument (got {}); give the pre-auth key with --auth-key",
                crate::shown::escape_short(other, 80)
            );
        }
        let authority = signing_authority(&args.setup, term)?;
        if let Some(out) = &args.setup.out {
            args.setup.primary.check(out)?;
        }
        let store = store_of(&args.setup.chain.chain, &args.setup.chain.store);
        check_destination(&args.setup.record, store.as_deref())?;
        self.auth_key = match &args.auth_key {
            Some(read) => Some(check_auth_key(&read()?)?),
            None => None,
        };
        guard(&args.setup.record, term);
        self.signers = args.setup.signer.open(term)?;
        require_trusted(&authority, self.signers[0].as_ref())?;
        self.authority = Some(authority);
        Ok(())
    }

    fn plan(&mut self) -> crate::ceremony::error::Result<NodeKeySignature> {
        let wrapping = SoftwareSigner::generate("credential");
        let preview = NodeKeySignature {
            kind: SigKind::CREDENTIAL,
            key_id: Some(self.signers[0].public_key().to_vec()),
            wrapping_pubkey: Some(wrapping.public_key().to_vec()),
            ..Default::default()
        };
        self.wrapping = Some(wrapping);
        Ok(preview)
    }

    fn show(&self, preview: &NodeKeySignature) -> Shown {
        let action = "sign the credential".to_string();
        let Some(authority) = self.authority.as_ref() else {
            return Shown {
                text: String::new(),
                action,
            };
        };
        Shown {
            text: format!(
                "About to sign a pre-auth credential under head {}:\n{}{}  note: revoking a leaked credential made here means revoking the token key itself",
                authority.head(),
                signers_text(&self.signers),
                super::render::nks_text(preview, Some(authority.state()))
            ),
            action,
        }
    }

    fn sign(&mut self, _preview: NodeKeySignature) -> crate::ceremony::error::Result<Credential> {
        let authority = self
            .authority
            .as_ref()
            .context("no authority (preflight did not run)")?;
        let wrapping = self
            .wrapping
            .as_mut()
            .context("no wrapping key (plan did not run)")?;
        let wrapping_public = wrapping.public_key();
        let cred = nks::sign_credential(self.signers[0].as_mut(), wrapping_public)?;
        // Prove the whole path works before output: a node signing its key
        // with the credential is authorized.
        let probe = [0x5a; 32];
        let rotation = nks::sign_rotation(wrapping, cred.clone(), &probe)?;
        nks::node_key_authorized(authority.state(), &probe, &rotation.serialize())
            .context("the new credential does not authorize a node")?;
        let private = wrapping.private_key_bytes();
        let suffix = wrapped_authkey::suffix(&cred, &private);
        let key = self.auth_key.as_ref().map_or("", |k| k.as_str());
        let mut text = Zeroizing::new(String::with_capacity(key.len() + suffix.len()));
        text.push_str(key);
        text.push_str(&suffix);
        Ok(Credential {
            cred,
            wrapping_public,
            text,
        })
    }

    fn stage(
        &mut self,
        signed: &Credential,
        shown: &Shown,
        unit: &mut CommitUnit,
    ) -> crate::ceremony::error::Result<()> {
        let args = &self.args;
        if let Some(out) = &args.setup.out {
            self.note = args.setup.primary.stage(
                unit,
                out,
                ArtifactKind::WrappedAuthKey,
                signed.text.as_bytes(),
            )?;
        }
        let authority = self
            .authority
            .as_ref()
            .context("no authority (preflight did not run)")?;
        let entry = crate::transcript::Entry::new("lock sign --credential", &shown.text)
            .input(
                format!("authority head AUM {}", authority.head()),
                &authority.head_aum().serialize(),
            )
            .signed([signed.cred.sig_hash()])
            .output(
                "credential (without its private key)",
                &signed.cred.serialize(),
            );
        self.record = stage_record(&args.setup, entry, &mut self.signers, unit)?;
        Ok(())
    }
}
