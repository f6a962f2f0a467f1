"""Any OpenAI-compatible server (llama.cpp, Ollama, vLLM, ...).

An OpenAI-compatible server lists models and chats; it cannot download, load or unload anything, so every
model-management capability is reported missing with the reason.
"""

from __future__ import annotations

from fl_tui.connection.base import Capability, CatalogState, ModelEntry, ModelSource, Status
from fl_tui.connection.http import HttpBackend

NO_MANAGEMENT = "an OpenAI-compatible server has no model management"


class OpenAICompatBackend(HttpBackend):
    """Inference only: lists what `/v1/models` lists and chats."""

    kind = "openai"

    @property
    def capabilities(self) -> dict[Capability, str | None]:
        caps: dict[Capability, str | None] = {c: NO_MANAGEMENT for c in Capability}
        caps[Capability.STATUS] = None
        caps[Capability.CHAT] = None
        return caps

    def status(self) -> Status:
        ids = self._server_model_ids()
        return Status(
            endpoint=self.shown_endpoint,
            backend=self.kind,
            generation=None,
            cache_path=None,
            loaded=[],
            catalog=CatalogState.NONE,
            detail=f"{len(set(ids))} model(s) listed by /v1/models",
        )

    def list_models(self) -> list[ModelEntry]:
        # Whether a model is loaded is not known here: `loaded` stays False rather than guessing.
        ids = dict.fromkeys(self._server_model_ids())
        return [ModelEntry(id=mid, alias=mid, source=ModelSource.SERVER) for mid in ids]
