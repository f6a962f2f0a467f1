"""Credentials in an endpoint URL (`http://user:pw@host`) are for the connection only: every copy that is written
or printed shows `user:***@host` instead."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# scheme://userinfo@ anywhere in a text; userinfo stops at the first "/", "@" or whitespace
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/@\s]*)@")


def _masked(userinfo: str) -> str:
    user, sep, _password = userinfo.partition(":")
    return f"{user}:***" if sep else "***"


def redact_url(url: str | None) -> str | None:
    """`http://user:pw@host:5273/x` -> `http://user:***@host:5273/x`; a URL without credentials is unchanged."""
    if not url or "@" not in url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{_masked(userinfo)}@{host}"))


def redact_text(text: str) -> str:
    """Every `scheme://userinfo@` in a message masked, for text that may quote an endpoint."""
    return _USERINFO.sub(lambda m: f"{m.group(1)}{_masked(m.group(2))}@", text)
