//! Pforte's end-to-end tests as ONE test binary (`cargo test --test it`): linking the whole
//! crate once instead of once per file is most of the build time of the test suite. Each
//! module is one concern (README.md, "What the tests prove"); a test's name starts with its
//! module, e.g. `negative::negative_sqlite`, so `cargo test --test it negative::` runs one file's tests.

mod common;

mod admin_api;
mod admin_console;
mod admin_openapi;
mod admin_staff_pages;
mod assurance;
mod backchannel;
mod browser;
mod browser_console;
mod bruteforce;
mod cli;
mod cockpit;
mod federation;
mod guard_against_pforte;
mod hardening;
mod hardening_findings;
mod journey;
mod keys_and_restart;
mod logs;
mod mail_recovery;
mod metrics;
mod multi_instance;
mod negative;
mod oidc_flow;
mod pairwise;
mod passkey;
mod private_key_jwt;
mod register;
mod register_links;
mod registration_takeover;
mod resilience;
mod response_modes;
mod rfc9700;
mod second_factor;
mod security_map;
mod sessions;
mod smtp_tls;
mod speed;
mod tls;
mod verified_claims;
