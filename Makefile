# lockwatch — build, demo and tests. `make demo` and `make test` do all set-up on a fresh machine.

SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN := .build/debug/lockwatch

.PHONY: all deps build demo test record release bench clean

all: build

# PCRE2 (and zlib) headers from the system, through SwiftPM system-library targets.
deps:
	@if ! pkg-config --exists libpcre2-8 2>/dev/null || [ ! -f /usr/include/zlib.h ]; then \
		echo "installing libpcre2-dev, zlib1g-dev, pkg-config"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq libpcre2-dev zlib1g-dev pkg-config >/dev/null; \
	fi

build: deps
	$(SWIFT) build

# Runs lockwatch on the bundled incident; exit status 1 means "escalations found", which is the point.
demo: build
	@echo '$$ lockwatch fixtures/incident/input.log'
	@$(BIN) fixtures/incident/input.log; status=$$?; echo "(exit status $$status)"; [ $$status -le 1 ]

# Unit, golden-fixture and command tests (Swift Testing). The build must be free of warnings.
test: deps
	@$(SWIFT) build --build-tests 2>&1 | tee .build-test.log | grep -vE '^\[[0-9]+/[0-9]+\]' || true
	@if grep -E '(Sources|Tests)/.*(warning|error):' .build-test.log; then echo "build has warnings or errors"; rm -f .build-test.log; exit 1; fi
	@rm -f .build-test.log
	$(SWIFT) test --disable-xctest --skip-build
	@# Bounded state needs the optimised build: 2 million distinct profiles in at most 256 MiB.
	@$(SWIFT) build -c release 2>&1 | grep -E '(warning|error):' || true
	python3 tests/bounded_state.py .build/release/lockwatch

# Re-records every fixture's expected.ndjson / expected.txt (review the diff before committing).
record: deps
	-LOCKWATCH_RECORD=1 $(SWIFT) test --disable-xctest --filter 'FixtureTests/matchesGoldenOutput'
	git status --short fixtures/

release: deps
	$(SWIFT) build -c release

# Side-by-side throughput, memory and live latency against cat, rg, grep and mtail (not part
# of `make test`); writes BENCHMARKS.md. BENCH_SIZE=bytes per corpus (default 1 GiB).
bench: deps
	bench/run.sh

clean:
	rm -rf .build
