//! `locksmith lock sign`: the arguments, their conversion into the
//! library's requests (`crate::ceremony::sign`), and what is printed once
//! the ceremony is done.

use super::chain_source::ChainSource;
use super::record::Staged;
use super::signing::{print_json, ConfirmArgs, SignerArgs};
use crate::ceremony::commit::Committed;
use crate::ceremony::pipeline::{self, Ceremony, Hooks, Options};
use crate::ceremony::sign::SigningSetup;
use crate::ceremony::sign::{
    Credential, CredentialCeremony, CredentialRequest, NodeKeyCeremony, NodeKeyTarget, SignRequest,
    AUTH_KEY_IN_ARGV,
};
use crate::ceremony::terminal::Tty;
use crate::exchange::ArtifactKind;
use crate::tka::keyforms::{node_key_text, tlpub_text};
use anyhow::bail;
use serde_json::json;
use std::path::PathBuf;

mod bulk;

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
    /// Bulk credentials: make N in one run (one PIN, one confirmation, one
    /// transcript record), each with its own wrapping key, written to
    /// --out DIR as credential-NN.txt (mode 0600) and never printed. With
    /// --auth-key each file is that pre-auth key wrapped (use a reusable
    /// one); without, each holds a `--TL…` suffix. Implies --credential.
    #[arg(long, value_name = "N", requires = "out", conflicts_with_all = ["from_status", "target"],
          value_parser = clap::value_parser!(u16).range(1..=bulk::MAX_BULK as i64))]
    pub count: Option<u16>,
    /// Bulk credentials, one per pre-auth key: a list of `tskey-auth-…`
    /// keys, one per line, read from `file:PATH` or `-` (standard input);
    /// each is wrapped with its own credential into --out DIR as
    /// credential-NN.txt (mode 0600), in line order. Implies --credential.
    #[arg(long, value_name = "SOURCE", requires = "out",
          conflicts_with_all = ["from_status", "target", "auth_key", "count"])]
    pub auth_keys: Option<super::secret_input::SecretSource>,
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

impl SignArgs {
    /// The key, authority, output and record options every form takes.
    fn setup(&self) -> anyhow::Result<SigningSetup> {
        Ok(SigningSetup {
            signer: self.signer.request(),
            chain: self.source.request()?,
            out: self.out.clone(),
            force: self.force,
            primary: self.confirm.primary(self.force),
            record: self.confirm.record.options(),
        })
    }

    /// The library's request for node keys (a mistyped `--from-status`
    /// path gets its hint from the one input front door, `crate::input`).
    fn sign_request(&self) -> anyhow::Result<SignRequest> {
        Ok(SignRequest {
            target: self.target.clone(),
            rotation: self.rotation.clone(),
            from_status: self.from_status.clone(),
            setup: self.setup()?,
        })
    }

    /// The library's request for a credential.
    fn credential_request(&self) -> anyhow::Result<CredentialRequest> {
        let auth_key = self.auth_key.clone().map(|source| {
            Box::new(move || super::prompted(source.read("pre-auth key")))
                as crate::ceremony::sign::AuthKeySource
        });
        Ok(CredentialRequest {
            target: self.target.clone(),
            auth_key,
            setup: self.setup()?,
        })
    }
}

pub fn run(args: SignArgs) -> anyhow::Result<()> {
    let literal_key = [&args.auth_key, &args.auth_keys]
        .iter()
        .any(|s| s.as_ref().is_some_and(|s| s.is_literal()));
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
    if args.count.is_some() || args.auth_keys.is_some() {
        return bulk::run(args, &options);
    }
    if args.credential || args.auth_key.is_some() {
        let mut c = CredentialCeremony::new(args.credential_request()?);
        let done = pipeline::run(&mut c, &mut Tty::open(), &options)?;
        return print_credential(&args, &c, &done.signed, &done.committed);
    }
    let mut c = NodeKeyCeremony::new(args.sign_request()?);
    let done = pipeline::run(&mut c, &mut Tty::open(), &options)?;
    print_node_keys(&args, &c, &done.signed, &done.committed)
}

fn print_written(committed: &Committed, note: &Option<String>, record: &Option<Staged>) {
    for w in &committed.written {
        if record.as_ref().is_none_or(|r| &r.path != w) {
            eoutln!("wrote {}", w.display());
        }
    }
    if let Some(note) = note {
        eoutln!("{note}");
    }
    super::record::report(record);
}

fn print_node_keys(
    args: &SignArgs,
    c: &NodeKeyCeremony,
    signed: &<NodeKeyCeremony as Ceremony>::Signed,
    committed: &Committed,
) -> anyhow::Result<()> {
    print_written(committed, &c.note, &c.record);
    let authority = c.authority()?;
    let outputs: Vec<(&NodeKeyTarget, &Vec<u8>)> = c.requests.iter().zip(&signed.1).collect();
    if args.confirm.json {
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
        if args.confirm.qr {
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

fn print_credential(
    args: &SignArgs,
    c: &CredentialCeremony,
    signed: &Credential,
    committed: &Committed,
) -> anyhow::Result<()> {
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
