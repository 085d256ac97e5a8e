# Two commands on a fresh machine:  make serve   |   make test
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: serve test test-unit test-integration system-deps loadtest clean accuracy bench samples cluster-autoscale \
	kuberay-manifest docs docs-serve lint format catalogs

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip wheel
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian packages the tests use: espeak-ng (speech with known words), postgresql (the key store at scale), chromium
# (the dashboard's browser tests) and redis-server (the jobs' production broker).
system-deps:
	@bash scripts/install-system-deps.sh

serve: $(STAMP)
	$(PY) -m softskills.cli.main serve

test: $(STAMP) system-deps
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q

test-unit: $(STAMP)
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q -m "not integration"

# The linter's rules and the formatter are in pyproject.toml ([tool.ruff]); tests/test_lint.py runs the same checks.
# `make format` rewrites the code as the formatter wants it.
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

test-integration: $(STAMP) system-deps
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q -m integration

clean:
	rm -rf $(VENV) tests/.fixtures .pytest_cache

# Accuracy of the metrics on a labelled set (benchmarks/labelled_set.py) through the running service; the table
# is in docs/accuracy.md. ACCURACY_ARGS=--strict fails when a target is missed.
accuracy: $(STAMP) system-deps
	flock /tmp/softskills-ray.lock env HF_HUB_OFFLINE=1 $(PY) -m benchmarks.accuracy $(ACCURACY_ARGS)
	HF_HUB_OFFLINE=1 $(PY) -m benchmarks.speakers_accuracy

# Performance: every stage alone and the whole request through the running service, on 30 s, 60 s and 10 min
# 720p clips; the tables are in docs/benchmarks.md. BENCH_ARGS, e.g. --videos 30 60 --replicas 1 2 4.
bench: $(STAMP) system-deps
	flock /tmp/softskills-ray.lock env HF_HUB_OFFLINE=1 $(PY) -m benchmarks.bench $(BENCH_ARGS)

# Load test (docs/load-test.md): starts the service on a free port, runs loadtest/locustfile.py headless and fails
# when the failure ratio or p95 latency is over its threshold. LOADTEST_ARGS="--users 4 --duration 5m" to change.
loadtest: $(STAMP) system-deps
	flock /tmp/softskills-ray.lock env HF_HUB_OFFLINE=1 $(PY) -m loadtest.run $(LOADTEST_ARGS)

# The message catalogs of the answer's sentences (docs/translating.md): the English messages extracted from the code
# into the template, merged into every language's catalog. New messages arrive untranslated (tests/test_catalogs.py
# fails until they are translated); changed ones arrive fuzzy, for a translator to check.
LOCALES := models/i18n/locales
catalogs: $(STAMP)
	$(VENV)/bin/pybabel extract -F pyproject.toml --project=softskills --add-location=file --sort-output -w 120 \
		-o $(LOCALES)/softskills.pot models storage
	$(VENV)/bin/pybabel update -i $(LOCALES)/softskills.pot -d $(LOCALES) -D softskills -w 120 --ignore-obsolete

# docs/real-output.md and docs/sample-*.json, regenerated from the running service (benchmarks/samples.py).
samples: $(STAMP) system-deps
	flock /tmp/softskills-ray.lock env HF_HUB_OFFLINE=1 $(PY) -m benchmarks.samples

# Autoscaling on a multi-node Ray cluster (docs/cluster.md): a head and two workers on
# this machine, a load burst, and the speech and face replica counts printed every second until they are back down.
cluster-autoscale: $(STAMP) system-deps
	flock /tmp/softskills-ray.lock env HF_HUB_OFFLINE=1 $(PY) -m benchmarks.cluster_autoscale $(AUTOSCALE_ARGS)

# deploy/kuberay/rayservice.yaml's serveConfigV2, rewritten from serve_config.yaml (tests/test_kuberay_manifest.py
# fails while they differ).
kuberay-manifest:
	$(PYTHON) scripts/sync_kuberay.py

# The documentation site (mkdocs.yml, docs/) into build/site, strictly: a broken link or anchor fails it. The API
# and configuration references are generated from the code (scripts/docs_hooks.py).
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

# The same, served with live reload on http://127.0.0.1:8001.
docs-serve: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs serve --strict --dev-addr 127.0.0.1:8001
