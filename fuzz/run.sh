#!/usr/bin/env bash
# Builds every fuzz target and runs each under libFuzzer for a bounded time (default 30 s
# each; `fuzz/run.sh 300` for five minutes), starting from the committed corpus
# fuzz/corpus/<target>/ (read only). New inputs that add coverage land in
# fuzz/target/new-corpus/<target>/ (commit the small ones by hand); a crash leaves its input in
# fuzz/artifacts/<target>/ and makes this script fail (CI: .ci/run).
#
# Needs cargo-fuzz (scripts/setup-dev.sh installs it: `cargo install cargo-fuzz --locked`).
# The stable toolchain is enough: RUSTC_BOOTSTRAP=1 lets it accept the instrumentation flags
# (a nightly toolchain, when installed, is used instead).
#
# The build is a development build without a sanitizer (`--dev -s none`): Pforte is safe Rust,
# so AddressSanitizer adds little, and its optimised, single-codegen-unit build of the whole
# crate is far too slow for CI on two cores (measurements in docs/security.md, "Fuzzing").
# FUZZ_BUILD_FLAGS overrides it, e.g. FUZZ_BUILD_FLAGS="-s address" for the full default.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-30}"
read -r -a build_flags <<<"${FUZZ_BUILD_FLAGS:---dev -s none}"
targets=(authorization_request token_request client_assertion upstream_id_token)
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed: cargo install cargo-fuzz --locked" >&2
    exit 2
fi
toolchain=()
if rustup toolchain list 2>/dev/null | grep -q nightly; then
    toolchain=(+nightly)
else
    export RUSTC_BOOTSTRAP=1
fi
echo "== building the fuzz targets (cargo fuzz build ${build_flags[*]})"
cargo "${toolchain[@]}" fuzz build "${build_flags[@]}"
for target in "${targets[@]}"; do
    echo "== $target (${secs} s)"
    mkdir -p "target/new-corpus/$target"
    cargo "${toolchain[@]}" fuzz run "${build_flags[@]}" "$target" \
        "target/new-corpus/$target" "corpus/$target" -- \
        -max_total_time="$secs" -max_len=70000 -timeout=10 -print_final_stats=1
done
echo "== no crash in ${#targets[@]} targets × ${secs} s"
