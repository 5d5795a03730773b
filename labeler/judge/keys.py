"""Where the judge's requests go and with which key, and what of that must never be stored or shown.

Kept apart from run.py so that a missing key is said before anything slow is imported (numpy, openai).
"""

from __future__ import annotations

import base64
import os
from urllib.parse import unquote, urlparse

from labeler.errors import LabelerError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
PLACEHOLDER_KEY = "no-key-set"
"""Sent to a server named by a base URL when no key is set: local servers (vLLM, Ollama, llama.cpp) need none,
but the client needs a string."""


def named_url(given: str | None) -> str | None:
    """The endpoint the user named: --base-url, else OPENAI_BASE_URL (which the openai client reads too)."""
    return given or os.environ.get("OPENAI_BASE_URL") or None


def base_url(given: str | None) -> str:
    """The endpoint the client talks to."""
    return named_url(given) or DEFAULT_BASE_URL


def public_url(url: str) -> str:
    """A URL without its user:password@ part: what may be stored or shown."""
    p = urlparse(url)
    return p._replace(netloc=p.netloc.rpartition("@")[2]).geturl() if "@" in p.netloc else url


def api_key(env_name: str, base: str | None = None) -> str:
    """The key in $env_name; without one, a placeholder for a server named by `base`, else a one-line error."""
    key = os.environ.get(env_name)
    if key:
        return key
    if base and urlparse(base).hostname != "api.openai.com":
        return PLACEHOLDER_KEY
    raise LabelerError(f"no API key: set {env_name} (or name another variable with --api-key-env)")


def key_note(given: str | None, env_name: str) -> str | None:
    """Checks the key (a one-line error without one); the line to say once when a placeholder is sent instead."""
    base = named_url(given)
    if api_key(env_name, base) == PLACEHOLDER_KEY:
        return f"note: {env_name} is not set: sending a placeholder key to {public_url(base)} (local servers need none)"
    return None


def secrets(given: str | None, env_name: str) -> list[str]:
    """What must never be stored or shown: the key and any user:password in the base URL (also as the
    HTTP Basic header the client makes of it, which an endpoint may echo)."""
    out = [os.environ.get(env_name) or ""]
    userinfo = urlparse(base_url(given)).netloc.rpartition("@")[0]
    if userinfo:
        plain = ":".join(unquote(x) for x in userinfo.split(":", 1))
        out += [userinfo, plain, *userinfo.split(":", 1), *plain.split(":", 1), base64.b64encode(plain.encode()).decode()]
    return sorted({x for x in out if len(x) >= 6 and x != PLACEHOLDER_KEY}, key=len, reverse=True)


def redact(text: str | None, hide: list[str]) -> str | None:
    """`text` with every secret in `hide` replaced by [redacted]."""
    for x in hide:
        if text and x in text:
            text = text.replace(x, "[redacted]")
    return text
