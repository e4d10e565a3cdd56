//! The online side is hostile (issue 12): every input that reaches the
//! offline machine may have been made by an attacker who controls an
//! online node. Each case drives the real CLI with software keys and
//! asserts a refusal (or a summary that names every change), that no file
//! was written, no transcript record was added, and no key was opened to
//! sign (a software key announces itself with a WARNING when opened).
//!
//! Surfaces: recovery blobs (`revoke-keys --cosign/--finish`) that smuggle
//! state, `--chain` inputs that are stale, foreign or unpinned, and
//! escape-laden fields (meta values from a chain, peer IDs and DNS names
//! from a status export, deeplink-style labels, file names).

use locksmith::tka::{hex, Aum, AumHash, Key};
use std::path::{Path, PathBuf};

#[path = "support/software_keys.rs"]
mod software_keys;
use software_keys::{init_store, key_file, locksmith};

struct Room {
    dir: tempfile::TempDir,
    a: String,
    b: String,
    c: String,
    outsider: String,
    c_tlpub: String,
}

impl Room {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn store(&self) -> String {
        self.path("store").display().to_string()
    }
    fn transcript(&self) -> Vec<u8> {
        std::fs::read(self.path("store").join("transcript.jsonl")).unwrap_or_default()
    }
}

fn tlpub(spec: &str) -> String {
    let out = locksmith()
        .args(["token", "show", "--signer", spec, "--json"])
        .output()
        .expect("show");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    v["tlpub"].as_str().expect("tlpub").to_string()
}

fn ok(args: &[&str]) -> std::process::Output {
    let out = locksmith().args(args).output().expect("run");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A store trusting A, B (1 vote each) and then C (added by A and B).
fn room() -> Room {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("pw"), "test passphrase").expect("pw");
    let a = key_file(dir.path(), "a.key");
    let b = key_file(dir.path(), "b.key");
    let c = key_file(dir.path(), "c.key");
    let outsider = key_file(dir.path(), "outsider.key");
    let c_tlpub = tlpub(&c);
    let r = Room {
        dir,
        a,
        b,
        c,
        outsider,
        c_tlpub,
    };
    let store = r.store();
    init_store(&store, &[&r.a, &r.b]);
    ok(&[
        "lock", "add", &r.c_tlpub, "--signer", &r.a, "--signer", &r.b, "--yes", "--store", &store,
    ]);
    r
}

/// Runs a command that must be refused before anything is signed or written.
fn refused(r: &Room, args: &[&str], expect: &[&str]) -> String {
    let cwd = tempfile::tempdir().expect("cwd");
    let before = r.transcript();
    let out = locksmith()
        .current_dir(cwd.path())
        .args(args)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "{args:?} must be refused:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for e in expect {
        assert!(stderr.contains(e), "{args:?}: expected {e:?} in:\n{stderr}");
    }
    assert!(out.stdout.is_empty(), "{args:?} printed a result");
    let left: Vec<_> = std::fs::read_dir(cwd.path()).expect("cwd").collect();
    assert!(left.is_empty(), "{args:?} wrote {left:?}");
    assert_eq!(r.transcript(), before, "{args:?} added a transcript record");
    assert!(!stderr.contains("Signed."), "{stderr}");
    stderr
}

