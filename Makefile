# ailedger: `make demo` runs the whole pipeline on the embedded default; `make test` runs the suite.
# Both set everything up from a fresh clone: virtualenv, dependencies, broker (started by the
# demo and by the test setup themselves), embedded ClickHouse.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test test-fast test-tansu bench browser clean up

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/ailedger demo

up: install
	$(VENV)/bin/ailedger up

# Headless Chromium for the dashboard test (Debian packages; skipped where apt is unavailable).
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
	      || echo "warning: could not install chromium; the browser test will be skipped"; \
	  else echo "note: chromium not installed; the browser test will be skipped"; fi; \
	fi

test: install browser
	$(PY) -m pytest -q -p no:cacheprovider

test-fast: install
	$(PY) -m pytest -q -m "not integration"

bench: install
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) .ailedger .pytest_cache

# The integration tests against a second, independent Kafka implementation (Tansu).
test-tansu: install
	AILEDGER_TEST_BROKER=tansu $(PY) -m pytest -q -p no:cacheprovider -m integration
