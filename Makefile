# npsloop: `make local` runs the whole stack on this machine, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

ZAPIER := infra/zapier
# SAM CLI pins its own boto3, so it lives in its own virtual environment (the built-artefact test runs `sam build`)
SAM_VENV  := .venv-sam
SAM_STAMP := $(SAM_VENV)/.installed-stamp

.PHONY: install sam-cli local test lint audit bench chaos layer-requirements openapi clean zapier-test browser

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "npsloop needs Python 3.11 or newer: make PYTHON=python3.12 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

$(SAM_STAMP):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet aws-sam-cli
	@touch $(SAM_STAMP)

## SAM CLI in .venv-sam (for `sam build`, which tests/unit/test_packaging.py runs)
sam-cli: $(SAM_STAMP)

## run the local stack: HTTP API on 127.0.0.1:3000, Salesforce stand-in, moto (ARGS="--port 8000 ..." to change)
local: install
	$(BIN)/npsloop local $(ARGS)

## lint and security checks, then the whole test suite (unit, integration on moto, e2e against the local stack,
## the handlers imported from `sam build`'s artefact), then the Zapier app's
test: install sam-cli browser
	$(BIN)/ruff check shared functions infra/local tests
	$(BIN)/bandit --quiet --configfile pyproject.toml --severity-level medium --recursive shared functions infra/local
	$(BIN)/python -m pytest
	@$(MAKE) --no-print-directory zapier-test

$(ZAPIER)/node_modules/.installed-stamp: $(ZAPIER)/package-lock.json
	cd $(ZAPIER) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## the Zapier integration's offline tests (HTTP mocked); needs Node 18+ and npm
zapier-test:
	@if command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(ZAPIER)/node_modules/.installed-stamp && cd $(ZAPIER) && npm test --silent; \
	else \
		echo "*** SKIPPED the Zapier app tests (infra/zapier): npm not found; install Node 18+ to run them ***"; \
	fi

## Debian's chromium and chromium-driver for the dashboard's browser test (installed with apt when missing)
browser:
	@.ci/ensure-chromium

## benchmarks (never part of the tests): every `npsloop bench` figure (handlers' cold start against import boto3
## plus one client; Salesforce API calls per 1,000 responses against a naive sync; 2,000 responses end to end with
## their AWS usage and cost per million); GET /nps at 1,000 and 100,000
bench: install
	$(BIN)/npsloop bench
	$(BIN)/python -m npsloop_local.bench_nps

## the chaos run (never part of the tests, at most 10 minutes): 10,000 responses with duplicates and out-of-order
## updates while the Salesforce stand-in fails and consumer workers are SIGKILLed; ARGS="--responses 1000 ..." to change
chaos: install
	$(BIN)/npsloop chaos $(ARGS)

lint: install
	$(BIN)/ruff check shared functions infra/local tests
	$(BIN)/bandit --quiet --configfile pyproject.toml --severity-level medium --recursive shared functions infra/local
	$(BIN)/cfn-lint template.yaml

## known vulnerabilities in the layer's runtime dependencies (asks the package index: not part of `make test`)
audit: install
	$(BIN)/pip-audit --requirement shared/requirements.txt

## rewrite shared/requirements.txt from pyproject.toml's runtime dependencies
layer-requirements: install
	$(BIN)/python -m npsloop_local.packaging

## rewrite openapi.json from the code (template routes, sources, models); a test fails when it drifts
openapi: install
	$(BIN)/python -m npsloop_local.openapi

clean:
	rm -rf $(VENV) $(SAM_VENV) .pytest_cache .aws-sam $(ZAPIER)/node_modules