/// The honest first step: A starts revoking C. Returns the blob.
fn start_revoking_c(r: &Room) -> Aum {
    let out = ok(&[
        "lock",
        "revoke-keys",
        "--accept-lockout",
        "unknown",
        &r.c_tlpub,
        "--signer",
        &r.a,
        "--yes",
        "--json",
        "--store",
        &r.store(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let blob = v["blob"].as_str().expect("blob");
    Aum::decode(&hex::decode(blob).expect("hex")).expect("aum")
}

fn key_bytes(tl: &str) -> Vec<u8> {
    locksmith::tka::keyforms::parse_lock_key(tl)
        .expect("tlpub")
        .to_vec()
}

/// The blob as an attacker re-made it: state changed, signatures dropped
/// (an attacker with the compromised key could sign it too; the honest
/// signers' signatures would no longer verify).
fn smuggle(blob: &Aum, change: impl FnOnce(&mut locksmith::tka::State)) -> String {
    let mut aum = blob.clone();
    aum.signatures = None;
    change(aum.state.as_mut().expect("state"));
    hex::upper(&aum.serialize())
}

fn cosign_refused(r: &Room, blob: &str, expect: &[&str]) {
    let stderr = refused(
        r,
        &[
            "lock",
            "revoke-keys",
            "--accept-lockout",
            "unknown",
            "--cosign",
            blob,
            "--signer",
            &r.b,
            "--yes",
            "--out",
            "r.aum",
            "--store",
            &r.store(),
        ],
        expect,
    );
    // Refused before the token was opened: no PIN prompt, nothing signed.
    assert!(
        !stderr.contains("is a software key"),
        "the signer was opened:\n{stderr}"
    );
    refused(
        r,
        &[
            "lock",
            "revoke-keys",
            "--accept-lockout",
            "unknown",
            "--finish",
            blob,
            "--out",
            "r.aum",
            "--store",
            &r.store(),
        ],
        expect,
    );
}

#[test]
fn recovery_blobs_that_smuggle_state_are_refused_naming_each_change() {
    let r = room();
    let blob = start_revoking_c(&r);
    let outsider = tlpub(&r.outsider);
    let b_tl = tlpub(&r.b);
    let a_tl = tlpub(&r.a);
    let b_id = key_bytes(&b_tl);
    let a_id = key_bytes(&a_tl);

    // Revokes C and also trusts an attacker key.
    let with_outsider = smuggle(&blob, |st| {
        let k: [u8; 32] = key_bytes(&outsider).try_into().expect("32");
        st.keys.as_mut().expect("keys").push(Key::ed25519(k, 1));
    });
    cosign_refused(
        &r,
        &with_outsider,
        &["ADDS key", &outsider, "not the revocation"],
    );

    // Revokes C and raises B's votes.
    let more_votes = smuggle(&blob, |st| {
        for k in st.keys.as_mut().expect("keys") {
            if k.public.as_deref() == Some(&b_id[..]) {
                k.votes = 5;
            }
        }
    });
    cosign_refused(&r, &more_votes, &["CHANGES key", &b_tl, "votes 1 -> 5"]);

    // Revokes C and rewrites A's meta.
    let meta = smuggle(&blob, |st| {
        for k in st.keys.as_mut().expect("keys") {
            if k.public.as_deref() == Some(&a_id[..]) {
                k.meta = Some([("name".to_string(), "trusted".to_string())].into());
            }
        }
    });
    cosign_refused(&r, &meta, &["CHANGES key", &a_tl, "meta"]);

    // Revokes C and swaps the disablement value for the attacker's.
    let disablement = smuggle(&blob, |st| {
        st.disablement_values = Some(vec![Some(vec![0x42; 32])]);
    });
    cosign_refused(
        &r,
        &disablement,
        &["ADDS disablement value 4242", "DROPS disablement value"],
    );

    // Revokes C and changes the state IDs.
    let ids = smuggle(&blob, |st| st.state_id1 ^= 1);
    cosign_refused(&r, &ids, &["CHANGES the state IDs"]);

    // Reorders the keys.
    let reordered = smuggle(&blob, |st| st.keys.as_mut().expect("keys").reverse());
    cosign_refused(&r, &reordered, &["reorders the keys"]);

    // Revokes nothing at all (a checkpoint of the current state).
    let nothing = smuggle(&blob, |st| {
        let k: [u8; 32] = key_bytes(&r.c_tlpub).try_into().expect("32");
        st.keys.as_mut().expect("keys").push(Key::ed25519(k, 1));
    });
    cosign_refused(&r, &nothing, &["revokes no key"]);

    // Forks from an AUM this authority never saw.
    let mut unknown = blob.clone();
    unknown.signatures = None;
    unknown.prev_aum_hash = Some(vec![7; 32]);
    let unknown_hex = hex::upper(&unknown.serialize());
    cosign_refused(
        &r,
        &unknown_hex,
        &[&AumHash([7; 32]).to_string(), "does not know"],
    );

    // A blob signed and then altered keeps failing on its signature.
    let mut altered = blob.clone();
    altered.state.as_mut().expect("state").state_id2 ^= 1;
    cosign_refused(&r, &hex::upper(&altered.serialize()), &["does not verify"]);
}

/// The first step (`revoke-keys TLPUB...`) checks everything it can before
/// the signer's token is opened: a software key announces itself with a
/// WARNING when opened, and PIN prompts come with the opening, so no such
/// line means no PIN was asked for.
#[test]
fn a_first_step_that_fails_a_check_never_opens_the_signer() {
    let r = room();
    let store = r.store();
    let outsider = tlpub(&r.outsider);
    let a = tlpub(&r.a);
    let b = tlpub(&r.b);
    let unknown_fork = "11".repeat(32);
    let taken = r.path("taken.aum");
    std::fs::write(&taken, b"keep me").expect("write");
    let taken = taken.display().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec![&outsider], "is not trusted by this authority"),
        (vec!["tlpub:zz"], "key \"tlpub:zz\""),
        (vec![&a, &b, &r.c_tlpub], "cannot revoke all trusted keys"),
        (
            vec![&r.c_tlpub, "--fork-from", &unknown_fork],
            "does not know",
        ),
        (vec![&r.c_tlpub, "--out", &taken], "already exists"),
    ];
    for (extra, expect) in cases {
        let mut args = vec!["lock", "revoke-keys"];
        args.extend(extra.iter().copied());
        args.extend(["--signer", r.a.as_str(), "--yes", "--store", store.as_str()]);
        let stderr = refused(&r, &args, &[expect]);
        assert!(
            !stderr.contains("is a software key") && !stderr.contains("opening signer"),
            "{args:?}: the signer was opened before the check failed:\n{stderr}"
        );
    }
    assert_eq!(std::fs::read(&taken).expect("read"), b"keep me");
    // The checks pass for an honest first step, which then opens and signs.
    let blob = start_revoking_c(&r);
    assert_eq!(blob.signatures.as_ref().map(Vec::len), Some(1));
}

#[test]
fn an_honest_cosign_shows_the_whole_new_state_and_the_sighash() {
    let r = room();
    let blob = start_revoking_c(&r);
    let hex_blob = hex::upper(&blob.serialize());
    let out = ok(&[
        "lock",
        "revoke-keys",
        "--accept-lockout",
        "unknown",
        "--cosign",
        &hex_blob,
        "--signer",
        &r.b,
        "--yes",
        "--store",
        &r.store(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stderr.contains(&format!("REVOKES:    {} votes 1", r.c_tlpub)),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("- key {} votes 1", r.c_tlpub)),
        "{stderr}"
    );
    for k in [&r.a, &r.b] {
        assert!(
            stderr.contains(&format!("key {} votes 1", tlpub(k))),
            "{stderr}"
        );
    }
    assert!(stderr.contains("replaces the whole state"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "pre-signature hash (SigHash, what the token signs; compare it with the other signers'): {}",
            hex::lower(&blob.sig_hash())
        )),
        "{stderr}"
    );
    assert!(stdout.contains("Final recovery AUM hash"), "{stdout}");
    // The start step shows the same.
    let out = ok(&[
        "lock",
        "revoke-keys",
        "--accept-lockout",
        "unknown",
        &r.c_tlpub,
        "--signer",
        &r.b,
        "--store",
        &r.store(),
        "--yes",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("pre-signature hash (SigHash"));
    // A key that is not trusted cannot be "revoked".
    refused(
        &r,
        &[
            "lock",
            "revoke-keys",
            "--accept-lockout",
            "unknown",
            &tlpub(&r.outsider),
            "--signer",
            &r.a,
            "--yes",
            "--store",
            &r.store(),
        ],
        &["not trusted by this authority"],
    );
    let _ = &r.c;
}

fn aum_files(store: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(Path::new(store).join("aums"))
        .expect("aums")
        .map(|e| e.expect("entry").path())
        .collect();
    v.sort();
    v
}

/// How many distinct AUMs the store holds, read through the library (a
/// store keeps single `.aum` files and multi-AUM packs side by side).
fn stored_aum_count(store: &str) -> usize {
    locksmith::store::Store::open(Path::new(store), false)
        .and_then(|s| s.load())
        .map(|a| a.tree().len())
        .unwrap_or_else(|e| panic!("store {store}: {e}"))
}

#[test]
fn signing_on_a_stale_foreign_or_unpinned_chain_is_refused() {
    let r = room();
    let store = r.store();
    let anchor = std::fs::read_to_string(Path::new(&store).join("anchor")).expect("anchor");
    let anchor = anchor.trim().to_string();
    let genesis = Path::new(&store)
        .join("aums")
        .join(format!("{anchor}.aum"))
        .display()
        .to_string();
    let nk = format!("nodekey:{}", "ab".repeat(32));
    // Stale: the genesis alone is a prefix of the real chain (C was added since).
    for args in [
        vec![
            "lock", "sign", &nk, "--signer", &r.a, "--yes", "--out", "x.nks",
        ],
        vec![
            "lock",
            "revoke-keys",
            "--accept-lockout",
            "unknown",
            &r.c_tlpub,
            "--signer",
            &r.a,
            "--yes",
            "--out",
            "r.aum",
        ],
        vec![
            "lock",
            "remove",
            "--accept-lockout",
            "unknown",
            &r.c_tlpub,
            "--signer",
            &r.a,
            "--signer",
            &r.b,
            "--yes",
        ],
    ] {
        let mut args = args.clone();
        args.extend(["--chain", &genesis, "--store", &store]);
        refused(&r, &args, &["stale", &anchor]);
    }
    // Foreign: another authority's chain.
    let other = tempfile::tempdir().expect("other");
    let other_store = other.path().join("store").display().to_string();
    ok(&[
        "lock",
        "init",
        "--signer",
        &r.outsider,
        "--gen-disablements",
        "1",
        "--reveal-secrets",
        "--yes",
        "--store",
        &other_store,
    ]);
    let foreign = aum_files(&other_store)[0].display().to_string();
    refused(
        &r,
        &[
            "lock",
            "sign",
            &nk,
            "--signer",
            &r.outsider,
            "--yes",
            "--out",
            "x.nks",
            "--chain",
            &foreign,
            "--store",
            &store,
        ],
        &["does not link to the store's pinned anchor", &anchor],
    );
    // No store at all: refused, naming --unpinned and the genesis.
    let nowhere = r.path("no-store").display().to_string();
    let out = locksmith()
        .env("LOCKSMITH_STORE", &nowhere)
        .args([
            "lock", "sign", &nk, "--signer", &r.a, "--yes", "--chain", &genesis,
        ])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("--unpinned") && stderr.contains(&anchor),
        "{stderr}"
    );
    // --unpinned: signs, warns with the genesis hash, records it.
    let transcript = r.path("t.jsonl");
    let nks = r.path("x.nks");
    let out = locksmith()
        .env("LOCKSMITH_STORE", &nowhere)
        .args([
            "lock",
            "sign",
            &nk,
            "--signer",
            &r.a,
            "--yes",
            "--unpinned",
            "--chain",
            &genesis,
        ])
        .arg("--out")
        .arg(&nks)
        .arg("--transcript")
        .arg(&transcript)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("WARNING: --unpinned") && stderr.contains(&anchor),
        "{stderr}"
    );
    let t = std::fs::read_to_string(&transcript).expect("transcript");
    assert!(t.contains("UNPINNED") && t.contains(&anchor), "{t}");
    // The current chain, pinned: accepted.
    let chain_dir = Path::new(&store).join("aums").display().to_string();
    ok(&[
        "lock",
        "sign",
        &nk,
        "--signer",
        &r.a,
        "--yes",
        "--chain",
        &chain_dir,
        "--store",
        &store,
        "--out",
        &r.path("y.nks").display().to_string(),
    ]);
}

