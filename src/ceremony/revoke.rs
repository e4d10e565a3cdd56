//! `lock revoke-keys`: start, cosign and finish a retroactive revocation
//! on the pipeline (blobs byte-compatible with `tailscale lock
//! revoke-keys`).
//!
//! - **preflight**: every output path checked; the authority loaded (and
//!   pinned); the keys to revoke parsed once; the blob read (cosign,
//!   finish) or built (start) and checked against the revocation this
//!   machine rebuilds from its own authority ([`recovery::check_rebuild`]:
//!   the SigHash must be the rebuilt one, each difference named); the
//!   lockout gate (`--accept-lockout`); finish: the signatures must be
//!   enough. Only then the air-gap guard and the signer (PIN prompt),
//!   matched to the prepared recovery;
//! - **plan**: the recovery AUM to sign (finish: the one to submit);
//! - **show**: the whole new state as a diff against the state now and at
//!   the fork point, the SigHash (what witnesses compare), the tally and
//!   the lockout preview;
//! - **confirm**: a typed `yes` or `--yes` (finish signs nothing and asks
//!   nothing, as upstream's `--finish`);
//! - **sign**: the token's signature, verified, added to the blob;
//! - **commit**: the recovery AUM file(s) (`--out`, `--envelope-out`,
//!   `--respond-to`), the store's new AUM (finish on a store) and the
//!   transcript record as one [`CommitUnit`].
//!
//! The pure logic (rebuild, diff, tally) is in [`crate::tka::recovery`].

use super::chain::ChainRequest;
use super::commit::{check_target, CommitUnit, Existing, Parent};
use super::lockout_gate::lockout_gate;
use super::outputs::PrimaryOutput;
use super::pipeline::{Ceremony, Shown};
use super::record::{RecordOptions, Staged};
use super::signers::SignerRequest;
use super::terminal::Terminal;
use crate::ceremony::error::{bail, Context};
use crate::input::{identify, Artifact, Input};
use crate::lockout::Acceptance;
use crate::tka::keyforms::{parse_lock_key, tlpub_text};
use crate::tka::recovery::{self, CheckedRecovery, RecoveryTally};
use crate::tka::signer::Signer;
use crate::tka::{Aum, AumHash, AumKind, Authority, Key, State};
use std::path::PathBuf;

/// Which step of a recovery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Start: revoke these keys (`tlpub:HEX`), optionally forking from a
    /// given AUM (base32 or hex hash).
    Start {
        keys: Vec<String>,
        fork_from: Option<String>,
    },
    /// Add the signer's signature to a received blob (hex, a file or `-`).
    Cosign { blob: String },
    /// Check a blob's tally; on a store, store it.
    Finish { blob: String },
}

/// Who is in the room and where the record goes.
#[derive(Clone, Debug, Default)]
pub struct RecordRequest {
    pub operator: Option<String>,
    pub witnesses: Vec<String>,
    pub transcript: Option<PathBuf>,
    pub allow_network: bool,
}

/// A `lock revoke-keys` request: plain values, parsed from the command line.
#[derive(Clone, Debug)]
pub struct RevokeRequest {
    pub step: Step,
    /// Signer specs (exactly one for start and cosign; none needed to finish).
    pub signers: Vec<String>,
    pub allow_extractable: bool,
    pub allow_imported: bool,
    /// `--chain` inputs (empty: the store).
    pub chain: Vec<String>,
    pub store: Option<PathBuf>,
    pub unpinned: bool,
    /// Where the recovery AUM goes (raw CBOR, or a response with `respond_to`).
    pub out: Option<PathBuf>,
    pub envelope_out: Option<PathBuf>,
    pub respond_to: Option<PathBuf>,
    pub force: bool,
    pub accept_lockout: Option<Acceptance>,
    pub record: RecordRequest,
}

impl RevokeRequest {
    /// The store this command works on, if it uses one.
    pub fn store_dir(&self) -> Option<PathBuf> {
        super::record::store_of(&self.chain, &self.store)
    }

