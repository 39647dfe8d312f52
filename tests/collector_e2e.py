#!/usr/bin/env python3
"""End to end, over loopback only, with the real parts: the central deployment of the README.

Three simulated worker hosts send their journal entries live with `systemd-journal-upload` to one
`systemd-journal-remote`; one of them (worker-4) is 30 s behind the others. Collectors run
`journalctl -f -o json -D DIR | lockwatch` over what it collects:

  A  --host-lag 60s, --state, posting to both Alertmanagers; stopped mid-stream and continued
     from its state (`--journalctl-args`);
  B  --host-lag 60s, posting to both Alertmanagers (A's partner for high availability);
  C  --host-lag 10s: worker-4 is beyond the bound.

Two Debian `prometheus-alertmanager`s are clustered on loopback, with a small webhook receiver;
the second is stopped before the first escalation and started again while it is open.

Checked:
  - A (both parts together) and B give the escalations of the merged batch run, at the same
    event times, each once;
  - C names worker-4 as lagging and gives prof-B's findings (worker-2 and worker-3 only) as the
    batch run does;
  - the receiver gets exactly one firing and one resolved notification per escalation;
  - the Alertmanager that was stopped has the open alert once it is back.

The scenario's event time runs SPEED times faster than the wall clock and ends at the start of
the test, so that every time Alertmanager sees is in the past.

  tests/collector_e2e.py path/to/lockwatch
"""
import http.server, json, os, shutil, signal, socket, subprocess, sys, tempfile, threading, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fleet_logs

LOCKWATCH = os.path.abspath(sys.argv[1])
SPEED = 12.0
MINUTES, FAILING = 13, 10
LAG_HOST, LAG = "worker-4", 30.0
HOSTS = ["worker-2", "worker-3", "worker-4"]
JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote"
JOURNAL_UPLOAD = "/lib/systemd/systemd-journal-upload"
ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
COMMON = ["--format", "json", "--multi-profile", "3"]

failures = []
def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def wait_http(url, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return True
        except Exception:
            time.sleep(0.2)
    return False

work = tempfile.mkdtemp(prefix="lockwatch-collector-")
procs = []
def start(args, **kw):
    p = subprocess.Popen(args, **kw)
    procs.append(p)
    return p

def stop_all():
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()

# --- The scenario: event times end when the test starts. ---
scenario_us = MINUTES * 60 * 10**6
start_us = int(time.time() * 1e6) - scenario_us - int(LAG * 1e6)
entries = fleet_logs.scenario(HOSTS, start_us, minutes=MINUTES, failing_minutes=FAILING, second_key=["worker-2", "worker-3"])
merged = os.path.join(work, "merged.json")
with open(merged, "w") as f:
    for _, _, e in sorted(entries, key=lambda e: e[0]):
        f.write(json.dumps(e) + "\n")

def events(text):
    return [json.loads(l) for l in text.splitlines() if l.startswith("{") and '"summary"' not in l]

def escalations(evs):
    return [(e["at"], e["reason"], e.get("profile_id")) for e in evs if e["type"] == "escalation"]

batch = events(subprocess.run([LOCKWATCH, *COMMON, merged], capture_output=True, text=True).stdout)
expected = escalations(batch)
check(len(expected) == 2, f"the batch run escalates prof-A and prof-B: {expected}")

# --- The webhook receiver. ---
notifications = []
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        for a in body.get("alerts", []):
            notifications.append((a["status"], a["labels"].get("reason"), a["labels"].get("profile_id"), time.time(),
                                  body.get("externalURL")))
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
hook_port = free_port()
hook = http.server.ThreadingHTTPServer(("127.0.0.1", hook_port), Hook)
threading.Thread(target=hook.serve_forever, daemon=True).start()

# --- Two clustered Alertmanagers. ---
am_config = os.path.join(work, "alertmanager.yml")
with open(am_config, "w") as f:
    f.write(f"""route:
  receiver: hook
  group_by: ['alertname', 'reason', 'profile_id', 'symbol']
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:{hook_port}/
        send_resolved: true
""")
am_web = [free_port(), free_port()]
am_cluster = [free_port(), free_port()]
def start_am(k):
    log = open(os.path.join(work, f"am{k}.log"), "a")
    return start([ALERTMANAGER, f"--config.file={am_config}", f"--storage.path={work}/am{k}",
                  f"--web.listen-address=127.0.0.1:{am_web[k]}",
                  f"--cluster.listen-address=127.0.0.1:{am_cluster[k]}",
                  f"--cluster.peer=127.0.0.1:{am_cluster[1 - k]}",
                  "--cluster.settle-timeout=3s", "--cluster.gossip-interval=100ms",
                  "--cluster.pushpull-interval=1s", "--cluster.peer-timeout=200ms"],
                 stdout=log, stderr=subprocess.STDOUT)
ams = [start_am(0), start_am(1)]
for k in (0, 1):
    check(wait_http(f"http://127.0.0.1:{am_web[k]}/-/ready"), f"alertmanager {k} is ready")

# --- The collector: systemd-journal-remote, every host into one journal, as shipped. ---
remote_port = free_port()
remote_dir = os.path.join(work, "remote")
os.makedirs(remote_dir)
start([JOURNAL_REMOTE, f"--listen-http=127.0.0.1:{remote_port}", f"--output={remote_dir}/all.journal", "--split-mode=none"],
      stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "journal-remote.log"), "w"))
