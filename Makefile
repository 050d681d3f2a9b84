# npsloop: `make local` runs the whole stack on this machine, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install local test lint layer-requirements clean browser bench

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "npsloop needs Python 3.11 or newer: make PYTHON=python3.12 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## run the local stack: HTTP API on 127.0.0.1:3000, Salesforce stand-in, moto (ARGS="--port 8000 ..." to change)
local: install
	$(BIN)/npsloop local $(ARGS)

## lint, then the whole test suite (unit, integration on moto, e2e against the local stack)
test: install browser
	$(BIN)/ruff check shared functions infra/local tests
	$(BIN)/python -m pytest

## Debian's chromium and chromium-driver for the dashboard's browser test (installed with apt when missing)
browser:
	@.ci/ensure-chromium

## benchmarks (never part of the test suite): GET /nps with 1,000 and with 100,000 stored responses
bench: install
	$(BIN)/python -m npsloop_local.bench_nps

lint: install
	$(BIN)/ruff check shared functions infra/local tests
	$(BIN)/cfn-lint template.yaml

## rewrite shared/requirements.txt from pyproject.toml's runtime dependencies
layer-requirements: install
	$(BIN)/python -m npsloop_local.packaging

clean:
	rm -rf $(VENV) .pytest_cache .aws-sam
