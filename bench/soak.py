#!/usr/bin/env python3
"""Soak: COPIES copies of a corpus through a pipe into lockwatch, its RSS sampled every
second; memory must stay flat. Writes a JSON summary on stdout.

  bench/soak.py path/to/lockwatch corpus [copies]
"""
import json, subprocess, sys, threading, time

binary, corpus = sys.argv[1], sys.argv[2]
copies = int(sys.argv[3]) if len(sys.argv) > 3 else 10

proc = subprocess.Popen([binary, "--format", "json"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)

def feed():
    with open(corpus, "rb") as f:
        for _ in range(copies):
            f.seek(0)
            while chunk := f.read(1 << 20):
                proc.stdin.write(chunk)
    proc.stdin.close()

writer = threading.Thread(target=feed)
start = time.time()
writer.start()
samples = []
while proc.poll() is None:
    try:
        for line in open(f"/proc/{proc.pid}/status"):
            if line.startswith("VmRSS:"):
                samples.append(int(line.split()[1]) / 1024)
    except OSError:
        break
    time.sleep(1)
writer.join()
elapsed = time.time() - start
size = copies * __import__("os").path.getsize(corpus)
steady = samples[max(2, len(samples) // 10):] or samples
print(json.dumps({"bytes": size, "seconds": round(elapsed, 1), "samples": len(samples),
                  "rss_mib_first": round(samples[0], 1) if samples else None,
                  "rss_mib_max": round(max(samples), 1) if samples else None,
                  "rss_mib_steady_min": round(min(steady), 1) if steady else None,
                  "rss_mib_steady_max": round(max(steady), 1) if steady else None,
                  "exit": proc.returncode}))
