//! Shell completions and man pages are generated from the real clap
//! definition (examples/gen-completions.rs) and cover every command group.

#[path = "../examples/gen-completions.rs"]
mod gen_completions;

use std::process::Command;

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn completions_and_man_pages_are_generated() {
    let dir = tempfile::tempdir().unwrap();
    let files = gen_completions::generate_all(dir.path()).unwrap();
    let comp = dir.path().join("completions");
    let man = dir.path().join("man");

    for shell_file in ["locksmith.bash", "_locksmith", "locksmith.fish"] {
        let path = comp.join(shell_file);
        assert!(
            files.contains(&path),
            "{shell_file} not reported in {files:?}"
        );
        let text = read(&path);
        for word in [
            "lock",
            "inspect",
            "token",
            "secrets",
            "verify-signature",
            "chain",
        ] {
            assert!(
                text.contains(word),
                "{shell_file} does not mention {word:?}"
            );
        }
    }
    // The bash completion script is valid bash.
    let bash = Command::new("bash")
        .arg("-n")
        .arg(comp.join("locksmith.bash"))
        .output()
        .unwrap();
    assert!(
        bash.status.success(),
        "{}",
        String::from_utf8_lossy(&bash.stderr)
    );

    // A page for the program and for each command and subcommand.
    for page in [
        "locksmith.1",
        "locksmith-inspect.1",
        "locksmith-lock.1",
        "locksmith-lock-log.1",
        "locksmith-lock-verify-signature.1",
        "locksmith-lock-init.1",
        "locksmith-lock-sign.1",
        "locksmith-token.1",
        "locksmith-token-generate.1",
        "locksmith-secrets.1",
        "locksmith-secrets-decrypt.1",
    ] {
        assert!(man.join(page).is_file(), "missing man page {page}");
    }
    assert!(!man.join("locksmith-help.1").exists());
    let top = read(&man.join("locksmith.1"));
    assert!(
        top.starts_with(".ie \\n(.g .ds Aq") || top.contains(".TH locksmith"),
        "{top}"
    );
    for word in ["lock", "inspect", "token", "secrets"] {
        assert!(top.contains(word), "locksmith.1 does not mention {word}");
    }
    let log = read(&man.join("locksmith-lock-log.1"));
    assert!(log.contains(".TH locksmith-lock-log"), "{log}");
    assert!(log.contains("\\-\\-chain"), "{log}");
}
