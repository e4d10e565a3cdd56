//! The kinds of artifact that cross the air gap. The exchange layer treats
//! each as a typed, opaque byte payload; the core decodes the payload.

use serde::{Deserialize, Serialize};

/// What an exchanged payload is. The payload bytes are the artifact's
/// canonical binary form: CBOR for AUMs and node-key signatures, UTF-8 text
/// for the text artifacts (auth keys, deeplinks, upstream JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArtifactKind {
    /// One serialized AUM (CBOR).
    Aum,
    /// A recovery (retroactive revocation) AUM as passed to
    /// `tailscale lock revoke-keys --cosign|--finish` (CBOR).
    RecoveryAum,
    /// The chain as `tailscale lock log --json=1` prints it (JSON text).
    ChainExport,
    /// The status as `tailscale lock status --json=1` prints it (JSON text).
    StatusExport,
    /// What `locksmith online export` writes: status and log together (CBOR,
    /// see [`crate::exchange::NodeExport`]).
    NodeExport,
    /// A node-key signature (CBOR).
    Nks,
    /// A pre-auth key, wrapped (`tskey-...--TL...`) or not (text).
    WrappedAuthKey,
    /// A signing deeplink `tailscale://sign-device/v1/?...` (text).
    SigningDeeplink,
    /// A request to sign node keys (payload defined by the core).
    SignRequest,
    /// A request to cosign a recovery AUM (payload defined by the core).
    CosignRequest,
    /// The `tailscale lock init` arguments for the online side (text, one
    /// argument a line).
    InitCommand,
    /// A generic response (payload defined by the core).
    Response,
    /// Bytes whose kind is not known.
    Opaque,
}

impl ArtifactKind {
    /// Every kind, for listings and tests.
    pub const ALL: [ArtifactKind; 13] = [
        Self::Aum,
        Self::RecoveryAum,
        Self::ChainExport,
        Self::StatusExport,
        Self::NodeExport,
        Self::Nks,
        Self::WrappedAuthKey,
        Self::SigningDeeplink,
        Self::SignRequest,
        Self::CosignRequest,
        Self::InitCommand,
        Self::Response,
        Self::Opaque,
    ];

    /// The kebab-case name used on the wire and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Aum => "aum",
            Self::RecoveryAum => "recovery-aum",
            Self::ChainExport => "chain-export",
            Self::StatusExport => "status-export",
            Self::NodeExport => "node-export",
            Self::Nks => "nks",
            Self::WrappedAuthKey => "wrapped-auth-key",
            Self::SigningDeeplink => "signing-deeplink",
            Self::SignRequest => "sign-request",
            Self::CosignRequest => "cosign-request",
            Self::InitCommand => "init-command",
            Self::Response => "response",
            Self::Opaque => "opaque",
        }
    }

    /// The kind called `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether the payload is UTF-8 text (rather than binary CBOR).
    pub fn is_text(self) -> bool {
        matches!(
            self,
            Self::ChainExport
                | Self::StatusExport
                | Self::WrappedAuthKey
                | Self::SigningDeeplink
                | Self::InitCommand
        )
    }

    /// The raw form upstream uses for this kind, which `exchange decode`
    /// writes by default.
    pub fn default_raw_form(self) -> crate::exchange::RawForm {
        use crate::exchange::RawForm;
        match self {
            Self::RecoveryAum => RawForm::HexUpper,
            k if k.is_text() => RawForm::Text,
            _ => RawForm::Binary,
        }
    }
}

impl std::fmt::Display for ArtifactKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ArtifactKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|k| k.name()).collect();
            format!("unknown artifact kind {s:?}; one of: {}", names.join(", "))
        })
    }
}
