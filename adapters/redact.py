"""Credentials kept out of every text a model or a log sees, in every spelling they travel in.

A secret leaves this server as itself, URL-encoded in a query string, JSON-escaped in a body (by
Python, or by PHP, which also escapes `/`), HTML-escaped in an error page, and for Basic auth as the
base64 of `user:password`. A vendor or an exception that quotes a request may echo any of them, so
each is replaced by `***`. A URL's user-info is replaced as well, since it is a credential that no
setting declares as one.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable
from typing import TypeVar
from urllib.parse import quote, quote_plus

from .errors import HelpdeskError

SHORTEST_SECRET = 4  # a shorter "secret" would blank out ordinary words and numbers
REDACTED = "***"
_USER_INFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#@\s]+@")
_PERCENT = re.compile(r"%[0-9A-F]{2}")

E = TypeVar("E", bound=HelpdeskError)


def basic_auth(user: str, password: str) -> str:
    """The credential a Basic `Authorization` header carries: base64 of `user:password`."""
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def spellings(secret: str) -> set[str]:
    """`secret` as it may appear in text that quotes a request or a body."""
    json_forms = {json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    url_forms = {quote(secret, safe=""), quote(secret), quote_plus(secret)}
    url_forms |= {_PERCENT.sub(lambda hexed: hexed.group().lower(), form) for form in url_forms}
    forms = {
        secret,
        html.escape(secret),
        *json_forms,
        *(form.replace("/", "\\/") for form in json_forms),
        *url_forms,
    }
    # A log line or a vendor message may quote JSON that itself quoted the secret.
    return forms | {json.dumps(form)[1:-1] for form in forms}


class Redactor:
    """Replaces every spelling of a set of secrets, longest first so no part of one is left behind."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms = {form for secret in secrets if len(secret) >= SHORTEST_SECRET for form in spellings(secret)}
        self._forms = sorted((form for form in forms if len(form) >= SHORTEST_SECRET), key=len, reverse=True)
        self._encoded = [form.encode() for form in self._forms]

    def __call__(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, REDACTED)
        return _USER_INFO.sub(rf"\1{REDACTED}@", text)

    def data(self, content: bytes) -> bytes:
        """`content` (a body as it came off the wire) with every spelling replaced."""
        for form in self._encoded:
            content = content.replace(form, REDACTED.encode())
        return content

    def error(self, error: E) -> E:
        """`error` itself, its message redacted (its type and other attributes are what callers act on)."""
        message = self(error.message)
        if message != error.message:
            error.message = message
            error.args = (message, *error.args[1:])
        return error


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every spelling of every secret replaced by `***`."""
    return Redactor(secrets)(text)
