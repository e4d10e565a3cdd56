//! `locksmith inspect`: identify and decode any artifact.

use super::render;
use crate::input::{identify, Artifact, Input};
use crate::tka::{deeplink, recovery, AumKind};
use serde_json::json;

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The artifact: a path, `-` for standard input, or inline text (hex, base64, a URL, …).
    pub input: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: InspectArgs) -> anyhow::Result<()> {
    let input = Input::read(&args.input)?;
    let (encoding, artifact) = identify(&input)?;
    match artifact {
        Artifact::Aum(aum) => {
            if args.json {
                let mut v = render::aum_json(&aum);
                v["encoding"] = json!(encoding.name());
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
            if args.json {
                let mut v = render::nks_json(&sig);
                v["encoding"] = json!(encoding.name());
                super::print_json(&v);
            } else {
                out!("{}", render::nks_text(&sig, None));
                outln!("read as: {}", encoding.name());
            }
        }
        Artifact::WrappedAuthKey(w) => {
            let wrapping = w.credential.wrapping_pubkey.as_deref().unwrap_or(&[]);
            let matches = w.private.len() == 64 && &w.private[32..] == wrapping;
            if args.json {
                super::print_json(&json!({
                    "type": "wrapped_authkey",
                    "auth_key_prefix": w.auth_key.chars().take(16).collect::<String>(),
                    "credential": render::nks_json(&w.credential),
                    "private_key_length": w.private.len(),
                    "private_matches_wrapping_key": matches,
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
            if args.json {
                super::print_json(&json!({
                    "type": "deeplink",
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
    Ok(())
}