    fn record_options(&self) -> RecordOptions {
        RecordOptions {
            operator: self.record.operator.clone(),
            witnesses: self.record.witnesses.clone(),
            transcript: self.record.transcript.clone(),
            allow_network: self.record.allow_network,
        }
    }

    fn primary(&self) -> PrimaryOutput {
        PrimaryOutput {
            respond_to: self.respond_to.clone(),
            envelope_out: self.envelope_out.clone(),
            force: self.force,
        }
    }

    fn signer_request(&self) -> SignerRequest {
        SignerRequest {
            specs: self.signers.clone(),
            pkcs11_token: None,
            pkcs11_module: None,
            key_label: None,
            key_id: None,
            pin_source: None,
            allow_extractable: self.allow_extractable,
            allow_imported: self.allow_imported,
        }
    }

    fn authority(&self, term: &mut dyn Terminal) -> crate::ceremony::error::Result<Authority> {
        ChainRequest {
            chain: self.chain.clone(),
            store: self.store.clone(),
            unpinned: self.unpinned,
        }
        .authority_for_signing(term)
    }
}

/// What preflight prepared: the checked recovery, its tally before this
/// step, and (finish on a store) where the store keeps it.
struct Prepared {
    aum: Aum,
    checked: CheckedRecovery,
    tally: RecoveryTally,
    lockout: String,
    store_file: Option<PathBuf>,
}

/// The result of a step: the blob as it is now and its tally.
pub struct Signed {
    pub aum: Aum,
    pub tally: RecoveryTally,
    /// The keys the recovery revokes.
    pub revoked: Vec<Key>,
}

/// `lock revoke-keys` start, cosign or finish.
pub struct RevokeCeremony {
    pub request: RevokeRequest,
    authority: Option<Authority>,
    prepared: Option<Prepared>,
    signers: Vec<Box<dyn Signer>>,
    /// The staged transcript record (start, cosign).
    pub record: Option<Staged>,
    /// What to do with a `--respond-to` response.
    pub note: Option<String>,
}

impl RevokeCeremony {
    pub fn new(request: RevokeRequest) -> Self {
        RevokeCeremony {
            request,
            authority: None,
            prepared: None,
            signers: Vec::new(),
            record: None,
            note: None,
        }
    }

    /// The opened signers (after preflight).
    pub fn signers(&self) -> &[Box<dyn Signer>] {
        &self.signers
    }

    /// The authority (after preflight).
    pub fn authority(&self) -> crate::ceremony::error::Result<&Authority> {
        self.authority
            .as_ref()
            .context("no authority (preflight did not run)")
    }

    /// Whether this is a cosign.
    pub fn is_cosign(&self) -> bool {
        matches!(self.request.step, Step::Cosign { .. })
    }

    fn prepared(&self) -> crate::ceremony::error::Result<&Prepared> {
        self.prepared
            .as_ref()
            .context("nothing prepared (preflight did not run)")
    }

    /// Text of the tally (also printed after signing).
    pub fn tally_text(&self, tally: &RecoveryTally, aum: &Aum) -> String {
        match &self.authority {
            Some(a) => tally_text(tally, a, aum),
            None => String::new(),
        }
    }

    /// Every output path, checked before anything is read from a token.
    fn check_outputs(&self) -> crate::ceremony::error::Result<()> {
        let r = &self.request;
        if let Some(out) = &r.out {
            r.primary().check(out)?;
        } else if let Some(env) = &r.envelope_out {
            check_target(env, Existing::from_force(r.force), Parent::MustExist)?;
        }
        if !matches!(r.step, Step::Finish { .. }) {
            super::record::check_destination(&r.record_options(), r.store_dir().as_deref())?;
        }
        Ok(())
    }
}

/// The journal of a `lock revoke-keys`: in the store, else beside the output.
fn journal_of(r: &RevokeRequest) -> PathBuf {
    super::commit::journal_path(
        r.store_dir().as_deref(),
        r.out
            .clone()
            .or_else(|| r.envelope_out.clone())
            .or_else(|| r.record.transcript.clone()),
    )
}

