#!/usr/bin/env bash
# Benchmark: lockwatch's full analysis against cat, ripgrep, grep and mtail on the same warm
# files, side by side in one run. Writes the table into BENCHMARKS.md.
#   BENCH_SIZE   bytes per corpus (default 1 GiB)       BENCH_RUNS   runs per command (default 5)
#   BENCH_DATA   where corpora are kept (default bench-data/, reused while their size matches)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${BENCH_SIZE:-$((1 << 30))}
RUNS=${BENCH_RUNS:-5}
DATA=${BENCH_DATA:-bench-data}
OUT=$DATA/results
. bench/common.sh
bench_tools

make -s release >/dev/null
LW=$PWD/.build/release/lockwatch

bench_corpora "$DATA" "$SIZE"
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.rss

RG="rg -c -e fn_try_acquire_entry_lock_row -e 'lock acquisition failed'"
GREP="grep -cE 'fn_try_acquire_entry_lock_row|lock acquisition failed'"

# name<TAB>command, per corpus; the first line of each corpus is the reference.
commands() {
    local f=$DATA/$1
    case $1 in
    fleet.json)
        # The collector's lockwatch reads journalctl's pipe: a stream, ordered per host.
        printf '%s\t%s\n' "rg -c" "$RG $f"
        printf '%s\t%s\n' "cat > /dev/null" "cat $f > /dev/null"
        printf '%s\t%s\n' "cat | lockwatch --host-lag 30s" "cat $f | $LW --format json --host-lag 30s > /dev/null"
        printf '%s\t%s\n' "cat | lockwatch --shard 1/2" "cat $f | $LW --format json --host-lag 30s --shard 1/2 > /dev/null"
        printf '%s\t%s\n' "lockwatch (file)" "$LW --format json $f > /dev/null"
        ;;
    plain.log.gz)
        printf '%s\t%s\n' "zcat | rg -c" "zcat $f | $RG"
        printf '%s\t%s\n' "zcat > /dev/null" "zcat $f > /dev/null"
        printf '%s\t%s\n' "lockwatch" "$LW --format json $f > /dev/null"
        ;;
    *)
        printf '%s\t%s\n' "rg -c" "$RG $f"
        printf '%s\t%s\n' "cat > /dev/null" "cat $f > /dev/null"
        printf '%s\t%s\n' "grep -cE" "$GREP $f"
        printf '%s\t%s\n' "lockwatch" "$LW --format json $f > /dev/null"
        printf '%s\t%s\n' "lockwatch < file" "$LW --format json < $f > /dev/null"
        printf '%s\t%s\n' "cat | lockwatch" "cat $f | $LW --format json > /dev/null"
        printf '%s\t%s\n' "cat | cat > /dev/null" "cat $f | cat > /dev/null"
        ;;
    esac
}

for corpus in plain.log journal.json storm.log plain.log.gz fleet.json; do
    args=()
    i=0
    while IFS=$'\t' read -r name cmd; do
        args+=(-n "$name" "$cmd")
        # Peak RSS of the last command of the line (lockwatch itself in a pipe), through a pipe
        # so that grep cannot take /dev/null as a reason to stop at the first match.
        /usr/bin/time -f "%M" -o "$OUT/$corpus.$i.rss" sh -c "$cmd" 2>/dev/null | cat >/dev/null || true
        i=$((i + 1))
    done < <(commands "$corpus")
    # -i: lockwatch exits 1 when it finds escalations, which is not a failure here.
    # --output=pipe: GNU grep stops at the first match when its output is /dev/null.
    hyperfine --style basic --warmup 1 --runs "$RUNS" -i --output=pipe --export-json "$OUT/$corpus.json" "${args[@]}" >/dev/null 2>&1
done

# mtail reads slowly (tens of MB/s): one timed run on the plain corpus, with its peak RSS.
/usr/bin/time -f "%e %M" -o "$OUT/mtail.time" mtail --one_shot --one_shot_format=prometheus \
    --progs bench/mtail --logs "$DATA/plain.log" >/dev/null 2>&1 || true

# Memory does not grow with the input: the plain corpus once and eight times over through a
# pipe (the generator's 40 profiles and 6 symbols repeat either way; eight copies are eight
# times the bytes, lines and records, with the timeline starting over at each copy).
/usr/bin/time -f "%M" -o "$OUT/rss.1x" sh -c "cat $DATA/plain.log | $LW --format json > /dev/null" 2>/dev/null || true
/usr/bin/time -f "%M" -o "$OUT/rss.8x" sh -c "for i in 1 2 3 4 5 6 7 8; do cat $DATA/plain.log; done | $LW --format json > /dev/null" 2>/dev/null || true

# Soak: ten copies of (a) through a pipe (10 GiB at the default size), RSS sampled every second.
python3 bench/soak.py "$LW" "$DATA/plain.log" "${BENCH_SOAK_COPIES:-10}" > "$OUT/soak.json"

python3 bench/latency.py "$LW" 40 > "$OUT/latency.json"
python3 bench/report.py "$DATA" "$SIZE" "$RUNS" BENCHMARKS.md
