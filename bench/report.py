#!/usr/bin/env python3
"""Turns the benchmark's results into the table of BENCHMARKS.md (between its markers)."""
import datetime, json, os, platform, subprocess, sys

data, size, runs, target = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
out = os.path.join(data, "results")
labels = {"plain.log": "(a) plain lines, 0.5 % lock lines", "journal.json": "(b) the same as journalctl -o json",
          "storm.log": "(c) storm, 50 % lock lines", "plain.log.gz": "(d) gzip copy of (a)",
          "fleet.json": "(e) a collector's input: 8 hosts' journald JSON interleaved, 100 000 profiles, a fifth of the lines lock lines"}

def rss(corpus, index):
    path = os.path.join(out, f"{corpus}.{index}.rss")
    try:
        return int(open(path).read().split()[-1]) / 1024
    except (OSError, ValueError, IndexError):
        return None

rows = []
for corpus, label in labels.items():
    path = os.path.join(out, corpus + ".json")
    if not os.path.exists(path):
        continue
    results = json.load(open(path))["results"]
    ref = results[0]["median"]
    nbytes = os.path.getsize(os.path.join(data, corpus.replace(".gz", "") if corpus.endswith(".gz") else corpus))
    rows.append(f"| **{label}** | | | | |")
    for index, r in enumerate(results):
        name = r["command"].replace("|", "\\|")
        m = rss(corpus, index)
        rows.append(f"| `{name}` | {r['median']:.3f} | {nbytes / r['median'] / 1e6:,.0f} | {r['median'] / ref:.2f} | "
                    + (f"{m:.1f}" if m is not None else "–") + " |")
try:
    secs, kb = open(os.path.join(out, "mtail.time")).read().split()
    rows.append(f"| `mtail --one_shot` on (a), one run | {float(secs):.3f} | {os.path.getsize(os.path.join(data, 'plain.log')) / float(secs) / 1e6:,.0f} | – | {int(kb) / 1024:.1f} |")
except (OSError, ValueError):
    pass
try:
    lat = json.load(open(os.path.join(out, "latency.json")))
    latency = f"Live-pipe latency (line written → escalation on stdout), {lat['received']} rounds: median **{lat['median_ms']} ms**, worst {lat['max_ms']} ms."
except (OSError, ValueError, KeyError):
    latency = "Live-pipe latency: not measured."

def rss_of(name):
    try:
        return int(open(os.path.join(out, name)).read().split()[-1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
one, eight = rss_of("rss.1x"), rss_of("rss.8x")
if one and eight:
    memory = (f"Peak RSS through a pipe: {one:.1f} MiB for (a) once, {eight:.1f} MiB for (a) eight times over "
              f"({8 * size / 2**30:,.0f} GiB): {100 * (eight - one) / one:+.1f} %.")
else:
    memory = "Peak RSS over eight times the input: not measured."

try:
    soak = json.load(open(os.path.join(out, "soak.json")))
    memory += (f" Soak: {soak['bytes'] / 2**30:,.0f} GiB through a pipe in {soak['seconds']} s, RSS sampled every second "
               f"({soak['samples']} samples): {soak['rss_mib_steady_min']}–{soak['rss_mib_steady_max']} MiB after start-up, "
               f"{soak['rss_mib_max']} MiB at most.")
except (OSError, ValueError, KeyError):
    pass

# What one collector keeps up with: the fleet corpus's hosts write `rate` lines a second each.
try:
    fleet = {r["command"]: r["median"] for r in json.load(open(os.path.join(out, "fleet.json.json")))["results"]}
    nbytes = os.path.getsize(os.path.join(data, "fleet.json"))
    lines = sum(1 for _ in open(os.path.join(data, "fleet.json"), "rb"))
    per_host = nbytes / lines * 200  # bytes a second of one host at 200 lines a second
    t = fleet["cat | lockwatch --host-lag 30s"]
    memory += (f" One collector's lockwatch (the pipe of (e)) reads {nbytes / t / 1e6:,.0f} MB/s: "
               f"{nbytes / t / per_host:,.0f} hosts writing 200 lines a second each ({per_host / 1e3:,.0f} kB/s), "
               f"{nbytes / t / per_host / 10:,.0f} at ten times that.")
except (OSError, ValueError, KeyError):
    pass

cpu = "unknown"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip(); break
except OSError:
    pass
head = (f"Measured {datetime.date.today()} on {os.cpu_count()} cores ({cpu}), corpora of {size / 2**20:,.0f} MiB, "
        f"warm page cache, median of {runs} runs (hyperfine). MB/s is decompressed bytes for (d); the ratio is to "
        "the first row of each corpus (`rg -c` with the same two literals; `zcat | rg -c` for (d)). Peak RSS is "
        "`/usr/bin/time`'s maximum resident set of the last command of the line.")
table = "\n".join([head, "", "| command | median s | MB/s | ratio | peak RSS MiB |", "|---|---:|---:|---:|---:|"] + rows
                  + ["", latency, "", memory])

begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
text = open(target).read() if os.path.exists(target) else f"# Benchmarks\n\n{begin}\n{end}\n"
a, b = text.index(begin) + len(begin), text.index(end)
open(target, "w").write(text[:a] + "\n" + table + "\n" + text[b:])
print(table)
