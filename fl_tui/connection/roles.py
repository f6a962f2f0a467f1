"""What a workshop participant's app may not do (`fl-tui web` sessions): the box's models are the room's, shared
by everyone, so downloading, removing, registering, loading and unloading them are the instructor's (in their own
terminal). A participant may still benchmark (the endpoint lock keeps runs from overlapping) and score."""

from __future__ import annotations

import os
from collections.abc import Mapping

from fl_tui.connection.base import Capability

ROOM_ENV = "FL_TUI_ROOM"  # set by `fl-tui web` for each person's app
PARTICIPANT = "participant"
REASON = "a workshop participant: the instructor manages the room's models"
WITHHELD = (Capability.DOWNLOAD, Capability.REMOVE, Capability.REGISTER, Capability.LOAD, Capability.LOAD_TTL,
            Capability.UNLOAD)


def withheld(env: Mapping[str, str] | None = None) -> dict[Capability, str]:
    """The capabilities this app's person may not use, each with the reason shown where the action is refused."""
    role = (os.environ if env is None else env).get(ROOM_ENV)
    return dict.fromkeys(WITHHELD, REASON) if role == PARTICIPANT else {}