const HOSTILE: &[&str] = &[
    "\u{1b}[2K\u{1b}[1A",         // CSI: erase line, cursor up
    "\u{1b}]0;title\u{7}",        // OSC, BEL-terminated
    "\u{1b}]8;;http://x\u{1b}\\", // OSC 8 hyperlink, ST-terminated
    "\u{9b}31m",                  // C1 CSI
    "\u{9d}2;x\u{9c}",            // C1 OSC and ST
    "\u{202e}evil\u{202c}",       // bidi override
    "\u{2066}iso\u{2069}",        // bidi isolate
    "zero\u{200b}width\u{feff}",
    "line\u{2028}sep\r\n",
];

fn assert_clean(text: &str, context: &str) {
    for c in text.chars() {
        assert!(
            c == '\n' || c == '\t' || !locksmith::shown::is_hostile(c),
            "{context}: raw U+{:04X} reached the terminal:\n{text}",
            u32::from(c)
        );
    }
}

#[test]
fn escape_laden_fields_never_reach_the_summary_raw() {
    let r = room();
    let store = r.store();
    // Meta values from the chain (names included in key lines and signer names).
    for (i, evil) in HOSTILE.iter().enumerate() {
        let meta = format!("name=n{i}{evil}");
        let stderr = refused(
            &r,
            &[
                "lock", "update", &r.c_tlpub, "--meta", &meta, "--signer", &r.a, "--signer", &r.b,
                "--store", &store,
            ],
            &["--yes"],
        );
        assert_clean(&stderr, &format!("lock update meta {evil:?}"));
    }
    let meta = format!("name={}", HOSTILE.concat().replace(['\r', '\n'], ""));
    ok(&[
        "lock", "update", &r.c_tlpub, "--meta", &meta, "--signer", &r.a, "--signer", &r.b, "--yes",
        "--store", &store,
    ]);
    for args in [
        vec!["lock", "status", "--store", &store],
        vec!["lock", "log", "--store", &store],
    ] {
        let out = ok(&args);
        assert_clean(&String::from_utf8_lossy(&out.stdout), &format!("{args:?}"));
    }
    let stderr = refused(
        &r,
        &[
            "lock",
            "revoke-keys",
            "--accept-lockout",
            "unknown",
            &r.c_tlpub,
            "--signer",
            &r.a,
            "--store",
            &store,
        ],
        &["--yes"],
    );
    assert_clean(&stderr, "revoke-keys summary with hostile meta");
    assert!(stderr.contains("\\u{1b}"), "{stderr}");
    // JSON output keeps the exact text.
    let out = ok(&["lock", "status", "--json", "--store", &store]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v.to_string().contains("\\u001b"), "{v}");

    // Peer IDs and DNS names from a status export.
    let nk = format!("nodekey:{}", "cd".repeat(32));
    let peers: Vec<serde_json::Value> = HOSTILE
        .iter()
        .map(|e| serde_json::json!({"ID": format!("n{e}"), "DNSName": format!("host{e}.ts.net."), "NodeKey": nk}))
        .collect();
    let status = r.path("status.json");
    std::fs::write(
        &status,
        serde_json::json!({"Enabled": true, "FilteredPeers": peers}).to_string(),
    )
    .expect("write");
    let stderr = refused(
        &r,
        &[
            "lock",
            "sign",
            "--from-status",
            &status.display().to_string(),
            "--signer",
            &r.a,
            "--store",
            &store,
            "--out",
            "nks",
        ],
        &["--yes"],
    );
    assert_clean(&stderr, "lock sign --status summary");
    assert!(
        stderr.contains("\\u{9b}") && stderr.contains("\\u{202e}"),
        "{stderr}"
    );

    // File names.
    for evil in HOSTILE {
        let name = format!("x{}.aum", evil.replace('/', ""));
        let stderr = refused(
            &r,
            &[
                "lock",
                "revoke-keys",
                "--accept-lockout",
                "unknown",
                "--cosign",
                &name,
                "--signer",
                &r.a,
                "--store",
                &store,
            ],
            &[],
        );
        assert_clean(&stderr, &format!("file name {evil:?}"));
    }
}

