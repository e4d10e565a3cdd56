//! Ed25519 keys in YubiKey PIV slots (firmware 5.7+), through the
//! `yubikey` crate over PC/SC.
//!
//! - A card is chosen by serial; without one, the only YubiKey present is
//!   used and several present are an error, never a guess.
//! - The slot's algorithm, policies and public key come from GET METADATA.
//! - The PIN is asked for only when the key's PIN policy needs it, once per
//!   batch for policy "once", before every signature for policy "always"
//!   (then it is kept, zeroized on drop, for the batch). A wrong PIN is
//!   reported with the tries left and never retried.
//! - Keys are generated on the card; a self-signed certificate is written
//!   to the slot so other tools see the key, and the card's attestation
//!   (INS F9) is fetched, checked and returned with the key's record.
//!
//! Known limitation: the `yubikey` crate keeps its own copy of a verified
//! PIN inside the `YubiKey` handle (`CachedPin`, not zeroized by the crate);
//! locksmith drops the handle (which also resets the card) when the signer
//! is dropped.

use super::pin::{obtain_pin, Pin, PinSource};
use super::piv_attestation::{self, Attestation, TrustStore, Verdict};
use super::spec::{YubiKeySpec, PIV_KEY_SLOTS};
use super::x509;
use super::{
    tlpub, Error, GenerateOptions, KeyInfo, OpenOptions, PinPolicyArg, TokenInfo, TouchPolicyArg,
    TriesLeft,
};
use crate::tka::signer::{KeyCustody, Signer, SignerError};
use ::yubikey::certificate::CertInfo;
use ::yubikey::piv::{self, AlgorithmId, ManagementSlotId, Origin, SlotAlgorithmId, SlotId};
use ::yubikey::{
    Certificate, Context, Error as YkError, MgmAlgorithmId, MgmKey, PinPolicy, Serial, TouchPolicy,
    Version, YubiKey,
};

/// Ed25519 on PIV needs firmware 5.7 or later.
pub const MIN_ED25519_VERSION: Version = Version {
    major: 5,
    minor: 7,
    patch: 0,
};
const DEFAULT_MGMT_KEY: [u8; 24] = [
    1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
];
const ATTESTATION_OBJECT: u32 = 0x5fff01;

fn yk_err(message: impl Into<String>, e: YkError) -> Error {
    Error::YubiKey {
        message: format!("{}: {e}", message.into()),
        source: Some(e),
    }
}

fn yk_msg(message: impl Into<String>) -> Error {
    Error::YubiKey {
        message: message.into(),
        source: None,
    }
}

/// Explains a PC/SC failure with the next step.
fn pcsc_problem(e: &YkError) -> Option<String> {
    let YkError::PcscError { inner: Some(p) } = e else {
        return None;
    };
    Some(match p {
        pcsc::Error::NoService | pcsc::Error::ServiceStopped | pcsc::Error::CommError => {
            "pcscd is not running: start it (`systemctl start pcscd.socket`, or `pcscd` as root) \
             or install it (`apt-get install pcscd`)"
                .to_string()
        }
        pcsc::Error::NoReadersAvailable => {
            "no smart card reader found: plug in the YubiKey (and check its CCID interface is \
             enabled: `ykman config usb --enable PIV`)"
                .to_string()
        }
        pcsc::Error::NoSmartcard | pcsc::Error::RemovedCard => {
            "no card in the reader: insert the YubiKey".to_string()
        }
        pcsc::Error::SharingViolation => {
            "the YubiKey is in use by another program (gpg-agent/scdaemon?); close it and retry"
                .to_string()
        }
        other => format!("PC/SC error: {other}"),
    })
}

fn slot_name(slot: u8) -> String {
    format!("{slot:02x}")
}

fn slot_id(slot: u8) -> Result<SlotId, Error> {
    SlotId::try_from(slot).map_err(|_| Error::Spec(format!("{slot:02x} is not a PIV slot")))
}

fn card_name(yk: &YubiKey) -> String {
    format!("YubiKey serial {} (firmware {})", yk.serial(), yk.version())
}

fn check_version(yk: &YubiKey) -> Result<(), Error> {
    if yk.version() < MIN_ED25519_VERSION {
        return Err(Error::Refused(format!(
            "{} is too old for Ed25519: PIV Ed25519 needs firmware 5.7 or later (the firmware \
             cannot be upgraded; use a newer YubiKey, or a PKCS#11 token)",
            card_name(yk)
        )));
    }
    Ok(())
}

fn leave(yk: YubiKey) {
    let _ = yk.disconnect(pcsc::Disposition::LeaveCard);
}

