#!/usr/bin/env bash
# The benchmark matrix: lockwatch on worker logs of every shape, lock-line density, number of
# profiles and hosts (bench/gen_workers.py), and on the storm, each beside `rg -c` and `cat`
# in one hyperfine run, and mtail once per shape. Prints the table worst ratio first and
# writes it to $DATA/matrix/table.md.
#   MATRIX_SIZE  bytes per corpus (default 256 MiB)   BENCH_RUNS  runs per command (default 10)
#   SCALE_SIZE   bytes of the cost table's large corpora, where 10^5 and 10^6 profiles are all
#                touched (default 2 GiB, 3 runs each; 0 leaves them out)
#   BENCH_DATA   where corpora are kept (default bench-data/)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${MATRIX_SIZE:-$((256 << 20))}
RUNS=${BENCH_RUNS:-10}
SCALE=${SCALE_SIZE:-$((2 << 30))}
DATA=${BENCH_DATA:-bench-data}
DIR=$DATA/matrix
mkdir -p "$DIR"
. bench/common.sh
bench_tools
make -s release >/dev/null
LW=$PWD/.build/release/lockwatch

# name  shape  lock-share  profiles  hosts  [fail-share]: the hard corner (dense, 10^5 profiles,
# 8 hosts) in every shape, then one factor at a time; then the rows that, with those before
# them, make the cost table (profiles 40 … 10^6, hosts 1 … 64); last a storm of 8 hosts over
# 17 000 profiles (half the lines lock lines, half the attempts failing), whose state and
# summary grow with the keys, where the storm of `make bench` has 40 profiles.
CELLS="
plain-dense-100k-8h     plain    0.06   100000 8
logfmt-dense-100k-8h    logfmt   0.06   100000 8
json-dense-100k-8h      json     0.06   100000 8
journald-dense-100k-8h  journald 0.06   100000 8
plain-sparse-100k-8h    plain    0.003  100000 8
plain-5pct-100k-8h      plain    0.015  100000 8
plain-half-100k-8h      plain    0.3    100000 8
journald-half-100k-8h   journald 0.3    100000 8
plain-dense-40-8h       plain    0.06   40     8
plain-dense-250k-8h     plain    0.06   250000 8
plain-dense-100k-1h     plain    0.06   100000 1
journald-dense-100k-1h  journald 0.06   100000 1
plain-dense-1k-8h       plain    0.06   1000    8
plain-dense-10k-8h      plain    0.06   10000   8
plain-dense-1m-8h       plain    0.06   1000000 8
journald-dense-100k-64h journald 0.06   100000 64
storm-17k-8h            plain    0.3    17000  8  0.5
"
RG="rg -c -e fn_try_acquire_entry_lock_row -e 'lock acquisition failed'"
rm -f "$DIR"/*.json "$DIR"/*.mtail-time
# cell NAME SHAPE SHARE PROFILES HOSTS SIZE RUNS [FAIL]: generates the corpus unless it is
# there, then lockwatch's peak RSS, and lockwatch, rg -c and cat in one hyperfine run.
cell() {
    local name=$1 shape=$2 share=$3 profiles=$4 hosts=$5 size=$6 runs=$7 fail=${8:-0.03}
    local f=$DIR/$name.log key="$6 $2 $3 $4 $5"
    [ "$fail" = 0.03 ] || key="$key $fail"
    if [ ! -f "$f" ] || [ "$(cat "$f.key" 2>/dev/null)" != "$key" ]; then
        python3 bench/gen_workers.py "$f" "$size" --shape "$shape" --lock-share "$share" --profiles "$profiles" --hosts "$hosts" --fail-share "$fail"
        echo "$key" > "$f.key"
    fi
    local args="--format json"
    [ "$shape" = journald ] && args="$args --host-lag 30s"
    /usr/bin/time -f "%M" -o "$DIR/$name.rss" "$LW" $args "$f" > /dev/null 2>&1 || true
    hyperfine --style none --warmup 1 --runs "$runs" -i --export-json "$DIR/$name.json" \
        -n rg "$RG $f" -n cat "cat $f > /dev/null" -n lockwatch "$LW $args $f > /dev/null" >/dev/null 2>&1
}
while read -r name shape share profiles hosts fail; do
    [ -n "$name" ] && cell "$name" "$shape" "$share" "$profiles" "$hosts" "$SIZE" "$RUNS" "$fail"
done <<< "$CELLS"
if [ "$SCALE" -gt 0 ]; then
    cell plain-dense-100k-8h-large plain 0.06 100000 8 "$SCALE" 3
    cell plain-dense-1m-8h-large plain 0.06 1000000 8 "$SCALE" 3
fi
# The storm of `make bench`, at the matrix's size.
if [ ! -f "$DIR/storm.log" ] || [ "$(cat "$DIR/storm.key" 2>/dev/null)" != "$SIZE" ]; then
    python3 bench/gen_corpus.py "$DIR/storm-gen" "$SIZE" >/dev/null && mv "$DIR/storm-gen/storm.log" "$DIR/storm.log"
    rm -rf "$DIR/storm-gen"; echo "$SIZE" > "$DIR/storm.key"
fi
/usr/bin/time -f "%M" -o "$DIR/storm.rss" "$LW" --format json "$DIR/storm.log" > /dev/null 2>&1 || true
hyperfine --style none --warmup 1 --runs "$RUNS" -i --export-json "$DIR/storm.json" \
    -n rg "$RG $DIR/storm.log" -n cat "cat $DIR/storm.log > /dev/null" -n lockwatch "$LW --format json $DIR/storm.log > /dev/null" >/dev/null 2>&1
# mtail reads slowly: one run per shape, on its dense corpus.
for shape in plain logfmt json journald; do
    /usr/bin/time -f "%e" -o "$DIR/$shape.mtail-time" mtail --one_shot --one_shot_format=prometheus \
        --progs bench/mtail --logs "$DIR/$shape-dense-100k-8h.log" >/dev/null 2>&1 || true
done
python3 - "$DIR" "$SIZE" "$RUNS" "$SCALE" <<'EOF' | tee "$DIR/table.md"
import glob, json, os, statistics, sys
d, size, runs, scale = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
rows = []
for path in glob.glob(os.path.join(d, "*.json")):
    name = os.path.basename(path)[:-5]
    r = {x["command"]: sorted(x["times"]) for x in json.load(open(path))["results"]}
    lw, rg, cat = r["lockwatch"], r["rg"], r["cat"]
    ratio = statistics.median(lw) / statistics.median(rg)
    # The spread: the ratio of the fastest lockwatch run to the slowest ripgrep run, and the reverse.
    lo, hi = lw[0] / rg[-1], lw[-1] / rg[0]
    # /usr/bin/time's last line (a line before it says so when lockwatch exits 1: escalations).
    rss = open(os.path.join(d, name + ".rss")).read().strip().splitlines()[-1]
    lines = sum(1 for _ in open(os.path.join(d, name + ".log"), "rb"))
    nbytes = os.path.getsize(os.path.join(d, name + ".log"))
    rows.append((ratio, name, statistics.median(rg), statistics.median(cat), statistics.median(lw), lo, hi,
                 int(rss) / 1024 if rss.isdigit() else 0, nbytes / statistics.median(lw) / 1e6, lines))
rows.sort(reverse=True)
large = f" (the `-large` ones {scale >> 20} MiB, 3 runs)" if scale > 0 else ""
print(f"{size >> 20} MiB a corpus, {runs} runs a command{large}, medians; worst ratio first")
print()
print("| corpus | rg -c | cat | lockwatch | ratio to rg -c (spread) | lockwatch MB/s | peak RSS |")
print("|---|---|---|---|---|---|---|")
for ratio, name, rg, cat, lw, lo, hi, rss, mbs, lines in rows:
    print(f"| {name} | {rg:.3f} s | {cat:.3f} s | {lw:.3f} s | **{ratio:.1f} ×** ({lo:.1f}–{hi:.1f}) | {mbs:.0f} | {rss:.0f} MiB |")
print()
# What a fleet of a given size costs: time and memory as profiles and hosts grow.
by = {r[1]: r for r in rows}
print("Cost as work grows (dense: a fifth of the lines lock lines):")
print()
print("| series | corpus | lockwatch | ratio to rg -c | peak RSS |")
print("|---|---|---|---|---|")
for series, names in [("profiles, plain, 8 hosts", ["plain-dense-40-8h", "plain-dense-1k-8h", "plain-dense-10k-8h",
                                                     "plain-dense-100k-8h", "plain-dense-250k-8h", "plain-dense-1m-8h"]),
                      (f"profiles, plain, 8 hosts, {scale >> 20} MiB", ["plain-dense-100k-8h-large", "plain-dense-1m-8h-large"]),
                      ("hosts, journald, 100 000 profiles", ["journald-dense-100k-1h", "journald-dense-100k-8h",
                                                             "journald-dense-100k-64h"])]:
    for n in names:
        if n in by:
            ratio, name, rg, cat, lw, lo, hi, rss, mbs, lines = by[n]
            print(f"| {series} | {name} | {lw:.3f} s | {ratio:.1f} × | {rss:.0f} MiB |")
print()
for shape in ["plain", "logfmt", "json", "journald"]:
    p = os.path.join(d, shape + ".mtail-time")
    if os.path.exists(p):
        t = open(p).read().strip()
        print(f"mtail (one run, counting lock lines) on {shape}-dense-100k-8h: {t} s")
EOF
