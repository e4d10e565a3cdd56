//! `locksmith lock sign`: node-key signatures (direct, with a rotation
//! key, from a signing deeplink, for the locked-out peers of a status
//! export) and pre-auth credentials.
//!
//! Credentials: upstream's `tailscale lock sign tskey-…` adds a separate
//! lock key per credential; locksmith signs the credential with the token
//! key itself, so the only way to revoke a leaked credential made here is
//! to revoke (or remove) that token key. Prefer short-lived, single-use
//! auth keys with credentials.

use super::chain_source::ChainSource;
use super::record::Staged;
use super::render;
use super::signing::{
    check_primary_output, open_signers, print_json, signers_text, stage_primary_output,
    ConfirmArgs, SignerArgs,
};
use crate::ceremony::commit::{
    check_directory, check_target, CommitUnit, Committed, Existing, Parent,
};
use crate::ceremony::pipeline::{self, Ceremony, Hooks, Options, Shown};
use crate::ceremony::terminal::{Terminal, Tty};
use crate::exchange::ArtifactKind;
use crate::input::{identify, Artifact, Input};
use crate::shown::Untrusted;
use crate::tka::keyforms::{
    node_key_binary, node_key_text, parse_lock_key, parse_node_key, tlpub_text,
};
use crate::tka::nks::{self, NodeKeySignature, SigKind};
use crate::tka::signer::{sign_verified_batch, Signer, SoftwareSigner};
use crate::tka::{deeplink, wrapped_authkey, Authority};
use anyhow::{bail, Context};
use serde_json::json;
use std::path::PathBuf;
use zeroize::Zeroizing;

#[derive(Debug, clap::Args)]
// The credentials note lives with the examples (super::examples::LOCK_SIGN).
#[command(after_help = super::examples::LOCK_SIGN)]
pub struct SignArgs {
    /// What to sign: `nodekey:HEX` or a `tailscale://sign-device/v1/?…` deeplink.
    /// (A pre-auth key is given with --auth-key, never here.)
    #[arg(value_name = "TARGET")]
    pub target: Option<String>,
    /// With `nodekey:HEX`: the node's rotation key (`tlpub:HEX`), recorded as the WrappingPubkey.
    #[arg(value_name = "ROTATION")]
    pub rotation: Option<String>,
    /// Sign the locked-out peers (FilteredPeers) of a `tailscale lock status --json=1` export.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["target", "credential"])]
    pub from_status: Option<String>,
    /// Make a pre-auth credential: prints the `--TL…` suffix for `tailscale up --auth-key`.
    #[arg(long)]
    pub credential: bool,
    /// With --credential: the pre-auth key (`tskey-auth-…`) to wrap, read
    /// from `-` (standard input), `file:PATH` (its first line) or `prompt`;
    /// never the key itself. Implies --credential.
    #[arg(long, value_name = "SOURCE", conflicts_with = "from_status")]
    pub auth_key: Option<super::secret_input::SecretSource>,
    #[command(flatten)]
    pub signer: SignerArgs,
    #[command(flatten)]
    pub source: ChainSource,
    /// Write the output here: a file; with --from-status a directory of
    /// NODEKEY.nks files. The --out rule (every command): a file when the command makes one artifact, a directory (created if missing, one file per artifact) when it can make several. For credentials the file holds a private
    /// key, and the credential is then not printed.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Replace existing output files.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
}

/// A node key to sign and what is known about it.
struct Request {
    node_key: [u8; 32],
    rotation: Option<[u8; 32]>,
    label: String,
}

/// The refusal of a pre-auth key typed on the command line.
const AUTH_KEY_IN_ARGV: &str = "a pre-auth key on the command line is visible to every process on \
this machine (ps, /proc/PID/cmdline) and lands in shell history, so locksmith refuses it (nothing was \
signed). Revoke that key in the admin console if other users share this machine, then give a key with \
--auth-key - (standard input), --auth-key file:PATH or --auth-key prompt";

