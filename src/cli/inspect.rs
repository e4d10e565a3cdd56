//! `locksmith inspect`: identify and decode any artifact.

use super::render;
use crate::input::{
    artifact_name, cbor_bytes, identify, nks_static_check, Artifact, CborReading, Encoding, Input,
};
use crate::tka::nks::NodeKeySignature;
use crate::tka::{deeplink, recovery, Aum, AumKind};
use serde_json::json;

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The artifact: a path, `-` for standard input, or inline text (hex, base64, a URL, …).
    /// Exits non-zero when it is invalid, after describing what it found.
    pub input: String,
    /// Read the input as this kind instead of detecting it.
    #[arg(long, value_enum)]
    pub kind: Option<InspectKind>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// What `--kind` can force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InspectKind {
    /// An AUM (CBOR, hex or base64).
    Aum,
    /// A node-key signature (CBOR, hex or base64).
    Nks,
    /// A wrapped pre-auth key (`tskey-…--TL…`).
    WrappedAuthKey,
    /// A signing deeplink (`tailscale://sign-device/v1/?…`).
    Deeplink,
    /// `tailscale lock log --json=1` output.
    LockLog,
    /// `tailscale lock status --json=1` output.
    LockStatus,
    /// A `locksmith online export`.
    NodeExport,
}

impl InspectKind {
    fn matches(self, a: &Artifact) -> bool {
        matches!(
            (self, a),
            (Self::Aum, Artifact::Aum(_))
                | (Self::Nks, Artifact::Nks(_))
                | (Self::WrappedAuthKey, Artifact::WrappedAuthKey(_))
                | (Self::Deeplink, Artifact::Deeplink(_))
                | (Self::LockLog, Artifact::LockLog(_))
                | (Self::LockStatus, Artifact::LockStatus(_))
                | (Self::NodeExport, Artifact::NodeExport { .. })
        )
    }
}

/// What inspect found: an artifact, or bytes neither CBOR decoder reads
/// strictly.
enum Found {
    Artifact(Encoding, Artifact),
    Neither(CborReading),
}

fn detect(input: &Input, kind: Option<InspectKind>) -> anyhow::Result<Found> {
    let cbor = cbor_bytes(input);
    match (kind, cbor) {
        (Some(k @ (InspectKind::Aum | InspectKind::Nks)), Some((encoding, bytes))) => {
            let artifact = if k == InspectKind::Aum {
                Artifact::Aum(Aum::decode(&bytes).map_err(|e| {
                    input.invalid(format!(
                        "--kind aum: read as {}, not an AUM: {e}",
                        encoding.name()
                    ))
                })?)
            } else {
                Artifact::Nks(NodeKeySignature::decode(&bytes).map_err(|e| {
                    input.invalid(format!(
                        "--kind nks: read as {}, not a node-key signature: {e}",
                        encoding.name()
                    ))
                })?)
            };
            Ok(Found::Artifact(encoding, artifact))
        }
        (None, Some((encoding, bytes))) => {
            let reading = CborReading::of(encoding, &bytes);
            Ok(match reading.strict() {
                Some(a) => Found::Artifact(encoding, a),
                None => Found::Neither(reading),
            })
        }
        (kind, _) => {
            let (encoding, artifact) = identify(input)?;
            if let Some(k) = kind.filter(|k| !k.matches(&artifact)) {
                return Err(input
                    .invalid(format!(
                        "--kind {}: this is {}",
                        clap::ValueEnum::to_possible_value(&k)
                            .map(|v| v.get_name().to_string())
                            .unwrap_or_default(),
                        artifact_name(&artifact)
                    ))
                    .into());
            }
            Ok(Found::Artifact(encoding, artifact))
        }
    }
}

pub fn run(args: InspectArgs) -> anyhow::Result<()> {
    let input = Input::read(&args.input)?;
    let problems = match detect(&input, args.kind)? {
        Found::Artifact(encoding, artifact) => show(artifact, encoding, args.json),
        Found::Neither(reading) => show_neither(&reading, args.json),
    };
    if !problems.is_empty() {
        anyhow::bail!("{}: invalid: {}", input.name, problems.join("; "));
    }
    Ok(())
}

