"""Build hook (the rest of the metadata is in pyproject.toml): the wheel carries the top-level prompts/, themes/,
fleet/ and models.json as fl_tui/data/. The repository keeps one copy at the top and no links, which a clone without
symlink support (Windows) would check out as small text files."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DATA = {"prompts": "*.json", "themes": "*.toml"}


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads them from the checkout (core/resources.py)
            return
        target = Path(self.build_lib, "fl_tui", "data")
        for folder, pattern in DATA.items():
            (target / folder).mkdir(parents=True, exist_ok=True)
            for path in sorted((ROOT / folder).glob(pattern)):
                shutil.copyfile(path, target / folder / path.name)
        shutil.copyfile(ROOT / "models.json", target / "models.json")
        shutil.copytree(ROOT / "fleet", target / "fleet", dirs_exist_ok=True)  # `fl-tui fleet run`'s playbook


setup(cmdclass={"build_py": BuildWithData})
