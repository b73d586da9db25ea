#!/usr/bin/env bash
# A/B of Pforte builds on the client_credentials endpoint: each binary gets its own fresh SQLite
# database and port; runs alternate A, B, ... for $RUNS rounds; medians of rps, p99 and server
# CPU per request. Used to put a number on a proposed hot-path change built from a patched copy
# of the tree outside /work/main.
#
# usage: bench/ab-binaries.sh NAME=PATH/TO/pforte [NAME=PATH ...]
#   env: RUNS (3), SECS (10), CONNS (32), WORK (/tmp/pforte-ab),
#        MODE (token | jwks), EXTRA_ENV_<NAME> (extra env for that binary, e.g. MALLOC_...=...),
#        DBDIR_<NAME> (folder for that binary's database, e.g. /dev/shm: no fsync cost)
set -euo pipefail
RUNS=${RUNS:-3}; SECS=${SECS:-10}; CONNS=${CONNS:-32}; MODE=${MODE:-token}
LOAD=$(cd "$(dirname "$0")" && pwd)/load.sh; WORK=${WORK:-/tmp/pforte-ab}
export CLIENT_ID=rp CLIENT_SECRET=rp-secret
mkdir -p "$WORK"; : >"$WORK/ab.jsonl"
names=(); pids=(); urls=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
port=8180
for spec in "$@"; do
  name=${spec%%=*}; bin=${spec#*=}
  dbdir_var="DBDIR_$name"; dir="${!dbdir_var:-$WORK}/$name"; rm -rf "$dir"; mkdir -p "$dir"
  url="http://127.0.0.1:$port"
  common=(PFORTE_DATABASE_URL="sqlite://$dir/db.sqlite" PFORTE_ISSUER="$url" PFORTE_LISTEN="127.0.0.1:$port" PFORTE_LOG=warn)
  env "${common[@]}" "$bin" client add --id rp --secret rp-secret --redirect-uri http://127.0.0.1:9999/cb \
    --grant-type client_credentials >/dev/null 2>&1
  extra_var="EXTRA_ENV_$name"; extra=(${!extra_var:-})
  (exec env "${common[@]}" "${extra[@]}" "$bin" serve >"$dir/log" 2>&1) &
  pids+=($!); names+=("$name"); urls+=("$url")
  for _ in $(seq 1 100); do curl -fsS "$url/.well-known/openid-configuration" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fsS -u rp:rp-secret -d grant_type=client_credentials "$url/token" >/dev/null
  "$LOAD" "$url" "$MODE" 3 "$CONNS" >/dev/null # warm-up
  port=$((port + 1))
done
for i in $(seq 1 "$RUNS"); do
  for k in "${!names[@]}"; do
    pid=${pids[$k]}
    l=$(cut -d' ' -f1 /proc/loadavg)
    t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    out=$("$LOAD" "${urls[$k]}" "$MODE" "$SECS" "$CONNS")
    t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    rss=$(ps -o rss= -p "$pid" | tr -d ' ')
    python3 -c "import json,sys; r=json.loads(sys.argv[1]); r.update(name='${names[$k]}', date='$(date -u +%FT%TZ)', load1=$l, server_cpu_s=($t1-$t0)/100, rss_mb=round($rss/1024,1)); r['cpu_us_per_req']=round(r['server_cpu_s']*1e6/max(r['requests'],1),1); print(json.dumps(r))" "$out" |
      tee -a "$WORK/ab.jsonl"
  done
done
python3 - "$WORK/ab.jsonl" <<'EOF'
import json, statistics as st, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
names = list(dict.fromkeys(r["name"] for r in rows))
base = None
print("| build | rps (median) | p50 ms | p99 ms | server CPU µs/req | RSS MB | load |")
print("|---|---|---|---|---|---|---|")
for n in names:
    rs = [r for r in rows if r["name"] == n]
    m = lambda k: st.median(r[k] for r in rs)
    base = base or m("rps")
    print(f"| {n} | {m('rps'):,.0f} ({m('rps')/base:.2f}×) | {m('p50_ms'):.2f} | {m('p99_ms'):.2f} | {m('cpu_us_per_req'):.0f} | "
          f"{max(r['rss_mb'] for r in rs):.1f} | {min(r['load1'] for r in rs):.2f}–{max(r['load1'] for r in rs):.2f} |")
EOF
