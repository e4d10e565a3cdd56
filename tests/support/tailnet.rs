//! A tailnet model on the library core: a control plane holding the AUM
//! chain and each node's node key and signature, and stock nodes that
//! apply the chain after a sync and drop peers whose signature fails
//! (ipn/ipnlocal/tailnet-lock.go, tkaFilterNetmapLocked). Nodes join or
//! re-authenticate with wrapped auth keys exactly as upstream's
//! `SignByCredential` does (tka/sig.go): a rotation signature over the
//! credential, signed with the wrapped private key. It also writes
//! `tailscale lock status --json=1` exports shaped like
//! feature/tailnetlock/tslockjsonv1 prints them.
#![allow(dead_code)]

use locksmith::lockout::{nodes_of, standings};
use locksmith::tka::keyforms::{node_key_text, tlpub_text};
use locksmith::tka::nks::{self, NodeKeySignature};
use locksmith::tka::signer::{Signer, SoftwareSigner};
use locksmith::tka::upstream_json::parse_status;
use locksmith::tka::{Aum, Authority};

/// A node of the tailnet as control knows it.
pub struct Node {
    pub name: String,
    pub node_key: [u8; 32],
    pub signature: Option<NodeKeySignature>,
}

/// Control plus its nodes.
pub struct Tailnet {
    pub authority: Authority,
    pub nodes: Vec<Node>,
}

fn tl(b: &Option<Vec<u8>>) -> Option<String> {
    b.as_deref()
        .filter(|b| !b.is_empty())
        .map(|b| format!("tlpub:{}", locksmith::tka::hex::lower(b)))
}

/// A signature as the status export prints it.
pub fn status_signature(sig: &NodeKeySignature) -> serde_json::Value {
    let mut v = serde_json::json!({
        "SigKind": sig.kind.name(),
        "Signature": data_encoding::BASE64URL.encode(sig.signature.as_deref().unwrap_or(&[])),
    });
    if let Some(p) = tl(&sig.pubkey) {
        v["PublicKey"] = p.into();
    }
    if let Some(k) = tl(&sig.key_id) {
        v["KeyID"] = k.into();
    }
    if let Some(n) = &sig.nested {
        v["Nested"] = status_signature(n);
    }
    if let Some(w) = tl(&sig.wrapping_pubkey) {
        v["WrappingPublicKey"] = w.into();
    }
    v
}

impl Tailnet {
    /// A tailnet whose authority starts at `genesis`.
    pub fn new(genesis: Aum) -> Tailnet {
        Tailnet {
            authority: Authority::bootstrap(genesis).expect("genesis verifies"),
            nodes: Vec::new(),
        }
    }

    /// Control accepts AUMs (`tailscale lock revoke-keys --finish`, or a
    /// node's own `lock add/remove`); every node syncs to them.
    pub fn submit(&mut self, aums: Vec<Aum>) {
        self.authority
            .inform(aums)
            .expect("control accepts the AUMs");
    }

    pub fn add_node(&mut self, name: &str, node_key: [u8; 32], sig: Option<NodeKeySignature>) {
        self.nodes.push(Node {
            name: name.into(),
            node_key,
            signature: sig,
        });
    }

    pub fn node_mut(&mut self, name: &str) -> &mut Node {
        self.nodes
            .iter_mut()
            .find(|n| n.name == name)
            .expect("node exists")
    }

    /// `tailscale up --force-reauth --auth-key tskey-…--TL…`: the node gets
    /// a new node key and signs it with the wrapped key (SignByCredential).
    pub fn reauth_with_credential(
        &mut self,
        name: &str,
        new_node_key: [u8; 32],
        credential: &NodeKeySignature,
        wrapping: &mut SoftwareSigner,
    ) {
        let sig = nks::sign_rotation(wrapping, credential.clone(), &new_node_key)
            .expect("sign by credential");
        let n = self.node_mut(name);
        n.node_key = new_node_key;
        n.signature = Some(sig);
    }

    /// `tailscale up --force-reauth --auth-key file:PATH` with a wrapped
    /// key as `lock sign --credential` wrote it: control/controlclient/
    /// direct.go `doLogin` decodes it (tka.DecodeWrappedAuthkey; a suffix
    /// that does not decode leaves the key unwrapped, so the node gets no
    /// signature) and signs the new node key with SignByCredential. Returns
    /// the pre-auth key the node presented to control.
    pub fn reauth_with_wrapped_key(
        &mut self,
        name: &str,
        new_node_key: [u8; 32],
        text: &str,
    ) -> String {
        // cmd/tailscale/cli/up.go resolveValueFromFile trims the file.
        let wrapped = locksmith::tka::wrapped_authkey::decode(text.trim()).expect("a wrapped key");
        let seed: [u8; 32] = wrapped.private[..32]
            .try_into()
            .expect("a 64-byte private key");
        let mut signer = SoftwareSigner::from_seed(&seed, "wrapped key");
        assert_eq!(
            &wrapped.private[32..],
            &signer.public_key()[..],
            "seed then public key"
        );
        self.reauth_with_credential(name, new_node_key, &wrapped.credential, &mut signer);
        wrapped.auth_key.to_string()
    }

