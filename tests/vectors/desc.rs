//! Conversions between the vectors' structural descriptions (AUMDesc,
//! KeyDesc, StateDesc, SigDesc) and the core's types, respecting nil vs
//! empty exactly.

use super::harness::hex;
use locksmith::tka::{Aum, AumHash, AumKind, Key, Meta, Signature, State};
use serde_json::{json, Map, Value};

fn opt_hex(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(hex(s)),
        other => panic!("expected hex or null, got {other}"),
    }
}

fn opt_meta(v: &Value) -> Option<Meta> {
    match v {
        Value::Null => None,
        Value::Object(m) => Some(
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().expect("meta value").to_string()))
                .collect(),
        ),
        other => panic!("expected meta map, got {other}"),
    }
}

pub fn key_from_desc(v: &Value) -> Key {
    Key {
        kind: v["Kind"].as_u64().expect("Kind") as u8,
        votes: v["Votes"].as_u64().expect("Votes"),
        public: opt_hex(&v["Public"]),
        meta: opt_meta(&v["Meta"]),
    }
}

pub fn state_from_desc(v: &Value) -> State {
    State {
        last_aum_hash: opt_hex(&v["LastAUMHash"])
            .map(|b| AumHash(b.try_into().expect("32-byte LastAUMHash"))),
        disablement_values: match &v["DisablementValues"] {
            Value::Null => None,
            Value::Array(a) => Some(a.iter().map(opt_hex).collect()),
            other => panic!("DisablementValues {other}"),
        },
        keys: match &v["Keys"] {
            Value::Null => None,
            Value::Array(a) => Some(a.iter().map(key_from_desc).collect()),
            other => panic!("Keys {other}"),
        },
        state_id1: v["StateID1"].as_u64().unwrap_or(0),
        state_id2: v["StateID2"].as_u64().unwrap_or(0),
    }
}

pub fn aum_from_desc(v: &Value) -> Aum {
    Aum {
        kind: AumKind(v["MessageKind"].as_u64().expect("MessageKind") as u8),
        prev_aum_hash: opt_hex(&v["PrevAUMHash"]),
        key: if v["Key"].is_null() {
            None
        } else {
            Some(key_from_desc(&v["Key"]))
        },
        key_id: opt_hex(&v["KeyID"]),
        state: if v["State"].is_null() {
            None
        } else {
            Some(state_from_desc(&v["State"]))
        },
        votes: v["Votes"].as_u64(),
        meta: opt_meta(&v["Meta"]),
        signatures: match &v["Signatures"] {
            Value::Null => None,
            Value::Array(a) => Some(
                a.iter()
                    .map(|s| Signature {
                        key_id: opt_hex(&s["KeyID"]),
                        signature: opt_hex(&s["Signature"]),
                    })
                    .collect(),
            ),
            other => panic!("Signatures {other}"),
        },
    }
}

fn hex_or_null(b: &Option<Vec<u8>>) -> Value {
    match b {
        None => Value::Null,
        Some(b) => Value::String(locksmith::tka::hex::lower(b)),
    }
}

fn meta_desc(m: &Option<Meta>) -> Value {
    match m {
        None => Value::Null,
        Some(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect::<Map<_, _>>(),
        ),
    }
}

pub fn key_desc(k: &Key) -> Value {
    json!({"Kind": k.kind, "Votes": k.votes, "Public": hex_or_null(&k.public), "Meta": meta_desc(&k.meta)})
}

pub fn state_desc(s: &State) -> Value {
    let mut v = json!({
        "LastAUMHash": s.last_aum_hash.map(|h| Value::String(locksmith::tka::hex::lower(&h.0))).unwrap_or(Value::Null),
        "DisablementValues": match &s.disablement_values { None => Value::Null, Some(a) => Value::Array(a.iter().map(hex_or_null).collect()) },
        "Keys": match &s.keys { None => Value::Null, Some(a) => Value::Array(a.iter().map(key_desc).collect()) },
    });
    v["StateID1"] = json!(s.state_id1);
    v["StateID2"] = json!(s.state_id2);
    v
}

pub fn aum_desc(a: &Aum) -> Value {
    json!({
        "MessageKind": a.kind.0,
        "PrevAUMHash": hex_or_null(&a.prev_aum_hash),
        "Key": a.key.as_ref().map(key_desc).unwrap_or(Value::Null),
        "KeyID": hex_or_null(&a.key_id),
        "State": a.state.as_ref().map(state_desc).unwrap_or(Value::Null),
        "Votes": a.votes.map(|v| json!(v)).unwrap_or(Value::Null),
        "Meta": meta_desc(&a.meta),
        "Signatures": match &a.signatures {
            None => Value::Null,
            Some(s) => Value::Array(s.iter().map(|s| json!({"KeyID": hex_or_null(&s.key_id), "Signature": hex_or_null(&s.signature)})).collect()),
        },
    })
}

/// Normalizes a description from a vector for comparison with [`aum_desc`]:
/// fills absent StateID fields with 0.
pub fn normalize_aum_desc(v: &Value) -> Value {
    aum_desc(&aum_from_desc(v))
}
