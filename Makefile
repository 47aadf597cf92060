# Frontdesk — two commands:
#   make serve   set everything up and run the hub with the demo config (SQLite, no servers)
#   make test    set everything up and run lint, type checks and the whole test suite

PYTHON ?= python3
VENV := .venv
ACTIONS_VENV := .venv-actions
BIN := $(VENV)/bin
FRONTDESK_ACTIONS_PORT ?= 5055

.PHONY: serve test setup-serve setup-test lint typecheck pytest bench clean

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Frontdesk needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

# rasa-sdk pins sanic/pydantic/protobuf/multidict, so the action server gets its own venv.
$(ACTIONS_VENV)/.installed:
	$(PYTHON) -m venv $(ACTIONS_VENV)
	$(ACTIONS_VENV)/bin/pip install --quiet --upgrade pip
	$(ACTIONS_VENV)/bin/pip install --quiet 'rasa-sdk>=3.21,<4'
	@touch $@

.test-deps.installed: scripts/install-test-deps scripts/install-test-deps.d/*.sh
	scripts/install-test-deps
	@touch $@

# The set-ups are independent of each other (two virtual environments, the system packages),
# and mostly wait on downloads and unpacking: they run side by side (a fresh CI machine saves
# a minute of its budget this way), their output interleaved line by line.
SETUP := $(MAKE) --no-print-directory --output-sync=line -j3

setup-serve: $(VENV)/.installed $(ACTIONS_VENV)/.installed

setup-test: $(VENV)/.installed $(ACTIONS_VENV)/.installed .test-deps.installed

serve:
	@$(SETUP) setup-serve
	@mkdir -p data
	@FRONTDESK_ACTIONS_PORT=$(FRONTDESK_ACTIONS_PORT) scripts/run-actions >data/actions.log 2>&1 & \
	actions=$$!; trap 'kill $$actions 2>/dev/null' EXIT INT TERM; \
	FRONTDESK_ACTION_ENDPOINT=http://127.0.0.1:$(FRONTDESK_ACTIONS_PORT)/webhook \
	FRONTDESK_LOG_FORMAT=$${FRONTDESK_LOG_FORMAT:-text} \
	$(BIN)/frontdesk serve --config config/frontdesk.yaml

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

# Three workers on two cores, one file each at a time (pytest-xdist): with two, the cores
# stood idle a third of the time while tests waited on their servers, browsers and leases
# (docs/benchmarks.md, "The test suite's wall time"). Files go out in the order
# tests/conftest.py gives them (the long process and browser files first), not by test count.
pytest: $(VENV)/.installed $(ACTIONS_VENV)/.installed .test-deps.installed
	$(BIN)/pytest -n 3 --dist loadfile --no-loadscope-reorder --durations=25

# One after the other: the suite starts with its heaviest files (three hubs on a Redis
# Cluster, browsers), and a type check beside them starved a cluster reload test past its
# minute of patience on a slow host.
test:
	@$(SETUP) setup-test
	@$(MAKE) --no-print-directory lint typecheck pytest

# Every benchmark in docs/benchmarks.md, with the same commands (about 15 minutes; the NLU
# benchmarks need the data sets in ../shared/data).
bench: $(VENV)/.installed $(ACTIONS_VENV)/.installed .test-deps.installed
	$(BIN)/python bench/api.py --store sqlite --concurrency 64 --seconds 20
	$(BIN)/python bench/api.py --store sqlite --rate 500 --seconds 30
	$(BIN)/python bench/api.py --store redis --concurrency 64 --seconds 20
	$(BIN)/python bench/api.py --store redis --rate 500 --seconds 20
	$(BIN)/python bench/webchat_vs_peer.py
	$(BIN)/python bench/dialog_turn.py
	$(BIN)/python bench/sqlite_log_writes.py
	$(BIN)/python bench/sqlite_upgrade.py --turns 100000
	$(BIN)/python bench/nlu.py --dataset clinc150
	$(BIN)/python bench/nlu.py --dataset banking77
	$(BIN)/python bench/nlu.py --dataset frontdesk-bilingual
	$(BIN)/python bench/stories.py
	$(BIN)/python bench/webchat.py --visitors 100 --duration 20 --idle 10000 --json
	$(BIN)/python bench/webchat.py --visitors 100 --duration 20 --idle 0 --bot dialogs --json
	$(BIN)/python bench/identity.py --store sqlite --identities 1000000
	$(BIN)/python bench/identity.py --store redis --identities 1000000
	$(BIN)/python bench/contention.py --calm 5 --seconds 10 --pauses 0 0.01 0.1 1
	$(BIN)/python bench/scale.py --workers 1 2 4 --seconds 10 --store redis cluster
	$(BIN)/python bench/handoff.py
	$(BIN)/python bench/console.py

clean:
	rm -rf $(VENV) $(ACTIONS_VENV) .test-deps.installed .mypy_cache .ruff_cache .pytest_cache
