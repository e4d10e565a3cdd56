//! `locksmith lock init`: the arguments, their conversion into the
//! library's request (`crate::ceremony::init`), and what is printed once
//! the genesis is signed and everything is written. `lock release`.

use super::render;
use super::secrets::InitSecretsArgs;
use super::signing::{print_json, signers_json, ConfirmArgs, SignerArgs};
use crate::ceremony::init::{InitOutcome, InitRequest, OnlineNode};
use crate::ceremony::pipeline::{Hooks, Options};
use crate::ceremony::terminal::Tty;
use crate::exchange::ArtifactKind;
use crate::store::Store;
use crate::tka::disablement::value_text;
use crate::tka::keyforms::tlpub_text;
use crate::tka::{hex, Aum, State};

use serde_json::json;
use std::path::PathBuf;
use zeroize::Zeroizing;

pub use crate::ceremony::init::{
    parse_key_with_votes, parse_meta, stock_init_command, NO_NODE_KEY,
};

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    #[command(flatten, next_help_heading = "Signing keys (on the tokens)")]
    pub signer: SignerArgs,
    #[command(flatten, next_help_heading = "YubiKey attestation")]
    pub attestation: super::attestation::RequiredPolicyArgs,
    /// Another trusted key (not signing now): `tlpub:HEX`, optionally with
    /// votes as `tlpub:HEX=2` (or upstream's `tlpub:HEX?2`). Repeatable.
    #[arg(
        long = "key",
        value_name = "TLPUB[=VOTES]",
        help_heading = "The authority"
    )]
    pub keys: Vec<String>,
    /// Votes of each signing (token) key.
    #[arg(
        long,
        default_value_t = 1,
        value_name = "N",
        help_heading = "The authority"
    )]
    pub votes: u64,
    /// Metadata for the signing keys, `name=VALUE` (repeatable).
    #[arg(
        long = "meta",
        value_name = "KEY=VALUE",
        help_heading = "The authority"
    )]
    pub meta: Vec<String>,
    /// An extra disablement value (`disablement:HEX`) whose secret is kept elsewhere. Repeatable.
    #[arg(
        long = "disablement",
        value_name = "disablement:HEX",
        help_heading = "The authority"
    )]
    pub disablements: Vec<String>,
    #[command(
        flatten,
        next_help_heading = "The online node (stock `tailscale lock init`)"
    )]
    pub online: OnlineNodeArgs,
    #[command(flatten, next_help_heading = "Disablement secrets")]
    pub secrets: InitSecretsArgs,
    /// Print the disablement secrets on standard output (plaintext!).
    #[arg(long, help_heading = "Disablement secrets")]
    pub reveal_secrets: bool,
    /// Hold the new authority back (no genesis, no online command printed,
    /// no signing) until every custodian has verified their secret with
    /// `locksmith secrets verify|decrypt --store DIR --custodian NAME
    /// --record DIR/verifications.json`; then `locksmith lock release`.
    #[arg(long, help_heading = "Disablement secrets")]
    pub await_custodians: bool,
    /// The local authority store to create.
    #[arg(
        long,
        value_name = "DIR",
        env = "LOCKSMITH_STORE",
        help_heading = "Output"
    )]
    pub store: Option<PathBuf>,
    /// Also write the genesis AUM (CBOR) to this file (with --respond-to:
    /// the `tailscale lock init` arguments as a response for `online
    /// submit`). The --out rule (every command): a file when the command makes one artifact, a directory (created if missing, one file per artifact) when it can make several.
    #[arg(long, value_name = "PATH", help_heading = "Output")]
    pub out: Option<PathBuf>,
    /// Replace existing output files.
    #[arg(long, help_heading = "Output")]
    pub force: bool,
    #[command(flatten, next_help_heading = "Output")]
    pub confirm: ConfirmArgs,
}

