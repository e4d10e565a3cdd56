//! Shell completions and man pages (`locksmith completions SHELL`,
//! `locksmith man DIR`) are generated from the real clap definition and
//! cover every command group.

use std::path::PathBuf;
use std::process::Command;

/// Runs the binary's own `completions` and `man` commands into `out`, as
/// .ci/release.sh does; returns the files written.
fn generate_all(out: &std::path::Path) -> Vec<PathBuf> {
    let bin = env!("CARGO_BIN_EXE_locksmith");
    let comp = out.join("completions");
    std::fs::create_dir_all(&comp).unwrap();
    let mut files = Vec::new();
    for (shell, name) in [
        ("bash", "locksmith.bash"),
        ("zsh", "_locksmith"),
        ("fish", "locksmith.fish"),
    ] {
        let o = Command::new(bin)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::write(comp.join(name), &o.stdout).unwrap();
        files.push(comp.join(name));
    }
    let man = out.join("man");
    let o = Command::new(bin).arg("man").arg(&man).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Writing again without --force is refused and changes nothing.
    let again = Command::new(bin).arg("man").arg(&man).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    files
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn completions_and_man_pages_are_generated() {
    let dir = tempfile::tempdir().unwrap();
    let files = generate_all(dir.path());
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
