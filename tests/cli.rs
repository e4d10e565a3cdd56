//! Command-line snapshots (trycmd): arguments, output, errors and exit
//! codes. Every leaf command has a `--help`, a success and a failure case
//! (`tests/cli_coverage.rs` checks it); the cases that need an authority
//! run in a sandboxed copy of the fixture in `tests/data/cli` (its README
//! says how it was made). Regenerate with `TRYCMD=overwrite cargo test
//! --test cli` and review the diff; a new case needs empty `.stdout` and
//! `.stderr` files first (overwrite only rewrites files that exist).

#[test]
fn cli_snapshots() {
    trycmd::TestCases::new().case("tests/cmd/*.toml");
}
