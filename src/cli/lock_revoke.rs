//! `locksmith lock revoke-keys`: start, cosign and finish a retroactive
//! revocation, with blobs byte-compatible with `tailscale lock revoke-keys`.

//!
//! This file parses the arguments into a
//! [`RevokeRequest`](crate::ceremony::revoke::RevokeRequest), runs the
//! ceremony (src/ceremony/revoke.rs) on the pipeline and prints the result.

use super::chain_source::ChainSource;
use super::render;
use super::signing::{print_json, signers_json, ConfirmArgs};
use crate::ceremony::commit::Committed;
use crate::ceremony::pipeline::{self, Hooks, Options};
use crate::ceremony::revoke::{RecordRequest, RevokeCeremony, RevokeRequest, Signed, Step};
use crate::ceremony::terminal::Tty;
use crate::tka::recovery::cli_blob;
use serde_json::json;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    /// Keys to revoke (`tlpub:HEX`), to start a recovery.
    #[arg(value_name = "TLPUB", conflicts_with_all = ["cosign", "finish"])]
    pub keys: Vec<String>,
    /// Add this token's signature to a recovery blob (hex, a file, or `-`).
    #[arg(long, value_name = "BLOB", conflicts_with = "finish")]
    pub cosign: Option<String>,
    /// Check a recovery blob's tally and print the final blob and submit command.
    #[arg(long, value_name = "BLOB")]
    pub finish: Option<String>,
    /// The AUM to fork from (base32 or hex hash; advanced).
    #[arg(long, value_name = "HASH")]
    pub fork_from: Option<String>,
    /// The signing key (not needed with --finish).
    #[arg(long = "signer", value_name = "SPEC")]
    pub signers: Vec<String>,
    /// Accept PKCS#11 keys that are extractable or not sensitive (never for real keys).
    #[arg(long)]
    pub allow_extractable: bool,
    /// Sign with a key imported onto the token (labelled IMPORTED, never hardware-backed).
    #[arg(long = "allow-imported-key")]
    pub allow_imported: bool,
    #[command(flatten)]
    pub source: ChainSource,
    /// Also write the recovery AUM (CBOR) here.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    #[command(flatten)]
    pub lockout: super::lockout::LockoutArgs,
}

impl RevokeArgs {
    /// The plain request the library ceremony takes.
    fn request(&self) -> RevokeRequest {
        let step = match (&self.cosign, &self.finish) {
            (Some(blob), _) => Step::Cosign { blob: blob.clone() },
            (None, Some(blob)) => Step::Finish { blob: blob.clone() },
            (None, None) => Step::Start {
                keys: self.keys.clone(),
                fork_from: self.fork_from.clone(),
            },
        };
        let record = &self.confirm.record;
        RevokeRequest {
            step,
            signers: self.signers.clone(),
            allow_extractable: self.allow_extractable,
            allow_imported: self.allow_imported,
            chain: self.source.chain.clone(),
            store: self.source.store.clone(),
            unpinned: self.source.unpinned,
            out: self.out.clone(),
            envelope_out: self.confirm.envelope_out.clone(),
            respond_to: self.confirm.respond_to.clone(),
            force: self.force,
            accept_lockout: self.lockout.accept_lockout,
            record: RecordRequest {
                operator: record.operator.clone(),
                witnesses: record.witnesses.clone(),
                transcript: record.transcript.clone(),
                allow_network: record.allow_network,
            },
        }
    }
}

pub fn run(args: RevokeArgs) -> anyhow::Result<()> {
    let mut c = RevokeCeremony::new(args.request());
    let options = Options {
        yes: args.confirm.yes,
        hooks: Hooks::from_env(),
    };
    let done = pipeline::run(&mut c, &mut Tty::open(), &options)?;
    print_written(&done.committed, &c);
    if args.finish.is_some() {
        print_finished(&args, &c, &done.signed)
    } else {
        print_signed(&args, &c, &done.signed)
    }
}