pub fn run(args: SignArgs) -> anyhow::Result<()> {
    let literal_key = args.auth_key.as_ref().is_some_and(|s| s.is_literal());
    if literal_key
        || args
            .target
            .as_deref()
            .is_some_and(|t| t.starts_with("tskey-"))
    {
        bail!("{AUTH_KEY_IN_ARGV}");
    }
    let options = Options {
        yes: args.confirm.yes,
        hooks: Hooks::from_env(),
    };
    if args.credential || args.auth_key.is_some() {
        let mut c = CredentialCeremony {
            args,
            authority: None,
            auth_key: None,
            signers: Vec::new(),
            wrapping: None,
            record: None,
            note: None,
        };
        let done = pipeline::run(&mut c, &mut Tty::open(), &options)?;
        return print_credential(&c, &done.signed, &done.committed);
    }
    let mut c = NodeKeyCeremony {
        args,
        authority: None,
        requests: Vec::new(),
        source_text: String::new(),
        signers: Vec::new(),
        record: None,
        note: None,
    };
    let done = pipeline::run(&mut c, &mut Tty::open(), &options)?;
    print_node_keys(&c, &done.signed, &done.committed)
}

/// The journal of a `lock sign`: in the store, else beside the output.
fn sign_journal(args: &SignArgs) -> PathBuf {
    if let Some(store) = super::record::store_of(&args.source.chain, &args.source.store) {
        return store.join(".locksmith-journal");
    }
    let beside = args
        .out
        .clone()
        .or_else(|| args.confirm.record.transcript.clone())
        .unwrap_or_else(|| PathBuf::from("locksmith"));
    let name = beside
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    beside.with_file_name(format!(".{name}.locksmith-journal"))
}

/// Stages the record of a `lock sign` (in the store's transcript, or --transcript).
fn stage_record(
    args: &SignArgs,
    entry: crate::transcript::Entry,
    signers: &mut [Box<dyn Signer>],
    unit: &mut CommitUnit,
) -> anyhow::Result<Option<Staged>> {
    let store = super::record::store_of(&args.source.chain, &args.source.store);
    super::record::stage(&args.confirm.record, store.as_deref(), entry, signers, unit)
}

/// `lock sign` of node keys (direct, deeplink, --from-status).
struct NodeKeyCeremony {
    args: SignArgs,
    authority: Option<Authority>,
    requests: Vec<Request>,
    source_text: String,
    signers: Vec<Box<dyn Signer>>,
    record: Option<Staged>,
    note: Option<String>,
}

impl NodeKeyCeremony {
    fn authority(&self) -> anyhow::Result<&Authority> {
        self.authority
            .as_ref()
            .context("no authority (preflight did not run)")
    }

    fn out_file(&self, r: &Request) -> Option<PathBuf> {
        let out = self.args.out.as_ref()?;
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
        sign_journal(&self.args)
    }

