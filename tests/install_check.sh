#!/usr/bin/env bash
# `make install PREFIX=…` into a scratch prefix: the binary runs without the toolchain's
# libraries, the man page renders, and the completion scripts parse and know the options.
set -euo pipefail
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
make --no-print-directory install PREFIX="$prefix" >/dev/null
"$prefix/bin/lockwatch" --version
# It carries the Swift runtime and Foundation: a host without the toolchain runs it. It may
# need only the system's libraries.
needed=$(readelf -d "$prefix/bin/lockwatch" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p')
others=$(grep -vE '^(libc|libm|libstdc\+\+|libgcc_s|ld-linux-x86-64|ld-linux-aarch64|libpcre2-8|libz)\.so' <<<"$needed" || true)
[ -z "$others" ] || { echo "the installed binary needs libraries a host may lack: $others"; exit 1; }
page=$(MANWIDTH=100 man -l "$prefix/share/man/man1/lockwatch.1" 2>/dev/null | col -b)
grep -q -- '--metrics-listen' <<<"$page" || { echo "man page lacks --metrics-listen"; exit 1; }
grep -q 'Check rules files without running' <<<"$page" || { echo "man page lacks rules check"; exit 1; }
bash -n "$prefix/share/bash-completion/completions/lockwatch"
# The bash completion, asked as the shell would, offers the scan command's options (after
# `scan`: at the top it offers the commands).
completions=$(bash -c 'source "$1/share/bash-completion/completions/lockwatch"
	COMP_WORDS=(lockwatch scan --metrics-l); COMP_CWORD=2; COMP_LINE="lockwatch scan --metrics-l"; COMP_POINT=${#COMP_LINE}
	_lockwatch lockwatch --metrics-l scan 2>/dev/null || true; printf "%s\n" "${COMPREPLY[@]}"' _ "$prefix")
grep -q -- '--metrics-listen' <<<"$completions" || { echo "bash completion does not offer --metrics-listen: $completions"; exit 1; }
grep -q -- 'metrics-listen' "$prefix/share/zsh/site-functions/_lockwatch"
grep -q -- 'metrics-listen' "$prefix/share/fish/vendor_completions.d/lockwatch.fish"
echo "install: binary, man page, bash/zsh/fish completions under a scratch PREFIX: ok"
