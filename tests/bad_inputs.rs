//! The bad-input corpus: every argument that takes outside data, given
//! malformed data (tests/bad_inputs/cases.json, files in
//! tests/bad_inputs/files made by make_corpus.py from tests/data/upstream).
//!
//! Each case must end with the expected non-zero exit code, a clear error
//! naming the problem (a substring of stderr), no panic, no raw control or
//! bidi-override character echoed to the terminal, and no file written or
//! changed in the working directory or the case's scratch directory.
//!
//! Placeholders in arguments and stdin: `{files}` (the corpus files),
//! `{samples}` (tests/data/upstream/samples), `{tmp}` (the case's scratch directory,
//! where `setup` puts a store and `make` puts generated files). An argument
//! may also be `{"repeat": "a", "times": 300, "prefix": "", "suffix": ""}`.
//! `stderr_not`: a string (a mistyped PIN) that must appear in no output.
//! The table is written by gen_cases.py (hostile characters are easier to
//! review as Python escapes).

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Dirs {
    files: PathBuf,
    samples: PathBuf,
    tmp: PathBuf,
}

impl Dirs {
    fn expand(&self, s: &str) -> String {
        s.replace("{files}", &self.files.display().to_string())
            .replace("{samples}", &self.samples.display().to_string())
            .replace("{tmp}", &self.tmp.display().to_string())
    }

    fn arg(&self, v: &Value) -> String {
        match v {
            Value::String(s) => self.expand(s),
            Value::Object(o) => {
                let unit = o["repeat"].as_str().unwrap();
                let times = o["times"].as_u64().unwrap() as usize;
                let prefix = o.get("prefix").and_then(Value::as_str).unwrap_or("");
                let suffix = o.get("suffix").and_then(Value::as_str).unwrap_or("");
                format!("{}{}{}", self.expand(prefix), unit.repeat(times), suffix)
            }
            other => panic!("argument {other} is neither a string nor a repeat object"),
        }
    }
}

/// Every file under `dir` with its length and content (up to 1 MiB; the
/// sparse oversized files are compared by length and modification time).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, Option<std::time::SystemTime>, Vec<u8>)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path.clone());
                out.insert(path, (0, None, Vec::new()));
            } else {
                let content = if meta.len() <= 1 << 20 {
                    std::fs::read(&path).unwrap()
                } else {
                    Vec::new()
                };
                out.insert(path, (meta.len(), meta.modified().ok(), content));
            }
        }
    }
    out
}

/// Characters that must never reach the terminal raw: C0/C1 controls
/// (except newline and tab), bidi overrides/isolates, NUL.
fn hostile_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

