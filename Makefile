# Two commands for a newcomer: `make workshop` and `make test`.
# Needs only Python >= 3.11 and make; everything else goes into .venv.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= out
# Four workers on two cores: the tests mostly wait (AWS's delays on the sandbox clock: a
# Route 53 change PENDING, one custom domain per 30 s, a replica CREATING); measured at
# two workers the suite kept the cores 43% busy (440 CPU-s in 517 s).
PYTEST_WORKERS ?= -n 4 --dist loadfile
HUB_STAMP := $(VENV)/.hub-installed

.PHONY: workshop test test-long suite-times lint notebooks system-packages lab bench bench-peers clean-env help

help:
	@echo "make workshop   set up .venv if needed, then run the whole workshop on the sandbox"
	@echo "make test       lint, unit, sandbox, notebook (nbval) and browser tests: minutes, on every change"
	@echo "make test-long  the tests that take minutes each: rehearsed rooms, whole workshops, 10,000 changes"
	@echo "make suite-times  the README's table of the suite's time, from the last two runs' reports"
	@echo "make lab        open JupyterLab on the index notebook"
	@echo "make bench      benchmarks on a fresh sandbox (results in benchmarks/results/)"
	@echo "make bench-peers  the notebooks on the sandbox and on MiniStack side by side (installs MiniStack under benchmarks/.peers/)"
	@echo "make notebooks  after editing notebook_sources/: the notebooks' cells from them"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "error: Python >= 3.11 is needed ($(PYTHON) is $$($(PYTHON) --version 2>&1)); set PYTHON=python3.12 for example"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (workshop)" >/dev/null
	@touch $(STAMP)

workshop: $(STAMP)
	$(BIN)/workshop run --out $(OUT)

lint: $(STAMP)
	$(BIN)/ruff check .

# Each notebook's cells from its text source in notebook_sources/, keeping the outputs of
# the notebook's unchanged cells (jupytext.toml pairs them; docs/notebooks.md). Always
# source -> notebook: `jupytext --sync` instead takes whichever file of a pair is newer.
notebooks: $(STAMP)
	@for source in notebook_sources/*.py; do \
	  $(BIN)/jupytext --quiet --update --to ipynb \
	    --output "notebooks/$$(basename "$$source" .py).ipynb" "$$source" || exit 1; \
	done

# Chromium (browser tests), dig and curl (real-client tests): installed when missing, or
# one line naming the command to run, before any test starts.
system-packages:
	@bash tools/system-packages.sh

# Every layer in one run on four workers, each with a sandbox of its own: a test file runs
# whole on one worker (its deployed fixtures are built once), the notebooks (nbval) in
# order on a sandbox of their own beside the test files (conftest.py says how). The tests
# marked `long` (minutes each) are left to `make test-long`; each has a fast stand-in here.
# Both write a JUnit report with every test's duration to $(OUT)/ (`make suite-times`).
test: system-packages $(STAMP) lint
	$(BIN)/pytest $(PYTEST_WORKERS) -m "not long" tests notebooks --nbval \
	  --nbval-sanitize-with tests/notebooks.sanitize.cfg \
	  --junitxml=$(OUT)/junit-test.xml --durations=10

# The long tier also starts a real JupyterHub (tests/hub/): JupyterHub and JupyterLab into
# .venv, the hub's proxy from npm into .hub-proxy/ (tools/hub-proxy.sh).
test-long: system-packages $(HUB_STAMP)
	@bash tools/hub-proxy.sh >/dev/null
	$(BIN)/pytest $(PYTEST_WORKERS) -m long tests \
	  --junitxml=$(OUT)/junit-long.xml --durations=10

suite-times: $(STAMP)
	$(BIN)/python tools/suite_times.py $(OUT)/junit-test.xml $(OUT)/junit-long.xml \
	  --readme README.md

$(HUB_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[hub]'
	@touch $(HUB_STAMP)

# Self-paced route: the sandbox (unless WORKSHOP_MODE says otherwise) and JupyterLab on
# the index; JupyterLab is a default dependency, so .venv already has it. `workshop` is on
# the PATH of JupyterLab's terminals. The sandbox keeps running afterwards, because
# stopping it forgets everything deployed in it. Jupyter refuses to run as root
# (containers) without --allow-root.
lab: $(STAMP)
	@if [ "$${WORKSHOP_MODE:-sandbox}" = sandbox ]; then $(BIN)/workshop sandbox up && \
	  echo "the sandbox keeps running after JupyterLab stops; '$(BIN)/workshop sandbox down' stops it"; fi
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/jupyter lab notebooks/index.ipynb \
	  $$([ "$$(id -u)" = 0 ] && echo --allow-root)

bench: $(STAMP)
	$(BIN)/workshop bench

# The same notebooks on the sandbox and on MiniStack (endpoint mode), one table: MiniStack
# goes into a venv of its own under benchmarks/.peers/ (its pins conflict with the kit's).
bench-peers: $(STAMP)
	$(BIN)/python benchmarks/peers.py

clean-env:
	rm -rf $(VENV)
