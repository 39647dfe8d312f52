#!/usr/bin/env python3
"""A realistic worker log with one incident in it, for the tests that look at the human outputs
at scale: 77 minutes of 8 hosts interleaved, every lock cycle logged (the call, the RPC's access
line, the result, the release), health snapshots, some 2 000 profiles with transient contention
(one failed attempt, taken a second later), and, at 14:30, one profile blocked for two minutes
by a holder (persistent), while worker-3's trading loop reports unhealthy for a while.

usage: incident_log.py OUT   (prints the incident's profile id)
"""
import random, sys

rng = random.Random(7)
INCIDENT = "5f3c2a10-9d4e-4b7a-8c21-0e6f4d2b9a77"
SYMBOLS = ["BTC-USD", "ETH-USD", "SOL-USD", "ADA-USD", "XRP-USD", "DOGE-USD", "DOT-USD", "AVAX-USD"]
profiles = [f"{rng.getrandbits(32):08x}-7c2d-4e8b-9a51-{rng.getrandbits(48):012x}" for _ in range(2500)]
lines = []


def stamp(ms):
    s = ms // 1000
    return f"2026-11-26 {14 + s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d},{ms % 1000:03d}"


def add(ms, text):
    lines.append((ms, len(lines), f"{stamp(ms)} {text}\n"))


def cycle(ms, host, profile, symbol, ok, owner=None):
    token = f"worker-{host}:{rng.getrandbits(32):08x}"
    add(ms, f"DEBUG entry_lock: calling fn_try_acquire_entry_lock_row profile_id={profile} symbol={symbol} caller_token={token} host=worker-{host}")
    add(ms + 3, f'INFO httpx: HTTP Request: POST https://db.internal/rest/v1/rpc/fn_try_acquire_entry_lock_row "HTTP/1.1 200 OK" host=worker-{host}')
    if ok:
        add(ms + 4, f"INFO entry_lock: fn_try_acquire_entry_lock_row returned true profile_id={profile} symbol={symbol} caller_token={token} host=worker-{host}")
        add(ms + 40, f"DEBUG entry_lock: entry lock released profile_id={profile} symbol={symbol} caller_token={token} host=worker-{host}")
    else:
        add(ms + 4, f"WARNING entry_lock: fn_try_acquire_entry_lock_row returned false profile_id={profile} symbol={symbol} "
                    f"owner_token={owner} caller_token={token} latency_ms=4 host=worker-{host}")


end = 77 * 60 * 1000
for ms in range(0, end, 250):                      # the steady traffic: mostly free locks
    host = rng.randint(1, 8)
    cycle(ms + rng.randint(0, 200), host, rng.choice(profiles), rng.choice(SYMBOLS), True)
for ms in range(0, end, 2300):                     # transient contention: taken a second later
    p, s, host = rng.choice(profiles), rng.choice(SYMBOLS), rng.randint(1, 8)
    holder = f"worker-{rng.randint(1, 8)}:{rng.getrandbits(32):08x}"
    cycle(ms, host, p, s, False, owner=holder)
    cycle(ms + 1000, host, p, s, True)
holder = "worker-6:0badc0de"                       # the incident: blocked 120 s, then taken
for ms in range(30 * 60 * 1000, 32 * 60 * 1000 + 1, 10_000):
    cycle(ms, 2, INCIDENT, "ETH-USD", False, owner=holder)
cycle(32 * 60 * 1000 + 5000, 2, INCIDENT, "ETH-USD", True)
for ms in range(0, end, 15_000):                   # health snapshots of every host
    for host in range(1, 9):
        sick = host == 3 and 29 * 60 * 1000 <= ms < 34 * 60 * 1000
        add(ms + host, f"INFO health: GET /internal/health lockContentionCount={rng.randint(0, 20)} "
                       f"tradingLoopHealthy={'false' if sick else 'true'} reconciliationLoopHealthy=true host=worker-{host}")
for ms in range(0, end, 40):                       # everything else a worker says
    add(ms, f"INFO trading_loop: tick profile_id={rng.choice(profiles)} signals={rng.randint(0, 3)} host=worker-{rng.randint(1, 8)}")
lines.sort()
with open(sys.argv[1], "w") as f:
    f.writelines(l for _, _, l in lines)
print(INCIDENT)
