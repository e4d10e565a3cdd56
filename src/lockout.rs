//! Lockout preview: which nodes would stop verifying after a change to the
//! authority, computed from the latest `tailscale lock status --json=1`
//! export. Pure: no files, no devices, no network.
//!
//! Why this exists (upstream facts, tailscale/tailscale):
//! - A node is visible to its peers only while its node-key signature
//!   verifies: `ipn/ipnlocal/tailnet-lock.go` (`tkaFilterNetmapLocked`)
//!   drops every peer whose signature fails
//!   `tka.Authority.NodeKeyAuthorizedWithDetails` (`tka/tka.go`), and peers
//!   whose node key a verified rotation signature names as a previous key.
//! - That check only asks whether the signature's authorizing key (the
//!   innermost key ID of a rotation or credential chain, `tka/sig.go`
//!   `authorizingKeyID`) is in the state (`State.GetKey`): votes play no
//!   part. Removing or revoking a key therefore invalidates every node
//!   signature it made, directly or through a credential.
//! - An update can never take a key's trust away: `tka/state.go`
//!   (`applyVerifiedAUM`, `AUMUpdateKey`) re-validates the key with
//!   `Key.StaticValidate` (`tka/key.go`), which refuses 0 votes ("key votes
//!   must be non-zero"). So `lock update` needs no preview; `lock remove`
//!   and `lock revoke-keys` do.
//!
//! Compatibility rules:
//! - The trust state is always the verified chain's, never the export's
//!   `TrustedKeys`. The export only says which nodes exist and what
//!   signatures they hold; it is hostile input, so a lying export can hide
//!   nodes from the preview but cannot make a signature verify.
//! - An export describes the tailnet at its `Head`. It is current only when
//!   that head is the head the change is built on; otherwise the effect is
//!   unknown and the caller must say so.

use crate::tka::hash::AumHash;
use crate::tka::keyforms::{node_key_short, parse_node_key, tlpub_text};
use crate::tka::nks::{node_key_authorized, NodeKeySignature};
use crate::tka::upstream_json::Status;
use crate::tka::State;
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// Where in the export a node was listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listed {
    /// The exporting node itself (`NodeKey`, `NodeKeySignature`).
    SelfNode,
    /// `VisiblePeers[]`: verified by the exporting node at export time.
    Visible,
    /// `FilteredPeers[]`: already locked out at export time.
    Filtered,
}

/// A node as the status export describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportedNode {
    /// A name to show: the DNS name, or a description of the exporting node.
    pub name: String,
    /// Control's stable node ID (empty for the exporting node).
    pub id: String,
    pub node_key: [u8; 32],
    /// The node-key signature, rebuilt from the export.
    pub signature: Option<NodeKeySignature>,
    pub listed: Listed,
}

/// Why an export could not be read as a list of nodes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockoutError {
    #[error("the status export lists {name:?} with node key {key:?}, which is not nodekey:<64 hex digits>")]
    NodeKey { name: String, key: String },
    #[error("the status export's signature for {name:?} cannot be rebuilt: {reason}")]
    Signature { name: String, reason: String },
    #[error("the status export says tailnet lock is not enabled: it describes no signed nodes")]
    NotEnabled,
    #[error("the status export has no Head: it was not taken on a node with tailnet lock enabled")]
    NoHead,
    #[error("the status export's Head {0:?} is not a base32 AUM hash")]
    BadHead(String),
}

/// The nodes an export lists, with their signatures rebuilt.
pub fn nodes_of(status: &Status) -> Result<Vec<ExportedNode>, LockoutError> {
    if !status.enabled {
        return Err(LockoutError::NotEnabled);
    }
    let mut out = Vec::new();
    let node = |name: String,
                id: &str,
                key: &str,
                sig: Option<&crate::tka::upstream_json::StatusSignature>,
                listed: Listed|
     -> Result<ExportedNode, LockoutError> {
        let node_key = parse_node_key(key).map_err(|_| LockoutError::NodeKey {
            name: name.clone(),
            key: crate::shown::escape(key).into_owned(),
        })?;
        let signature = match sig {
            Some(s) => Some(s.to_nks().map_err(|e| LockoutError::Signature {
                name: name.clone(),
                reason: e.to_string(),
            })?),
            None => None,
        };
        Ok(ExportedNode {
            name,
            id: id.to_string(),
            node_key,
            signature,
            listed,
        })
    };
    if !status.node_key.is_empty() {
        out.push(node(
            "(the exporting node)".to_string(),
            "",
            &status.node_key,
            status.node_key_signature.as_ref(),
            Listed::SelfNode,
        )?);
    }
    for p in &status.visible_peers {
        out.push(node(
            peer_name(&p.dns_name, &p.id),
            &p.id,
            &p.node_key,
            p.node_key_signature.as_ref(),
            Listed::Visible,
        )?);
    }
    for p in &status.filtered_peers {
        out.push(node(
            peer_name(&p.dns_name, &p.id),
            &p.id,
            &p.node_key,
            None,
            Listed::Filtered,
        )?);
    }
    Ok(out)
}

