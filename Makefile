# Two commands for a fresh machine: `make run` (serve the example bot) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
DEMO_PORT ?= 8001

.PHONY: run test lint bench clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Reinstall only when pyproject.toml changes.
$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,embeddings]'
	touch $@ $(VENV)/.run-installed

# The example bot's HTTP tools call ACME_API: a stand-in order system and catalog
# (demo/acme_api.py, standard library only) runs beside the bot and stops with it.
run: $(VENV)/.run-installed
	$(BIN)/python demo/acme_api.py --port $(DEMO_PORT) & \
	trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
	ACME_API=http://127.0.0.1:$(DEMO_PORT) $(BIN)/parley serve --flows flows.yaml \
		--host $(HOST) --port $(PORT)

# The widget's browser tests drive Debian's Chromium (never `playwright install`): installed
# here when missing, if we are root on a machine with apt-get; otherwise those tests skip.
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update && apt-get install -y chromium; fi

test: $(VENV)/.test-installed chromium
	$(BIN)/pytest -q

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(VENV)/.test-installed
	$(BIN)/python bench/turn_overhead.py
	$(BIN)/python bench/retrieval.py
	$(BIN)/python bench/memory.py
	$(BIN)/python bench/routing.py

clean:
	rm -rf $(VENV) .parley .pytest_cache .mypy_cache .ruff_cache
