#!/usr/bin/env python3
"""Cross-check of bare argon2id verify throughput with argon2-cffi (the C reference
implementation; cffi releases the GIL, so threads run in parallel).
usage: python3 argon2_cffi_bench.py [THREADS=2] [SECONDS=10]   (pip install argon2-cffi)
Parameters as Pforte: argon2id, m = 19456 KiB, t = 2, p = 1."""
import json, sys, threading, time
from argon2 import PasswordHasher, Type

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
secs = float(sys.argv[2]) if len(sys.argv) > 2 else 10
ph = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)
pw = "correct horse battery staple"
h = ph.hash(pw)
stop = False
counts = [0] * threads

def work(i):
    while not stop:
        ph.verify(h, pw)
        counts[i] += 1

ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
t0 = time.monotonic()
for t in ts: t.start()
time.sleep(secs)
stop = True
for t in ts: t.join()
el = time.monotonic() - t0
n = sum(counts)
print(json.dumps({"impl": "argon2-cffi (C reference)", "threads": threads, "verifies": n,
                  "seconds": round(el, 2), "per_s": round(n / el, 1),
                  "ms_each_per_thread": round(el * 1000 * threads / n, 1)}))
