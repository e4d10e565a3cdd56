//! The one error type of the ceremony layer (`ceremony::Error`).
//!
//! Every function of `src/ceremony/` returns it; the CLI turns it into its
//! message and exit status and never inspects strings. What the layer
//! cannot do is one variant per cause the CLI (or a test) tells apart: a
//! refusal with the next step in its words ([`Error::Refused`]), the
//! person stopping at a prompt ([`Error::Terminal`], see
//! [`Error::is_interruption`]), a pipeline stage ([`Error::Pipeline`]),
//! and the lower layers' own typed errors, kept whole. [`Context`] adds
//! what the ceremony was doing ("opening signer …", "reading --chain …")
//! around any of them.
//!
//! Display: `{}` is the outermost message; `{:#}` is the whole chain
//! joined by ": ", the form the CLI prints (the same text as each layer's
//! message followed by its causes). `source()` gives that chain one cause
//! at a time, so a caller holding the error as `dyn Error` sees it too.

use std::fmt;

/// Declares [`Error`] with the ceremony's own variants and one variant per
/// lower-layer error listed, each kept whole: the variant, its `From` and
/// its arm in `Error::lower` come from the one list below.
macro_rules! ceremony_error {
    ($($(#[$doc:meta])* $variant:ident($ty:ty),)*) => {
        /// The ceremony layer's error.
        #[derive(Debug)]
        pub enum Error {
            /// The ceremony refuses: an input, a state or an option it will not go
            /// on with. The message says what was wrong and what to do next.
            Refused(String),
            /// What the ceremony was doing when `source` happened.
            Context { context: String, source: Box<Error> },
            /// A pipeline stage (or the pipeline's own check) stopped the command.
            Pipeline(Box<crate::ceremony::pipeline::PipelineError>),
            /// A transcript did not pass `ceremony verify`.
            Audit(Box<crate::ceremony::transcript_audit::AuditError>),
            $($(#[$doc])* $variant($ty),)*
        }

        impl Error {
            /// The lower-layer error this one holds, as `dyn Error` (for the
            /// chain), or `None` for the ceremony's own variants.
            fn lower(&self) -> Option<&(dyn std::error::Error + 'static)> {
                match self {
                    Error::Refused(_) | Error::Context { .. } => None,
                    Error::Pipeline(e) => Some(e.as_ref()),
                    Error::Audit(e) => Some(e.as_ref()),
                    $(Error::$variant(e) => Some(e),)*
                }
            }
        }

        $(impl From<$ty> for Error {
            fn from(e: $ty) -> Self {
                Error::$variant(e)
            }
        })*
    };
}

ceremony_error!(
    /// A prompt gave no answer (Ctrl-C, Ctrl-D, no terminal).
    Terminal(crate::ceremony::terminal::TerminalError),
    /// Writing the outputs as one unit failed (nothing was written).
    Commit(crate::ceremony::commit::CommitError),
    /// A key backend: opening a signer, a PIN, signing.
    Signer(crate::signers::Error),
    /// The pure core: AUMs, NKS, the authority's state.
    Tka(crate::tka::Error),
    /// The store of authorities.
    Store(crate::store::StoreError),
    /// An input argument or file.
    Input(crate::input::InputError),
    /// An output file.
    Output(crate::output::OutputError),
    /// Files, QR codes and envelopes that cross the air gap.
    Exchange(crate::exchange::ExchangeError),
    /// Disablement secrets and their age files.
    Secrets(crate::secrets::SecretsError),
    /// A kept transcript.
    Transcript(crate::transcript::TranscriptError),
    /// A ceremony plan.
    Plan(crate::ceremony_plan::PlanError),
    /// The air-gap check.
    Airgap(crate::airgap::AirgapError),
    /// The lockout checks of a change.
    Lockout(crate::lockout::LockoutError),
    /// A status export the lockout checks read.
    Export(crate::lockout_export::ExportError),
    /// A token attestation.
    Attestation(crate::attestation_policy::AttestationError),
    /// A wrapped pre-auth key.
    Wrap(crate::tka::wrapped_authkey::WrapProblem),
    /// The lockout checks refused a change.
    LockoutRefused(crate::lockout::LockoutRefusal),
    /// A secret read from a file or standard input (too long, not text).
    SecretRead(crate::secrets::secret_buf::BoundedReadError),
    /// A ceremony plan's answers file (TOML).
    Answers(toml::de::Error),
    /// Bytes that had to be UTF-8 text.
    NotText(std::str::Utf8Error),
    /// A number in an argument.
    Number(std::num::ParseIntError),
    /// A file or directory, with no more specific owner.
    Io(std::io::Error),
    /// JSON written or read by the ceremony itself.
    Json(serde_json::Error),
);

/// The ceremony layer's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A refusal in the ceremony's own words.
    pub fn refused(message: impl fmt::Display) -> Self {
        Error::Refused(message.to_string())
    }

    /// This error with what the ceremony was doing around it.
    pub fn context(self, context: impl fmt::Display) -> Self {
        Error::Context {
            context: context.to_string(),
            source: Box::new(self),
        }
    }

    /// Whether the person at the terminal stopped the command at a prompt
    /// (Ctrl-C, or Ctrl-D where an answer was needed), here or in a stage,
    /// a PIN prompt of the signers or a command `ceremony run` started.
    pub fn is_interruption(&self) -> bool {
        match self {
            Error::Context { source, .. } => source.is_interruption(),
            Error::Terminal(t) => t.is_interruption(),
            Error::Pipeline(p) => p.is_interruption(),
            Error::Signer(s) => s.is_interruption(),
            _ => false,
        }
    }
}

/// [`Error::is_interruption`] for any error a caller holds as `dyn Error`
/// (one link of the chain of causes the CLI walks): this layer's, the
/// pipeline's, the terminal's, or a signer's PIN prompt.
pub fn is_interruption(e: &(dyn std::error::Error + 'static)) -> bool {
    use crate::ceremony::pipeline::PipelineError;
    use crate::ceremony::terminal::TerminalError;
    if let Some(e) = e.downcast_ref::<Error>() {
        return e.is_interruption();
    }
    if let Some(e) = e.downcast_ref::<PipelineError>() {
        return e.is_interruption();
    }
    if let Some(e) = e.downcast_ref::<TerminalError>() {
        return e.is_interruption();
    }
    e.downcast_ref::<crate::signers::Error>()
        .is_some_and(crate::signers::Error::is_interruption)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Refused(message) => f.write_str(message),
            Error::Context { context, source } => {
                if f.alternate() {
                    write!(f, "{context}: {source:#}")
                } else {
                    f.write_str(context)
                }
            }
            _ => {
                let Some(lower) = self.lower() else {
                    return Ok(());
                };
                write!(f, "{lower}")?;
                if f.alternate() {
                    let mut cause = lower.source();
                    while let Some(c) = cause {
                        write!(f, ": {c}")?;
                        cause = c.source();
                    }
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Context { source, .. } => Some(source.as_ref()),
            _ => self.lower().and_then(std::error::Error::source),
        }
    }
}

impl From<tempfile::PersistError> for Error {
    fn from(e: tempfile::PersistError) -> Self {
        Error::Io(e.error)
    }
}

impl From<crate::ceremony::pipeline::PipelineError> for Error {
    fn from(e: crate::ceremony::pipeline::PipelineError) -> Self {
        Error::Pipeline(Box::new(e))
    }
}

impl From<crate::ceremony::transcript_audit::AuditError> for Error {
    fn from(e: crate::ceremony::transcript_audit::AuditError) -> Self {
        Error::Audit(Box::new(e))
    }
}

impl From<crate::signers::PinProblem> for Error {
    fn from(e: crate::signers::PinProblem) -> Self {
        Error::Signer(e.into())
    }
}

/// What the ceremony was doing, added to a result's error (the
/// typed counterpart of the CLI's context on its errors).
pub trait Context<T> {
    fn context<C: fmt::Display>(self, context: C) -> Result<T>;
    fn with_context<C: fmt::Display, F: FnOnce() -> C>(self, context: F) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context<C: fmt::Display>(self, context: C) -> Result<T> {
        self.map_err(|e| e.into().context(context))
    }
    fn with_context<C: fmt::Display, F: FnOnce() -> C>(self, context: F) -> Result<T> {
        self.map_err(|e| e.into().context(context()))
    }
}

impl<T> Context<T> for Option<T> {
    fn context<C: fmt::Display>(self, context: C) -> Result<T> {
        self.ok_or_else(|| Error::refused(context))
    }
    fn with_context<C: fmt::Display, F: FnOnce() -> C>(self, context: F) -> Result<T> {
        self.ok_or_else(|| Error::refused(context()))
    }
}

/// `Err(Error::Refused(format!(…)))`.
/// A message given as a string literal with format arguments, or as any
/// `Display` value (a guidance text built elsewhere).
macro_rules! refusal {
    ($fmt:literal $(, $($arg:tt)*)?) => {
        $crate::ceremony::error::Error::Refused(format!($fmt $(, $($arg)*)?))
    };
    ($message:expr $(,)?) => {
        $crate::ceremony::error::Error::refused($message)
    };
}

/// Returns `Err(refusal!(…))` from the enclosing function.
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::ceremony::error::refusal!($($arg)*).into())
    };
}

pub(crate) use {bail, refusal};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alternate_form_is_the_whole_chain_and_source_walks_it() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = Error::from(io)
            .context("reading --chain c.aum")
            .context("preflight");
        assert_eq!(e.to_string(), "preflight");
        assert_eq!(
            format!("{e:#}"),
            "preflight: reading --chain c.aum: no such file"
        );
        let mut chain = Vec::new();
        let mut cause: Option<&dyn std::error::Error> = Some(&e);
        while let Some(c) = cause {
            chain.push(c.to_string());
            cause = c.source();
        }
        assert_eq!(
            chain,
            ["preflight", "reading --chain c.aum", "no such file"]
        );
    }

    #[test]
    fn an_interruption_is_found_through_context_stages_and_pin_prompts() {
        use crate::ceremony::pipeline::{PipelineError, Stage};
        use crate::ceremony::terminal::TerminalError;
        let pin = Error::from(crate::signers::PinProblem::Interrupted {
            what: "token a".into(),
        });
        let staged = Error::from(PipelineError::Step {
            stage: Stage::Preflight,
            error: pin.context("opening signer a"),
        });
        assert!(staged.context("lock init").is_interruption());
        assert!(Error::from(TerminalError::Interrupted("yes".into())).is_interruption());
        assert!(!Error::from(TerminalError::NoTerminal("a PIN".into())).is_interruption());
        assert!(!refusal!("the blob revokes no key").is_interruption());
        // As one link of a chain the CLI walks, without this layer around it.
        let bare = crate::signers::Error::from(crate::signers::PinProblem::Interrupted {
            what: "token a".into(),
        });
        assert!(is_interruption(&bare));
        assert!(!is_interruption(&std::io::Error::other("disk full")));
    }
}
