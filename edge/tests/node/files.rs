//! `files` in the manifest: what a component sees under `/`, read-only.

use crate::harness::{get, shared};

#[tokio::test]
async fn a_component_reads_its_files_and_nothing_else() {
    let node = shared();
    let read = |path: &str| {
        let url = format!("{}/files/file?{path}", node.url);
        async move { get(&url, &[]).await }
    };
    // A glob pattern keeps the matched file's path relative to the manifest.
    let (status, body) = read("/fixtures/static/hello.txt").await;
    assert_eq!((status, body.as_str()), (200, "hello from a static file\n"));
    // A directory mapped to a destination.
    let (status, body) = read("/assets/img/logo.svg").await;
    assert_eq!((status, body.as_str()), (200, "<svg/>\n"));
    // Not matched, excluded, or outside: not there.
    for path in [
        "/fixtures/static/notes.md",
        "/fixtures/static/secret.txt",
        "/spin.toml",
        "/../spin.toml",
    ] {
        let (status, body) = read(path).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    // Read-only.
    let (status, body) = get(
        &format!("{}/files/write?/fixtures/static/hello.txt", node.url),
        &[],
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (_, body) = read("/fixtures/static/hello.txt").await;
    assert_eq!(body, "hello from a static file\n");
    // A component without files sees no file system at all.
    let (status, _) = get(
        &format!("{}/probe/file?/fixtures/static/hello.txt", node.url),
        &[],
    )
    .await;
    assert_eq!(status, 404);
}
