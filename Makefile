# Wrap-up Portal: `make run` starts the demo, `make test` runs the whole suite.
# Both work on a fresh machine with only Python 3.11: they create .venv and install the
# pinned requirements first; a second run reuses them.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# The stamp is newer than requirements.txt once that exact file is installed.
STAMP := $(VENV)/.requirements-installed
MANAGE := $(BIN)/python manage.py

# The demo runs with DEBUG on and demo secrets; set DJANGO_DEBUG=0 and real secrets in production.
run: export DJANGO_DEBUG ?= 1

.PHONY: install run test bench clean

install: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

# `make run RUN_ARGS="--addr 127.0.0.1:8001"` passes options to run_portal. `exec`: run_portal is
# make's own child, whatever RUN_ARGS holds, so a SIGTERM that make passes on reaches it (not a
# shell in between): `kill <make pid>`, Ctrl-C and a group kill all stop every process.
run: install
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	exec $(MANAGE) run_portal $(RUN_ARGS)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Every benchmark at its default size (under 10 minutes on 2 cores), the engine beside a naive
# script: writes bench/REPORT.md and bench/report/*.png. `make test` runs its --quick mode.
bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache
