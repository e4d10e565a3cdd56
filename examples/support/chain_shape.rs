//! Upstream's chain shape, built with the core's own `UpdateBuilder` and a
//! software key (development only, NOT HARDWARE-BACKED); shared by
//! `examples/gen-chain.rs` and `benches/chain.rs`.
//!
//! The shape follows issue 14's model of a chain from upstream's builder:
//! per seven updates two adds, two removes and three updates, with the
//! builder's own checkpoint every 50 AUMs (about 2,900 adds, 2,900
//! removes, 4,000 updates and 200 checkpoints at 10,000 AUMs).

use locksmith::tka::builder::UpdateBuilder;
use locksmith::tka::signer::{sign_verified, Signer, SoftwareSigner};
use locksmith::tka::{Aum, AumKind, Authority, Key, Meta, Signature, State};

/// Calls `emit` with each AUM of a `count`-AUM chain, genesis first.
pub fn build(
    count: usize,
    mut emit: impl FnMut(&Aum) -> Result<(), Box<dyn std::error::Error>>,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut signer =
        SoftwareSigner::from_seed(&[42; 32], "chain shape (software, not hardware-backed)");
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
    emit(&genesis)?;
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
                    let k = SoftwareSigner::from_seed(&seed, "chain shape extra").public_key();
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
            emit(u)?;
        }
        authority.inform(updates)?;
    }
    Ok(())
}
