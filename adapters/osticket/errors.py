"""osTicket's error answers, read for what they say; the HTTP layer puts them into the error taxonomy.

osTicket's own API answers a failure as plain text (`Http::response`: "URL not supported", "Ticket
not found", "Unable to create ticket: ..."), on 1.17 and later a validation failure as HTTP 500; the
ticket API extension answers JSON with a `status_code` that is not 0 and its `status_msg`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from ..errors import NotFoundError, UnsupportedError
from ..html_text import looks_like_html
from ..http import VendorFailure

_MAX_VENDOR_TEXT = 2000


class ExtensionMissingError(UnsupportedError):
    """Stock osTicket's dispatcher answered `URL not supported`: the ticket API extension is absent."""


class NoSuchPersonError(NotFoundError):
    """The extension failed to find the staff user or customer a call named (PHP `getId()` on null)."""


def read_error(response: httpx.Response) -> VendorFailure | None:
    """The `read_error` hook: osTicket's answers that are failures, whatever their HTTP status."""
    payload = _json_object(response)
    if payload is not None:
        if "status_code" not in payload or succeeded(payload):
            return None
        failure = _one_line(str(payload.get("status_msg") or "no message"))
        if "on null" in failure:
            missing = "no such staff user or customer"
            return VendorFailure(failure, 404, advice=missing, error=NoSuchPersonError)
        return VendorFailure(failure, 500)
    said = _plain_text(response)
    if said is None:
        return None
    status = response.status_code
    if status == 400 and said == "URL not supported":
        return VendorFailure(said, 400, advice="no ticket API extension", error=ExtensionMissingError)
    if status == 401:
        advice = "check the key and that osTicket binds it to the IP address this server connects from"
        return VendorFailure(said, 401, advice=advice)
    if status == 403 and said == "Ticket denied":
        advice = "a ban list, a ticket filter or the limit of open tickets per customer rejects it"
        return VendorFailure(said, 400, advice=advice)
    if status == 404 and said == "Ticket not found":
        return VendorFailure(said, 404)
    if status == 404 and said == "Invalid ticket number":
        return VendorFailure(said, 400, advice="osTicket's ticket API takes only digits as ticket numbers")
    if status in (400, 415, 422) or (status == 500 and said.startswith("Unable to")):
        # On 1.17 and later a validation failure arrives as HTTP 500; nothing was saved.
        return VendorFailure(said, 400, advice="nothing was saved")
    return None


def succeeded(payload: Any) -> bool:
    """The extension's verdict: its `status_code`, never the wording of `status_msg`."""
    return isinstance(payload, Mapping) and str(payload.get("status_code")) == "0"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def _plain_text(response: httpx.Response) -> str | None:
    """osTicket's own plain-text error, as `Http::response` sends it; not a proxy's HTML page."""
    kind = response.headers.get("content-type", "")
    if not kind.startswith("text/") or len(response.content) > _MAX_VENDOR_TEXT:
        return None
    try:
        text = response.content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if not text.strip() or looks_like_html(text) else _one_line(text)


def _json_object(response: httpx.Response) -> Mapping[str, Any] | None:
    if not response.content.lstrip().startswith(b"{"):
        return None
    try:
        payload = response.json()
    except ValueError:
        return None
    return payload if isinstance(payload, Mapping) else None
