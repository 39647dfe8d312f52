# lockwatch — build, demo and tests. `make demo` and `make test` do all set-up on a fresh machine.

SHELL := /bin/bash
SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN := .build/debug/lockwatch
# The release binary carries the Swift runtime and Foundation in itself: it runs on a host
# without the toolchain (a worker, a collector) and starts without loading a dozen shared
# libraries (BENCHMARKS.md, "Where the time goes"). lld links it: the default linker repeats
# the static Foundation's warning about `mktemp` at every link. Every release build, and the
# manual's, uses these flags, so that none rebuilds another's.
RELEASE_FLAGS := -c release -Xswiftc -static-stdlib -Xswiftc -use-ld=lld
RELEASE := build $(RELEASE_FLAGS)

.PHONY: all deps prometheus collector chromium tmux build demo test record release install bench fuzz clean

all: build

# PCRE2 (and zlib) headers from the system, through SwiftPM system-library targets.
deps:
	@if ! pkg-config --exists libpcre2-8 2>/dev/null || [ ! -f /usr/include/zlib.h ]; then \
		echo "installing libpcre2-dev, zlib1g-dev, pkg-config"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq libpcre2-dev zlib1g-dev pkg-config >/dev/null; \
	fi

# Prometheus (promtool and the server) for the fleet rules and the end-to-end test.
prometheus:
	@if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then \
		echo "installing prometheus"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq prometheus >/dev/null; \
	fi

# journald's remote collection and Alertmanager, for the central deployment's end-to-end test.
collector:
	@if [ ! -x /lib/systemd/systemd-journal-remote ] || ! command -v prometheus-alertmanager >/dev/null; then \
		echo "installing systemd-journal-remote, prometheus-alertmanager"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq systemd-journal-remote prometheus-alertmanager >/dev/null; \
	fi

# Headless Chromium, to render the HTML report as a browser does.
chromium:
	@if ! command -v chromium >/dev/null; then \
		echo "installing chromium"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; \
	fi

# tmux, to drive the terminal views as a person would.
tmux:
	@if ! command -v tmux >/dev/null; then \
		echo "installing tmux"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq tmux >/dev/null; \
	fi

build: deps
	$(SWIFT) build

# Runs lockwatch on the bundled incident; exit status 1 means "escalations found", which is the point.
demo: build
	@echo '$$ lockwatch fixtures/incident/input.log'
	@$(BIN) fixtures/incident/input.log; status=$$?; echo "(exit status $$status)"; [ $$status -le 1 ]

