# Playground: `make run` serves the app, `make test` runs every check. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench install install-dev requirements clean

run: install
	$(BIN)/python manage.py migrate --noinput
	PORT=$(PORT) $(BIN)/python manage.py bootstrap
	@echo "Serving Playground on http://$(HOST):$(PORT)/"
	@# A burst of sockets connecting at once (1,000 in 5 s in bench/streams.py) takes longer
	@# than Daphne's default 5 s to accept them all; they wait instead of being dropped.
	$(BIN)/daphne -b $(HOST) -p $(PORT) --websocket_connect_timeout 30 playground.asgi:application

test: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m tests.run

bench: install-dev
	$(BIN)/python -m bench.run

install: $(VENV)/.installed node_modules/.installed

install-dev: install $(VENV)/.installed-dev

# Stamp files make second runs skip installs unless a requirements or lock file changed.
$(VENV)/.created:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed; set PYTHON=python3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	touch $@

$(VENV)/.installed: requirements.txt $(VENV)/.created
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.created
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# Recompile the hashed pins after editing requirements.in or requirements-dev.in. Pins already in
# the .txt files are kept; to move one, run the same pip-compile with --upgrade-package NAME.
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make requirements" $(BIN)/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links

requirements: install-dev
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --output-file requirements-dev.txt requirements-dev.in

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

clean:
	rm -rf $(VENV) node_modules staticfiles
