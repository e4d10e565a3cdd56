//! The layer above the pure core that turns a request into signed,
//! written outputs: one [`pipeline`] (preflight → plan → show → confirm →
//! sign → commit) for every signing command, the [`commit`] unit that
//! writes all outputs or none, and the [`terminal`] the people present
//! answer on. See docs/pipeline.md.

pub mod commit;
pub mod generate;
pub mod pipeline;
pub mod revoke;
pub mod terminal;
