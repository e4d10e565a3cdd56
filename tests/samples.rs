//! The files in tests/data/upstream/samples (shaped like what online nodes print)
//! import and verify, with the outcomes upstream recorded in manifest.json.

use locksmith::input::{identify, read_chain, Artifact, Input};
use locksmith::tka::keyforms::{parse_node_key, tlpub_text};
use locksmith::tka::recovery;
use locksmith::tka::{deeplink, disablement, nks, wrapped_authkey, Authority};
use serde_json::Value;
use std::path::PathBuf;

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/upstream/samples")
}

fn manifest() -> Value {
    let text = std::fs::read_to_string(samples().join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).expect("manifest parses")
}

fn path(rel: &str) -> String {
    samples().join(rel).display().to_string()
}

fn authority_from(inputs: &[&str]) -> Authority {
    let args: Vec<String> = inputs.iter().map(|p| path(p)).collect();
    Authority::from_chain(read_chain(&args).expect("chain reads")).expect("chain verifies")
}

fn check_expected(a: &Authority, expected: &Value, what: &str) {
    assert_eq!(
        a.head().to_string(),
        expected["head"].as_str().expect("head"),
        "{what}: head"
    );
    assert_eq!(
        a.state().state_id1,
        expected["state_id1"].as_u64().expect("id1"),
        "{what}"
    );
    assert_eq!(
        a.state().state_id2,
        expected["state_id2"].as_u64().expect("id2"),
        "{what}"
    );
    let keys: Vec<String> = a
        .keys()
        .iter()
        .map(|k| tlpub_text(k.public.as_deref().unwrap_or(&[])))
        .collect();
    let want: Vec<String> = expected["trusted_keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["tlpub"].as_str().expect("tlpub").to_string())
        .collect();
    assert_eq!(keys, want, "{what}: trusted keys");
    let values: Vec<String> = a
        .state()
        .disablement_values()
        .map(locksmith::tka::hex::lower)
        .collect();
    let want: Vec<String> = expected["disablement_values"]
        .as_array()
        .expect("values")
        .iter()
        .map(|v| v.as_str().expect("hex").to_string())
        .collect();
    assert_eq!(values, want, "{what}: disablement values");
}

#[test]
fn chain_files_log_export_and_raw_files_agree_with_upstream() {
    let m = manifest();
    let expected = &m["chain"]["expected"];
    check_expected(&authority_from(&["chain"]), expected, "chain/ (hex files)");
    check_expected(
        &authority_from(&["chain-raw"]),
        expected,
        "chain-raw/ (raw CBOR)",
    );
    check_expected(
        &authority_from(&["lock-log.json"]),
        expected,
        "lock-log.json",
    );
    // Single files in chain order, as upstream takes them.
    let mut files: Vec<String> = std::fs::read_dir(samples().join("chain"))
        .expect("dir")
        .map(|e| e.expect("entry").path().display().to_string())
        .collect();
    files.sort();
    let refs: Vec<&str> = files.iter().map(String::as_str).collect();
    let args: Vec<String> = refs.iter().map(|s| s.to_string()).collect();
    check_expected(
        &Authority::from_chain(read_chain(&args).expect("reads")).expect("verifies"),
        expected,
        "chain files one by one",
    );
}

#[test]
fn status_export_names_the_same_head_and_keys() {
    let input = Input::read(&path("lock-status.json")).expect("read");
    let Ok((_, Artifact::LockStatus(status))) = identify(&input) else {
        panic!("not a status export")
    };
    let a = authority_from(&["lock-log.json"]);
    assert_eq!(status.head.as_deref(), Some(a.head().to_string().as_str()));
    assert_eq!(status.state, Some(a.state().state_id1));
    let keys: Vec<String> = a
        .keys()
        .iter()
        .map(|k| tlpub_text(k.public.as_deref().unwrap_or(&[])))
        .collect();
    let listed: Vec<String> = status
        .trusted_keys
        .iter()
        .map(|k| k.public.clone())
        .collect();
    assert_eq!(keys, listed);
    assert_eq!(status.filtered_peers.len(), 3, "three locked-out peers");
}

#[test]
fn node_key_signatures_authorize_as_upstream_says() {
    let m = manifest();
    let a = authority_from(&["chain"]);
    let entries = m["nks"].as_array().expect("nks");
    assert!(!entries.is_empty());
    for e in entries {
        let file = e["file"].as_str().expect("file");
        let input = Input::read(&path(file)).expect("read");
        let Ok((_, Artifact::Nks(sig))) = identify(&input) else {
            panic!("{file}: not an NKS")
        };
        let key = parse_node_key(e["node_key"].as_str().expect("node key")).expect("key");
        let result = nks::node_key_authorized(a.state(), &key, &sig.serialize());
        assert_eq!(
            result.is_ok(),
            e["authorized"].as_bool().expect("authorized"),
            "{file}: {result:?}"
        );
        if let (Err(err), Some(want)) = (&result, e["error"].as_str()) {
            assert_eq!(err.to_string(), want, "{file}");
        }
    }
}

#[test]
fn recovery_blobs_tally_as_upstream_says() {
    let m = manifest();
    let a = authority_from(&["chain"]);
    for v in m["recovery"]["variants"].as_array().expect("variants") {
        let aum_file = v["file"].as_str().expect("file");
        let aum = locksmith::input::read_aum(&path(aum_file)).expect("recovery AUM");
        let blob =
            std::fs::read_to_string(samples().join(v["cli_blob_file"].as_str().expect("blob")))
                .expect("blob");
        assert_eq!(
            recovery::cli_blob(&aum),
            blob.trim(),
            "{aum_file}: CLI blob"
        );
        let t = recovery::tally(&a, &aum).expect("tally");
        assert_eq!(
            t.fork_parent.to_string(),
            v["fork_parent"].as_str().expect("fork"),
            "{aum_file}"
        );
        assert_eq!(
            t.weight,
            v["weight"].as_u64().expect("weight"),
            "{aum_file}"
        );
        assert_eq!(
            t.max_sibling_weight,
            v["max_sibling_weight"].as_u64().expect("max"),
            "{aum_file}"
        );
        assert_eq!(
            t.chosen,
            v["chosen"].as_bool().expect("chosen"),
            "{aum_file}"
        );
        let mut after = a.clone();
        after.inform(vec![aum]).expect("inform");
        assert_eq!(
            after.head().to_string(),
            v["head_after"].as_str().expect("head"),
            "{aum_file}"
        );
    }
}

#[test]
fn wrapped_auth_key_deeplink_and_disablement_secrets() {
    let m = manifest();
    let a = authority_from(&["chain"]);
    let text = std::fs::read_to_string(samples().join("authkey.txt")).expect("authkey");
    let w = wrapped_authkey::decode(text.trim()).expect("wrapped");
    assert_eq!(
        w.auth_key.as_str(),
        m["authkey"]["auth_key"].as_str().expect("auth key")
    );
    assert_eq!(
        locksmith::tka::hex::lower(&w.credential.serialize()),
        m["authkey"]["credential_cbor"].as_str().expect("cbor")
    );

    let url = std::fs::read_to_string(samples().join("deeplink.txt")).expect("deeplink");
    let v = deeplink::validate(a.state().state_id1, url.trim());
    assert_eq!(
        v.is_valid,
        m["deeplink"]["valid"].as_bool().expect("valid"),
        "{v:?}"
    );

    let secrets =
        std::fs::read_to_string(samples().join("disablement-secrets.txt")).expect("secrets");
    let mut n = 0;
    for line in secrets.lines().filter(|l| !l.trim().is_empty()) {
        let hex = line.trim().trim_start_matches("disablement-secret:");
        let secret = locksmith::tka::hex::decode(hex).expect("hex");
        assert!(
            a.valid_disablement(&secret),
            "{line} is one of the authority's secrets"
        );
        n += 1;
    }
    assert_eq!(n, a.state().disablement_values().count());
    let values = std::fs::read_to_string(samples().join("disablement-values.txt")).expect("values");
    for (line, value) in values
        .lines()
        .filter(|l| !l.trim().is_empty())
        .zip(a.state().disablement_values())
    {
        assert_eq!(line.trim(), disablement::value_text(value));
    }
}
