"""Put the demo models into the user data dir on first use, and again whenever the recipe changes: copied from
the wheel, which carries them prebuilt (setup.py), or built here from a checkout, which needs the `demo-build`
extra's onnx and tokenizers."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from fl_tui.core.errors import UserError
from fl_tui.demo.build import DEMO_MODELS, DemoSpec, build_demo_model

STAMP = ".fl-tui-recipe"
PREBUILT = "demo-models"  # the wheel's fl_tui/data/demo-models/<name>/, stamped like a built folder
BUILD_NEEDS = ("onnx", "tokenizers")


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
    if is_current(folder, digest):
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


def is_current(folder: Path, digest: str) -> bool:
    stamp = folder / STAMP
    return stamp.exists() and stamp.read_text(encoding="utf-8") == digest


def build_prebuilt(data: Path) -> None:
    """Build every demo model, stamped, into `data`/demo-models: setup.py's step that puts them into the wheel."""
    for spec in DEMO_MODELS:
        ensure_built(data / PREBUILT / spec.name, recipe_digest(spec),
                     lambda tmp, spec=spec: build_demo_model(spec, tmp))


def ensure_demo_models(root: Path, prebuilt: Path | None = None) -> list[tuple[DemoSpec, Path]]:
    """Return each demo model's folder under `root`, putting in the missing or stale ones: a copy of the prebuilt
    folder (default: the wheel's) when its recipe is the current one, else built here (~0.2 s each)."""
    # here, not at the top: setup.py imports this module, where platformdirs may not be installed
    from fl_tui.core.resources import packaged_data

    prebuilt = packaged_data() / PREBUILT if prebuilt is None else prebuilt
    return [(spec, ensure_built(root / spec.name, recipe_digest(spec), lambda tmp, spec=spec:
                                _copy_or_build(spec, prebuilt / spec.name, tmp)))
            for spec in DEMO_MODELS]


def _copy_or_build(spec: DemoSpec, prebuilt: Path, tmp: Path) -> None:
    if is_current(prebuilt, recipe_digest(spec)):
        shutil.copytree(prebuilt, tmp)
        return
    missing = [m for m in BUILD_NEEDS if importlib.util.find_spec(m) is None]
    if missing:
        raise UserError(f"the demo models are not prebuilt in this copy of fl-tui (a checkout?) and building them "
                        f"needs {' and '.join(missing)}: pip install -e '.[demo-build]'")
    build_demo_model(spec, tmp)