impl Ceremony for RevokeCeremony {
    type Plan = Aum;
    type Signed = Signed;

    fn journal(&self) -> PathBuf {
        journal_of(&self.request)
    }

    fn needs_confirmation(&self) -> bool {
        // Finish signs nothing (upstream's `--finish` asks nothing either).
        !matches!(self.request.step, Step::Finish { .. })
    }

    fn preflight(&mut self, term: &mut dyn Terminal) -> crate::ceremony::error::Result<()> {
        let signing = !matches!(self.request.step, Step::Finish { .. });
        if signing && self.request.signers.len() != 1 {
            bail!("give exactly one --signer: the key that signs this step of the recovery");
        }
        self.check_outputs()?;
        let authority = self.request.authority(term)?;
        let r = &self.request;
        // The lockout gate's store: the one given, else the default.
        let lockout_store = r
            .store
            .clone()
            .unwrap_or_else(crate::store::Store::default_dir);
        let (candidates, lockout) = match &r.step {
            Step::Start { keys, fork_from } => {
                let revoke = parse_keys(&authority, keys)?;
                let fork_from = fork_from.as_deref().map(parse_fork_from).transpose()?;
                let candidates = start_candidates(&authority, &revoke, fork_from)?;
                let after = crate::lockout::without_keys(authority.state(), &revoke);
                let lockout = lockout_gate(
                    term,
                    &lockout_store,
                    authority.head(),
                    authority.state(),
                    &after,
                    r.accept_lockout,
                )?;
                (candidates, lockout)
            }
            Step::Cosign { blob } | Step::Finish { blob } => {
                let aum = read_blob(blob)?;
                let checked = check_blob(&authority, &aum)?;
                let tally = recovery::tally(&authority, &aum)
                    .context("the blob does not fork this authority")?;
                let lockout = lockout_gate(
                    term,
                    &lockout_store,
                    checked.head,
                    &checked.current_state,
                    &checked.new_state,
                    r.accept_lockout,
                )?;
                if matches!(r.step, Step::Finish { .. }) && !tally.chosen {
                    bail!(
                        "not enough signatures: {} signing votes against {} for the competing branch; {} more vote(s) needed. Collect more with `locksmith lock revoke-keys --cosign BLOB`{}",
                        tally.weight,
                        tally.max_sibling_weight,
                        tally.votes_needed.max(1),
                        tally.inform_error.as_ref().map(|e| format!(" ({})", crate::shown::escape(e))).unwrap_or_default()
                    );
                }
                (
                    vec![Candidate {
                        key: None,
                        aum,
                        checked,
                        tally,
                    }],
                    lockout,
                )
            }
        };
        // Finish on a store: the store follows the recovery branch from now on.
        let store_file = match (&r.step, r.store_dir()) {
            (Step::Finish { .. }, Some(dir)) => {
                let aum = &candidates[0].aum;
                let file = crate::store::Store::aum_file(&dir, &aum.hash());
                if authority.tree().get(&aum.hash()).is_some() {
                    None
                } else {
                    check_target(&file, Existing::Refuse, Parent::MustExist)?;
                    Some(file)
                }
            }
            _ => None,
        };
        let candidate = if signing {
            super::record::guard(&r.record_options(), term);
            self.signers = r.signer_request().open(term)?;
            let our_key = self.signers[0].public_key();
            let c = pick_candidate(candidates, &our_key, &authority)?;
            if c.aum.signatures().iter().any(|s| s.key_id() == our_key) {
                bail!(
                    "key {} has already signed this recovery AUM; a second signature from the same key adds no votes: cosign with another trusted key (nothing was signed)",
                    tlpub_text(&our_key)
                );
            }
            c
        } else {
            candidates
                .into_iter()
                .next()
                .context("no recovery prepared")?
        };
        self.prepared = Some(Prepared {
            aum: candidate.aum,
            checked: candidate.checked,
            tally: candidate.tally,
            lockout,
            store_file,
        });
        self.authority = Some(authority);
        Ok(())
    }

