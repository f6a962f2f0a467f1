"""Build the demo models into the user data dir on first use, and again whenever the recipe changes."""

from __future__ import annotations

import hashlib
import shutil
from importlib import resources
from pathlib import Path

from fl_tui.demo.build import DEMO_MODELS, DemoSpec, build_demo_model

STAMP = ".fl-tui-recipe"


def recipe_digest(spec: DemoSpec) -> str:
    """Changes when the builder, the corpus or the spec changes, so stale demo models get rebuilt."""
    h = hashlib.sha256(repr(spec).encode())
    for name in ("build.py", "corpus.txt"):
        h.update(resources.files("fl_tui.demo").joinpath(name).read_bytes())
    return h.hexdigest()[:16]


def ensure_demo_models(root: Path) -> list[tuple[DemoSpec, Path]]:
    """Return each demo model's folder under `root`, building the missing or stale ones (~0.2 s each)."""
    out = []
    for spec in DEMO_MODELS:
        folder = root / spec.name
        digest = recipe_digest(spec)
        stamp = folder / STAMP
        if not (stamp.exists() and stamp.read_text(encoding="utf-8") == digest):
            tmp = root / f".{spec.name}.building"
            shutil.rmtree(tmp, ignore_errors=True)
            build_demo_model(spec, tmp)
            (tmp / STAMP).write_text(digest, encoding="utf-8")
            shutil.rmtree(folder, ignore_errors=True)
            tmp.rename(folder)
        out.append((spec, folder))
    return out
