#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 60 s each; `fuzz/run.sh 300` for five
# minutes), starting from the committed corpus; new interesting inputs land in
# fuzz/corpus/<target>/ (commit the small ones that add coverage), crashes in fuzz/artifacts/.
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly compiler. Without a nightly
# toolchain, RUSTC_BOOTSTRAP=1 lets the stable compiler accept the sanitizer flags.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed: cargo install cargo-fuzz" >&2
    exit 2
fi
toolchain=()
if rustup toolchain list 2>/dev/null | grep -q nightly; then
    toolchain=(+nightly)
else
    export RUSTC_BOOTSTRAP=1
fi
for target in authorization_request token_request client_assertion; do
    echo "== $target (${secs} s)"
    cargo "${toolchain[@]}" fuzz run "$target" "corpus/$target" -- \
        -max_total_time="$secs" -max_len=70000 -timeout=10
done
