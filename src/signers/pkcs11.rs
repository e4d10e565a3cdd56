//! Ed25519 keys on PKCS#11 tokens (SoftHSM2, YubiHSM2, ykcs11, …) through
//! `cryptoki`.
//!
//! - One `Pkcs11` context (one C_Initialize) per module per process, shared
//!   by every signer opened on it.
//! - One session per signer, logged in once, reused for every signature of
//!   a batch.
//! - Signatures use CKM_EDDSA with no parameters (pure Ed25519) over the
//!   32-byte SigHash itself.
//! - Wrong PINs are reported with what the token says about the tries left
//!   (CKF_USER_PIN_COUNT_LOW / FINAL_TRY / LOCKED) and never retried.
//! - Keys with CKA_ALWAYS_AUTHENTICATE (ykcs11 slot 9c with PIN policy
//!   "always") are signed with C_SignInit, C_Login(CKU_CONTEXT_SPECIFIC),
//!   C_SignUpdate, C_SignFinal; cryptoki's one-call `sign()` leaves no room
//!   for the context login. The PIN is then kept (zeroized on drop) for the
//!   batch. A token that cannot do multi-part EdDSA answers with an error
//!   that points at a key with a "once" PIN policy.

use super::pin::{obtain_pin, Pin};
use super::spec::Pkcs11Uri;
use super::{tlpub, Error, GenerateOptions, KeyInfo, OpenOptions, TokenInfo, TriesLeft};
use crate::tka::signer::{KeyCustody, Signer, SignerError};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// DER of the RFC 8410 OID id-Ed25519 (1.3.101.112).
pub const EC_PARAMS_ED25519_OID: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
/// DER PrintableString "edwards25519" (SoftHSM2 and older PKCS#11 3.0 drafts).
pub const EC_PARAMS_EDWARDS25519_NAME: &[u8] = b"\x13\x0cedwards25519";

fn contexts() -> &'static Mutex<HashMap<PathBuf, Pkcs11>> {
    static CONTEXTS: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    CONTEXTS.get_or_init(|| Mutex::new(HashMap::new()))
}

fn ck(message: impl Into<String>, e: CkError) -> Error {
    Error::Pkcs11 {
        message: format!("{}: {e}", message.into()),
        source: Some(e),
    }
}

/// Loads and initializes a module once per process.
pub fn context(module: &Path) -> Result<Pkcs11, Error> {
    let mut map = contexts().lock().map_err(|_| Error::Pkcs11 {
        message: "internal error: PKCS#11 context lock poisoned".to_string(),
        source: None,
    })?;
    if let Some(ctx) = map.get(module) {
        return Ok(ctx.clone());
    }
    if !module.exists() {
        return Err(Error::Pkcs11 {
            message: format!(
                "PKCS#11 module {} does not exist; install it (SoftHSM2: apt-get install softhsm2) \
                 or fix module-path",
                module.display()
            ),
            source: None,
        });
    }
    let ctx = Pkcs11::new(module).map_err(|e| {
        ck(
            format!("cannot load PKCS#11 module {}", module.display()),
            e,
        )
    })?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => {
            return Err(ck(
                format!(
                    "PKCS#11 module {} failed to initialize (for SoftHSM2 check SOFTHSM2_CONF and \
                     its tokendir)",
                    module.display()
                ),
                e,
            ))
        }
    }
    map.insert(module.to_path_buf(), ctx.clone());
    Ok(ctx)
}

/// Decodes CKA_EC_PARAMS and checks it names Ed25519: the OID
/// 1.3.101.112, the PrintableString "edwards25519", or a curve name.
pub fn ec_params_is_ed25519(params: &[u8]) -> bool {
    if params == EC_PARAMS_ED25519_OID || params == EC_PARAMS_EDWARDS25519_NAME {
        return true;
    }
    // Any DER string (PrintableString 0x13, UTF8String 0x0c) naming the curve.
    if params.len() >= 2 && (params[0] == 0x13 || params[0] == 0x0c) {
        let len = params[1] as usize;
        if let Some(name) = params.get(2..2 + len) {
            let name = String::from_utf8_lossy(name).to_ascii_lowercase();
            return name == "edwards25519" || name == "ed25519" || name == "curve25519";
        }
    }
    false
}

/// Decodes CKA_EC_POINT: 32 raw bytes or a DER OCTET STRING (`04 20` + 32).
pub fn decode_ec_point(point: &[u8]) -> Option<[u8; 32]> {
    match point.len() {
        32 => point.try_into().ok(),
        34 if point[0] == 0x04 && point[1] == 0x20 => point[2..].try_into().ok(),
        _ => None,
    }
}

