//! Nothing here: the workspace-level tests are in `e2e/` (see README.md).
