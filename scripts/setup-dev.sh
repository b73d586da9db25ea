#!/usr/bin/env bash
# Installs what Pforte's build and tests need on a fresh Debian machine that has the Rust
# toolchain, and nothing that is already there. Run as root (or with sudo). Idempotent.
#
#   - a C compiler (aws-lc-sys), OpenSSL headers and pkg-config (webauthn-rs)
#   - PostgreSQL server binaries: the tests start their own throwaway server from
#     /usr/lib/postgresql/*/bin (tests/it/common/pgtemp.rs) unless PFORTE_TEST_PG_URL names one
#   - Chromium and chromedriver for the real-browser test (tests/it/browser.rs)
#   - Python 3 with venv for deploy/validate.sh (kubernetes-validate; it installs promtool itself)
#   - Node.js with the eID test peer's packages (tests/peers/eid-op) and aiosmtpd (SMTP tests)
#   - schemathesis (PyPI) against the admin API's OpenAPI document (tests/it/admin_openapi.rs)
#   - cargo-fuzz for the bounded fuzzing run of fuzz/run.sh
#
# Other engineers add their peers here (node/npm, python packages) so that one command sets a
# machine up; .ci/run calls this script first.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

need=()
have_pkg() { dpkg -s "$1" >/dev/null 2>&1; }
want() { have_pkg "$1" || need+=("$1"); }

want build-essential
want pkg-config
want libssl-dev
want ca-certificates
want curl
want tar
want python3
want python3-venv
# PostgreSQL server binaries (initdb, postgres, pg_isready); the service need not run.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    need+=(postgresql)
fi
if ! command -v chromium >/dev/null 2>&1; then
    need+=(chromium)
fi
if ! command -v chromedriver >/dev/null 2>&1; then
    need+=(chromium-driver)
fi
# Node.js for the eID test peer (panva's oidc-provider) and pip for the SMTP test server.
if ! command -v npm >/dev/null 2>&1; then
    need+=(nodejs npm)
fi
if ! python3 -c "import aiosmtpd" >/dev/null 2>&1 && ! python3 -m pip --version >/dev/null 2>&1; then
    need+=(python3-pip)
fi

if [ "${#need[@]}" -gt 0 ]; then
    echo "== installing: ${need[*]}"
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${need[@]}"
else
    echo "== everything is installed"
fi

# The test peers' own packages.
echo "== the eID test peer (tests/peers/eid-op: panva's oidc-provider)"
(cd "$(dirname "$0")/../tests/peers/eid-op" && npm ci --no-audit --no-fund)
echo "== aiosmtpd, the real SMTP server of the mail tests (tests/peers/smtp_sink.py)"
if ! python3 -c "import aiosmtpd" >/dev/null 2>&1; then
    python3 -m pip install aiosmtpd || python3 -m pip install --break-system-packages aiosmtpd
fi

echo "== schemathesis, the admin API's property-based tester (tests/it/admin_openapi.rs)"
if ! python3 -c "import schemathesis" >/dev/null 2>&1; then
    python3 -m pip install "schemathesis>=4,<5" || python3 -m pip install --break-system-packages "schemathesis>=4,<5"
fi

echo "== cargo-fuzz, the driver of the fuzz targets in fuzz/ (fuzz/run.sh, run by .ci/run)"
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

echo "== versions"
cargo --version || echo "cargo missing: install the Rust toolchain (https://rustup.rs)"
cc --version | head -n 1
ls -d /usr/lib/postgresql/*/bin | tail -n 1
chromedriver --version
node --version
