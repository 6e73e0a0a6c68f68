"""Thulium's JSON read into the normalized model, and its error bodies into the error taxonomy.

Tolerant by design, because the API is: ids arrive as strings or numbers depending on the endpoint
(`"ticket_id": "23962"` in lists, `1234` alone), times are the account's local wall clock to the
minute (`"2014-07-08 08:05"`), bodies are HTML or plain text with nothing saying which, and a
ticket's messages are not listed in time order (imports may backdate them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from ..errors import AuthError, HelpdeskError, InvalidInputError, NotFoundError, UnavailableError
from ..http import ReadError
from ..model import Message, MessageKind, Person, Ticket, TicketSummary, make_ref
from ..text import to_plain_text
from .attachments import AttachmentNames
from .statuses import StatusMap

MINUTE = "%Y-%m-%d %H:%M"
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", MINUTE, "%Y-%m-%d")
_KINDS: dict[str, MessageKind] = {"MAIL": "customer", "REPLY": "agent"}


class MissingRecordError(NotFoundError):
    """Thulium itself said the thing asked for does not exist (as opposed to a wrong base URL)."""


def text(value: Any) -> str:
    """A field that should be text, whatever JSON type it came as; null is empty."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def ident(value: Any) -> str | None:
    """An id as a string; null, empty and 0 mean "none" in Thulium's answers."""
    value = text(value).strip()
    return None if value in ("", "0") else value


def local_minute(value: Any) -> str | None:
    """A Thulium time as its canonical minute, "YYYY-MM-DD HH:MM", or None if it is not a time."""
    raw = text(value).strip()
    for layout in _TIME_FORMATS:
        try:
            return datetime.strptime(raw, layout).strftime(MINUTE)
        except ValueError:
            continue
    return None


def to_utc(value: Any, zone: ZoneInfo) -> datetime | None:
    """A Thulium local time as an aware UTC datetime."""
    minute = local_minute(value)
    if minute is None:
        return None
    return datetime.strptime(minute, MINUTE).replace(tzinfo=zone).astimezone(UTC)


def vendor_minute(moment: datetime, zone: ZoneInfo) -> str:
    """`moment` as the account's wall-clock minute (rounded down), as Thulium's filters take it."""
    return moment.astimezone(zone).strftime(MINUTE)


def next_minute(minute: str) -> str:
    return (datetime.strptime(minute, MINUTE) + timedelta(minutes=1)).strftime(MINUTE)


