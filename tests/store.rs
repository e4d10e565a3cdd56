//! The local authority store: pinning, imports that must link, concurrent
//! writers, and what a crash can leave behind.

use locksmith::input::read_chain;
use locksmith::store::Store;
use locksmith::tka::{order_by_parent_links, Authority};
use std::path::PathBuf;

fn samples(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/upstream/samples")
        .join(rel)
        .display()
        .to_string()
}

fn sample_chain() -> Vec<locksmith::tka::Aum> {
    read_chain(&[samples("chain")]).expect("sample chain")
}

#[test]
fn init_from_genesis_then_import_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let aums = sample_chain();
    let genesis = Authority::from_chain(vec![aums[0].clone()]).expect("genesis");
    Store::create(dir.path(), &genesis).expect("create");
    assert!(
        Store::create(dir.path(), &genesis).is_err(),
        "a second init is refused"
    );
    let store = Store::open(dir.path(), true).expect("open");
    let (authority, added) = store.import(aums.clone()).expect("import");
    assert_eq!(added, aums.len() - 1);
    let expected = Authority::from_chain(aums.clone()).expect("verifies");
    assert_eq!(authority.head(), expected.head());
    // Reloading re-verifies from the anchor and gives the same head.
    assert_eq!(store.load().expect("load").head(), expected.head());
    // Importing again adds nothing.
    assert_eq!(store.import(aums).expect("again").1, 0);
}

#[test]
fn import_of_a_chain_that_does_not_link_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let aums = sample_chain();
    let genesis = Authority::from_chain(vec![aums[0].clone()]).expect("genesis");
    Store::create(dir.path(), &genesis).expect("create");
    let store = Store::open(dir.path(), true).expect("open");
    // Only the newest AUMs, whose parent this store never saw.
    let tail = aums[3..].to_vec();
    let err = store.import(tail).expect_err("refused");
    assert!(err.to_string().contains("do not link"), "{err}");
    // A foreign genesis is refused too.
    let vectors = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/upstream/vectors/deeplink.json"),
    )
    .expect("vectors");
    let v: serde_json::Value = serde_json::from_str(&vectors).expect("json");
    let foreign = locksmith::tka::Aum::decode(
        &locksmith::tka::hex::decode(v["authority"]["aums"][0].as_str().expect("hex"))
            .expect("hex"),
    )
    .expect("aum");
    assert!(store.import(vec![foreign]).is_err());
}

#[test]
fn a_crash_leaves_only_complete_files_and_stray_temporaries_are_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let aums = sample_chain();
    let authority = Authority::from_chain(aums.clone()).expect("verifies");
    Store::create(dir.path(), &authority).expect("create");
    // A writer killed mid-write leaves a temporary file, never a partial .aum.
    std::fs::write(dir.path().join("aums/.locksmith-XXXX"), b"\xa1\x01").expect("write");
    let store = Store::open(dir.path(), false).expect("open");
    assert_eq!(store.load().expect("load").head(), authority.head());
    // A damaged AUM file is detected, not trusted.
    let (hash, _) = authority.tree().iter().nth(2).expect("an AUM");
    std::fs::write(dir.path().join(format!("aums/{hash}.aum")), b"\xa1\x01\x02").expect("damage");
    let err = store.load().expect_err("corrupt");
    assert!(err.to_string().contains("corrupt"), "{err}");
}

