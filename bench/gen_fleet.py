#!/usr/bin/env python3
"""Writes what a collector reads: the journald JSON of many worker hosts, interleaved in time
(as `journalctl -o json -D /var/log/journal/remote` gives it), deterministically.

  bench/gen_fleet.py OUT_FILE [SIZE_BYTES] [--hosts 8] [--profiles 100000] [--rate 200]

Each host writes `rate` lines a second, DEBUG-dense as production workers do: every lock cycle
logs the call, the database RPC's access line, the result (a failure in 3 of 100), the release
when it was acquired, and a health snapshot every second; ordinary lines between. About a fifth
of the lines carry a lock literal. Entries carry __CURSOR, __REALTIME_TIMESTAMP,
__MONOTONIC_TIMESTAMP, _HOSTNAME, SYSLOG_IDENTIFIER, _PID, PRIORITY, _SYSTEMD_UNIT, _BOOT_ID and
MESSAGE.
"""
import argparse, json, random

def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("size", type=int, nargs="?", default=256 << 20)
    p.add_argument("--hosts", type=int, default=8)
    p.add_argument("--profiles", type=int, default=100_000)
    p.add_argument("--rate", type=int, default=200)
    a = p.parse_args()
    rnd = random.Random(7)
    symbols = ["BTC-USD", "ETH-USD", "SOL-USD", "XRP-USD", "ADA-USD", "DOGE-USD", "AVAX-USD", "DOT-USD"]
    profiles = [f"{rnd.getrandbits(32):08x}-7c2d-4e8b-9a51-{rnd.getrandbits(48):012x}" for _ in range(a.profiles)]
    start = 1_795_701_600_000_000
    step = 1_000_000 // (a.rate * a.hosts)
    seq = [0] * a.hosts
    written = 0
    t = start
    pending = [[] for _ in range(a.hosts)]
    with open(a.out, "w") as f:
        while written < a.size:
            h = rnd.randrange(a.hosts)
            if not pending[h]:
                pending[h] = cycle(rnd, h, profiles, symbols, t)
            msg, prio = pending[h].pop(0)
            seq[h] += 1
            e = {"__CURSOR": f"s=host{h};i={seq[h]:x};b=b{h};m={t - start:x};t={t:x};x={seq[h]:x}",
                 "__REALTIME_TIMESTAMP": str(t), "__MONOTONIC_TIMESTAMP": str(t - start + 10**9),
                 "_BOOT_ID": f"{h:032x}", "_HOSTNAME": f"worker-{h + 1}", "SYSLOG_IDENTIFIER": "trading-worker",
                 "_PID": str(4000 + h), "PRIORITY": str(prio), "_SYSTEMD_UNIT": "trading-worker.service", "MESSAGE": msg}
            line = json.dumps(e, separators=(",", ":")) + "\n"
            f.write(line)
            written += len(line)
            t += step

def cycle(rnd, h, profiles, symbols, t):
    """One host's next few lines: a lock cycle, or ordinary lines, or a health snapshot."""
    r = rnd.random()
    if r < 0.05:
        return [(f"INFO health: lockContentionCount={rnd.randrange(20)} tradingLoopHealthy=true reconciliationLoopHealthy=true", 6)]
    if r < 0.94:
        return [(f"INFO trading_loop: tick positions={rnd.randrange(40)} pnl={rnd.uniform(-9, 9):.2f} latency_ms={rnd.randrange(3, 40)}", 6)]
    p = rnd.choice(profiles)
    s = rnd.choice(symbols)
    caller = f"worker-{h + 1}:{rnd.getrandbits(32):08x}"
    lines = [(f"DEBUG entry_lock: calling fn_try_acquire_entry_lock_row profile_id={p} symbol={s} caller_token={caller}", 7),
             (f'DEBUG httpx: POST https://db.example/rest/v1/rpc/fn_try_acquire_entry_lock_row "HTTP/1.1 200 OK"', 7)]
    if rnd.random() < 0.03:
        lines.append((f"WARNING entry_lock: fn_try_acquire_entry_lock_row returned false profile_id={p} symbol={s} "
                      f"owner_token=worker-{rnd.randrange(1, 9)}:{rnd.getrandbits(32):08x} caller_token={caller} latency_ms={rnd.randrange(2, 30)}", 4))
    else:
        lines.append((f"DEBUG entry_lock: acquired profile_id={p} symbol={s} caller_token={caller} latency_ms={rnd.randrange(2, 30)}", 7))
        lines.append((f"DEBUG entry_lock: entry lock released profile_id={p} symbol={s} caller_token={caller}", 7))
    return lines

if __name__ == "__main__":
    main()
