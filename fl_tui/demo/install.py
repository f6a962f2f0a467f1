"""Build the demo models into the user data dir on first use, and again whenever the recipe changes."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
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


def ensure_built(folder: Path, digest: str, build: Callable[[Path], object]) -> Path:
    """`folder`, built by `build(tmp)` when it is missing or its stamp is not `digest`: into a temporary folder
    beside it, stamped, then swapped in, so a crash mid-build never leaves a stamped half-built model. A failed
    build's temporary folder is removed and its exception raised."""
    stamp = folder / STAMP
    if stamp.exists() and stamp.read_text(encoding="utf-8") == digest:
        return folder
    tmp = folder.with_name(f".{folder.name}.building")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        build(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    (tmp / STAMP).write_text(digest, encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    return folder


def ensure_demo_models(root: Path) -> list[tuple[DemoSpec, Path]]:
    """Return each demo model's folder under `root`, building the missing or stale ones (~0.2 s each)."""
    return [(spec, ensure_built(root / spec.name, recipe_digest(spec), lambda tmp, spec=spec:
                                build_demo_model(spec, tmp)))
            for spec in DEMO_MODELS]
