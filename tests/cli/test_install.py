"""The package installs anywhere: the wheel carries its prompt sets, rubric scale, themes, models.json and the demo
models prebuilt, and an installed copy run from a folder outside the checkout finds them.

To stay fast and offline the installed copy is fl-tui alone (`pip install --no-deps --target`), run by the Python
of a venv that links to this venv's packages except onnx and tokenizers (the demo-build extra, which an install
no longer needs), so its dependencies come from this venv while `fl_tui` itself comes from the wheel (checked, not
assumed).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO

from fl_tui.demo.build import DEMO_MODELS
from fl_tui.demo.install import BUILD_NEEDS, PREBUILT, STAMP

DATA = ["models.json", "prompts/_scale.json", "prompts/default.json", "prompts/quick.json",
        "themes/fl-ansi.toml", "themes/fl-dark.toml", "themes/fl-light.toml",
        "fleet/playbook.yml", "fleet/roles/fl_tui_bench/tasks/main.yml"]  # `fl-tui fleet run`'s playbook


def test_the_repository_holds_no_symlinks():
    """A Windows clone without symlink support would check a link out as a small text file: the top-level
    prompts/, themes/ and models.json are the files themselves, and setup.py copies them into the wheel."""
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(["git", "ls-files", "-s"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    links = [line.split("\t", 1)[1] for line in listed.splitlines() if line.startswith("120000 ")]
    assert not links, links
    for name in ("prompts", "themes", "models.json"):
        assert (REPO / name).exists() and not (REPO / name).is_symlink(), name


def test_packaged_data_is_found_from_an_empty_folder(tmp_path, monkeypatch):
    from fl_tui.core import resources
    from fl_tui.models.specs import load_specs
    from fl_tui.ui import themes

    monkeypatch.chdir(tmp_path)
    data = resources.packaged_data()
    assert [d.parent for d in resources.prompt_dirs()] == [data.resolve()]
    assert resources.find_prompt_set("default") == data.resolve() / "prompts" / "default.json"
    assert "fl-demo-fast" in load_specs()
    assert sorted(p.stem for p in themes.theme_files()) == ["fl-ansi", "fl-dark", "fl-light"]


def test_user_files_take_precedence_over_the_packaged_ones(tmp_path, monkeypatch):
    from fl_tui.core import locations, resources
    from fl_tui.ui import themes

    monkeypatch.chdir(tmp_path)
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "default.json").write_text('["mine"]', encoding="utf-8")
    user_themes = locations.config_dir() / "themes"
    user_themes.mkdir(parents=True, exist_ok=True)
    mine = user_themes / "fl-dark.toml"
    mine.write_text('name = "fl-dark"\nprimary = "#ff0000"\n', encoding="utf-8")
    try:
        assert resources.find_prompt_set("default") == tmp_path.resolve() / "prompts" / "default.json"
        assert mine.resolve() in [p.resolve() for p in themes.theme_files()]
    finally:
        mine.unlink()


@dataclass(frozen=True)
class Installed:
    wheel: Path
    site: Path  # the wheel's files (pip --target), first on PYTHONPATH
    python: Path  # a venv's Python without the demo-build extra's packages


def without_build_packages(folder: Path) -> Path:
    """A venv whose site-packages links to every package of this one but onnx, tokenizers and the checkout's
    editable fl_tui: the packages a user's venv holds after `pip install fl_tui-*.whl`. Returns its Python."""
    venv.EnvBuilder(with_pip=False, symlinks=True).create(folder)
    ours = Path(sysconfig.get_paths()["purelib"])
    theirs = folder / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    left_out = {f.parts[0] for name in BUILD_NEEDS for f in importlib.metadata.distribution(name).files or ()}
    for entry in ours.iterdir():
        if entry.name not in left_out and not entry.name.startswith(("fl_tui", "__editable__")):
            (theirs / entry.name).symlink_to(entry)
    return folder / "bin" / "python"


def folder_digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    """The wheel built from a copy of the checkout (the build leaves nothing in it), installed alone."""
    work = tmp_path_factory.mktemp("install")
    src = work / "src"
    shutil.copytree(REPO, src, symlinks=True,
                    ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__", "tests"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-cache-dir", "-q"]
    env = {**os.environ, "HOME": str(work / "home")}  # pip's own helpers write dot-folders into HOME
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(work / "dist"), str(src)],
                   check=True, capture_output=True, timeout=300, env=env)
    (wheel,) = (work / "dist").glob("fl_tui-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    missing = [d for d in DATA if f"fl_tui/data/{d}" not in names]
    assert not missing, f"the wheel lacks {missing}"
    assert "fl_tui/ui/web/templates/index.html" in names  # `fl-tui web`'s page
    for spec in DEMO_MODELS:
        files = {n.rsplit("/", 1)[1] for n in names if n.startswith(f"fl_tui/data/{PREBUILT}/{spec.name}/")}
        assert files == {"model.onnx", "genai_config.json", "tokenizer.json", "tokenizer_config.json", STAMP}, files
    target = work / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300, env=env)
    return Installed(wheel, target, without_build_packages(work / "venv"))


