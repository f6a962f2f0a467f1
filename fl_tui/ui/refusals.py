"""One way for a pane to refuse an action and say why: the footer dims the key, and the app's run_action turns the
key press (or the palette entry) into a one-line notification of the reason."""

from __future__ import annotations


class ExplainsRefusals:
    """Mixed into a widget: it names the reason an action cannot run now in `why_not`, and nothing else."""

    def why_not(self, action: str, parameters: tuple[object, ...]) -> str | None:
        """The reason `action` cannot run now, or None when it can."""
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if self.why_not(action, parameters) else True