# Unit, golden-fixture and command tests (Swift Testing). The build must be free of warnings.
test: deps prometheus collector chromium tmux
	@$(SWIFT) build --build-tests 2>&1 | tee .build-test.log | grep -vE '^\[[0-9]+/[0-9]+\]' || true
	@if grep -E '(Sources|Tests)/.*(warning|error):' .build-test.log; then echo "build has warnings or errors"; rm -f .build-test.log; exit 1; fi
	@rm -f .build-test.log
	$(SWIFT) test --disable-xctest --skip-build
	@# The fixtures and the worked examples, replayed as a user replays theirs.
	$(BIN) rules check examples/*/rules.yml
	$(BIN) test fixtures examples
	@# The HTML report in a real browser: self-contained, and the screenshot is not blank.
	python3 tests/report_screenshot.py $(BIN)
	@# The live view, colour and progress, under tmux.
	python3 tests/terminal_ui.py $(BIN)
	@# Bounded state needs the optimised build: 2 million distinct profiles in at most 256 MiB.
	@out=$$($(SWIFT) $(RELEASE) 2>&1) || { echo "$$out"; exit 1; }; grep -E '(warning|error):' <<<"$$out" || true
	python3 tests/bounded_state.py .build/release/lockwatch
	@# Installation: binary, man page and completions under a scratch PREFIX, and that they work.
	bash tests/install_check.sh
	@# The fleet's alerting rules: syntax, and their own unit tests.
	promtool check rules deploy/prometheus/lockwatch-rules.yml
	cd deploy/prometheus && promtool test rules lockwatch-rules.test.yml
	promtool check config --syntax-only deploy/prometheus/prometheus.yml
	amtool check-config deploy/alertmanager/alertmanager.yml
	@# End to end: two lockwatch processes, a real Prometheus scraping both, the fleet-wide alert.
	python3 tests/fleet_e2e.py .build/release/lockwatch
	@# End to end: hosts uploading to systemd-journal-remote, collectors, two clustered Alertmanagers.
	python3 tests/collector_e2e.py .build/release/lockwatch

# Re-records every fixture's expected.ndjson / expected.txt (review the diff before committing).
record: deps
	-LOCKWATCH_RECORD=1 $(SWIFT) test --disable-xctest --filter 'FixtureTests/matchesGoldenOutput'
	git status --short fixtures/

release: deps
	$(SWIFT) $(RELEASE)

# Installs the binary, its man page and shell completions (bash, zsh, fish), all generated
# from the ArgumentParser definitions, under PREFIX (default /usr/local; DESTDIR for staging).
PREFIX ?= /usr/local
install: release
	$(SWIFT) package $(RELEASE_FLAGS) generate-manual >/dev/null
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 .build/release/lockwatch $(DESTDIR)$(PREFIX)/bin/lockwatch
	install -m 644 .build/plugins/GenerateManual/outputs/lockwatch/lockwatch.1 $(DESTDIR)$(PREFIX)/share/man/man1/lockwatch.1
	.build/release/lockwatch --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/lockwatch
	.build/release/lockwatch --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_lockwatch
	.build/release/lockwatch --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/lockwatch.fish

# Side-by-side throughput, memory and live latency against cat, rg, grep and mtail (not part
# of `make test`); writes BENCHMARKS.md. BENCH_SIZE=bytes per corpus (default 1 GiB). Then the
# matrix of realistic worker logs, worst ratio first (MATRIX_SIZE, default 256 MiB a corpus).
bench: deps
	bench/run.sh
	bench/matrix.sh

# libFuzzer with AddressSanitizer, one target per stage and one for the whole pipeline (see
# fuzz/Sources/lockwatch-fuzz/Fuzz.swift), seeded from the fixtures (not part of `make test`).
# SECONDS=N of fuzzing in all (default 60), shared line 4 : correlator 3 : printers 1 :
# pipeline 2; FUZZ_TARGETS picks some. A finding leaves its input in .build-fuzz/crash-* and
# fails the target — make it a fixture or a test (or keep it in fuzz/regressions/TARGET/, which
# every run replays first), then fix it.
SECONDS ?= 60
FUZZ_TARGETS ?= line correlator printers pipeline
fuzz: deps
	cd fuzz && $(SWIFT) build -c release --build-path ../.build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
		-Xswiftc -enable-testing 2>&1 | grep -vE 'Cannot export local symbol|^\[[0-9]+/[0-9]+\]' || true
	@mkdir -p .build-fuzz/seeds/pipeline .build-fuzz/seeds/line
	@for f in fixtures/*/input*; do n=$$(echo $$f | tr / _); \
		case $$f in *.gz) gzip -dc $$f > .build-fuzz/seeds/pipeline/$$n ;; *) cp $$f .build-fuzz/seeds/pipeline/$$n ;; esac; \
		split -l 1 -a 4 .build-fuzz/seeds/pipeline/$$n .build-fuzz/seeds/line/$$n.; done
	@status=0; for t in $(FUZZ_TARGETS); do \
		case $$t in printers) w=1; len=512 ;; correlator) w=3; len=512 ;; line) w=4; len=4096 ;; *) w=2; len=8192 ;; esac; \
		s=$$(( $(SECONDS) * w / 10 )); [ $$s -ge 1 ] || s=1; \
		mkdir -p .build-fuzz/corpus/$$t .build-fuzz/seeds/$$t; echo "fuzz $$t: $$s s"; \
		if [ -d fuzz/regressions/$$t ]; then cp fuzz/regressions/$$t/* .build-fuzz/seeds/$$t/; fi; \
		LOCKWATCH_FUZZ_TARGET=$$t .build-fuzz/release/lockwatch-fuzz -max_total_time=$$s -max_len=$$len -timeout=10 \
			-print_final_stats=1 -artifact_prefix=.build-fuzz/$$t- .build-fuzz/corpus/$$t .build-fuzz/seeds/$$t 2>&1 \
			| grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|Done|==|SUMMARY|artifact|Fatal|.*fatalError)'; \
		r=$${PIPESTATUS[0]}; [ $$r -eq 0 ] || status=$$r; done; exit $$status

clean:
	rm -rf .build .build-fuzz
