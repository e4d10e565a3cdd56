use super::chain_scenarios::decode_all;
use super::harness::{b, cases, hex, load, s, Tally};
use locksmith::tka::nks::{self, NodeKeySignature};
use locksmith::tka::signer::{Signer, SoftwareSigner};
use locksmith::tka::{keyforms, Authority};
use serde_json::Value;
use std::collections::HashMap;

fn opt_hex(v: &Value) -> Option<Vec<u8>> {
    v.as_str().map(hex)
}

pub fn nks_from_desc(v: &Value) -> NodeKeySignature {
    NodeKeySignature {
        kind: nks::SigKind(v["SigKind"].as_u64().expect("SigKind") as u8),
        pubkey: opt_hex(&v["Pubkey"]),
        key_id: opt_hex(&v["KeyID"]),
        signature: opt_hex(&v["Signature"]),
        nested: if v["Nested"].is_null() {
            None
        } else {
            Some(Box::new(nks_from_desc(&v["Nested"])))
        },
        wrapping_pubkey: opt_hex(&v["WrappingPubkey"]),
    }
}

fn authorities(file: &Value) -> HashMap<String, Authority> {
    file["authorities"]
        .as_object()
        .expect("authorities")
        .iter()
        .map(|(name, a)| {
            let authority =
                Authority::from_chain(decode_all(cases(a, "aums"))).expect("authority verifies");
            assert_eq!(
                authority.head().to_string(),
                s(a, "head"),
                "authority {name}"
            );
            (name.clone(), authority)
        })
        .collect()
}

fn check(authorities: &HashMap<String, Authority>, c: &Value, nks_bytes: &[u8], ctx: &str) {
    let authority = &authorities[s(c, "authority")];
    let node_key = keyforms::parse_node_key(s(c, "node_key")).expect("node key");
    let result = nks::node_key_authorized(authority.state(), &node_key, nks_bytes);
    assert_eq!(
        result.is_ok(),
        b(c, "ok"),
        "{ctx}: {result:?} vs {:?}",
        c["error"]
    );
    match result {
        Ok(details) => {
            let prev: Option<Vec<String>> = details.map(|d| {
                d.prev_node_keys
                    .iter()
                    .map(|k| keyforms::node_key_text(k))
                    .collect()
            });
            let want: Option<Vec<String>> = c["rotation_prev_node_keys"].as_array().map(|a| {
                a.iter()
                    .map(|k| k.as_str().expect("key").to_string())
                    .collect()
            });
            assert_eq!(prev, want, "{ctx}: rotation details");
        }
        // Decoder messages are our own wording; every other message is upstream's.
        Err(e) if s(c, "error").starts_with("unserialize: cbor:") => {
            assert!(e.to_string().starts_with("unserialize: "), "{ctx}: {e}")
        }
        Err(e) => assert_eq!(e.to_string(), s(c, "error"), "{ctx}: error"),
    }
}

#[test]
fn nks_vectors() {
    let file = load("nks.json");
    let auths = authorities(&file);
    let vectors = cases(&file, "vectors");
    let decoding = cases(&file, "decoding");
    let resign = cases(&file, "resign");
    let mut tally = Tally::new("nks", vectors.len() + decoding.len() + resign.len());
    for v in vectors {
        let name = s(v, "name");
        let sig = nks_from_desc(&v["nks"]);
        assert_eq!(
            locksmith::tka::hex::lower(&sig.serialize()),
            s(v, "cbor"),
            "{name}: cbor"
        );
        assert_eq!(
            locksmith::tka::hex::lower(&sig.sig_hash()),
            s(v, "sighash"),
            "{name}: sighash"
        );
        assert_eq!(
            sig.depth() as u64,
            v["depth"].as_u64().expect("depth"),
            "{name}: depth"
        );
        for c in cases(v, "checks") {
            check(&auths, c, &hex(s(v, "cbor")), name);
        }
        tally.check();
    }
    for v in decoding {
        let name = s(v, "name");
        let result = NodeKeySignature::decode(&hex(s(v, "input")));
        assert_eq!(result.is_ok(), b(v, "accepted"), "{name}: {result:?}");
        if let Ok(sig) = result {
            assert_eq!(sig, nks_from_desc(&v["decoded"]), "{name}: decoded");
            assert_eq!(
                locksmith::tka::hex::lower(&sig.serialize()),
                s(v, "reserialized"),
                "{name}"
            );
            assert_eq!(
                locksmith::tka::hex::lower(&sig.sig_hash()),
                s(v, "sighash"),
                "{name}"
            );
        }
        tally.check();
    }
    for v in resign {
        let name = s(v, "name");
        let private = hex(s(v, "rotation_private"));
        let seed: [u8; 32] = private[..32].try_into().expect("seed");
        assert_eq!(
            &private[32..],
            &SoftwareSigner::from_seed(&seed, "check").public_key()[..]
        );
        let mut rotation = SoftwareSigner::from_seed(&seed, "rotation");
        let node_key = keyforms::parse_node_key(s(v, "new_node_key")).expect("node key");
        let result = nks::resign(&mut rotation, &node_key, &hex(s(v, "old_nks")));
        assert_eq!(result.is_ok(), b(v, "ok"), "{name}: {result:?}");
        if let Ok(bytes) = result {
            assert_eq!(
                locksmith::tka::hex::lower(&bytes),
                s(v, "new_nks"),
                "{name}: new NKS"
            );
            let decoded = NodeKeySignature::decode(&bytes).expect("decodes");
            assert_eq!(
                decoded.depth() as u64,
                v["new_depth"].as_u64().expect("depth"),
                "{name}"
            );
            check(&auths, &v["new_check"], &bytes, name);
        }
        tally.check();
    }
    tally.finish();
}
