"""Where fl-tui keeps its files: platformdirs locations, or everything under FL_TUI_HOME when it is set.

FL_TUI_HOME exists so tests, demos and portable installs can keep every byte in one folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "fl-tui"


def _home() -> Path | None:
    home = os.environ.get("FL_TUI_HOME")
    return Path(home).expanduser() if home else None


def config_dir() -> Path:
    home = _home()
    return home / "config" if home else platformdirs.user_config_path(APP, appauthor=False)


def data_dir() -> Path:
    home = _home()
    return home / "data" if home else platformdirs.user_data_path(APP, appauthor=False)


def state_dir() -> Path:
    """What the app remembers between sessions (the last Benchmark set-up): not the person's config."""
    home = _home()
    return home / "state" if home else platformdirs.user_state_path(APP, appauthor=False)


def personal_state_dir() -> Path:
    """What one person's app remembers (the last Benchmark set-up): the state dir, or in a `fl-tui web` room the
    person's own folder (FL_TUI_PERSON_STATE). What app processes share (the endpoint locks) stays in state_dir."""
    given = os.environ.get("FL_TUI_PERSON_STATE")
    return Path(given).expanduser() if given else state_dir()


def config_file() -> Path:
    return config_dir() / "config.toml"


def runtime_dir() -> Path:
    """The embedded runtime's own app-data and log folders live here, never in ~/.<app_name>."""
    return data_dir() / "runtime"


def default_model_cache() -> Path:
    return data_dir() / "models"


def demo_models_dir() -> Path:
    return data_dir() / "demo-models"


def runs_dir() -> Path:
    return data_dir() / "runs"
