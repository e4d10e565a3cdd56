//! `locksmith lock revoke-keys`: start, cosign and finish a retroactive
//! revocation, with blobs byte-compatible with `tailscale lock revoke-keys`.

use super::chain_source::ChainSource;
use super::render;
use super::signing::{
    confirm, open_signers, print_json, signers_json, signers_text, ConfirmArgs, SignerArgs,
};
use crate::input::{identify, Artifact, Input};
use crate::tka::keyforms::{parse_lock_key, tlpub_text};
use crate::tka::recovery::{
    self, check_existing_signatures, cli_blob, cosign, CheckedRecovery, RecoveryTally,
};
use crate::tka::{Aum, AumHash, AumKind, Authority};
use anyhow::{bail, Context};
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

/// The lockout gate for a revocation: the state it installs against the
/// state at the head it replaces.
fn lockout_gate(
    args: &RevokeArgs,
    head: AumHash,
    before: &crate::tka::State,
    after: &crate::tka::State,
) -> anyhow::Result<String> {
    let dir = args
        .source
        .store
        .clone()
        .unwrap_or_else(crate::store::Store::default_dir);
    super::lockout::check(Some(&dir), head, before, after, &args.lockout)
}

fn parse_fork_from(text: &str) -> anyhow::Result<AumHash> {
    if text.len() == 64 {
        let b = crate::tka::hex::decode(text).context("--fork-from: invalid hex hash")?;
        let arr: [u8; 32] = b
            .try_into()
            .map_err(|_| anyhow::anyhow!("--fork-from: not 32 bytes"))?;
        return Ok(AumHash(arr));
    }
    text.parse::<AumHash>().context("--fork-from")
}

/// Writes the recovery AUM to `--out` (raw CBOR, or a response envelope with `--respond-to`).
fn write_recovery(args: &RevokeArgs, aum: &Aum) -> anyhow::Result<()> {
    match &args.out {
        Some(path) => super::signing::write_primary_output(
            path,
            crate::exchange::ArtifactKind::RecoveryAum,
            &aum.serialize(),
            &args.confirm,
            args.force,
        ),
        None => Ok(()),
    }
}

fn read_blob(arg: &str) -> anyhow::Result<Aum> {
    let input = Input::read(arg)?;
    let aum = match identify(&input)? {
        (_, Artifact::Aum(a)) => a,
        (_, other) => bail!(
            "{}: expected a recovery AUM blob, found {}",
            input.name,
            crate::input::artifact_name(&other)
        ),
    };
    if aum.kind != AumKind::CHECKPOINT || aum.parent().is_none() {
        bail!(
            "{}: not a recovery AUM: a recovery is a checkpoint with a parent, this is a {} AUM",
            input.name,
            aum.kind
        );
    }
    aum.static_validate()
        .with_context(|| format!("{}: the recovery AUM is malformed", input.name))?;
    Ok(aum)
}

fn tally_text(t: &RecoveryTally, authority: &Authority, aum: &Aum) -> String {
    let state = authority.state_at(t.fork_parent).ok();
    let mut s = String::new();
    s.push_str(&format!("  forks from: {}\n", t.fork_parent));
    for sig in aum.signatures() {
        let votes = state
            .as_ref()
            .and_then(|st| st.get_key(sig.key_id()).ok())
            .map(|k| k.votes);
        match votes {
            Some(v) => s.push_str(&format!(
                "  signed by:  {} ({} votes)\n",
                tlpub_text(sig.key_id()),
                v
            )),
            None => s.push_str(&format!(
                "  signed by:  {} (NOT trusted at the fork point: 0 votes)\n",
                tlpub_text(sig.key_id())
            )),
        }
    }
    for sib in &t.siblings {
        s.push_str(&format!(
            "  competes with: {} ({}), weight {}\n",
            sib.hash, sib.kind, sib.weight
        ));
    }
    s.push_str(&format!(
        "  tally:      {} signing votes against {} for the heaviest competing branch: {}\n",
        t.weight,
        t.max_sibling_weight,
        if t.chosen && t.weight <= t.max_sibling_weight {
            "enough, but only by the lowest-hash tie-break: add a signature to win outright"
                .to_string()
        } else if t.chosen {
            "ENOUGH, the recovery wins".to_string()
        } else {
            format!("{} more vote(s) needed", t.votes_needed.max(1))
        }
    ));
    match &t.inform_error {
        // Not a problem: a recovery nobody has signed yet (revoke-keys
        // start) cannot be applied until it is signed.
        Some(_) if aum.signatures().is_empty() => {
            s.push_str("  status:     not signed yet; each key holder adds a signature with `lock revoke-keys cosign`\n")
        }
        Some(e) => s.push_str(&format!("  problem:    {}\n", crate::shown::escape(e))),
        None => {}
    }
    s
}

