# Two entry points: `make demo` runs the whole pipeline locally on the example clinic
# data, `make test` runs every test. Both bootstrap a fresh clone first; the bootstrap
# steps are skipped when their stamp is newer than the files they install from.
# While editing: `make check` (lint, format, types) and `make test-fast` (unit tests only).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
WORKDIR ?= .rewardds
EXAMPLE := examples/clinic-qa

.PHONY: demo test test-fast check bootstrap node-deps python-deps example generate clean-demo

demo: bootstrap
	npx rewardds run --local $(EXAMPLE)/train.jsonl --test $(EXAMPLE)/test.jsonl \
		--seeds $(EXAMPLE)/seeds.jsonl --config examples/tiny.config.json --workdir $(WORKDIR)

test: check
	npx vitest run
	cd jobs && ../$(VENV)/bin/python -m pytest

# The vitest files that run the local pipeline or spawn the Python jobs; pytest's own slow
# tests (a whole stage in a subprocess) carry the `slow` marker (jobs/pytest.ini).
PIPELINE_TESTS := test/local/e2e.test.ts test/local/bad-uploads.test.ts test/local/bootstrap.test.ts \
	test/local/sagemaker.test.ts

test-fast: bootstrap
	npx vitest run $(addprefix --exclude ,$(PIPELINE_TESTS))
	cd jobs && ../$(VENV)/bin/python -m pytest -m 'not slow'

check: bootstrap
	npx biome ci .
	$(VENV)/bin/ruff check jobs bench
	$(VENV)/bin/ruff format --check jobs bench
	npx tsc --noEmit -p tsconfig.json

bootstrap: node-deps python-deps

node-deps: node_modules/.rewardds-stamp
python-deps: $(VENV)/.rewardds-stamp

# npm 11 may skip esbuild's install script; esbuild still runs from its platform
# package, which the version check proves (CDK bundling needs it).
node_modules/.rewardds-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	npx esbuild --version
	touch $@

# torch==2.13.0 (CPU) is found on local disk by a plain `pip install -r`.
$(VENV)/.rewardds-stamp: jobs/requirements-cpu.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check -q -r jobs/requirements-cpu.txt
	touch $@

# Regenerates the committed example files (deterministic).
example:
	npx tsx examples/generate.ts --out $(EXAMPLE)

# Rewrites what is generated from core/config/run-config.ts: the jobs' JSON Schema and the
# README's configuration table (tests fail while either is stale).
generate:
	npm run gen:config

clean-demo:
	rm -rf $(WORKDIR)
