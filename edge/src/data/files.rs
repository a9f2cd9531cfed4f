//! A component's `files`, staged at load into a folder laid out as the component sees it
//! under `/` (read-only), as Spin does.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::manifest::FileMount;

/// Copies what `files` names (relative to `manifest_dir`, minus `exclude`) into a fresh
/// folder laid out as the component will see it under `/`, as Spin does. Nothing outside
/// the manifest's folder may be named.
pub fn stage(
    manifest_dir: &Path,
    files: &[FileMount],
    exclude: &[String],
) -> anyhow::Result<tempfile::TempDir> {
    let staged = tempfile::Builder::new().prefix("edge-files-").tempdir()?;
    let inside = |relative: &str| -> anyhow::Result<PathBuf> {
        let path = Path::new(relative);
        if path.is_absolute()
            || path
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            bail!("{relative:?} must be a path inside the manifest's folder");
        }
        Ok(path.to_path_buf())
    };
    let excluded = exclude
        .iter()
        .map(|p| glob::Pattern::new(p).with_context(|| format!("exclude_files: {p:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let copy = |from: &Path, to: &Path| -> anyhow::Result<()> {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(from, to).with_context(|| format!("failed to copy {}", from.display()))?;
        Ok(())
    };
    for mount in files {
        match mount {
            FileMount::Pattern(pattern) => {
                inside(pattern)?;
                let full = manifest_dir.join(pattern);
                let matches = glob::glob(&full.to_string_lossy())
                    .with_context(|| format!("{pattern:?} is not a glob pattern"))?;
                for found in matches {
                    let found = found?;
                    let relative = found.strip_prefix(manifest_dir)?.to_path_buf();
                    if found.is_file() && !excluded.iter().any(|p| p.matches_path(&relative)) {
                        copy(&found, &staged.path().join(&relative))?;
                    }
                }
            }
            FileMount::Mapping {
                source,
                destination,
            } => {
                let source_path = manifest_dir.join(inside(source)?);
                let Some(destination) = destination.strip_prefix('/') else {
                    bail!("destination {destination:?} must be an absolute path");
                };
                let target = staged.path().join(inside(destination)?);
                if source_path.is_dir() {
                    for entry in walk(&source_path)? {
                        copy(&entry, &target.join(entry.strip_prefix(&source_path)?))?;
                    }
                } else if source_path.is_file() {
                    copy(&source_path, &target)?;
                } else {
                    bail!("source {source:?} does not exist");
                }
            }
        }
    }
    Ok(staged)
}

/// Every file under `dir`, recursively.
fn walk(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(walk(&path)?);
        } else {
            files.push(path);
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_must_stay_inside_the_manifests_folder() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
        for mount in [
            FileMount::Pattern("../*.rs".into()),
            FileMount::Pattern("/etc/*".into()),
            FileMount::Mapping {
                source: "../../Cargo.toml".into(),
                destination: "/x".into(),
            },
            FileMount::Mapping {
                source: "fixtures".into(),
                destination: "relative".into(),
            },
            FileMount::Mapping {
                source: "no-such-folder".into(),
                destination: "/x".into(),
            },
        ] {
            assert!(
                stage(&dir, std::slice::from_ref(&mount), &[]).is_err(),
                "{mount:?}"
            );
        }
        let staged = stage(
            &dir,
            &[FileMount::Pattern("fixtures/static/*.txt".into())],
            &["**/secret.txt".into()],
        )
        .unwrap();
        assert!(staged.path().join("fixtures/static/hello.txt").is_file());
        assert!(!staged.path().join("fixtures/static/secret.txt").exists());
    }
}