/// Opens every YubiKey PC/SC can see; problems with single readers are
/// returned as notes.
fn open_all() -> Result<(Vec<YubiKey>, Vec<String>), Error> {
    let mut ctx = Context::open().map_err(|e| match pcsc_problem(&e) {
        Some(m) => yk_msg(m),
        None => yk_err("cannot talk to PC/SC", e),
    })?;
    let readers = match ctx.iter() {
        Ok(r) => r,
        Err(e) => {
            return Err(match pcsc_problem(&e) {
                Some(m) => yk_msg(m),
                None => yk_err("cannot list smart card readers", e),
            })
        }
    };
    let mut cards = Vec::new();
    let mut notes = Vec::new();
    for reader in readers {
        let name = reader.name().into_owned();
        match reader.open() {
            Ok(yk) => cards.push(yk),
            Err(e) => {
                let why = match &e {
                    YkError::PcscError {
                        inner: Some(pcsc::Error::NoSmartcard),
                    }
                    | YkError::PcscError {
                        inner: Some(pcsc::Error::RemovedCard),
                    } => "no card".to_string(),
                    YkError::AppletNotFound { .. }
                    | YkError::GenericError
                    | YkError::NotSupported => "not a YubiKey PIV card".to_string(),
                    other => pcsc_problem(other).unwrap_or_else(|| other.to_string()),
                };
                notes.push(format!("reader \"{name}\": {why}"));
            }
        }
    }
    Ok((cards, notes))
}

/// Opens the one YubiKey the serial names (or the only one present).
fn open_card(serial: Option<u32>) -> Result<YubiKey, Error> {
    let (cards, notes) = open_all()?;
    let present: Vec<String> = cards.iter().map(|c| c.serial().to_string()).collect();
    let noted = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    };
    let mut matching = Vec::new();
    for yk in cards {
        if serial.is_none_or(|s| yk.serial() == Serial(s)) {
            matching.push(yk);
        } else {
            leave(yk);
        }
    }
    match matching.len() {
        0 => Err(Error::NotFound(match serial {
            Some(s) if !present.is_empty() => format!(
                "no YubiKey with serial {s}; present: {}",
                present.join(", ")
            ),
            Some(s) => format!("no YubiKey with serial {s} found: insert it{noted}"),
            None => format!("no YubiKey found: insert one{noted}"),
        })),
        1 => Ok(matching.remove(0)),
        _ => {
            for yk in matching {
                leave(yk);
            }
            Err(Error::Ambiguous(format!(
                "several YubiKeys are present (serials {}); choose one with yubikey:serial=N",
                present.join(", ")
            )))
        }
    }
}

fn pin_tries_left(yk: &mut YubiKey) -> Option<u8> {
    match piv::metadata(yk, SlotId::Management(ManagementSlotId::Pin)) {
        Ok(m) => m.retries.map(|r| r.remaining_count),
        Err(_) => None,
    }
}

fn pin_blocked(what: String) -> Error {
    Error::PinLocked {
        what,
        next:
            "unblock it with the PUK (`ykman piv access unblock-pin`); if the PUK is blocked too, \
               the PIV application must be reset, which destroys its keys"
                .to_string(),
    }
}

/// Verifies the PIN once. Refuses a blocked card before asking; never retries.
fn verify_pin(yk: &mut YubiKey, source: Option<&PinSource>) -> Result<Pin, Error> {
    let what = card_name(yk);
    if pin_tries_left(yk) == Some(0) {
        return Err(pin_blocked(what));
    }
    let pin = obtain_pin(source, &what)?;
    verify_given_pin(yk, &pin)?;
    Ok(pin)
}

fn verify_given_pin(yk: &mut YubiKey, pin: &Pin) -> Result<(), Error> {
    let what = card_name(yk);
    if pin.as_bytes().len() > 8 {
        return Err(Error::WrongPin {
            what: format!("{what} (a PIV PIN has 6 to 8 characters; nothing was sent)"),
            tries_left: TriesLeft::Unknown,
        });
    }
    match yk.verify_pin(pin.as_bytes()) {
        Ok(()) => Ok(()),
        Err(YkError::WrongPin { tries: 0 }) | Err(YkError::PinLocked) => Err(pin_blocked(what)),
        Err(YkError::WrongPin { tries }) => Err(Error::WrongPin {
            what,
            tries_left: TriesLeft::Exactly(u32::from(tries)),
        }),
        Err(e) => Err(match pcsc_problem(&e) {
            Some(m) => yk_msg(m),
            None => yk_err(format!("PIN verification on {what} failed"), e),
        }),
    }
}

fn mgmt_alg_from_spec(name: &str) -> Option<MgmAlgorithmId> {
    Some(match name {
        "3des" | "tdes" => MgmAlgorithmId::ThreeDes,
        "aes128" => MgmAlgorithmId::Aes128,
        "aes192" => MgmAlgorithmId::Aes192,
        "aes256" => MgmAlgorithmId::Aes256,
        _ => return None,
    })
}

