# labeltrain: `make run` opens the app on the bundled sample project, `make test` runs everything headless.
# Both create .venv when it is missing and reinstall only when pyproject.toml changes.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: setup run test lint wheel bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -e '.[dev]' 2>&1 | sed '/is ignored: it is neither a file nor a directory/d'
	@$(BIN)/python -c "import labeltrain, PySide6, ultralytics, torch, pytest" 
	@touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/labeltrain --sample

lint: setup
	$(BIN)/ruff check labeltrain tests bench tools
	$(BIN)/lint-imports

test: lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

wheel: setup
	$(BIN)/python -m build --wheel --no-isolation --outdir dist .

bench: setup
	@status=0; \
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/scan.py || status=1; \
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/editor.py || status=1; \
	exit $$status

clean:
	rm -rf $(VENV) dist build .pytest_cache .ruff_cache .hypothesis
