//! Tests that measure a server under load, in a test binary of their own
//! (`cargo test --test load`): cargo runs test binaries one after another, so while these
//! measure, no other test of the suite shares the box's two cores with them. The helpers are
//! the end-to-end tests' own (`tests/it/common`).

#[allow(unused_imports, unused_macros)]
#[path = "../it/common/mod.rs"]
mod common;

mod overload;