/// `before` -> the recovery's new state, one line per key and change.
fn diff_lines(before: &crate::tka::State, c: &CheckedRecovery) -> String {
    use recovery::StateChange as C;
    let mut s = String::new();
    let revoked = |k: &crate::tka::Key| c.revoked.iter().any(|r| r.public == k.public);
    for change in recovery::state_diff(before, &c.new_state) {
        let line = match change {
            C::KeptKey(k) => format!("      key {}", render::key_line(&k)),
            C::RemovedKey(k) if revoked(&k) => {
                format!("    - key {}   (revoked)", render::key_line(&k))
            }
            C::RemovedKey(k) => format!(
                "    - key {}   (not trusted now; stays untrusted)",
                render::key_line(&k)
            ),
            C::AddedKey(k) => format!(
                "    + key {}   (trusted now; stays trusted)",
                render::key_line(&k)
            ),
            C::ChangedKey { before, after } => format!(
                "    ~ key {} -> {}   (as it is now)",
                render::key_line(&before),
                render::key_line(&after)
            ),
            C::RemovedDisablement(v) => {
                format!("    - disablement:{}", crate::tka::hex::lower(&v))
            }
            C::AddedDisablement(v) => {
                format!("    + disablement:{}", crate::tka::hex::lower(&v))
            }
            C::StateIds { before, after } => format!(
                "    ~ state IDs: {} / {} -> {} / {}",
                before.0, before.1, after.0, after.1
            ),
            C::KeyOrder => "    ~ key order changed".to_string(),
            C::LastAumHash { .. } => {
                "    ~ LastAUMHash: none (a recovery carries none)".to_string()
            }
        };
        s.push_str(&line);
        s.push('\n');
    }
    s
}

/// The whole state the recovery installs, as a diff against the state at
/// its fork point, and the hash the witnesses compare (the SigHash).
fn recovery_text(c: &CheckedRecovery, aum: &Aum) -> String {
    let mut s = String::new();
    for k in &c.revoked {
        s.push_str(&format!("  REVOKES:    {}\n", render::key_line(k)));
    }
    s.push_str(&format!(
        "  new state (replaces the whole state), against the state now (head {}):\n",
        c.head
    ));
    s.push_str(&diff_lines(&c.current_state, c));
    s.push_str(&format!(
        "  and against the state at the fork point {} (it competes with the AUMs after it):\n",
        c.fork_parent
    ));
    s.push_str(&diff_lines(&c.fork_state, c));
    let dv = c.new_state.disablement_values().count();
    s.push_str(&format!(
        "    disablement values: {dv}; state IDs: {} / {}\n",
        c.new_state.state_id1, c.new_state.state_id2
    ));
    s.push_str(&format!(
        "  pre-signature hash (SigHash, what the token signs; compare it with the other signers'): {}\n",
        crate::tka::hex::lower(&aum.sig_hash())
    ));
    s
}

/// Checks a received blob before anything is signed or written: existing
/// signatures, and that it is exactly the revocation this machine rebuilds.
fn check_blob(authority: &Authority, aum: &Aum) -> anyhow::Result<CheckedRecovery> {
    check_existing_signatures(aum)?;
    Ok(recovery::check_rebuild(authority, aum)?)
}

/// Refuses an existing `--out` (or `--envelope-out`) without `--force`
/// before any token is opened, so a PIN is never typed for a write that
/// must fail.
fn check_outputs_free(args: &RevokeArgs) -> anyhow::Result<()> {
    if args.force {
        return Ok(());
    }
    for path in [args.out.as_ref(), args.confirm.envelope_out.as_ref()]
        .into_iter()
        .flatten()
    {
        if path.exists() {
            bail!(
                "{} already exists; choose another --out or pass --force to replace it (nothing was signed)",
                crate::shown::path(path)
            );
        }
    }
    Ok(())
}

