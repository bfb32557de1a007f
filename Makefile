# The README's two commands:
#   make demo   - create .venv, install Gannet, run the end-to-end demo on the embedded default
#   make test   - create .venv, install Gannet with test extras, run ruff, import-linter, mypy,
#                 pytest
# `.ci/run` calls `make test`.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[sklearn,plots,serving]"
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[test]"
	touch $@ $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(BIN)/python examples/quickstart.py

test: $(VENV)/.test-installed
	bash tools/ensure-services.sh
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

bench:
	$(PYTHON) -m venv bench/.venv
	bench/.venv/bin/pip install -q -e ".[all]" -r bench/requirements.txt
	$(PYTHON) -m venv bench/.venv-mlserver
	bench/.venv-mlserver/bin/pip install -q mlserver==1.7.1 mlserver-sklearn==1.7.1 "uvloop<0.22"  # 1.7.1 breaks on uvloop 0.22+
	bench/.venv/bin/python bench/tracking.py
	bench/.venv/bin/python bench/artifacts.py
	bench/.venv/bin/python bench/models.py
	bench/.venv/bin/python bench/serving.py
	bench/.venv/bin/python bench/inference_log.py

clean:
	rm -rf $(VENV) bench/.venv .gannet
