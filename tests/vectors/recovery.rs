use super::chain_scenarios::{check_expected_state, decode_all};
use super::harness::{b, cases, hex, load, opt_s, s, Tally};
use locksmith::tka::recovery::{self, cosign};
use locksmith::tka::signer::{Signer, SoftwareSigner};
use locksmith::tka::{keyforms, Aum, AumHash, Authority};
use std::collections::HashMap;

#[test]
fn recovery_vectors() {
    let file = load("recovery.json");
    let seeds: HashMap<String, [u8; 32]> = cases(&file, "signing_keys")
        .iter()
        .map(|k| {
            (
                s(k, "tlpub").to_string(),
                hex(s(k, "seed")).try_into().expect("seed"),
            )
        })
        .collect();
    let scenarios = cases(&file, "scenarios");
    let mut tally = Tally::new("recovery", scenarios.len());
    for sc in scenarios {
        let name = s(sc, "name");
        let authority =
            Authority::from_chain(decode_all(cases(sc, "chain"))).expect("chain verifies");
        assert_eq!(authority.head().to_string(), s(sc, "head"), "{name}: head");
        let revoke: Vec<Vec<u8>> = cases(sc, "revoke")
            .iter()
            .map(|k| {
                keyforms::parse_lock_key(k.as_str().expect("tlpub"))
                    .expect("key")
                    .to_vec()
            })
            .collect();
        let our_key = keyforms::parse_lock_key(s(sc, "our_key")).expect("our key");
        let fork_from: Option<AumHash> = opt_s(sc, "fork_from").map(|h| h.parse().expect("hash"));
        let result =
            recovery::make_retroactive_revocation(&authority, &revoke, &our_key, fork_from);
        assert_eq!(result.is_ok(), b(sc, "ok"), "{name}: {result:?}");
        let unsigned = match result {
            Err(e) => {
                assert_eq!(e.to_string(), s(sc, "error"), "{name}");
                tally.check();
                continue;
            }
            Ok(aum) => aum,
        };
        // The blob upstream builds is the one a cosigner rebuilds and accepts.
        let checked = recovery::check_rebuild(&authority, &unsigned)
            .unwrap_or_else(|e| panic!("{name}: upstream's recovery AUM refused: {e}"));
        let mut revoked: Vec<Vec<u8>> = checked
            .revoked
            .iter()
            .map(|k| k.public.clone().unwrap_or_default())
            .collect();
        let mut trusted_revoke: Vec<Vec<u8>> = revoke
            .iter()
            .filter(|k| authority.key_trusted(k))
            .cloned()
            .collect();
        revoked.sort();
        trusted_revoke.sort();
        assert_eq!(revoked, trusted_revoke, "{name}: revoked set");
        assert_eq!(
            locksmith::tka::hex::lower(&unsigned.serialize()),
            s(sc, "recovery_unsigned"),
            "{name}"
        );
        assert_eq!(
            locksmith::tka::hex::lower(&unsigned.sig_hash()),
            s(sc, "recovery_sighash"),
            "{name}"
        );
        assert_eq!(
            unsigned.parent().map(|p| p.to_string()).as_deref(),
            opt_s(sc, "fork_parent"),
            "{name}: fork parent"
        );
        for c in cases(sc, "cosign") {
            let mut aum: Aum = unsigned.clone();
            for signer in cases(c, "signers") {
                let mut sk =
                    SoftwareSigner::from_seed(&seeds[signer.as_str().expect("tlpub")], "cosigner");
                assert_eq!(
                    keyforms::tlpub_text(&sk.public_key()),
                    signer.as_str().expect("tlpub")
                );
                if aum
                    .signatures()
                    .iter()
                    .any(|x| x.key_id() == sk.public_key())
                {
                    // Upstream accepts a repeated signer (counted once);
                    // locksmith refuses to add one. Build it by hand.
                    assert!(
                        cosign(&mut aum.clone(), &mut sk).is_err(),
                        "{name}: duplicate refused"
                    );
                    let sig = sk.sign_digest(&aum.sig_hash()).expect("sign");
                    aum.signatures
                        .get_or_insert_with(Vec::new)
                        .push(locksmith::tka::Signature::new(sk.public_key(), sig));
                } else {
                    cosign(&mut aum, &mut sk).expect("cosign");
                }
            }
            assert_eq!(
                locksmith::tka::hex::lower(&aum.serialize()),
                s(c, "cbor"),
                "{name}: cosigned CBOR"
            );
            assert_eq!(
                recovery::cli_blob(&aum),
                s(c, "cli_blob"),
                "{name}: CLI blob"
            );
            assert_eq!(aum.hash().to_string(), s(c, "hash"), "{name}");
            let t = recovery::tally(&authority, &aum).expect("tally");
            assert_eq!(
                t.weight,
                c["weight"].as_u64().expect("weight"),
                "{name}: weight"
            );
            assert_eq!(
                t.max_sibling_weight,
                c["max_sibling_weight"].as_u64().expect("max"),
                "{name}: max sibling weight"
            );
            let siblings: Vec<(String, String, u64)> = t
                .siblings
                .iter()
                .map(|x| (x.hash.to_string(), x.kind.name(), x.weight))
                .collect();
            let mut want: Vec<(String, String, u64)> = cases(c, "siblings")
                .iter()
                .map(|x| {
                    (
                        s(x, "hash").to_string(),
                        s(x, "kind").to_string(),
                        x["weight"].as_u64().expect("w"),
                    )
                })
                .collect();
            let mut got = siblings.clone();
            got.sort();
            want.sort();
            assert_eq!(got, want, "{name}: siblings");
            assert_eq!(
                t.inform_error.is_none(),
                b(c, "inform_ok"),
                "{name}: {:?}",
                t.inform_error
            );
            assert_eq!(t.chosen, b(c, "chosen"), "{name}: chosen");
            if b(c, "inform_ok") {
                let mut after = authority.clone();
                after.inform(vec![aum.clone()]).expect("inform");
                assert_eq!(
                    after.head().to_string(),
                    s(c, "head_after"),
                    "{name}: head after"
                );
                let expected = serde_json::json!({
                    "head": s(c, "head_after"),
                    "state_id1": after.state().state_id1,
                    "state_id2": after.state().state_id2,
                    "disablement_values": after.state().disablement_values().map(locksmith::tka::hex::lower).collect::<Vec<_>>(),
                    "trusted_keys": c["trusted_keys_after"],
                });
                check_expected_state(name, &after, &expected);
            }
            // A second signature by the same key is refused.
            if let Some(first) = cases(c, "signers").first() {
                let mut again =
                    SoftwareSigner::from_seed(&seeds[first.as_str().expect("tlpub")], "again");
                assert!(
                    cosign(&mut aum.clone(), &mut again).is_err(),
                    "{name}: duplicate cosignature refused"
                );
            }
        }
        tally.check();
    }
    tally.finish();
}
