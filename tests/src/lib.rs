//! Shared helpers for the workspace-level tests in `tests/tests/`.
#![forbid(unsafe_code)]