fn token_name(info: &cryptoki::slot::TokenInfo) -> String {
    format!(
        "PKCS#11 token \"{}\" (serial {}, {} {})",
        info.label().trim(),
        info.serial_number().trim(),
        info.manufacturer_id().trim(),
        info.model().trim()
    )
}

/// Finds the one token the URI names; an error when none or several match.
fn find_slot(ctx: &Pkcs11, uri: &Pkcs11Uri) -> Result<(Slot, cryptoki::slot::TokenInfo), Error> {
    let slots = ctx
        .get_slots_with_token()
        .map_err(|e| ck("cannot list PKCS#11 slots", e))?;
    let mut matches = Vec::new();
    let mut seen = Vec::new();
    for slot in slots {
        let info = match ctx.get_token_info(slot) {
            Ok(i) => i,
            Err(_) => continue,
        };
        if !info.token_initialized() {
            continue;
        }
        seen.push(format!(
            "\"{}\" (serial {})",
            info.label().trim(),
            info.serial_number().trim()
        ));
        let ok = uri
            .token
            .as_deref()
            .is_none_or(|t| info.label().trim() == t)
            && uri
                .serial
                .as_deref()
                .is_none_or(|s| info.serial_number().trim() == s)
            && uri
                .manufacturer
                .as_deref()
                .is_none_or(|m| info.manufacturer_id().trim() == m)
            && uri
                .model
                .as_deref()
                .is_none_or(|m| info.model().trim() == m);
        if ok {
            matches.push((slot, info));
        }
    }
    match matches.len() {
        0 => Err(Error::NotFound(format!(
            "no PKCS#11 token of module {} matches {}; tokens present: {}",
            crate::shown::escape_short(
                &uri.module()
                    .map(|m| m.display().to_string())
                    .unwrap_or_default(),
                200
            ),
            crate::shown::escape_short(&uri.to_uri(), 200),
            if seen.is_empty() {
                "none".to_string()
            } else {
                seen.join(", ")
            }
        ))),
        1 => Ok(matches.remove(0)),
        _ => Err(Error::Ambiguous(format!(
            "several PKCS#11 tokens match {}: {}; add token=LABEL or serial=… to choose one",
            crate::shown::escape_short(&uri.to_uri(), 200),
            seen.join(", ")
        ))),
    }
}

/// What the token says about the user PIN's remaining tries.
fn tries_left(info: &cryptoki::slot::TokenInfo) -> TriesLeft {
    if info.user_pin_final_try() {
        TriesLeft::FinalTry
    } else if info.user_pin_count_low() {
        TriesLeft::Low
    } else {
        TriesLeft::Unknown
    }
}

fn pin_locked(what: String) -> Error {
    Error::PinLocked {
        what,
        next: "the security officer must unblock it (C_InitPIN with the SO PIN, e.g. \
               `pkcs11-tool --login --login-type so --init-pin`)"
            .to_string(),
    }
}

/// Logs the session in as the user, once. Never retries a wrong PIN.
fn login(
    ctx: &Pkcs11,
    slot: Slot,
    session: &Session,
    info: &cryptoki::slot::TokenInfo,
    uri: &Pkcs11Uri,
) -> Result<Option<Pin>, Error> {
    let what = token_name(info);
    if info.user_pin_locked() {
        return Err(pin_locked(what));
    }
    if !info.login_required() {
        return Ok(None);
    }
    if info.protected_authentication_path() {
        return match session.login(UserType::User, None) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(None),
            Err(e) => Err(login_error(ctx, slot, what, e)),
        };
    }
    let pin = obtain_pin(uri.pin_source.as_ref(), &what)?;
    let auth = AuthPin::from(pin.expose().to_string());
    match session.login(UserType::User, Some(&auth)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(Some(pin)),
        Err(e) => Err(login_error(ctx, slot, what, e)),
    }
}

fn login_error(ctx: &Pkcs11, slot: Slot, what: String, e: CkError) -> Error {
    match e {
        CkError::Pkcs11(RvError::PinIncorrect, _) | CkError::Pkcs11(RvError::PinInvalid, _) => {
            // Ask the token again: the flags change with the failed attempt.
            match ctx.get_token_info(slot) {
                Ok(info) if info.user_pin_locked() => pin_locked(what),
                Ok(info) => Error::WrongPin {
                    what,
                    tries_left: tries_left(&info),
                },
                Err(_) => Error::WrongPin {
                    what,
                    tries_left: TriesLeft::Unknown,
                },
            }
        }
        CkError::Pkcs11(RvError::PinLocked, _) => pin_locked(what),
        CkError::Pkcs11(RvError::PinLenRange, _) => Error::WrongPin {
            what: format!("{what} (the PIN has the wrong length)"),
            tries_left: TriesLeft::Unknown,
        },
        other => ck(format!("login to {what} failed"), other),
    }
}