/// Neither decoder reads the bytes strictly: say so, with both errors,
/// and show what a lenient reading gives.
fn show_neither(r: &CborReading, as_json: bool) -> Vec<String> {
    let err = |v: &Result<(), String>| v.as_ref().err().cloned().unwrap_or_default();
    if as_json {
        super::print_json(&json!({
            "type": "unknown",
            "valid": false,
            "encoding": r.encoding.name(),
            "aum_error": err(&r.aum_valid),
            "nks_error": err(&r.nks_valid),
            "decoded_leniently_as_aum": r.aum.as_ref().ok().map(render::aum_json),
            "decoded_leniently_as_nks": r.nks.as_ref().ok().map(render::nks_json),
        }));
    } else {
        outln!(
            "neither a valid AUM nor a valid node-key signature (read as {})",
            r.encoding.name()
        );
        outln!("  as an AUM:               {}", err(&r.aum_valid));
        outln!("  as a node-key signature: {}", err(&r.nks_valid));
        if let Ok(a) = &r.aum {
            outln!("decoded leniently as an AUM, it shows:");
            out!("{}", render::aum_text(a, None));
        }
        if let Ok(n) = &r.nks {
            outln!("decoded leniently as a node-key signature, it shows:");
            out!("{}", render::nks_text(n, None));
        }
        outln!("  hint:      `--kind aum` or `--kind nks` reads it as one of them");
    }
    vec![format!(
        "read as {}, neither a valid AUM nor a valid node-key signature ({}). \
         Accepted: raw CBOR, hex, base64, `tailscale lock log|status --json=1` output, a signing deeplink or a wrapped auth key; `--kind` forces one reading",
        r.encoding.name(),
        r.both_errors()
    )]
}

