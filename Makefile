# labeltrain: `make run` opens the app on the bundled sample project, `make test` runs everything headless.
# Both create .venv when it is missing and reinstall only when pyproject.toml changes.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: setup run test lint wheel bench bench-mining clean tfjs-env

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -e '.[dev]' 2>&1 | sed '/is ignored: it is neither a file nor a directory/d'
	@$(BIN)/python -c "import labeltrain, PySide6, ultralytics, torch, pytest" 
	@touch $(STAMP)

# The TF.js / TFLite converter environment (docs/ARCHITECTURE.md, "Export"): its own venv because the TensorFlow
# stack downgrades numpy/onnx/protobuf; Debian's chromium and the npm packages (tfjs, playwright-core) for the
# in-browser verification. Exact pins in packaging/tfjs/; a stamp makes it a no-op when they have not changed.
TFJS_ENV   := .venv-tfjs
TFJS_PKG   := packaging/tfjs
TFJS_STAMP := $(TFJS_ENV)/.installed-stamp
TFJS_PIP   := $(TFJS_ENV)/bin/python -m pip --disable-pip-version-check -q
CHROMIUM   := /usr/bin/chromium
SUDO       := $(shell test "$$(id -u)" = 0 || echo sudo)

$(TFJS_STAMP): $(TFJS_PKG)/requirements.txt $(TFJS_PKG)/constraints.txt $(TFJS_PKG)/requirements-nodeps.txt \
               $(TFJS_PKG)/package.json $(TFJS_PKG)/package-lock.json $(TFJS_PKG)/check_env.py
	@rm -f $(TFJS_STAMP)
	@test -x $(TFJS_ENV)/bin/python || $(PYTHON) -m venv $(TFJS_ENV)
	$(TFJS_PIP) install -r $(TFJS_PKG)/requirements.txt -c $(TFJS_PKG)/constraints.txt 2>&1 \
	  | sed '/is ignored: it is neither a file nor a directory/d'
	$(TFJS_PIP) install --no-deps -r $(TFJS_PKG)/requirements-nodeps.txt 2>&1 \
	  | sed '/is ignored: it is neither a file nor a directory/d'
	$(TFJS_ENV)/bin/python $(TFJS_PKG)/check_env.py
	@command -v npm >/dev/null || { echo "tfjs-env: npm (Node.js) is needed: apt-get install nodejs npm" >&2; exit 1; }
	mkdir -p $(TFJS_ENV)/node
	cp $(TFJS_PKG)/package.json $(TFJS_PKG)/package-lock.json $(TFJS_ENV)/node/
	cd $(TFJS_ENV)/node && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@test -f $(TFJS_ENV)/node/node_modules/@tensorflow/tfjs/dist/tf.min.js
	@touch $(TFJS_STAMP)

$(CHROMIUM):
	$(SUDO) apt-get update -q
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium
	@test -x $(CHROMIUM)

tfjs-env: $(TFJS_STAMP) $(CHROMIUM)

setup: $(STAMP)

run: setup
	$(BIN)/labeltrain --sample

lint: setup
	$(BIN)/ruff check labeltrain tests bench tools
	$(BIN)/lint-imports

test: lint tfjs-env
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

wheel: setup
	$(BIN)/python -m build --wheel --no-isolation --outdir dist .

# Every benchmark but label-error mining (trains 4 models: ~12 min on 2 cores): `make bench-mining`.
bench: setup
	@status=0; \
	for b in scan editor qa preview_latency ui_stall train_overhead export; do \
	  echo "== bench/$$b.py"; QT_QPA_PLATFORM=offscreen $(BIN)/python bench/$$b.py || status=1; \
	done; \
	exit $$status

bench-mining: setup
	$(BIN)/python bench/error_mining.py

clean:
	rm -rf $(VENV) dist build .pytest_cache .ruff_cache .hypothesis