    fn plan(&mut self) -> crate::ceremony::error::Result<Aum> {
        Ok(self.prepared()?.aum.clone())
    }

    fn show(&self, aum: &Aum) -> Shown {
        let (Ok(p), Ok(authority)) = (self.prepared(), self.authority()) else {
            return Shown {
                text: String::new(),
                action: "sign the recovery AUM".into(),
            };
        };
        let (head, action) = match &self.request.step {
            Step::Start { .. } => (
                format!(
                    "About to start and sign a recovery (revoke-keys) AUM:\n{}",
                    super::signers::signers_text(&self.signers)
                ),
                "sign the recovery AUM",
            ),
            Step::Cosign { .. } => (
                format!(
                    "About to cosign a recovery (revoke-keys) AUM:\n{}",
                    super::signers::signers_text(&self.signers)
                ),
                "sign the recovery AUM",
            ),
            Step::Finish { .. } => (
                format!(
                    "The recovery AUM {} has enough signatures{}:\n",
                    aum.hash(),
                    match &p.store_file {
                        Some(_) =>
                            "; it is stored in the local store, whose head follows it from now on",
                        None => "",
                    }
                ),
                "finish the recovery",
            ),
        };
        let text = format!(
            "{head}{}{}{}",
            recovery_text(
                &p.checked,
                aum,
                !matches!(self.request.step, Step::Finish { .. })
            ),
            tally_text(&p.tally, authority, aum),
            p.lockout
        );
        Shown {
            text: crate::shown::for_terminal(&text).into_owned(),
            action: action.into(),
        }
    }

    fn sign(&mut self, mut aum: Aum) -> crate::ceremony::error::Result<Signed> {
        if !matches!(self.request.step, Step::Finish { .. }) {
            let signer = self
                .signers
                .first_mut()
                .context("no signer (preflight did not run)")?;
            // Verifies the existing signatures and the new one.
            recovery::cosign(&mut aum, signer.as_mut())?;
            recovery::check_existing_signatures(&aum)?;
        }
        let authority = self.authority()?;
        let tally = recovery::tally(authority, &aum)?;
        Ok(Signed {
            aum,
            tally,
            revoked: self.prepared()?.checked.revoked.clone(),
        })
    }

    fn stage(
        &mut self,
        signed: &Signed,
        shown: &Shown,
        unit: &mut CommitUnit,
    ) -> crate::ceremony::error::Result<()> {
        let r = &self.request;
        let bytes = signed.aum.serialize();
        match (&r.out, &r.envelope_out) {
            (Some(out), _) => {
                self.note = r.primary().stage(
                    unit,
                    out,
                    crate::exchange::ArtifactKind::RecoveryAum,
                    &bytes,
                )?;
            }
            (None, Some(env)) => {
                let envelope = crate::exchange::Envelope::new(
                    crate::exchange::ArtifactKind::RecoveryAum,
                    bytes.clone(),
                );
                unit.add(
                    env,
                    envelope.to_bytes(),
                    Existing::from_force(r.force),
                    Parent::MustExist,
                )?;
            }
            (None, None) => {}
        }
        let p = self.prepared()?;
        if let Some(file) = &p.store_file {
            unit.add(file, bytes.clone(), Existing::Refuse, Parent::MustExist)?;
        }
        if let Step::Finish { .. } = r.step {
            // Nothing was signed, so there is no signer to sign a record.
            return Ok(());
        }
        let authority = self.authority()?;
        let entry = crate::transcript::Entry::new(
            if self.is_cosign() {
                "lock revoke-keys --cosign"
            } else {
                "lock revoke-keys"
            },
            &shown.text,
        )
        .input(
            format!("authority head AUM {}", authority.head()),
            &authority.head_aum().serialize(),
        )
        .input("recovery AUM as received", &p.aum.serialize())
        .signed([signed.aum.sig_hash()])
        .output(format!("recovery AUM {}", signed.aum.hash()), &bytes);
        let store = r.store_dir();
        self.record = super::record::stage(
            &r.record_options(),
            store.as_deref(),
            entry,
            &mut self.signers,
            unit,
        )?;
        Ok(())
    }
}