fn print_written(committed: &Committed, c: &RevokeCeremony) {
    for w in &committed.written {
        if c.record.as_ref().is_none_or(|r| &r.path != w) {
            eoutln!("wrote {}", w.display());
        }
    }
    if let Some(note) = &c.note {
        eoutln!("{note}");
    }
    if !matches!(c.request.step, Step::Finish { .. }) {
        super::record::report(&c.record);
    }
}

/// After start or cosign: the final hash, the tally, the blob once and
/// the one command line it goes into next.
fn print_signed(args: &RevokeArgs, c: &RevokeCeremony, s: &Signed) -> anyhow::Result<()> {
    let blob = cli_blob(&s.aum);
    let t = &s.tally;
    if args.confirm.json {
        print_json(&json!({
            "blob": blob,
            "recovery": render::aum_json(&s.aum),
            "sig_hash": crate::tka::hex::lower(&s.aum.sig_hash()),
            "final_hash": s.aum.hash().to_string(),
            "revoked": s.revoked.iter().map(render::key_json).collect::<Vec<_>>(),
            "signers": signers_json(c.signers()),
            "weight": t.weight,
            "max_sibling_weight": t.max_sibling_weight,
            "enough": t.chosen,
            "votes_needed": t.votes_needed,
            "status": crate::ceremony::revoke::status_line(t, &s.aum),
            "next": {
                "locksmith_cosign": format!("locksmith lock revoke-keys --cosign {blob} --signer SPEC"),
                "tailscale_cosign": format!("tailscale lock revoke-keys --cosign {blob}"),
                "locksmith_finish": format!("locksmith lock revoke-keys --finish {blob}"),
                "tailscale_finish": format!("tailscale lock revoke-keys --finish {blob}"),
            },
        }));
        return Ok(());
    }
    outln!(
        "Signed. Final recovery AUM hash (with the signatures so far): {}",
        s.aum.hash()
    );
    for line in c.tally_text(t, &s.aum).lines() {
        outln!("{line}");
    }
    outln!();
    if t.chosen {
        outln!("The signatures are enough. Check it with `locksmith lock revoke-keys --finish BLOB`, then submit it from an online node:");
        outln!("  tailscale lock revoke-keys --finish {blob}");
    } else {
        outln!("More votes are needed. Give the blob to the next key holder: `locksmith lock revoke-keys --cosign BLOB --signer SPEC` on a machine with another trusted key, or on an online node that holds one:");
        outln!("  tailscale lock revoke-keys --cosign {blob}");
        outln!("When enough have signed, `locksmith lock revoke-keys --finish BLOB` checks it and prints the submit line.");
    }
    if args.confirm.qr {
        super::signing::show_qr(
            crate::exchange::ArtifactKind::RecoveryAum,
            &s.aum.serialize(),
        )?;
    }
    Ok(())
}

/// After finish: the blob once, in the stock submit line.
fn print_finished(args: &RevokeArgs, c: &RevokeCeremony, s: &Signed) -> anyhow::Result<()> {
    let blob = cli_blob(&s.aum);
    if let (Some(dir), Ok(authority)) = (c.request.store_dir(), c.authority()) {
        if authority.tree().get(&s.aum.hash()).is_none() {
            eoutln!(
                "stored the recovery AUM in {}; its head is now {}",
                dir.display(),
                s.aum.hash()
            );
        }
    }
    if args.confirm.json {
        print_json(&json!({
            "blob": blob,
            "recovery": render::aum_json(&s.aum),
            "sig_hash": crate::tka::hex::lower(&s.aum.sig_hash()),
            "final_hash": s.aum.hash().to_string(),
            "revoked": s.revoked.iter().map(render::key_json).collect::<Vec<_>>(),
            "weight": s.tally.weight,
            "max_sibling_weight": s.tally.max_sibling_weight,
            "enough": true,
            "tailscale_finish": format!("tailscale lock revoke-keys --finish {blob}"),
        }));
        return Ok(());
    }
    outln!("Final recovery AUM hash: {}", s.aum.hash());
    outln!("Submit it from an online node:");
    outln!("  tailscale lock revoke-keys --finish {blob}");
    if args.confirm.qr {
        super::signing::show_qr(
            crate::exchange::ArtifactKind::RecoveryAum,
            &s.aum.serialize(),
        )?;
    }
    Ok(())
}
