//! Showing artifacts to the people present: the text the show stage
//! prints before confirmation (and the transcript records as shown).
//! Everything from the chain is outside text, escaped.

use crate::tka::keyforms::{node_key_text, parse_node_key_binary, tlpub_text};
use crate::tka::nks::NodeKeySignature;
use crate::tka::{hex, Aum, AumKind, Key, State};
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

/// The node key a signature is over, as text.
pub fn node_key_of(sig: &NodeKeySignature) -> Option<String> {
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
