"""The package installs anywhere: the wheel carries its prompt sets, rubric scale, themes and models.json, and an
installed copy run from a folder outside the checkout finds them.

To stay fast the installed copy is fl-tui alone (`pip install --no-deps --target`), run by this venv's Python, so
its dependencies come from the venv while `fl_tui` itself comes from the wheel (checked, not assumed).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO

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


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
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
    target = work / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300, env=env)
    return target


def run_installed(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    # as on a user's machine: no FL_TUI_ENDPOINT=embedded from the suite, the endpoint is found as fl-tui finds it
    env = {**os.environ, "PYTHONPATH": str(site), "FL_TUI_HOME": str(cwd / ".fl-tui"), "FL_TUI_ENDPOINT": ""}
    return subprocess.run([str(site / "bin" / "fl-tui"), *args], capture_output=True, text=True, timeout=180,
                          cwd=cwd, env=env)


def test_installed_copy_is_the_wheel_not_the_checkout(installed, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(installed)}
    code = ("import fl_tui, fl_tui.ui.themes as t; print(fl_tui.__file__); "
            "print(sorted(p.stem for p in t.theme_files()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env,
                         check=True).stdout.splitlines()
    assert Path(out[0]).is_relative_to(installed)
    assert out[1] == "['fl-ansi', 'fl-dark', 'fl-light']"


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
    """The issue's first contact: no endpoint, nothing but the installed package. The embedded runtime builds the
    demo models from the package's own corpus, and bench picks models.json's models with the `default` set."""
    from fl_tui.connection.resolve import DEFAULT_SERVICE, listening

    if listening(*DEFAULT_SERVICE) or shutil.which("foundry"):
        pytest.skip("a service on 127.0.0.1:5273 or a foundry CLI here: fl-tui would use it, not the runtime")
    status = run_installed(installed, tmp_path, "status")
    assert status.returncode == 0, status.stderr
    assert "embedded runtime (default)" in status.stdout
    out = tmp_path / "run"
    result = run_installed(installed, tmp_path, "bench", "--rounds", "1", "--warmup", "0", "--max-tokens", "4",
                           "--out", str(out))
    assert result.returncode == 0, result.stderr
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["settings"]["prompt_set"] == "default" and run["backend"] == "embedded"
    assert {m["requested_as"] for m in run["models"]} == {"fl-demo-fast", "fl-demo-slow"}
