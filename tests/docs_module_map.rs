//! docs/architecture.md's module map names every top-level module of
//! `src/` (a file or a directory), so that the map cannot fall behind the
//! code: a new module without a row fails here.

use std::path::Path;

#[test]
fn module_map_names_every_top_level_module() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/architecture.md")).expect("architecture.md");
    let map = doc
        .split("## Module map")
        .nth(1)
        .expect("a \"## Module map\" section");
    let map = map.split("\n## ").next().unwrap_or(map);
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(root.join("src")).expect("src") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        let shown = if entry.path().is_dir() {
            format!("`src/{name}/`")
        } else if name.ends_with(".rs") {
            format!("`src/{name}`")
        } else {
            continue;
        };
        if !map.contains(&shown) {
            missing.push(shown);
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "docs/architecture.md's module map lacks a row for: {}",
        missing.join(", ")
    );
}
