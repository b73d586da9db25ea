//! Fuzz target: `pforte::oidc::fuzz::upstream_id_token` must not panic on any input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pforte::oidc::fuzz::upstream_id_token(data);
});
