use super::harness::{b, cases, hex, load, opt_s, s, Tally};
use locksmith::tka::{Aum, Authority, Error, Stage};
use serde_json::Value;

/// Checks an authority against an `expected` block shared by several files.
pub fn check_expected_state(name: &str, authority: &Authority, expected: &Value) {
    assert_eq!(
        authority.head().to_string(),
        s(expected, "head"),
        "{name}: head"
    );
    let state = authority.state();
    assert_eq!(
        state.state_id1,
        expected["state_id1"].as_u64().expect("state_id1"),
        "{name}: state_id1"
    );
    assert_eq!(
        state.state_id2,
        expected["state_id2"].as_u64().expect("state_id2"),
        "{name}: state_id2"
    );
    let values: Vec<String> = state
        .disablement_values()
        .map(locksmith::tka::hex::lower)
        .collect();
    let want: Vec<String> = expected["disablement_values"]
        .as_array()
        .expect("values")
        .iter()
        .map(|v| v.as_str().expect("hex").to_string())
        .collect();
    assert_eq!(values, want, "{name}: disablement values");
    let keys = authority.keys();
    let want_keys = expected["trusted_keys"].as_array().expect("trusted_keys");
    assert_eq!(
        keys.len(),
        want_keys.len(),
        "{name}: number of trusted keys"
    );
    for (k, w) in keys.iter().zip(want_keys) {
        assert_eq!(
            format!(
                "tlpub:{}",
                locksmith::tka::hex::lower(k.public.as_deref().unwrap_or(&[]))
            ),
            s(w, "tlpub"),
            "{name}: key"
        );
        assert_eq!(
            k.votes,
            w["votes"].as_u64().expect("votes"),
            "{name}: votes"
        );
        let meta: serde_json::Map<String, Value> = k
            .meta
            .iter()
            .flatten()
            .map(|(a, b)| (a.clone(), Value::String(b.clone())))
            .collect();
        let want_meta = w["meta"].as_object().cloned().unwrap_or_default();
        assert_eq!(meta, want_meta, "{name}: key meta");
    }
    if let Some(oldest) = opt_s(expected, "oldest_ancestor") {
        assert_eq!(
            authority.oldest_ancestor().to_string(),
            oldest,
            "{name}: oldest ancestor"
        );
    }
}

/// Upstream's error text, with our one deliberate wording change: a
/// missing parent is reported with its hash instead of "file does not exist".
pub fn same_error(ours: &str, upstream: &str) -> bool {
    if upstream.contains("file does not exist") {
        return ours.starts_with(upstream.split("file does not exist").next().unwrap_or(""))
            && ours.contains("is not known");
    }
    ours == upstream
}

pub fn decode_all(aums: &[Value]) -> Vec<Aum> {
    aums.iter()
        .map(|a| Aum::decode(&hex(a.as_str().expect("hex"))).expect("vector AUM decodes"))
        .collect()
}

#[test]
fn chain_scenarios() {
    let file = load("chain_scenarios.json");
    let scenarios = cases(&file, "scenarios");
    let mut tally = Tally::new("chain_scenarios", scenarios.len());
    for sc in scenarios {
        let name = s(sc, "name");
        let aums = decode_all(cases(sc, "aums"));
        let hashes: Vec<String> = aums.iter().map(|a| a.hash().to_string()).collect();
        let want_hashes: Vec<String> = cases(sc, "aum_hashes")
            .iter()
            .map(|h| h.as_str().expect("hash").to_string())
            .collect();
        assert_eq!(hashes, want_hashes, "{name}: AUM hashes");
        let expected = &sc["expected"];
        match Authority::from_chain(aums) {
            Ok(authority) => {
                assert!(
                    b(expected, "ok"),
                    "{name}: accepted, upstream rejected with {:?}",
                    expected["error"]
                );
                check_expected_state(name, &authority, expected);
            }
            Err(Error::Chain { stage, source, .. }) => {
                let err = *source;
                assert!(
                    !b(expected, "ok"),
                    "{name}: rejected ({err}), upstream accepted"
                );
                let want_stage = s(expected, "stage");
                let ours = match stage {
                    Stage::Bootstrap => "bootstrap",
                    Stage::Inform => "inform",
                };
                assert_eq!(ours, want_stage, "{name}: stage");
                let upstream = s(expected, "error");
                assert!(
                    same_error(&err.to_string(), upstream),
                    "{name}: error\n ours:     {err}\n upstream: {upstream}"
                );
            }
            Err(other) => panic!("{name}: not a chain error: {other}"),
        }
        tally.check();
    }
    tally.finish();
}