/// Authenticates with the management key: from `mgmt-key-source` (hex),
/// else the default key, else a PIN-protected key stored on the card.
fn authenticate_mgmt(yk: &mut YubiKey, spec: &YubiKeySpec) -> Result<(), Error> {
    let what = card_name(yk);
    let card_alg = match piv::metadata(yk, SlotId::Management(ManagementSlotId::Management)) {
        Ok(m) => match m.algorithm {
            SlotAlgorithmId::Management(a) => Some(a),
            _ => None,
        },
        // GET METADATA answers 6D00 on keys older than 5.3: 3DES.
        Err(YkError::NotSupported) => Some(MgmAlgorithmId::ThreeDes),
        Err(_) => None,
    };
    let alg = spec
        .mgmt_key_alg
        .as_deref()
        .and_then(mgmt_alg_from_spec)
        .or(card_alg)
        .unwrap_or(MgmAlgorithmId::ThreeDes);
    if let Some(source) = &spec.mgmt_key_source {
        let text = source.read("the PIV management key")?;
        let bytes = zeroize::Zeroizing::new(
            data_encoding::HEXLOWER_PERMISSIVE
                .decode(text.expose().trim().as_bytes())
                .map_err(|_| Error::Spec("the management key must be hex".into()))?,
        );
        let key = MgmKey::from_bytes(&bytes[..], Some(alg)).map_err(|_| {
            Error::Spec(format!(
                "the management key has {} bytes, which does not fit {alg:?}; give mgmt-key-alg=",
                bytes.len()
            ))
        })?;
        return yk.authenticate(&key).map_err(|e| match e {
            YkError::AuthenticationError => Error::Refused(format!(
                "{what} rejected the management key from mgmt-key-source ({alg:?})"
            )),
            other => yk_err("management key authentication failed", other),
        });
    }
    // The default key is 24 bytes: it exists as 3DES and AES-192 only.
    if let Ok(default) = MgmKey::from_bytes(DEFAULT_MGMT_KEY, Some(alg)) {
        match yk.authenticate(&default) {
            Ok(()) => return Ok(()),
            Err(YkError::AuthenticationError) => {}
            Err(e) => return Err(yk_err("management key authentication failed", e)),
        }
    }
    // A PIN-protected management key (`ykman piv access change-management-key --protect`).
    if let Ok(key) = MgmKey::get_protected(yk) {
        if yk.authenticate(&key).is_ok() {
            return Ok(());
        }
    }
    Err(Error::Refused(format!(
        "{what} does not use the default management key; give it with \
         ?mgmt-key-source=file:PATH (hex) and, if needed, &mgmt-key-alg=aes192|aes128|aes256|3des"
    )))
}

fn policy_name(p: &PinPolicy) -> &'static str {
    match p {
        PinPolicy::Default => "default",
        PinPolicy::Never => "never",
        PinPolicy::Once => "once",
        PinPolicy::Always => "always",
    }
}

fn touch_name(t: &TouchPolicy) -> &'static str {
    match t {
        TouchPolicy::Default => "default",
        TouchPolicy::Never => "never",
        TouchPolicy::Always => "always",
        TouchPolicy::Cached => "cached",
    }
}

fn ed25519_from_spki(spki: &x509_cert::spki::SubjectPublicKeyInfoOwned) -> Option<[u8; 32]> {
    if spki.algorithm.oid.to_string() != "1.3.101.112" {
        return None;
    }
    spki.subject_public_key.raw_bytes().try_into().ok()
}

/// What GET METADATA says about a slot holding an Ed25519 key.
struct SlotFacts {
    public: [u8; 32],
    pin_policy: PinPolicy,
    touch_policy: TouchPolicy,
    origin: Option<Origin>,
}

fn slot_facts(yk: &mut YubiKey, slot: u8) -> Result<SlotFacts, Error> {
    let what = card_name(yk);
    let meta = match piv::metadata(yk, slot_id(slot)?) {
        Ok(m) => m,
        Err(YkError::NotFound) => {
            return Err(Error::NotFound(format!(
                "slot {} of {what} holds no key; create one with `locksmith token generate \
                 --signer yubikey:serial={};slot={}`",
                slot_name(slot),
                yk.serial(),
                slot_name(slot)
            )))
        }
        Err(YkError::NotSupported) => {
            return Err(Error::Refused(format!(
                "{what} does not answer GET METADATA (firmware before 5.3), so it cannot hold \
                 Ed25519 keys (firmware 5.7+)"
            )))
        }
        Err(e) => {
            return Err(yk_err(
                format!("cannot read slot {} of {what}", slot_name(slot)),
                e,
            ))
        }
    };
    match meta.algorithm {
        SlotAlgorithmId::Asymmetric(AlgorithmId::Ed25519) => {}
        other => {
            return Err(Error::Refused(format!(
                "slot {} of {what} holds a {other:?} key, not Ed25519; Tailnet Lock needs Ed25519",
                slot_name(slot)
            )))
        }
    }
    let public = meta
        .public
        .as_ref()
        .and_then(ed25519_from_spki)
        .ok_or_else(|| {
            yk_msg(format!(
                "{what} returned no Ed25519 public key for slot {}",
                slot_name(slot)
            ))
        })?;
    let (pin_policy, touch_policy) = meta
        .policy
        .unwrap_or((PinPolicy::Default, TouchPolicy::Default));
    Ok(SlotFacts {
        public,
        pin_policy,
        touch_policy,
        origin: meta.origin,
    })
}