/// A private key object and the facts locksmith checks before signing.
#[derive(Clone, Debug)]
struct KeyObject {
    handle: ObjectHandle,
    label: String,
    id: Vec<u8>,
    sensitive: Option<bool>,
    extractable: Option<bool>,
    always_authenticate: bool,
    never_extractable: Option<bool>,
    always_sensitive: Option<bool>,
    /// CKA_LOCAL: true only when the token generated the key itself.
    local: Option<bool>,
}

impl KeyObject {
    /// What shows the key was imported rather than generated on the token
    /// (CKA_LOCAL false, or CKA_NEVER_EXTRACTABLE / CKA_ALWAYS_SENSITIVE
    /// false: it was extractable or readable at some point); `None` when
    /// nothing does. An attribute the token does not report proves nothing
    /// either way and is not counted.
    fn imported_because(&self) -> Option<String> {
        let mut why = Vec::new();
        if self.local == Some(false) {
            why.push("CKA_LOCAL is false (the token did not generate it)");
        }
        if self.never_extractable == Some(false) {
            why.push("CKA_NEVER_EXTRACTABLE is false (it was extractable at some time)");
        }
        if self.always_sensitive == Some(false) {
            why.push("CKA_ALWAYS_SENSITIVE is false (it was readable at some time)");
        }
        (!why.is_empty()).then(|| why.join(", "))
    }

    /// Who holds the key: the token made it, or it came from outside.
    fn custody(&self) -> KeyCustody {
        if self.imported_because().is_some() {
            KeyCustody::Imported
        } else {
            KeyCustody::Hardware
        }
    }
}

fn find_private_keys(session: &Session, uri: &Pkcs11Uri) -> Result<Vec<KeyObject>, Error> {
    let mut template = vec![
        Attribute::Class(ObjectClass::PRIVATE_KEY),
        Attribute::KeyType(KeyType::EC_EDWARDS),
    ];
    if let Some(label) = &uri.object {
        template.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        template.push(Attribute::Id(id.clone()));
    }
    let handles = session
        .find_objects(&template)
        .map_err(|e| ck("cannot search the token for keys", e))?;
    let mut keys = Vec::new();
    for handle in handles {
        let attrs = session
            .get_attributes(
                handle,
                &[
                    AttributeType::Label,
                    AttributeType::Id,
                    AttributeType::Sensitive,
                    AttributeType::Extractable,
                    AttributeType::AlwaysAuthenticate,
                    AttributeType::NeverExtractable,
                    AttributeType::AlwaysSensitive,
                    AttributeType::Local,
                ],
            )
            .map_err(|e| ck("cannot read the key's attributes", e))?;
        let mut key = KeyObject {
            handle,
            label: String::new(),
            id: Vec::new(),
            sensitive: None,
            extractable: None,
            always_authenticate: false,
            never_extractable: None,
            always_sensitive: None,
            local: None,
        };
        for a in attrs {
            match a {
                Attribute::Label(l) => key.label = String::from_utf8_lossy(&l).into_owned(),
                Attribute::Id(i) => key.id = i,
                Attribute::Sensitive(b) => key.sensitive = Some(b),
                Attribute::Extractable(b) => key.extractable = Some(b),
                Attribute::AlwaysAuthenticate(b) => key.always_authenticate = b,
                Attribute::NeverExtractable(b) => key.never_extractable = Some(b),
                Attribute::AlwaysSensitive(b) => key.always_sensitive = Some(b),
                Attribute::Local(b) => key.local = Some(b),
                _ => {}
            }
        }
        keys.push(key);
    }
    Ok(keys)
}

