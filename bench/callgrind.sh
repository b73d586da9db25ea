#!/usr/bin/env bash
# Instructions per request of a release build, counted by valgrind's callgrind: deterministic
# on a busy box, so an A/B of two builds does not depend on what the neighbours do.
#
# usage: bench/callgrind.sh token|introspect [SECS] [CONNS]
#   Fresh SQLite database with client rp/rp-secret, Pforte under callgrind (instrumentation off
#   until the first token has been issued: the one argon2 check of the client secret is not
#   counted), then wrk for SECS seconds (default 20) with CONNS connections (default 8).
#   Prints one JSON line (requests, instructions, instructions per request) and leaves
#   $WORK/callgrind.out for `callgrind_annotate --inclusive=yes`.
# env: TARGET (/work/target-bench), WORK (/tmp/pforte-callgrind), PORT (8090)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mode=${1:?usage: callgrind.sh token|introspect [SECS] [CONNS]}
secs=${2:-20}; conns=${3:-8}
TARGET=${TARGET:-/work/target-bench}
WORK=${WORK:-/tmp/pforte-callgrind}
PORT=${PORT:-8090}
PFORTE=$TARGET/release/pforte
iss=http://127.0.0.1:$PORT
rm -rf "$WORK" && mkdir -p "$WORK"
export PFORTE_DATABASE_URL="sqlite://$WORK/db.sqlite" PFORTE_ISSUER=$iss \
  PFORTE_LISTEN=127.0.0.1:$PORT PFORTE_LOG=warn
"$PFORTE" client add --id rp --secret rp-secret --redirect-uri http://127.0.0.1:9999/cb \
  --grant-type client_credentials >/dev/null
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$WORK/callgrind.out" \
  "$PFORTE" serve >"$WORK/server.log" 2>&1 &
vg=$!
trap 'kill $vg 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  curl -fsS "$iss/.well-known/openid-configuration" >/dev/null 2>&1 && break
  sleep 0.5
done
# Warm: the argon2 check of the secret, the pools, the caches.
for _ in 1 2 3; do
  curl -fsS -u rp:rp-secret -d grant_type=client_credentials "$iss/token" >/dev/null
done
callgrind_control -i on "$vg" >/dev/null; callgrind_control -z "$vg" >/dev/null
out=$(WORK= "$here/load.sh" "$iss" "$mode" "$secs" "$conns")
callgrind_control -i off "$vg" >/dev/null
callgrind_control -d "$vg" >/dev/null
kill "$vg"; wait "$vg" 2>/dev/null || true
trap - EXIT
file=$WORK/callgrind.out.1 # the dump taken right after the load (callgrind.out: the rest, at exit)
# The sum of every function's self cost (PROGRAM TOTALS can wrap after `callgrind_control -z`).
total=$(callgrind_annotate --threshold=100 "$file" 2>/dev/null |
  awk '/file:function/ {f = 1; next} f && $1 ~ /^[0-9,]+$/ {gsub(",", "", $1); s += $1} END {printf "%d", s}')
python3 - "$out" "$total" "$mode" "$file" <<'EOF'
import json, sys
r = json.loads(sys.argv[1])
n = r["requests"]
# load.sh in introspect mode issues one token and introspects it once before the run.
print(json.dumps({"mode": sys.argv[3], "requests": n, "non_2xx": r.get("non_2xx"),
                  "instructions": int(sys.argv[2]),
                  "instructions_per_req": round(int(sys.argv[2]) / max(n, 1)),
                  "file": sys.argv[4]}))
EOF