fn setup(kind: &str, dirs: &Dirs) {
    match kind {
        "store" => {
            let out = Command::cargo_bin("locksmith")
                .unwrap()
                .env("HOME", dirs.tmp.join("home"))
                .args(["lock", "import", "--init", "--store"])
                .arg(dirs.tmp.join("store"))
                .arg(dirs.samples.join("chain"))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "setup store: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        other => panic!("unknown setup {other:?}"),
    }
}

#[test]
fn bad_inputs_give_clear_errors_and_write_nothing() {
    let root = manifest_dir();
    let table: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("tests/bad_inputs/cases.json")).unwrap(),
    )
    .unwrap();
    let cases = table.as_array().unwrap();
    assert!(
        cases.len() >= 40,
        "the corpus shrank to {} cases",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let cwd = tempfile::tempdir().unwrap();
        let scratch = tempfile::tempdir().unwrap();
        let dirs = Dirs {
            files: root.join("tests/bad_inputs/files"),
            samples: root.join("tests/data/upstream/samples"),
            tmp: scratch.path().to_path_buf(),
        };
        std::fs::create_dir(dirs.tmp.join("home")).unwrap();
        if let Some(kind) = case.get("setup").and_then(Value::as_str) {
            setup(kind, &dirs);
        }
        if let Some(make) = case.get("make").and_then(Value::as_object) {
            for (file, size) in make {
                let f = std::fs::File::create(dirs.tmp.join(file)).unwrap();
                f.set_len(size.as_u64().unwrap()).unwrap();
            }
        }
        let args: Vec<String> = case["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| dirs.arg(a))
            .collect();
        let stdin: Vec<u8> = if let Some(s) = case.get("stdin").and_then(Value::as_str) {
            dirs.expand(s).into_bytes()
        } else if let Some(f) = case.get("stdin_file").and_then(Value::as_str) {
            std::fs::read(dirs.expand(f)).unwrap()
        } else {
            Vec::new()
        };
        let before_cwd = snapshot(cwd.path());
        let before_tmp = snapshot(&dirs.tmp);

        let out = Command::cargo_bin("locksmith")
            .unwrap()
            .current_dir(cwd.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dirs.tmp.join("home"))
            .env("XDG_DATA_HOME", dirs.tmp.join("home/.local/share"))
            .env("LC_ALL", "C.UTF-8")
            .args(&args)
            .write_stdin(stdin)
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let want_code = case["status"].as_i64().unwrap() as i32;
        let want_err = dirs.expand(case["stderr"].as_str().unwrap());

        let mut problems = Vec::new();
        if out.status.code() != Some(want_code) {
            problems.push(format!(
                "exit {:?}, expected {want_code}",
                out.status.code()
            ));
        }
        if want_code == 0 {
            problems.push("a bad-input case must expect a non-zero exit".into());
        }
        if !stderr.contains(&want_err) {
            problems.push(format!("stderr lacks {want_err:?}"));
        }
        if let Some(secret) = case.get("stderr_not").and_then(Value::as_str) {
            if stderr.contains(secret) || stdout.contains(secret) {
                problems.push(format!(
                    "output repeats {secret:?} (a PIN the user mistyped)"
                ));
            }
        }
        if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
            problems.push("panicked".into());
        }
        if let Some(c) = stderr
            .chars()
            .chain(stdout.chars())
            .find(|&c| hostile_char(c))
        {
            problems.push(format!("output holds a raw {:?} character", c));
        }
        if stderr.len() > 4096 {
            problems.push(format!(
                "stderr is {} bytes long (a clear error is short)",
                stderr.len()
            ));
        }
        if snapshot(cwd.path()) != before_cwd {
            problems.push("files appeared or changed in the working directory".into());
        }
        if snapshot(&dirs.tmp) != before_tmp {
            problems
                .push("files appeared or changed in the scratch directory (store, inputs)".into());
        }
        if !problems.is_empty() {
            failures.push(format!(
                "case {name}: {}\n  args: {args:?}\n  stderr: {stderr}",
                problems.join("; ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The other side of the corpus: encodings upstream's decoder accepts
/// (interop.md: non-minimal integers, out-of-order keys, unknown fields,
/// arrays and maps exactly at the limits) are accepted too, and hash like
/// the canonical AUM (the hash is over the re-serialization).
#[test]
fn lenient_encodings_decode_like_upstream() {
    let root = manifest_dir();
    let hash_of = |path: &Path| -> String {
        let out = Command::cargo_bin("locksmith")
            .unwrap()
            .args(["inspect", "--json"])
            .arg(path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["hash"]
            .as_str()
            .unwrap_or_else(|| panic!("no hash in {v}"))
            .to_string()
    };
    let canonical = hash_of(&root.join("tests/data/upstream/samples/chain-raw/0000-checkpoint.bin"));
    for file in [
        "aum-noncanonical-long-int.bin",
        "aum-noncanonical-key-order.bin",
        "aum-array-at-limit.bin",
        "aum-map-at-limit.bin",
    ] {
        assert_eq!(
            hash_of(&root.join("tests/bad_inputs/files").join(file)),
            canonical,
            "{file}"
        );
    }
}
