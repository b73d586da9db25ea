//! Fuzz target: `pforte::oidc::fuzz::client_assertion` must not panic on any input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pforte::oidc::fuzz::client_assertion(data);
});
