//! Showing artifacts to programs (`--json`); the text renderings the
//! signing commands show before they ask for confirmation are the
//! library's (`crate::ceremony::render`).

use crate::ceremony::render::node_key_of;
pub use crate::ceremony::render::{
    aum_text, key_line, key_name, nks_text, state_text, unsigned_aum_text,
};
use crate::tka::keyforms::tlpub_text;
use crate::tka::nks::NodeKeySignature;
use crate::tka::{hex, Aum, Key, State};
use serde_json::{json, Value};

pub fn key_json(key: &Key) -> Value {
    json!({
        "tlpub": tlpub_text(key.public.as_deref().unwrap_or(&[])),
        "votes": key.votes,
        "meta": key.meta.clone().unwrap_or_default(),
    })
}

pub fn state_json(st: &State) -> Value {
    json!({
        "state_id1": st.state_id1,
        "state_id2": st.state_id2,
        "keys": st.keys().iter().map(key_json).collect::<Vec<_>>(),
        "disablement_values": st.disablement_values().map(hex::lower).collect::<Vec<_>>(),
    })
}

pub fn aum_json(aum: &Aum) -> Value {
    let mut v = json!({
        "type": "aum",
        "kind": aum.kind.name(),
        "hash": aum.hash().to_string(),
        "sighash": hex::lower(&aum.sig_hash()),
        "cbor": hex::lower(&aum.serialize()),
        "prev": aum.parent().map(|p| Value::String(p.to_string())).unwrap_or(Value::Null),
        "signatures": aum.signatures().iter().map(|s| json!({
            "key_id": hex::lower(s.key_id()),
            "tlpub": tlpub_text(s.key_id()),
            "signature": hex::lower(s.signature()),
        })).collect::<Vec<_>>(),
    });
    if let Some(k) = &aum.key {
        v["key"] = key_json(k);
    }
    if let Some(id) = aum.key_id.as_deref().filter(|k| !k.is_empty()) {
        v["key_id"] = json!(tlpub_text(id));
    }
    if let Some(votes) = aum.votes {
        v["votes"] = json!(votes);
    }
    if let Some(m) = &aum.meta {
        v["meta"] = json!(m);
    }
    if let Some(st) = &aum.state {
        v["state"] = state_json(st);
    }
    v
}

pub fn nks_json(sig: &NodeKeySignature) -> Value {
    let mut v = json!({
        "type": "nks",
        "sig_kind": sig.kind.name(),
        "sighash": hex::lower(&sig.sig_hash()),
        "cbor": hex::lower(&sig.serialize()),
        "depth": sig.depth(),
    });
    if let Some(nk) = node_key_of(sig) {
        v["node_key"] = json!(nk);
    }
    if let Some(id) = sig.key_id.as_deref().filter(|k| !k.is_empty()) {
        v["key_id"] = json!(hex::lower(id));
        v["signer"] = json!(tlpub_text(id));
    }
    if let Some(w) = sig.wrapping_pubkey.as_deref().filter(|k| !k.is_empty()) {
        v["wrapping_pubkey"] = json!(tlpub_text(w));
    }
    if let Some(n) = &sig.nested {
        v["nested"] = nks_json(n);
    }
    v
}
