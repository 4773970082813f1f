# kopilka: `make run` to try it, `make test` to check it.
# Python 3.11 when installed, else the machine's python3 (any version from 3.11 on).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEPLOYMENT ?= demo
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-fast bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml examples/kopilka-example-plugin/pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet -e examples/kopilka-example-plugin
	touch $(STAMP)

install: $(STAMP)

run: install
	KOPILKA_DEPLOYMENT=$(DEPLOYMENT) KOPILKA_LOG_FORMAT=console $(BIN)/kopilka serve --host $(HOST) --port $(PORT) --demo

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not browser and not slow" -x -q

bench: install
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check core plugins tests bench examples

clean:
	rm -rf $(VENV) var .pytest_cache
