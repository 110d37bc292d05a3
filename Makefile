# Two commands do all the set-up on a fresh machine (Python 3.11 and pip):
#   make report   install everything, run the main job (manualbp report), write reports/
#   make test     install everything the tests need, run the tests
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: report test test-thorough bench lint browser clean

report: $(STAMP)
	$(VENV)/bin/manualbp report

test: $(STAMP) browser
	$(PY) -m pytest -n 2

test-thorough: $(STAMP)
	MANUALBP_HYPOTHESIS_PROFILE=thorough $(PY) -m pytest -n 2 tests/test_properties.py

bench: $(STAMP)
	$(PY) -m benchmarks

lint: $(STAMP)
	$(VENV)/bin/ruff check .

$(STAMP): pyproject.toml requirements/dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c requirements/dev.txt -e ".[dev]"
	touch $(STAMP)

# Headless Chromium (Debian's) for the HTML report test; skipped silently when not root.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium not installed: the browser test will be skipped"; }

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache build *.egg-info