/// Reads the Ed25519 public key for a private key: from the public key
/// object with the same CKA_ID (and label), else from the private object.
fn read_public_key(session: &Session, key: &KeyObject) -> Result<[u8; 32], Error> {
    let mut template = vec![
        Attribute::Class(ObjectClass::PUBLIC_KEY),
        Attribute::KeyType(KeyType::EC_EDWARDS),
        Attribute::Id(key.id.clone()),
    ];
    if key.id.is_empty() {
        template.push(Attribute::Label(key.label.as_bytes().to_vec()));
    }
    let mut candidates = session
        .find_objects(&template)
        .map_err(|e| ck("cannot search for the public key", e))?;
    candidates.push(key.handle);
    let mut last_problem = String::from("no public key object with the same CKA_ID");
    for handle in candidates {
        let attrs = match session
            .get_attributes(handle, &[AttributeType::EcParams, AttributeType::EcPoint])
        {
            Ok(a) => a,
            Err(e) => {
                last_problem = format!("cannot read CKA_EC_POINT: {e}");
                continue;
            }
        };
        let mut params = None;
        let mut point = None;
        for a in attrs {
            match a {
                Attribute::EcParams(p) => params = Some(p),
                Attribute::EcPoint(p) => point = Some(p),
                _ => {}
            }
        }
        if let Some(p) = &params {
            if !ec_params_is_ed25519(p) {
                return Err(Error::Refused(format!(
                    "key \"{}\" is an EdDSA key on curve {} (CKA_EC_PARAMS {}), not Ed25519; \
                     Tailnet Lock needs Ed25519",
                    key.label,
                    String::from_utf8_lossy(p),
                    crate::tka::hex::lower(p)
                )));
            }
        }
        match point.as_deref().map(decode_ec_point) {
            Some(Some(pk)) => return Ok(pk),
            Some(None) => {
                last_problem = "CKA_EC_POINT is neither 32 raw bytes nor a DER OCTET STRING".into()
            }
            None => {}
        }
    }
    Err(Error::Pkcs11 {
        message: format!(
            "cannot read the public key of \"{}\" ({last_problem}); the token may store the \
             public key elsewhere, import it as a public key object with the same CKA_ID",
            key.label
        ),
        source: None,
    })
}

