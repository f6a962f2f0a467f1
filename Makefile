# Two commands on a fresh machine: `make run` (set up, open the app) and `make test` (set up, run every test).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test test-windows lint bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("fl-tui needs Python >= 3.11, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

# Re-install whenever pyproject.toml changes; the stamps remember what was installed.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[test]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/fl-tui

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

# tests/test_web.py drives a real headless Chromium: installed here only where missing and apt can (root, online);
# otherwise that one test skips, and `make test` carries on
test: lint
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && apt-get install -y -q chromium >/dev/null 2>&1; } || \
	  echo "no Chromium: the browser test will skip"
	$(BIN)/python -m pytest

# The headless suite and an end-to-end bench under the real Windows CPython in Wine, from the built wheel; sets up
# Wine where apt can, otherwise says "skipped" and why (.ci/windows/lane.sh)
test-windows: $(VENV)/.installed-test
	bash .ci/windows/lane.sh

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info
