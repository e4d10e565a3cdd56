//! Showing artifacts to a person (text) and to programs (`--json`).
//! What is shown here is what gets signed: the signing commands print these
//! summaries before they ask for confirmation.

use crate::tka::keyforms::{node_key_text, parse_node_key_binary, tlpub_text};
use crate::tka::nks::NodeKeySignature;
use crate::tka::{hex, Aum, AumKind, Key, State};
use serde_json::{json, Value};
use std::fmt::Write;

/// Looks up a key's `name` meta in a state, for showing signers.
pub fn key_name(state: Option<&State>, key_id: &[u8]) -> Option<String> {
    state?
        .get_key(key_id)
        .ok()?
        .meta_value("name")
        .map(|n| crate::shown::Untrusted::from(n).to_string())
}

fn meta_text(key: &Key) -> String {
    match &key.meta {
        Some(m) if !m.is_empty() => {
            format!(" meta {{{}}}", meta_pairs(m))
        }
        _ => String::new(),
    }
}

/// `k="v", …`: meta names and values come from the chain (outside text).
fn meta_pairs(m: &crate::tka::Meta) -> String {
    use crate::shown::Untrusted;
    let parts: Vec<String> = m
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={:?}",
                Untrusted::from(k.as_str()),
                Untrusted::from(v.as_str())
            )
        })
        .collect();
    parts.join(", ")
}

/// One line per key: tlpub, votes, meta.
pub fn key_line(key: &Key) -> String {
    format!(
        "{} votes {}{}",
        tlpub_text(key.public.as_deref().unwrap_or(&[])),
        key.votes,
        meta_text(key)
    )
}

pub fn key_json(key: &Key) -> Value {
    json!({
        "tlpub": tlpub_text(key.public.as_deref().unwrap_or(&[])),
        "votes": key.votes,
        "meta": key.meta.clone().unwrap_or_default(),
    })
}

/// A multi-line description of an AUM. `state` (the state at its parent)
/// names the signers where it can.
/// [`aum_text`] of an AUM about to be signed: its hash is labelled as the
/// pre-signature hash (the signatures are hashed too, so the final hash
/// differs); the value witnesses compare is the sighash.
pub fn unsigned_aum_text(aum: &Aum, state: Option<&State>) -> String {
    let text = aum_text(aum, state);
    let (_, rest) = text.split_once('\n').unwrap_or(("", &text));
    format!(
        "AUM ({}), pre-signature hash {} (the final hash, printed after signing, differs: signatures are hashed too)\n{rest}",
        aum.kind,
        aum.hash()
    )
}

pub fn aum_text(aum: &Aum, state: Option<&State>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "AUM {} ({})", aum.hash(), aum.kind);
    let _ = writeln!(
        s,
        "  parent:    {}",
        aum.parent()
            .map(|p| p.to_string())
            .unwrap_or_else(|| "none (genesis)".into())
    );
    if let Some(key) = &aum.key {
        let _ = writeln!(s, "  adds key:  {}", key_line(key));
    }
    if let Some(id) = aum.key_id.as_deref().filter(|k| !k.is_empty()) {
        let name = key_name(state, id)
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        let verb = if aum.kind == AumKind::REMOVE_KEY {
            "removes:  "
        } else {
            "key:      "
        };
        let _ = writeln!(s, "  {verb} {}{name}", tlpub_text(id));
    }
    if let Some(v) = aum.votes {
        let _ = writeln!(s, "  votes:     {v}");
    }
    if let Some(m) = &aum.meta {
        let _ = writeln!(s, "  meta:      {{{}}}", meta_pairs(m));
    }
    if let Some(st) = &aum.state {
        let _ = write!(s, "{}", state_text(st, "  "));
    }
    if aum.signatures().is_empty() {
        let _ = writeln!(s, "  signatures: none");
    }
    for sig in aum.signatures() {
        let name = key_name(state, sig.key_id())
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        let _ = writeln!(s, "  signed by: {}{name}", tlpub_text(sig.key_id()));
    }
    s
}

/// A description of a state.
pub fn state_text(st: &State, indent: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{indent}state IDs: {} / {}", st.state_id1, st.state_id2);
    let _ = writeln!(s, "{indent}trusted keys ({}):", st.keys().len());
    for k in st.keys() {
        let _ = writeln!(s, "{indent}  {}", key_line(k));
    }
    let values: Vec<&[u8]> = st.disablement_values().collect();
    let _ = writeln!(s, "{indent}disablement values ({}):", values.len());
    for v in values {
        let _ = writeln!(s, "{indent}  disablement:{}", hex::lower(v));
    }
    s
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

fn node_key_of(sig: &NodeKeySignature) -> Option<String> {
    sig.pubkey
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(|p| match parse_node_key_binary(p) {
            Ok(k) => node_key_text(&k),
            Err(e) => format!("<malformed: {e}>"),
        })
}

/// A multi-line description of a node-key signature.
pub fn nks_text(sig: &NodeKeySignature, state: Option<&State>) -> String {
    let mut s = String::new();
    fn walk(s: &mut String, sig: &NodeKeySignature, state: Option<&State>, depth: usize) {
        let pad = "  ".repeat(depth);
        let _ = writeln!(s, "{pad}{} signature", sig.kind);
        if let Some(nk) = node_key_of(sig) {
            let _ = writeln!(s, "{pad}  node key:      {nk}");
        }
        if let Some(id) = sig.key_id.as_deref().filter(|k| !k.is_empty()) {
            let name = key_name(state, id)
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            let _ = writeln!(s, "{pad}  signed by:     {}{name}", tlpub_text(id));
        }
        if let Some(w) = sig.wrapping_pubkey.as_deref().filter(|k| !k.is_empty()) {
            let _ = writeln!(s, "{pad}  rotation key:  {}", tlpub_text(w));
        }
        if let Some(n) = &sig.nested {
            let _ = writeln!(s, "{pad}  over:");
            walk(s, n, state, depth + 2);
        }
    }
    walk(&mut s, sig, state, 0);
    s
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