/// A key in a YubiKey PIV slot, with the card open.
pub struct YubiKeySigner {
    yk: YubiKey,
    slot: SlotId,
    public: [u8; 32],
    pin_always: Option<Pin>,
    touch: bool,
    description: String,
    custody: KeyCustody,
}

impl std::fmt::Debug for YubiKeySigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YubiKeySigner")
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

impl YubiKeySigner {
    /// Opens the card and slot; verifies the PIN if the key's policy needs it.
    /// A key whose metadata says it was imported is refused (before any PIN
    /// is asked) unless `options.allow_imported`, and is then labelled
    /// [`KeyCustody::Imported`], never hardware-backed.
    pub fn open(spec: &YubiKeySpec, options: &OpenOptions) -> Result<Self, Error> {
        let mut yk = open_card(spec.serial)?;
        check_version(&yk)?;
        let facts = slot_facts(&mut yk, spec.slot)?;
        let description = format!(
            "YubiKey serial {} slot {}",
            yk.serial(),
            slot_name(spec.slot)
        );
        let custody = custody_of(&facts);
        if custody == KeyCustody::Imported && !options.allow_imported {
            return Err(Error::Refused(format!(
                "the key in {description} was imported onto the card (PIV metadata: origin \
                 imported), not generated there: it existed outside the card, so copies may \
                 exist. Generate a key on the card with `locksmith token generate`, or pass \
                 --allow-imported-key to sign with this one (labelled IMPORTED)"
            )));
        }
        let pin_always = match facts.pin_policy {
            PinPolicy::Never => None,
            PinPolicy::Always => Some(verify_pin(&mut yk, spec.pin_source.as_ref())?),
            _ => {
                verify_pin(&mut yk, spec.pin_source.as_ref())?;
                None
            }
        };
        Ok(YubiKeySigner {
            yk,
            slot: slot_id(spec.slot)?,
            public: facts.public,
            pin_always,
            touch: !matches!(
                facts.touch_policy,
                TouchPolicy::Never | TouchPolicy::Default
            ),
            description,
            custody,
        })
    }
}

/// Hardware unless the card says the key was imported.
fn custody_of(facts: &SlotFacts) -> KeyCustody {
    if matches!(facts.origin, Some(Origin::Imported)) {
        KeyCustody::Imported
    } else {
        KeyCustody::Hardware
    }
}

fn sign_on_card(
    yk: &mut YubiKey,
    slot: SlotId,
    message: &[u8],
    pin_always: Option<&Pin>,
    touch: bool,
    description: &str,
) -> Result<[u8; 64], Error> {
    if let Some(pin) = pin_always {
        verify_given_pin(yk, pin)?;
    }
    if touch {
        // The description holds a card's label: escaped for the terminal.
        eprintln!(
            "{}",
            crate::shown::for_terminal(&format!(
                "Touch your YubiKey now ({description}): it is blinking and waits about 15 seconds"
            ))
        );
    }
    let sig = piv::sign_data(yk, message, AlgorithmId::Ed25519, slot).map_err(|e| match e {
        YkError::AuthenticationError => Error::Refused(format!(
            "{description} wants the PIN before this signature (PIN policy always?); run again"
        )),
        YkError::GenericError if touch => Error::Refused(format!(
            "{description}: touch not given in time; run again and touch the key when it blinks"
        )),
        other => match pcsc_problem(&other) {
            Some(m) => yk_msg(format!("{description}: {m}")),
            None => yk_err(format!("{description} failed to sign"), other),
        },
    })?;
    <[u8; 64]>::try_from(&sig[..]).map_err(|_| {
        yk_msg(format!(
            "{description} returned a {}-byte signature, not 64; nothing was written",
            sig.len()
        ))
    })
}

impl Signer for YubiKeySigner {
    fn public_key(&self) -> [u8; 32] {
        self.public
    }

