# Development tasks. `make help` lists them. Every target sets up .venv and node_modules first when
# they are missing or older than their requirement files, so a fresh clone needs only `make run`.

SHELL := /bin/bash
# Python 3.11 or newer; azure-functions 1.26 is the version pinned for 3.11.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3)
VENV := .venv
PY := $(VENV)/bin/python
# Stop and clean may run before the venv exists; tools/azurite.py needs only the standard library.
TOOL_PY = $(if $(wildcard $(PY)),$(PY),python3)
AZURITE = $(TOOL_PY) -m tools.azurite --pid-file .local/azurite.pid
PYTEST_ARGS ?= -n auto
HOST_ARGS ?= --host 127.0.0.1 --port 7071
SEED = $(PY) -m tools.localhost.with_settings -- $(PY) -m tools.seed tools/demo_config.json

.PHONY: help setup run test bench seed stop clean distclean

help:
	@echo "make run        set up, start Azurite (data in .local/azurite), seed the demo configuration,"
	@echo "                serve the app on http://127.0.0.1:7071; Ctrl+C stops both"
	@echo "make test       set up and run the tests (they start their own in-memory Azurite)"
	@echo "make bench      set up and run the benchmarks"
	@echo "make seed       load tools/demo_config.json into the local Azurite, starting it if needed"
	@echo "make stop       stop the Azurite that make run or make seed started"
	@echo "make clean      stop Azurite and delete local state (.local: storage data, outbox, keys) and caches"
	@echo "make distclean  clean, and delete .venv and node_modules too"

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is required; set PYTHON=/path/to/python3.11" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

local.settings.json:
	cp local.settings.example.json $@

run: setup local.settings.json
	@if $(AZURITE) status >/dev/null; then started=""; \
	else $(AZURITE) start --location .local/azurite || exit 1; started=yes; fi; \
	trap 'if [ -n "$$started" ]; then $(AZURITE) stop; fi' EXIT; \
	$(SEED) && $(PY) -m tools.localhost $(HOST_ARGS)

seed: setup local.settings.json
	@$(AZURITE) status >/dev/null || $(AZURITE) start --location .local/azurite
	$(SEED)

test: setup
	@$(VENV)/bin/pytest $(PYTEST_ARGS) || { status=$$?; \
		if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; exit $$status; }

bench: setup
	$(PY) -m benchmarks

stop:
	@$(AZURITE) stop

clean: stop
	rm -rf .local .pytest_cache
	find . -path ./.venv -prune -o -path ./node_modules -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) node_modules
