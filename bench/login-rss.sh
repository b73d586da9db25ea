#!/usr/bin/env bash
# Login storm vs memory: Pforte as built, and the same binary with glibc's mmap threshold pinned
# (MALLOC_MMAP_THRESHOLD_=1048576: every 19 MiB argon2 buffer is mmapped and returned to the
# kernel on free, instead of staying in a malloc arena). Alternating rounds; each prints
# logins/s, peak RSS during the storm, and RSS 5 s after it.
#
# usage: bench/login-rss.sh   env: PFORTE (/work/target-bench/release/pforte), ROUNDS (3),
#        SECS (15), CONNS (4), WORK (/tmp/pforte-login-rss), VARIANTS ("default mmap1m"),
#        PFORTE_<variant> (another binary for that variant, e.g. a patched build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PFORTE=${PFORTE:-/work/target-bench/release/pforte}
ROUNDS=${ROUNDS:-3}; SECS=${SECS:-15}; CONNS=${CONNS:-4}; WORK=${WORK:-/tmp/pforte-login-rss}
VARIANTS=${VARIANTS:-default mmap1m}
rm -rf "$WORK"; mkdir -p "$WORK"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
declare -A PID URL
port=8190
for v in $VARIANTS; do
  dir="$WORK/$v"; mkdir -p "$dir"; url="http://127.0.0.1:$port"
  common=(PFORTE_DATABASE_URL="sqlite://$dir/db.sqlite" PFORTE_ISSUER="$url" PFORTE_LISTEN="127.0.0.1:$port" PFORTE_LOG=warn)
  binvar="PFORTE_$v"
  echo 'correct horse battery staple' | env "${common[@]}" "${!binvar:-$PFORTE}" account add --email a@example.de --password-stdin >/dev/null 2>&1
  case $v in
    default) extra=() ;;
    mmap1m) extra=(MALLOC_MMAP_THRESHOLD_=1048576) ;;
    arena2) extra=(MALLOC_ARENA_MAX=2) ;;
    *) extra=() ;;
  esac
  binvar="PFORTE_$v"; bin=${!binvar:-$PFORTE} # PFORTE_<variant>: another build for that variant
  (exec env "${common[@]}" "${extra[@]}" "$bin" serve >"$dir/log" 2>&1) &
  pids+=($!); PID[$v]=$!; URL[$v]=$url
  for _ in $(seq 1 100); do curl -fsS "$url/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
  port=$((port + 1))
done
sleep 2
for v in $VARIANTS; do echo "{\"variant\":\"$v\",\"fresh_rss_mb\":$(( $(ps -o rss= -p "${PID[$v]}") / 1024 ))}"; done
for r in $(seq 1 "$ROUNDS"); do
  for v in $VARIANTS; do
    url=${URL[$v]}; pid=${PID[$v]}; sess="$WORK/$v/sessions"; : >"$sess"
    for i in $(seq 1 "$CONNS"); do
      html=$(curl -fsS -c "$WORK/$v/jar" "$url/login")
      csrf=$(grep -o 'name="csrf" value="[^"]*"' <<<"$html" | sed 's/.*value="//; s/"$//')
      echo "$(awk '$6 == "pforte_session" {print $7}' "$WORK/$v/jar") $csrf" >>"$sess"
    done
    echo 0 >"$WORK/max"
    (while kill -0 "$pid" 2>/dev/null && [ ! -e "$WORK/stop" ]; do
       x=$(ps -o rss= -p "$pid"); [ "$x" -gt "$(cat "$WORK/max")" ] && echo "$x" >"$WORK/max"; sleep 0.2; done) &
    smp=$!
    l=$(cut -d' ' -f1 /proc/loadavg)
    out=$(LOGIN_SESSIONS=$sess wrk -t"$CONNS" -c"$CONNS" -d"${SECS}s" -s "$here/login-storm.lua" "$url/login" | tail -n 1)
    touch "$WORK/stop"; wait "$smp" 2>/dev/null || true; rm -f "$WORK/stop"
    sleep 5
    python3 -c "import json,sys; r=json.loads(sys.argv[1]); r.update(variant='$v', round=$r, load1=$l, peak_rss_mb=round($(cat "$WORK/max")/1024,1), rss_5s_after_mb=round($(ps -o rss= -p "$pid")/1024,1)); print(json.dumps(r))" "$out"
  done
done
