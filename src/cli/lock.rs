//! `locksmith lock …`: reading and verifying an authority.

use super::chain_source::ChainSource;
use super::render;
use crate::input::{self, Artifact, Input};
use crate::store::Store;
use crate::tka::disablement::{disablement_kdf, value_text};
use crate::tka::keyforms::{node_key_text, parse_node_key};
use crate::tka::{hex, nks};
use anyhow::{bail, Context};
use serde_json::json;
use std::path::PathBuf;
use zeroize::Zeroizing;

#[derive(Debug, clap::Subcommand)]
pub enum LockCommand {
    /// Create a new authority: a genesis checkpoint signed on the token(s),
    /// disablement secrets made offline, and the store pinned to it.
    #[command(after_help = super::examples::LOCK_INIT)]
    Init(Box<super::lock_init::InitArgs>),
    /// Let an authority held back by `lock init --await-custodians` go live
    /// once every custodian has verified their disablement secret.
    #[command(after_help = super::examples::LOCK_RELEASE)]
    Release(super::lock_init::ReleaseArgs),
    /// Sign node keys (direct, with a rotation key, from a deeplink, from a
    /// status export) or make a pre-auth credential.
    Sign(Box<super::lock_sign::SignArgs>),
    /// Trust more keys (`tlpub:HEX[=VOTES]`).
    #[command(after_help = super::examples::LOCK_ADD)]
    Add {
        #[arg(value_name = "TLPUB[=VOTES]")]
        keys: Vec<String>,
        #[command(flatten)]
        signer: super::signing::SignerArgs,
        #[command(flatten)]
        out: super::lock_update::UpdateOutput,
    },
    /// Stop trusting keys (not compromised ones: use revoke-keys for those).
    #[command(after_help = super::examples::LOCK_REMOVE)]
    Remove {
        #[arg(value_name = "TLPUB")]
        keys: Vec<String>,
        #[command(flatten)]
        signer: super::signing::SignerArgs,
        #[command(flatten)]
        out: super::lock_update::UpdateOutput,
        #[command(flatten)]
        lockout: super::lockout::LockoutArgs,
    },
    /// Change a key's votes or metadata.
    #[command(after_help = super::examples::LOCK_UPDATE)]
    Update {
        #[arg(value_name = "TLPUB")]
        key: String,
        /// New votes (1..4096).
        #[arg(long)]
        votes: Option<u64>,
        /// New metadata, `KEY=VALUE` (repeatable; replaces the whole map).
        #[arg(long = "meta", value_name = "KEY=VALUE")]
        meta: Vec<String>,
        #[command(flatten)]
        signer: super::signing::SignerArgs,
        #[command(flatten)]
        out: super::lock_update::UpdateOutput,
    },
    /// Retroactively revoke compromised keys: start, --cosign, --finish.
    #[command(after_help = super::examples::LOCK_REVOKE_KEYS)]
    RevokeKeys(Box<super::lock_revoke::RevokeArgs>),
    /// Verify a chain and print its history, oldest first.
    #[command(after_help = super::examples::LOCK_LOG)]
    Log {
        #[command(flatten)]
        source: ChainSource,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Verify a chain and print its head, trusted keys, state IDs and disablement values.
    #[command(after_help = super::examples::LOCK_STATUS)]
    Status {
        #[command(flatten)]
        source: ChainSource,
        #[arg(long)]
        json: bool,
    },
    /// Exit 0 exactly when a node-key signature authorizes the node key under the chain.
    #[command(after_help = super::examples::LOCK_VERIFY_SIGNATURE)]
    VerifySignature {
        #[command(flatten)]
        source: ChainSource,
        /// The node key, `nodekey:<hex>`.
        node_key: String,
        /// The node-key signature: a file, `-`, or hex/base64 text.
        nks: String,
        #[arg(long)]
        json: bool,
    },
    /// Derive the disablement value of a secret (prints `disablement:<hex>`).
    ///
    /// The secret is read from `-` (standard input, or a prompt on a
    /// terminal), `file:PATH`, or a prompt when no argument is given.
    /// A literal secret is still accepted, with a warning, because upstream's
    /// `tailscale lock disablement-kdf <hex-encoded-disablement-secret>`
    /// takes it that way (cmd/tailscale/cli/tailnet-lock.go) and scripts
    /// written for it should keep working; but an argument is visible to
    /// every process on the machine (`ps`, /proc/PID/cmdline) and lands in
    /// shell history, so do not use one for a secret that is still live.
    #[command(after_help = super::examples::LOCK_DISABLEMENT_KDF)]
    DisablementKdf {
        /// `-` (standard input), `file:PATH`, or the secret itself (hex, or
        /// `disablement-secret:HEX`; accepted with a warning). Default: a prompt.
        #[arg(value_name = "SECRET")]
        secret: Option<super::secret_input::SecretSource>,
        #[arg(long)]
        json: bool,
    },
    /// Check a disablement secret against the chain's disablement values.
    /// The secret is read from a prompt (or standard input when it is not a
    /// terminal), never from the command line.
    #[command(after_help = super::examples::LOCK_VERIFY_DISABLEMENT)]
    VerifyDisablement {
        #[command(flatten)]
        source: ChainSource,
        #[arg(long)]
        json: bool,
    },
    /// Add AUMs from an online node's export to the local store after
    /// verifying them; refuse chains that do not link to the pinned anchor.
    #[command(after_help = super::examples::LOCK_IMPORT)]
    Import {
        /// AUM files, a directory of them, or `tailscale lock log --json=1` output.
        #[arg(required = true)]
        inputs: Vec<String>,
        /// The local authority store.
        #[arg(long, value_name = "DIR", env = "LOCKSMITH_STORE")]
        store: Option<PathBuf>,
        /// Create the store from this chain, pinning its first AUM (compare
        /// that AUM's hash with a trusted record before you do this).
        #[arg(long)]
        init: bool,
        /// Accept a recovery checkpoint this machine cannot rebuild because
        /// its chain ends at the recovery's fork point (it never saw the
        /// branch being recovered from): its changes are shown and the
        /// acceptance is recorded in the store's transcript.
        #[arg(long)]
        accept_unseen_recovery: bool,
        /// With --accept-unseen-recovery: the key that signs the transcript
        /// record of the acceptance (a signer spec, as for signing commands).
        #[arg(
            long = "signer",
            value_name = "SPEC",
            requires = "accept_unseen_recovery"
        )]
        signers: Vec<String>,
        /// With --accept-unseen-recovery: accept without asking (after
        /// reviewing the changes, which are still printed).
        #[arg(long, short = 'y', requires = "accept_unseen_recovery")]
        yes: bool,
        #[command(flatten)]
        record: super::record::RecordArgs,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: LockCommand) -> anyhow::Result<()> {
    use super::lock_update::{parse_add, parse_remove, parse_update};
    match cmd {
        LockCommand::Init(args) => super::lock_init::run(*args),
        LockCommand::Release(args) => super::lock_init::release(args),
        LockCommand::Sign(args) => super::lock_sign::run(*args),
        LockCommand::Add { keys, signer, out } => {
            super::lock_update::run(parse_add(&keys)?, &signer, out, None)
        }
        LockCommand::Remove {
            keys,
            signer,
            out,
            lockout,
        } => super::lock_update::run(parse_remove(&keys)?, &signer, out, Some(&lockout)),
        LockCommand::Update {
            key,
            votes,
            meta,
            signer,
            out,
        } => super::lock_update::run(parse_update(&key, votes, &meta)?, &signer, out, None),
        LockCommand::RevokeKeys(args) => super::lock_revoke::run(*args),
        LockCommand::Log { source, json } => log(&source, json),
        LockCommand::Status { source, json } => status(&source, json),
        LockCommand::VerifySignature {
            source,
            node_key,
            nks,
            json,
        } => verify_signature(&source, &node_key, &nks, json),
        LockCommand::DisablementKdf { secret, json } => kdf(secret, json),
        LockCommand::VerifyDisablement { source, json } => verify_disablement(&source, json),
        LockCommand::Import {
            inputs,
            store,
            init,
            accept_unseen_recovery,
            signers,
            yes,
            record,
            json,
        } => import(
            crate::ceremony::import::ImportRequest {
                inputs,
                store: store.unwrap_or_else(Store::default_dir),
                init,
                accept_unseen: accept_unseen_recovery,
                signer: crate::ceremony::signers::SignerRequest {
                    specs: signers,
                    ..Default::default()
                },
                record: record.options(),
            },
            yes,
            json,
        ),
    }
}