/// Prints `artifact` and returns what is wrong with it (empty if valid).
fn show(artifact: Artifact, encoding: Encoding, json_out: bool) -> Vec<String> {
    let args = ShowArgs { json: json_out };
    let mut problems = Vec::new();
    match artifact {
        Artifact::Aum(aum) => {
            if let Err(e) = aum.static_validate() {
                problems.push(format!("AUM: {e}"));
            }
            if args.json {
                let mut v = render::aum_json(&aum);
                v["encoding"] = json!(encoding.name());
                v["valid"] = json!(problems.is_empty());
                v["static_error"] = aum
                    .static_validate()
                    .err()
                    .map(|e| json!(e.to_string()))
                    .unwrap_or(json!(null));
                super::print_json(&v);
            } else {
                out!("{}", render::aum_text(&aum, None));
                if aum.kind == AumKind::CHECKPOINT && aum.parent().is_some() {
                    outln!("  note:      a checkpoint with a parent: a recovery (revoke-keys) AUM or a periodic checkpoint");
                    outln!("  blob:      {}", recovery::cli_blob(&aum));
                }
                if let Err(e) = aum.static_validate() {
                    outln!("  PROBLEM:   {e}");
                }
                outln!("  read as:   {}", encoding.name());
            }
        }
        Artifact::Nks(sig) => {
            let invalid = nks_static_check(&sig).err();
            if let Some(e) = &invalid {
                problems.push(format!("node-key signature: {e}"));
            }
            if args.json {
                let mut v = render::nks_json(&sig);
                v["encoding"] = json!(encoding.name());
                v["valid"] = json!(invalid.is_none());
                v["static_error"] = json!(invalid);
                super::print_json(&v);
            } else {
                out!("{}", render::nks_text(&sig, None));
                if let Some(e) = &invalid {
                    outln!("PROBLEM: {e}");
                }
                outln!("read as: {}", encoding.name());
            }
        }
        Artifact::WrappedAuthKey(w) => {
            let wrapping = w.credential.wrapping_pubkey.as_deref().unwrap_or(&[]);
            let matches = w.private.len() == 64 && &w.private[32..] == wrapping;
            if !matches {
                problems.push(
                    "wrapped auth key: the private key does not match the credential's rotation key"
                        .into(),
                );
            }
            if args.json {
                super::print_json(&json!({
                    "type": "wrapped_authkey",
                    "auth_key_prefix": w.auth_key.chars().take(16).collect::<String>(),
                    "credential": render::nks_json(&w.credential),
                    "private_key_length": w.private.len(),
                    "private_matches_wrapping_key": matches,
                    "valid": matches,
                }));
            } else {
                outln!("wrapped pre-auth key");
                outln!(
                    "  auth key:     {}… (not shown in full)",
                    w.auth_key.chars().take(16).collect::<String>()
                );
                out!(
                    "{}",
                    render::nks_text(&w.credential, None)
                        .lines()
                        .map(|l| format!("  {l}\n"))
                        .collect::<String>()
                );
                outln!(
                    "  private key:  {} bytes, {} the credential's rotation key",
                    w.private.len(),
                    if matches { "matches" } else { "DOES NOT match" }
                );
            }
        }
        Artifact::Deeplink(url) => {
            // Without the authority the HMAC cannot be checked: show the fields.
            let v = deeplink::validate(0, &url);
            let fields = if v.error == "hmac authentication failed" || v.is_valid {
                let p = deeplink::validate_fields(&url);
                Some(p)
            } else {
                None
            };
            if fields.is_none() {
                problems.push(format!("signing deeplink: {}", v.error));
            }
            if args.json {
                super::print_json(&json!({
                    "type": "deeplink",
                    "valid": fields.is_some(),
                    "url": url,
                    "error": if fields.is_some() { serde_json::Value::Null } else { json!(v.error) },
                    "node_key": fields.as_ref().map(|p| p.node_key.clone()),
                    "tlpub": fields.as_ref().map(|p| p.tlpub.clone()),
                    "device_name": fields.as_ref().map(|p| p.device_name.clone()),
                    "os": fields.as_ref().map(|p| p.os_name.clone()),
                    "login": fields.as_ref().map(|p| p.login_name.clone()),
                    "hmac_checked": false,
                }));
            } else {
                outln!("signing deeplink (HMAC not checked: that needs the authority's state ID; use `locksmith lock sign`)");
                match fields {
                    Some(p) => {
                        outln!("  node key:    {}", p.node_key);
                        outln!("  rotation:    {}", p.tlpub);
                        outln!("  device:      {}", p.device_name);
                        outln!("  OS:          {}", p.os_name);
                        outln!("  login:       {}", p.login_name);
                    }
                    None => outln!("  PROBLEM:     {}", v.error),
                }
            }
        }
        Artifact::LockLog(aums) => {
            if args.json {
                super::print_json(&json!({
                    "type": "lock_log",
                    "aums": aums.iter().map(render::aum_json).collect::<Vec<_>>(),
                }));
            } else {
                outln!("tailscale lock log export: {} AUMs, newest first, each matching its stated hash", aums.len());
                for a in &aums {
                    out!("{}", render::aum_text(a, None));
                }
            }
        }
        Artifact::NodeExport { log, status } => {
            if args.json {
                super::print_json(&json!({
                    "type": "node_export",
                    "aums": log.iter().map(render::aum_json).collect::<Vec<_>>(),
                    "head": status.head,
                    "state_id1": status.state,
                    "filtered_peers": status.filtered_peers.iter().map(|p| json!({"id": p.id, "name": p.dns_name, "node_key": p.node_key})).collect::<Vec<_>>(),
                }));
            } else {
                outln!("locksmith online export: a lock log of {} AUMs and a status (head {}, {} locked-out peers)",
                    log.len(), status.head.as_deref().unwrap_or("-"), status.filtered_peers.len());
                outln!("verify it with `locksmith lock import` or `locksmith lock status --chain FILE`");
            }
        }
        Artifact::LockStatus(status) => {
            if args.json {
                super::print_json(&json!({
                    "type": "lock_status",
                    "enabled": status.enabled,
                    "head": status.head,
                    "state_id1": status.state,
                    "node_key": status.node_key,
                    "public_key": status.public_key,
                    "trusted_keys": status.trusted_keys.iter().map(|k| json!({"tlpub": k.public, "votes": k.votes, "meta": k.meta})).collect::<Vec<_>>(),
                    "filtered_peers": status.filtered_peers.iter().map(|p| json!({"id": p.id, "name": p.dns_name, "node_key": p.node_key})).collect::<Vec<_>>(),
                }));
            } else {
                outln!("tailscale lock status export (unverified until checked against a chain)");
                outln!("  enabled:   {}", status.enabled);
                outln!("  head:      {}", status.head.as_deref().unwrap_or("-"));
                outln!(
                    "  state ID:  {}",
                    status
                        .state
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "-".into())
                );
                outln!("  trusted keys ({}):", status.trusted_keys.len());
                for k in &status.trusted_keys {
                    outln!("    {} votes {}", k.public, k.votes);
                }
                outln!("  locked-out peers ({}):", status.filtered_peers.len());
                for p in &status.filtered_peers {
                    outln!("    {} {}", p.node_key, p.dns_name);
                }
            }
        }
    }
    problems
}

struct ShowArgs {
    json: bool,
}
