//! Every leaf command of the clap definition has trycmd snapshots
//! (tests/cmd/*.toml, run by tests/cli.rs): its `--help`, at least one
//! success and at least one failure. A new command without them, or a
//! snapshot whose name says `-ok` but whose status is a failure (or the
//! other way round), fails here. Also: no snapshot output holds a path of
//! the machine it was made on (the checkout, the temp directory, $HOME).
//!
//! Naming convention: `<leaf path joined by ->-help.toml`,
//! `<leaf>-ok[-what].toml`, `<leaf>-err[-what].toml` (e.g.
//! `lock-verify-signature-ok-store.toml`). Older cases with other names
//! count too: what a case covers is read from its `args` and `status`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use locksmith::cli::definition::command;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Category {
    Help,
    Ok,
    Err,
}

/// Every leaf command (no subcommands of its own), by path.
fn leaves() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, path: &[String], out: &mut Vec<Vec<String>>) {
        let subs: Vec<&clap::Command> = cmd
            .get_subcommands()
            .filter(|s| s.get_name() != "help")
            .collect();
        if subs.is_empty() && !path.is_empty() {
            out.push(path.to_vec());
        }
        for sub in subs {
            let mut p = path.to_vec();
            p.push(sub.get_name().to_string());
            walk(sub, &p, out);
        }
    }
    let mut out = Vec::new();
    walk(&command(), &[], &mut out);
    out
}

/// The command path `args` reach: subcommand names are followed from the
/// top, options before a subcommand (global ones such as `--qr-in`)
/// skipped, and the walk stops at the first other word.
fn reached(args: &[String]) -> Vec<String> {
    let mut cmd = command();
    let mut path = Vec::new();
    for arg in args {
        if let Some(sub) = cmd.find_subcommand(arg).cloned() {
            path.push(sub.get_name().to_string());
            cmd = sub;
            continue;
        }
        if arg.starts_with('-') && cmd.has_subcommands() {
            continue;
        }
        break;
    }
    path
}

struct Case {
    file: PathBuf,
    path: Vec<String>,
    category: Category,
}

fn cmd_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cmd")
}

fn read_cases() -> Vec<Case> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(cmd_dir())
        .expect("tests/cmd")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file).expect("read case");
            let doc: toml::Value =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let bin = doc
                .get("bin")
                .and_then(|b| b.get("name"))
                .and_then(toml::Value::as_str);
            assert_eq!(bin, Some("locksmith"), "{}: bin.name", file.display());
            let args: Vec<String> = doc
                .get("args")
                .and_then(toml::Value::as_array)
                .unwrap_or_else(|| panic!("{}: no args array", file.display()))
                .iter()
                .map(|a| a.as_str().expect("string arg").to_string())
                .collect();
            // trycmd's default status is success.
            let success = match doc.get("status") {
                None => true,
                Some(toml::Value::String(s)) => s == "success",
                Some(toml::Value::Table(t)) => t
                    .get("code")
                    .and_then(toml::Value::as_integer)
                    .is_none_or(|c| c == 0),
                Some(other) => panic!("{}: status {other:?}", file.display()),
            };
            let category = if args.iter().any(|a| a == "--help" || a == "-h") {
                Category::Help
            } else if success {
                Category::Ok
            } else {
                Category::Err
            };
            Case {
                path: reached(&args),
                file,
                category,
            }
        })
        .collect()
}

#[test]
fn every_leaf_command_has_help_success_and_failure_snapshots() {
    let cases = read_cases();
    let mut covered: BTreeMap<Vec<String>, Vec<Category>> = BTreeMap::new();
    for c in &cases {
        covered.entry(c.path.clone()).or_default().push(c.category);
    }
    let mut missing = Vec::new();
    let all = leaves();
    for leaf in &all {
        let have = covered.get(leaf).cloned().unwrap_or_default();
        for (want, what) in [
            (Category::Help, "a --help case (<leaf>-help.toml)"),
            (Category::Ok, "a success case (<leaf>-ok*.toml, exit 0)"),
            (
                Category::Err,
                "a failure case (<leaf>-err*.toml, non-zero exit)",
            ),
        ] {
            if !have.contains(&want) {
                missing.push(format!("locksmith {}: lacks {what}", leaf.join(" ")));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "tests/cmd lacks snapshots ({} leaf commands):\n  {}",
        all.len(),
        missing.join("\n  ")
    );
    assert!(all.len() >= 29, "only {} leaf commands found", all.len());
    // A case that reaches no leaf (a typo in a subcommand name) covers nothing.
    let stray: Vec<String> = cases
        .iter()
        .filter(|c| !all.contains(&c.path))
        .map(|c| {
            format!(
                "{} reaches `locksmith {}`",
                c.file.display(),
                c.path.join(" ")
            )
        })
        .collect();
    assert!(stray.is_empty(), "{}", stray.join("\n"));
}

/// A case named by the convention says what it is: `-help` runs `--help`,
/// `-ok` exits 0, `-err` exits non-zero, and the name starts with the leaf
/// it reaches. (TRYCMD=overwrite rewrites a case's status; this catches a
/// success that quietly became a failure.)
#[test]
fn case_names_match_what_they_run() {
    let mut problems = Vec::new();
    for c in read_cases() {
        let stem = c
            .file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let leaf = c.path.join("-");
        let Some(rest) = stem.strip_prefix(&format!("{leaf}-")) else {
            continue; // an older name: counted by its args
        };
        let named = if rest == "help" {
            Category::Help
        } else if rest == "ok" || rest.starts_with("ok-") {
            Category::Ok
        } else if rest == "err" || rest.starts_with("err-") {
            Category::Err
        } else {
            continue;
        };
        if named != c.category {
            problems.push(format!(
                "{stem}.toml is named {named:?} but is a {:?} case",
                c.category
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Snapshots hold nothing of the machine they were made on: not the
/// checkout's absolute path, the temp directory (trycmd's sandboxes) or
/// the home directory. Paths inside a sandbox print relative to it, or as
/// trycmd's `[CWD]` / `[ROOT]`.
#[test]
fn snapshots_hold_no_machine_paths() {
    let mut forbidden: Vec<String> = vec![env!("CARGO_MANIFEST_DIR").to_string()];
    let tmp = std::env::temp_dir();
    forbidden.push(tmp.display().to_string().trim_end_matches('/').to_string() + "/");
    if let Some(home) = std::env::var_os("HOME") {
        let home = PathBuf::from(home);
        if home.components().count() > 1 {
            forbidden.push(home.display().to_string().trim_end_matches('/').to_string() + "/");
        }
    }
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(cmd_dir()).expect("tests/cmd") {
        let path = entry.expect("entry").path();
        if !path
            .extension()
            .is_some_and(|e| e == "stdout" || e == "stderr")
        {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("snapshot");
        for f in &forbidden {
            if text.contains(f.as_str()) {
                problems.push(format!("{} contains {f}", path.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_walk_finds_the_leaf_of_an_argv() {
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        reached(&args(&["--qr-in", "lock", "status", "--chain", "x"])),
        ["lock", "status"]
    );
    assert_eq!(reached(&args(&["inspect", "--help"])), ["inspect"]);
    assert_eq!(
        reached(&args(&["token", "list", "--json"])),
        ["token", "list"]
    );
    assert!(leaves().contains(&vec!["lock".to_string(), "verify-signature".to_string()]));
    assert!(!leaves().contains(&vec!["lock".to_string()]));
}