fn peer_name(dns: &str, id: &str) -> String {
    let name = if dns.is_empty() { id } else { dns };
    crate::shown::escape(name.trim_end_matches('.')).into_owned()
}

/// Whether a node verifies under one state, and why not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    Verifies,
    /// Its signature fails; the text is upstream's reason.
    Fails(String),
    /// Its signature verifies, but a verified rotation names its node key
    /// as a previous key, so stock nodes drop it anyway.
    ObsoleteByRotation,
    /// The export carries no signature for it (a filtered peer).
    NoSignature,
}

impl Standing {
    pub fn works(&self) -> bool {
        matches!(self, Standing::Verifies)
    }
}

impl fmt::Display for Standing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Standing::Verifies => f.write_str("verifies"),
            Standing::Fails(why) => write!(f, "signature fails: {why}"),
            Standing::ObsoleteByRotation => {
                f.write_str("superseded: a verified rotation names its node key as a previous key")
            }
            Standing::NoSignature => f.write_str("no signature (already locked out)"),
        }
    }
}

/// One node's standing before and after the change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeOutcome {
    pub node: ExportedNode,
    pub before: Standing,
    pub after: Standing,
    /// The key that ultimately authorizes its signature, if it names one.
    pub authorizing_key: Option<Vec<u8>>,
}

impl NodeOutcome {
    /// Works now and stops working after the change.
    pub fn loses_access(&self) -> bool {
        self.before.works() && !self.after.works()
    }
}

/// The standing of every node in `nodes` under one state, with upstream's
/// rotation rule (previous keys named by a verified rotation are dropped).
pub fn standings(state: &State, nodes: &[ExportedNode]) -> Vec<Standing> {
    let mut obsolete: BTreeSet<[u8; 32]> = BTreeSet::new();
    let mut out: Vec<Standing> = nodes
        .iter()
        .map(|n| match &n.signature {
            None => Standing::NoSignature,
            Some(sig) => match node_key_authorized(state, &n.node_key, &sig.serialize()) {
                Ok(details) => {
                    if let Some(d) = details {
                        obsolete.extend(d.prev_node_keys);
                    }
                    Standing::Verifies
                }
                Err(e) => Standing::Fails(e.to_string()),
            },
        })
        .collect();
    for (s, n) in out.iter_mut().zip(nodes) {
        if s.works() && obsolete.contains(&n.node_key) {
            *s = Standing::ObsoleteByRotation;
        }
    }
    out
}

/// Every node's standing under `before` and `after`.
pub fn preview(before: &State, after: &State, nodes: &[ExportedNode]) -> Vec<NodeOutcome> {
    let b = standings(before, nodes);
    let a = standings(after, nodes);
    nodes
        .iter()
        .zip(b.into_iter().zip(a))
        .map(|(n, (before, after))| NodeOutcome {
            authorizing_key: n
                .signature
                .as_ref()
                .and_then(|s| s.authorizing_key_id().ok().map(<[u8]>::to_vec)),
            node: n.clone(),
            before,
            after,
        })
        .collect()
}

/// What is known about a change's effect on the tailnet's nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Assessment {
    /// Computed from an export taken at the head the change builds on.
    Known {
        head: AumHash,
        outcomes: Vec<NodeOutcome>,
    },
    /// No usable export; the text says why and what to do.
    Unknown(String),
}

impl Assessment {
    /// The nodes that would lose access (empty when unknown).
    pub fn affected(&self) -> Vec<&NodeOutcome> {
        match self {
            Assessment::Known { outcomes, .. } => {
                outcomes.iter().filter(|o| o.loses_access()).collect()
            }
            Assessment::Unknown(_) => Vec::new(),
        }
    }

