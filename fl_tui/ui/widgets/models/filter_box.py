"""The Models tab's filter box: hidden until `/`, matched as you type, Esc clears and hides it."""

from __future__ import annotations

from textual.widgets import Input


class ModelsFilter(Input):
    def __init__(self, **kwargs):
        super().__init__(placeholder="filter: words to match (alias, device, capability…); Esc clears", **kwargs)

    def on_mount(self) -> None:
        self.display = False

    def open(self) -> None:
        self.display = True
        self.focus()

    def close(self) -> bool:
        """Clear and hide; False when it was not open."""
        if not self.display:
            return False
        self.value = ""
        self.display = False
        return True
