//! Snapshot tests of configuration mistakes: every `NAME.toml` in a folder under
//! `tests/ui/` must be refused with exactly the text in `NAME.err`. `BLESS=1` rewrites the
//! `.err` files after an intended change; review the diff.

use std::path::{Path, PathBuf};

/// Checks every `.toml` in `tests/ui/<folder>` against its `.err`, rendering each with
/// `render` (its error text, or `accepted`); at least `min` snapshots must be there, and no
/// `.err` without its `.toml`.
pub fn check(folder: &str, min: usize, render: impl Fn(&Path, &Path) -> String) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/ui")
        .join(folder);
    let bless = std::env::var_os("BLESS").is_some();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the snapshot folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    let mut mismatches = Vec::new();
    let mut checked = 0;
    for path in &files {
        match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => {}
            Some("err") => {
                assert!(path.with_extension("toml").exists(), "stray {path:?}");
                continue;
            }
            _ => panic!("unexpected file {}", path.display()),
        }
        checked += 1;
        let rendered = render(&dir, path);
        let twin = path.with_extension("err");
        if bless {
            std::fs::write(&twin, &rendered).expect("a writable snapshot folder");
            continue;
        }
        let expected = std::fs::read_to_string(&twin)
            .unwrap_or_else(|_| panic!("{} is missing: run with BLESS=1", twin.display()));
        if expected != rendered {
            mismatches.push(format!(
                "--- {}\nexpected:\n{expected}actual:\n{rendered}",
                path.display()
            ));
        }
    }
    assert!(
        checked >= min,
        "only {checked} snapshots in {}",
        dir.display()
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