/// `lock import` of a recovery checkpoint signed by enough trusted keys
/// (a compromised key, or signers using a tool that does not check) is
/// still refused when it smuggles state; the honest one is imported.
/// The upstream recovery vectors and the chain of their first scenario.
fn recovery_vector() -> (serde_json::Value, Vec<Aum>) {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/upstream/vectors/recovery.json"),
    )
    .expect("vectors");
    let file: serde_json::Value = serde_json::from_str(&text).expect("json");
    let chain: Vec<Aum> = file["scenarios"][0]["chain"]
        .as_array()
        .expect("chain")
        .iter()
        .map(|a| Aum::decode(&hex::decode(a.as_str().expect("hex")).expect("hex")).expect("aum"))
        .collect();
    (file, chain)
}

/// A temporary directory with a store initialised (`lock import --init`)
/// from `chain`; returns the directory and the store's path.
fn store_from(chain: &[Aum]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("dir");
    let chain_dir = dir.path().join("chain");
    std::fs::create_dir(&chain_dir).expect("mkdir");
    for (i, a) in chain.iter().enumerate() {
        std::fs::write(chain_dir.join(format!("{i:04}.aum")), a.serialize()).expect("write");
    }
    let store = dir.path().join("store").display().to_string();
    ok(&[
        "lock",
        "import",
        "--store",
        &store,
        "--init",
        &chain_dir.display().to_string(),
    ]);
    (dir, store)
}

