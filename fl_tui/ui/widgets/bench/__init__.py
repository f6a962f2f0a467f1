"""The Benchmark tab: a thin switcher pane over one widget per concern (set-up, live view, summary, run picker)."""

from fl_tui.ui.widgets.bench.pane import BenchPane

__all__ = ["BenchPane"]
