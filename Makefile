# Thoughts — developer tasks.
#
# `run`, `test`, `migrate` and the benchmarks first make sure a development PostgreSQL is
# available (scripts/dev-postgres.sh). Without DATABASE_URL that is the local cluster
# behind the app's default DSN
#   postgres://thoughts:thoughts@127.0.0.1:5432/thoughts?sslmode=disable
# With DATABASE_URL set in the environment the script only waits for that server, and
# the app and tests use it as they inherit the environment.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

GO ?= go
BIN ?= bin/thoughts
TESTFLAGS ?=
BENCHFLAGS ?=

.PHONY: build run test test-faults test-federation migrate vet bench bench-social bench-session-ab bench-events bench-soak db fuzz

## build: compile the binary to bin/thoughts
build:
	$(GO) build -o $(BIN) .

## db: provision/start the development PostgreSQL (no-op when ready)
db:
	./scripts/dev-postgres.sh

## run: everything in one process (thoughts serve)
run: db
	$(GO) run . serve

## test: the full test suite with the race detector
test: db
	$(GO) test -race -count=1 $(TESTFLAGS) ./...

## test-faults: the fault tests (service/faults/, build tag `faults`): real `thoughts` and nats-server processes and a
##              throwaway PostgreSQL cluster of their own (never the development one), with nodes killed and
##              restarted under load. FAULTS_LIKES sets the like bursts (default 10000). A few minutes.
##              Needs the PostgreSQL server binaries, which `db` installs if missing.
FAULTS_LIKES ?= 10000
test-faults: db
	FAULTS_LIKES=$(FAULTS_LIKES) $(GO) test -tags faults -count=1 -v -timeout 20m $(TESTFLAGS) ./service/faults/

# THOUGHTS_FEDTEST=1 (the default) makes `make test` (and so .ci/run) include the federation
# end-to-end tests of service/fedtest: two `thoughts serve` federating, and a Fedify peer (which
# needs the npm registry the first time). THOUGHTS_FEDTEST=0 in the environment leaves them out.
THOUGHTS_FEDTEST ?= 1
export THOUGHTS_FEDTEST

## test-federation: only the federation end-to-end tests (service/fedtest): two `thoughts serve`
##                  federating over loopback, and interop with a Fedify peer (the first run
##                  installs Node.js 22 and the peer's npm packages: scripts/fedify-peer.sh)
test-federation: db
	THOUGHTS_FEDTEST=1 $(GO) test -race -count=1 -timeout 20m -v $(TESTFLAGS) ./service/fedtest/

## fuzz: each fuzz target for FUZZTIME (default 10s), one after the other. Seed corpora live in
##       testdata/fuzz/ of each package (and run with every `go test`); a crasher found is written
##       there too: fix it and commit the input. Needs no database.
FUZZTIME ?= 10s
FUZZ_TARGETS := ./app/events:FuzzUnmarshal ./app/domain:FuzzContent \
	./ports/httpapi:FuzzDecodeJSON ./ports/httpapi:FuzzParsePage ./adapters/federation:FuzzVerify \
	./app/command:FuzzInboxActivity
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

## migrate: apply database migrations and exit
migrate: db
	$(GO) run . migrate

## vet: go vet
vet:
	$(GO) vet ./...

## bench: both load benchmarks at full size, one after the other (several minutes each). There are no
##        `go test -bench` benchmarks; each tool takes its own flags, so BENCHFLAGS go to bench-social or
##        bench-events, not to this target.
bench:
	@if [[ -n "$(BENCHFLAGS)" ]]; then echo 'make bench takes no BENCHFLAGS: pass them to make bench-social or make bench-events' >&2; exit 2; fi
	$(MAKE) bench-social
	$(MAKE) bench-events

## bench-social: load benchmark of feed, search, posting and liking (bench/README.md; flags in BENCHFLAGS)
bench-social: db
	$(GO) run ./bench/social $(BENCHFLAGS)

## bench-session-ab: what the API's session check costs (issue 9): the closed-loop feed and like runs of bench-social
##                   against two API processes at once, one built with -tags bench_no_session_check, in ABBA order
##                   over SESSION_AB_ROUNDS rounds (default 6); PASS if the median req/s ratio is >= 0.95
##                   (bench/README.md; more flags in BENCHFLAGS, e.g. -reuse)
SESSION_AB_ROUNDS ?= 6
bench-session-ab: db
	$(GO) run ./bench/social -session-ab $(SESSION_AB_ROUNDS) $(BENCHFLAGS)

## bench-events: load benchmark of the event pipeline on both backends (bench/README.md; flags in BENCHFLAGS)
bench-events: db
	$(GO) run ./bench/events $(BENCHFLAGS)

## bench-soak: 10 minutes of mixed load against built `thoughts api` + `thoughts router` processes: 5xx,
##             notification lag, RSS, table sizes (bench/README.md; flags in BENCHFLAGS, e.g. -duration 1m)
bench-soak: db
	$(GO) run ./bench/soak $(BENCHFLAGS)
