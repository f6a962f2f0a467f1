"""Credentials in an endpoint URL (`http://user:pw@host`, `?api_key=…`) are for the connection only: every copy
that is written or printed shows `user:***@host` and `?api_key=***` instead."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# scheme://userinfo@ anywhere in a text; userinfo stops at the first "/", "@" or whitespace
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/@\s]*)@")
# a query parameter that carries a secret, by the names servers and gateways use for one
_SECRET_PARAM = re.compile(
    r"(?i)([?&](?:api[_-]?key|key|token|access[_-]?token|auth|password|passwd|pass|secret|sig|signature|code)=)"
    r"[^&#\s\"'<>]+")


def _masked(userinfo: str) -> str:
    user, sep, _password = userinfo.partition(":")
    return f"{user}:***" if sep else "***"


def redact_url(url: str | None) -> str | None:
    """`http://user:pw@host:5273/x` -> `http://user:***@host:5273/x`; a URL without credentials is unchanged."""
    if not url:
        return url
    url = _SECRET_PARAM.sub(r"\1***", url)
    if "@" not in url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{_masked(userinfo)}@{host}"))


def redact_text(text: str) -> str:
    """Every `scheme://userinfo@` and secret query parameter in a message masked, for text that may quote an
    endpoint (a traceback too)."""
    return _SECRET_PARAM.sub(r"\1***", _USERINFO.sub(lambda m: f"{m.group(1)}{_masked(m.group(2))}@", text))
