//! The core's one error type, [`Error`].
//!
//! Every public function of [`crate::tka`] returns `Result<_, tka::Error>`.
//! Concerns with many cases keep them in a detail enum beside the code that
//! raises them ([`CborProblem`], [`KeyFormProblem`], [`WrapProblem`],
//! [`UpstreamJsonProblem`], [`RebuildProblem`]), carried by one variant of
//! [`Error`]; callers match on `Error::Cbor(CborProblem::TrailingBytes { .. })`
//! and so on. Messages follow upstream's wording where upstream has one, so
//! that they can be compared; locksmith's own messages say what to do next.
//!
//! [`SignerError`] stays the error of the [`super::signer::Signer`] trait
//! itself (what a backend's `sign_digest`/`sign_message` return, and
//! `check_record_message`, the implementors' helper); everything that signs
//! through a signer (`sign_verified`, the builders, `nks::sign_*`) returns
//! [`Error`], the signer's failure carried by [`Error::Signer`].

pub use super::authority::Stage;
pub use super::cbor::CborProblem;
pub use super::keyforms::KeyFormProblem;
pub use super::recovery::RebuildProblem;
pub use super::signer::SignerError;
pub use super::upstream_json::UpstreamJsonProblem;
pub use super::wrapped_authkey::WrapProblem;

use super::hash::AumHash;

/// Why the core rejected an artifact or an operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes are not a CBOR encoding of the expected structure.
    #[error(transparent)]
    Cbor(#[from] CborProblem),
    /// The structure decoded but breaks a static rule (upstream's StaticValidate).
    #[error("invalid: {0}")]
    Invalid(String),
    /// The key is not trusted by the authority (upstream's ErrNoSuchKey).
    #[error("key not found")]
    NoSuchKey,
    /// A state transition, chain or signature check failed.
    #[error("{0}")]
    Rejected(String),
    /// A chain given as single AUMs did not verify ([`super::Authority::from_chain`]):
    /// at which stage, at which AUM when the error belongs to one, and why.
    #[error("{}: {source}", chain_where(.stage, .at))]
    Chain {
        stage: Stage,
        at: Option<AumHash>,
        source: Box<Error>,
    },
    /// A text that should be an AUM hash is not one.
    #[error("not an AUM hash (expected 52 base32 characters, A-Z and 2-7): {0:?}; copy the hash whole, as `locksmith lock log` or `tailscale lock log` prints it")]
    AumHashText(String),
    /// A malformed key text or binary form.
    #[error(transparent)]
    KeyForm(#[from] KeyFormProblem),
    /// A `--TL` suffix of a wrapped auth key did not decode.
    #[error(transparent)]
    Wrap(#[from] WrapProblem),
    /// A `tailscale lock log|status --json=1` export was refused.
    #[error(transparent)]
    UpstreamJson(#[from] UpstreamJsonProblem),
    /// A recovery AUM blob is not the revocation it claims to be.
    #[error(transparent)]
    Rebuild(#[from] RebuildProblem),
    /// A cosigner's key has already signed the recovery AUM.
    #[error("key tlpub:{0} has already signed this recovery AUM; a second signature from the same key adds no votes: pass the blob to a signer who has not signed it yet, or finish with the signatures it has")]
    AlreadySigned(String),
    /// A signature already on a recovery AUM does not verify.
    #[error("existing signature {index} (by tlpub:{key}) does not verify: the blob was altered or corrupted; ask the previous signer for the blob again")]
    BadSignature { index: usize, key: String },
    /// The signer (a token or software key) failed to sign.
    #[error(transparent)]
    Signer(#[from] SignerError),
}

fn chain_where(stage: &Stage, at: &Option<AumHash>) -> String {
    match (stage, at) {
        (Stage::Bootstrap, Some(h)) => format!("the first AUM ({h}) cannot start an authority"),
        (Stage::Bootstrap, None) => "the first AUM cannot start an authority".into(),
        (Stage::Inform, Some(h)) => format!("AUM {h} does not verify"),
        (Stage::Inform, None) => "the chain does not verify".into(),
    }
}

impl Error {
    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Error::Invalid(msg.into())
    }

    pub(crate) fn rejected(msg: impl Into<String>) -> Self {
        Error::Rejected(msg.into())
    }

    /// For a [`Error::Chain`], the error without where it happened;
    /// any other error as it is.
    pub fn innermost(&self) -> &Error {
        match self {
            Error::Chain { source, .. } => source.innermost(),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn already_signed_says_what_to_do() {
        let e = Error::AlreadySigned("ab".into());
        let text = e.to_string();
        assert!(
            text.starts_with("key tlpub:ab has already signed"),
            "{text}"
        );
        assert!(
            text.contains("pass the blob to a signer who has not signed it yet"),
            "{text}"
        );
    }

    #[test]
    fn aum_hash_text_says_where_to_copy_it_from() {
        let e: Error = "not-a-hash".parse::<AumHash>().unwrap_err();
        assert!(matches!(e, Error::AumHashText(ref t) if t == "not-a-hash"));
        assert!(
            e.to_string().ends_with(
                "copy the hash whole, as `locksmith lock log` or `tailscale lock log` prints it"
            ),
            "{e}"
        );
    }

    #[test]
    fn nested_details_display_transparently() {
        let e = Error::from(CborProblem::Empty);
        assert_eq!(e.to_string(), CborProblem::Empty.to_string());
        let e = Error::from(WrapProblem::NotWrapped);
        assert!(e.to_string().contains("--TL"), "{e}");
    }

    #[test]
    fn chain_error_names_the_stage_and_the_aum() {
        let h = AumHash([0; 32]);
        let e = Error::Chain {
            stage: Stage::Inform,
            at: Some(h),
            source: Box::new(Error::rejected("unsigned AUM")),
        };
        assert_eq!(
            e.to_string(),
            format!("AUM {h} does not verify: unsigned AUM")
        );
        assert!(matches!(e.innermost(), Error::Rejected(m) if m == "unsigned AUM"));
    }
}
