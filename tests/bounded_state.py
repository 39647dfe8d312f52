#!/usr/bin/env python3
"""Bounded state: 2 million distinct contended profiles through a pipe run in at most 256 MiB
of peak RSS and still end with a summary that counts the evicted keys (issue: --max-keys).

  tests/bounded_state.py path/to/lockwatch [profiles]
"""
import json, resource, subprocess, sys, threading

binary = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000_000
limit_kib = 256 * 1024

line = ("2026-11-26 14:%02d:%02d,%03d WARNING entry_lock: fn_try_acquire_entry_lock_row returned false "
        "profile_id=%08x-7c2d-4e8b-b1f0-%012x symbol=BTC-USD owner_token=worker-1:abc caller_token=worker-2:def\n")

def feed(pipe):
    batch = []
    for i in range(count):
        ms = i // 10
        batch.append(line % ((ms // 60000) % 60, (ms // 1000) % 60, ms % 1000, i, i * 7919))
        if len(batch) == 20000:
            pipe.write("".join(batch).encode()); batch = []
    pipe.write("".join(batch).encode())
    pipe.close()

proc = subprocess.Popen([binary, "--format", "json"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE)
writer = threading.Thread(target=feed, args=(proc.stdin,))
writer.start()
last = b""
for out in proc.stdout:
    last = out
stderr = proc.stderr.read().decode()
writer.join()
status = proc.wait()
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss

summary = json.loads(last)
failures = []
if summary.get("type") != "summary":
    failures.append("the output does not end with a summary")
if summary.get("evicted_keys", 0) < count - 100_000:
    failures.append(f"evicted_keys is {summary.get('evicted_keys')}, expected at least {count - 100_000}")
if peak_kib > limit_kib:
    failures.append(f"peak RSS {peak_kib / 1024:.1f} MiB is over 256 MiB")
if status not in (0, 1):
    failures.append(f"exit status {status}: {stderr.strip()}")
print(f"bounded state: {count:,} distinct profiles, peak RSS {peak_kib / 1024:.1f} MiB, "
      f"{summary.get('evicted_keys')} keys evicted, {len(summary.get('profiles', []))} in the summary")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
