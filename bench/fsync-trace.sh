#!/usr/bin/env bash
# Counts fsync/fdatasync calls of a running server and how long they took (perf tracepoints).
# usage: bench/fsync-trace.sh PID SECONDS   (run a load next to it; needs perf and root)
set -euo pipefail
pid=$1; secs=${2:-10}
data=$(mktemp /tmp/fsync-trace.XXXXXX)
perf record -q -e syscalls:sys_enter_fsync,syscalls:sys_exit_fsync,syscalls:sys_enter_fdatasync,syscalls:sys_exit_fdatasync \
  -p "$pid" -o "$data" -- sleep "$secs" 2>/dev/null
perf script -i "$data" -F tid,time,event 2>/dev/null | python3 -c '
import sys, collections, json
start = {}; d = collections.defaultdict(list)
for l in sys.stdin:
    p = l.split()
    if len(p) < 3: continue
    tid, t, ev = p[0], float(p[1].rstrip(":")), p[2].rstrip(":")
    name = ev.split("_", 2)[-1]
    if "enter" in ev: start[(tid, name)] = t
    elif (tid, name) in start: d[name].append((t - start.pop((tid, name))) * 1000)
out = {}
for k, v in d.items():
    v.sort()
    out[k] = {"count": len(v), "total_ms": round(sum(v)), "p50_ms": round(v[len(v) // 2], 1), "max_ms": round(v[-1], 1)}
print(json.dumps(out or {"fsync": {"count": 0}}))'
rm -f "$data"
