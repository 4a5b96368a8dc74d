# Rigenera – everyday commands. Only bash and make are assumed; `make run` and
# `make test` install everything else (scripts/bootstrap.sh, idempotent).
#
#   make run        set up, start the embedded PostGIS, migrate, demo data, serve
#   make stop       stop the server and the embedded PostGIS cluster
#   make test       set up, run the server suite, then the QGIS plugin suite
#   make test-server  only the server suite;  make test-plugin  only the plugin suite
#   make plugin     build dist/rigenera_qgis-<version>.zip (QGIS: Install from ZIP)
#   make bench      read benchmark (Rigenera, stock pygeoapi, tipg, SQL floor), writes, plugin,
#                   the public project page against the OGC item route, a cached tile against
#                   a static file, the production proxy
#   make lint       ruff + mypy
#   make bootstrap  only the set-up
#   make clean      stop everything, delete .rigenera/ (cluster data), .venv/, .venv-qgis/, dist/
#
# Extra pytest arguments: make test PYTEST_ARGS='-k filters -x' (server suite),
# PLUGIN_PYTEST_ARGS='-k layers -x' (plugin suite: real PyQGIS offscreen, .venv-qgis).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
PLUGIN_PYTEST_ARGS ?=
PLUGIN_BENCH_ARGS ?=
QGIS_BIN := .venv-qgis/bin
SYSTEM_PYTHON := /usr/bin/python3

BENCH_ARGS ?=

.PHONY: help bootstrap run stop test test-server test-plugin server-tests plugin-tests plugin bench bench-plugin \
	lint clean

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
# `make test` runs both suites even when the first fails, and fails if either does.
test: bootstrap
	@rc=0; $(MAKE) --no-print-directory server-tests || rc=$$?; \
	prc=0; $(MAKE) --no-print-directory plugin-tests || prc=$$?; \
	echo "make test: server suite exit $$rc, plugin suite exit $$prc"; \
	if [ $$rc -ne 0 ]; then exit $$rc; fi; exit $$prc

test-server: bootstrap
	@$(MAKE) --no-print-directory server-tests

# The plugin suite starts its own server through .venv/bin/rigenera: needs `bootstrap`.
test-plugin: bootstrap
	@$(MAKE) --no-print-directory plugin-tests

# (internal: the suites without the set-up of the server side)
server-tests:
	@bash scripts/bootstrap-browser.sh
	@bash scripts/bootstrap-ops.sh
	@rc=0; $(BIN)/pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5): FAILED" >&2; fi; \
	exit $$rc

plugin-tests:
	@bash scripts/bootstrap-qgis.sh
	@$(SYSTEM_PYTHON) qgis_plugin/build.py --compile-only
	@rm -rf tests/plugin/.qgis-settings
	@rc=0; QT_QPA_PLATFORM=offscreen $(QGIS_BIN)/pytest -c tests/plugin/pytest.ini \
		$(PLUGIN_PYTEST_ARGS) tests/plugin || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: plugin pytest collected no tests (exit 5): FAILED" >&2; fi; \
	exit $$rc

# The plugin's zip: translations compiled, QML styles included (qgis_plugin/build.py).
plugin:
	@bash scripts/bootstrap-qgis.sh --tools-only
	@$(SYSTEM_PYTHON) qgis_plugin/build.py

# Options: make bench BENCH_ARGS='--duration 15 --only items_100,tile_z14'
bench: bootstrap
	@bash scripts/bench-setup.sh
	$(BIN)/python bench/run.py $(BENCH_ARGS)
	$(BIN)/python bench/writes.py
	$(BIN)/python bench/workers.py
	$(BIN)/python bench/import_gpkg.py
	$(BIN)/python bench/processes.py
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/web_map.py
	$(BIN)/python bench/web_pages.py
	$(BIN)/python bench/tile_cache.py
	@bash scripts/bootstrap-ops.sh
	$(BIN)/python bench/proxy.py
	@$(MAKE) --no-print-directory bench-plugin

# The plugin's benchmark (load + draw the metro area with 100k sites, sync 1,000 edits).
bench-plugin: bootstrap
	@bash scripts/bootstrap-qgis.sh
	$(QGIS_BIN)/python bench/plugin.py $(PLUGIN_BENCH_ARGS)

lint: bootstrap
	$(BIN)/ruff check server tests qgis_plugin bench
	$(BIN)/mypy

clean:
	@bash scripts/clean.sh