    fn custody(&self) -> KeyCustody {
        self.custody
    }

    fn describe(&self) -> String {
        self.description.clone()
    }

    fn sign_digest(&mut self, digest: &[u8; 32]) -> Result<[u8; 64], SignerError> {
        sign_on_card(
            &mut self.yk,
            self.slot,
            digest,
            self.pin_always.as_ref(),
            self.touch,
            &self.description,
        )
        .map_err(SignerError::from)
    }

    fn sign_message(&mut self, message: &[u8]) -> Result<[u8; 64], SignerError> {
        crate::tka::signer::check_record_message(message)?;
        sign_on_card(
            &mut self.yk,
            self.slot,
            message,
            self.pin_always.as_ref(),
            self.touch,
            &self.description,
        )
        .map_err(SignerError::from)
    }
}

fn to_pin_policy(p: PinPolicyArg) -> PinPolicy {
    match p {
        PinPolicyArg::Default => PinPolicy::Default,
        PinPolicyArg::Never => PinPolicy::Never,
        PinPolicyArg::Once => PinPolicy::Once,
        PinPolicyArg::Always => PinPolicy::Always,
    }
}

fn to_touch_policy(t: TouchPolicyArg) -> TouchPolicy {
    match t {
        TouchPolicyArg::Default => TouchPolicy::Default,
        TouchPolicyArg::Never => TouchPolicy::Never,
        TouchPolicyArg::Always => TouchPolicy::Always,
        TouchPolicyArg::Cached => TouchPolicy::Cached,
    }
}

/// Extracts the DER certificate from a PIV certificate object (tag 70).
fn cert_from_object(obj: &[u8]) -> Option<Vec<u8>> {
    if obj.first() != Some(&0x70) {
        return None;
    }
    let (len, off) = match *obj.get(1)? {
        n @ 0..=0x7f => (usize::from(n), 2),
        0x81 => (usize::from(*obj.get(2)?), 3),
        0x82 => (
            usize::from(*obj.get(2)?) << 8 | usize::from(*obj.get(3)?),
            4,
        ),
        _ => return None,
    };
    obj.get(off..off + len).map(<[u8]>::to_vec)
}

/// Fetches the slot's attestation and the f9 certificate and verifies
/// them to a root of `trust`, for this slot's key and this card's serial.
/// Never fails: problems become the verdict.
fn attestation(yk: &mut YubiKey, slot: u8, public: &[u8; 32], trust: &TrustStore) -> Attestation {
    let failed = |summary: String| Attestation {
        verdict: Verdict {
            verified: false,
            summary,
            root: None,
            test_root: false,
            statement: None,
            chain: vec![],
        },
        chain_pem: String::new(),
        public_key: *public,
    };
    let Ok(id) = slot_id(slot) else {
        return failed("bad slot".into());
    };
    let att = match piv::attest(yk, id) {
        Ok(a) => a,
        Err(YkError::NotSupported) => {
            return failed("the card does not support attestation".to_string())
        }
        Err(e) => {
            return failed(format!(
                "no attestation ({e}): keys imported rather than generated on the card cannot be attested"
            ))
        }
    };
    let f9 = yk
        .fetch_object(ATTESTATION_OBJECT)
        .ok()
        .and_then(|o| cert_from_object(&o));
    let verdict = piv_attestation::verify(
        &att,
        f9.as_deref(),
        &piv_attestation::Expected {
            public_key: Some(public),
            serial: Some(yk.serial().0),
        },
        trust,
    );
    Attestation {
        verdict,
        chain_pem: piv_attestation::chain_pem(&att, f9.as_deref()),
        public_key: *public,
    }
}

fn key_record(
    yk: &mut YubiKey,
    slot: u8,
    facts: &SlotFacts,
    extra: Vec<(String, String)>,
    trust: &TrustStore,
) -> (KeyInfo, Attestation) {
    let att = attestation(yk, slot, &facts.public, trust);
    let verdict = &att.verdict;
    let mut details = vec![
        ("serial".to_string(), yk.serial().to_string()),
        ("slot".to_string(), slot_name(slot)),
        ("firmware".to_string(), yk.version().to_string()),
        (
            "pin_policy".to_string(),
            policy_name(&facts.pin_policy).to_string(),
        ),
        (
            "touch_policy".to_string(),
            touch_name(&facts.touch_policy).to_string(),
        ),
        (
            "origin".to_string(),
            match facts.origin {
                Some(Origin::Generated) => "generated on the card",
                Some(Origin::Imported) => "IMPORTED (the key existed outside the card)",
                None => "unknown",
            }
            .to_string(),
        ),
        ("attestation".to_string(), verdict.line()),
    ];
    if let Some(st) = &verdict.statement {
        details.push(("attested".to_string(), st.described()));
    }
    for (i, c) in verdict.chain.iter().enumerate() {
        details.push((
            format!("attestation_chain_{i}"),
            format!("{} (issuer {}, sha256 {})", c.subject, c.issuer, c.sha256),
        ));
    }
    details.extend(extra);
    let info = KeyInfo {
        spec: format!("yubikey:serial={};slot={}", yk.serial(), slot_name(slot)),
        tlpub: tlpub(&facts.public),
        custody: custody_of(facts).label(),
        description: format!("YubiKey serial {} slot {}", yk.serial(), slot_name(slot)),
        details,
        attestation_pem: (!att.chain_pem.is_empty()).then(|| att.chain_pem.clone()),
    };
    (info, att)
}

