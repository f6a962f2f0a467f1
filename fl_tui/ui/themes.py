"""Themes are data files (same format everywhere): the current folder's themes/, the config dir's themes/, then the
ones shipped with it (core.resources.packaged_data)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from textual.theme import Theme

from fl_tui.core.errors import FileProblem
from fl_tui.core.resources import search_roots
from fl_tui.core.tomlfile import read_toml

FIELDS = {f.name for f in fields(Theme)}


def theme_files() -> list[Path]:
    folders = [r / "themes" for r in search_roots()]
    files: dict[str, Path] = {}
    for folder in folders:
        for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
            files.setdefault(path.name, path)  # the first folder wins: the current folder can override
    return list(files.values())


def load_theme(path: Path) -> Theme:
    _text, data = read_toml(path)
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        expected = ", ".join(sorted(FIELDS))
        raise FileProblem(path, f"unknown theme fields: {', '.join(unknown)} (expected some of: {expected})")
    if not isinstance(data.get("name"), str) or not isinstance(data.get("primary"), str):
        raise FileProblem(path, "a theme needs a string `name` and `primary` colour")
    try:
        theme = Theme(**data)
        theme.to_color_system()  # parses every colour now, not at the first repaint
    except (TypeError, ValueError) as exc:
        raise FileProblem(path, f"bad theme: {exc}") from exc
    return theme


def load_themes() -> tuple[list[Theme], list[FileProblem]]:
    themes, problems = [], []
    for path in theme_files():
        try:
            themes.append(load_theme(path))
        except FileProblem as exc:
            problems.append(exc)
    return themes, problems