    /// The status export a node with tailnet lock enabled prints: every
    /// node with a signature as a visible peer (stock nodes show peers
    /// they have verified; the model lists them all so the preview sees
    /// them), the rest as filtered.
    pub fn status_json(&self) -> String {
        let mut visible = Vec::new();
        let mut filtered = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let mut p = serde_json::json!({
                "ID": format!("n{i}CNTRL"),
                "DNSName": format!("{}.tail0000.ts.net.", n.name),
                "TailscaleIPs": [],
                "NodeKey": node_key_text(&n.node_key),
            });
            match &n.signature {
                Some(s) => {
                    p["NodeKeySignature"] = status_signature(s);
                    visible.push(p);
                }
                None => filtered.push(p),
            }
        }
        serde_json::json!({
            "SchemaVersion": "1",
            "Enabled": true,
            "Head": self.authority.head().to_string(),
            "TrustedKeys": self.authority.state().keys().iter().map(|k| serde_json::json!({
                "Kind": "25519", "Votes": k.votes, "Public": tlpub_text(k.public.as_deref().unwrap_or(&[])),
            })).collect::<Vec<_>>(),
            "VisiblePeers": visible,
            "FilteredPeers": filtered,
            "State": self.authority.state().state_id1,
        })
        .to_string()
    }

    /// The names of nodes that stock nodes would drop under the current
    /// authority (signature fails, missing, or superseded by rotation).
    pub fn locked_out(&self) -> Vec<String> {
        let status = parse_status(&self.status_json()).expect("status parses");
        let nodes = nodes_of(&status).expect("nodes");
        standings(self.authority.state(), &nodes)
            .iter()
            .zip(&nodes)
            .filter(|(s, _)| !s.works())
            .map(|(_, n)| n.name.trim_end_matches(".tail0000.ts.net").to_string())
            .collect()
    }
}

/// A software key from a fixed seed (test only).
pub fn key(seed: u8) -> SoftwareSigner {
    SoftwareSigner::from_seed(&[seed; 32], format!("model key {seed}"))
}

/// What upstream's `tailscale lock init` does with its arguments
/// (cmd/tailscale/cli/tailnet-lock.go runTailnetLockInit, parseTLArgs;
/// ipn/ipnlocal/tailnet-lock.go TailnetLockInit): flags first, then
/// `tlpub:`/`nlpub:` keys with `?VOTES` and `disablement:` values; the
/// node's own key must be listed; the genesis is signed by the node's key
/// and every existing node is signed directly with it.
pub fn stock_init(
    line: &str,
    node: &mut SoftwareSigner,
    tailnet_nodes: Vec<Node>,
) -> Result<Tailnet, String> {
    use locksmith::tka::{AumKind, Key, Signature, State};
    let words: Vec<&str> = line.split_whitespace().collect();
    let rest = words
        .strip_prefix(&["tailscale", "lock", "init"][..])
        .ok_or("not a `tailscale lock init` line")?;
    let mut i = 0;
    while i < rest.len() && rest[i].starts_with('-') {
        match rest[i] {
            "--gen-disablements" => i += 1,
            "--confirm" | "--gen-disablement-for-support" => {}
            f if f.starts_with("--gen-disablements=") => {}
            f => return Err(format!("flag provided but not defined: {f}")),
        }
        i += 1;
    }
    let mut keys = Vec::new();
    let mut values = Vec::new();
    for a in &rest[i..] {
        if let Some(h) = a
            .strip_prefix("disablement:")
            .or_else(|| a.strip_prefix("disablement-secret:"))
        {
            values.push(Some(
                locksmith::tka::hex::decode(h).ok_or("parsing disablement")?,
            ));
            continue;
        }
        let (k, votes) = a.split_once('?').unwrap_or((a, "1"));
        let public =
            locksmith::tka::keyforms::parse_lock_key(k).map_err(|e| format!("parsing key: {e}"))?;
        keys.push(Key::ed25519(
            public,
            votes.parse().map_err(|_| "parsing votes")?,
        ));
    }
    if !keys
        .iter()
        .any(|k| k.public.as_deref() == Some(&node.public_key()[..]))
    {
        return Err("the tailnet lock key of the current node must be one of the trusted keys during initialization".into());
    }
    let mut genesis = Aum {
        kind: AumKind::CHECKPOINT,
        state: Some(State {
            last_aum_hash: None,
            disablement_values: Some(values),
            keys: Some(keys),
            state_id1: 1,
            state_id2: 2,
        }),
        ..Default::default()
    };
    let sig = locksmith::tka::signer::sign_verified(node, &genesis.sig_hash())
        .map_err(|e| e.to_string())?;
    genesis.signatures = Some(vec![Signature::new(node.public_key(), sig)]);
    let mut t = Tailnet::new(genesis);
    for mut n in tailnet_nodes {
        n.signature = Some(nks::sign_direct(node, &n.node_key, None).map_err(|e| e.to_string())?);
        t.nodes.push(n);
    }
    Ok(t)
}

/// A node that has not been signed yet.
pub fn unsigned(name: &str, seed: u8) -> Node {
    Node {
        name: name.into(),
        node_key: [seed; 32],
        signature: None,
    }
}