fn log(source: &ChainSource, json: bool) -> anyhow::Result<()> {
    let authority = source.authority()?;
    let chain = authority.active_chain();
    if json {
        let mut aums = Vec::new();
        for (hash, aum) in &chain {
            let mut v = render::aum_json(aum);
            v["hash"] = json!(hash.to_string());
            aums.push(v);
        }
        super::print_json(&json!({"head": authority.head().to_string(), "aums": aums}));
        return Ok(());
    }
    outln!(
        "verified chain: {} AUMs on the active chain, head {}",
        chain.len(),
        authority.head()
    );
    for (_, aum) in &chain {
        let state = aum.parent().and_then(|p| authority.state_at(p).ok());
        outln!();
        out!("{}", render::aum_text(aum, state.as_ref()));
    }
    Ok(())
}

fn status(source: &ChainSource, json: bool) -> anyhow::Result<()> {
    let authority = source.authority()?;
    let st = authority.state();
    if json {
        let mut v = render::state_json(st);
        v["head"] = json!(authority.head().to_string());
        v["oldest_ancestor"] = json!(authority.oldest_ancestor().to_string());
        super::print_json(&v);
        return Ok(());
    }
    outln!("head:      {}", authority.head());
    outln!("anchor:    {}", authority.oldest_ancestor());
    out!("{}", render::state_text(st, ""));
    Ok(())
}

