# protobench: `make demo` runs the protocol comparison, `make test` runs the whole suite.
# Both create .venv and install what they need on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test check format proto system-deps web-assets clean

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "protobench needs Python >= 3.11; set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test,ui]'
	@touch $(STAMP)

# GraphiQL's scripts from the npm registry, so /graphql works offline (optional for the demo)
web-assets: $(STAMP)
	@$(PY) -m servers.graphiql_assets || echo "protobench: GraphiQL will load its scripts from unpkg (install npm for an offline GraphiQL)"

demo: $(STAMP) web-assets
	$(VENV)/bin/protobench demo

system-deps:
	bash scripts/install-system-deps.sh

# Most tests wait on servers they start, so they run in parallel (pytest-xdist; a file's tests
# stay on one worker so its servers start once, see tests/conftest.py); tests that judge speed
# or timing (marked `serial`) run afterwards, alone on the machine.
TEST_WORKERS ?= 4
# Both runs use the models trained once (about 20 s of CPU), afresh for each `make test`.
TEST_MODELS := $(CURDIR)/var/test-models

test: $(STAMP) system-deps check
	$(PY) -m servers.graphiql_assets
	rm -rf $(TEST_MODELS)
	@status=0; export PROTOBENCH_TEST_MODELS=$(TEST_MODELS); \
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not serial" --durations=30 || status=1; \
	$(PY) -m pytest -m serial --durations=30 || status=1; \
	exit $$status

check: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

proto: $(STAMP)
	$(PY) -m protobench.codegen

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache var
