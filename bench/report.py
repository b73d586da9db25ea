#!/usr/bin/env python3
"""Summarises results.jsonl from bench/side-by-side.sh as Markdown: medians, ratios, RSS.
usage: python3 bench/report.py /tmp/pforte-bench/results.jsonl"""
import json
import statistics as st
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]


def runs(server, mode):
    return [r for r in rows if r.get("server") == server and r.get("mode") == mode]


def med(rs, k):
    v = [r[k] for r in rs if r.get(k) is not None]
    return st.median(v) if v else None


def lst(rs, k, d=0):
    return ", ".join(fmt(r[k], d) for r in rs)


def fmt(x, d=0):
    return "–" if x is None else f"{x:,.{d}f}"


def span(rs):
    d = sorted(r["date"] for r in rs)
    loads = [r["load1"] for r in rs if "load1" in r]
    return f"{d[0][:16].replace('T', ' ')}–{d[-1][11:16]} UTC, load {min(loads):.2f}–{max(loads):.2f}" if d else ""


out = []
out.append("### Side by side (medians of the runs; each run: wrk -t1, %s connections, %s s)\n" % (
    next((r["conns"] for r in rows if r.get("mode") == "token"), "?"),
    next((r["secs"] for r in rows if r.get("mode") == "token"), "?")))
out.append("| endpoint | server | runs | rps (median) | p50 ms | p99 ms | server CPU µs/req | wrk CPU s | peak RSS MB | when / load |")
out.append("|---|---|---|---|---|---|---|---|---|---|")
ratios = {}
for mode in ("token", "introspect", "jwks"):
    for server in ("peer", "pforte"):
        rs = runs(server, mode)
        if not rs:
            continue
        out.append(f"| {mode} | {server} | {len(rs)} ({', '.join(fmt(r['rps']) for r in rs)}) | {fmt(med(rs, 'rps'))} | "
                   f"{fmt(med(rs, 'p50_ms'), 2)} | {fmt(med(rs, 'p99_ms'), 2)} | {fmt(med(rs, 'server_cpu_us_per_req'), 0)} | "
                   f"{fmt(med(rs, 'wrk_cpu_s'), 1)} | {fmt(max(r['peak_rss_mb'] for r in rs), 1)} | {span(rs)} |")
    a, b = runs("pforte", mode), runs("peer", mode)
    if a and b:
        ratios[mode] = (med(a, "rps") / med(b, "rps"), med(a, "p99_ms"), med(b, "p99_ms"),
                        med(b, "server_cpu_us_per_req") / med(a, "server_cpu_us_per_req"))
out.append("")
for mode, (r, pa, pb, cpu) in ratios.items():
    out.append(f"- **{mode}**: Pforte / peer throughput = **{r:.2f}×**; p99 Pforte {pa:.2f} ms vs peer {pb:.2f} ms; "
               f"server CPU per request: peer / Pforte = {cpu:.2f}×")

out.append("\n### Memory (RSS, `ps -o rss=`)\n")
out.append("| server | when | RSS MB | load |")
out.append("|---|---|---|---|")
for server in ("peer", "pforte", "pforte-pg"):
    for r in rows:
        if r.get("server") == server and r.get("mode") == "idle":
            out.append(f"| {server} | idle, {r.get('when', '')} | {r['idle_rss_mb']:.1f} | {r['load1']} |")
    for mode in ("token", "jwks", "token_during_login_storm"):
        peaks = [r["peak_rss_mb"] for r in rows if r.get("server") == server and r.get("mode") == mode]
        if peaks:
            out.append(f"| {server} | peak under {mode} load | {max(peaks):.1f} | |")

algs = [r for r in rows if str(r.get("server", "")).startswith("pforte-") and r.get("mode") == "token"
        and r["server"] != "pforte-pg"]
if algs:
    out.append("\n### Pforte client_credentials by access-token algorithm (one run each)\n")
    out.append("| alg | rps | p50 ms | p99 ms | server CPU µs/req | load |")
    out.append("|---|---|---|---|---|---|")
    for r in algs:
        out.append(f"| {r['server'][7:]} | {fmt(r['rps'])} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {fmt(r['server_cpu_us_per_req'])} | {r['load1']} |")