fn select_key(keys: Vec<KeyObject>, uri: &Pkcs11Uri, token: &str) -> Result<KeyObject, Error> {
    let mut keys = keys;
    match keys.len() {
        0 => Err(Error::NotFound(format!(
            "no Ed25519 private key on {token} matches {}; list them with `locksmith token list` \
             or create one with `locksmith token generate`",
            uri.to_uri()
        ))),
        1 => Ok(keys.remove(0)),
        _ => Err(Error::Ambiguous(format!(
            "{} Ed25519 keys on {token} match {}: {}; add object=LABEL or id=… to the URI",
            keys.len(),
            uri.to_uri(),
            keys.iter()
                .map(|k| format!("\"{}\" (id {})", k.label, crate::tka::hex::lower(&k.id)))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn check_custody(key: &KeyObject, token: &str, options: &OpenOptions) -> Result<(), Error> {
    let extractable = key.extractable != Some(false);
    let sensitive = key.sensitive == Some(true);
    if (extractable || !sensitive) && !options.allow_extractable {
        return Err(Error::Refused(format!(
            "key \"{}\" on {token} is {}: its private key could leave the token. Generate a new \
             key with `locksmith token generate` (sensitive, non-extractable), or pass \
             --allow-extractable to use this one anyway",
            key.label,
            match (extractable, sensitive) {
                (true, false) => "extractable and not sensitive",
                (true, true) => "extractable (CKA_EXTRACTABLE is not false)",
                _ => "not sensitive (CKA_SENSITIVE is not true)",
            }
        )));
    }
    // --allow-extractable already accepts a key that is extractable or
    // readable now (so was at some time); CKA_LOCAL false still needs its
    // own flag.
    let why = if options.allow_extractable && (extractable || !sensitive) {
        (key.local == Some(false))
            .then(|| "CKA_LOCAL is false (the token did not generate it)".to_string())
    } else {
        key.imported_because()
    };
    if let Some(why) = why {
        if !options.allow_imported {
            return Err(Error::Refused(format!(
                "key \"{}\" on {token} was imported, not generated on the token: {why}. Its \
                 private key existed outside the token, so copies may exist. Generate a new key \
                 with `locksmith token generate`, or pass --allow-imported-key to sign with this \
                 one anyway (it is then labelled {})",
                key.label,
                KeyCustody::Imported.label()
            )));
        }
    }
    Ok(())
}

/// A key on a PKCS#11 token with a logged-in session kept open.
pub struct Pkcs11Signer {
    session: Session,
    key: KeyObject,
    public: [u8; 32],
    description: String,
    context_pin: Option<Pin>,
    mechanism: Mechanism<'static>,
    custody: KeyCustody,
}

impl std::fmt::Debug for Pkcs11Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Signer")
            .field("description", &self.description)
            .field("public", &crate::tka::hex::lower(&self.public))
            .finish_non_exhaustive()
    }
}

fn open_session(ctx: &Pkcs11, slot: Slot, rw: bool) -> Result<Session, Error> {
    let s = if rw {
        ctx.open_rw_session(slot)
    } else {
        ctx.open_ro_session(slot)
    };
    s.map_err(|e| ck("cannot open a session on the token", e))
}

impl Pkcs11Signer {
    /// Opens the key the URI names: finds the token, logs in once, checks
    /// the key is Ed25519, sensitive and non-extractable.
    pub fn open(uri: &Pkcs11Uri, options: &OpenOptions) -> Result<Self, Error> {
        let mut token = Pkcs11Token::find(uri)?;
        token.login_session(false)?;
        let key = select_key(
            find_private_keys(token.session()?, uri)?,
            uri,
            &token.name(),
        )?;
        token.signer_for(key, options)
    }

    fn sign_with_context_login(&self, data: &[u8], pin: &Pin) -> Result<Vec<u8>, CkError> {
        self.session.sign_init(&self.mechanism, self.key.handle)?;
        let auth = AuthPin::from(pin.expose().to_string());
        self.session.login(UserType::ContextSpecific, Some(&auth))?;
        self.session.sign_update(data)?;
        self.session.sign_final()
    }

    /// Pure Ed25519 (CKM_EDDSA) over `data`, with the context login the
    /// key may need.
    fn sign_bytes(&mut self, data: &[u8]) -> Result<[u8; 64], SignerError> {
        let result = match &self.context_pin {
            None => self.session.sign(&self.mechanism, self.key.handle, data),
            Some(pin) => self.sign_with_context_login(data, pin),
        };
        self.finish_sign(result)
    }
}

impl Signer for Pkcs11Signer {
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
        self.sign_bytes(digest)
    }

    fn sign_message(&mut self, message: &[u8]) -> Result<[u8; 64], SignerError> {
        crate::tka::signer::check_record_message(message)?;
        self.sign_bytes(message)
    }
}

impl Pkcs11Signer {
    fn finish_sign(&self, result: Result<Vec<u8>, CkError>) -> Result<[u8; 64], SignerError> {
        let sig = result.map_err(|e| {
            let message = match &e {
                CkError::Pkcs11(RvError::FunctionNotSupported, _)
                | CkError::Pkcs11(RvError::MechanismInvalid, _)
                | CkError::Pkcs11(RvError::OperationNotInitialized, _)
                | CkError::Pkcs11(RvError::OperationActive, _)
                    if self.context_pin.is_some() =>
                {
                    format!(
                        "{} needs a PIN for every signature (CKA_ALWAYS_AUTHENTICATE) and this \
                         module cannot do the multi-part EdDSA signing that requires; use a key \
                         generated with PIN policy \"once\" (e.g. a slot other than 9c)",
                        self.description
                    )
                }
                CkError::Pkcs11(RvError::MechanismInvalid, _) => format!(
                    "{} does not support CKM_EDDSA; Tailnet Lock needs an Ed25519-capable token",
                    self.description
                ),
                CkError::Pkcs11(RvError::UserNotLoggedIn, _) => format!(
                    "{} logged out (was the token removed?); run the command again",
                    self.description
                ),
                CkError::Pkcs11(RvError::PinIncorrect, _) => {
                    format!(
                        "wrong PIN for {} (context-specific login); not retried",
                        self.description
                    )
                }
                other => format!("{} failed to sign: {other}", self.description),
            };
            SignerError::with_source(message, e)
        })?;
        sig.as_slice().try_into().map_err(|_| {
            SignerError::new(format!(
                "{} returned a {}-byte signature, not 64 bytes; nothing was written",
                self.description,
                sig.len()
            ))
        })
    }
}

fn key_info(
    session: &Session,
    token: &str,
    info: &cryptoki::slot::TokenInfo,
    module: &Path,
    key: &KeyObject,
) -> Result<KeyInfo, Error> {
    let public = read_public_key(session, key)?;
    let uri = Pkcs11Uri {
        token: Some(info.label().trim().to_string()),
        object: Some(key.label.clone()),
        id: if key.id.is_empty() {
            None
        } else {
            Some(key.id.clone())
        },
        module_path: Some(module.to_path_buf()),
        ..Default::default()
    };
    let flag = |b: Option<bool>| b.map_or("unknown".to_string(), |b| b.to_string());
    Ok(KeyInfo {
        spec: uri.to_uri(),
        tlpub: tlpub(&public),
        custody: key.custody().label(),
        description: format!("key \"{}\" on {token}", key.label),
        details: vec![
            ("id".into(), crate::tka::hex::lower(&key.id)),
            ("sensitive".into(), flag(key.sensitive)),
            ("extractable".into(), flag(key.extractable)),
            ("always_sensitive".into(), flag(key.always_sensitive)),
            ("never_extractable".into(), flag(key.never_extractable)),
            ("local".into(), flag(key.local)),
            (
                "always_authenticate".into(),
                key.always_authenticate.to_string(),
            ),
        ]
        .into_iter()
        .chain(
            key.imported_because()
                .map(|why| ("origin".to_string(), format!("IMPORTED: {why}"))),
        )
        .collect(),
        attestation_pem: None,
    })
}

/// Generates an Ed25519 key pair on the token: CKA_TOKEN, CKA_PRIVATE and
/// CKA_SENSITIVE true, CKA_EXTRACTABLE false.
pub fn generate(uri: &Pkcs11Uri, options: &GenerateOptions) -> Result<KeyInfo, Error> {
    let mut token = Pkcs11Token::find(uri)?;
    let label = options
        .label
        .clone()
        .or_else(|| uri.object.clone())
        .ok_or_else(|| {
            Error::Spec("give the new key a label: --label NAME or object=NAME in the URI".into())
        })?;
    token.login()?;
    if !token.private_keys_labelled(&label)?.is_empty() && !options.force {
        return Err(Error::Refused(format!(
            "{} already holds a key labelled \"{label}\"; choose another --label, or pass \
             --force to add a second key with that label (select it by id= afterwards)",
            token.name()
        )));
    }
    token.generate(&label, &new_key_id(), options.allow_extractable)
}

/// A fresh random CKA_ID for a new key.
pub fn new_key_id() -> Vec<u8> {
    let mut id = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut id);
    id.to_vec()
}

/// What the token says about a private key `token generate` may resume with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundKey {
    pub label: String,
    pub id: Vec<u8>,
    /// CKA_LOCAL: the token generated it.
    pub local: Option<bool>,
    pub extractable: Option<bool>,
    pub sensitive: Option<bool>,
    pub never_extractable: Option<bool>,
}

