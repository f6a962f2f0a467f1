"""Messages the workers post to the UI: typed, so a screen reacts to what happened, not to a worker's internals."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from fl_tui.connection.base import Backend, ModelEntry, Status


@dataclass
class BackendReady(Message):
    backend: Backend


@dataclass
class BackendFailed(Message):
    error: str


@dataclass
class OperationDone(Message):
    """A model operation (load, unload, remove, register) ran on a thread worker: `error` says why it failed."""

    label: str
    error: str | None = None


@dataclass
class SettingsNotSaved(Message):
    error: str


@dataclass
class ListNotKept(Message):
    """The model list could not be written for the next start (fl_tui.models.last_list)."""

    error: str


@dataclass
class StateUpdated(Message):
    """A poll finished: the status, and the models when the Models tab asked for them (else None)."""

    status: Status | None
    models: list[ModelEntry] | None
    error: str | None = None