#[test]
fn importing_a_recovery_that_smuggles_state_is_refused() {
    use locksmith::tka::recovery::{cosign, make_retroactive_revocation};
    use locksmith::tka::signer::SoftwareSigner;
    use locksmith::tka::{keyforms, Authority};
    let (file, chain) = recovery_vector();
    let sc = &file["scenarios"][0];
    let seed_of = |tl: &str| -> [u8; 32] {
        let k = file["signing_keys"]
            .as_array()
            .expect("keys")
            .iter()
            .find(|k| k["tlpub"] == tl)
            .expect("seed");
        hex::decode(k["seed"].as_str().expect("seed"))
            .expect("hex")
            .try_into()
            .expect("32")
    };
    let authority = Authority::from_chain(chain.clone()).expect("chain");
    let (dir, store) = store_from(&chain);
    let honest = sc["cosign"]
        .as_array()
        .expect("cosign")
        .iter()
        .find(|c| c["chosen"] == true)
        .expect("a chosen cosign");
    let signers: Vec<String> = honest["signers"]
        .as_array()
        .expect("signers")
        .iter()
        .map(|s| s.as_str().expect("tlpub").to_string())
        .collect();
    let revoke: Vec<Vec<u8>> = sc["revoke"]
        .as_array()
        .expect("revoke")
        .iter()
        .map(|k| {
            keyforms::parse_lock_key(k.as_str().expect("tlpub"))
                .expect("key")
                .to_vec()
        })
        .collect();
    let our = keyforms::parse_lock_key(sc["our_key"].as_str().expect("our")).expect("key");
    let mut smuggled = make_retroactive_revocation(&authority, &revoke, &our, None).expect("build");
    smuggled
        .state
        .as_mut()
        .expect("state")
        .keys
        .as_mut()
        .expect("keys")
        .push(Key::ed25519([0x66; 32], 3));
    for tl in &signers {
        let mut s = SoftwareSigner::from_seed(&seed_of(tl), "vector key");
        cosign(&mut smuggled, &mut s).expect("sign");
    }
    // It would win the fork: only the rebuild check stands in its way.
    let mut trial = authority.clone();
    trial.inform(vec![smuggled.clone()]).expect("inform");
    assert_eq!(trial.head(), smuggled.hash());
    let bad = dir.path().join("smuggled.aum");
    std::fs::write(&bad, smuggled.serialize()).expect("write");
    let listing = aum_files(&store);
    let out = locksmith()
        .args([
            "lock",
            "import",
            "--store",
            &store,
            &bad.display().to_string(),
        ])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("ADDS key") && stderr.contains(&"66".repeat(32)),
        "{stderr}"
    );
    assert_eq!(aum_files(&store), listing, "nothing was stored");
    assert_eq!(stored_aum_count(&store), chain.len());
    // The upstream-built, upstream-signed recovery imports.
    let good = dir.path().join("honest.aum");
    std::fs::write(
        &good,
        hex::decode(honest["cbor"].as_str().expect("cbor")).expect("hex"),
    )
    .expect("write");
    ok(&[
        "lock",
        "import",
        "--store",
        &store,
        &good.display().to_string(),
    ]);
    assert_eq!(stored_aum_count(&store), chain.len() + 1);
}