impl FoundKey {
    /// Generated on the token and never able to leave it.
    pub fn made_on_the_token(&self) -> bool {
        self.local == Some(true)
            && self.extractable == Some(false)
            && self.sensitive == Some(true)
            && self.never_extractable != Some(false)
    }
}

/// A token opened to generate a key on it: found without a PIN, then
/// logged in once ([`Pkcs11Token::login`]); the key generated, its test
/// signature and its transcript record all use that one session, so the
/// PIN is asked once per command.
pub struct Pkcs11Token {
    ctx: Pkcs11,
    slot: Slot,
    info: cryptoki::slot::TokenInfo,
    module: PathBuf,
    uri: Pkcs11Uri,
    session: Option<Session>,
    pin: Option<Pin>,
}

impl Pkcs11Token {
    /// Finds the one token the URI names. Asks for no PIN.
    pub fn find(uri: &Pkcs11Uri) -> Result<Self, Error> {
        let module = uri.module()?;
        let ctx = context(&module)?;
        let (slot, info) = find_slot(&ctx, uri)?;
        Ok(Pkcs11Token {
            ctx,
            slot,
            info,
            module,
            uri: uri.clone(),
            session: None,
            pin: None,
        })
    }

    /// "PKCS#11 token "LABEL" (serial …)".
    pub fn name(&self) -> String {
        token_name(&self.info)
    }

    pub fn label(&self) -> String {
        self.info.label().trim().to_string()
    }

    pub fn serial(&self) -> String {
        self.info.serial_number().trim().to_string()
    }

    pub fn module(&self) -> &Path {
        &self.module
    }

    /// The CKA_IDs of the public key objects labelled `label`: visible
    /// without a login, so checked before any PIN is asked.
    pub fn public_key_ids_labelled(&self, label: &str) -> Result<Vec<Vec<u8>>, Error> {
        let session = open_session(&self.ctx, self.slot, false)?;
        let handles = session
            .find_objects(&[
                Attribute::Class(ObjectClass::PUBLIC_KEY),
                Attribute::Label(label.as_bytes().to_vec()),
            ])
            .map_err(|e| ck("cannot search the token for keys", e))?;
        let mut ids = Vec::new();
        for h in handles {
            for a in session
                .get_attributes(h, &[AttributeType::Id])
                .map_err(|e| ck("cannot read the key's attributes", e))?
            {
                if let Attribute::Id(id) = a {
                    ids.push(id);
                }
            }
        }
        Ok(ids)
    }

    /// Opens a read-write session and logs in: the one PIN prompt.
    pub fn login(&mut self) -> Result<(), Error> {
        self.login_session(true)
    }

    fn login_session(&mut self, rw: bool) -> Result<(), Error> {
        if self.session.is_some() {
            return Ok(());
        }
        let session = open_session(&self.ctx, self.slot, rw)?;
        self.pin = login(&self.ctx, self.slot, &session, &self.info, &self.uri)?;
        self.session = Some(session);
        Ok(())
    }

