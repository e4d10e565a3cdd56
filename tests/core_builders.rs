//! Builders, the checkpoint rule, signing through the `Signer` trait, and
//! the rejection paths that the vectors do not reach.

use locksmith::tka::builder::{UpdateBuilder, CHECKPOINT_EVERY};
use locksmith::tka::disablement::disablement_kdf;
use locksmith::tka::signer::{sign_verified, KeyCustody, Signer, SignerError, SoftwareSigner};
use locksmith::tka::{Aum, AumKind, Authority, Key, Signature, State};

fn genesis(signers: &mut [SoftwareSigner]) -> Authority {
    let keys: Vec<Key> = signers
        .iter()
        .map(|s| Key::ed25519(s.public_key(), 1))
        .collect();
    let state = State {
        last_aum_hash: None,
        disablement_values: Some(vec![Some(disablement_kdf(b"test secret").to_vec())]),
        keys: Some(keys),
        state_id1: 11,
        state_id2: 22,
    };
    let mut aum = Aum {
        kind: AumKind::CHECKPOINT,
        state: Some(state),
        ..Default::default()
    };
    let sig_hash = aum.sig_hash();
    for s in signers.iter_mut() {
        let sig = sign_verified(s, &sig_hash).expect("sign");
        aum.signatures
            .get_or_insert_with(Vec::new)
            .push(Signature::new(s.public_key(), sig));
    }
    Authority::bootstrap(aum).expect("bootstrap")
}

#[test]
fn add_update_remove_chain_and_verify() {
    let mut a = SoftwareSigner::from_seed(&[1; 32], "a");
    let b = SoftwareSigner::from_seed(&[2; 32], "b");
    let mut authority = genesis(std::slice::from_mut(&mut a));
    let updates = {
        let mut builder = UpdateBuilder::new(&authority, vec![&mut a]);
        builder
            .add_key(Key::ed25519(b.public_key(), 2))
            .expect("add");
        builder.set_key_votes(&b.public_key(), 3).expect("votes");
        let mut meta = locksmith::tka::Meta::new();
        meta.insert("name".into(), "bob".into());
        builder.set_key_meta(&b.public_key(), meta).expect("meta");
        assert!(
            builder.add_key(Key::ed25519(b.public_key(), 1)).is_err(),
            "duplicate add refused"
        );
        builder.remove_key(&b.public_key()).expect("remove");
        assert!(
            builder.remove_key(&b.public_key()).is_err(),
            "removing an unknown key refused"
        );
        builder.finalize().expect("finalize")
    };
    assert_eq!(updates.len(), 4);
    authority
        .inform(updates)
        .expect("the builder's output verifies");
    assert_eq!(authority.keys().len(), 1);
}

#[test]
fn finalize_inserts_a_checkpoint_every_fifty() {
    let mut a = SoftwareSigner::from_seed(&[3; 32], "a");
    let mut authority = genesis(std::slice::from_mut(&mut a));
    let mut total = 1;
    let mut checkpoints = 0;
    for round in 0..60 {
        let other = SoftwareSigner::from_seed(&[100 + round as u8; 32], "o");
        let updates = {
            let mut builder = UpdateBuilder::new(&authority, vec![&mut a]);
            builder
                .add_key(Key::ed25519(other.public_key(), 1))
                .expect("add");
            builder.finalize().expect("finalize")
        };
        checkpoints += updates
            .iter()
            .filter(|u| u.kind == AumKind::CHECKPOINT)
            .count();
        total += updates.len();
        authority.inform(updates).expect("inform");
    }
    assert_eq!(
        checkpoints, 1,
        "one checkpoint within the first {CHECKPOINT_EVERY} AUMs after genesis: {total} AUMs"
    );
    let chain = authority.active_chain();
    let first_cp = chain
        .iter()
        .skip(1)
        .position(|(_, a)| a.kind == AumKind::CHECKPOINT)
        .expect("a checkpoint")
        + 1;
    // 50 non-checkpoint AUMs since the genesis, then the checkpoint.
    assert_eq!(
        first_cp,
        CHECKPOINT_EVERY + 1,
        "the checkpoint follows the 50th AUM after the genesis"
    );
}

#[test]
fn removing_the_last_key_is_refused() {
    let mut a = SoftwareSigner::from_seed(&[4; 32], "a");
    let mut authority = genesis(std::slice::from_mut(&mut a));
    let mut builder = UpdateBuilder::new(&authority, vec![&mut a]);
    // The builder applies it to its running state (upstream does not check
    // there either); inform refuses it.
    builder
        .remove_key(&SoftwareSigner::from_seed(&[4; 32], "a").public_key())
        .expect("built");
    let updates = builder.finalize().expect("finalize");
    let err = authority.inform(updates).expect_err("refused");
    assert!(
        err.to_string().contains("cannot remove the last key"),
        "{err}"
    );
}

struct LyingSigner(SoftwareSigner);

impl Signer for LyingSigner {
    fn public_key(&self) -> [u8; 32] {
        self.0.public_key()
    }
    fn custody(&self) -> KeyCustody {
        KeyCustody::Hardware
    }
    fn describe(&self) -> String {
        "a faulty token".into()
    }
    fn sign_digest(&mut self, digest: &[u8; 32]) -> Result<[u8; 64], SignerError> {
        let mut sig = self.0.sign_digest(digest)?;
        sig[5] ^= 1;
        Ok(sig)
    }
}

#[test]
fn a_wrong_signature_from_a_token_is_caught_before_use() {
    let mut liar = LyingSigner(SoftwareSigner::from_seed(&[5; 32], "x"));
    let err = sign_verified(&mut liar, &[9; 32]).expect_err("caught");
    assert!(err.to_string().contains("does not verify"), "{err}");
}

#[test]
fn bootstrap_rejections() {
    let mut a = SoftwareSigner::from_seed(&[6; 32], "a");
    let authority = genesis(std::slice::from_mut(&mut a));
    let mut g = authority.head_aum().clone();
    g.signatures = None;
    assert!(Authority::bootstrap(g.clone())
        .unwrap_err()
        .to_string()
        .contains("unsigned AUM"));
    g.kind = AumKind::ADD_KEY;
    assert!(Authority::bootstrap(g)
        .unwrap_err()
        .to_string()
        .contains("must be checkpoint"));
    assert!(Authority::from_chain(vec![]).is_err());
}

#[test]
fn order_by_parent_links_rejects_two_chains() {
    let mut a = SoftwareSigner::from_seed(&[7; 32], "a");
    let mut b = SoftwareSigner::from_seed(&[8; 32], "b");
    let g1 = genesis(std::slice::from_mut(&mut a)).head_aum().clone();
    let g2 = genesis(std::slice::from_mut(&mut b)).head_aum().clone();
    assert!(locksmith::tka::order_by_parent_links(vec![g1.clone(), g2]).is_err());
    assert_eq!(
        locksmith::tka::order_by_parent_links(vec![g1.clone(), g1])
            .expect("dedup")
            .len(),
        1
    );
}
