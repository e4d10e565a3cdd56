//! A mistyped path must not be decoded as inline data: an argument that
//! looks like a path and names no file gets "no such file" and the
//! nearest existing names. Called by the CLI before an argument reaches
//! the input decoder.
//!
//! Looks like a path: starts with `/`, `./`, `../` or `~/`; or contains a
//! `/` and a `.` with no `:` before the first `/` (base64 has no `.`,
//! hex no `/`, URIs and `ur:`/`nodekey:` forms a scheme).

use std::path::Path;

/// Whether `arg` reads as a file path rather than inline data.
pub fn looks_like_path(arg: &str) -> bool {
    if arg == "-" || arg.chars().any(char::is_whitespace) || arg.starts_with('{') {
        return false;
    }
    if ["/", "./", "../", "~/"].iter().any(|p| arg.starts_with(p)) {
        return true;
    }
    match arg.find('/') {
        Some(slash) => !arg[..slash].contains(':') && arg.contains('.'),
        None => false,
    }
}

/// Fails with "no such file" and the nearest names when `arg` looks like
/// a path and names nothing.
pub fn require_existing(arg: &str, what: &str) -> anyhow::Result<()> {
    if !looks_like_path(arg) || Path::new(arg).exists() {
        return Ok(());
    }
    let path = Path::new(arg);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let wanted = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !dir.is_dir() {
        anyhow::bail!(
            "{what} {}: no such file (its directory {} does not exist either); check the path",
            crate::shown::escape_short(arg, 200),
            dir.display()
        );
    }
    let near = nearest(dir, &wanted, 3);
    let hint = if near.is_empty() {
        format!("{} has no file with a similar name", dir.display())
    } else {
        format!(
            "nearest existing names in {}: {}",
            dir.display(),
            near.iter()
                .map(|n| crate::shown::escape_short(n, 120))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    anyhow::bail!(
        "{what} {}: no such file; {hint}",
        crate::shown::escape_short(arg, 200)
    )
}

/// `args` unchanged, after [`require_existing`] on each (`--chain`).
pub fn checked(args: &[String]) -> anyhow::Result<&[String]> {
    for a in args {
        require_existing(a, "--chain")?;
    }
    Ok(args)
}

/// Up to `count` names in `dir` closest to `wanted` (edit distance at
/// most half its length, nearest first).
fn nearest(dir: &Path, wanted: &str, count: usize) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let limit = wanted.chars().count().div_ceil(2).max(2);
    let mut scored: Vec<(usize, String)> = entries
        .filter_map(|e| e.ok())
        .take(10_000)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .map(|n| (distance(&n, wanted), n))
        .filter(|(d, _)| *d <= limit)
        .collect();
    scored.sort();
    scored.into_iter().take(count).map(|(_, n)| n).collect()
}

/// Levenshtein distance over characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_inline_data_are_told_apart() {
        for p in ["/tmp/x", "./a.aum", "../b", "~/c", "dir/genesis.aum"] {
            assert!(looks_like_path(p), "{p}");
        }
        for d in [
            "-",
            "a1b2c3",
            "pAEFAvYFpQH2/oJYIEbR+q",
            "ur:locksmith/abc.def",
            "{\"a\":1}",
            "nodekey:ab",
        ] {
            assert!(!looks_like_path(d), "{d}");
        }
    }

    #[test]
    fn a_missing_file_names_the_nearest_existing_ones() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("genesis.aum"), b"x").unwrap();
        std::fs::write(d.path().join("other.txt"), b"x").unwrap();
        let arg = d.path().join("genesis.aun");
        let e = require_existing(arg.to_str().unwrap(), "--chain")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no such file") && e.contains("genesis.aum"),
            "{e}"
        );
        assert!(!e.contains("other.txt"), "{e}");
        require_existing(d.path().join("genesis.aum").to_str().unwrap(), "--chain").unwrap();
        require_existing("a1b2c3", "--chain").unwrap();
        let e = require_existing("/no/such/dir/x.aum", "--chain")
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not exist"), "{e}");
    }
}
