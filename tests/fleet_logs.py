#!/usr/bin/env python3
"""Writes the worker logs of one stuck lock row seen by a fleet: prof-A / ETH-USD is held by
worker-1, and callers on several hosts fail on it, each every `period` seconds, staggered so
that the fleet sees a failure every period/hosts seconds while each host alone sees them
further apart than the episode gap. Journald JSON entries (with `__CURSOR`, `_HOSTNAME`, …),
with ordinary lines between the lock lines.

  tests/fleet_logs.py OUT_DIR [--hosts worker-2,worker-3,worker-4] [--start 2026-11-26T14:00:00Z]
                      [--period 100] [--minutes 10] [--transient]

Writes OUT_DIR/HOST.json for each host, OUT_DIR/by-host.json (the hosts one after another, as
a collector's single journal exported) and OUT_DIR/merged.json (all hosts in time order).
With --transient, each host fails twice a second apart once, then acquires: no escalation.
"""
import argparse, datetime, json, os

def entries(host, k, args, start):
    """(time in µs, entry) of one host."""
    out = []
    pid = 4000 + k
    seq = 0
    def entry(t, message, priority=6):
        nonlocal seq
        seq += 1
        return (t, {"__CURSOR": f"s=fleet{k};i={seq:x};b=b00{k};m={t:x};t={t:x};x=1",
                    "__REALTIME_TIMESTAMP": str(t), "__MONOTONIC_TIMESTAMP": str(t - start + 10**9),
                    "_BOOT_ID": f"b00{k}" + "0" * 28, "_HOSTNAME": host, "SYSLOG_IDENTIFIER": "trading-worker",
                    "_PID": str(pid), "PRIORITY": str(priority), "_SYSTEMD_UNIT": "trading-worker.service",
                    "MESSAGE": message})
    stagger = args.period * k / len(args.hosts)
    total = args.minutes * 60
    # Ordinary lines, every 5 s.
    for s in range(0, total, 5):
        out.append(entry(start + s * 10**6 + k * 1000, f"INFO trading_loop: tick profiles=12 host={host}"))
    if args.transient:
        t = start + int((30 + 7 * k) * 10**6)
        for d in (0, 1):
            out.append(entry(t + d * 10**6, f"WARNING entry_lock: fn_try_acquire_entry_lock_row returned false profile_id=prof-A symbol=ETH-USD owner_token=worker-1:7f3a caller_token={host}:c{k} expires_at=2026-11-26T14:00:59Z", 4))
        out.append(entry(t + 2 * 10**6, f"INFO entry_lock: acquired profile_id=prof-A symbol=ETH-USD caller_token={host}:c{k} latency_ms=3"))
    else:
        s = stagger
        while s < total:
            t = start + int(s * 10**6)
            out.append(entry(t, f"WARNING entry_lock: fn_try_acquire_entry_lock_row returned false profile_id=prof-A symbol=ETH-USD owner_token=worker-1:7f3a caller_token={host}:c{k}", 4))
            s += args.period
    out.sort(key=lambda e: e[0])
    return out

def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--hosts", default="worker-2,worker-3,worker-4")
    p.add_argument("--start", default="2026-11-26T14:00:00Z")
    p.add_argument("--period", type=float, default=100)
    p.add_argument("--minutes", type=int, default=10)
    p.add_argument("--transient", action="store_true")
    args = p.parse_args()
    args.hosts = args.hosts.split(",")
    start = int(datetime.datetime.fromisoformat(args.start.replace("Z", "+00:00")).timestamp()) * 10**6
    os.makedirs(args.out, exist_ok=True)
    every = []
    with open(os.path.join(args.out, "by-host.json"), "w") as by_host:
        for k, host in enumerate(args.hosts):
            es = entries(host, k, args, start)
            every += es
            with open(os.path.join(args.out, f"{host}.json"), "w") as f:
                for _, e in es:
                    line = json.dumps(e) + "\n"
                    f.write(line)
                    by_host.write(line)
    every.sort(key=lambda e: e[0])
    with open(os.path.join(args.out, "merged.json"), "w") as f:
        for _, e in every:
            f.write(json.dumps(e) + "\n")

if __name__ == "__main__":
    main()
