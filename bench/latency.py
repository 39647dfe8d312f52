#!/usr/bin/env python3
"""Live-pipe latency: how long after the line that decides an escalation is written does the
escalation reach lockwatch's stdout? A writer timestamps each escalating line as it writes it
into lockwatch's stdin (a pipe, as journalctl -f would be); a reader timestamps each escalation
as it arrives. Prints the median and the worst of N rounds."""
import json, os, subprocess, sys, threading, time

def line(t, profile, msg_extra=""):
    ts = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) + ",000"
    return (f"{ts} WARNING entry_lock: fn_try_acquire_entry_lock_row returned false profile_id={profile} "
            f"symbol=ETH-USD owner_token=worker-1:a6a3a450 caller_token=worker-2:892f902b{msg_extra}\n").encode()

def main():
    binary = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    extra = sys.argv[3:]
    proc = subprocess.Popen([binary, "--format", "json"] + extra, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    arrivals = []
    def reader():
        for raw in proc.stdout:
            if b'"escalation"' in raw:
                arrivals.append(time.perf_counter())
    threading.Thread(target=reader, daemon=True).start()
    base = 1795701600
    delays = []
    for r in range(rounds):
        profile = f"p{r:04d}"
        t0 = base + r * 1000
        # Contention from t0; the failure at t0 + 91 s crosses the persistent threshold.
        for dt in (0, 30, 60):
            proc.stdin.write(line(t0 + dt, profile))
        time.sleep(0.05)
        before = len(arrivals)
        written = time.perf_counter()
        proc.stdin.write(line(t0 + 91, profile))
        deadline = written + 2
        while len(arrivals) == before and time.perf_counter() < deadline:
            time.sleep(0.0002)
        if len(arrivals) > before:
            delays.append((arrivals[before] - written) * 1000)
        time.sleep(0.02)
    proc.stdin.close()
    proc.wait()
    delays.sort()
    if not delays:
        print("latency: no escalation arrived"); sys.exit(1)
    print(json.dumps({"rounds": rounds, "received": len(delays), "median_ms": round(delays[len(delays) // 2], 2),
                      "max_ms": round(delays[-1], 2)}))

if __name__ == "__main__":
    main()
