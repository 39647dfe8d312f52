#!/usr/bin/env python3
"""Writes the worker logs of one stuck lock row seen by a fleet: prof-A / ETH-USD is held by
worker-1, and callers on several hosts fail on it, each every `period` seconds, staggered so
that the fleet sees a failure every period/hosts seconds while each host alone sees them
further apart than the episode gap. Journald JSON entries (with `__CURSOR`, `_HOSTNAME`, …),
with an ordinary line from every host every 5 s between the lock lines.

  tests/fleet_logs.py OUT_DIR [--hosts worker-2,worker-3,worker-4] [--start 2026-11-26T14:00:00Z]
                      [--period 100] [--minutes 10] [--failing-minutes M] [--second-key HOSTS]
                      [--transient]

Writes OUT_DIR/HOST.json for each host, OUT_DIR/by-host.json (the hosts one after another, as
a collector's single journal exported) and OUT_DIR/merged.json (all hosts in time order).
--failing-minutes ends the failures before the log ends (the episode then goes quiet);
--second-key adds prof-B / BTC-USD, failing every 40 s on each of those hosts only; --transient
makes each host fail twice a second apart once, then acquire: no escalation.
"""
import argparse, datetime, json, os

FAILED = ("WARNING entry_lock: fn_try_acquire_entry_lock_row returned false profile_id={profile} "
          "symbol={symbol} owner_token=worker-1:7f3a caller_token={host}:c{k}")

def scenario(hosts, start, period=100.0, minutes=10, failing_minutes=None, second_key=(), transient=False, second_period=40.0):
    """Every entry of every host: (time in µs, host, entry as a dict), in time order per host."""
    total = minutes * 60
    failing = (failing_minutes if failing_minutes is not None else minutes) * 60
    out = []
    for k, host in enumerate(hosts):
        seq = 0
        def entry(t, message, priority=6):
            nonlocal seq
            seq += 1
            return (t, host, {"__CURSOR": f"s=fleet{k};i={seq:x};b=b00{k};m={t:x};t={t:x};x=1",
                              "__REALTIME_TIMESTAMP": str(t), "__MONOTONIC_TIMESTAMP": str(t - start + 10**9),
                              "_BOOT_ID": f"{k:032x}", "_MACHINE_ID": f"{k + 16:032x}", "_HOSTNAME": host,
                              "SYSLOG_IDENTIFIER": "trading-worker", "_PID": str(4000 + k), "PRIORITY": str(priority),
                              "_SYSTEMD_UNIT": "trading-worker.service", "MESSAGE": message})
        mine = []
        for s in range(0, total, 5):
            mine.append(entry(start + s * 10**6 + k * 1000, f"INFO trading_loop: tick profiles=12 host={host}"))
        keys = [("prof-A", "ETH-USD", period * k / len(hosts))]
        if host in second_key:
            n = list(second_key).index(host)
            keys.append(("prof-B", "BTC-USD", 7 + second_period * n / len(second_key), second_period))
        keys[0] += (period,)
        for profile, symbol, first, every in keys:
            if transient:
                t = start + int((30 + 7 * k) * 10**6)
                for d in (0, 1):
                    mine.append(entry(t + d * 10**6, FAILED.format(profile=profile, symbol=symbol, host=host, k=k), 4))
                mine.append(entry(t + 2 * 10**6, f"INFO entry_lock: acquired profile_id={profile} symbol={symbol} caller_token={host}:c{k} latency_ms=3"))
                continue
            s = first
            while s < failing:
                mine.append(entry(start + int(s * 10**6), FAILED.format(profile=profile, symbol=symbol, host=host, k=k), 4))
                s += every
        mine.sort(key=lambda e: e[0])
        out += mine
    return out

def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--hosts", default="worker-2,worker-3,worker-4")
    p.add_argument("--start", default="2026-11-26T14:00:00Z")
    p.add_argument("--period", type=float, default=100)
    p.add_argument("--minutes", type=int, default=10)
    p.add_argument("--failing-minutes", type=float)
    p.add_argument("--second-key", default="")
    p.add_argument("--transient", action="store_true")
    args = p.parse_args()
    hosts = args.hosts.split(",")
    start = int(datetime.datetime.fromisoformat(args.start.replace("Z", "+00:00")).timestamp()) * 10**6
    every = scenario(hosts, start, args.period, args.minutes, args.failing_minutes,
                     [h for h in args.second_key.split(",") if h], args.transient)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "by-host.json"), "w") as by_host:
        for host in hosts:
            with open(os.path.join(args.out, f"{host}.json"), "w") as f:
                for _, h, e in every:
                    if h == host:
                        f.write(json.dumps(e) + "\n")
                        by_host.write(json.dumps(e) + "\n")
    with open(os.path.join(args.out, "merged.json"), "w") as f:
        for _, _, e in sorted(every, key=lambda e: e[0]):
            f.write(json.dumps(e) + "\n")

if __name__ == "__main__":
    main()
