use super::chain_scenarios::decode_all;
use super::harness::{b, cases, hex, load, opt_s, s, Tally};
use locksmith::tka::nks::{self, NodeKeySignature, SigKind};
use locksmith::tka::signer::{Signer, SoftwareSigner};
use locksmith::tka::{keyforms, wrapped_authkey, Authority};

#[test]
fn wrapped_authkey_vectors() {
    let file = load("wrapped_authkey.json");
    let authority =
        Authority::from_chain(decode_all(cases(&file["authority"], "aums"))).expect("authority");
    let vectors = cases(&file, "vectors");
    let mut tally = Tally::new("wrapped_authkey", vectors.len());
    for v in vectors {
        let name = s(v, "name");
        let decoded = wrapped_authkey::decode(s(v, "wrapped"));
        assert_eq!(decoded.is_ok(), b(v, "is_wrapped"), "{name}: {decoded:?}");
        let Ok(w) = decoded else {
            tally.check();
            continue;
        };
        assert_eq!(w.auth_key.as_str(), s(v, "auth_key"), "{name}");
        assert_eq!(
            locksmith::tka::hex::lower(&w.credential.serialize()),
            s(v, "credential_cbor"),
            "{name}"
        );
        assert_eq!(
            w.credential.kind.name(),
            s(v, "credential_sig_kind"),
            "{name}"
        );
        assert_eq!(
            w.private.len() as u64,
            v["private_len"].as_u64().expect("len"),
            "{name}"
        );
        let node_key = keyforms::parse_node_key(s(v, "node_key")).expect("node key");
        // What a node does with it: SignByCredential with the private key.
        let signed = if w.credential.kind != SigKind::CREDENTIAL {
            Err(format!(
                "wrapped signature must be a credential, got {}",
                w.credential.kind
            ))
        } else if w.private.len() != 64 {
            Err("bad private key length".to_string())
        } else {
            let seed: [u8; 32] = w.private[..32].try_into().expect("seed");
            let mut signer = SoftwareSigner::from_seed(&seed, "credential");
            let matches = w.credential.wrapping_pubkey.as_deref() == Some(&w.private[32..]);
            assert_eq!(matches, b(v, "private_matches_wrapping_public"), "{name}");
            assert_eq!(
                signer.public_key()[..],
                w.private[32..],
                "{name}: a consistent key pair"
            );
            nks::sign_rotation(&mut signer, w.credential.clone(), &node_key)
                .map_err(|e| e.to_string())
        };
        match (&signed, opt_s(v, "rotation_nks")) {
            (Ok(sig), Some(want)) => assert_eq!(
                locksmith::tka::hex::lower(&sig.serialize()),
                want,
                "{name}: rotation NKS"
            ),
            (Err(_), None) => {}
            (got, want) => panic!("{name}: signing {got:?} vs {want:?}"),
        }
        let authorized = signed
            .ok()
            .map(|sig| nks::node_key_authorized(authority.state(), &node_key, &sig.serialize()));
        assert_eq!(
            matches!(authorized, Some(Ok(_))),
            b(v, "authorized"),
            "{name}: {authorized:?}"
        );
        let _ =
            NodeKeySignature::decode(&hex(s(v, "credential_cbor"))).expect("credential decodes");
        tally.check();
    }
    tally.finish();
}
