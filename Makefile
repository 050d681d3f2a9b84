# npsloop: `make local` runs the whole stack on this machine, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install local test lint layer-requirements openapi clean

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
test: install
	$(BIN)/ruff check shared functions infra/local tests
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check shared functions infra/local tests
	$(BIN)/cfn-lint template.yaml

## rewrite shared/requirements.txt from pyproject.toml's runtime dependencies
layer-requirements: install
	$(BIN)/python -m npsloop_local.packaging

## rewrite openapi.json from the code (template routes, sources, models); a test fails when it drifts
openapi: install
	$(BIN)/python -m npsloop_local.openapi

clean:
	rm -rf $(VENV) .pytest_cache .aws-sam
