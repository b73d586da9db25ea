#!/usr/bin/env bash
# Pforte vs the certified peer (panva's oidc-provider), side by side on this box, end to end.
#
# usage: bench/side-by-side.sh [STEP...]
#   steps (default: all, in this order):
#     setup   wrk installed? `npm ci` in bench/peer (the peer: panva's oidc-provider)
#     build   cargo build --release with CARGO_TARGET_DIR=$TARGET (and bench/argon2-bench)
#     start   fresh SQLite database, client rp/rp-secret, a citizen account; start both servers,
#             measure idle RSS
#     token   client_credentials: $RUNS runs each, alternating peer/Pforte
#     introspect  introspection (RFC 7662) of one access token: $RUNS runs each, alternating
#     jwks    JWKS: $RUNS runs each, alternating
#     algs    Pforte token runs with access tokens signed ES256 / EdDSA / RS256 (one each,
#             a second Pforte on :8082 sharing the database)
#     pg      one token run against Pforte on a fresh PostgreSQL database (:8081), next to one
#             peer run
#     sign    openssl speed: ES256 vs RS256 vs Ed25519 signatures per second per core
#     argon2  bare argon2id verify throughput, 2 threads (Rust argon2 0.5.3 = Pforte's crate;
#             argon2-cffi as a cross-check when installed)
#     login   $RUNS rounds of: bare argon2 (Rust, 2 threads) | login storm alone | storm +
#             client_credentials at full speed | storm + paced client_credentials (16 conns,
#             32 ms apart: ~430 rps)
#     idle    idle RSS of both servers now (5 s after the last load)
#     stop    stop every server this script started
#     report  medians, ratios, RSS table from $WORK/results.jsonl (appended to by every step:
#             use a fresh WORK, or delete it, for a new session)
#
# env: TARGET (/work/target-bench), PEER_DIR (bench/peer), WORK (/tmp/pforte-bench),
#      RUNS (3), SECS (10), CONNS (32), LOGIN_CONNS (4), LOGIN_SECS (20),
#      PG_URL_BASE (postgres://postgres@127.0.0.1:5432), PG_ADMIN_DB (test), PG_KEEP=1 (keep the
#      PostgreSQL database), KEEP=1 (leave the servers running), ARGON2_BENCH_BIN
# Every result line in $WORK/results.jsonl carries the date and the 1-minute load average at
# its start (the box is shared: compare ratios taken in the same minute, not absolute figures).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
TARGET=${TARGET:-/work/target-bench}
PEER_DIR=${PEER_DIR:-$here/peer}
LOAD=$here/load.sh
WORK=${WORK:-/tmp/pforte-bench}
RUNS=${RUNS:-3}
SECS=${SECS:-10}
CONNS=${CONNS:-32}
LOGIN_CONNS=${LOGIN_CONNS:-4}
LOGIN_SECS=${LOGIN_SECS:-20}
PG_URL_BASE=${PG_URL_BASE:-postgres://postgres@127.0.0.1:5432}
PG_ADMIN_DB=${PG_ADMIN_DB:-test}
PFORTE=$TARGET/release/pforte
ARGON2_BENCH=${ARGON2_BENCH_BIN:-${TARGET}-argon2/release/argon2-bench}
PEER_URL=http://127.0.0.1:3100
PF_URL=http://127.0.0.1:8080
RESULTS=$WORK/results.jsonl
PIDS=$WORK/pids
export CLIENT_ID=rp CLIENT_SECRET=rp-secret
mkdir -p "$WORK"
touch "$PIDS"

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
load1() { cut -d' ' -f1 /proc/loadavg; }
rss_kb() { ps -o rss= -p "$1" | tr -d ' '; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime of the server process
pid_of() { awk -v n="$1" '$1 == n {print $2}' "$PIDS" | tail -n 1; }
record() { echo "$1" >>"$RESULTS"; echo "$1"; }

wait_up() { # URL
  for _ in $(seq 1 100); do
    curl -fsS "$1/.well-known/openid-configuration" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "server at $1 did not come up" >&2
  return 1
}

# Samples the RSS of PID every 200 ms into FILE (the maximum) until FILE.stop exists.
rss_sampler() { # PID FILE
  local pid=$1 file=$2 max=0 r
  rm -f "$file.stop"
  echo 0 >"$file"
  while [ ! -e "$file.stop" ] && kill -0 "$pid" 2>/dev/null; do
    r=$(rss_kb "$pid" || echo 0)
    if [ "${r:-0}" -gt "$max" ]; then max=$r; echo "$max" >"$file"; fi
    sleep 0.2
  done
}

pforte_env() { # DB_URL ISSUER [extra env...]
  local db=$1 iss=$2; shift 2
  env PFORTE_DATABASE_URL="$db" PFORTE_ISSUER="$iss" PFORTE_LISTEN="${iss#http://}" \
    PFORTE_LOG=warn "$@"
}

start_pforte() { # NAME DB_URL ISSUER [extra env...]
  local name=$1 db=$2 iss=$3; shift 3
  # exec: the background job *is* the server process, so $! is its PID (RSS, CPU, kill).
  (exec env PFORTE_DATABASE_URL="$db" PFORTE_ISSUER="$iss" PFORTE_LISTEN="${iss#http://}" \
    PFORTE_LOG=warn "$@" "$PFORTE" serve >"$WORK/$name.log" 2>&1) &
  echo "$name $!" >>"$PIDS"
  wait_up "$iss"
}

stop_one() { # NAME
  local pid; pid=$(pid_of "$1")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"; wait "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  sed -i "/^$1 /d" "$PIDS"
}

# One load run: SERVER-NAME URL MODE [CONNS] [SECS]. Records rps/latency, the server's CPU
# seconds during the run (from /proc), wrk's CPU seconds (GNU time), load and peak RSS.
run_one() {
  local name=$1 url=$2 mode=$3 conns=${4:-$CONNS} secs=${5:-$SECS} label=${6:-$3}
  local pid; pid=$(pid_of "$name")
  local l; l=$(load1)
  local t0; t0=$(cpu_ticks "$pid")
  rss_sampler "$pid" "$WORK/rss.$name" &
  local sampler=$!
  local out
  out=$(/usr/bin/time -f '%U %S' -o "$WORK/wrk.time" "$LOAD" "$url" "$mode" "$secs" "$conns")
  touch "$WORK/rss.$name.stop"; wait "$sampler" 2>/dev/null || true
  local t1; t1=$(cpu_ticks "$pid")
  local wcpu; wcpu=$(awk '{print $1 + $2}' "$WORK/wrk.time")
  local peak; peak=$(cat "$WORK/rss.$name")
  record "$(python3 - "$out" <<EOF
import json, sys
r = json.loads(sys.argv[1])
r.update(date="$(date -u +%FT%TZ)", server="$name", mode="$label", conns=$conns, secs=$secs,
         load1=$l, server_cpu_s=round(($t1 - $t0) / $(getconf CLK_TCK), 2), wrk_cpu_s=$wcpu,
         peak_rss_mb=round($peak / 1024, 1))
r["server_cpu_us_per_req"] = round(r["server_cpu_s"] * 1e6 / max(r["requests"], 1), 1)
print(json.dumps(r))
EOF
)"
}

step_setup() {
  command -v wrk >/dev/null || apt-get install -y wrk
  [ -d "$PEER_DIR/node_modules" ] || (cd "$PEER_DIR" && npm ci --no-audit --no-fund)
}

step_build() {
  (cd "$repo" && CARGO_TARGET_DIR="$TARGET" cargo build --release)
  (cd "$here/argon2-bench" && CARGO_TARGET_DIR="${TARGET}-argon2" cargo build --release)
}

step_start() {
  # Fresh SQLite database, one client, one citizen.
  stop_one pforte; stop_one peer
  rm -rf "$WORK/db" && mkdir -p "$WORK/db"
  local db="sqlite://$WORK/db/db.sqlite"
  pforte_env "$db" "$PF_URL" "$PFORTE" client add --id rp --secret rp-secret \
    --redirect-uri http://127.0.0.1:9999/cb --grant-type client_credentials \
    --grant-type authorization_code >/dev/null
  echo 'correct horse battery staple' |
    pforte_env "$db" "$PF_URL" "$PFORTE" account add --email a@example.de --password-stdin >/dev/null
  (cd "$PEER_DIR" && PORT=3100 exec node peer.mjs >"$WORK/peer.log" 2>&1) &
  echo "peer $!" >>"$PIDS"
  wait_up "$PEER_URL"
  start_pforte pforte "$db" "$PF_URL"
  sleep 3
  idle_record fresh
  # One token request each (Pforte: one argon2 verify of the client secret, then cached), settle.
  curl -fsS -u rp:rp-secret -d grant_type=client_credentials "$PEER_URL/token" >/dev/null
  curl -fsS -u rp:rp-secret -d grant_type=client_credentials "$PF_URL/token" >/dev/null
  sleep 3
  idle_record after_first_token
}

idle_record() { # LABEL [SERVERS...]
  local label=$1; shift
  local servers=("$@") n
  [ ${#servers[@]} -eq 0 ] && servers=(peer pforte)
  for n in "${servers[@]}"; do
    record "{\"date\":\"$(date -u +%FT%TZ)\",\"server\":\"$n\",\"mode\":\"idle\",\"when\":\"$label\",\"load1\":$(load1),\"idle_rss_mb\":$(python3 -c "print(round($(rss_kb "$(pid_of "$n")")/1024,1))")}"
  done
}

# Unrecorded 3 s warm-up of both servers (the peer's JIT, Pforte's caches and pool).
warm() { # MODE
  "$LOAD" "$PEER_URL" "$1" 3 "$CONNS" >/dev/null
  "$LOAD" "$PF_URL" "$1" 3 "$CONNS" >/dev/null
}

step_token() {
  warm token
  for i in $(seq 1 "$RUNS"); do
    run_one peer "$PEER_URL" token
    run_one pforte "$PF_URL" token
  done
}

step_introspect() {
  warm introspect
  for i in $(seq 1 "$RUNS"); do
    run_one peer "$PEER_URL" introspect
    run_one pforte "$PF_URL" introspect
  done
}

step_jwks() {
  warm jwks
  for i in $(seq 1 "$RUNS"); do
    run_one peer "$PEER_URL" jwks
    run_one pforte "$PF_URL" jwks
  done
}

step_algs() {
  local db="sqlite://$WORK/db/db.sqlite"
  for alg in ES256 EdDSA RS256; do
    start_pforte "pforte-$alg" "$db" http://127.0.0.1:8082 PFORTE_TOKENS_ACCESS_TOKEN_ALG=$alg
    curl -fsS -u rp:rp-secret -d grant_type=client_credentials http://127.0.0.1:8082/token >/dev/null
    run_one "pforte-$alg" http://127.0.0.1:8082 token
    stop_one "pforte-$alg"
  done
}

step_pg() {
  local dbname="pforte_bench_$(date +%s)"
  psql -h 127.0.0.1 -U postgres -d "$PG_ADMIN_DB" -qc "create database $dbname" >/dev/null
  local db="$PG_URL_BASE/$dbname"
  # An explicit key-encryption key: without one, a development issuer on PostgreSQL would
  # generate ./data/pforte.kek in the current directory.
  local kek; kek=$(head -c 32 /dev/urandom | base64)
  PFORTE_KEYS_ENCRYPTION_KEY=$kek pforte_env "$db" http://127.0.0.1:8081 "$PFORTE" client add --id rp --secret rp-secret \
    --redirect-uri http://127.0.0.1:9999/cb --grant-type client_credentials \
    --grant-type authorization_code >/dev/null
  start_pforte pforte-pg "$db" http://127.0.0.1:8081 PFORTE_KEYS_ENCRYPTION_KEY="$kek"
  curl -fsS -u rp:rp-secret -d grant_type=client_credentials http://127.0.0.1:8081/token >/dev/null
  sleep 2
  idle_record after_first_token pforte-pg
  run_one peer "$PEER_URL" token "$CONNS" "$SECS" token_pg_companion
  run_one pforte-pg http://127.0.0.1:8081 token
  local rows
  rows=$(psql -h 127.0.0.1 -U postgres -d "$dbname" -tAc 'select count(*) from access_tokens')
  record "{\"date\":\"$(date -u +%FT%TZ)\",\"server\":\"pforte-pg\",\"mode\":\"ledger_rows\",\"rows\":$rows}"
  stop_one pforte-pg
  if [ "${PG_KEEP:-0}" = 1 ]; then
    echo "PostgreSQL database $dbname kept for inspection (drop database $dbname)" >&2
  else
    psql -h 127.0.0.1 -U postgres -d "$PG_ADMIN_DB" -qc "drop database $dbname" >/dev/null
  fi
}

step_sign() {
  local l; l=$(load1)
  # openssl speed: one core; sign/s for each algorithm.
  openssl speed -seconds 3 ecdsap256 rsa2048 ed25519 2>/dev/null >"$WORK/openssl-speed.txt"
  local es rs ed
  es=$(awk '/256 bits ecdsa \(nistp256\)/ {print $(NF-1)}' "$WORK/openssl-speed.txt")
  rs=$(awk '/^rsa 2048 bits/ {print $(NF-1)}' "$WORK/openssl-speed.txt")
  ed=$(awk '/253 bits EdDSA \(Ed25519\)/ {print $(NF-1)}' "$WORK/openssl-speed.txt")
  record "{\"date\":\"$(date -u +%FT%TZ)\",\"mode\":\"sign_per_s_one_core\",\"load1\":$l,\"ES256\":${es:-null},\"RS256\":${rs:-null},\"EdDSA\":${ed:-null},\"tool\":\"$(openssl version | cut -d' ' -f1-2)\"}"
}

argon2_bare() { # IMPL(rust|cffi) SECS
  local l; l=$(load1)
  local r
  case $1 in
    rust) r=$("$ARGON2_BENCH" 2 "$2") ;;
    cffi) r=$(python3 "$here/argon2_cffi_bench.py" 2 "$2") ;;
  esac
  record "$(python3 -c "import json,sys; r=json.loads(sys.argv[1]); r.update(date='$(date -u +%FT%TZ)', mode='argon2_bare', load1=$l); print(json.dumps(r))" "$r")"
}

# Bare argon2 once per implementation (the cross-check); the Rust figure is re-measured next to
# every login storm in step_login.
step_argon2() {
  argon2_bare rust 10
  python3 -c 'import argon2' 2>/dev/null && argon2_bare cffi 10
}

# One session per wrk thread: GET /login with a cookie jar, keep the cookie and the CSRF input.
fetch_login_sessions() { # N FILE
  : >"$2"
  for i in $(seq 1 "$1"); do
    local jar="$WORK/jar.$i"
    rm -f "$jar"
    local html; html=$(curl -fsS -c "$jar" "$PF_URL/login")
    local csrf; csrf=$(grep -o 'name="csrf" value="[^"]*"' <<<"$html" | sed 's/.*value="//; s/"$//')
    local cookie; cookie=$(awk '$6 == "pforte_session" {print $7}' "$jar")
    [ -n "$csrf" ] && [ -n "$cookie" ] || { echo "no session/csrf from /login" >&2; return 1; }
    echo "$cookie $csrf" >>"$2"
  done
}

login_storm() { # SECS -> prints the wrk JSON line (sessions fetched beforehand)
  LOGIN_SESSIONS="$WORK/login-sessions.txt" wrk -t"$LOGIN_CONNS" -c"$LOGIN_CONNS" -d"${1}s" \
    --latency -s "$here/login-storm.lua" "$PF_URL/login" | tail -n 1
}

# $RUNS rounds of: bare argon2 (Rust, 2 threads) | the login storm alone | the storm together
# with client_credentials load at full speed (run.sh) | the storm with paced client_credentials
# load (about 500 requests/s). Medians over the rounds.
step_login() {
  local pid; pid=$(pid_of pforte)
  local i l t0 t1 out storm
  for i in $(seq 1 "$RUNS"); do
    argon2_bare rust "$LOGIN_SECS"
    fetch_login_sessions "$LOGIN_CONNS" "$WORK/login-sessions.txt"
    l=$(load1); t0=$(cpu_ticks "$pid")
    out=$(login_storm "$LOGIN_SECS")
    t1=$(cpu_ticks "$pid")
    record_login login "$out" "$l" "$t0" "$t1" "$LOGIN_SECS"
    # the storm and client_credentials load at the same time ($SECS + 1 s of storm; the token
    # load starts 0.5 s after it and lasts $SECS s)
    for variant in full paced; do
      fetch_login_sessions "$LOGIN_CONNS" "$WORK/login-sessions.txt"
      l=$(load1); t0=$(cpu_ticks "$pid")
      login_storm $((SECS + 1)) >"$WORK/login-during.json" &
      storm=$!
      sleep 0.5
      if [ $variant = full ]; then
        run_one pforte "$PF_URL" token "$CONNS" "$SECS" token_during_login_storm
      else
        run_paced pforte "$PF_URL" 16 32 "$SECS" token_paced_during_login_storm
      fi
      wait "$storm"
      t1=$(cpu_ticks "$pid")
      record_login "login_with_token_load_$variant" "$(cat "$WORK/login-during.json")" "$l" "$t0" "$t1" $((SECS + 1))
    done
  done
}

record_login() { # MODE JSON LOAD T0 T1 SECS
  record "$(python3 -c "import json,sys; r=json.loads(sys.argv[1]); r.update(date='$(date -u +%FT%TZ)', server='pforte', mode='$1', conns=$LOGIN_CONNS, secs=$6, load1=$3, server_cpu_s=round(($5-$4)/$(getconf CLK_TCK),2)); print(json.dumps(r))" "$2")"
}

# Paced client_credentials load: CONNS connections, each waiting DELAY_MS between requests.
run_paced() { # NAME URL CONNS DELAY_MS SECS LABEL
  local name=$1 url=$2 conns=$3 delay=$4 secs=$5 label=$6
  local pid; pid=$(pid_of "$name")
  local l; l=$(load1)
  local t0; t0=$(cpu_ticks "$pid")
  local te; te=$(curl -fsS "$url/.well-known/openid-configuration" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token_endpoint"])')
  local out
  out=$(MODE=token BENCH_WRK_DIR="$here/wrk" DELAY_MS=$delay wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$here/client-credentials-paced.lua" "$te" | tail -n 1)
  local t1; t1=$(cpu_ticks "$pid")
  record "$(python3 -c "import json,sys; r=json.loads(sys.argv[1]); r.update(date='$(date -u +%FT%TZ)', server='$name', mode='$label', conns=$conns, delay_ms=$delay, secs=$secs, load1=$l, server_cpu_s=round(($t1-$t0)/$(getconf CLK_TCK),2)); print(json.dumps(r))" "$out")"
}

# Idle RSS now (after the loads so far), 5 s after the last request.
step_idle() { sleep 5; idle_record "after_load_$(date -u +%H%M%S)"; }

step_stop() {
  while read -r name _; do [ -n "$name" ] && stop_one "$name"; done <"$PIDS"
  : >"$PIDS"
}

step_report() { python3 "$here/report.py" "$RESULTS"; }

steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(setup build start token introspect jwks idle algs pg sign argon2 login idle stop report)
# KEEP=1: leave the servers running (to run steps one at a time); else stop them on exit.
[ "${KEEP:-0}" = 1 ] || trap 'step_stop' EXIT
for s in "${steps[@]}"; do
  log "== $s (load $(load1))"
  "step_$s"
done
