#!/usr/bin/env bash
# Validates deploy/: the Kubernetes manifests against the Kubernetes JSON schemas
# (kubernetes-validate from PyPI, which ships the schemas inside the package, so nothing but
# PyPI is needed), the Prometheus configuration and alert rules with promtool, and the alert
# rules' unit tests (prometheus/pforte-rules.test.yml).
#
# Idempotent: the first run creates a virtualenv under ~/.cache/pforte and installs the
# Debian package `prometheus` (which ships promtool) when promtool is missing; later runs
# only validate (a few seconds). Exits non-zero on the first failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The oldest Kubernetes release the manifests support, and the newest the schemas know.
kube_versions="${PFORTE_KUBE_VERSIONS:-1.30.0 1.37.0}"
kv_version="1.37.0"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/pforte/deploy-venv-$kv_version"

step() { printf '== %s\n' "$*"; }

# --- tools ---------------------------------------------------------------------------------
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
    step "installing kubernetes-validate $kv_version into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$kv_version"
fi
if ! command -v promtool >/dev/null 2>&1; then
    step "installing promtool (Debian package prometheus)"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    # The package's daemon is not wanted here: keep invoke-rc.d from starting it.
    export DEBIAN_FRONTEND=noninteractive RUNLEVEL=1
    if ! $sudo_cmd apt-get install -y --no-install-recommends prometheus >/dev/null; then
        $sudo_cmd apt-get update -qq
        $sudo_cmd apt-get install -y --no-install-recommends prometheus >/dev/null
    fi
fi

# --- Kubernetes ----------------------------------------------------------------------------
k8s="$here/kubernetes"
step "kustomization.yaml lists every manifest, and every listed one exists"
python3 - "$k8s" <<'PY'
import pathlib, re, sys
d = pathlib.Path(sys.argv[1])
text = (d / "kustomization.yaml").read_text()
listed = set(re.findall(r"^\s*-\s*(\S+\.ya?ml)\s*$", text, re.M))
present = {p.name for p in d.glob("*.yaml")} - {"kustomization.yaml"}
problems = [f"listed but missing: {n}" for n in sorted(listed - present)]
problems += [f"not listed in kustomization.yaml: {n}" for n in sorted(present - listed)]
for p in problems:
    print("  " + p)
sys.exit(1 if problems else 0)
PY
manifests=()
for f in "$k8s"/*.yaml; do
    [ "$(basename "$f")" = kustomization.yaml ] || manifests+=("$f")
done
for v in $kube_versions; do
    step "Kubernetes $v schemas (strict: unknown fields are errors)"
    "$venv/bin/kubernetes-validate" --strict --quiet -k "$v" "${manifests[@]}"
done

# --- Prometheus ----------------------------------------------------------------------------
prom="$here/prometheus"
step "promtool check rules"
promtool check rules "$prom/pforte-rules.yml"
step "promtool test rules"
(cd "$prom" && promtool test rules pforte-rules.test.yml)
step "promtool check config"
# The scrape job reads its bearer token from a file relative to the configuration; give it a
# placeholder in a scratch copy (promtool checks that the file exists).
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cp "$prom/prometheus.yml" "$prom/pforte-rules.yml" "$scratch/"
mkdir -p "$scratch/secrets/pforte"
printf 'placeholder' >"$scratch/secrets/pforte/PFORTE_METRICS_BEARER_TOKEN"
promtool check config "$scratch/prometheus.yml"

step "deploy/ is valid"