    fn session(&self) -> Result<&Session, Error> {
        self.session.as_ref().ok_or_else(|| Error::Pkcs11 {
            message: format!("{} is not logged in", self.name()),
            source: None,
        })
    }

    /// The Ed25519 private keys labelled `label` (after [`Self::login`]).
    pub fn private_keys_labelled(&self, label: &str) -> Result<Vec<FoundKey>, Error> {
        let keys = find_private_keys(
            self.session()?,
            &Pkcs11Uri {
                object: Some(label.to_string()),
                ..Default::default()
            },
        )?;
        Ok(keys
            .into_iter()
            .map(|k| FoundKey {
                label: k.label,
                id: k.id,
                local: k.local,
                extractable: k.extractable,
                sensitive: k.sensitive,
                never_extractable: k.never_extractable,
            })
            .collect())
    }

    /// Generates the key pair labelled `label` with CKA_ID `id`.
    pub fn generate(&self, label: &str, id: &[u8], extractable: bool) -> Result<KeyInfo, Error> {
        let session = self.session()?;
        let token = self.name();
        let public_template = vec![
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::EcParams(EC_PARAMS_ED25519_OID.to_vec()),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.to_vec()),
        ];
        let private_template = vec![
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(!extractable),
            Attribute::Extractable(extractable),
            Attribute::Sign(true),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.to_vec()),
        ];
        session
            .generate_key_pair(
                &Mechanism::EccEdwardsKeyPairGen,
                &public_template,
                &private_template,
            )
            .map_err(|e| match e {
                CkError::Pkcs11(RvError::MechanismInvalid, _) => Error::Pkcs11 {
                    message: format!(
                        "{token} cannot generate Ed25519 keys (no CKM_EC_EDWARDS_KEY_PAIR_GEN); \
                         Tailnet Lock needs an Ed25519-capable token"
                    ),
                    source: Some(e),
                },
                other => ck(
                    format!("generating an Ed25519 key on {token} failed"),
                    other,
                ),
            })?;
        self.key_info(id)
    }

    fn key_by_id(&self, id: &[u8]) -> Result<KeyObject, Error> {
        let uri = Pkcs11Uri {
            id: Some(id.to_vec()),
            ..Default::default()
        };
        select_key(
            find_private_keys(self.session()?, &uri)?,
            &uri,
            &self.name(),
        )
    }

    /// What `token show` says about the key with CKA_ID `id`.
    pub fn key_info(&self, id: &[u8]) -> Result<KeyInfo, Error> {
        let key = self.key_by_id(id)?;
        key_info(
            self.session()?,
            &self.name(),
            &self.info,
            &self.module,
            &key,
        )
    }

    /// The key with CKA_ID `id` as a signer on this logged-in session (no
    /// second PIN prompt).
    pub fn into_signer(self, id: &[u8], options: &OpenOptions) -> Result<Pkcs11Signer, Error> {
        let key = self.key_by_id(id)?;
        self.signer_for(key, options)
    }

    fn signer_for(mut self, key: KeyObject, options: &OpenOptions) -> Result<Pkcs11Signer, Error> {
        let token = self.name();
        check_custody(&key, &token, options)?;
        let session = self.session.take().ok_or_else(|| Error::Pkcs11 {
            message: format!("{token} is not logged in"),
            source: None,
        })?;
        let public = read_public_key(&session, &key)?;
        let context_pin = if key.always_authenticate {
            match self.pin.take() {
                Some(p) => Some(p),
                None => Some(obtain_pin(self.uri.pin_source.as_ref(), &token)?),
            }
        } else {
            None
        };
        Ok(Pkcs11Signer {
            session,
            description: format!("key \"{}\" on {token}", key.label),
            custody: key.custody(),
            key,
            public,
            context_pin,
            mechanism: Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
        })
    }
}

/// Describes the key the URI names.
pub fn show(uri: &Pkcs11Uri, options: &OpenOptions) -> Result<KeyInfo, Error> {
    let module = uri.module()?;
    let ctx = context(&module)?;
    let (slot, info) = find_slot(&ctx, uri)?;
    let token = token_name(&info);
    let session = open_session(&ctx, slot, false)?;
    let _pin = login(&ctx, slot, &session, &info, uri)?;
    let key = select_key(find_private_keys(&session, uri)?, uri, &token)?;
    let mut ki = key_info(&session, &token, &info, &module, &key)?;
    let strict = OpenOptions {
        allow_imported: true,
        ..options.clone()
    };
    if check_custody(&key, &token, &strict).is_err() {
        ki.details.push((
            "warning".into(),
            "extractable or not sensitive: locksmith refuses to sign with it without --allow-extractable".into(),
        ));
    }
    if key.imported_because().is_some() {
        ki.details.push((
            "warning".into(),
            "imported, not generated on the token: locksmith refuses to sign with it without --allow-imported-key".into(),
        ));
    }
    Ok(ki)
}

