"""benchmarks/loopback_server.py as a module for the tests (benchmarks/ is not a package): loaded once, shared by
every test file that serves from it."""

import importlib.util
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "loopback_server", Path(__file__).resolve().parents[1] / "benchmarks" / "loopback_server.py")
loopback = sys.modules.setdefault("loopback_server", importlib.util.module_from_spec(_spec))
if not hasattr(loopback, "start_subprocess"):
    _spec.loader.exec_module(loopback)
