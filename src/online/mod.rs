//! The online-side helper, for a connected machine with the stock
//! `tailscale` CLI: it exports the node's lock status and log for the
//! offline machine, remembers that it asked, and turns the offline
//! machine's answer into the stock `tailscale` commands that apply it.
//! It never holds a tailnet lock key and opens no socket itself: all
//! network traffic is tailscaled's own.

pub mod error;
pub mod export;
pub mod requests;
pub mod submit;
pub mod tailscale;

pub use error::OnlineError;
pub use export::{build_export, ExportSource};
pub use requests::{OutstandingRequest, RequestStore};
pub use submit::{plan_submission, StockCommand, Submission};
pub use tailscale::Tailscale;