/// The first step of a recovery, built and checked before any token is
/// opened. The fork point upstream's `MakeRetroactiveRevocation` picks
/// depends on the signing key (the newest AUM where it is trusted and the
/// revoked keys are not), and the key is known only once its token is
/// open; so the revocation is built and checked (rebuild, tally) for every
/// key that could sign it: each trusted key not being revoked. With
/// `--fork-from` there is one candidate. Returns (signing key, AUM) pairs.
fn first_step_candidates(
    authority: &Authority,
    args: &RevokeArgs,
) -> anyhow::Result<Vec<(Option<Vec<u8>>, Aum)>> {
    if args.keys.is_empty() {
        bail!("missing argument: the tailnet lock keys to revoke (tlpub:HEX), or --cosign BLOB / --finish BLOB");
    }
    let revoke: Vec<Vec<u8>> = args
        .keys
        .iter()
        .map(|k| {
            parse_lock_key(k)
                .map(|b| b.to_vec())
                .with_context(|| format!("key {:?}", crate::shown::Untrusted::from(k.as_str())))
        })
        .collect::<anyhow::Result<_>>()?;
    for (k, text) in revoke.iter().zip(&args.keys) {
        if !authority.key_trusted(k) {
            bail!(
                "key {} is not trusted by this authority (head {}): only trusted keys can be revoked",
                crate::shown::Untrusted::from(text.as_str()),
                authority.head()
            );
        }
    }
    let fork_from = args.fork_from.as_deref().map(parse_fork_from).transpose()?;
    let build = |our_key: &[u8]| -> anyhow::Result<Aum> {
        let aum = recovery::make_retroactive_revocation(authority, &revoke, our_key, fork_from)
            .context("building the recovery AUM")?;
        check_blob(authority, &aum)?;
        recovery::tally(authority, &aum).context("the recovery does not fork this authority")?;
        Ok(aum)
    };
    if fork_from.is_some() {
        return Ok(vec![(None, build(&[])?)]);
    }
    let mut candidates = Vec::new();
    let mut first_error = None;
    for key in authority.keys() {
        let Some(public) = key.public.as_deref() else {
            continue;
        };
        if revoke.iter().any(|r| r == public) {
            continue;
        }
        match build(public) {
            Ok(aum) => candidates.push((Some(public.to_vec()), aum)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if candidates.is_empty() {
        return Err(first_error.unwrap_or_else(|| {
            anyhow::anyhow!(
                "cannot revoke all trusted keys: no trusted key would be left to sign the recovery"
            )
        }));
    }
    Ok(candidates)
}

/// The prepared recovery for the opened signer's key. The one check that
/// needs the key itself (it must be trusted and not revoked) comes after
/// the token is open, and before anything is signed.
fn pick_candidate(
    candidates: Vec<(Option<Vec<u8>>, Aum)>,
    our_key: &[u8],
    authority: &Authority,
) -> anyhow::Result<Aum> {
    let mut fallback = None;
    for (key, aum) in candidates {
        match key {
            None => fallback = Some(aum),
            Some(k) if k == our_key => return Ok(aum),
            Some(_) => {}
        }
    }
    fallback.ok_or_else(|| {
        anyhow::anyhow!(
            "the signer's key {} is not a trusted key of this authority (head {}) that this recovery leaves in place; sign with a key that stays trusted (nothing was signed)",
            tlpub_text(our_key),
            authority.head()
        )
    })
}

pub fn run(args: RevokeArgs) -> anyhow::Result<()> {
    let authority = args.source.authority_for_signing()?;
    if let Some(blob) = &args.finish {
        return finish(&authority, blob, &args);
    }
    let signer_args = SignerArgs {
        signers: args.signers.clone(),
        allow_extractable: args.allow_extractable,
        allow_imported: args.allow_imported,
        pkcs11_token: None,
        pkcs11_module: None,
        key_label: None,
        key_id: None,
        pin_source: None,
    };
    if signer_args.signers.len() != 1 {
        bail!("give exactly one --signer: the key that signs this step of the recovery");
    }
    // Every check runs before any token is opened (no PIN prompt): the
    // outputs are free, a received blob is checked whole, a first step is
    // built and checked for each key that could sign it, and the lockout
    // preview is accepted.
    check_outputs_free(&args)?;
    let (prepared, lockout_text) = match &args.cosign {
        Some(blob) => {
            let aum = read_blob(blob)?;
            let c = check_blob(&authority, &aum)?;
            recovery::tally(&authority, &aum).context("the blob does not fork this authority")?;
            let text = lockout_gate(&args, c.head, &c.current_state, &c.new_state)?;
            (vec![(None, aum)], text)
        }
        None => {
            let prepared = first_step_candidates(&authority, &args)?;
            let keys: Vec<[u8; 32]> = args
                .keys
                .iter()
                .filter_map(|k| parse_lock_key(k).ok())
                .collect();
            let after = crate::lockout::without_keys(authority.state(), &keys);
            let text = if keys.is_empty() {
                String::new()
            } else {
                lockout_gate(&args, authority.head(), authority.state(), &after)?
            };
            (prepared, text)
        }
    };
    super::record::guard(&args.confirm.record);
    let mut signers = open_signers(&signer_args)?;
    let our_key = signers[0].public_key();
    let mut aum = pick_candidate(prepared, &our_key, &authority)?;
    let checked = check_blob(&authority, &aum)?;
    let before =
        recovery::tally(&authority, &aum).context("the blob does not fork this authority")?;
    let summary = format!(
        "About to {} a recovery (revoke-keys) AUM:\n{}{}{}{}",
        if args.cosign.is_some() {
            "cosign"
        } else {
            "start and sign"
        },
        signers_text(&signers),
        recovery_text(&checked, &aum),
        tally_text(&before, &authority, &aum),
        lockout_text
    );
    confirm(&summary, "sign the recovery AUM", args.confirm.yes)?;
    let received = aum.serialize();
    cosign(&mut aum, signers[0].as_mut())?;
    let after = recovery::tally(&authority, &aum)?;
    write_recovery(&args, &aum)?;
    let blob = cli_blob(&aum);
    super::record::record(
        &args.confirm.record,
        super::record::store_of(&args.source.chain, &args.source.store).as_deref(),
        crate::transcript::Entry::new(
            if args.cosign.is_some() {
                "lock revoke-keys --cosign"
            } else {
                "lock revoke-keys"
            },
            &summary,
        )
        .input(
            format!("authority head AUM {}", authority.head()),
            &authority.head_aum().serialize(),
        )
        .input("recovery AUM as received", &received)
        .signed([aum.sig_hash()])
        .output(format!("recovery AUM {}", aum.hash()), &aum.serialize()),
        &mut signers,
    )?;
    if args.confirm.json {
        print_json(&json!({
            "blob": blob,
            "recovery": render::aum_json(&aum),
            "sig_hash": crate::tka::hex::lower(&aum.sig_hash()),
            "revoked": checked.revoked.iter().map(render::key_json).collect::<Vec<_>>(),
            "signers": signers_json(&signers),
            "weight": after.weight,
            "max_sibling_weight": after.max_sibling_weight,
            "enough": after.chosen,
            "votes_needed": after.votes_needed,
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
        aum.hash()
    );
    for line in tally_text(&after, &authority, &aum).lines() {
        outln!("{line}");
    }
    outln!();
    outln!("To add another signature, run on a machine with another trusted key:");
    outln!("  locksmith lock revoke-keys --cosign {blob} --signer SPEC");
    outln!("  tailscale lock revoke-keys --cosign {blob}");
    outln!();
    if after.chosen {
        outln!("The signatures are enough. To finish, run:");
    } else {
        outln!("When enough have signed, finish with:");
    }
    outln!("  locksmith lock revoke-keys --finish {blob}");
    outln!("  tailscale lock revoke-keys --finish {blob}");
    if args.confirm.qr {
        super::signing::show_qr(crate::exchange::ArtifactKind::RecoveryAum, &aum.serialize())?;
    }
    Ok(())
}

fn finish(authority: &Authority, blob: &str, args: &RevokeArgs) -> anyhow::Result<()> {
    let aum = read_blob(blob)?;
    let checked = check_blob(authority, &aum)?;
    lockout_gate(
        args,
        checked.head,
        &checked.current_state,
        &checked.new_state,
    )?;
    let t = recovery::tally(authority, &aum).context("the blob does not fork this authority")?;
    if !t.chosen {
        bail!(
            "not enough signatures: {} signing votes against {} for the competing branch; {} more vote(s) needed. Collect more with `locksmith lock revoke-keys --cosign BLOB`{}",
            t.weight,
            t.max_sibling_weight,
            t.votes_needed.max(1),
            t.inform_error.as_ref().map(|e| format!(" ({e})")).unwrap_or_default()
        );
    }
    write_recovery(args, &aum)?;
    // The local store follows the recovery branch from now on.
    if args.source.chain.is_empty() {
        let dir = args
            .source
            .store
            .clone()
            .unwrap_or_else(crate::store::Store::default_dir);
        let store = crate::store::Store::open(&dir, true)?;
        let (after, added) = store.import(vec![aum.clone()])?;
        if added > 0 {
            eprintln!(
                "stored the recovery AUM in {}; its head is now {}",
                dir.display(),
                after.head()
            );
        }
    }
    let blob = cli_blob(&aum);
    if args.confirm.json {
        print_json(&json!({
            "blob": blob,
            "recovery": render::aum_json(&aum),
            "sig_hash": crate::tka::hex::lower(&aum.sig_hash()),
            "revoked": checked.revoked.iter().map(render::key_json).collect::<Vec<_>>(),
            "weight": t.weight,
            "max_sibling_weight": t.max_sibling_weight,
            "enough": true,
            "tailscale_finish": format!("tailscale lock revoke-keys --finish {blob}"),
        }));
        return Ok(());
    }
    outln!("The recovery AUM {} has enough signatures:", aum.hash());
    for line in recovery_text(&checked, &aum).lines() {
        outln!("{line}");
    }
    for line in tally_text(&t, authority, &aum).lines() {
        outln!("{line}");
    }
    outln!();
    outln!("Submit it from an online node:");
    outln!("  tailscale lock revoke-keys --finish {blob}");
    if args.confirm.qr {
        super::signing::show_qr(crate::exchange::ArtifactKind::RecoveryAum, &aum.serialize())?;
    }
    Ok(())
}