fn verify_signature(
    source: &ChainSource,
    node_key: &str,
    nks_arg: &str,
    json: bool,
) -> anyhow::Result<()> {
    let authority = source.authority()?;
    let key = parse_node_key(node_key).context("the node key argument")?;
    let input = Input::read(nks_arg)?;
    let bytes = match input::identify(&input)? {
        (_, Artifact::Nks(sig)) => sig.serialize(),
        (_, other) => bail!(
            "{}: expected a node-key signature, found {}",
            input.name,
            input::artifact_name(&other)
        ),
    };
    // Verify the bytes as given when they are CBOR, as upstream does.
    let given = if input.bytes.first().is_some_and(|b| b & 0xe0 == 0xa0) {
        input.bytes.clone()
    } else {
        bytes
    };
    match nks::node_key_authorized(authority.state(), &key, &given) {
        Ok(details) => {
            if json {
                super::print_json(&json!({
                    "authorized": true,
                    "node_key": node_key_text(&key),
                    "rotation_prev_node_keys": details.map(|d| d.prev_node_keys.iter().map(|k| node_key_text(k)).collect::<Vec<_>>()),
                }));
            } else {
                outln!(
                    "authorized: {} is authorized by this signature under head {}",
                    node_key_text(&key),
                    authority.head()
                );
            }
            Ok(())
        }
        Err(e) => {
            if json {
                super::print_json(
                    &json!({"authorized": false, "node_key": node_key_text(&key), "error": e.to_string()}),
                );
            } else {
                eoutln!("not authorized: {e}");
            }
            Err(super::Exit(1).into())
        }
    }
}

