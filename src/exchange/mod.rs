//! Crossing the air gap: the versioned exchange envelope, the raw upstream
//! forms every reader accepts, QR codes out (terminal, PNG, SVG, PDF,
//! animated GIF and HTML) and in (rxing, from photos), and multi-part
//! fountain-coded sequences. See docs/qr.md for the choices made.
//!
//! The entry points:
//! - wrap/unwrap: [`Envelope::new`], [`Envelope::to_bytes`], [`Envelope::from_bytes`];
//! - read an artifact's form (envelope, UR, raw forms): [`parse_artifact`];
//!   QR images and directories of frames: [`read_qr_images`],
//!   [`artifact_from_image`]. Command-line inputs (paths, `-`, inline
//!   text) are read by the one front door, [`crate::input::Input::read`],
//!   which calls these;
//! - write: [`to_raw`] (raw form), [`Envelope::to_bytes`], [`qr_out::plan`]
//!   and [`qr_out::render`] (QR); files are written by [`crate::output`].

pub mod animation;
pub mod cbor;
pub mod envelope;
pub mod error;
pub mod kind;
pub mod multipart;
pub mod node_export;
pub mod qr_code;
pub mod qr_decode;
pub mod qr_out;
pub mod qr_read;
pub mod qr_render;
pub mod raw_forms;
pub mod spare_pages;

pub use envelope::{is_envelope, unix_now, Envelope, Nonce, RequestInfo};
pub use error::{ExchangeError, Result};
pub use kind::ArtifactKind;
pub use multipart::{Progress, Reassembler};
pub use node_export::NodeExport;
pub use qr_code::{Ecc, QrMatrix};
pub use qr_out::{Density, QrContent, QrFormat, QrOptions};
pub use qr_read::{artifact_from_image, artifact_from_qr_contents, read_qr_images};
pub use qr_render::TerminalColors;
pub use raw_forms::{parse_artifact, to_raw, Artifact, InputForm, RawForm};