/// Writes a self-signed certificate for the new key so other tools see it.
fn write_self_signed(
    yk: &mut YubiKey,
    spec: &YubiKeySpec,
    facts: &SlotFacts,
    label: &str,
    pin: &Pin,
) -> Result<(), Error> {
    let mut serial = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut serial);
    let req = x509::CertificateRequest {
        serial: serial.to_vec(),
        issuer_cn: label.to_string(),
        subject_cn: label.to_string(),
        not_before_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        subject_public_key: x509::ed25519_spki(&facts.public)
            .map_err(|e| yk_msg(format!("cannot encode the public key: {e}")))?,
        extensions: vec![],
    };
    let slot = slot_id(spec.slot)?;
    let description = format!(
        "YubiKey serial {} slot {}",
        yk.serial(),
        slot_name(spec.slot)
    );
    let always = matches!(facts.pin_policy, PinPolicy::Always).then_some(pin);
    let touch = !matches!(
        facts.touch_policy,
        TouchPolicy::Never | TouchPolicy::Default
    );
    let der = x509::ed25519_certificate(&req, facts.public, |tbs| {
        let sig = sign_on_card(yk, slot, tbs, always, touch, &description)?;
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&facts.public)
            .map_err(|_| yk_msg("the card returned an invalid Ed25519 public key"))?;
        vk.verify_strict(tbs, &ed25519_dalek::Signature::from_bytes(&sig))
            .map_err(|_| yk_msg("the card's signature on the certificate does not verify"))?;
        Ok::<_, Error>(sig)
    })?;
    let cert =
        Certificate::from_bytes(der).map_err(|e| yk_err("cannot parse the new certificate", e))?;
    authenticate_mgmt(yk, spec)?;
    cert.write(yk, slot, CertInfo::Uncompressed)
        .map_err(|e| yk_err("cannot write the certificate to the slot", e))
}

/// Generates an Ed25519 key in the slot, writes a self-signed certificate,
/// and returns the key's record with the card's attestation, verified to
/// `options.attestation_trust`.
pub fn generate(
    spec: &YubiKeySpec,
    options: &GenerateOptions,
) -> Result<(KeyInfo, Attestation), Error> {
    generate_signer(spec, options).map(|(k, a, _)| (k, a))
}

/// [`generate`], and the new key as a signer on the same card session
/// with the PIN verified for the generation (kept and re-verified before
/// each signature): `token generate` asks the PIN once.
pub fn generate_signer(
    spec: &YubiKeySpec,
    options: &GenerateOptions,
) -> Result<(KeyInfo, Attestation, YubiKeySigner), Error> {
    let mut card = NewKeyCard::open(spec)?;
    match card.slot_state()? {
        SlotState::Empty => {}
        _ if options.force => {}
        _ => return Err(Error::Refused(card.occupied(None))),
    }
    card.login()?;
    card.generate(options)?;
    card.finish(options)
}

/// What a slot holds, read from GET METADATA (no PIN needed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlotState {
    /// No key.
    Empty,
    /// An Ed25519 key; `generated` when the card says it made it (origin
    /// generated), not imported.
    Ed25519 { public: [u8; 32], generated: bool },
    /// A key of another algorithm (named).
    Other(String),
}

/// A card opened for `token generate` one step at a time, so the ceremony
/// can write its pending-key marker before the key exists and recognise
/// the key an interrupted attempt made: [`NewKeyCard::open`] and
/// [`NewKeyCard::slot_state`] (no PIN), [`NewKeyCard::login`] (the one
/// PIN of the command), [`NewKeyCard::generate`] (skipped when
/// continuing), [`NewKeyCard::finish`] (certificate if missing,
/// attestation, signer).
pub struct NewKeyCard {
    yk: YubiKey,
    spec: YubiKeySpec,
    pin: Option<Pin>,
}

impl std::fmt::Debug for NewKeyCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKeyCard")
            .field("card", &card_name(&self.yk))
            .field("slot", &slot_name(self.spec.slot))
            .finish_non_exhaustive()
    }
}

