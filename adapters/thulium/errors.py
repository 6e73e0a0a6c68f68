"""Thulium's error bodies, read for what they say; the HTTP layer puts them into the error taxonomy.

Thulium answers an error as `{"request_id", "errors": [{"message", "code"}]}`; its support asks for
the request id, so what it said carries it.
"""

from __future__ import annotations

import json

import httpx

from ..errors import NotFoundError
from ..http import VendorFailure
from ..loose import text


class MissingRecordError(NotFoundError):
    """Thulium itself said the thing asked for does not exist (as opposed to a wrong base URL)."""


def read_error(response: httpx.Response) -> VendorFailure | None:
    """The `read_error` hook: what Thulium's error bodies (`{"request_id", "errors": [{"message",
    "code"}]}`) say, with the request id its support asks for."""
    status = response.status_code
    said = _vendor_errors(response)
    if said is None:
        if status == 404:
            return VendorFailure(
                "a page that is not from its API",
                404,
                advice="check that the backend's URL is the API base, ending in /api",
            )
        return None
    if status == 401:
        return VendorFailure(said, 401, advice="check the API user's login and password")
    if status == 403:
        return VendorFailure(
            said,
            403,
            advice="the API user's permissions may not include this method (an administrator grants "
            "them, * for all)",
        )
    if status == 404:
        return VendorFailure(said, 404, error=MissingRecordError)
    return VendorFailure(said, max(status, 400))


def _vendor_errors(response: httpx.Response) -> str | None:
    """Thulium's error messages joined into one clause, or None if the body is not an error body."""
    content = response.content.lstrip()
    if not content.startswith(b"{"):
        return None
    try:
        payload = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("errors"), list) or not payload["errors"]:
        return None
    messages = [
        " ".join(text(error.get("message")).split()).rstrip(".")
        for error in payload["errors"]
        if isinstance(error, dict) and text(error.get("message")).strip()
    ]
    said = "; ".join(messages) or "an error without a message"
    request_id = text(payload.get("request_id")).strip() or response.headers.get("x-request-id", "")
    return f"{said}, request id {request_id}" if request_id else said