    /// The number of affected nodes, `None` when unknown.
    pub fn count(&self) -> Option<usize> {
        match self {
            Assessment::Known { .. } => Some(self.affected().len()),
            Assessment::Unknown(_) => None,
        }
    }

    /// The preview as text, for the summary shown before signing.
    pub fn text(&self) -> String {
        match self {
            Assessment::Unknown(why) => format!(
                "Lockout preview: UNKNOWN. {why}\n  Nodes signed by a removed or revoked key lose access; without a current export nobody can say which.\n"
            ),
            Assessment::Known { head, outcomes } => {
                let affected = self.affected();
                let working = outcomes.iter().filter(|o| o.after.works()).count();
                let mut s = format!(
                    "Lockout preview (status export at head {head}, {} node(s) listed):\n",
                    outcomes.len()
                );
                if affected.is_empty() {
                    s.push_str("  0 nodes lose access.\n");
                } else {
                    s.push_str(&format!(
                        "  {} node(s) LOSE ACCESS (their signatures stop verifying):\n",
                        affected.len()
                    ));
                    for o in &affected {
                        s.push_str(&format!(
                            "    - {} ({}{}): {}{}\n",
                            o.node.name,
                            node_key_short(&o.node.node_key),
                            if o.node.id.is_empty() {
                                String::new()
                            } else {
                                format!(", {}", crate::shown::escape(&o.node.id))
                            },
                            o.after,
                            o.authorizing_key
                                .as_ref()
                                .map(|k| format!(" (signed under {})", tlpub_text(k)))
                                .unwrap_or_default()
                        ));
                    }
                }
                s.push_str(&format!("  {working} node(s) keep working.\n"));
                let already: Vec<&NodeOutcome> =
                    outcomes.iter().filter(|o| !o.before.works()).collect();
                if !already.is_empty() {
                    s.push_str(&format!(
                        "  {} node(s) are locked out already and stay so: {}\n",
                        already.len(),
                        already
                            .iter()
                            .map(|o| o.node.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                s
            }
        }
    }
}

/// Assesses a change from `before` (the state at `head`) to `after`, using
/// the latest imported status export, if any.
pub fn assess(
    head: AumHash,
    before: &State,
    after: &State,
    status: Option<&Status>,
) -> Result<Assessment, LockoutError> {
    let Some(status) = status else {
        return Ok(Assessment::Unknown(
            "No status export has been imported into the store. On an online node run `locksmith online export` \
             (or `tailscale lock status --json=1 > status.json`) and import it here with `locksmith lock import FILE`."
                .to_string(),
        ));
    };
    let Some(export_head) = status.head.as_deref() else {
        return Err(LockoutError::NoHead);
    };
    let export_head: AumHash = export_head
        .parse()
        .map_err(|_| LockoutError::BadHead(crate::shown::escape(export_head).into_owned()))?;
    if export_head != head {
        return Ok(Assessment::Unknown(format!(
            "The latest imported status export was taken at head {export_head}, not at the head this change builds on ({head}): \
             nodes signed since then are not in it. Import a fresh export (`locksmith online export` on an online node, then `locksmith lock import FILE`)."
        )));
    }
    let nodes = nodes_of(status)?;
    Ok(Assessment::Known {
        head,
        outcomes: preview(before, after, &nodes),
    })
}

/// What the user accepts with `--accept-lockout`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acceptance {
    /// Exactly this many nodes lose access.
    Count(usize),
    /// The effect is unknown and the user proceeds anyway.
    Unknown,
}

impl FromStr for Acceptance {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "unknown" {
            return Ok(Acceptance::Unknown);
        }
        s.parse::<usize>().map(Acceptance::Count).map_err(|_| {
            format!("{s:?}: give the number of nodes the preview says lose access, or `unknown`")
        })
    }
}

impl fmt::Display for Acceptance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Acceptance::Count(n) => write!(f, "{n}"),
            Acceptance::Unknown => f.write_str("unknown"),
        }
    }
}

/// Why a change was refused by the lockout gate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockoutRefusal {
    #[error("refused: this change locks out {count} node(s) ({names}). Re-sign them first (see ceremony/runbook-retire-node-key.md), or accept the loss with --accept-lockout {count}")]
    WouldLockOut { count: usize, names: String },
    #[error("refused: --accept-lockout {accepted} does not match the preview, which says {count} node(s) lose access{names}. Check the preview; pass --accept-lockout {count} only if you mean it")]
    Mismatch {
        accepted: Acceptance,
        count: usize,
        names: String,
    },
    #[error("refused: the effect on the tailnet's nodes is unknown ({why}). Import a current status export, or accept the unknown with --accept-lockout unknown")]
    Unknown { why: String },
}

