//! key_forms, signature_semantics and disablement_kdf.

use super::harness::{b, cases, hex, load, s, Tally};
use locksmith::tka::{disablement, keyforms, sig};

#[test]
fn key_forms() {
    let file = load("key_forms.json");
    let forms = cases(&file, "forms");
    let parse = cases(&file, "parse");
    let mut tally = Tally::new("key_forms", forms.len() + parse.len() + 1);
    for f in forms {
        let raw: [u8; 32] = hex(s(f, "raw")).try_into().expect("32 bytes");
        assert_eq!(keyforms::node_key_text(&raw), s(f, "nodekey"));
        assert_eq!(keyforms::tlpub_text(&raw), s(f, "tlpub"));
        assert_eq!(keyforms::nlpub_text(&raw), s(f, "nlpub"));
        assert_eq!(
            locksmith::tka::hex::lower(&keyforms::node_key_binary(&raw)),
            s(f, "node_binary")
        );
        assert_eq!(
            data_encoding::BASE64.encode(&keyforms::node_key_binary(&raw)),
            s(f, "node_binary_b64")
        );
        assert_eq!(keyforms::node_key_short(&raw), s(f, "node_short_string"));
        assert_eq!(
            keyforms::parse_node_key(s(f, "nodekey")).expect("parse"),
            raw
        );
        assert_eq!(keyforms::parse_lock_key(s(f, "tlpub")).expect("parse"), raw);
        tally.check();
    }
    for p in parse {
        let input = s(p, "input");
        let result = match s(p, "type") {
            "nodekey" => keyforms::parse_node_key(input),
            "nlpublic" => keyforms::parse_lock_key(input),
            "node_binary" => keyforms::parse_node_key_binary(&hex(input)),
            other => panic!("unknown parse type {other}"),
        };
        assert_eq!(result.is_ok(), b(p, "ok"), "{input}: {result:?}");
        if let Ok(raw) = result {
            assert_eq!(locksmith::tka::hex::lower(&raw), s(p, "raw"));
        }
        tally.check();
    }
    let d = &file["disablement_text"];
    let secret = hex(s(d, "secret_hex"));
    assert_eq!(*disablement::secret_text(&secret), s(d, "cli_init_output"));
    assert_eq!(
        disablement::value_text(&hex(s(d, "value_hex"))),
        s(d, "disablement_kdf_output")
    );
    tally.check();
    tally.finish();
}

#[test]
fn signature_semantics() {
    let file = load("signature_semantics.json");
    let vectors = cases(&file, "vectors");
    let mut tally = Tally::new("signature_semantics", vectors.len());
    for v in vectors {
        let (public, message, signature) = (
            hex(s(v, "public")),
            hex(s(v, "message")),
            hex(s(v, "signature")),
        );
        assert_eq!(
            sig::verify_zip215(&public, &message, &signature),
            b(v, "zip215_valid"),
            "{}: zip215",
            s(v, "name")
        );
        assert_eq!(
            sig::verify_go_std(&public, &message, &signature),
            b(v, "std_valid"),
            "{}: go std",
            s(v, "name")
        );
        tally.check();
    }
    tally.finish();
}

#[test]
fn disablement_kdf() {
    let file = load("disablement_kdf.json");
    let params = &file["params"];
    assert_eq!(
        params["salt_ascii"].as_str(),
        std::str::from_utf8(disablement::DISABLEMENT_SALT).ok()
    );
    assert!(
        s(params, "algorithm").starts_with("argon2i "),
        "the vectors use Argon2i"
    );
    let vectors = cases(&file, "vectors");
    let mut tally = Tally::new("disablement_kdf", vectors.len());
    for v in vectors {
        let secret = hex(s(v, "secret"));
        let value = disablement::disablement_kdf(&secret);
        assert_eq!(locksmith::tka::hex::lower(&value), s(v, "value"));
        assert_eq!(disablement::value_text(&value), s(v, "text"));
        tally.check();
    }
    tally.finish();
}
