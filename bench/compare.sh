#!/usr/bin/env bash
# Before and after: lockwatch at REV (default: HEAD's parent) against the working tree, side by
# side with `rg -c` in one hyperfine run per corpus, and whether their outputs are the same
# bytes (NDJSON and stderr). For a change that must not change behaviour or slow anything.
#   bench/compare.sh [REV]     BENCH_DATA, BENCH_SIZE, BENCH_RUNS as for bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REV=${1:-HEAD~1}
SIZE=${BENCH_SIZE:-$((256 << 20))}
RUNS=${BENCH_RUNS:-10}
DATA=${BENCH_DATA:-bench-data}
BASE=$(mktemp -d /tmp/lockwatch-base.XXXXXX)
trap 'git worktree remove --force "$BASE" >/dev/null 2>&1 || true' EXIT

. bench/common.sh
bench_tools
git worktree add --detach "$BASE" "$REV" >/dev/null
# Built as the working tree builds (its Makefile), so that only the code differs.
make -s -C "$BASE" -f "$PWD/Makefile" release >/dev/null 2>&1
make -s release >/dev/null
OLD=$BASE/.build/release/lockwatch
NEW=$PWD/.build/release/lockwatch

bench_corpora "$DATA" "$SIZE"

RG="rg -c -e fn_try_acquire_entry_lock_row -e 'lock acquisition failed'"
echo "| corpus | rg -c | lockwatch $REV | lockwatch now | now / before | output |"
echo "|---|---|---|---|---|---|"
for corpus in plain.log journal.json storm.log plain.log.gz fleet.json; do
    f=$DATA/$corpus
    args="--format json"
    [ "$corpus" = fleet.json ] && args="$args --host-lag 30s"
    same=same
    "$OLD" $args "$f" > "$BASE/old.out" 2> "$BASE/old.err" || true
    "$NEW" $args "$f" > "$BASE/new.out" 2> "$BASE/new.err" || true
    cmp -s "$BASE/old.out" "$BASE/new.out" && cmp -s "$BASE/old.err" "$BASE/new.err" || same=DIFFERENT
    rgcmd="$RG $f"
    [ "$corpus" = plain.log.gz ] && rgcmd="zcat $f | $RG"
    hyperfine --style none --warmup 1 --runs "$RUNS" -i --export-json "$BASE/h.json" \
        -n rg "$rgcmd" -n old "$OLD $args $f > /dev/null" -n new "$NEW $args $f > /dev/null" >/dev/null 2>&1
    python3 - "$BASE/h.json" "$corpus" "$same" <<'EOF'
import json, statistics, sys
r = {x["command"]: x["times"] for x in json.load(open(sys.argv[1]))["results"]}
def f(t): return f"{statistics.median(t):.3f} s (±{statistics.stdev(t):.3f})"
ratio = statistics.median(r["new"]) / statistics.median(r["old"])
print(f"| {sys.argv[2]} | {f(r['rg'])} | {f(r['old'])} | {f(r['new'])} | {ratio:.2f} | {sys.argv[3]} |")
EOF
done