pg = runs("pforte-pg", "token")
if pg:
    peer_near = runs("peer", "token_pg_companion")[-1:] or [r for r in runs("peer", "token") if r["date"] <= pg[-1]["date"]][-1:]
    out.append("\n### PostgreSQL (one run, next to one peer run)\n")
    out.append("| server | rps | p50 ms | p99 ms | server CPU µs/req | load |")
    out.append("|---|---|---|---|---|---|")
    for r in peer_near + pg:
        out.append(f"| {r['server']} | {fmt(r['rps'])} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {fmt(r['server_cpu_us_per_req'])} | {r['load1']} |")
    if peer_near:
        out.append(f"\nRatio Pforte (PostgreSQL) / peer: **{pg[-1]['rps'] / peer_near[0]['rps']:.2f}×**")
    lr = [r for r in rows if r.get("mode") == "ledger_rows"]
    if lr:
        out.append(f"; access_tokens rows in the ledger afterwards: {lr[-1]['rows']:,}")

sign = [r for r in rows if r.get("mode") == "sign_per_s_one_core"]
if sign:
    s = sign[-1]
    out.append(f"\n### Signing cost, one core ({s['tool']}, load {s['load1']})\n")
    out.append("| alg | signatures/s | µs each |")
    out.append("|---|---|---|")
    for a in ("ES256", "EdDSA", "RS256"):
        if s.get(a):
            out.append(f"| {a} | {fmt(s[a])} | {1e6 / s[a]:.1f} |")

ar = [r for r in rows if r.get("mode") == "argon2_bare"]
if ar:
    out.append("\n### Password logins (argon2id m=19 MiB, t=2, p=1; medians over the rounds)\n")
    out.append("| what | runs | per s (median) | p50 ms | p99 ms | note | load |")
    out.append("|---|---|---|---|---|---|---|")
    for impl in sorted({r["impl"] for r in ar}):
        rs = [r for r in ar if r["impl"] == impl]
        out.append(f"| bare argon2 verify, {impl}, 2 threads | {len(rs)} ({lst(rs, 'per_s', 1)}) | "
                   f"{med(rs, 'per_s'):.1f} | – | – | {med(rs, 'ms_each_per_thread'):.1f} ms per verify per thread | {span(rs)} |")
    for mode, what in (("login", "POST /login, storm alone"),
                       ("login_with_token_load_full", "POST /login + full-speed client_credentials"),
                       ("login_with_token_load_paced", "POST /login + paced client_credentials")):
        rs = runs("pforte", mode)
        if rs:
            out.append(f"| {what} ({rs[0]['conns']} conns) | {len(rs)} ({lst(rs, 'logins_per_s', 1)}) | "
                       f"{med(rs, 'logins_per_s'):.1f} | {med(rs, 'p50_ms'):.0f} | {med(rs, 'p99_ms'):.0f} | "
                       f"{sum(r['logins_ok'] for r in rs)} ok, {sum(r['not_303'] for r in rs)} not 303 | {span(rs)} |")
    for mode, what in (("token_during_login_storm", "client_credentials (full speed) during the storm"),
                       ("token_paced_during_login_storm", "client_credentials (paced) during the storm")):
        rs = runs("pforte", mode)
        if rs:
            out.append(f"| {what} | {len(rs)} ({', '.join(fmt(r['rps']) for r in rs)}) | {fmt(med(rs, 'rps'))} rps | "
                       f"{med(rs, 'p50_ms'):.2f} | **{med(rs, 'p99_ms'):.2f}** (runs: {lst(rs, 'p99_ms', 1)}) | "
                       f"non-2xx {sum(r['non_2xx'] for r in rs)} | {span(rs)} |")
    rust = [r for r in ar if r["impl"].startswith("rust")]
    if rust:
        base = med(rust, "per_s")
        out.append("")
        for mode, what in (("login", "storm alone"), ("login_with_token_load_full", "with full-speed client_credentials"),
                           ("login_with_token_load_paced", "with paced client_credentials")):
            rs = runs("pforte", mode)
            if rs:
                out.append(f"- logins/s {what} / bare argon2 (Rust, same crate, 2 threads), medians: "
                           f"**{med(rs, 'logins_per_s') / base:.0%}**")
print("\n".join(out))