/// Lists the module's tokens and their Ed25519 keys. Without a login only
/// public key objects are visible, so keys are listed by their public half.
pub fn list_tokens(module: &Path) -> Result<Vec<TokenInfo>, Error> {
    let ctx = context(module)?;
    let slots = ctx
        .get_slots_with_token()
        .map_err(|e| ck("cannot list PKCS#11 slots", e))?;
    let mut out = Vec::new();
    for slot in slots {
        let Ok(info) = ctx.get_token_info(slot) else {
            continue;
        };
        if !info.token_initialized() {
            continue;
        }
        let token = token_name(&info);
        let mut keys = Vec::new();
        if let Ok(session) = ctx.open_ro_session(slot) {
            let template = [
                Attribute::Class(ObjectClass::PUBLIC_KEY),
                Attribute::KeyType(KeyType::EC_EDWARDS),
            ];
            for handle in session.find_objects(&template).unwrap_or_default() {
                let attrs = session
                    .get_attributes(
                        handle,
                        &[
                            AttributeType::Label,
                            AttributeType::Id,
                            AttributeType::EcParams,
                            AttributeType::EcPoint,
                            AttributeType::Local,
                        ],
                    )
                    .unwrap_or_default();
                let (mut label, mut id, mut params, mut point) =
                    (String::new(), Vec::new(), None, None);
                let mut local = None;
                for a in attrs {
                    match a {
                        Attribute::Label(l) => label = String::from_utf8_lossy(&l).into_owned(),
                        Attribute::Id(i) => id = i,
                        Attribute::EcParams(p) => params = Some(p),
                        Attribute::EcPoint(p) => point = Some(p),
                        Attribute::Local(b) => local = Some(b),
                        _ => {}
                    }
                }
                // Without a login only the public half is visible; a pair
                // imported onto the token has CKA_LOCAL false on it too.
                let custody = if local == Some(false) {
                    KeyCustody::Imported
                } else {
                    KeyCustody::Hardware
                };
                if params.as_deref().is_some_and(|p| !ec_params_is_ed25519(p)) {
                    continue;
                }
                let Some(public) = point.as_deref().and_then(decode_ec_point) else {
                    continue;
                };
                let uri = Pkcs11Uri {
                    token: Some(info.label().trim().to_string()),
                    object: Some(label.clone()),
                    id: if id.is_empty() {
                        None
                    } else {
                        Some(id.clone())
                    },
                    module_path: Some(module.to_path_buf()),
                    ..Default::default()
                };
                keys.push(KeyInfo {
                    spec: uri.to_uri(),
                    tlpub: tlpub(&public),
                    custody: custody.label(),
                    description: format!("key \"{label}\" on {token}"),
                    details: vec![("id".into(), crate::tka::hex::lower(&id))],
                    attestation_pem: None,
                });
            }
        }
        let uri = Pkcs11Uri {
            token: Some(info.label().trim().to_string()),
            module_path: Some(module.to_path_buf()),
            ..Default::default()
        };
        out.push(TokenInfo {
            kind: "pkcs11",
            description: token,
            spec: uri.to_uri(),
            keys,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_params_forms() {
        assert!(ec_params_is_ed25519(EC_PARAMS_ED25519_OID));
        assert!(ec_params_is_ed25519(EC_PARAMS_EDWARDS25519_NAME));
        assert!(ec_params_is_ed25519(b"\x0c\x07ed25519"));
        assert!(!ec_params_is_ed25519(&[0x06, 0x03, 0x2b, 0x65, 0x71])); // Ed448
        assert!(!ec_params_is_ed25519(b"\x13\x0aedwards448"));
        assert!(!ec_params_is_ed25519(&[0x13, 0x40]));
    }

    #[test]
    fn ec_point_forms() {
        let raw = [7u8; 32];
        assert_eq!(decode_ec_point(&raw), Some(raw));
        let mut der = vec![0x04, 0x20];
        der.extend_from_slice(&raw);
        assert_eq!(decode_ec_point(&der), Some(raw));
        assert_eq!(decode_ec_point(&der[..33]), None);
        assert_eq!(decode_ec_point(&[0x03, 0x20]), None);
    }
}
