//! Snapshot tests: every `tests/ui/invalid/NAME.toml` must fail with exactly the text in
//! `NAME.err`, and every `tests/ui/valid/*.toml` must load. Run with `BLESS=1` to rewrite the
//! `.err` files after an intended change, then review the diff.

use std::path::{Path, PathBuf};

use region_config::RegionConfig;

fn ui_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/ui")
        .join(kind)
}

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no snapshots in {}", dir.display());
    files
}

#[test]
fn every_invalid_file_fails_with_its_exact_message() {
    let bless = std::env::var_os("BLESS").is_some();
    let mut mismatches = Vec::new();
    for path in toml_files(&ui_dir("invalid")) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let rendered = match RegionConfig::from_path(&path) {
            Ok(_) => format!("{name} was accepted\n"),
            Err(e) => e.render(&name),
        };
        let expected_path = path.with_extension("err");
        if bless {
            std::fs::write(&expected_path, &rendered).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("{} is missing: run with BLESS=1", expected_path.display()));
        if expected != rendered {
            mismatches.push(format!(
                "--- {name}\nexpected:\n{expected}actual:\n{rendered}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn every_invalid_snapshot_has_an_expected_error_file_and_no_stray_ones() {
    let dir = ui_dir("invalid");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let twin = match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => path.with_extension("err"),
            Some("err") => path.with_extension("toml"),
            _ => panic!("unexpected file {}", path.display()),
        };
        assert!(
            twin.exists(),
            "{} has no twin {}",
            path.display(),
            twin.display()
        );
    }
}

#[test]
fn every_valid_file_loads() {
    for path in toml_files(&ui_dir("valid")) {
        if let Err(e) = RegionConfig::from_path(&path) {
            panic!("{}", e.render(&path.display().to_string()));
        }
    }
}

#[test]
fn many_problems_are_all_reported_not_just_the_first() {
    let path = ui_dir("invalid").join("many_problems.toml");
    match RegionConfig::from_path(&path) {
        Err(region_config::LoadError::Invalid(diagnostics)) => assert!(
            diagnostics.len() >= 5,
            "expected every problem, got {diagnostics:?}"
        ),
        other => panic!("expected validation errors, got {other:?}"),
    }
}
