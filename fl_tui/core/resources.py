"""Where the data files are found: the current folder first, then the user config dir, then the copies shipped
with the install (fl_tui/data in a wheel; a checkout's top-level prompts/, themes/ and models.json). A person can
keep their own prompt sets, themes and models.json in either of the first two, and an installed wheel still finds
its defaults from any folder."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fl_tui.core import locations
from fl_tui.core.errors import UserError


def packaged_data() -> Path:
    """The data the install carries: fl_tui/data in a wheel (setup.py copies it there from the top of the
    checkout), else the checkout's top level, where an editable install runs from. setuptools installs packages
    as plain folders, so this is a real path."""
    package = Path(str(resources.files("fl_tui")))
    shipped = package / "data"
    return shipped if shipped.is_dir() else package.parent


def search_roots() -> list[Path]:
    """Earlier roots win: a file in the current folder overrides the config dir's, which overrides the shipped one."""
    roots = [Path.cwd(), locations.config_dir(), packaged_data()]
    return list(dict.fromkeys(r.resolve() for r in roots))


def prompt_dirs() -> list[Path]:
    return [r / "prompts" for r in search_roots() if (r / "prompts").is_dir()]


def find_prompt_set(name_or_path: str) -> Path:
    """A path to a JSON file, or the name of a set in one of the prompt folders (`default`, `quick`)."""
    path = Path(name_or_path).expanduser()
    if path.suffix == ".json" or path.exists():
        if not path.is_file():
            raise UserError(f"{path}: no such prompt file")
        return path
    sets = prompt_sets()
    if name_or_path in sets:
        return sets[name_or_path]
    raise UserError(f"no prompt set named {name_or_path!r}; known: {', '.join(sets) or 'none'}")


def prompt_sets() -> dict[str, Path]:
    """Every prompt set by name, sorted; for a name in several folders, the earlier folder's file."""
    from fl_tui.core.prompts import list_prompt_sets  # with pydantic models and checks: not for models.json's path

    found: dict[str, Path] = {}
    for folder in prompt_dirs():
        for path in list_prompt_sets(folder):
            found.setdefault(path.stem, path)
    return dict(sorted(found.items()))
