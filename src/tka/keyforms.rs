//! Text and binary forms of public keys.
//!
//! - `tlpub:<hex>` (what the CLI prints) and `nlpub:<hex>` (wire text) name
//!   tailnet lock keys; parsing accepts either, as upstream's
//!   `NLPublic.UnmarshalText` does. Prefixes are case-sensitive, hex is not.
//! - `nodekey:<hex>` names a node key; its binary form inside node-key
//!   signatures is the two ASCII bytes `np` followed by the 32-byte key.

use super::error::Error;
use super::hex;

/// A malformed key text or binary form (carried by [`super::Error::KeyForm`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFormProblem {
    #[error("key text {input:?} doesn't have the expected type prefix {prefix}: give the key as {prefix}<64 hex digits>, as {} prints it", prefix_source(.prefix))]
    Prefix { input: String, prefix: &'static str },
    #[error("key hex in {input:?} must be 64 hex digits (32 bytes): copy the key whole, without spaces or line breaks")]
    Hex { input: String },
    #[error("node key binary form: missing/incorrect type prefix np")]
    BinaryPrefix,
    #[error("node key binary form: incorrect len for NodePublic ({0} != 34)")]
    BinaryLength(usize),
}

fn prefix_source(prefix: &str) -> &'static str {
    match prefix {
        "nodekey:" => "`tailscale status --json` (Self.PublicKey)",
        _ => "`tailscale lock status` or `locksmith token list`",
    }
}

fn shown(input: &str) -> String {
    input.chars().take(90).collect()
}

fn parse_hex32(input: &str, rest: &str) -> Result<[u8; 32], KeyFormProblem> {
    if rest.len() != 64 {
        return Err(KeyFormProblem::Hex {
            input: shown(input),
        });
    }
    hex::decode(rest)
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| KeyFormProblem::Hex {
            input: shown(input),
        })
}

/// Parses `nodekey:<hex>`.
pub fn parse_node_key(input: &str) -> Result<[u8; 32], Error> {
    let rest = input
        .strip_prefix("nodekey:")
        .ok_or_else(|| KeyFormProblem::Prefix {
            input: shown(input),
            prefix: "nodekey:",
        })?;
    Ok(parse_hex32(input, rest)?)
}

/// Parses `tlpub:<hex>` or `nlpub:<hex>`.
pub fn parse_lock_key(input: &str) -> Result<[u8; 32], Error> {
    let rest = input
        .strip_prefix("tlpub:")
        .or_else(|| input.strip_prefix("nlpub:"))
        .ok_or_else(|| KeyFormProblem::Prefix {
            input: shown(input),
            prefix: "tlpub:",
        })?;
    Ok(parse_hex32(input, rest)?)
}

/// `nodekey:<lowercase hex>`.
pub fn node_key_text(key: &[u8]) -> String {
    format!("nodekey:{}", hex::lower(key))
}

/// `tlpub:<lowercase hex>`.
pub fn tlpub_text(key: &[u8]) -> String {
    format!("tlpub:{}", hex::lower(key))
}

/// `nlpub:<lowercase hex>`.
pub fn nlpub_text(key: &[u8]) -> String {
    format!("nlpub:{}", hex::lower(key))
}

/// The node key's binary form: `np` followed by the key.
pub fn node_key_binary(key: &[u8; 32]) -> [u8; 34] {
    let mut out = [0u8; 34];
    out[..2].copy_from_slice(b"np");
    out[2..].copy_from_slice(key);
    out
}

/// Parses the binary form (upstream's `NodePublic.UnmarshalBinary`).
pub fn parse_node_key_binary(binary: &[u8]) -> Result<[u8; 32], Error> {
    if !binary.starts_with(b"np") {
        return Err(KeyFormProblem::BinaryPrefix.into());
    }
    if binary.len() != 34 {
        return Err(KeyFormProblem::BinaryLength(binary.len()).into());
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(&binary[2..]);
    Ok(out)
}

/// Upstream's short display form of a node key: `[` + the first five
/// characters of the key's standard base64 + `]`.
pub fn node_key_short(key: &[u8; 32]) -> String {
    let b64 = data_encoding::BASE64.encode(key);
    format!("[{}]", &b64[..5])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_prefix_says_which_form_to_give() {
        let e = parse_lock_key("abcd").unwrap_err();
        assert!(matches!(
            e,
            Error::KeyForm(KeyFormProblem::Prefix {
                prefix: "tlpub:",
                ..
            })
        ));
        assert!(
            e.to_string()
                .ends_with("give the key as tlpub:<64 hex digits>, as `tailscale lock status` or `locksmith token list` prints it"),
            "{e}"
        );
        let e = parse_node_key("nodekey:12").unwrap_err();
        assert!(
            e.to_string()
                .ends_with("copy the key whole, without spaces or line breaks"),
            "{e}"
        );
    }
}
