# Thoughts — developer tasks.
#
# `run`, `test`, `migrate` and `bench` first make sure a development PostgreSQL is
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

.PHONY: build run test migrate vet bench db

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

## migrate: apply database migrations and exit
migrate: db
	$(GO) run . migrate

## vet: go vet
vet:
	$(GO) vet ./...

## bench: run the benchmarks (no tests)
bench: db
	$(GO) test -run '^$$' -bench . $(BENCHFLAGS) ./...
bench-social: db ; $(GO) run ./bench/social $(BENCHFLAGS)
bench-events: db ; $(GO) run ./bench/events $(BENCHFLAGS)
