"""The command palette lists every action with its key, so nothing is reachable only by memorising keys."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class ActionsProvider(Provider):
    """Actions of the app and of its panes, labelled 'Group: description (key)'."""

    def commands(self):
        """(label, callback, help) for every action, in the help screen's order."""
        app = self.app
        for group, target, bindings in app.action_groups():
            for b in bindings:
                key = app.keymap_for(b)
                label = f"{group}: {b.description or b.action} ({key})"
                yield label, partial(app.run_action_on, target, b.action), b.tooltip or None

    async def discover(self) -> Hits:
        for label, callback, help_text in self.commands():
            yield DiscoveryHit(label, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, callback, help_text in self.commands():
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), callback, help=help_text)