/// The online node whose own tailnet lock key the stock init line must
/// list: upstream's `tailscale lock init` signs the genesis with that key
/// and refuses when it is not among the trusted keys
/// (cmd/tailscale/cli/tailnet-lock.go, runTailnetLockInit: "the tailnet
/// lock key of the current node must be one of the trusted keys during
/// initialization").
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OnlineNodeArgs {
    /// The online node's tailnet lock key (`tailscale lock status` prints it
    /// as "This node's tailnet-lock key: tlpub:…").
    #[arg(long, value_name = "TLPUB", conflicts_with = "online_export")]
    pub online_node_key: Option<String>,
    /// A `locksmith online export` (or `tailscale lock status --json=1`
    /// output) from the online node; its `PublicKey` is the node's key.
    #[arg(long, value_name = "FILE")]
    pub online_export: Option<String>,
}

impl OnlineNodeArgs {
    /// The library's description of the online node.
    pub fn request(&self) -> OnlineNode {
        OnlineNode {
            key: self.online_node_key.clone(),
            export: self.online_export.clone(),
        }
    }
}

impl InitArgs {
    /// The library's request.
    fn request(&self) -> InitRequest {
        let passphrase = || super::prompted(super::secrets::read_passphrase(true));
        InitRequest {
            signer: self.signer.request(),
            attestation: self.attestation.request(),
            keys: self.keys.clone(),
            votes: self.votes,
            meta: self.meta.clone(),
            disablements: self.disablements.clone(),
            online: self.online.request(),
            secrets_count: self.secrets.secrets_count,
            secrets: (&self.secrets).into(),
            passphrase: Box::new(passphrase),
            reveal_secrets: self.reveal_secrets,
            await_custodians: self.await_custodians,
            store: self.store.clone(),
            out: self.out.clone(),
            force: self.force,
            primary: self.confirm.primary(self.force),
            record: self.confirm.record.options(),
        }
    }
}

pub fn run(args: InitArgs) -> anyhow::Result<()> {
    let options = Options {
        yes: args.confirm.yes,
        hooks: Hooks::from_env(),
    };
    let done = crate::ceremony::init::run(args.request(), &mut Tty::open(), &options)?;
    print_init(&args, &done)
}

/// What `lock init` prints once everything is written.
fn print_init(args: &InitArgs, done: &InitOutcome) -> anyhow::Result<()> {
    let store_dir = &done.store;
    let (genesis, authority) = (&done.genesis, &done.authority);
    let hash = authority.head();
    let st = authority.state();
    eoutln!("pinned the new authority in {}", store_dir.display());
    if let Some(out) = &args.out {
        if done.committed.written.iter().any(|w| w == out) {
            eoutln!("wrote {}", out.display());
        }
    }
    if let Some(note) = &done.note {
        eoutln!("{note}");
    }
    super::record::report(&done.record);
    let written = &done.written;
    if args.await_custodians {
        let record = store_dir.join("verifications.json");
        if args.confirm.json {
            print_json(&json!({
                "held_for_custodians": true,
                "store": store_dir.display().to_string(),
                "record": record.display().to_string(),
                "secrets_written": written,
            }));
            return Ok(());
        }
        outln!("new authority {hash} signed and HELD BACK until every custodian has verified their secret.");
        if let Some(w) = written {
            for p in w.age_files.iter().chain(w.sheets.iter()) {
                outln!("  secrets written: {}", p.display());
            }
        }
        outln!("Each custodian verifies (typing the sheet, scanning its QR, or decrypting their age file):");
        outln!(
            "  locksmith secrets verify --store {} --custodian NAME --record {}",
            store_dir.display(),
            record.display()
        );
        outln!(
            "  locksmith secrets decrypt FILE -i IDENTITY --store {} --custodian NAME --record {}",
            store_dir.display(),
            record.display()
        );
        outln!("Then release it (prints the genesis and the online command):");
        outln!("  locksmith lock release --store {}", store_dir.display());
        return Ok(());
    }
    let node_key = done.node_key;
    let stock = done.stock_init_command();
    if args.confirm.json {
        let v = json!({
            "genesis": render::aum_json(genesis),
            "head": hash.to_string(),
            "store": store_dir.display().to_string(),
            "state_id1": st.state_id1,
            "state_id2": st.state_id2,
            "signers": signers_json(&done.signers),
            "stock_init_command": stock,
            "stock_init_refused": if stock.is_none() { Some(NO_NODE_KEY) } else { None },
            "online_node_key": node_key.map(|k| tlpub_text(&k)),
            "secrets_written": written,
        });
        if !args.reveal_secrets {
            print_json(&v);
            return Ok(());
        }
        // The secrets never enter a serde_json::Value (not zeroized).
        let hex: Vec<Zeroizing<String>> = done
            .generated
            .iter()
            .flat_map(|g| g.secrets.iter().map(|s| s.hex_upper()))
            .collect();
        super::secret_input::print_json_with_secrets(
            &v,
            &[(
                "secrets",
                super::secret_input::SecretJson::List(hex.iter().map(|h| h.as_str()).collect()),
            )],
        );
        return Ok(());
    }
    print_genesis(genesis, st);
    if let Some(w) = written {
        for p in w.age_files.iter().chain(w.sheets.iter()) {
            outln!("  secrets written: {}", p.display());
        }
    }
    if args.reveal_secrets {
        if let Some(g) = &done.generated {
            outln!("disablement secrets (shown once; keep them offline):");
            for s in &g.secrets {
                let line =
                    Zeroizing::new(format!("  disablement-secret:{}", s.hex_upper().as_str()));
                outln!("{}", line.as_str());
            }
        }
    }
    print_online_commands(st, node_key);
    if args.confirm.qr {
        super::signing::show_qr(ArtifactKind::Aum, &genesis.serialize())?;
    }
    Ok(())
}