/// Deeplink fields (device, OS, login) are the link maker's text.
#[test]
fn escape_laden_deeplink_fields_never_reach_the_summary_raw() {
    use locksmith::tka::deeplink::{make, DeeplinkParams};
    let r = room();
    let store = r.store();
    let anchor = std::fs::read_to_string(Path::new(&store).join("anchor")).expect("anchor");
    let genesis = std::fs::read(
        Path::new(&store)
            .join("aums")
            .join(format!("{}.aum", anchor.trim())),
    )
    .expect("genesis");
    let state_id1 = Aum::decode(&genesis)
        .expect("aum")
        .state
        .expect("state")
        .state_id1;
    for evil in HOSTILE {
        let link = make(
            state_id1,
            &DeeplinkParams {
                node_key: format!("nodekey:{}", "ef".repeat(32)),
                tlpub: tlpub(&r.outsider),
                device_name: format!("dev{evil}"),
                os_name: format!("os{evil}"),
                login_name: format!("me{evil}@example.com"),
            },
        )
        .expect("link");
        let stderr = refused(
            &r,
            &[
                "lock", "sign", &link, "--signer", &r.a, "--store", &store, "--out", "x.nks",
            ],
            &["--yes"],
        );
        assert_clean(&stderr, &format!("deeplink fields {evil:?}"));
        assert!(stderr.contains("device \"dev"), "{stderr}");
    }
}

/// A machine whose chain ends at the fork point never saw the branch a
/// genuine recovery replaces, so it cannot rebuild the revocation: the
/// import is refused, naming the changes against the fork point and the
/// flag, until the room accepts it with `--accept-unseen-recovery`, which
/// the store's transcript records.
#[test]
fn a_recovery_of_an_unseen_branch_imports_only_when_accepted_and_recorded() {
    let (file, chain) = recovery_vector();
    let sc = &file["scenarios"][0];
    let honest = sc["cosign"]
        .as_array()
        .expect("cosign")
        .iter()
        .find(|c| c["chosen"] == true)
        .expect("a chosen cosign");
    let recovery_bytes = hex::decode(honest["cbor"].as_str().expect("cbor")).expect("hex");
    let recovery = Aum::decode(&recovery_bytes).expect("aum");
    let fork = recovery.parent().expect("parent");
    let upto = chain
        .iter()
        .position(|a| a.hash() == fork)
        .expect("the fork point is in the chain");
    assert!(
        upto + 1 < chain.len(),
        "the vector has a branch after the fork point"
    );
    // This machine stops at the fork point: it never saw what followed.
    let (dir, store) = store_from(&chain[..=upto]);
    let good = dir.path().join("honest.aum");
    std::fs::write(&good, &recovery_bytes).expect("write");
    let good = good.display().to_string();
    let transcript = dir.path().join("store").join("transcript.jsonl");
    let before = std::fs::read(&transcript).unwrap_or_default();
    let listing = aum_files(&store);
    let out = locksmith()
        .args(["lock", "import", "--store", &store, &good])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("never saw the branch")
            && stderr.contains("--accept-unseen-recovery")
            && stderr.contains(&fork.to_string()),
        "{stderr}"
    );
    assert_eq!(aum_files(&store), listing, "nothing was stored");
    assert_eq!(stored_aum_count(&store), upto + 1);
    assert_eq!(std::fs::read(&transcript).unwrap_or_default(), before);
    // Accepted explicitly: stored, the changes shown, the acceptance recorded.
    std::fs::write(dir.path().join("pw"), "test passphrase").expect("pw");
    let witness = key_file(dir.path(), "witness.key");
    let accept = [
        "lock",
        "import",
        "--store",
        &store,
        "--accept-unseen-recovery",
        "--signer",
        &witness,
        &good,
    ];
    // Not confirmed (no terminal, no --yes), or interrupted inside the
    // commit: neither the AUMs nor the record are written.
    for fail_after in [None, Some("staging:1"), Some("rename:1")] {
        let mut cmd = locksmith();
        cmd.args(accept);
        if let Some(hook) = fail_after {
            cmd.arg("--yes").env("LOCKSMITH_TEST_FAIL_AFTER", hook);
        }
        let out = cmd.output().expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{fail_after:?}: {stderr}");
        if fail_after.is_none() {
            assert!(stderr.contains("--yes"), "{stderr}");
        }
        assert!(
            stderr.contains("WARNING: accepted without a rebuild"),
            "{stderr}"
        );
        assert_eq!(aum_files(&store), listing, "{fail_after:?}: nothing stored");
        assert_eq!(
            std::fs::read(&transcript).unwrap_or_default(),
            before,
            "{fail_after:?}: nothing recorded"
        );
    }
    // Killed inside the commit: the same command run again undoes what
    // the killed run left and completes.
    let mut cmd = locksmith();
    cmd.args(accept)
        .arg("--yes")
        .env("LOCKSMITH_TEST_FAIL_AFTER", "crash:1");
    assert!(!cmd.output().expect("run").status.success());
    let mut accepted = accept.to_vec();
    accepted.push("--yes");
    let out = ok(&accepted);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("an earlier run was interrupted"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("WARNING: accepted without a rebuild"),
        "{stderr}"
    );
    assert!(stderr.contains(&recovery.hash().to_string()), "{stderr}");
    assert_eq!(stored_aum_count(&store), upto + 2);
    let records = locksmith::transcript::verify(&transcript, None).unwrap_or_else(|e| {
        panic!(
            "{e}: {}",
            String::from_utf8_lossy(&std::fs::read(&transcript).unwrap_or_default())
        )
    });
    let last = records.last().expect("a record");
    assert_eq!(last.body.command, "lock import --accept-unseen-recovery");
    assert_eq!(last.signatures.len(), 1);
    assert!(last.body.shown.contains(&recovery.hash().to_string()));
    assert!(last
        .body
        .inputs
        .iter()
        .any(|i| i.name == format!("recovery checkpoint {}", recovery.hash())));
}

