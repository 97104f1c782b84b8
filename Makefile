# zeronas: `make run` sets up a local virtual environment and runs the main job; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH := torch==2.14.1 torchvision==0.29.1

.PHONY: run test test-slow lint

$(BIN)/zeronas: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e ".[export,predict]"
	touch $@

$(VENV)/.test-deps: $(BIN)/zeronas
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

run: $(BIN)/zeronas
	$(BIN)/zeronas run

test: $(VENV)/.test-deps
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/pytest -q -n 2 --timeout 900

test-slow: $(VENV)/.test-deps
	$(BIN)/pytest -q -m slow --timeout 7200

lint: $(VENV)/.test-deps
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
