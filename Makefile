# Two commands a newcomer needs: `make run` (set up and start the app) and `make test` (set up and run every test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run api stack test test-fast bench bench-peers lint clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/streamlit run streamlit_app.py

# The HTTP API on http://127.0.0.1:8000 (docs at /docs), on the app's database ($$VBL_DATABASE_URL).
API_HOST ?= 127.0.0.1
API_PORT ?= 8000
api: $(STAMP)
	$(BIN)/python -m api serve --host $(API_HOST) --port $(API_PORT)

# The app, the API and the scheduler together (Procfile), stopped together by Ctrl-C.
stack: $(STAMP)
	$(BIN)/honcho start -f Procfile

test: lint
	$(BIN)/python -m pytest -n 2 -q

# The inner loop: no browser, no real servers or processes killed, no slow-marked tests (about a minute).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -m "not slow" --ignore=tests/e2e --ignore=tests/faults --ignore=tests/delivery

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# Optional: a separate venv with vectorbt and backtesting.py (the runtime pins plus the two peers; never needed by
# the tests), then the same grid through ours and both peers. `make bench` prints these rows once it exists.
PEERS_VENV := .venv-peers
PEERS_STAMP := $(PEERS_VENV)/.installed
PEERS := vectorbt==1.2.0 backtesting==0.6.6

$(PEERS_STAMP): requirements.txt
	$(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/pip install --quiet --upgrade pip
	$(PEERS_VENV)/bin/pip install --quiet -r requirements.txt $(PEERS)
	touch $(PEERS_STAMP)

bench-peers: $(PEERS_STAMP)
	$(PEERS_VENV)/bin/python -m benchmarks peers

# ruff, then the layer contracts in pyproject.toml ([tool.importlinter]): a wrong-way import fails here.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
