//! `locksmith lock init`: the genesis checkpoint, signed on the token(s),
//! with disablement secrets made offline.

use super::record::Staged;
use super::render;
use super::secrets::{plan_outputs, InitSecretsArgs, PlannedOutputs, SecretsDestinations};
use super::signing::{
    check_primary_output, open_signers, print_json, signers_json, signers_text,
    stage_primary_output, ConfirmArgs, SignerArgs,
};
use crate::ceremony::commit::{
    check_directory, check_target, CommitUnit, Committed, Existing, Parent,
};
use crate::ceremony::pipeline::{self, Ceremony, Hooks, Options, Shown};
use crate::ceremony::terminal::{Terminal, Tty};
use crate::exchange::ArtifactKind;
use crate::secrets::{
    generate_secrets, render_outputs, AuthorityLabel, GeneratedSecrets, Progress, WrittenOutputs,
};
use crate::store::Store;
use crate::tka::builder::{sign_genesis, unsigned_genesis};
use crate::tka::disablement::value_text;
use crate::tka::keyforms::{parse_lock_key, tlpub_text};
use crate::tka::signer::Signer;
use crate::tka::{hex, Aum, Authority, Key, Meta, State};
use anyhow::{bail, Context};
use rand_core::RngCore;
use serde_json::json;
use std::path::PathBuf;
use zeroize::Zeroizing;

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
    /// The node's key, if given; checked before any token is opened.
    pub fn node_key(&self) -> anyhow::Result<Option<[u8; 32]>> {
        if let Some(text) = &self.online_node_key {
            return parse_lock_key(text)
                .map(Some)
                .with_context(|| format!("--online-node-key {text:?}"));
        }
        let Some(path) = &self.online_export else {
            return Ok(None);
        };
        let input = crate::input::Input::read(path)?;
        let status = match crate::input::identify(&input)? {
            (_, crate::input::Artifact::LockStatus(s))
            | (_, crate::input::Artifact::NodeExport { status: s, .. }) => s,
            (_, other) => bail!(
                "--online-export {}: expected a `locksmith online export` or `tailscale lock status --json=1` output, found {}",
                input.name,
                crate::input::artifact_name(&other)
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
pub fn parse_key_with_votes(text: &str) -> anyhow::Result<Key> {
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
pub fn parse_meta(pairs: &[String]) -> anyhow::Result<Option<Meta>> {
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

fn parse_disablement_value(text: &str) -> anyhow::Result<Vec<u8>> {
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

/// `lock init` on the pipeline: every check before the first PIN, every
/// output (store, age files, sheets, --out, transcript) in one commit.
struct InitCeremony {
    args: InitArgs,
    store_dir: PathBuf,
    planned: Option<PlannedOutputs>,
    extra_values: Vec<Vec<u8>>,
    extra_keys: Vec<Key>,
    meta: Option<Meta>,
    signers: Vec<Box<dyn Signer>>,
    generated: Option<GeneratedSecrets>,
    node_key: Option<[u8; 32]>,
    attested: Vec<crate::signers::piv_attestation::Evidence>,
    // Filled by the stage step, printed after the commit.
    written: Option<WrittenOutputs>,
    record: Option<Staged>,
    note: Option<String>,
}

struct Signed {
    genesis: Aum,
    authority: Authority,
}

impl InitCeremony {
    fn new(args: InitArgs) -> Self {
        InitCeremony {
            store_dir: args.store.clone().unwrap_or_else(Store::default_dir),
            args,
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
            .unwrap_or(std::path::Path::new("."))
            .join(format!(".{name}.locksmith-journal"))
    }

    fn preflight(&mut self, _term: &mut dyn Terminal) -> anyhow::Result<()> {
        let args = &self.args;
        if self.store_dir.join("anchor").exists() {
            bail!("an authority store already exists at {}; lock init creates a new authority, use another --store", self.store_dir.display());
        }
        let count = args.secrets.secrets_count;
        if count > 32 {
            bail!("at most 32 disablement secrets (asked for {count})");
        }
        if args.await_custodians && count == 0 {
            bail!("--await-custodians needs generated disablement secrets (--gen-disablements N)");
        }
        for d in &args.disablements {
            self.extra_values.push(parse_disablement_value(d)?);
        }
        if count == 0 && self.extra_values.is_empty() {
            bail!("no disablement values: generate some (--gen-disablements N) or give --disablement disablement:HEX");
        }
        self.meta = parse_meta(&args.meta)?;
        for text in &args.keys {
            self.extra_keys.push(parse_key_with_votes(text)?);
        }
        // Every output path, before any PIN or passphrase.
        check_target(
            &self.store_dir.join("anchor"),
            Existing::Refuse,
            Parent::Create,
        )?;
        if let Some(out) = &args.out {
            if !args.await_custodians {
                check_primary_output(out, &args.confirm, args.force)?;
            }
        }
        let mut destinations: SecretsDestinations = (&args.secrets).into();
        destinations.force = args.force;
        if count > 0 {
            for dir in destinations.out.iter().chain(destinations.sheet_dir.iter()) {
                check_directory(dir, Parent::Create)
                    .context("checking where the disablement secrets go")?;
            }
        }
        super::record::check_destination(&args.confirm.record, Some(&self.store_dir))?;
        if count > 0 {
            self.planned = Some(
                plan_outputs(&destinations, args.reveal_secrets)
                    .context("planning where the disablement secrets go")?,
            );
        }
        self.node_key = args.online.node_key()?;
        if self.node_key.is_none() && args.confirm.respond_to.is_some() && args.out.is_some() {
            bail!("--respond-to answers with the stock init line, and there is {NO_NODE_KEY}");
        }
        super::record::guard(&args.confirm.record);
        self.attested =
            super::attestation::check_signers(&args.signer.specs()?, &args.attestation)?;
        self.signers = open_signers(&args.signer)?;
        super::attestation::ensure_signers_match(&self.attested, &self.signers)?;
        Ok(())
    }

    fn plan(&mut self) -> anyhow::Result<Aum> {
        let mut keys: Vec<Key> = Vec::new();
        for s in &self.signers {
            let mut k = Key::ed25519(s.public_key(), self.args.votes);
            k.meta = self.meta.clone();
            keys.push(k);
        }
        keys.extend(self.extra_keys.iter().cloned());
        let count = self.args.secrets.secrets_count;
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
                super::attestation::summary_text(&self.attested),
                render::unsigned_aum_text(genesis, None),
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

    fn sign(&mut self, genesis: Aum) -> anyhow::Result<Signed> {
        let authority = sign_genesis(genesis, &mut self.signers)?;
        let genesis = authority.head_aum().clone();
        Ok(Signed { genesis, authority })
    }

    fn stage(
        &mut self,
        signed: &Signed,
        shown: &Shown,
        unit: &mut CommitUnit,
    ) -> anyhow::Result<()> {
        let args = &self.args;
        let hash = signed.authority.head();
        let st = signed.authority.state();
        let existing = Existing::from_force(args.force);
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
        for (path, bytes) in
            Store::new_store_files(&self.store_dir, &signed.authority, args.await_custodians)
        {
            unit.add(path, bytes, Existing::Refuse, Parent::Create)?;
        }
        if let (Some(path), false) = (&args.out, args.await_custodians) {
            self.note = if args.confirm.respond_to.is_some() {
                // The stock path: the online node runs `tailscale lock init` with these arguments.
                let text = stock_init_command(st, self.node_key).context(NO_NODE_KEY)?;
                stage_primary_output(
                    unit,
                    path,
                    ArtifactKind::InitCommand,
                    text.as_bytes(),
                    &args.confirm,
                    args.force,
                )?
            } else {
                stage_primary_output(
                    unit,
                    path,
                    ArtifactKind::Aum,
                    &signed.genesis.serialize(),
                    &ConfirmArgs {
                        respond_to: None,
                        ..args.confirm.clone()
                    },
                    args.force,
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
            &args.confirm.record,
            Some(&self.store_dir),
            entry,
            &mut self.signers,
            unit,
        )?;
        Ok(())
    }
}

pub fn run(args: InitArgs) -> anyhow::Result<()> {
    let options = Options {
        yes: args.confirm.yes,
        hooks: Hooks::from_env(),
    };
    let mut ceremony = InitCeremony::new(args);
    let done = pipeline::run(&mut ceremony, &mut Tty::open(), &options)?;
    print_init(&ceremony, &done.signed, &done.committed)
}

/// What `lock init` prints once everything is written.
fn print_init(c: &InitCeremony, signed: &Signed, committed: &Committed) -> anyhow::Result<()> {
    let args = &c.args;
    let store_dir = &c.store_dir;
    let (genesis, authority) = (&signed.genesis, &signed.authority);
    let hash = authority.head();
    let st = authority.state();
    eprintln!("pinned the new authority in {}", store_dir.display());
    if let Some(out) = &args.out {
        if committed.written.iter().any(|w| w == out) {
            eprintln!("wrote {}", out.display());
        }
    }
    if let Some(note) = &c.note {
        eprintln!("{note}");
    }
    super::record::report(&c.record);
    let written = &c.written;
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
    let node_key = c.node_key;
    let stock = stock_init_command(st, node_key);
    if args.confirm.json {
        let v = json!({
            "genesis": render::aum_json(genesis),
            "head": hash.to_string(),
            "store": store_dir.display().to_string(),
            "state_id1": st.state_id1,
            "state_id2": st.state_id2,
            "signers": signers_json(&c.signers),
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
        let hex: Vec<Zeroizing<String>> = c
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
        if let Some(g) = &c.generated {
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
    let dir = args.store.clone().unwrap_or_else(Store::default_dir);
    let store = Store::open(&dir, true)?;
    if !Store::is_held(&dir) {
        bail!(
            "the authority in {} is not held back; nothing to release",
            dir.display()
        );
    }
    let authority = store.load()?;
    let record_path = args
        .record
        .clone()
        .unwrap_or_else(|| dir.join("verifications.json"));
    let record = crate::secrets::VerificationRecord::load(&record_path)?;
    let values: Vec<[u8; 32]> = authority
        .state()
        .disablement_values()
        .filter_map(|v| v.try_into().ok())
        .collect();
    let node_key = args.online.node_key()?;
    let missing = record.unverified(&values);
    if !missing.is_empty() {
        let shown: Vec<String> = missing.iter().map(|i| format!("#{i}")).collect();
        bail!(
            "not every custodian has verified: disablement secret(s) {} have no verification in {}; \
             custodians run `locksmith secrets verify --store {} --custodian NAME --record {}`",
            shown.join(", "),
            record_path.display(),
            dir.display(),
            record_path.display()
        );
    }
    store.release()?;
    let genesis = authority
        .tree()
        .get(&authority.oldest_ancestor())
        .cloned()
        .context("the genesis is missing")?;
    let st = genesis.state.clone().context("the genesis has no state")?;
    if args.json {
        print_json(&json!({
            "released": true,
            "genesis": render::aum_json(&genesis),
            "stock_init_command": stock_init_command(&st, node_key),
            "stock_init_refused": if node_key.is_none() { Some(NO_NODE_KEY) } else { None },
        }));
        return Ok(());
    }
    outln!("every disablement secret was verified by a custodian; the authority is released.");
    print_genesis(&genesis, &st);
    print_online_commands(&st, node_key);
    Ok(())
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
