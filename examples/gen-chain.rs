//! Writes a directory of raw AUM files with upstream's chain shape, for
//! measuring `locksmith lock status --json --chain DIR` (issue 14).
//!
//! `cargo run --release --example gen-chain -- DIR COUNT`
//!
//! Built with the core's own `UpdateBuilder` and software keys (development
//! only, NOT HARDWARE-BACKED); the shape is in `support/chain_shape.rs`
//! (shared with `benches/chain.rs`).

#[path = "support/chain_shape.rs"]
mod chain_shape;

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(count)) = (args.next(), args.next()) else {
        return Err("usage: gen-chain DIR COUNT".into());
    };
    let dir = PathBuf::from(dir);
    let count: usize = count.parse()?;
    std::fs::create_dir_all(&dir)?;
    let mut written = 0usize;
    chain_shape::build(count, |aum| {
        std::fs::write(dir.join(format!("{written:07}.aum")), aum.serialize())?;
        written += 1;
        Ok(())
    })?;
    eprintln!("wrote {written} AUMs to {}", dir.display());
    Ok(())
}
