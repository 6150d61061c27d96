# TacitKB: two commands do all the set-up on a fresh machine.
#   make run   - virtual environment, install, sample knowledge base on first start, serve the app
#   make test  - virtual environment, install, the whole test suite (incl. a real-browser test)
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8501
HOST   ?= 127.0.0.1
export TACITKB_HOME ?= $(CURDIR)/.kb
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test install chromium postgresql demo lint format bench bench-smoke clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first, pinned to the CPU wheel on this machine's disk, so nothing pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --quiet torch==2.13.0
	$(BIN)/pip install --quiet --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Debian's chromium for the end-to-end browser test (Playwright's own browser download does not work here).
chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
	  || echo "WARNING: chromium could not be installed; tests/ui/test_e2e_browser.py will be SKIPPED"

# PostgreSQL 15 for the store contract suite: the tests start a throwaway cluster with its initdb/pg_ctl.
# No fallback: without it the PostgreSQL tests fail (with the reason), they are never skipped.
postgresql:
	@test -x /usr/lib/postgresql/15/bin/initdb || (apt-get update -qq && apt-get install -y -qq postgresql-15 >/dev/null) \
	  || echo "WARNING: postgresql-15 could not be installed; the PostgreSQL store tests will FAIL"

run: install
	$(BIN)/tacitkb init --samples
	$(BIN)/streamlit run ui/app.py --server.port $(PORT) --server.headless true \
	  --server.address $(HOST) --browser.gatherUsageStats false \
	  --client.showErrorDetails none --client.toolbarMode minimal

demo: install
	$(BIN)/tacitkb init --samples
	$(BIN)/tacitkb demo

test: install chromium postgresql
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/pip install --quiet -r bench/requirements.txt
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.latency
	$(BIN)/python -m bench.quality
	$(BIN)/python -m bench.compare
	$(BIN)/python -m bench.cluster
	$(BIN)/python -m bench.summary

bench-smoke: install
	$(BIN)/python -m bench.smoke

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
