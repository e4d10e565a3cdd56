use super::chain_scenarios::decode_all;
use super::harness::{b, cases, load, s, Tally};
use locksmith::tka::deeplink::{self, DeeplinkParams};
use locksmith::tka::Authority;

#[test]
fn deeplink_vectors() {
    let file = load("deeplink.json");
    let authority =
        Authority::from_chain(decode_all(cases(&file["authority"], "aums"))).expect("authority");
    let state_id1 = file["state_id1"].as_u64().expect("state_id1");
    assert_eq!(authority.state().state_id1, state_id1);
    let make = cases(&file, "make");
    let validate = cases(&file, "validate");
    let mut tally = Tally::new("deeplink", make.len() + validate.len());
    for m in make {
        let p = &m["params"];
        let params = DeeplinkParams {
            node_key: s(p, "nk").into(),
            tlpub: s(p, "tp").into(),
            device_name: s(p, "dn").into(),
            os_name: s(p, "os").into(),
            login_name: s(p, "em").into(),
        };
        let result = deeplink::make(state_id1, &params);
        assert_eq!(result.is_ok(), b(m, "ok"), "{params:?}: {result:?}");
        match result {
            Ok(url) => {
                assert_eq!(url, s(m, "url"));
                let v = deeplink::validate(state_id1, &url);
                assert!(v.is_valid, "own link validates: {v:?}");
                assert_eq!(v.params, params);
            }
            Err(e) => assert_eq!(e.to_string(), s(m, "error")),
        }
        tally.check();
    }
    for v in validate {
        let name = s(v, "name");
        let r = &v["result"];
        let got = deeplink::validate(state_id1, s(v, "url"));
        assert_eq!(got.is_valid, b(r, "IsValid"), "{name}: {got:?}");
        assert_eq!(got.error, s(r, "Error"), "{name}");
        assert_eq!(got.params.node_key, s(r, "NodeKey"), "{name}");
        assert_eq!(got.params.tlpub, s(r, "TLPub"), "{name}");
        assert_eq!(got.params.device_name, s(r, "DeviceName"), "{name}");
        assert_eq!(got.params.os_name, s(r, "OSName"), "{name}");
        assert_eq!(got.params.login_name, s(r, "EmailAddress"), "{name}");
        tally.check();
    }
    tally.finish();
}
