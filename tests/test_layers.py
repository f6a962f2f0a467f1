"""The core (connection layer, benchmark engine, stores, reports, CLI) never imports Textual."""

import subprocess
import sys

CORE = [
    "fl_tui.connection.embedded", "fl_tui.connection.probe", "fl_tui.connection.legacy", "fl_tui.connection.service",
    "fl_tui.connection.resolve", "fl_tui.bench.engine", "fl_tui.bench.report", "fl_tui.cli.main",
    "fl_tui.cli.bench_cmd", "fl_tui.cli.models_cmd", "fl_tui.cli.annotate_cmd", "fl_tui.annotate.session",
    "fl_tui.annotate.store", "fl_tui.annotate.stats", "fl_tui.annotate.judge", "fl_tui.bench.live",
    "fl_tui.bench.chartdata", "fl_tui.modelview", "fl_tui.downloads",
]


def test_core_modules_do_not_import_textual():
    imports = "".join(f"import {m}\n" for m in CORE)
    code = f"import sys\n{imports}print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
