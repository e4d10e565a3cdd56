//! Loading vector files and counting the cases checked.

use serde_json::Value;
use std::path::PathBuf;

/// `tests/data/upstream/vectors`: upstream's vectors, vendored in the repository.
pub fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/upstream/vectors")
}

/// Reads and parses a vector file, failing the test if it cannot.
pub fn load(name: &str) -> Value {
    let path = vectors_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read vector file {}: {e}", path.display()));
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("cannot parse vector file {}: {e}", path.display()));
    assert!(
        v.get("schema").and_then(Value::as_str).is_some(),
        "{name}: no schema"
    );
    v
}

/// The array member `key` of `v`, which must be present and non-empty.
pub fn cases<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    let arr = v
        .get(key)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no array {key:?}"));
    assert!(!arr.is_empty(), "array {key:?} is empty");
    arr
}

pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("missing string {key:?} in {v}"))
}

pub fn opt_s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

pub fn b(v: &Value, key: &str) -> bool {
    v.get(key)
        .and_then(Value::as_bool)
        .unwrap_or_else(|| panic!("missing bool {key:?} in {v}"))
}

pub fn hex(text: &str) -> Vec<u8> {
    locksmith::tka::hex::decode(text).unwrap_or_else(|| panic!("bad hex in vector: {text}"))
}

/// Counts checked cases; asserts at the end that all of them ran.
pub struct Tally {
    name: String,
    expected: usize,
    checked: usize,
}

impl Tally {
    pub fn new(name: &str, expected: usize) -> Self {
        Tally {
            name: name.to_string(),
            expected,
            checked: 0,
        }
    }

    pub fn check(&mut self) {
        self.checked += 1;
    }

    pub fn finish(self) {
        assert_eq!(
            self.checked, self.expected,
            "{}: checked {} of {} cases",
            self.name, self.checked, self.expected
        );
        eprintln!("{}: {} cases checked", self.name, self.checked);
    }
}
