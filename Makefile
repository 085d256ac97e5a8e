# Two commands on a fresh machine:  make serve   |   make test
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: serve test test-unit test-integration system-deps loadtest clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip wheel
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian packages the tests use: espeak-ng (speech with known words) and postgresql (the key store at scale).
system-deps:
	@bash scripts/install-system-deps.sh

serve: $(STAMP)
	$(PY) -m deployments.local

test: $(STAMP) system-deps
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q

test-unit: $(STAMP)
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q -m "not integration"

test-integration: $(STAMP) system-deps
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q -m integration

clean:
	rm -rf $(VENV) tests/.fixtures .pytest_cache
