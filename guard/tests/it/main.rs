//! `pforte-guard`'s integration tests as ONE test binary (`cargo test -p pforte-guard --test it`):
//! one link instead of one per file. A test's name starts with its module, e.g. `jwks::…`.

mod common;

mod extractor;
mod jwks;
mod levels;
mod validate;