impl NewKeyCard {
    /// Opens the card the spec names (no PIN) and checks its firmware.
    pub fn open(spec: &YubiKeySpec) -> Result<Self, Error> {
        let yk = open_card(spec.serial)?;
        check_version(&yk)?;
        Ok(NewKeyCard {
            yk,
            spec: spec.clone(),
            pin: None,
        })
    }

    /// The card's serial number.
    pub fn serial(&self) -> u32 {
        self.yk.serial().0
    }

    /// The slot, as two hex digits ("9a").
    pub fn slot(&self) -> String {
        slot_name(self.spec.slot)
    }

    /// "YubiKey serial N (firmware V)".
    pub fn name(&self) -> String {
        card_name(&self.yk)
    }

    /// What the slot holds now.
    pub fn slot_state(&mut self) -> Result<SlotState, Error> {
        let what = card_name(&self.yk);
        let meta = match piv::metadata(&mut self.yk, slot_id(self.spec.slot)?) {
            Ok(m) => m,
            Err(YkError::NotFound) => return Ok(SlotState::Empty),
            Err(e) => {
                return Err(yk_err(
                    format!("cannot read slot {} of {what}", self.slot()),
                    e,
                ))
            }
        };
        Ok(match meta.algorithm {
            SlotAlgorithmId::Asymmetric(AlgorithmId::Ed25519) => {
                match meta.public.as_ref().and_then(ed25519_from_spki) {
                    Some(public) => SlotState::Ed25519 {
                        public,
                        generated: matches!(meta.origin, Some(Origin::Generated)),
                    },
                    None => SlotState::Other("Ed25519 key without a readable public key".into()),
                }
            }
            other => SlotState::Other(format!("{other:?}")),
        })
    }

    /// The how-to-continue text for an occupied slot that is not (or not
    /// recognised as) the key of an interrupted `token generate`; `why`
    /// says why it was not recognised.
    pub fn occupied(&self, why: Option<&str>) -> String {
        occupied_guidance(self.serial(), self.spec.slot, why)
    }

    /// Verifies the PIN (once) and authenticates with the management key.
    pub fn login(&mut self) -> Result<(), Error> {
        let pin = verify_pin(&mut self.yk, self.spec.pin_source.as_ref())?;
        self.pin = Some(pin);
        authenticate_mgmt(&mut self.yk, &self.spec)
    }

    /// Generates an Ed25519 key in the slot (replacing what is there) and
    /// returns its public key, checked against the slot's metadata.
    pub fn generate(&mut self, options: &GenerateOptions) -> Result<[u8; 32], Error> {
        let what = card_name(&self.yk);
        let spki = piv::generate(
            &mut self.yk,
            slot_id(self.spec.slot)?,
            AlgorithmId::Ed25519,
            to_pin_policy(options.pin_policy),
            to_touch_policy(options.touch_policy),
        )
        .map_err(|e| match e {
            YkError::AlgorithmError => Error::Refused(format!(
                "{what} refused to generate an Ed25519 key with these policies"
            )),
            other => yk_err(format!("generating a key on {what} failed"), other),
        })?;
        let generated = ed25519_from_spki(&spki)
            .ok_or_else(|| yk_msg("the card returned a non-Ed25519 key"))?;
        let facts = slot_facts(&mut self.yk, self.spec.slot)?;
        if facts.public != generated {
            return Err(yk_msg(
                "the slot's public key differs from the one just generated; run `token show`",
            ));
        }
        Ok(generated)
    }

    /// The key in the slot (just generated, or left by an interrupted
    /// attempt): a self-signed certificate written unless the slot already
    /// has one for this key, the key's record with the card's attestation
    /// verified to `options.attestation_trust`, and the key as a signer on
    /// this session (the PIN of [`NewKeyCard::login`] kept for it).
    pub fn finish(
        mut self,
        options: &GenerateOptions,
    ) -> Result<(KeyInfo, Attestation, YubiKeySigner), Error> {
        let facts = slot_facts(&mut self.yk, self.spec.slot)?;
        let pin = match self.pin.take() {
            Some(p) => p,
            None => verify_pin(&mut self.yk, self.spec.pin_source.as_ref())?,
        };
        let label = options
            .label
            .clone()
            .unwrap_or_else(|| "locksmith tailnet lock key".to_string());
        let mut extra = vec![("label".to_string(), label.clone())];
        let has_cert = Certificate::read(&mut self.yk, slot_id(self.spec.slot)?)
            .ok()
            .and_then(|c| ed25519_from_spki(c.cert.tbs_certificate().subject_public_key_info()))
            == Some(facts.public);
        if has_cert {
            extra.push((
                "certificate".into(),
                "a certificate for this key is already in the slot".into(),
            ));
        } else {
            match write_self_signed(&mut self.yk, &self.spec, &facts, &label, &pin) {
                Ok(()) => extra.push((
                    "certificate".into(),
                    "self-signed certificate written to the slot".into(),
                )),
                Err(e) => {
                    eprintln!(
                        "{}",
                        crate::shown::for_terminal(&format!(
                            "warning: the key was generated but its certificate was not written: {e}"
                        ))
                    );
                    extra.push(("certificate".into(), format!("NOT written: {e}")));
                }
            }
        }
        let (info, attestation) = key_record(
            &mut self.yk,
            self.spec.slot,
            &facts,
            extra,
            &options.attestation_trust,
        );
        let description = format!(
            "YubiKey serial {} slot {}",
            self.yk.serial(),
            slot_name(self.spec.slot)
        );
        let signer = YubiKeySigner {
            slot: slot_id(self.spec.slot)?,
            public: facts.public,
            pin_always: Some(pin),
            touch: !matches!(
                facts.touch_policy,
                TouchPolicy::Never | TouchPolicy::Default
            ),
            custody: custody_of(&facts),
            description,
            yk: self.yk,
        };
        Ok((info, attestation, signer))
    }
}