/// Appends `evil` to every string in a JSON document, one field at a time.
fn each_string_field_with(v: &serde_json::Value, evil: &str) -> Vec<serde_json::Value> {
    fn paths(v: &serde_json::Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match v {
            serde_json::Value::String(_) => out.push(at.clone()),
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    at.push(k.clone());
                    paths(x, at, out);
                    at.pop();
                }
            }
            serde_json::Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    at.push(i.to_string());
                    paths(x, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }
    let mut all = Vec::new();
    paths(v, &mut Vec::new(), &mut all);
    all.into_iter()
        .map(|p| {
            let mut doc = v.clone();
            let mut cur = &mut doc;
            for k in &p {
                cur = match cur {
                    serde_json::Value::Array(a) => &mut a[k.parse::<usize>().expect("index")],
                    other => &mut other[k.as_str()],
                };
            }
            if let serde_json::Value::String(s) = cur {
                s.push_str(evil);
            }
            doc
        })
        .collect()
}

/// Every string field of a status export, an envelope label and a file
/// name, each with every kind of hostile text, through `inspect` and
/// `exchange decode`: nothing hostile reaches the terminal raw (standard
/// output or the error message), whether the input is shown or refused;
/// JSON output keeps the exact text.
#[test]
fn escape_laden_fields_of_every_input_kind_never_reach_the_terminal_raw() {
    let dir = tempfile::tempdir().expect("dir");
    let status: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/upstream/samples/lock-status.json"),
        )
        .expect("status"),
    )
    .expect("json");
    let run = |args: &[&str]| {
        let out = locksmith().args(args).output().expect("run");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        (out.status.success(), stdout, stderr)
    };
    for (i, evil) in HOSTILE.iter().enumerate() {
        // Status export: every string field (shown, or refused naming it).
        let docs = each_string_field_with(&status, evil);
        assert!(docs.len() > 10, "the sample has string fields");
        for (j, doc) in docs.iter().enumerate() {
            let path = dir.path().join(format!("status-{i}-{j}.json"));
            std::fs::write(&path, doc.to_string()).expect("write");
            let (_, stdout, stderr) = run(&["inspect", &path.display().to_string()]);
            assert_clean(&stdout, &format!("inspect status field {j}, stdout"));
            assert_clean(&stderr, &format!("inspect status field {j}, stderr"));
        }
        // JSON output keeps the exact text (the sinks escape text only).
        let mut peer = status.clone();
        peer["FilteredPeers"] = serde_json::json!([{
            "ID": "n1",
            "DNSName": format!("peer{evil}.ts.net."),
            "NodeKey": "nodekey:6aa620e57d429fec2fd9a18bc4b692dca029568b77295d0c65ec5e59163b3028"
        }]);
        let path = dir.path().join(format!("peer-{i}.json"));
        std::fs::write(&path, peer.to_string()).expect("write");
        let (shown, stdout, stderr) = run(&["inspect", &path.display().to_string(), "--json"]);
        assert!(shown, "{stderr}");
        let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
        assert_eq!(
            v["filtered_peers"][0]["name"].as_str(),
            Some(format!("peer{evil}.ts.net.").as_str()),
            "{stdout}"
        );
        // Envelope label: escaped in text, exact in JSON.
        let env = dir.path().join(format!("labelled-{i}.env"));
        let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/upstream/samples/recovery-1sig.aum");
        let label = format!("from laptop{evil}");
        let (ok1, _, e) = run(&[
            "exchange",
            "encode",
            &sample.display().to_string(),
            "--label",
            &label,
            "--out",
            &env.display().to_string(),
        ]);
        assert!(ok1, "{e}");
        let decoded = dir.path().join(format!("decoded-{i}.aum"));
        for args in [
            vec!["inspect", env.to_str().expect("utf-8")],
            // (without --out, `exchange decode` writes the artifact's bytes)
            vec![
                "exchange",
                "decode",
                env.to_str().expect("utf-8"),
                "--out",
                decoded.to_str().expect("utf-8"),
            ],
        ] {
            let (_, stdout, stderr) = run(&args);
            assert_clean(&stdout, &format!("{args:?} stdout"));
            assert_clean(&stderr, &format!("{args:?} stderr"));
        }
        let (ok2, stdout, e) = run(&["exchange", "decode", env.to_str().expect("utf-8"), "--json"]);
        assert!(ok2, "{e}");
        let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
        assert_eq!(v["label"].as_str(), Some(label.as_str()), "{stdout}");
        // A file name: refused (not an artifact), the name escaped.
        let name = dir
            .path()
            .join(format!("x{}.aum", evil.replace(['\r', '\n', '/'], "")));
        std::fs::write(&name, b"\x00\x01 not an artifact").expect("write");
        for args in [
            vec!["inspect", name.to_str().expect("utf-8")],
            vec!["exchange", "decode", name.to_str().expect("utf-8")],
            vec![
                "exchange",
                "decode",
                "--qr-in",
                name.to_str().expect("utf-8"),
            ],
        ] {
            let (ok3, stdout, stderr) = run(&args);
            assert!(!ok3, "{args:?}");
            assert_clean(&stdout, &format!("{args:?} stdout"));
            assert_clean(&stderr, &format!("{args:?} stderr"));
            assert!(
                stderr.contains("\\u{"),
                "{args:?}: the name is not shown escaped: {stderr}"
            );
        }
    }
}

