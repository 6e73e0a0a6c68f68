"""Plusofon's error answers, read for what they say; the HTTP layer puts them into the error taxonomy.

Plusofon answers errors as `{"message": ..., "code": ...}`, where `code` is what counts: a ticket that
does not exist comes back as code 500 whose message wraps the upstream "HTTP/1.1 404 Not Found" answer
and ends in "Ticket not Found", and missing access has been seen as a 500 too. The attachment call
may answer `{"success": false, "message": ...}` instead. So errors are told apart by their text first
and their code second, and this hook reads them whatever the HTTP status (200 included).
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from ..http import VendorFailure

_NOT_FOUND = re.compile(r"not\s*found|не\s+найден", re.IGNORECASE)
_NO_ACCESS = re.compile(
    r"unauthenticated|unauthorized|forbidden|no access|insufficient rights|нет доступа|доступ запрещ"
    r"|недостаточно прав",
    re.IGNORECASE,
)
_PAYLOAD_KEYS = ("id", "posts", "ticket", "tickets")
_MAX_SAID = 200


def read_error(response: httpx.Response) -> VendorFailure | None:
    """The `read_error` hook: what a Plusofon error payload says, and the status its words amount to."""
    failure = _failure(response)
    if failure is None:
        return None
    code, said = failure
    if _NOT_FOUND.search(said):
        return VendorFailure(said, 404, advice="a search lists the account's tickets")
    if code in {401, 403} or _NO_ACCESS.search(said):
        return VendorFailure(
            said,
            403,
            advice="check its token, which must be the personal-cabinet API token, and its Client code",
        )
    return VendorFailure(said, code)


def vendor_said(message: str) -> str:
    """The vendor's message as part of one sentence: the wrapped upstream answer's last words only."""
    _, wrapped, tail = message.rpartition("\r\n\r\n")
    text = " ".join((tail if wrapped and tail.strip() else message).split())
    if len(text) > _MAX_SAID:
        text = text[: _MAX_SAID - 1].rstrip() + "…"
    return text.rstrip(" .") or "no message"


def _failure(response: httpx.Response) -> tuple[int, str] | None:
    """(code, message) when the answer is one of Plusofon's error payloads, else None."""
    try:
        payload: Any = response.json()
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(payload, dict) or payload.get("success") is True:
        return None
    message = payload.get("message")
    refused = payload.get("success") is False
    if not refused and (not isinstance(message, str) or any(key in payload for key in _PAYLOAD_KEYS)):
        return None
    # An error payload is an error whatever code it claims; below 400 it counts as a refusal.
    code = max(_code(payload.get("code")) or response.status_code, 400)
    return code, vendor_said(message if isinstance(message, str) else "")


def _code(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None
