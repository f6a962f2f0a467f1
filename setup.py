"""Build hook (the rest of the metadata is in pyproject.toml): the wheel carries the top-level prompts/, themes/,
fleet/ and models.json as fl_tui/data/. The repository keeps one copy at the top and no links, which a clone without
symlink support (Windows) would check out as small text files. The wheel also carries the demo models prebuilt in
fl_tui/data/demo-models/, so an install needs neither onnx nor tokenizers (the build does: [build-system] requires)."""

import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DATA = {"prompts": "*.json", "themes": "*.toml"}
# run from the checkout in a child: no fl_tui module left in the build's process, no __pycache__ in the checkout
PREBUILD = ("import sys, pathlib; from fl_tui.demo.install import build_prebuilt; "
            "build_prebuilt(pathlib.Path(sys.argv[1]))")


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        # an editable install reads the data from the checkout (core/resources.py) and builds the demo models on
        # first use (the demo-build extra)
        if self.editable_mode:
            return
        target = Path(self.build_lib, "fl_tui", "data")
        for folder, pattern in DATA.items():
            (target / folder).mkdir(parents=True, exist_ok=True)
            for path in sorted((ROOT / folder).glob(pattern)):
                shutil.copyfile(path, target / folder / path.name)
        shutil.copyfile(ROOT / "models.json", target / "models.json")
        shutil.copytree(ROOT / "fleet", target / "fleet", dirs_exist_ok=True)  # `fl-tui fleet run`'s playbook
        subprocess.run([sys.executable, "-B", "-c", PREBUILD, str(target)], cwd=ROOT, check=True)


setup(cmdclass={"build_py": BuildWithData})