/// A first step built and checked for one key that could sign it.
struct Candidate {
    /// The signing key it was built for (`None`: any, with `--fork-from`).
    key: Option<Vec<u8>>,
    aum: Aum,
    checked: CheckedRecovery,
    tally: RecoveryTally,
}

/// The keys to revoke, parsed once, each trusted now.
fn parse_keys(
    authority: &Authority,
    keys: &[String],
) -> crate::ceremony::error::Result<Vec<[u8; 32]>> {
    if keys.is_empty() {
        bail!("missing argument: the tailnet lock keys to revoke (tlpub:HEX), or --cosign BLOB / --finish BLOB");
    }
    keys.iter()
        .map(|text| {
            let k = parse_lock_key(text)
                .with_context(|| format!("key {:?}", crate::shown::Untrusted::from(text.as_str())))?;
            if !authority.key_trusted(&k) {
                bail!(
                    "key {} is not trusted by this authority (head {}): only trusted keys can be revoked",
                    crate::shown::Untrusted::from(text.as_str()),
                    authority.head()
                );
            }
            Ok(k)
        })
        .collect()
}

fn parse_fork_from(text: &str) -> crate::ceremony::error::Result<AumHash> {
    if text.len() == 64 {
        let b = crate::tka::hex::decode(text).context("--fork-from: invalid hex hash")?;
        let arr: [u8; 32] = b
            .try_into()
            .map_err(|_| crate::ceremony::error::refusal!("--fork-from: not 32 bytes"))?;
        return Ok(AumHash(arr));
    }
    text.parse::<AumHash>().context("--fork-from")
}