/// A file name is outside text too: the "wrote FILE" line of a signing
/// command (src/cli/lock_update.rs, through `eoutln!`) shows a crafted
/// output name with its ESC, CSI, OSC, C1 and bidi characters escaped,
/// while the file itself gets the exact name asked for.
#[test]
fn a_crafted_output_file_name_reaches_stderr_escaped() {
    let r = room();
    let store = r.store();
    let name = "upd\u{1b}[2K\u{1b}[1A\u{1b}]0;owned\u{7}\u{9b}31m\u{202e}x.aum";
    let out_path = r.path(name);
    let out = ok(&[
        "lock",
        "update",
        &r.c_tlpub,
        "--meta",
        "name=c",
        "--signer",
        &r.a,
        "--signer",
        &r.b,
        "--yes",
        "--store",
        &store,
        "--out",
        &out_path.display().to_string(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_clean(&stderr, "lock update --out with a crafted name");
    assert!(
        stderr.contains("upd\\u{1b}[2K\\u{1b}[1A\\u{1b}]0;owned\\u{7}\\u{9b}31m\\u{202e}x.aum"),
        "{stderr}"
    );
    assert!(stderr.contains("wrote "), "{stderr}");
    assert!(out_path.exists(), "the file keeps its exact name");
}

/// The air-gap warning names the interfaces that are up: a name with
/// escapes (a fake sysfs here; on a real machine the kernel's names)
/// reaches the terminal escaped, and the command still signs nothing
/// unseen: the warning is said once, through the same sink as the summary.
#[test]
fn an_interface_name_with_escapes_reaches_the_air_gap_warning_escaped() {
    let r = room();
    let store = r.store();
    let sysfs = r.path("sysfs-net");
    let evil = "eth\u{1b}[2K\u{1b}]0;owned\u{7}0";
    std::fs::create_dir_all(sysfs.join(evil)).expect("iface");
    std::fs::write(sysfs.join(evil).join("flags"), "0x1003\n").expect("flags");
    std::fs::write(sysfs.join(evil).join("operstate"), "up\n").expect("operstate");
    let out_path = r.path("upd.aum");
    let out = locksmith()
        .env("LOCKSMITH_SYSFS_NET", &sysfs)
        .args([
            "lock",
            "update",
            &r.c_tlpub,
            "--meta",
            "name=c",
            "--signer",
            &r.a,
            "--signer",
            &r.b,
            "--yes",
            "--store",
            &store,
            "--out",
            &out_path.display().to_string(),
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_clean(&stderr, "air-gap warning with a crafted interface name");
    assert!(stderr.contains("not air-gapped"), "{stderr}");
    assert!(
        stderr.contains("eth\\u{1b}[2K\\u{1b}]0;owned\\u{7}0 (up)"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("not air-gapped").count(), 1, "{stderr}");
}