#[test]
fn concurrent_importers_do_not_corrupt_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let aums = order_by_parent_links(sample_chain()).expect("ordered");
    let genesis = Authority::from_chain(vec![aums[0].clone()]).expect("genesis");
    Store::create(dir.path(), &genesis).expect("create");
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let path = dir.path().to_path_buf();
            let aums = aums.clone();
            std::thread::spawn(move || {
                for _ in 0..3 {
                    let store = Store::open(&path, true).expect("open");
                    // Each thread imports a different prefix of the chain.
                    let upto = 2 + (i % (aums.len() - 1));
                    store
                        .import(aums[..upto.min(aums.len())].to_vec())
                        .expect("import");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    let store = Store::open(dir.path(), false).expect("open");
    let loaded = store.load().expect("load after concurrent imports");
    assert!(loaded.tree().len() >= 2);
    let full = Authority::from_chain(aums.clone()).expect("full");
    store.import(aums).ok();
    assert_eq!(
        Store::open(dir.path(), false)
            .expect("open")
            .load()
            .expect("load")
            .head(),
        full.head()
    );
}

/// The verified cache (src/store/verified_cache.rs) as `load` uses it.
mod verified_cache {
    use super::*;
    use locksmith::tka::Aum;

    fn stored() -> (tempfile::TempDir, Authority) {
        let dir = tempfile::tempdir().expect("tempdir");
        let authority = Authority::from_chain(sample_chain()).expect("verifies");
        Store::create(dir.path(), &authority).expect("create");
        (dir, authority)
    }

    fn load(dir: &std::path::Path) -> Result<Authority, locksmith::store::StoreError> {
        Store::open(dir, false).expect("open").load()
    }

    #[test]
    fn a_cached_load_equals_a_full_verification() {
        let (dir, authority) = stored();
        let cache = dir.path().join("verified-cache");
        let record = std::fs::read_to_string(&cache).expect("create records the cache");
        assert!(
            record.contains(&format!("head {}", authority.head())),
            "{record}"
        );
        let cached = load(dir.path()).expect("cached load");
        std::fs::remove_file(&cache).expect("remove");
        let full = load(dir.path()).expect("full load");
        assert!(cache.exists(), "a full load records the cache again");
        for a in [&cached, &full] {
            assert_eq!(a.head(), authority.head());
            assert_eq!(a.oldest_ancestor(), authority.oldest_ancestor());
            assert_eq!(a.state(), authority.state());
            assert_eq!(a.tree().len(), authority.tree().len());
        }
    }

    #[test]
    fn a_forged_aum_dropped_into_a_cached_store_is_refused() {
        let (dir, authority) = stored();
        load(dir.path()).expect("cached load");
        // A sibling of a real AUM with a broken signature, named by its hash.
        let (_, real) = authority.tree().iter().nth(2).expect("an AUM");
        let mut forged: Aum = real.clone();
        let sigs = forged.signatures.as_mut().expect("signed");
        let sig = sigs[0].signature.as_mut().expect("signature");
        sig[5] ^= 1;
        std::fs::write(
            dir.path().join(format!("aums/{}.aum", forged.hash())),
            forged.serialize(),
        )
        .expect("write");
        let err = load(dir.path()).expect_err("a forged AUM is never trusted");
        assert!(err.to_string().contains("corrupt"), "{err}");
    }

    #[test]
    fn a_changed_byte_of_the_same_length_is_seen() {
        let (dir, authority) = stored();
        let (hash, aum) = authority.tree().iter().nth(3).expect("an AUM");
        let path = dir.path().join(format!("aums/{hash}.aum"));
        let mut bytes = aum.serialize();
        let last = bytes.len() - 1;
        bytes[last] ^= 1; // inside the last signature
        std::fs::write(&path, &bytes).expect("damage");
        let err = load(dir.path()).expect_err("tampering is detected");
        assert!(err.to_string().contains("corrupt"), "{err}");
    }

    #[test]
    fn a_record_naming_another_head_falls_back_to_full_verification() {
        let (dir, authority) = stored();
        let cache = dir.path().join("verified-cache");
        let chain = authority.active_chain();
        let older = chain[chain.len() / 2].0;
        let record = std::fs::read_to_string(&cache).expect("record");
        let forged = record.replace(&authority.head().to_string(), &older.to_string());
        assert_ne!(forged, record);
        std::fs::write(&cache, forged).expect("write");
        assert_eq!(load(dir.path()).expect("load").head(), authority.head());
        // Garbage is no record either.
        std::fs::write(&cache, b"\xff\x00garbage").expect("write");
        assert_eq!(load(dir.path()).expect("load").head(), authority.head());
    }
}

/// AUM packs (src/store/pack.rs): what `lock import` writes, one file per
/// import, next to the `.aum` files of what this machine signed.
mod packs {
    use super::*;
    use std::path::Path;

    fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir.join("aums"))
            .expect("aums")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some(ext))
            .collect();
        v.sort();
        v
    }

    fn load_fresh(dir: &Path) -> Result<Authority, locksmith::store::StoreError> {
        // Without the cache: a full verification from the anchor.
        let _ = std::fs::remove_file(dir.join("verified-cache"));
        Store::open(dir, false).expect("open").load()
    }

    #[test]
    fn an_import_is_one_pack_file_and_loads_back_in_full() {
        let dir = tempfile::tempdir().expect("tempdir");
        let aums = order_by_parent_links(sample_chain()).expect("ordered");
        let genesis = Authority::from_chain(vec![aums[0].clone()]).expect("genesis");
        Store::create(dir.path(), &genesis).expect("create");
        let store = Store::open(dir.path(), true).expect("open");
        let (_, added) = store.import(aums.clone()).expect("import");
        assert_eq!(added, aums.len() - 1);
        assert_eq!(files(dir.path(), "aum"), Vec::<PathBuf>::new());
        assert_eq!(
            files(dir.path(), "pack").len(),
            2,
            "create's pack and the import's"
        );
        // Importing the same AUMs again writes nothing.
        assert_eq!(store.import(aums.clone()).expect("again").1, 0);
        assert_eq!(files(dir.path(), "pack").len(), 2);
        drop(store);
        let full = Authority::from_chain(aums).expect("verifies");
        let loaded = load_fresh(dir.path()).expect("full verification");
        assert_eq!(loaded.head(), full.head());
        assert_eq!(loaded.state(), full.state());
        assert_eq!(loaded.tree().len(), full.tree().len());
    }

    #[test]
    fn a_pack_read_as_a_chain_file_is_checked_against_its_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let aums = order_by_parent_links(sample_chain()).expect("ordered");
        let full = Authority::from_chain(aums).expect("verifies");
        Store::create(dir.path(), &full).expect("create");
        let pack = files(dir.path(), "pack").remove(0);
        let chain = tempfile::tempdir().expect("chain dir");
        let renamed = chain.path().join(format!("{}.pack", "00".repeat(32)));
        std::fs::copy(&pack, &renamed).expect("copy");
        let err = locksmith::input::read_chain(&[chain.path().display().to_string()])
            .expect_err("a renamed pack is refused");
        let msg = err.to_string();
        assert!(msg.contains("pack") && msg.contains("name"), "{msg}");
    }

    #[test]
    fn a_store_of_aum_files_and_packs_together_loads() {
        // A store written as one `.aum` file per AUM (what earlier versions
        // wrote, and what signing commands write) with a pack beside it
        // that repeats some of them.
        let dir = tempfile::tempdir().expect("tempdir");
        let aums = order_by_parent_links(sample_chain()).expect("ordered");
        let full = Authority::from_chain(aums.clone()).expect("verifies");
        Store::create(dir.path(), &full).expect("create");
        for aum in &aums {
            std::fs::write(Store::aum_file(dir.path(), &aum.hash()), aum.serialize())
                .expect("write");
        }
        let loaded = load_fresh(dir.path()).expect("mixed store");
        assert_eq!(loaded.head(), full.head());
        assert_eq!(loaded.tree().len(), full.tree().len());
        // `--chain STORE/aums` reads the same store: packs and single
        // files, each AUM once.
        let chain = locksmith::input::read_chain(&[dir.path().join("aums").display().to_string()])
            .expect("the store's directory reads as a chain");
        assert_eq!(chain.len(), full.tree().len());
        let from_dir = Authority::from_chain(chain).expect("verifies");
        assert_eq!(from_dir.head(), full.head());
        // The cache it records counts each AUM once and is used next time.
        let record = std::fs::read_to_string(dir.path().join("verified-cache")).expect("cache");
        assert!(
            record.contains(&format!("aums {}\n", aums.len())),
            "{record}"
        );
        let cached = Store::open(dir.path(), false)
            .expect("open")
            .load()
            .expect("cached");
        assert_eq!(cached.head(), full.head());
    }

    #[test]
    fn a_damaged_pack_is_refused_as_corrupt() {
        let authority = Authority::from_chain(sample_chain()).expect("verifies");
        let damages: [(&str, fn(&mut Vec<u8>)); 4] = [
            ("a flipped byte", |b| {
                let i = b.len() - 3;
                b[i] ^= 1
            }),
            ("cut short", |b| b.truncate(b.len() - 5)),
            ("no magic", |b| b[0] = b'X'),
            ("an extra byte", |b| b.push(0)),
        ];
        for (what, damage) in damages {
            let dir = tempfile::tempdir().expect("tempdir");
            Store::create(dir.path(), &authority).expect("create");
            let pack = files(dir.path(), "pack").pop().expect("a pack");
            let mut bytes = std::fs::read(&pack).expect("read");
            damage(&mut bytes);
            std::fs::write(&pack, &bytes).expect("damage");
            let err = Store::open(dir.path(), false)
                .expect("open")
                .load()
                .expect_err(what);
            let text = err.to_string();
            assert!(
                text.contains("corrupt") && text.contains(".pack"),
                "{what}: {text}"
            );
        }
    }

    #[test]
    fn a_pack_renamed_to_match_forged_contents_still_fails_verification() {
        // Someone who rewrites a pack and renames it to its new digest gets
        // past the name check, never past signature verification.
        let dir = tempfile::tempdir().expect("tempdir");
        let aums = order_by_parent_links(sample_chain()).expect("ordered");
        let genesis = Authority::from_chain(vec![aums[0].clone()]).expect("genesis");
        Store::create(dir.path(), &genesis).expect("create");
        Store::open(dir.path(), true)
            .expect("open")
            .import(aums.clone())
            .expect("import");
        let mut forged = aums[2].clone();
        let sigs = forged.signatures.as_mut().expect("signed");
        let sig = sigs[0].signature.as_mut().expect("signature");
        sig[7] ^= 1;
        let bytes = forged.serialize();
        let mut pack = b"locksmith aum-pack 1\n".to_vec();
        pack.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        pack.extend_from_slice(&bytes);
        let name = locksmith::tka::hex::lower(&locksmith::tka::hash::blake2s(&pack));
        std::fs::write(dir.path().join(format!("aums/{name}.pack")), &pack).expect("write");
        let err = Store::open(dir.path(), false)
            .expect("open")
            .load()
            .expect_err("a forged AUM in a well-named pack");
        assert!(err.to_string().contains("corrupt"), "{err}");
    }
}
