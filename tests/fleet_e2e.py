#!/usr/bin/env python3
"""End to end, fleet-wide: two lockwatch processes, each fed one host's live log, scraped by a
real Prometheus server on loopback with deploy/prometheus/lockwatch-rules.yml. Neither host
sees more than one contended profile; Prometheus, counting over both, must fire
EntryLockContentionMultiProfile. Starts and stops everything it needs.

  tests/fleet_e2e.py path/to/lockwatch
"""
import json, os, re, shutil, socket, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
binary = os.path.abspath(sys.argv[1])
FN = "fn_try_acquire_entry_lock_row"

def line(second, profile, host):
    return (f"2026-11-26 14:00:{second:02d},000 WARNING entry_lock: {FN} returned false profile_id={profile} "
            f"symbol=ETH-USD owner_token={host}:aaaa caller_token={host}:bbbb\n").encode()

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)

processes = []
tmp = tempfile.mkdtemp(prefix="lockwatch-fleet-")
try:
    hosts = []
    for host, profile in (("worker-1", "profile-a"), ("worker-2", "profile-b")):
        p = subprocess.Popen([binary, "--format", "json", "--metrics-listen", "127.0.0.1:0"], stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        processes.append(p)
        said = p.stderr.readline().decode()
        port = int(re.search(r":(\d+)/metrics", said).group(1))
        hosts.append((p, host, profile, port))
        # The key is seen (its counter exists at 0) before the scrapes start.
        p.stdin.write(b"2026-11-26 14:00:00,000 INFO entry_lock: " + FN.encode() + b" returned true profile_id=" +
                      profile.encode() + b" symbol=ETH-USD\n")
        p.stdin.flush()

    web = free_port()
    config = os.path.join(tmp, "prometheus.yml")
    with open(config, "w") as f:
        f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {ROOT}/deploy/prometheus/lockwatch-rules.yml
scrape_configs:
  - job_name: lockwatch
    static_configs:
      - targets: [{", ".join(f'"127.0.0.1:{h[3]}"' for h in hosts)}]
""")
    prometheus = subprocess.Popen(["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp}/data",
                                   f"--web.listen-address=127.0.0.1:{web}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    processes.append(prometheus)
    api = f"http://127.0.0.1:{web}/api/v1"

    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            targets = get(f"{api}/targets")["data"]["activeTargets"]
            if len(targets) == 2 and all(t["health"] == "up" for t in targets):
                break
        except OSError:
            pass
        time.sleep(0.5)
    else:
        sys.exit("FAIL: Prometheus never scraped both lockwatch processes")
    time.sleep(2.5)   # a few scrapes with every counter at 0

    # Each host: its one profile fails, again and again, for a few seconds.
    for second in range(1, 6):
        for p, host, profile, _ in hosts:
            p.stdin.write(line(second, profile, host))
            p.stdin.flush()
        time.sleep(1)

    fired = None
    while time.time() < deadline:
        alerts = get(f"{api}/alerts")["data"]["alerts"]
        fired = [a for a in alerts if a["labels"].get("alertname") == "EntryLockContentionMultiProfile"
                 and a["state"] == "firing"]
        if fired:
            break
        time.sleep(0.5)
    if not fired:
        sys.exit(f"FAIL: EntryLockContentionMultiProfile did not fire; alerts: {alerts}")
    single = get(f"{api}/query?query=" + urllib.request.quote(
        "count(sum by (instance, profile_id) (entry_lock_contention_total))"))["data"]["result"]
    print(f"fleet: EntryLockContentionMultiProfile firing ({fired[0]['annotations']['summary']}); "
          f"series per host and profile: {single[0]['value'][1]}")
finally:
    for p in processes:
        if p.poll() is None:
            p.terminate()
    for p in processes:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
    shutil.rmtree(tmp, ignore_errors=True)
