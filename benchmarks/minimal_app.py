"""The floor for `app_start.py`: the least a Textual app with fl-tui's first screen can cost to start and quit.

A header line, two tabs, a table with one row (the demo model's alias, there at once), a footer, and `q` to quit.
Nothing else is imported. Run: .venv/bin/python benchmarks/minimal_app.py
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane

ROW = ("fl-demo-fast", "cpu", "generic-cpu", "1 MB")


class MinimalApp(App[int]):
    BINDINGS = [("q", "quit_app", "Quit")]

    def compose(self) -> ComposeResult:
        yield Static(" fl-tui  … minimal", id="header")
        with TabbedContent(initial="models"):
            with TabPane("Models", id="models"):
                yield DataTable(cursor_type="row")
            with TabPane("Benchmark", id="benchmark"):
                yield Static("nothing here")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("alias", "device", "provider", "size")
        table.add_row(*ROW)
        table.focus()

    def action_quit_app(self) -> None:
        self.exit(0)


if __name__ == "__main__":
    raise SystemExit(MinimalApp().run() or 0)
