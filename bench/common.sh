# What the benchmark scripts share (sourced): the peers installed when missing, and the
# corpora of `make bench` generated when $DATA does not hold them at $SIZE yet.

# Installs rg, hyperfine and mtail with apt-get where they are missing.
bench_tools() {
    local sudo need=() tool
    sudo=$([ "$(id -u)" = 0 ] || echo sudo)
    for tool in rg:ripgrep hyperfine:hyperfine mtail:mtail; do
        command -v "${tool%%:*}" >/dev/null || need+=("${tool##*:}")
    done
    if [ ${#need[@]} -gt 0 ]; then $sudo apt-get update -qq && $sudo apt-get install -y -qq "${need[@]}" >/dev/null; fi
}

# Generates corpora (a)–(e) into $1 at $2 bytes each, unless they are there at that size.
bench_corpora() {
    local data=$1 size=$2
    if [ ! -f "$data/size" ] || [ "$(cat "$data/size")" != "$size" ]; then
        echo "generating corpora of $size bytes in $data/ ..."
        python3 bench/gen_corpus.py "$data" "$size"
        # What one collector reads: 8 hosts' journald JSON interleaved, 100 000 profiles, dense.
        python3 bench/gen_workers.py "$data/fleet.json" "$size" --shape journald --hosts 8 --profiles 100000
        echo "$size" > "$data/size"
    fi
}
