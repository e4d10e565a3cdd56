//! `locksmith --version` names the build: version, commit, target,
//! profile, features and compiler, one fact per line; `-V` stays short.

use assert_cmd::Command;

#[test]
fn long_version_shape() {
    let out = Command::cargo_bin("locksmith")
        .unwrap()
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    assert_eq!(lines[0], format!("locksmith {}", env!("CARGO_PKG_VERSION")));

    let commit = lines[1].strip_prefix("commit:   ").expect(lines[1]);
    let hex = commit.strip_suffix("-dirty").unwrap_or(commit);
    assert!(
        (hex.len() == 12 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            || commit.starts_with("unknown"),
        "commit {commit:?}"
    );

    let target = lines[2].strip_prefix("target:   ").expect(lines[2]);
    assert!(target.contains(std::env::consts::ARCH), "target {target:?}");
    assert!(target.contains(std::env::consts::OS), "target {target:?}");

    let profile = lines[3].strip_prefix("profile:  ").expect(lines[3]);
    let expected = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    assert_eq!(profile, expected);

    let features = lines[4].strip_prefix("features: ").expect(lines[4]);
    assert!(!features.is_empty());

    let rustc = lines[5].strip_prefix("rustc:    ").expect(lines[5]);
    assert!(rustc.starts_with("rustc "), "{rustc}");
}

#[test]
fn short_version_is_one_line() {
    let out = Command::cargo_bin("locksmith")
        .unwrap()
        .arg("-V")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("locksmith {}\n", env!("CARGO_PKG_VERSION"))
    );
}
