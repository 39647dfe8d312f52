#!/usr/bin/env python3
"""Writes the benchmark corpora, deterministically (same seed, same bytes).

  plain.log     Python-logging lines of a trading worker, 0.5 % of them lock lines
  journal.json  the same lines as `journalctl -o json` would give them
  storm.log     a contention storm: half of the lines are lock lines
  plain.log.gz  a gzip copy of plain.log
"""
import gzip, json, os, random, sys, time as _time

def main():
    if len(sys.argv) < 2 or sys.argv[1].startswith("-") or len(sys.argv) > 3:
        sys.exit("usage: gen_corpus.py DIR [BYTES]   (" + __doc__.splitlines()[0].lower().rstrip(".") + ")")
    out = sys.argv[1]
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 1 << 30
    os.makedirs(out, exist_ok=True)
    write(os.path.join(out, "plain.log"), size, 0.005, journal=False)
    write(os.path.join(out, "journal.json"), size, 0.005, journal=True)
    write(os.path.join(out, "storm.log"), size, 0.5, journal=False)
    src, dst = os.path.join(out, "plain.log"), os.path.join(out, "plain.log.gz")
    with open(src, "rb") as f, gzip.GzipFile(dst, "wb", compresslevel=6, mtime=0) as g:
        while True:
            b = f.read(8 << 20)
            if not b: break
            g.write(b)

BASE = 1795701600  # 2026-11-26T14:00:00Z
FN = "fn_try_acquire_entry_lock_row"

def write(path, size, lock_share, journal):
    rng = random.Random(20261126)
    profiles = ["%08x-%04x-4%03x-9a51-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12), rng.getrandbits(48)) for _ in range(40)]
    symbols = ["BTC-USD", "ETH-USD", "SOL-USD", "ADA-USD", "XRP-USD", "DOT-USD"]
    workers = ["worker-%d:%08x" % (i, rng.getrandbits(32)) for i in range(1, 5)]
    noise = [
        "INFO trading_loop: tick profile_id={p} signals={n} mid=6{n}123.{n}5 spread_bps=3.{n} book_depth=4{n}",
        "INFO order_router: order accepted profile_id={p} symbol={s} order_id=ord-{r:x} side=buy qty=0.0{n} px=6{n}12.5",
        "DEBUG market_data: snapshot symbol={s} bid=6{n}11.0 ask=6{n}12.0 seq={r}",
        "INFO reconciliation: positions match profile_id={p} drift_bps=0.{n}",
        "INFO http: GET /internal/health 200 in {n}.2ms",
        "WARNING risk: exposure near limit profile_id={p} symbol={s} used_pct=8{n}.1",
    ]
    written = 0
    line_no = 0
    t_ms = 0
    buf = []
    with open(path, "wb") as f:
        while written < size:
            t_ms += 7 if lock_share < 0.1 else 1
            sec, ms = divmod(t_ms, 1000)
            ts = _time.strftime("%Y-%m-%d %H:%M:%S", _time.gmtime(BASE + sec)) + ",%03d" % ms
            n = rng.randrange(10)
            if rng.random() < lock_share:
                p = profiles[rng.randrange(40 if lock_share < 0.1 else 40)]
                s = symbols[rng.randrange(6)]
                k = rng.randrange(10)
                if k < 6:
                    exp_s, exp_ms = divmod(t_ms + 20000, 1000)
                    exp = _time.strftime("%Y-%m-%dT%H:%M:%S", _time.gmtime(BASE + exp_s)) + ".%03dZ" % exp_ms
                    app = "%s WARNING entry_lock: %s returned false profile_id=%s symbol=%s owner_token=%s caller_token=%s expires_at=%s latency_ms=%d.%d" % (
                        ts, FN, p, s, workers[0], workers[1 + k % 3], exp, n, k)
                elif k < 9:
                    app = "%s WARNING trading_loop: lock acquisition failed; skipping signal profile_id=%s symbol=%s" % (ts, p, s)
                else:
                    app = "%s INFO entry_lock: %s returned true profile_id=%s symbol=%s caller_token=%s latency_ms=2.%d" % (ts, FN, p, s, workers[1], n)
            else:
                app = ts + " " + noise[rng.randrange(len(noise))].format(p=profiles[rng.randrange(40)], s=symbols[n % 6], n=n, r=rng.getrandbits(40))
            if journal:
                line_no += 1
                us = (BASE + sec) * 1000000 + ms * 1000 + 3000
                app = '{"__CURSOR":"s=4f1c;i=%x;b=77aa;m=%x","__REALTIME_TIMESTAMP":"%d","_HOSTNAME":"worker-2","SYSLOG_IDENTIFIER":"trading-worker","_PID":"10886","MESSAGE":%s}' % (
                    line_no, line_no, us, json.dumps(app))
            b = app.encode() + b"\n"
            buf.append(b)
            written += len(b)
            if len(buf) >= 4096:
                f.write(b"".join(buf)); buf.clear()
        f.write(b"".join(buf))

if __name__ == "__main__":
    main()
