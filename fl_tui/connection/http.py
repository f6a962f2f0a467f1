"""The HTTP plumbing every HTTP backend shares: bounded requests with one deadline, server errors made into
one inert line, model-id lists read leniently; and what both Foundry Local service generations share.
"""

from __future__ import annotations

import httpx

from fl_tui.connection.base import Backend, BackendError, CatalogState
from fl_tui.connection.bounded import Deadline, request_bounded
from fl_tui.connection.endpoint import normalize_endpoint, unreachable
from fl_tui.connection.foundry_cli import FoundryCli
from fl_tui.connection.process import Listener, find_listener
from fl_tui.connection.server_words import payload_message
from fl_tui.core.limits import CONTROL_ANSWER_MAX, CONTROL_DEADLINE_S
from fl_tui.core.textsafe import plain, whole_unicode


def first_line(text: str, limit: int = 200) -> str:
    """The first non-blank line, cut at `limit`, inert (see textsafe.plain): a server's words go into messages,
    run.json and the terminal."""
    for line in plain(text).splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


def error_message(resp: httpx.Response) -> str:
    """The server's own words for a failed request: `{"error":{"message"}}`, `{"error": "..."}` or the text."""
    try:
        body = resp.json()
    except (ValueError, RecursionError):  # plain text, e.g. 404 "No mapping for HTTP-method...", or nested too deep
        body = None
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            return first_line(payload_message(body)) or resp.reason_phrase
        for value in (err, body.get("message"), body.get("errorMessage"), body.get("detail")):
            if isinstance(value, str) and value.strip():
                return first_line(value)
    # The current service's web server (oatpp) answers unknown routes with "key=value" lines; "message=" says it.
    for line in resp.text.splitlines():
        if line.startswith("message=") and line[len("message=") :].strip():
            return first_line(line[len("message=") :])
    return first_line(resp.text) or resp.reason_phrase or f"HTTP {resp.status_code}"


def id_list(body: object, what: str) -> list[str]:
    """Model ids from a bare list of strings, a list of `{"id"}` objects, or an envelope holding either."""
    if isinstance(body, dict):
        for key in ("data", "models", "value"):
            if isinstance(body.get(key), list):
                body = body[key]
                break
    if not isinstance(body, list):
        raise BackendError(f"{what}: expected a list of models, got {type(body).__name__}")
    ids: list[str] = []
    for item in body:
        value = (item.get("id") or item.get("name")) if isinstance(item, dict) else item
        if isinstance(value, str) and value:
            ids.append(whole_unicode(value))  # an id with a lone surrogate could not be written to run.json
    return ids


class HttpBackend(Backend):
    """A backend reached over HTTP with a sync client; tests inject an `httpx.Client` on a `MockTransport`."""

    kind = "http"
    control_deadline_s = CONTROL_DEADLINE_S  # tests shorten it

    def __init__(self, base_url: str, client: httpx.Client | None = None, timeout: float = 10.0):
        self.base_url = normalize_endpoint(base_url)
        self.timeout = timeout
        self._own_client = client is None
        # trust_env=False: both Foundry generations bind loopback only, and a proxy from the environment must
        # not swallow requests to 127.0.0.1 (a remote box is reached through an ssh tunnel, also loopback).
        self._client = client if client is not None else httpx.Client(timeout=timeout, trust_env=False)

    @property
    def inference_url(self) -> str:
        return self.base_url + "/v1"

    @property
    def endpoint(self) -> str:
        """The URL to connect to, credentials included: never shown (`shown_endpoint` is)."""
        return self.base_url

    def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
        """Every control-plane answer is read up to CONTROL_ANSWER_MAX (an error body up to ERROR_BODY_MAX) and
        within `control_deadline_s`, however slowly the server drips it."""
        kwargs.setdefault("timeout", self.timeout)
        try:
            return request_bounded(
                self._client, method, self.base_url + path, what=f"{method} {path}", cap=CONTROL_ANSWER_MAX,
                deadline=Deadline(self.control_deadline_s), **kwargs,
            )
        except httpx.TransportError as exc:
            raise unreachable(self.base_url, exc, self.timeout) from exc

    @staticmethod
    def _check(resp: httpx.Response, what: str) -> httpx.Response:
        if resp.is_error:
            raise BackendError(f"{what}: HTTP {resp.status_code}: {error_message(resp)}")
        return resp

    @staticmethod
    def _json(resp: httpx.Response, what: str) -> object:
        try:
            return resp.json()
        except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError are both ValueErrors
            raise BackendError(f"{what}: the answer is not JSON: {first_line(resp.text, 80)!r}") from exc
        except RecursionError as exc:  # 100,000 nested "[": JSON, but past any answer a model list needs
            raise BackendError(f"{what}: the answer is nested too deeply to read") from exc

    def _get_json(self, path: str) -> object:
        what = f"GET {path}"
        return self._json(self._check(self._request("GET", path), what), what)

    def host(self) -> Listener:
        return find_listener(self.base_url)

    def _server_model_ids(self) -> list[str]:
        return id_list(self._get_json("/v1/models"), "GET /v1/models")

    def close(self) -> None:
        if self._own_client:
            self._client.close()


class FoundryHttpBackend(HttpBackend):
    """What both Foundry Local service generations share: the `foundry` CLI (when on PATH) for what their HTTP
    routes lack, and the state of the catalog it gave."""

    kind = "foundry-service"

    def __init__(
        self,
        base_url: str,
        client: httpx.Client | None = None,
        timeout: float = 10.0,
        cli: FoundryCli | None = None,
        *,
        detect_cli: bool = True,
    ):
        super().__init__(base_url, client=client, timeout=timeout)
        self.cli = cli if cli is not None else (FoundryCli.find() if detect_cli else None)
        self._catalog_state = CatalogState.UNKNOWN
        self._catalog_note = ""
