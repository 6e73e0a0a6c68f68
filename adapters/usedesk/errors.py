"""UseDesk's error answers recognized and turned into the error taxonomy, in UseDesk's own words.

UseDesk often answers a failure with HTTP 200 and a JSON body `{"error": "<text>", "code": <n>}`;
some answers say `{"status": "<not success>", ...}` instead. Both are failures whatever the HTTP
status. Its web framework answers refusals such as rate limits with an HTTP error status and
`{"message": "<text>"}`. What kind of failure it is comes from the code where it is an HTTP-like
one, else from the words of the message, else from the HTTP status; the HTTP layer makes the error.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from ..http import ReadError, VendorFailure

_AUTH_WORDS = ("token", "unauthori", "forbidden", "access denied", "доступ", "токен")
_MISSING_WORDS = ("not found", "не найден", "does not exist", "doesn't exist", "не существует")
_LIMIT_WORDS = ("too many", "rate limit", "слишком много")
_MAX_VENDOR_TEXT = 300
_CREDENTIAL_ADVICE = "check the backend's `api_token` setting"


def vendor_error_reader(secret: str) -> ReadError:
    """The `read_error` hook of one backend; `secret` (its token) is blanked out of anything quoted."""

    def read_error(response: httpx.Response) -> VendorFailure | None:
        # Every UseDesk API method is a POST; a GET fetches an attached file, whose bytes are never an error.
        if response.request.method != "POST":
            return None
        body = _json_object(response)
        if body is None:
            return None
        if "error" in body and body["error"] not in (None, False, ""):
            said = _vendor_text(body["error"], secret)
        elif isinstance(body.get("status"), str) and body["status"].lower() != "success":
            said = _vendor_text(body.get("message") or body["status"], secret)
        elif response.status_code >= 400 and isinstance(body.get("message"), str):
            said = _vendor_text(body["message"], secret)
        else:
            return None
        # An error body is a failure whatever status it came with; what kind comes from its code where
        # that is HTTP-like, else from its words, else from the status.
        kind = _http_like(body.get("code")) or _by_words(said) or response.status_code
        if kind in (401, 403):
            return VendorFailure(said, kind, advice=_CREDENTIAL_ADVICE, setting="api_token")
        return VendorFailure(said, max(kind, 400))

    return read_error


def _by_words(said: str) -> int | None:
    words = said.lower()
    for kind, vocabulary in ((401, _AUTH_WORDS), (404, _MISSING_WORDS), (429, _LIMIT_WORDS)):
        if any(word in words for word in vocabulary):
            return kind
    return None


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    content = response.content.lstrip()
    if not content.startswith(b"{"):
        return None
    try:
        body = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _vendor_text(value: Any, secret: str) -> str:
    """The vendor's message as one short line, with the token blanked should the vendor echo it."""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    said = " ".join(str(value).split()).rstrip(".")
    if secret:
        said = said.replace(secret, "***")
    if len(said) > _MAX_VENDOR_TEXT:
        said = said[: _MAX_VENDOR_TEXT - 1] + "…"
    return said or "no details"


def _http_like(code: Any) -> int | None:
    text = str(code).strip() if isinstance(code, int | str) and not isinstance(code, bool) else ""
    return int(text) if re.fullmatch(r"[1-5][0-9]{2}", text) else None
