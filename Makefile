# The README's two commands:
#   make demo   - create .venv, install Gannet, run the end-to-end demo on the embedded default
#   make test   - create .venv, install Gannet with test extras (pinned by constraints/test.txt),
#                 run ruff, import-linter, mypy and every test on $(PYTHON); then, on each of
#                 OTHER_PYTHONS that is installed (PATH or pyenv; each in its own
#                 .venv-pythonX.Y), the tests that can differ by Python: all but the slow
#                 ones and the repeats of a test on PostgreSQL or through the team server
#                 (what a database or the HTTP transport does does not change with Python)
# `.ci/run` calls `make test`. `make test PYTHON=python3.13` runs it all on 3.13.

PYTHON ?= python3
OTHER_PYTHONS ?= python3.12 python3.13
PY := $(shell bash tools/find-python.sh $(PYTHON))
VENV ?= $(if $(filter python3,$(PYTHON)),.venv,.venv-$(PYTHON))
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: demo test test-suite test-other-pythons bench clean

$(BIN)/python:
	@test -n "$(PY)" || { echo "no $(PYTHON) here (not on the PATH, not in pyenv)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.demo-installed: pyproject.toml Makefile | $(BIN)/python  # Makefile: the extras
	$(BIN)/pip install -q -e ".[sklearn,plots,serving,data,pipelines,monitoring]"
	touch $@

$(VENV)/.test-installed: pyproject.toml constraints/test.txt | $(BIN)/python
	$(BIN)/pip install -q -e ".[test]" -c constraints/test.txt
	touch $@ $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(BIN)/python examples/quickstart.py

test: $(VENV)/.test-installed
	bash tools/ensure-services.sh
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(MAKE) --no-print-directory test-suite
	$(MAKE) --no-print-directory test-other-pythons

test-suite: $(VENV)/.test-installed
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider --durations=20 $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

test-other-pythons:
	@main=$$($(PY) -c 'import sys; print(sys.version_info[:2])'); \
	for py in $(OTHER_PYTHONS); do \
	  exe=$$(bash tools/find-python.sh $$py) || { \
	    echo "$$py is not installed here: not tested on it"; continue; }; \
	  if [ "$$($$exe -c 'import sys; print(sys.version_info[:2])')" = "$$main" ]; then continue; fi; \
	  echo "== the tests on $$py (without the slow ones and the PostgreSQL and remote repeats)"; \
	  $(MAKE) --no-print-directory test-suite PYTHON=$$py VENV=.venv-$$py \
	    PYTEST_ARGS='-q -m "not slow" -k "not postgresql and not remote"' || exit 1; \
	done

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
	bench/.venv/bin/python bench/explain.py
	bench/.venv/bin/python bench/validation.py
	bench/.venv/bin/python bench/features.py
	bench/.venv/bin/python bench/pipelines.py
	bench/.venv/bin/python bench/data.py
	bench/.venv/bin/python bench/monitoring.py
	bench/.venv/bin/python bench/ui.py

clean:
	rm -rf .venv .venv-python3.* bench/.venv bench/.venv-mlserver .gannet
