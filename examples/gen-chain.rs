//! Writes a directory of raw AUM files with upstream's chain shape, for
//! measuring `locksmith lock status --json --chain DIR` (issue 14).
//!
//! `cargo run --release --example gen-chain -- DIR COUNT`
//!
//! Built with the core's own `UpdateBuilder` and software keys (development
//! only, NOT HARDWARE-BACKED). The shape follows the model of a chain
//! from upstream's builder: per seven updates two adds, two removes and three
//! updates, with the builder's own checkpoint every 50 AUMs (about 2,900
//! adds, 2,900 removes, 4,000 updates and 200 checkpoints at 10,000).

use locksmith::tka::builder::UpdateBuilder;
use locksmith::tka::signer::{sign_verified, Signer, SoftwareSigner};
use locksmith::tka::{Aum, AumKind, Authority, Key, Meta, Signature, State};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(count)) = (args.next(), args.next()) else {
        return Err("usage: gen-chain DIR COUNT".into());
    };
    let dir = PathBuf::from(dir);
    let count: usize = count.parse()?;
    std::fs::create_dir_all(&dir)?;

    let mut signer =
        SoftwareSigner::from_seed(&[42; 32], "gen-chain (software, not hardware-backed)");
    let primary = signer.public_key();
    let mut genesis = Aum {
        kind: AumKind::CHECKPOINT,
        state: Some(State {
            last_aum_hash: None,
            disablement_values: Some(vec![Some(vec![7; 32])]),
            keys: Some(vec![Key::ed25519(primary, 2)]),
            state_id1: 1,
            state_id2: 2,
        }),
        ..Default::default()
    };
    let sig = sign_verified(&mut signer, &genesis.sig_hash())?;
    genesis.signatures = Some(vec![Signature::new(primary, sig)]);
    let mut authority = Authority::bootstrap(genesis.clone())?;
    let mut written = 0usize;
    let mut write = |aum: &Aum| -> std::io::Result<()> {
        std::fs::write(dir.join(format!("{written:07}.aum")), aum.serialize())?;
        written += 1;
        Ok(())
    };
    write(&genesis)?;
    let mut n = 0u64;
    let mut extra: Option<[u8; 32]> = None;
    while authority.tree().len() < count {
        let updates = {
            let mut b = UpdateBuilder::new(&authority, vec![&mut signer]);
            match (n % 7, extra) {
                (0 | 3, _) => {
                    let mut seed = [0u8; 32];
                    seed[..8].copy_from_slice(&n.to_le_bytes());
                    seed[31] = 1;
                    let k = SoftwareSigner::from_seed(&seed, "gen-chain extra").public_key();
                    b.add_key(Key::ed25519(k, 1))?;
                    extra = Some(k);
                }
                (1, Some(k)) => b.set_key_votes(&k, 1 + n % 3)?,
                (2 | 5, Some(k)) => {
                    b.remove_key(&k)?;
                    extra = None;
                }
                _ => {
                    let mut meta = Meta::new();
                    meta.insert("n".into(), n.to_string());
                    b.set_key_meta(&primary, meta)?;
                }
            }
            b.finalize()?
        };
        n += 1;
        for u in &updates {
            write(u)?;
        }
        authority.inform(updates)?;
    }
    eprintln!("wrote {written} AUMs to {}", dir.display());
    Ok(())
}
