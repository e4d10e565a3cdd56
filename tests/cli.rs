//! Command-line snapshots (trycmd): arguments, output, errors and exit
//! codes. Regenerate with `TRYCMD=overwrite cargo test --test cli` and
//! review the diff.

#[test]
fn cli_snapshots() {
    trycmd::TestCases::new().case("tests/cmd/*.toml");
}