time.sleep(0.5)

# --- The hosts: each uploads its entries live, worker-4 LAG s of event time late. ---
EXPORT_FIELDS = ["__REALTIME_TIMESTAMP", "__MONOTONIC_TIMESTAMP", "_BOOT_ID", "_MACHINE_ID", "_HOSTNAME",
                 "SYSLOG_IDENTIFIER", "_PID", "PRIORITY", "_SYSTEMD_UNIT", "MESSAGE"]
t0 = time.time()
def wall_at(event_us, host):
    delay = LAG if host == LAG_HOST else 0.0
    return t0 + ((event_us - start_us) / 1e6 + delay) / SPEED

def upload(host):
    up = start([JOURNAL_UPLOAD, "-u", f"http://127.0.0.1:{remote_port}", "-"], stdin=subprocess.PIPE,
               stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, f"upload-{host}.log"), "w"))
    for t, h, e in entries:
        if h != host:
            continue
        wait = wall_at(t, h) - time.time()
        if wait > 0:
            time.sleep(wait)
        up.stdin.write("".join(f"{k}={e[k]}\n" for k in EXPORT_FIELDS).encode() + b"\n")
        up.stdin.flush()
    up.stdin.close()
    up.wait()

# The first entries must exist before journalctl opens the directory.
uploaders = [threading.Thread(target=upload, args=(h,)) for h in HOSTS]
for u in uploaders:
    u.start()
end = time.time() + 10
while time.time() < end and not os.listdir(remote_dir):
    time.sleep(0.05)
time.sleep(0.3)

am_args = ["--alertmanager", f"http://127.0.0.1:{am_web[0]}", "--alertmanager", f"http://127.0.0.1:{am_web[1]}",
           "--alertmanager-resend", "1s"]
def collector(name, args, journal_args=("--no-tail",)):
    # -m: in follow mode journalctl shows only one machine's entries otherwise.
    out = open(os.path.join(work, f"{name}.out"), "a")
    err = open(os.path.join(work, f"{name}.err"), "a")
    shell = (f"journalctl -f -m -o json -D {remote_dir} {' '.join(journal_args)} | "
             + " ".join([LOCKWATCH, *COMMON, *args]))
    return start(["bash", "-c", shell], stdout=out, stderr=err, start_new_session=True)

state = os.path.join(work, "a.state")
a = collector("a", ["--host-lag", "60s", "--state", state, *am_args])
b = collector("b", ["--host-lag", "60s", *am_args])
c = collector("c", ["--host-lag", "10s"])

