# Two commands on a fresh clone: `make run` (a workflow end to end) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install torc-client system run serve test test-fast docs docs-serve mutation mutation-install bench bench-install bench-quick slurm slurm-stop clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[embedded,notebook,console,test,docs]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)  ## create .venv and install the project with the embedded database

run: install  ## start a server on a fresh embedded database, run the diamond example, print its results
	$(BIN)/python scripts/quickstart.py

serve: install  ## keep a server (embedded database in ~/.local/share/torc/db) running in the foreground
	$(BIN)/torc-server

system:  ## the system packages the tests use (Debian, as root): jq, and chromium for the browser check
	bash scripts/install-system.sh

torc-client:  ## Torc's published Python client (torc-client 0.35.0 from PyPI) in .venv-torc-client, for tests/compat
	PYTHON=$(PYTHON) bash scripts/torc-client-venv.sh .venv-torc-client

test: install torc-client system slurm  ## the whole suite, against a real embedded database, a real Slurm and a real browser
	TORC_REQUIRE_BROWSER=1 TORC_REQUIRE_SSHD=1 PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -q

slurm:  ## install (Debian packages, as root) and start a one-machine Slurm cluster: three nodes, partition debug
	bash scripts/slurm.sh start

slurm-stop:  ## cancel every Slurm job and stop the Slurm daemons
	bash scripts/slurm.sh stop

test-fast: install  ## unit and spec tests only (no server)
	$(BIN)/python -m pytest -q tests/unit tests/pacing tests/spec

mutation-install: install
	$(BIN)/python -m pip install --quiet -e '.[mutation]'

mutation: mutation-install  ## mutation testing of queue and transitions (mutmut, ~20 min; MODULES=all: whole core, ~2 h): bench/results/mutation.md
	$(BIN)/python scripts/mutation.py $(MODULES)

docs: install  ## build the documentation site into site/ (offline; fails on a broken link or a stale page)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-serve: install  ## serve the documentation at http://127.0.0.1:8000, rebuilt on every change
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

bench-install: install
	$(BIN)/python -m pip install --quiet -e '.[bench]'

bench: bench-install  ## every benchmark with the peers, written to bench/results/latest.json and docs/benchmarks.md
	$(BIN)/python -m bench

bench-quick: bench-install  ## a reduced benchmark run (under two minutes)
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) .venv-torc-client build site *.egg-info .pytest_cache mutants