/// Reads a recovery blob: an AUM that is a checkpoint with a parent.
fn read_blob(arg: &str) -> crate::ceremony::error::Result<Aum> {
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

/// Checks a blob before anything is signed or written: its existing
/// signatures, and that it is exactly the revocation this machine rebuilds.
fn check_blob(authority: &Authority, aum: &Aum) -> crate::ceremony::error::Result<CheckedRecovery> {
    recovery::check_existing_signatures(aum)?;
    Ok(recovery::check_rebuild(authority, aum)?)
}

/// The first step, built and checked before any token is opened. The fork
/// point upstream's `MakeRetroactiveRevocation` picks depends on the
/// signing key (the newest AUM where it is trusted and the revoked keys
/// are not), and the key is known only once its token is open; so the
/// revocation is built and checked (rebuild, tally) for every key that
/// could sign it: each trusted key not being revoked. With `--fork-from`
/// there is one candidate.
fn start_candidates(
    authority: &Authority,
    revoke: &[[u8; 32]],
    fork_from: Option<AumHash>,
) -> crate::ceremony::error::Result<Vec<Candidate>> {
    let revoke: Vec<Vec<u8>> = revoke.iter().map(|k| k.to_vec()).collect();
    let build = |our_key: &[u8]| -> crate::ceremony::error::Result<Candidate> {
        let aum = recovery::make_retroactive_revocation(authority, &revoke, our_key, fork_from)
            .context("building the recovery AUM")?;
        let checked = check_blob(authority, &aum)?;
        let tally = recovery::tally(authority, &aum)
            .context("the recovery does not fork this authority")?;
        Ok(Candidate {
            key: None,
            aum,
            checked,
            tally,
        })
    };
    if fork_from.is_some() {
        return Ok(vec![build(&[])?]);
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
            Ok(c) => candidates.push(Candidate {
                key: Some(public.to_vec()),
                ..c
            }),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if candidates.is_empty() {
        return Err(first_error.unwrap_or_else(|| {
            crate::ceremony::error::refusal!(
                "cannot revoke all trusted keys: no trusted key would be left to sign the recovery"
            )
        }));
    }
    Ok(candidates)
}

/// The prepared recovery for the opened signer's key: it must be a
/// trusted key that the recovery leaves in place.
fn pick_candidate(
    candidates: Vec<Candidate>,
    our_key: &[u8],
    authority: &Authority,
) -> crate::ceremony::error::Result<Candidate> {
    let mut fallback = None;
    for c in candidates {
        match &c.key {
            None => fallback = Some(c),
            Some(k) if k == our_key => return Ok(c),
            Some(_) => {}
        }
    }
    fallback.ok_or_else(|| {
        crate::ceremony::error::refusal!(
            "the signer's key {} is not a trusted key of this authority (head {}) that this recovery leaves in place; sign with a key that stays trusted (nothing was signed)",
            tlpub_text(our_key),
            authority.head()
        )
    })
}

/// The tally of a recovery: who signed, with how many votes at the fork
/// point, against the competing branches, and what is still needed.
pub fn tally_text(t: &RecoveryTally, authority: &Authority, aum: &Aum) -> String {
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
    s.push_str(&format!("  status:     {}\n", status_line(t, aum)));
    if let Some(problem) = real_problem(t, aum) {
        s.push_str(&format!(
            "  problem:    {}\n",
            crate::shown::escape(problem)
        ));
    }
    s
}

/// One line on where the recovery stands: votes collected and needed.
pub fn status_line(t: &RecoveryTally, aum: &Aum) -> String {
    let signers = aum.signatures().len();
    if signers == 0 {
        return format!(
            "not signed yet; {} vote(s) needed to beat the competing branch ({} votes)",
            t.max_sibling_weight + 1,
            t.max_sibling_weight
        );
    }
    if t.chosen {
        return format!(
            "{} vote(s) collected from {signers} signer(s): enough",
            t.weight
        );
    }
    format!(
        "{} vote(s) collected from {signers} signer(s), {} needed: {} more; each further key holder cosigns",
        t.weight,
        t.weight + t.votes_needed.max(1),
        t.votes_needed.max(1)
    )
}

/// Why the recovery cannot be applied, when that is a real problem. A
/// recovery nobody has signed yet (the first step, before it is signed)
/// is not applicable by design: that is its status, not a problem; nor is
/// a recovery that verifies but is outvoted so far (the tally says so).
pub fn real_problem<'a>(t: &'a RecoveryTally, aum: &Aum) -> Option<&'a str> {
    match &t.inform_error {
        Some(_) if aum.signatures().is_empty() => None,
        Some(e) => Some(e.as_str()),
        None => None,
    }
}

/// `before` -> the recovery's new state, one line per key and change.
fn diff_lines(before: &State, c: &CheckedRecovery) -> String {
    use super::render::key_line;
    use recovery::StateChange as C;
    let mut s = String::new();
    let revoked = |k: &Key| c.revoked.iter().any(|r| r.public == k.public);
    for change in recovery::state_diff(before, &c.new_state) {
        let line = match change {
            C::KeptKey(k) => format!("      key {}", key_line(&k)),
            C::RemovedKey(k) if revoked(&k) => {
                format!("    - key {}   (revoked)", key_line(&k))
            }
            C::RemovedKey(k) => format!(
                "    - key {}   (not trusted now; stays untrusted)",
                key_line(&k)
            ),
            C::AddedKey(k) => format!("    + key {}   (trusted now; stays trusted)", key_line(&k)),
            C::ChangedKey { before, after } => format!(
                "    ~ key {} -> {}   (as it is now)",
                key_line(&before),
                key_line(&after)
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

/// The whole state the recovery installs, as a diff against the state now
/// and at its fork point, and the hash the witnesses compare (the SigHash,
/// which signatures do not change; the AUM's own hash does change).
fn recovery_text(c: &CheckedRecovery, aum: &Aum, signing: bool) -> String {
    let mut s = String::new();
    for k in &c.revoked {
        s.push_str(&format!("  REVOKES:    {}\n", super::render::key_line(k)));
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
    if signing {
        s.push_str(&format!(
            "  AUM hash with the {} signature(s) so far: {} (not the value to compare: it changes with each signature; the final hash is printed after signing)\n",
            aum.signatures().len(),
            aum.hash()
        ));
    }
    s
}
