"""A footer that is rebuilt only when the keys it shows change.

Textual's Footer removes and mounts every key again each time the bindings may have changed: on every focus change,
a highlighted row, closing a dialog. Those widgets are garbage with reference cycles, and while a benchmark streams
they feed the collector's full collections that a key press then waits behind. What the footer would show is
compared first; the same keys, the same states, nothing is rebuilt.
"""

from __future__ import annotations

from textual.widgets import Footer


class KeptFooter(Footer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._shown: tuple | None = None  # what the footer's keys were composed from

    def _to_show(self) -> tuple:
        """Everything Footer.compose reads, in its order."""
        app = self.app
        keys = tuple((binding.key, app.get_key_display(binding), binding.description, binding.action, enabled,
                      tooltip, binding.group, binding.tooltip)
                     for _node, binding, enabled, tooltip in self.screen.active_bindings.values() if binding.show)
        palette = self.screen.active_bindings.get(app.COMMAND_PALETTE_BINDING) if self.show_command_palette else None
        return keys, self._bindings_ready, app.ENABLE_COMMAND_PALETTE, palette and (
            palette[1].key, app.get_key_display(palette[1]), palette[1].description, palette[2], palette[1].tooltip)

    async def recompose(self) -> None:
        if not self.is_attached:
            return
        shown = self._to_show()
        if shown == self._shown:
            return
        self._shown = shown
        await super().recompose()
