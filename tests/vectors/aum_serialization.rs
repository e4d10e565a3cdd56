use super::desc::aum_from_desc;
use super::harness::{b, cases, hex, load, opt_s, s, Tally};
use locksmith::tka::AumKind;

#[test]
fn aum_serialization() {
    let file = load("aum_serialization.json");
    let vectors = cases(&file, "vectors");
    let mut tally = Tally::new("aum_serialization", vectors.len());
    for v in vectors {
        let name = s(v, "name");
        let aum = aum_from_desc(&v["aum"]);
        let cbor = aum.serialize();
        assert_eq!(
            locksmith::tka::hex::lower(&cbor),
            s(v, "cbor"),
            "{name}: serialization"
        );
        assert_eq!(aum.hash().to_string(), s(v, "hash"), "{name}: hash");
        assert_eq!(
            locksmith::tka::hex::lower(&aum.hash().0),
            s(v, "hash_hex"),
            "{name}: hash_hex"
        );
        assert_eq!(
            locksmith::tka::hex::lower(&aum.sig_hash()),
            s(v, "sighash"),
            "{name}: sighash"
        );
        assert_eq!(
            AumKind(aum.kind.0)
                .name()
                .replace("unknown-", "AUM?<")
                .replace("invalid", "invalid"),
            {
                let k = s(v, "kind");
                if k.starts_with("AUM?<") {
                    k.trim_end_matches('>').to_string()
                } else {
                    k.to_string()
                }
            },
            "{name}: kind name"
        );
        let result = aum.static_validate();
        assert_eq!(
            result.is_ok(),
            b(v, "static_valid"),
            "{name}: static validity ({result:?})"
        );
        if let (Err(e), Some(want)) = (&result, opt_s(v, "static_error")) {
            assert_eq!(
                e.to_string(),
                format!("invalid: {want}"),
                "{name}: static error"
            );
        }
        // The encoding round-trips through the strict decoder.
        let decoded =
            locksmith::tka::Aum::decode(&hex(s(v, "cbor"))).expect("decode own serialization");
        assert_eq!(decoded.serialize(), cbor, "{name}: round trip");
        tally.check();
    }
    tally.finish();
}
