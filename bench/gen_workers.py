#!/usr/bin/env python3
"""Writes worker logs as production DEBUG output looks, deterministically (same arguments,
same bytes): the benchmark matrix's corpora.

  bench/gen_workers.py OUT_FILE [SIZE_BYTES] [--shape journald] [--hosts 8] [--profiles 100000]
                       [--lock-share 0.06] [--fail-share 0.03] [--rate 200]

Each host writes `rate` lines a second. A share `--lock-share` of its steps is a lock cycle,
logged as production workers log it: the call, the database RPC's access line, the result (a
failure in 3 of 100, or `--fail-share`: a storm), and the release when it was acquired; a twentieth are health snapshots;
the rest ordinary lines. With the default share about a fifth of the lines carry a lock
literal; 0.015 gives about 5 %, 0.3 about half.

Shapes:
  journald  `journalctl -o json` of all hosts interleaved (__CURSOR, __REALTIME_TIMESTAMP,
            __MONOTONIC_TIMESTAMP, _HOSTNAME, SYSLOG_IDENTIFIER, _PID, PRIORITY, _SYSTEMD_UNIT,
            _BOOT_ID, MESSAGE)
  plain     Python logging, `2026-11-26 14:00:00,123 DEBUG entry_lock: … key=value …`; with
            several hosts each line carries `host=worker-N`
  logfmt    `ts=… level=… logger=… msg="…" key=value …`
  json      one JSON object a line (`ts`, `level`, `logger`, `msg`, the fields as members)
"""
import argparse, json, random, time

SYMBOLS = ["BTC-USD", "ETH-USD", "SOL-USD", "XRP-USD", "ADA-USD", "DOGE-USD", "AVAX-USD", "DOT-USD"]
LEVELS = {7: "DEBUG", 6: "INFO", 4: "WARNING"}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("size", type=int, nargs="?", default=256 << 20)
    p.add_argument("--shape", choices=["journald", "plain", "logfmt", "json"], default="journald")
    p.add_argument("--hosts", type=int, default=8)
    p.add_argument("--profiles", type=int, default=100_000)
    p.add_argument("--lock-share", type=float, default=0.06)
    p.add_argument("--fail-share", type=float, default=0.03)
    p.add_argument("--rate", type=int, default=200)
    a = p.parse_args()
    rnd = random.Random(7)
    profiles = [f"{rnd.getrandbits(32):08x}-7c2d-4e8b-9a51-{rnd.getrandbits(48):012x}" for _ in range(a.profiles)]
    start = 1_795_701_600_000_000
    step = max(1, 1_000_000 // (a.rate * a.hosts))
    seq = [0] * a.hosts
    written = 0
    t = start
    pending = [[] for _ in range(a.hosts)]
    write_line = {"journald": journald, "plain": plain, "logfmt": logfmt, "json": json_line}[a.shape]
    with open(a.out, "w") as f:
        while written < a.size:
            h = rnd.randrange(a.hosts)
            if not pending[h]:
                pending[h] = cycle(rnd, h, profiles, a.lock_share, a.fail_share)
            entry = pending[h].pop(0)
            seq[h] += 1
            line = write_line(entry, h, seq[h], t, start, a.hosts)
            f.write(line)
            written += len(line)
            t += step


def cycle(rnd, h, profiles, lock_share, fail_share):
    """One host's next few entries: (priority, logger, message, fields)."""
    r = rnd.random()
    if r < 0.05:
        return [(6, "health", "health", [("lockContentionCount", rnd.randrange(20)), ("tradingLoopHealthy", "true"),
                                         ("reconciliationLoopHealthy", "true")])]
    if r >= 0.05 + lock_share:
        return [(6, "trading_loop", "tick", [("positions", rnd.randrange(40)), ("pnl", f"{rnd.uniform(-9, 9):.2f}"),
                                             ("latency_ms", rnd.randrange(3, 40))])]
    p = rnd.choice(profiles)
    s = rnd.choice(SYMBOLS)
    caller = f"worker-{h + 1}:{rnd.getrandbits(32):08x}"
    key = [("profile_id", p), ("symbol", s), ("caller_token", caller)]
    entries = [(7, "entry_lock", "calling fn_try_acquire_entry_lock_row", key),
               (7, "httpx", 'POST https://db.example/rest/v1/rpc/fn_try_acquire_entry_lock_row "HTTP/1.1 200 OK"', [])]
    if rnd.random() < fail_share:
        owner = f"worker-{rnd.randrange(1, 9)}:{rnd.getrandbits(32):08x}"
        entries.append((4, "entry_lock", "fn_try_acquire_entry_lock_row returned false",
                         key[:2] + [("owner_token", owner)] + key[2:] + [("latency_ms", rnd.randrange(2, 30))]))
    else:
        entries.append((7, "entry_lock", "acquired", key + [("latency_ms", rnd.randrange(2, 30))]))
        entries.append((7, "entry_lock", "entry lock released", key))
    return entries


def clock(t):
    s, us = divmod(t, 1_000_000)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(s)), us


def pairs(fields):
    return " ".join(f"{k}={v}" for k, v in fields)


def journald(entry, h, seq, t, start, hosts):
    prio, logger, msg, fields = entry
    text = f"{LEVELS[prio]} {logger}: {msg}" + (" " + pairs(fields) if fields else "")
    e = {"__CURSOR": f"s=host{h};i={seq:x};b=b{h};m={t - start:x};t={t:x};x={seq:x}",
         "__REALTIME_TIMESTAMP": str(t), "__MONOTONIC_TIMESTAMP": str(t - start + 10**9),
         "_BOOT_ID": f"{h:032x}", "_HOSTNAME": f"worker-{h + 1}", "SYSLOG_IDENTIFIER": "trading-worker",
         "_PID": str(4000 + h), "PRIORITY": str(prio), "_SYSTEMD_UNIT": "trading-worker.service", "MESSAGE": text}
    return json.dumps(e, separators=(",", ":")) + "\n"


def plain(entry, h, seq, t, start, hosts):
    prio, logger, msg, fields = entry
    day, us = clock(t)
    if hosts > 1:
        fields = fields + [("host", f"worker-{h + 1}")]
    return f"{day},{us // 1000:03d} {LEVELS[prio]} {logger}: {msg}" + (" " + pairs(fields) if fields else "") + "\n"


def logfmt(entry, h, seq, t, start, hosts):
    prio, logger, msg, fields = entry
    day, us = clock(t)
    if hosts > 1:
        fields = fields + [("host", f"worker-{h + 1}")]
    quoted = msg.replace("\\", "\\\\").replace('"', '\\"')
    return (f'ts={day.replace(" ", "T")}.{us:06d}Z level={LEVELS[prio].lower()} logger={logger} msg="{quoted}"'
            + (" " + pairs(fields) if fields else "") + "\n")


def json_line(entry, h, seq, t, start, hosts):
    prio, logger, msg, fields = entry
    day, us = clock(t)
    o = {"ts": f"{day.replace(' ', 'T')}.{us:06d}Z", "level": LEVELS[prio].lower(), "logger": logger, "msg": msg}
    for k, v in fields:
        o[k] = v
    if hosts > 1:
        o["host"] = f"worker-{h + 1}"
    return json.dumps(o, separators=(",", ":")) + "\n"


if __name__ == "__main__":
    main()
