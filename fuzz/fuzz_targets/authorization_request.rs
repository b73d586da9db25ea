//! Fuzz target: `pforte::oidc::fuzz::authorization_request` must not panic on any input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pforte::oidc::fuzz::authorization_request(data);
});
