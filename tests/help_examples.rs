//! Every command's `--help` ends with 1 to 3 examples, and every example is
//! a real command line: it parses against the clap definition the binary
//! uses and reaches the command it documents. A renamed or removed flag, a
//! lost required argument or a new command without examples fails here.
//! Also: the global `--qr-in` is listed once (top level), still accepted
//! after the command, and `lock init`'s options are grouped.

use locksmith::cli::definition::{command, try_parse_from};

/// Every command below the top, by path (`["lock", "init"]`).
fn all_commands() -> Vec<(Vec<String>, clap::Command)> {
    fn walk(cmd: &clap::Command, path: &[String], out: &mut Vec<(Vec<String>, clap::Command)>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut p = path.to_vec();
            p.push(sub.get_name().to_string());
            out.push((p.clone(), sub.clone()));
            walk(sub, &p, out);
        }
    }
    let mut out = vec![(Vec::new(), command())];
    walk(&command(), &[], &mut out);
    out
}

/// The `$ locksmith …` lines of a help text, continuation lines joined.
fn examples(help: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = help.lines();
    while let Some(line) = lines.next() {
        let Some(first) = line.trim_start().strip_prefix("$ ") else {
            continue;
        };
        let mut cmd = first.trim_end().to_string();
        while let Some(stripped) = cmd.strip_suffix('\\') {
            let next = lines
                .next()
                .unwrap_or_else(|| panic!("an example ends with a continuation: {first}"));
            cmd = format!("{} {}", stripped.trim_end(), next.trim());
        }
        out.push(cmd);
    }
    out
}

/// Splits a command line as a POSIX shell does for these examples: words,
/// 'single' and "double" quotes; a redirection or pipe ends the argv.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                    word.push(q);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            _ => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    match words
        .iter()
        .position(|w| ["<", ">", ">>", "|", "2>"].contains(&w.as_str()))
    {
        Some(end) => words[..end].to_vec(),
        None => words,
    }
}

/// The subcommand path a parsed command line reached.
fn reached(argv: &[String]) -> Vec<String> {
    let m = command()
        .try_get_matches_from(argv)
        .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    let mut path = Vec::new();
    let mut cur = &m;
    while let Some((name, sub)) = cur.subcommand() {
        path.push(name.to_string());
        cur = sub;
    }
    path
}

#[test]
fn every_command_has_one_to_three_examples_that_parse() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for (path, cmd) in all_commands() {
        let shown = format!("locksmith {}", path.join(" "));
        let help = cmd
            .get_after_help()
            .map(|h| h.to_string())
            .unwrap_or_default();
        let found = examples(&help);
        if !(1..=3).contains(&found.len()) {
            problems.push(format!("{shown}: {} examples (want 1 to 3)", found.len()));
        }
        if !help.contains("Examples:") {
            problems.push(format!("{shown}: no \"Examples:\" heading"));
        }
        for line in found {
            let argv = shell_words(&line);
            if argv.first().map(String::as_str) != Some("locksmith") {
                problems.push(format!("{shown}: example does not run locksmith: {line}"));
                continue;
            }
            if let Err(e) = try_parse_from(&argv) {
                problems.push(format!("{shown}: example does not parse: {line}\n{e}"));
                continue;
            }
            let got = reached(&argv);
            if !got.starts_with(&path) {
                problems.push(format!(
                    "{shown}: example runs `locksmith {}` instead: {line}",
                    got.join(" ")
                ));
            }
            checked += 1;
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked > 40, "only {checked} examples checked");
}

#[test]
fn examples_show_in_short_and_long_help() {
    for args in [["lock", "init", "-h"], ["lock", "init", "--help"]] {
        let err = command()
            .try_get_matches_from(std::iter::once("locksmith").chain(args))
            .expect_err("help exits");
        assert_eq!(err.kind(), clap::error::ErrorKind::DisplayHelp);
        let text = err.render().to_string();
        assert!(text.contains("Examples:\n  # Two YubiKeys"), "{text}");
        assert!(text.contains("$ locksmith lock init --signer"), "{text}");
    }
}

fn help_of(args: &[&str]) -> String {
    let err = command()
        .try_get_matches_from(
            std::iter::once("locksmith")
                .chain(args.iter().copied())
                .chain(["--help"]),
        )
        .expect_err("help exits");
    assert_eq!(err.kind(), clap::error::ErrorKind::DisplayHelp, "{args:?}");
    err.render().to_string()
}

#[test]
fn global_qr_in_is_listed_once_at_the_top() {
    let top = help_of(&[]);
    assert_eq!(
        top.matches("--qr-in").count(),
        2,
        "option and one example:\n{top}"
    );
    assert!(top.contains("Global options:\n      --qr-in"), "{top}");
    for (path, _) in all_commands().into_iter().skip(1) {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let help = help_of(&args);
        let options = help.split("Examples:").next().unwrap_or_default();
        // exchange encode/decode and online submit have a --qr-in of their own.
        let own = matches!(
            args.as_slice(),
            ["exchange", "encode"] | ["exchange", "decode"] | ["online", "submit"]
        );
        let listed = options
            .lines()
            .filter(|l| l.trim_start().starts_with("--qr-in"))
            .count();
        assert_eq!(
            listed,
            usize::from(own),
            "{args:?} lists --qr-in {listed} times:\n{help}"
        );
        assert!(!options.contains("Global options"), "{args:?}:\n{help}");
    }
}

#[test]
fn global_qr_in_is_still_accepted_before_and_after_the_command() {
    for argv in [
        &["locksmith", "--qr-in", "lock", "status", "--chain", "x.png"][..],
        &["locksmith", "lock", "--qr-in", "status", "--chain", "x.png"],
        &["locksmith", "lock", "status", "--chain", "x.png", "--qr-in"],
        &["locksmith", "inspect", "--qr-in", "photo.jpg"],
    ] {
        let cli = try_parse_from(argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
        assert!(cli.qr_in, "{argv:?}");
    }
    let cli = try_parse_from(["locksmith", "inspect", "photo.jpg"]).expect("parses");
    assert!(!cli.qr_in);
}

#[test]
fn lock_init_options_are_grouped() {
    let help = help_of(&["lock", "init"]);
    let headings = [
        "Signing keys (on the tokens):",
        "The authority:",
        "Disablement secrets:",
        "Output:",
        "Ceremony record:",
        "Examples:",
    ];
    let mut at = 0;
    for h in headings {
        let found = help[at..]
            .find(&format!("\n{h}\n"))
            .unwrap_or_else(|| panic!("heading {h:?} missing or out of order:\n{help}"));
        at += found + 1;
    }
    // Each option sits under the heading it belongs to.
    for (option, heading) in [
        ("--signer <SPEC>", "Signing keys"),
        ("--key <TLPUB[=VOTES]>", "The authority"),
        ("--gen-disablements <N>", "Disablement secrets"),
        ("--await-custodians", "Disablement secrets"),
        ("--store <DIR>", "Output"),
        ("--operator <NAME>", "Ceremony record"),
    ] {
        let pos = help
            .find(option)
            .unwrap_or_else(|| panic!("{option} missing"));
        let before = &help[..pos];
        let last = headings
            .iter()
            .filter_map(|h| before.rfind(&format!("\n{h}\n")).map(|p| (p, *h)))
            .max()
            .map(|(_, h)| h)
            .unwrap_or("Options:");
        assert!(
            last.starts_with(heading),
            "{option} is under {last:?}, not {heading:?}"
        );
    }
}