fn print_genesis(genesis: &Aum, st: &State) {
    outln!(
        "genesis AUM {} (final hash: signatures included; the value compared before signing was the sighash)",
        genesis.hash()
    );
    outln!("  state IDs: {} / {}", st.state_id1, st.state_id2);
    outln!("  hex: {}", hex::lower(&genesis.serialize()));
}

fn print_online_commands(st: &State, node_key: Option<[u8; 32]>) {
    outln!("disablement values:");
    for v in st.disablement_values() {
        outln!("  {}", value_text(v));
    }
    outln!();
    match stock_init_command(st, node_key) {
        Some(line) => {
            outln!("The stock path: on the online node run (it lists and signs with the node-held key,");
            outln!("then prints the same line with --confirm to run; see docs/interop.md):");
            outln!("  {line}");
            if let Some(k) = node_key {
                outln!("  node-held key: {} (keep it until every node is re-signed by a token key: ceremony/runbook-retire-node-key.md)", tlpub_text(&k));
            }
            outln!("The genesis above is for the fully offline path, which needs a control server that accepts it.");
        }
        None => outln!("{NO_NODE_KEY}."),
    }
}

#[derive(Debug, clap::Args)]
pub struct ReleaseArgs {
    /// The local authority store held back by `lock init --await-custodians`.
    #[arg(long, value_name = "DIR", env = "LOCKSMITH_STORE")]
    pub store: Option<PathBuf>,
    /// The custodians' verification record (default: DIR/verifications.json).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    #[command(flatten)]
    pub online: OnlineNodeArgs,
    #[arg(long)]
    pub json: bool,
}

/// `locksmith lock release`: lets a held-back authority go live once every
/// disablement secret has been verified by a custodian.
pub fn release(args: ReleaseArgs) -> anyhow::Result<()> {
    let released = crate::ceremony::init::release(&crate::ceremony::init::ReleaseRequest {
        store: args.store.clone().unwrap_or_else(Store::default_dir),
        record: args.record.clone(),
        online: args.online.request(),
    })?;
    let (genesis, st, node_key) = (&released.genesis, &released.state, released.node_key);
    if args.json {
        print_json(&json!({
            "released": true,
            "genesis": render::aum_json(genesis),
            "stock_init_command": stock_init_command(st, node_key),
            "stock_init_refused": if node_key.is_none() { Some(NO_NODE_KEY) } else { None },
        }));
        return Ok(());
    }
    outln!("every disablement secret was verified by a custodian; the authority is released.");
    print_genesis(genesis, st);
    print_online_commands(st, node_key);
    Ok(())
}