/// What to do about slot `slot` of YubiKey `serial` holding a key that
/// `token generate` may not replace: the commands that delete it, and the
/// flags.
pub fn occupied_guidance(serial: u32, slot: u8, why: Option<&str>) -> String {
    let s = slot_name(slot);
    let why = why.map(|w| format!(" ({w})")).unwrap_or_default();
    format!(
        "slot {s} of YubiKey serial {serial} already holds a key{why}. Nothing was generated. \
         To continue, either choose another slot (slot=9a, 9c, 9d, 9e, 82…95 in the spec); or, \
         if that key is in no authority (check `locksmith token show --signer \
         yubikey:serial={serial};slot={s}` against `locksmith lock status`), delete it with\n  \
         ykman --device {serial} piv keys delete {s}\n  \
         ykman --device {serial} piv certificates delete {s}\n\
         (ykman 5.6 or later; it asks for the management key: Enter for the default one) \
         and run this \
         command again; or pass --force to replace it with a new key (the old key is destroyed)"
    )
}

/// Describes the key in a slot, with the attestation verified to `trust`.
/// Needs no PIN.
pub fn show(spec: &YubiKeySpec, trust: &TrustStore) -> Result<(KeyInfo, Attestation), Error> {
    let mut yk = open_card(spec.serial)?;
    check_version(&yk)?;
    let facts = slot_facts(&mut yk, spec.slot)?;
    let mut extra = Vec::new();
    if let Ok(cert) = Certificate::read(&mut yk, slot_id(spec.slot)?) {
        extra.push(("certificate_subject".to_string(), cert.subject()));
    }
    if let Some(left) = pin_tries_left(&mut yk) {
        extra.push(("pin_tries_left".to_string(), left.to_string()));
    }
    Ok(key_record(&mut yk, spec.slot, &facts, extra, trust))
}

/// Lists YubiKeys and their Ed25519 keys. A missing pcscd or an empty
/// reader is a note, not a failure.
pub fn list_cards() -> Result<(Vec<TokenInfo>, Vec<String>), Error> {
    let (cards, mut notes) = match open_all() {
        Ok(x) => x,
        Err(e) => return Ok((vec![], vec![format!("YubiKey: {e}")])),
    };
    let mut out = Vec::new();
    for mut yk in cards {
        let mut keys = Vec::new();
        if yk.version() < MIN_ED25519_VERSION {
            notes.push(format!(
                "{}: firmware too old for Ed25519 (needs 5.7+)",
                card_name(&yk)
            ));
        } else {
            for &slot in PIV_KEY_SLOTS {
                if let Ok(facts) = slot_facts(&mut yk, slot) {
                    keys.push(KeyInfo {
                        spec: format!("yubikey:serial={};slot={}", yk.serial(), slot_name(slot)),
                        tlpub: tlpub(&facts.public),
                        custody: custody_of(&facts).label(),
                        description: format!(
                            "YubiKey serial {} slot {}",
                            yk.serial(),
                            slot_name(slot)
                        ),
                        details: vec![
                            ("pin_policy".into(), policy_name(&facts.pin_policy).into()),
                            (
                                "touch_policy".into(),
                                touch_name(&facts.touch_policy).into(),
                            ),
                        ],
                        attestation_pem: None,
                    });
                }
            }
        }
        out.push(TokenInfo {
            kind: "yubikey",
            description: format!("{} in reader \"{}\"", card_name(&yk), yk.name()),
            spec: format!("yubikey:serial={}", yk.serial()),
            keys,
        });
        leave(yk);
    }
    Ok((out, notes))
}