/// Parses a secret given as hex or `disablement-secret:HEX`.
fn parse_secret(text: &str) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let t = text.trim();
    let t = t.strip_prefix("disablement-secret:").unwrap_or(t);
    let bytes = hex::decode(t).context(
        "the disablement secret must be hex, optionally with the disablement-secret: prefix",
    )?;
    if bytes.is_empty() {
        anyhow::bail!(
            "the disablement secret is empty: nothing was read (give the secret's 64 hex digits)"
        );
    }
    Ok(Zeroizing::new(bytes))
}

/// The warning for a disablement secret typed on the command line.
pub const KDF_ARGV_WARNING: &str = "WARNING: the disablement secret was given on the command line, \
where every process on this machine can read it (ps, /proc/PID/cmdline) and your shell may keep it \
in its history. It is accepted because `tailscale lock disablement-kdf` takes it that way; give `-` \
(standard input), file:PATH, or no argument (a prompt) instead.";

fn kdf(secret: Option<super::secret_input::SecretSource>, json: bool) -> anyhow::Result<()> {
    use super::secret_input::SecretSource;
    let source = secret.unwrap_or(SecretSource::Prompt);
    if source.is_literal() {
        eoutln!("{KDF_ARGV_WARNING}");
    }
    let text = source.read("disablement secret")?;
    let secret = parse_secret(&text)?;
    let value = disablement_kdf(&secret);
    if json {
        super::print_json(&json!({"value": hex::lower(&value), "text": value_text(&value)}));
    } else {
        outln!("{}", value_text(&value));
    }
    Ok(())
}

fn verify_disablement(source: &ChainSource, json: bool) -> anyhow::Result<()> {
    let authority = source.authority()?;
    let text = super::secret_input::SecretSource::Stdin.read("disablement secret")?;
    let secret = parse_secret(&text)?;
    let value = disablement_kdf(&secret);
    match authority.state().disablement_value_index(&value) {
        Some(i) => {
            if json {
                super::print_json(
                    &json!({"matches": true, "index": i, "value": value_text(&value)}),
                );
            } else {
                outln!(
                    "valid: the secret matches disablement value #{} ({})",
                    i + 1,
                    value_text(&value)
                );
            }
            Ok(())
        }
        None => {
            if json {
                super::print_json(&json!({"matches": false}));
            } else {
                eoutln!(
                    "no match: the secret matches none of this authority's {} disablement values",
                    authority.state().disablement_values().count()
                );
            }
            Err(super::Exit(1).into())
        }
    }
}

fn import(
    request: crate::ceremony::import::ImportRequest,
    yes: bool,
    json: bool,
) -> anyhow::Result<()> {
    let dir = request.store.clone();
    let options = crate::ceremony::pipeline::Options {
        yes,
        hooks: crate::ceremony::pipeline::Hooks::from_env(),
    };
    let done = crate::ceremony::import::run(
        request,
        &mut crate::ceremony::terminal::Tty::open(),
        &options,
    )?;
    if !done.unseen.is_empty() {
        eoutln!("{}", super::record::Staged::report_line(&done.record));
    }
    let (authority, added, stored) = (done.authority, done.added, done.status_exports);
    let stored_json: Vec<_> = stored
        .iter()
        .map(|s| json!({"head": s.head, "nodes": s.nodes, "verifying": s.verifying, "current": s.head == authority.head().to_string()}))
        .collect();
    if json {
        super::print_json(
            &json!({"added": added, "head": authority.head().to_string(), "anchor": authority.oldest_ancestor().to_string(), "status_exports": stored_json}),
        );
    } else {
        outln!(
            "{} new AUMs verified and stored in {}",
            added,
            dir.display()
        );
        outln!("anchor: {}", authority.oldest_ancestor());
        outln!("head:   {}", authority.head());
        for s in &stored {
            outln!(
                "status export stored for the lockout preview: taken at head {}{}, {} node(s) listed, {} verify under the chain",
                s.head,
                if s.head == authority.head().to_string() { " (the current head)" } else { " (NOT the current head: previews will say the effect is unknown)" },
                s.nodes,
                s.verifying
            );
        }
    }
    Ok(())
}
