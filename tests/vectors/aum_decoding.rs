use super::desc::{aum_desc, normalize_aum_desc};
use super::harness::{b, cases, hex, load, opt_s, s, Tally};
use locksmith::tka::Aum;

#[test]
fn aum_decoding() {
    let file = load("aum_decoding.json");
    let vectors = cases(&file, "vectors");
    let mut tally = Tally::new("aum_decoding", vectors.len());
    for v in vectors {
        let name = s(v, "name");
        let input = hex(s(v, "input"));
        let result = Aum::decode(&input);
        assert_eq!(
            result.is_ok(),
            b(v, "accepted"),
            "{name}: accepted? ours: {result:?}, upstream: {:?}",
            v["error"]
        );
        if let Ok(aum) = result {
            assert_eq!(
                aum_desc(&aum),
                normalize_aum_desc(&v["decoded"]),
                "{name}: decoded structure"
            );
            assert_eq!(
                locksmith::tka::hex::lower(&aum.serialize()),
                s(v, "reserialized"),
                "{name}: reserialized"
            );
            assert_eq!(
                aum.serialize() == input,
                b(v, "reserialized_equals_input"),
                "{name}"
            );
            assert_eq!(aum.hash().to_string(), s(v, "hash"), "{name}: hash");
            assert_eq!(
                locksmith::tka::hex::lower(&aum.sig_hash()),
                s(v, "sighash"),
                "{name}: sighash"
            );
            let valid = aum.static_validate();
            assert_eq!(
                valid.is_ok(),
                b(v, "static_valid"),
                "{name}: static validity {valid:?}"
            );
            if let (Err(e), Some(want)) = (&valid, opt_s(v, "static_error")) {
                assert_eq!(
                    e.to_string(),
                    format!("invalid: {want}"),
                    "{name}: static error"
                );
            }
        }
        tally.check();
    }
    tally.finish();
}