@dataclass(frozen=True)
class Reader:
    """What turning one account's JSON into the model needs to know."""

    backend: str
    zone: ZoneInfo
    statuses: StatusMap
    names: AttachmentNames

    def summary(self, raw: dict[str, Any]) -> TicketSummary:
        return TicketSummary(**self._summary_fields(raw))

    def ticket(self, raw: dict[str, Any]) -> Ticket:
        fields = self._summary_fields(raw)
        requester = fields.get("requester")
        return Ticket(
            **fields,
            messages=self.messages(raw, requester),
            custom_fields=_custom_fields(raw.get("custom_fields")),
        )

    def messages(self, raw: dict[str, Any], requester: Person | None) -> list[Message]:
        items = [m for m in raw.get("messages") or [] if isinstance(m, dict)]
        parsed = [self.message(item, requester) for item in items]
        oldest = datetime.min.replace(tzinfo=UTC)
        return sorted(parsed, key=lambda m: (m.created_at or oldest, _number(m.id)))

    def _summary_fields(self, raw: dict[str, Any]) -> dict[str, Any]:
        ticket_id = ident(raw.get("ticket_id"))
        if ticket_id is None:
            raise UnavailableError("Thulium listed a ticket without a ticket_id, which its API does not do.")
        reading = self.statuses.read(ident(raw.get("status_id")), text(raw.get("full_status_name")))
        email = text(raw.get("from")).strip() or None
        customer = ident(raw.get("customer_id"))
        login = text(raw.get("user_login")).strip()
        return {
            "ref": make_ref(self.backend, ticket_id),
            "subject": text(raw.get("subject")).strip(),
            "status": reading.status,
            "status_label": reading.label,
            "requester": Person(id=customer, email=email) if email or customer else None,
            "assignee": Person(id=login) if login else None,
            "queue": text(raw.get("ticket_queue_name")).strip() or None,
            "tags": [text(tag).strip() for tag in raw.get("tags") or [] if text(tag).strip()],
            "created_at": to_utc(raw.get("created_at"), self.zone),
            "updated_at": to_utc(raw.get("updated_at"), self.zone),
        }

    def message(self, raw: dict[str, Any], requester: Person | None) -> Message:
        kind_name = text(raw.get("type")).strip().upper()
        login = text(raw.get("user_login")).strip()
        agent = Person(id=login) if login else None
        kind = _KINDS.get(kind_name)
        if kind is not None:
            body = text(raw.get("body"))
        else:
            # A COMMENT is an internal note, or, holding only `system_comment`, an event Thulium logged.
            comment, event = text(raw.get("comment")), text(raw.get("system_comment"))
            kind = "internal_note" if comment.strip() or not event.strip() else "system"
            body = "\n\n".join(part for part in (comment, event) if part.strip())
        return Message(
            id=text(raw.get("message_id")).strip(),
            kind=kind,
            author=requester if kind == "customer" else agent,
            body=to_plain_text(body),
            created_at=to_utc(raw.get("created_at"), self.zone),
            attachments=[self.names.attachment(attachment_id) for attachment_id in attachment_ids(raw)],
        )


def status_fields(raw: dict[str, Any]) -> tuple[str | None, str | None, str]:
    """A ticket's `status_id`, `substatus_id` and `full_status_name`, as `StatusMap.learn` takes them."""
    return ident(raw.get("status_id")), ident(raw.get("substatus_id")), text(raw.get("full_status_name"))


def _number(message_id: str) -> int:
    return int(message_id) if message_id.isdigit() else 0


def _custom_fields(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    fields = {}
    for name, value in raw.items():
        shown = ", ".join(text(v) for v in value) if isinstance(value, list) else text(value)
        if shown.strip():
            fields[text(name)] = shown.strip()
    return fields


def attachment_ids(raw_message: dict[str, Any]) -> list[str]:
    """A message's attachments: the API lists them as bare ids, without names."""
    items = raw_message.get("attachments") or []
    return [i for i in (ident(item) for item in items if isinstance(item, str | int)) if i is not None]


def error_reader(backend: str) -> ReadError:
    """The hook that turns Thulium's error bodies (`{"request_id", "errors": [{"message", "code"}]}`)
    into the taxonomy, with Thulium's own words and the request id its support asks for."""
    who = f"Thulium (backend {backend!r})"

    def read_error(response: httpx.Response) -> HelpdeskError | None:
        status = response.status_code
        said = _vendor_errors(response)
        if said is None:
            if status == 404:
                return NotFoundError(
                    f"{who} answered HTTP 404 with a page that is not from its API; "
                    "check that the backend's URL is the API base, ending in /api."
                )
            return None
        if status == 401:
            return AuthError(
                f"{who} refused the credentials: {said}; check the API user's login and password."
            )
        if status == 403:
            return AuthError(
                f"{who} refused this request: {said}; the API user's permissions may not include "
                "this method (an administrator grants them, * for all)."
            )
        if status == 404:
            return MissingRecordError(f"{who} answered: {said}.")
        if status == 429:
            return None  # the HTTP layer's answer carries the Retry-After wait
        if status >= 500:
            return UnavailableError(f"{who} failed on its side: {said}; try again later.")
        return InvalidInputError(f"{who} refused the request: {said}.")

    return read_error


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
    return f"{said} (request id {request_id})" if request_id else said
