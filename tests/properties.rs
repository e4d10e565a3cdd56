//! Property tests for the wire formats: encode/decode round trips,
//! canonical ordering and hash stability.

use locksmith::tka::cbor::{self, Encoder};
use locksmith::tka::nks::{NodeKeySignature, SigKind};
use locksmith::tka::{Aum, AumHash, AumKind, Key, Meta, Signature, State};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

fn meta() -> impl Strategy<Value = Meta> {
    btree_map("[a-zA-Z0-9 _é]{0,6}", "[ -~é]{0,8}", 0..5)
}

fn key() -> impl Strategy<Value = Key> {
    (
        any::<u8>(),
        any::<u64>(),
        option::of(bytes(40)),
        option::of(meta()),
    )
        .prop_map(|(kind, votes, public, meta)| Key {
            kind,
            votes,
            public,
            meta,
        })
}

fn state() -> impl Strategy<Value = State> {
    (
        option::of(any::<[u8; 32]>()),
        option::of(vec(option::of(bytes(33)), 0..4)),
        option::of(vec(key(), 0..4)),
        any::<u64>(),
        any::<u64>(),
    )
        .prop_map(|(last, dv, keys, id1, id2)| State {
            last_aum_hash: last.map(AumHash),
            disablement_values: dv,
            keys,
            state_id1: id1,
            state_id2: id2,
        })
}

fn aum() -> impl Strategy<Value = Aum> {
    (
        any::<u8>(),
        option::of(bytes(33)),
        option::of(key()),
        option::of(bytes(33)),
        option::of(state()),
        option::of(any::<u64>()),
        option::of(meta()),
        option::of(vec((option::of(bytes(33)), option::of(bytes(65))), 0..4)),
    )
        .prop_map(|(kind, prev, key, key_id, state, votes, meta, sigs)| Aum {
            kind: AumKind(kind),
            prev_aum_hash: prev,
            key,
            key_id,
            state,
            votes,
            meta,
            signatures: sigs.map(|s| {
                s.into_iter()
                    .map(|(k, v)| Signature {
                        key_id: k,
                        signature: v,
                    })
                    .collect()
            }),
        })
}

fn nks() -> impl Strategy<Value = NodeKeySignature> {
    let leaf = (
        any::<u8>(),
        option::of(bytes(35)),
        option::of(bytes(33)),
        option::of(bytes(65)),
        option::of(bytes(33)),
    )
        .prop_map(|(k, p, id, s, w)| NodeKeySignature {
            kind: SigKind(k),
            pubkey: p,
            key_id: id,
            signature: s,
            nested: None,
            wrapping_pubkey: w,
        });
    leaf.prop_recursive(4, 8, 1, |inner| {
        (
            inner,
            any::<u8>(),
            option::of(bytes(35)),
            option::of(bytes(65)),
        )
            .prop_map(|(n, k, p, s)| NodeKeySignature {
                kind: SigKind(k),
                pubkey: p,
                signature: s,
                nested: Some(Box::new(n)),
                ..Default::default()
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Serialization is canonical: decoding it and serializing again gives
    /// the same bytes, so the hash is stable across a round trip.
    #[test]
    fn aum_round_trip_is_stable(a in aum()) {
        let bytes = a.serialize();
        let decoded = Aum::decode(&bytes).expect("own serialization decodes");
        prop_assert_eq!(decoded.serialize(), bytes.clone());
        prop_assert_eq!(decoded.hash(), a.hash());
        prop_assert_eq!(decoded.sig_hash(), a.sig_hash());
        // Decoding is a fixed point after one normalization.
        prop_assert_eq!(Aum::decode(&decoded.serialize()).expect("decodes"), decoded);
    }

    /// SigHash ignores signatures; Hash does not.
    #[test]
    fn sighash_ignores_signatures(a in aum(), extra in any::<[u8; 64]>()) {
        let mut b = a.clone();
        b.signatures.get_or_insert_with(Vec::new).push(Signature::new([7; 32], extra));
        prop_assert_eq!(a.sig_hash(), b.sig_hash());
        prop_assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn nks_round_trip_is_stable(n in nks()) {
        let bytes = n.serialize();
        let decoded = NodeKeySignature::decode(&bytes).expect("own serialization decodes");
        prop_assert_eq!(decoded.serialize(), bytes);
        prop_assert_eq!(decoded.sig_hash(), n.sig_hash());
    }

    /// Map keys come out sorted bytewise by their encoding, whatever the
    /// insertion order, and a map written in another order decodes to the
    /// same value (and so to the same hash).
    #[test]
    fn meta_keys_are_canonically_ordered(m in meta()) {
        let mut e = Encoder::new();
        e.text_map(&m);
        let canonical = e.into_bytes();
        let cbor::Value::Map(pairs) = cbor::parse(&canonical).expect("parses") else { panic!("not a map") };
        let encoded_keys: Vec<Vec<u8>> = pairs.iter().map(|(k, _)| {
            let cbor::Value::Text(t) = k else { panic!("text key") };
            let mut e = Encoder::new();
            e.text(std::str::from_utf8(t).expect("utf8"));
            e.into_bytes()
        }).collect();
        let mut sorted = encoded_keys.clone();
        sorted.sort();
        prop_assert_eq!(&encoded_keys, &sorted);
        // Reversed order: same decoded map.
        let mut rev = Encoder::new();
        rev.map_header(m.len());
        for (k, v) in m.iter().rev() {
            rev.text(k);
            rev.text(v);
        }
        let decoded = cbor::decode_text_map(Some(&cbor::parse(&rev.into_bytes()).expect("parses")), "t").expect("decodes");
        prop_assert_eq!(decoded, Some(m));
    }

    /// Non-minimal integer heads decode to the same value.
    #[test]
    fn non_minimal_integers_decode(n in any::<u32>()) {
        let mut wide = vec![0x1b];
        wide.extend_from_slice(&u64::from(n).to_be_bytes());
        prop_assert_eq!(cbor::parse(&wide).expect("parses"), cbor::Value::Unsigned(u64::from(n)));
    }

    /// The decoders never panic, whatever the input.
    #[test]
    fn decoders_never_panic(input in bytes(200)) {
        let _ = Aum::decode(&input);
        let _ = NodeKeySignature::decode(&input);
    }

    /// Truncating a valid AUM anywhere is an error, never a different AUM.
    #[test]
    fn truncation_is_rejected(a in aum(), cut in any::<prop::sample::Index>()) {
        let bytes = a.serialize();
        let at = cut.index(bytes.len());
        prop_assert!(Aum::decode(&bytes[..at]).is_err());
    }
}
