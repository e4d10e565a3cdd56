//! Signing deeplinks: `tailscale://sign-device/v1/?nk=…&tp=…&dn=…&os=…&em=…&hm=…`.
//!
//! `hm` is HMAC-SHA256 over nk‖tp‖dn‖os‖em (no separators) keyed with the
//! little-endian 8 bytes of StateID1. Every node of the tailnet knows
//! StateID1, so the HMAC ties a link to a tailnet but authenticates
//! nothing: whoever can read the tailnet's state can make a valid link.
//! Callers must show the fields for confirmation like any other artifact.
//!
//! Compatibility rule: upstream's validation tests the device name where it
//! means to test `os`, so a link without `os` validates when its HMAC was
//! computed over an empty OS name. Validation here reproduces that;
//! `locksmith lock sign` then refuses empty fields itself.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The fields of a deeplink.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeeplinkParams {
    pub node_key: String,
    pub tlpub: String,
    pub device_name: String,
    pub os_name: String,
    pub login_name: String,
}

/// Upstream's `DeeplinkValidationResult`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeeplinkValidation {
    pub is_valid: bool,
    pub error: String,
    pub params: DeeplinkParams,
}

fn hmac(state_id1: u64, p: &DeeplinkParams) -> [u8; 32] {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&state_id1.to_le_bytes()) else {
        unreachable!("HMAC takes keys of any length")
    };
    for field in [
        &p.node_key,
        &p.tlpub,
        &p.device_name,
        &p.os_name,
        &p.login_name,
    ] {
        mac.update(field.as_bytes());
    }
    mac.finalize().into_bytes().into()
}

/// Go's `url.QueryEscape`.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Go's `url.QueryUnescape`; `None` on a bad escape.
fn query_unescape(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let text = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(text, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Makes a deeplink (upstream's `NewDeeplink`); a refusal is an
/// [`super::Error::Rejected`] worded as upstream's.
pub fn make(state_id1: u64, p: &DeeplinkParams) -> Result<String, super::Error> {
    if !p.node_key.starts_with("nodekey:") {
        return Err(super::Error::rejected(format!(
            "invalid node key {:?}",
            p.node_key
        )));
    }
    if !p.tlpub.starts_with("tlpub:") {
        return Err(super::Error::rejected(format!(
            "invalid tlpub {:?}",
            p.tlpub
        )));
    }
    if p.device_name.is_empty() {
        return Err(super::Error::rejected(format!(
            "invalid device name {:?}",
            p.device_name
        )));
    }
    if p.os_name.is_empty() {
        return Err(super::Error::rejected(format!(
            "invalid os name {:?}",
            p.os_name
        )));
    }
    if p.login_name.is_empty() {
        return Err(super::Error::rejected(format!(
            "invalid login name {:?}",
            p.login_name
        )));
    }
    let hm = super::hex::lower(&hmac(state_id1, p));
    // url.Values.Encode sorts by key.
    let mut pairs = [
        ("dn", p.device_name.as_str()),
        ("em", p.login_name.as_str()),
        ("hm", hm.as_str()),
        ("nk", p.node_key.as_str()),
        ("os", p.os_name.as_str()),
        ("tp", p.tlpub.as_str()),
    ];
    pairs.sort_by_key(|(k, _)| *k);
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", query_escape(k), query_escape(v)))
        .collect();
    Ok(format!("tailscale://sign-device/v1/?{}", query.join("&")))
}

/// The first value of each query parameter, as Go's `url.ParseQuery` +
/// `Get` (pairs that do not unescape, or contain `;`, are dropped).
fn query_get(query: &str, key: &str) -> String {
    for pair in query.split('&') {
        if pair.is_empty() || pair.contains(';') {
            continue;
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (Some(k), Some(v)) = (query_unescape(k), query_unescape(v)) else {
            continue;
        };
        if k == key {
            return v;
        }
    }
    String::new()
}

fn invalid(error: impl Into<String>) -> DeeplinkValidation {
    DeeplinkValidation {
        is_valid: false,
        error: error.into(),
        params: DeeplinkParams::default(),
    }
}

/// Validates a deeplink against the authority's StateID1 (upstream's `ValidateDeeplink`).
pub fn validate(state_id1: u64, url: &str) -> DeeplinkValidation {
    let url = url.split_once('#').map_or(url, |(u, _)| u);
    let Some((scheme, rest)) = url.split_once(':') else {
        return invalid("missing protocol scheme");
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "tailscale" {
        return invalid(format!("unhandled scheme {scheme}, expected tailscale"));
    }
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let Some(authority_and_path) = before_query.strip_prefix("//") else {
        return invalid("unhandled host , expected sign-device");
    };
    let (host, path) = match authority_and_path.find('/') {
        Some(i) => (&authority_and_path[..i], &authority_and_path[i..]),
        None => (authority_and_path, ""),
    };
    if host != "sign-device" {
        return invalid(format!("unhandled host {host}, expected sign-device"));
    }
    let components: Vec<&str> = path.split('/').collect();
    if components.len() != 3 {
        return invalid("invalid path components number found");
    }
    if components[1] != "v1" {
        return invalid(format!(
            "expected v1 deeplink version, found something else: {}",
            components[1]
        ));
    }
    let p = DeeplinkParams {
        node_key: query_get(query, "nk"),
        tlpub: query_get(query, "tp"),
        device_name: query_get(query, "dn"),
        os_name: query_get(query, "os"),
        login_name: query_get(query, "em"),
    };
    if p.node_key.is_empty() {
        return invalid("missing nk (NodeKey) query parameter");
    }
    if p.tlpub.is_empty() {
        return invalid("missing tp (TLPub) query parameter");
    }
    if p.device_name.is_empty() {
        return invalid("missing dn (DeviceName) query parameter");
    }
    if p.login_name.is_empty() {
        return invalid("missing em (EmailAddress) query parameter");
    }
    let hm = query_get(query, "hm");
    if hm.is_empty() {
        return invalid("missing hm (HMAC) query parameter");
    }
    let Some(given) = super::hex::decode(&hm) else {
        return invalid("could not hex-decode hmac");
    };
    let computed = hmac(state_id1, &p);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(&computed[..], &given[..])) {
        return invalid("hmac authentication failed");
    }
    DeeplinkValidation {
        is_valid: true,
        error: String::new(),
        params: p,
    }
}

/// The fields of a well-formed deeplink without checking its HMAC (for
/// showing a link when no authority is at hand).
pub fn validate_fields(url: &str) -> DeeplinkParams {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    DeeplinkParams {
        node_key: query_get(query, "nk"),
        tlpub: query_get(query, "tp"),
        device_name: query_get(query, "dn"),
        os_name: query_get(query, "os"),
        login_name: query_get(query, "em"),
    }
}
