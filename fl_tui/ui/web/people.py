"""The people of a room (`fl-tui web`): a name each, one live session per name, and the files that are theirs: a
settings file (their rater name, their theme) and a state folder (their last Benchmark set-up) under the room's
folder. The host user's config.toml and state are never written by a participant's app."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fl_tui.annotate.store import check_rater, is_judge, slug
from fl_tui.connection.roles import PARTICIPANT, ROOM_ENV
from fl_tui.core.config import save_settings
from fl_tui.core.errors import UserError


@dataclass(frozen=True)
class Person:
    name: str
    key: str  # the name's file slug: "Zoë B." and "zoe b" are one person, as they would share one annotation file
    folder: Path

    @property
    def config(self) -> Path:
        return self.folder / "config.toml"

    def app_args(self) -> list[str]:
        return ["--config", str(self.config)]

    def environment(self) -> dict[str, str]:
        return {"FL_TUI_PERSON_STATE": str(self.folder / "state"), ROOM_ENV: PARTICIPANT}


class People:
    """Who is in the room now (one live session per person), and where each person's files are."""

    def __init__(self, room: Path) -> None:
        self.room = room
        self.present: set[str] = set()

    def problem(self, name: str) -> str | None:
        """Why `name` cannot be a person's name here, or None."""
        try:
            name = check_rater(name)
        except UserError as exc:
            return str(exc)
        return "that name is kept for model judges" if is_judge(name) else None

    def enter(self, name: str) -> Person | None:
        """The person of that name, their files made ready; None while a session of theirs is open."""
        name = check_rater(name)
        key = slug(name)
        if key in self.present:
            return None
        person = Person(name, key, self.room / key)
        (person.folder / "state").mkdir(parents=True, exist_ok=True)
        save_settings({"rater": name}, person.config)  # edited in place: their theme and other keys stay
        self.present.add(key)
        return person

    def leave(self, person: Person) -> None:
        self.present.discard(person.key)
