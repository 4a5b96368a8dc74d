# Rigenera – everyday commands. Only bash and make are assumed; `make run` and
# `make test` install everything else (scripts/bootstrap.sh, idempotent).
#
#   make run        set up, start the embedded PostGIS, migrate, demo data, serve
#   make stop       stop the server and the embedded PostGIS cluster
#   make test       set up, run the test suite (its own throwaway cluster)
#   make bench      read benchmark (Rigenera, stock pygeoapi, tipg, SQL floor), then writes
#   make lint       ruff + mypy
#   make bootstrap  only the set-up
#   make clean      stop everything, delete .rigenera/ (cluster data) and .venv/
#
# Extra pytest arguments: make test PYTEST_ARGS='-k filters -x'

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

BENCH_ARGS ?=

.PHONY: help bootstrap run stop test bench lint clean

help:
	@sed -n 's/^#   make /  make /p' $(firstword $(MAKEFILE_LIST))

bootstrap:
	@bash scripts/bootstrap.sh

# `make stop` (SIGTERM, 143) or Ctrl-C (130) ending the server is a normal end.
run: bootstrap
	@rc=0; $(BIN)/rigenera run || rc=$$?; \
	if [ $$rc -eq 143 ] || [ $$rc -eq 130 ]; then rc=0; fi; \
	exit $$rc

stop:
	@if [ -x $(BIN)/rigenera ]; then $(BIN)/rigenera stop; \
	else echo "$(BIN)/rigenera not installed: nothing to stop"; fi

# pytest exits 5 when it collects no tests: that is a failure here, never a pass.
test: bootstrap
	@rc=0; $(BIN)/pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5): FAILED" >&2; fi; \
	exit $$rc

# Options: make bench BENCH_ARGS='--duration 15 --only items_100,tile_z14'
bench: bootstrap
	@bash scripts/bench-setup.sh
	$(BIN)/python bench/run.py $(BENCH_ARGS)
	$(BIN)/python bench/writes.py

lint: bootstrap
	$(BIN)/ruff check server tests
	$(BIN)/mypy

clean:
	@bash scripts/clean.sh