/// Lets a change through only when the user stated its effect: nothing
/// when 0 nodes are affected, `--accept-lockout N` for exactly N, and
/// `--accept-lockout unknown` when no current export exists.
pub fn gate(assessment: &Assessment, accepted: Option<Acceptance>) -> Result<(), LockoutRefusal> {
    let names = || {
        assessment
            .affected()
            .iter()
            .map(|o| o.node.name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (assessment.count(), accepted) {
        (None, Some(Acceptance::Unknown)) => Ok(()),
        (None, _) => Err(LockoutRefusal::Unknown {
            why: match assessment {
                Assessment::Unknown(w) => first_sentence(w),
                Assessment::Known { .. } => String::new(),
            },
        }),
        (Some(0), None) | (Some(0), Some(Acceptance::Count(0))) => Ok(()),
        (Some(n), Some(Acceptance::Count(m))) if n == m => Ok(()),
        (Some(n), None) => Err(LockoutRefusal::WouldLockOut {
            count: n,
            names: names(),
        }),
        (Some(n), Some(accepted)) => Err(LockoutRefusal::Mismatch {
            accepted,
            count: n,
            names: if n == 0 {
                String::new()
            } else {
                format!(": {}", names())
            },
        }),
    }
}

fn first_sentence(text: &str) -> String {
    text.split(". ")
        .next()
        .unwrap_or(text)
        .trim_end_matches('.')
        .to_string()
}

/// The state after removing `keys` from `state` (what a remove or the
/// start of a revocation installs, as far as trust goes).
pub fn without_keys(state: &State, keys: &[[u8; 32]]) -> State {
    let mut out = state.clone();
    if let Some(list) = out.keys.as_mut() {
        list.retain(|k| !keys.iter().any(|r| k.public.as_deref() == Some(&r[..])));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tka::upstream_json::parse_status;

    fn sample() -> (Status, State) {
        let text = include_str!("../tests/data/upstream/samples/lock-status.json");
        let status = parse_status(text).expect("sample status parses");
        let log = include_str!("../tests/data/upstream/samples/lock-log.json");
        let mut aums = crate::tka::upstream_json::parse_log(log).expect("sample log parses");
        aums.reverse();
        let mut it = aums.into_iter();
        let mut authority =
            crate::tka::Authority::bootstrap(it.next().expect("genesis")).expect("bootstrap");
        authority.inform(it.collect()).expect("chain verifies");
        assert_eq!(
            Some(authority.head().to_string()),
            status.head,
            "the sample status is taken at the sample log's head"
        );
        (status, authority.state().clone())
    }

    fn key(hex: &str) -> [u8; 32] {
        crate::tka::keyforms::parse_lock_key(hex).expect("key")
    }

    const A_LAPTOP: &str = "tlpub:8b940c0677991c1cefde81297c0c8bc44d9a8aaa5aa6b41c0da35ab5e23db0b2";
    const B_DESKTOP: &str =
        "tlpub:a7aea7739ed39caa435f84da99f8c5e3d8f262c2105ed19ca06052fff262dfba";

    #[test]
    fn every_visible_node_of_the_sample_verifies_now() {
        let (status, state) = sample();
        let nodes = nodes_of(&status).expect("nodes");
        assert_eq!(nodes.len(), 1 + 3 + 3);
        let s = standings(&state, &nodes);
        for (n, st) in nodes.iter().zip(&s) {
            match n.listed {
                Listed::Filtered => assert_eq!(st, &Standing::NoSignature, "{}", n.name),
                _ => assert_eq!(st, &Standing::Verifies, "{}", n.name),
            }
        }
    }

    #[test]
    fn removing_the_key_that_signed_directly_and_via_credentials_locks_those_nodes_out() {
        let (status, state) = sample();
        let after = without_keys(&state, &[key(A_LAPTOP)]);
        let head = status.head.as_deref().expect("head").parse().expect("hash");
        let a = assess(head, &state, &after, Some(&status)).expect("assess");
        let names: Vec<&str> = a.affected().iter().map(|o| o.node.name.as_str()).collect();
        // The exporting node (direct), peer2 (rotation over a direct
        // signature) and peer3 (rotation over a credential) were all
        // authorized by A-laptop; peer1 by B-desktop.
        assert_eq!(
            names,
            vec![
                "(the exporting node)",
                "peer2.tail1234.ts.net",
                "peer3.tail1234.ts.net"
            ]
        );
        assert_eq!(a.count(), Some(3));
        assert!(a.text().contains("3 node(s) LOSE ACCESS"));
        assert!(a.text().contains("1 node(s) keep working"));
        assert_eq!(
            gate(&a, None),
            Err(LockoutRefusal::WouldLockOut {
                count: 3,
                names: names.join(", ")
            })
        );
        assert!(matches!(
            gate(&a, Some(Acceptance::Count(2))),
            Err(LockoutRefusal::Mismatch { count: 3, .. })
        ));
        assert!(gate(&a, Some(Acceptance::Unknown)).is_err());
        assert_eq!(gate(&a, Some(Acceptance::Count(3))), Ok(()));
    }

    #[test]
    fn removing_a_key_that_signed_no_node_affects_nobody() {
        let (status, state) = sample();
        let unused = "tlpub:96540eaafbf557b46d7388add6f57cdbf572beb2d4aaf638a04b2169bf2b4a96";
        let after = without_keys(&state, &[key(unused)]);
        let head = status.head.as_deref().expect("head").parse().expect("hash");
        let a = assess(head, &state, &after, Some(&status)).expect("assess");
        assert_eq!(a.count(), Some(0));
        assert_eq!(gate(&a, None), Ok(()));
        assert!(gate(&a, Some(Acceptance::Count(1))).is_err());
        let after_b = without_keys(&state, &[key(B_DESKTOP)]);
        let b = assess(head, &state, &after_b, Some(&status)).expect("assess");
        assert_eq!(
            b.affected()
                .iter()
                .map(|o| o.node.name.as_str())
                .collect::<Vec<_>>(),
            vec!["peer1.tail1234.ts.net"]
        );
    }

    #[test]
    fn an_export_at_another_head_or_none_makes_the_effect_unknown() {
        let (status, state) = sample();
        let after = without_keys(&state, &[key(A_LAPTOP)]);
        let other = AumHash([7; 32]);
        let a = assess(other, &state, &after, Some(&status)).expect("assess");
        assert_eq!(a.count(), None);
        assert!(a.text().contains("UNKNOWN"));
        assert!(matches!(
            gate(&a, None),
            Err(LockoutRefusal::Unknown { .. })
        ));
        assert!(gate(&a, Some(Acceptance::Count(0))).is_err());
        assert_eq!(gate(&a, Some(Acceptance::Unknown)), Ok(()));
        let none = assess(other, &state, &after, None).expect("assess");
        assert_eq!(none.count(), None);
    }

    #[test]
    fn a_forged_signature_in_the_export_never_counts_as_working() {
        let (mut status, state) = sample();
        let sig = status.visible_peers[0]
            .node_key_signature
            .as_mut()
            .expect("signed");
        sig.signature = data_encoding::BASE64URL.encode(&[0u8; 64]);
        let nodes = nodes_of(&status).expect("nodes");
        let s = standings(&state, &nodes);
        assert!(matches!(&s[1], Standing::Fails(_)), "{:?}", s[1]);
    }

    #[test]
    fn acceptance_parses_numbers_and_unknown_only() {
        assert_eq!("3".parse(), Ok(Acceptance::Count(3)));
        assert_eq!("unknown".parse(), Ok(Acceptance::Unknown));
        assert!("all".parse::<Acceptance>().is_err());
        assert!("-1".parse::<Acceptance>().is_err());
    }

    #[test]
    fn upstream_refuses_an_update_to_zero_votes_so_it_cannot_remove_trust() {
        let (_, state) = sample();
        let update = crate::tka::Aum {
            kind: crate::tka::AumKind::UPDATE_KEY,
            prev_aum_hash: state.last_aum_hash.map(|h| h.0.to_vec()),
            key_id: Some(key(B_DESKTOP).to_vec()),
            votes: Some(0),
            ..Default::default()
        };
        let err = state.apply_verified(&update).expect_err("0 votes refused");
        assert!(
            err.to_string().contains("key votes must be non-zero"),
            "{err}"
        );
    }
}
