//! The vendored copy of upstream's data (tests/data/upstream) is what the
//! tests read. When the project's shared folder (`../shared`) sits beside
//! the repository, the copy must be identical to it: a changed, missing or
//! extra file fails here, with the refresh command to run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every regular file under `dir`, keyed by its path relative to `dir`.
fn files_under(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path
                    .strip_prefix(base)
                    .expect("under base")
                    .to_string_lossy()
                    .into_owned();
                let bytes = std::fs::read(&path)
                    .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
                out.insert(rel, bytes);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn vendored_copy_is_present_and_non_empty() {
    let vendored = root().join("tests/data/upstream");
    for sub in ["vectors", "samples"] {
        let files = files_under(&vendored.join(sub));
        assert!(
            files.len() > 5,
            "tests/data/upstream/{sub} holds only {} files",
            files.len()
        );
    }
    assert!(vendored.join("vectors/README.md").is_file());
    assert!(vendored.join("samples/manifest.json").is_file());
}

#[test]
fn vendored_copy_matches_shared_when_present() {
    let shared = root().join("../shared");
    if !shared.join("vectors").is_dir() {
        eprintln!("../shared is not beside the repository: nothing to compare the vendored copy with");
        return;
    }
    let vendored = root().join("tests/data/upstream");
    let mut problems = Vec::new();
    for sub in ["vectors", "samples"] {
        let theirs = files_under(&shared.join(sub));
        let ours = files_under(&vendored.join(sub));
        for (name, bytes) in &theirs {
            match ours.get(name) {
                None => problems.push(format!("{sub}/{name}: in ../shared, missing from the vendored copy")),
                Some(b) if b != bytes => problems.push(format!("{sub}/{name}: differs from ../shared")),
                Some(_) => {}
            }
        }
        for name in ours.keys() {
            if !theirs.contains_key(name) {
                problems.push(format!("{sub}/{name}: in the vendored copy, not in ../shared"));
            }
        }
    }
    for file in ["interop.md", "hardware.md"] {
        let theirs = std::fs::read(shared.join(file)).ok();
        let ours = std::fs::read(vendored.join(file)).ok();
        if theirs.is_some() && theirs != ours {
            problems.push(format!("{file}: differs from ../shared"));
        }
    }
    assert!(
        problems.is_empty(),
        "tests/data/upstream is out of date with ../shared; run scripts/refresh-upstream-data.sh and commit:\n  {}",
        problems.join("\n  ")
    );
}