def at_scenario(seconds):
    """Waits until the scenario reaches `seconds` of event time (of the hosts on time)."""
    wait = t0 + seconds / SPEED - time.time()
    if wait > 0:
        time.sleep(wait)

# The second Alertmanager is down when prof-A escalates (scenario 100 s), and back while open.
at_scenario(60)
ams[1].terminate()
ams[1].wait()
at_scenario(200)
# Collector A stops mid-stream and continues from its state.
os.killpg(a.pid, signal.SIGTERM)
a.wait()
resume = subprocess.run([LOCKWATCH, "--state", state, "--journalctl-args"], capture_output=True, text=True).stdout.split()
check(bool(resume) and resume[0].startswith("--after-cursor="), f"the collector's journal continues after its cursor: {resume}")
a2 = collector("a", ["--host-lag", "60s", "--state", state, *am_args], journal_args=resume)
at_scenario(280)
ams[1] = start_am(1)
check(wait_http(f"http://127.0.0.1:{am_web[1]}/-/ready"), "alertmanager 1 is back")
time.sleep(4)
alerts = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{am_web[1]}/api/v2/alerts").read())
active = {(x["labels"].get("reason"), x["labels"].get("profile_id")) for x in alerts if x["status"]["state"] == "active"}
check(("persistent", "prof-A") in active, f"the Alertmanager that was stopped has the open alert once back: {sorted(active)}")

for u in uploaders:
    u.join()
# Let the collectors read the end, and the resolutions reach the receiver.
time.sleep(5)
for p in (a2, b, c):
    os.killpg(p.pid, signal.SIGTERM)
    p.wait()
time.sleep(4)

def read(name):
    with open(os.path.join(work, name)) as f:
        return f.read()

ev_a, ev_b, ev_c = events(read("a.out")), events(read("b.out")), events(read("c.out"))
check(escalations(ev_a) == expected, f"collector A, stopped and continued from its state, escalates as the batch run: {escalations(ev_a)}")
check(escalations(ev_b) == expected, f"collector B escalates as the batch run: {escalations(ev_b)}")
check(ev_a == ev_b, "collector A, stopped and continued, gives every event collector B gives, once")
err_c = read("c.err")
check(f"host {LAG_HOST} is" in err_c and "--host-lag" in err_c, "collector C (--host-lag 10s) names the lagging host")
prof_b = lambda evs: [e for e in evs if e.get("profile_id") == "prof-B" and e["type"] != "owner_stuck"]
check(prof_b(ev_c) == prof_b(batch), "collector C's findings of the hosts on time (prof-B) are the batch run's")
for name in ("a", "b"):
    late = [l for l in read(f"{name}.err").splitlines() if "later than" in l or "behind the release point" in l]
    check(not late, f"collector {name.upper()} handled nothing out of order: {late[:2]}")

# Clustered Alertmanagers deliver at least once: both peers may send the same notification
# when their gossip has not yet told one that the other sent it. So each escalation must be
# notified, and at most once by each peer.
want = sorted((r, p) for _, r, p in expected)
for status in ("firing", "resolved"):
    peers = {}
    for s, r, p, _, url in notifications:
        if s == status:
            peers.setdefault((r, p), []).append(url)
    check(sorted(peers) == want, f"a {status} notification for each escalation and no other: {sorted(peers)}")
    again = {k: v for k, v in peers.items() if len(v) != len(set(v))}
    check(not again, f"no {status} notification twice from one Alertmanager: {again}")

hook.shutdown()
stop_all()
if failures:
    print(f"{len(failures)} checks failed; logs in {work}")
    for s_, r, p, t, url in notifications:
        print(f"notification {s_} {r} {p} at scenario {(t - t0) * SPEED:.0f} s from {url}")
    for name in sorted(os.listdir(work)):
        if name.endswith((".err", ".log")):
            print(f"--- {name}\n" + read(name)[-3000:])
    sys.exit(1)
shutil.rmtree(work, ignore_errors=True)
print("collector end to end: all checks passed")
