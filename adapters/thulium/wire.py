"""Thulium's JSON read into the normalized model (its error bodies are read in `errors`).

Tolerant by design, because the API is: ids arrive as strings or numbers depending on the endpoint
(`"ticket_id": "23962"` in lists, `1234` alone), times are the account's local wall clock to the
minute (`"2014-07-08 08:05"`), bodies are HTML or plain text with nothing saying which, and a
ticket's messages are not listed in time order (imports may backdate them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from ..errors import UnavailableError
from ..loose import Id, Objects, Text, Texts, WireModel, ident, text
from ..model import Message, MessageKind, Person, Ticket, TicketSummary, make_ref
from ..text import to_plain_text
from .attachments import AttachmentNames
from .statuses import StatusMap

MINUTE = "%Y-%m-%d %H:%M"
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", MINUTE, "%Y-%m-%d")
_KINDS: dict[str, MessageKind] = {"MAIL": "customer", "REPLY": "agent"}


__all__ = [
    "MINUTE",
    "Reader",
    "ThuliumMessage",
    "ThuliumTicket",
    "attachment_ids",
    "ident",
    "local_minute",
    "next_minute",
    "serial",
    "status_fields",
    "to_utc",
    "vendor_minute",
]


class ThuliumMessage(WireModel):
    """One element of a ticket's `messages`: a customer's MAIL, an agent's REPLY or a COMMENT."""

    message_id: Text = ""
    type: Text = ""
    """MAIL, REPLY or COMMENT."""
    user_login: Text = ""
    """The agent who wrote a REPLY or COMMENT."""
    body: Text = ""
    """A MAIL's or REPLY's body: HTML or plain text, nothing says which."""
    comment: Text = ""
    """A COMMENT's text; empty when the COMMENT is an event Thulium logged."""
    system_comment: Text = ""
    """What Thulium logged (a status change, an assignment)."""
    created_at: Text = ""
    """Wall-clock time in the account's zone, `YYYY-MM-DD HH:MM[:SS]`."""
    attachments: Texts = Field(default_factory=list)
    """Bare attachment ids, without names."""


class ThuliumTicket(WireModel):
    """A ticket as `GET tickets/{id}` answers it, or one row of `GET tickets` (which has no messages)."""

    ticket_id: Id = None
    """A string in lists (`"23962"`), a number alone."""
    subject: Text = ""
    status_id: Id = None
    substatus_id: Id = None
    full_status_name: Text = ""
    """The status's name, with the substatus's after a slash."""
    from_: Text = Field("", alias="from")
    """The customer's e-mail address."""
    customer_id: Id = None
    user_login: Text = ""
    """The agent the ticket is assigned to."""
    ticket_queue_name: Text = ""
    tags: Texts = Field(default_factory=list)
    created_at: Text = ""
    updated_at: Text = ""
    messages: Objects[ThuliumMessage] = Field(default_factory=list)
    """Not in time order: imports may backdate them."""
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    """Field name to a value or a list of values."""

    @field_validator("custom_fields", mode="before")
    @classmethod
    def _fields_object(cls, value: Any) -> Any:
        return value if isinstance(value, dict) else {}


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

    def summary(self, wire: ThuliumTicket) -> TicketSummary:
        return TicketSummary(**self._summary_fields(wire))

    def ticket(self, wire: ThuliumTicket) -> Ticket:
        fields = self._summary_fields(wire)
        requester = fields.get("requester")
        parsed = [self.message(item, requester) for item in wire.messages]
        oldest = datetime.min.replace(tzinfo=UTC)
        return Ticket(
            **fields,
            messages=sorted(parsed, key=lambda m: (m.created_at or oldest, serial(m.id))),
            custom_fields=_custom_fields(wire.custom_fields),
        )

    def _summary_fields(self, wire: ThuliumTicket) -> dict[str, Any]:
        if wire.ticket_id is None:
            raise UnavailableError("Thulium listed a ticket without a ticket_id, which its API does not do.")
        reading = self.statuses.read(wire.status_id, wire.full_status_name)
        email = wire.from_.strip() or None
        login = wire.user_login.strip()
        return {
            "ref": make_ref(self.backend, wire.ticket_id),
            "subject": wire.subject.strip(),
            "status": reading.status,
            "status_label": reading.label,
            "requester": Person(id=wire.customer_id, email=email) if email or wire.customer_id else None,
            "assignee": Person(id=login) if login else None,
            "queue": wire.ticket_queue_name.strip() or None,
            "tags": wire.tags,
            "created_at": to_utc(wire.created_at, self.zone),
            "updated_at": to_utc(wire.updated_at, self.zone),
        }

    def message(self, wire: ThuliumMessage, requester: Person | None) -> Message:
        login = wire.user_login.strip()
        agent = Person(id=login) if login else None
        kind = _KINDS.get(wire.type.strip().upper())
        if kind is not None:
            body = wire.body
        else:
            # A COMMENT is an internal note, or, holding only `system_comment`, an event Thulium logged.
            comment, event = wire.comment, wire.system_comment
            kind = "internal_note" if comment.strip() or not event.strip() else "system"
            body = "\n\n".join(part for part in (comment, event) if part.strip())
        return Message(
            id=wire.message_id.strip(),
            kind=kind,
            author=requester if kind == "customer" else agent,
            body=to_plain_text(body),
            created_at=to_utc(wire.created_at, self.zone),
            attachments=[self.names.attachment(attachment_id) for attachment_id in attachment_ids(wire)],
        )


def status_fields(wire: ThuliumTicket) -> tuple[str | None, str | None, str]:
    """A ticket's `status_id`, `substatus_id` and `full_status_name`, as `StatusMap.learn` takes them."""
    return wire.status_id, wire.substatus_id, wire.full_status_name


def serial(value: str) -> int:
    """A numeric id as a number to order by; ids that are not digits come first."""
    return int(value) if value.strip().isdigit() else 0


def _custom_fields(raw: dict[str, Any]) -> dict[str, str]:
    fields = {}
    for name, value in raw.items():
        shown = ", ".join(text(v) for v in value) if isinstance(value, list) else text(value)
        if shown.strip():
            fields[name] = shown.strip()
    return fields


def attachment_ids(message: ThuliumMessage) -> list[str]:
    """A message's attachments: the API lists them as bare ids, without names."""
    return [i for i in (ident(value) for value in message.attachments) if i is not None]
