# The two set-up commands of the README: `make run` and `make test`.
# Each creates the local virtualenv .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test bench clean dist

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,bench,dist]'
	touch $@

run: $(VENV)/.installed
	$(PY) run.py

test: $(VENV)/.installed
	$(PY) -m pytest -q

# The one-file release: dist/connect-worker, a zipapp for any Python 3.11 (README: Installing on a VM).
dist: $(VENV)/.installed
	$(PY) deploy/build.py --output dist/connect-worker

clean:
	rm -rf $(VENV) data .pytest_cache .hypothesis dist