    fn preflight(&mut self, _term: &mut dyn Terminal) -> anyhow::Result<()> {
        let args = &self.args;
        let authority = args.source.authority_for_signing()?;
        if args.signer.specs()?.len() != 1 {
            bail!("give exactly one --signer: a node-key signature carries one signing key");
        }
        self.requests = if let Some(status) = &args.from_status {
            from_status(&authority, status)?
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
        // What was asked, for the transcript: the status export, or the argument(s).
        self.source_text = match &args.from_status {
            Some(path) => std::fs::read_to_string(path).unwrap_or_else(|_| path.clone()),
            None => [args.target.clone(), args.rotation.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
        };
        if let Some(out) = &args.out {
            if args.from_status.is_some() {
                check_directory(out, Parent::Create)?;
                for r in &self.requests {
                    if let Some(file) = self.out_file(r) {
                        check_target(&file, Existing::from_force(args.force), Parent::Create)?;
                    }
                }
            } else {
                check_primary_output(out, &args.confirm, args.force)?;
            }
        }
        let store = super::record::store_of(&args.source.chain, &args.source.store);
        super::record::check_destination(&args.confirm.record, store.as_deref())?;
        super::record::guard(&args.confirm.record);
        self.signers = open_signers(&args.signer)?;
        require_trusted(&authority, self.signers[0].as_ref())?;
        self.authority = Some(authority);
        Ok(())
    }

    fn plan(&mut self) -> anyhow::Result<Vec<NodeKeySignature>> {
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
                &render::nks_text(u, Some(authority.state()))
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

    fn sign(&mut self, mut unsigned: Vec<NodeKeySignature>) -> anyhow::Result<Self::Signed> {
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
    ) -> anyhow::Result<()> {
        let (digests, sigs) = signed;
        let args = &self.args;
        if let Some(out) = &args.out {
            if args.from_status.is_some() {
                for (r, bytes) in self.requests.iter().zip(sigs) {
                    if let Some(file) = self.out_file(r) {
                        unit.add(
                            file,
                            bytes.clone(),
                            Existing::from_force(args.force),
                            Parent::Create,
                        )?;
                    }
                }
            } else if let Some(bytes) = sigs.first() {
                self.note = stage_primary_output(
                    unit,
                    out,
                    ArtifactKind::Nks,
                    bytes,
                    &args.confirm,
                    args.force,
                )?;
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
        self.record = stage_record(args, entry, &mut self.signers, unit)?;
        Ok(())
    }
}

fn print_written(committed: &Committed, note: &Option<String>, record: &Option<Staged>) {
    for w in &committed.written {
        if record.as_ref().is_none_or(|r| &r.path != w) {
            eprintln!("wrote {}", w.display());
        }
    }
    if let Some(note) = note {
        eprintln!("{note}");
    }
    super::record::report(record);
}

fn print_node_keys(
    c: &NodeKeyCeremony,
    signed: &<NodeKeyCeremony as Ceremony>::Signed,
    committed: &Committed,
) -> anyhow::Result<()> {
    print_written(committed, &c.note, &c.record);
    let authority = c.authority()?;
    let outputs: Vec<(&Request, &Vec<u8>)> = c.requests.iter().zip(&signed.1).collect();
    if c.args.confirm.json {
        print_json(&json!({
            "signatures": outputs.iter().map(|(r, b)| json!({
                "node_key": node_key_text(&r.node_key),
                "nks_hex": crate::tka::hex::lower(b),
                "nks_base64": data_encoding::BASE64.encode(b),
                "signer": tlpub_text(&c.signers[0].public_key()),
            })).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    for (r, b) in &outputs {
        outln!("{}", node_key_text(&r.node_key));
        outln!("  signature (hex):    {}", crate::tka::hex::lower(b));
        outln!("  signature (base64): {}", data_encoding::BASE64.encode(b));
        if c.args.confirm.qr {
            super::signing::show_qr(ArtifactKind::Nks, b)?;
        }
    }
    outln!(
        "These signatures verify under head {}. No stock `tailscale` command submits a",
        authority.head()
    );
    outln!("signature made elsewhere: deliver them through a control server that accepts them (see docs/interop.md).");
    Ok(())
}

fn require_trusted(authority: &Authority, signer: &dyn Signer) -> anyhow::Result<()> {
    if !authority.key_trusted(&signer.public_key()) {
        bail!(
            "the signer's key {} is not trusted by this authority (head {}): nodes would reject its signatures",
            tlpub_text(&signer.public_key()),
            authority.head()
        );
    }
    Ok(())
}

fn single_request(
    authority: &Authority,
    target: &str,
    rotation: Option<&str>,
) -> anyhow::Result<Request> {
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
        return Ok(Request {
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
    Ok(Request {
        node_key,
        rotation,
        label: node_key_text(&node_key),
    })
}

fn from_status(authority: &Authority, path: &str) -> anyhow::Result<Vec<Request>> {
    super::path_hint::require_existing(path, "--from-status")?;
    let input = Input::read(path)?;
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
            Ok(Request {
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
        .collect()
}

/// Reads the pre-auth key from its source: the first line, trimmed, a
/// `tskey-…` key with no credential yet.
fn read_auth_key(source: &super::secret_input::SecretSource) -> anyhow::Result<Zeroizing<String>> {
    let text = source.read("pre-auth key")?;
    let first = text.lines().next().unwrap_or("").trim();
    if !first.starts_with("tskey-") || first.chars().any(|c| c.is_whitespace() || c.is_control()) {
        bail!(
            "the pre-auth key read with --auth-key does not look like `tskey-auth-…` (not shown); \
             give the key the admin console made"
        );
    }
    if wrapped_authkey::decode(first).is_ok() {
        bail!("this auth key is already wrapped with a credential (it has a --TL suffix)");
    }
    let mut key = Zeroizing::new(String::with_capacity(first.len()));
    key.push_str(first);
    Ok(key)
}

/// `lock sign --credential`.
struct CredentialCeremony {
    args: SignArgs,
    authority: Option<Authority>,
    auth_key: Option<Zeroizing<String>>,
    signers: Vec<Box<dyn Signer>>,
    wrapping: Option<SoftwareSigner>,
    record: Option<Staged>,
    note: Option<String>,
}

struct Credential {
    cred: NodeKeySignature,
    wrapping_public: [u8; 32],
    /// The auth key (if given) and the `--TL…` suffix: holds a private key.
    text: Zeroizing<String>,
}

impl Ceremony for CredentialCeremony {
    type Plan = NodeKeySignature;
    type Signed = Credential;

    fn journal(&self) -> PathBuf {
        sign_journal(&self.args)
    }

    fn preflight(&mut self, _term: &mut dyn Terminal) -> anyhow::Result<()> {
        let args = &self.args;
        if let Some(other) = args.target.as_deref() {
            bail!(
                "with --credential there is no argument (got {}); give the pre-auth key with --auth-key",
                crate::shown::escape_short(other, 80)
            );
        }
        let authority = args.source.authority_for_signing()?;
        if args.signer.specs()?.len() != 1 {
            bail!("give exactly one --signer: a node-key signature carries one signing key");
        }
        if let Some(out) = &args.out {
            check_primary_output(out, &args.confirm, args.force)?;
        }
        let store = super::record::store_of(&args.source.chain, &args.source.store);
        super::record::check_destination(&args.confirm.record, store.as_deref())?;
        self.auth_key = args.auth_key.as_ref().map(read_auth_key).transpose()?;
        super::record::guard(&args.confirm.record);
        self.signers = open_signers(&args.signer)?;
        require_trusted(&authority, self.signers[0].as_ref())?;
        self.authority = Some(authority);
        Ok(())
    }

    fn plan(&mut self) -> anyhow::Result<NodeKeySignature> {
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
                render::nks_text(preview, Some(authority.state()))
            ),
            action,
        }
    }

    fn sign(&mut self, _preview: NodeKeySignature) -> anyhow::Result<Credential> {
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
    ) -> anyhow::Result<()> {
        let args = &self.args;
        if let Some(out) = &args.out {
            self.note = stage_primary_output(
                unit,
                out,
                ArtifactKind::WrappedAuthKey,
                signed.text.as_bytes(),
                &args.confirm,
                args.force,
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
        self.record = stage_record(args, entry, &mut self.signers, unit)?;
        Ok(())
    }
}

fn print_credential(
    c: &CredentialCeremony,
    signed: &Credential,
    committed: &Committed,
) -> anyhow::Result<()> {
    let args = &c.args;
    print_written(committed, &c.note, &c.record);
    let text = &signed.text;
    // With --out the private credential is in that file only: not printed.
    let to_file = args.out.as_ref();
    if args.confirm.json {
        use super::secret_input::{print_json_with_secrets, SecretJson};
        let (auth_json, suffix_json) = match (to_file, c.auth_key.is_some()) {
            (Some(_), _) => (SecretJson::Null, SecretJson::Null),
            (None, true) => (SecretJson::Text(text.as_str()), SecretJson::Null),
            (None, false) => (SecretJson::Null, SecretJson::Text(text.as_str())),
        };
        let mut v = json!({
            "credential_hex": crate::tka::hex::lower(&signed.cred.serialize()),
            "wrapping_pubkey": tlpub_text(&signed.wrapping_public),
            "signer": tlpub_text(&c.signers[0].public_key()),
        });
        if let Some(out) = to_file {
            v["written_to"] = json!(out.display().to_string());
        }
        print_json_with_secrets(&v, &[("auth_key", auth_json), ("suffix", suffix_json)]);
        return Ok(());
    }
    outln!(
        "credential signed by {} (rotation key {})",
        tlpub_text(&c.signers[0].public_key()),
        tlpub_text(&signed.wrapping_public)
    );
    if let Some(out) = to_file {
        outln!("the wrapped auth key (it contains a private key) is in {} only; give it only to the node that joins", out.display());
        return Ok(());
    }
    if c.auth_key.is_some() {
        outln!("wrapped auth key (contains a private key; give it only to the node that joins):");
    } else {
        outln!("append this suffix to a pre-auth key for `tailscale up --auth-key` (contains a private key):");
    }
    outln!("{}", text.as_str());
    if args.confirm.qr {
        super::signing::show_qr(ArtifactKind::WrappedAuthKey, text.as_bytes())?;
    }
    Ok(())
}