def run_installed(installed: Installed, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    # as on a user's machine: no FL_TUI_ENDPOINT=embedded from the suite, the endpoint is found as fl-tui finds it
    env = {**os.environ, "PYTHONPATH": str(installed.site), "FL_TUI_HOME": str(cwd / ".fl-tui"), "FL_TUI_ENDPOINT": ""}
    return subprocess.run([str(installed.python), str(installed.site / "bin" / "fl-tui"), *args],
                          capture_output=True, text=True, timeout=180, cwd=cwd, env=env)


def test_installed_copy_is_the_wheel_not_the_checkout(installed, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(installed.site)}
    code = ("import fl_tui, fl_tui.ui.themes as t; print(fl_tui.__file__); "
            "print(sorted(p.stem for p in t.theme_files()))")
    out = subprocess.run([str(installed.python), "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env,
                         check=True).stdout.splitlines()
    assert Path(out[0]).is_relative_to(installed.site)
    assert out[1] == "['fl-ansi', 'fl-dark', 'fl-light']"


def test_the_install_needs_neither_onnx_nor_tokenizers(installed, tmp_path):
    """The wheel asks for them only in its extras, and the Python that runs the installed copy here cannot import
    them, so the tests below run fl-tui as a plain `pip install fl_tui-*.whl` leaves it."""
    with zipfile.ZipFile(installed.wheel) as zf:
        (metadata,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        requires = [line for line in zf.read(metadata).decode().splitlines() if line.startswith("Requires-Dist:")]
    for name in BUILD_NEEDS:
        theirs = [line for line in requires if line.split()[1].startswith(name)]
        assert theirs and all("extra ==" in line for line in theirs), theirs
        imported = subprocess.run([str(installed.python), "-c", f"import {name}"], capture_output=True, text=True,
                                  cwd=tmp_path)
        assert imported.returncode != 0 and "ModuleNotFoundError" in imported.stderr, imported.stderr


def test_installed_bench_runs_from_an_unrelated_folder(installed, tmp_path, served):
    """The default prompt set and models.json come from the package: the models.json models the endpoint has
    cached are benchmarked with the `default` prompts."""
    listed = run_installed(installed, tmp_path, "--endpoint", served.url, "models", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    caps = {m["alias"]: m["capabilities"] for m in json.loads(listed.stdout)}
    assert caps["fl-demo-fast"] == ["chat", "demo"]
    out = tmp_path / "run"
    result = run_installed(installed, tmp_path, "--endpoint", served.url, "bench", "--rounds", "1", "--warmup", "0",
                           "--max-tokens", "4", "--out", str(out))
    assert result.returncode == 0, result.stderr
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["settings"]["prompt_set"] == "default"
    assert {m["spec"].get("capabilities", [None])[0] for m in run["models"]} == {"chat"}
    assert all(m["status"] == "ok" for m in run["models"])


async def test_the_app_from_an_empty_folder_has_prompt_sets_capabilities_and_its_themes(embedded, tmp_path,
                                                                                         monkeypatch):
    """What a wheel user sees: the Benchmark tab's prompt sets and Ctrl+T's themes come from the package."""
    from waiting import settled

    from fl_tui.core.config import Settings
    from fl_tui.core.resources import prompt_sets
    from fl_tui.models.specs import load_specs
    from fl_tui.ui.app import FlTuiApp

    monkeypatch.chdir(tmp_path)
    assert list(prompt_sets()) == ["default", "quick"]
    specs = load_specs()
    assert specs["fl-demo-fast"].capabilities == ["chat", "demo"]
    app = FlTuiApp(lambda: embedded, settings=Settings(theme="fl-dark"), settings_path=tmp_path / "c.toml",
                   specs=specs)
    seen = []
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        for _ in range(3):
            seen.append(app.theme)
            await pilot.press("ctrl+t")
            await settled(pilot)
    assert seen == ["fl-dark", "fl-light", "fl-ansi"]  # only the shipped themes, not Textual's own


def test_installed_copy_works_on_its_own_from_an_empty_folder(installed, tmp_path):
    """The issue's first contact: no endpoint, nothing but the installed package. The embedded runtime installs
    the demo models the wheel carries, and bench picks models.json's models with the `default` set."""
    from fl_tui.connection.resolve import DEFAULT_SERVICE, listening

    if listening(*DEFAULT_SERVICE) or shutil.which("foundry"):
        pytest.skip("a service on 127.0.0.1:5273 or a foundry CLI here: fl-tui would use it, not the runtime")
    status = run_installed(installed, tmp_path, "status")
    assert status.returncode == 0, status.stderr
    assert "embedded runtime (default)" in status.stdout
    for spec in DEMO_MODELS:  # the wheel's prebuilt models, copied: nothing here could have built them
        copied = tmp_path / ".fl-tui" / "data" / "demo-models" / spec.name
        assert folder_digest(copied) == folder_digest(installed.site / "fl_tui" / "data" / PREBUILT / spec.name)
    out = tmp_path / "run"
    result = run_installed(installed, tmp_path, "bench", "--rounds", "1", "--warmup", "0", "--max-tokens", "4",
                           "--out", str(out))
    assert result.returncode == 0, result.stderr
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["settings"]["prompt_set"] == "default" and run["backend"] == "embedded"
    assert {m["requested_as"] for m in run["models"]} == {"fl-demo-fast", "fl-demo-slow"}
