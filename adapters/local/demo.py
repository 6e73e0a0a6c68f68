"""Demo data for the local helpdesk: a handful of made-up tickets to try the tools on.

`demo.json` gives each message an age in hours instead of a date, so that the tickets look fresh
whenever they are loaded.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import InvalidInputError
from ..model import FileUpload, MessageKind, Priority, Status
from .store import Contact, ImportedMessage, ImportedTicket, NotEmptyError, Store

DEMO_FILE = Path(__file__).with_name("demo.json")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _DemoPerson(_Strict):
    name: str
    email: str
    agent: bool = False


class _DemoAttachment(_Strict):
    filename: str
    mime_type: str
    base64: str


class _DemoMessage(_Strict):
    kind: MessageKind
    author: str | None
    age_hours: float = Field(ge=0)
    body: str
    attachments: list[_DemoAttachment] = Field(default_factory=list)


class _DemoTicket(_Strict):
    subject: str
    status: Status
    priority: Priority
    requester: str
    assignee: str | None
    tags: list[str]
    messages: list[_DemoMessage] = Field(min_length=1)

    @model_validator(mode="after")
    def _oldest_first(self) -> _DemoTicket:
        ages = [message.age_hours for message in self.messages]
        if ages != sorted(ages, reverse=True):
            raise ValueError(f"messages of {self.subject!r} must be listed oldest first")
        return self


class _DemoData(_Strict):
    about: str
    people: dict[str, _DemoPerson]
    tickets: list[_DemoTicket]

    @model_validator(mode="after")
    def _known_people(self) -> _DemoData:
        for ticket in self.tickets:
            handles = {ticket.requester, ticket.assignee, *(message.author for message in ticket.messages)}
            unknown = handles - {None, *self.people}
            if unknown:
                raise ValueError(f"{ticket.subject!r} names unknown people: {sorted(map(str, unknown))}")
        return self


def demo_tickets(now: datetime) -> list[ImportedTicket]:
    """The demo tickets, dated relative to `now`."""
    data = _DemoData.model_validate_json(DEMO_FILE.read_text(encoding="utf-8"))
    return [_ticket(ticket, data.people, now) for ticket in data.tickets]


def load_demo(path: Path) -> int:
    """Load the demo tickets into the local helpdesk at `path` and return how many were loaded.

    Refuses a store that already holds tickets, so that demo data never mixes with real tickets.
    """
    store = Store(path)
    try:
        return store.import_into_empty(demo_tickets(datetime.now(UTC)))
    except NotEmptyError as error:
        raise InvalidInputError(
            f"The local helpdesk at {path} already holds {error.tickets} tickets; demo data is only "
            "loaded into an empty store: point HELPDESK_DB at a new file."
        ) from None
    finally:
        store.close()


def _contact(handle: str | None, people: dict[str, _DemoPerson]) -> Contact | None:
    if handle is None:
        return None
    person = people[handle]
    return Contact(name=person.name, email=person.email, agent=person.agent)


def _ticket(ticket: _DemoTicket, people: dict[str, _DemoPerson], now: datetime) -> ImportedTicket:
    messages = tuple(_message(message, people, now) for message in ticket.messages)
    return ImportedTicket(
        subject=ticket.subject,
        status=ticket.status,
        priority=ticket.priority,
        requester=_contact(ticket.requester, people),
        assignee=_contact(ticket.assignee, people),
        tags=tuple(ticket.tags),
        created_at=messages[0].created_at,
        updated_at=messages[-1].created_at,
        messages=messages,
    )


def _message(message: _DemoMessage, people: dict[str, _DemoPerson], now: datetime) -> ImportedMessage:
    return ImportedMessage(
        kind=message.kind,
        author=_contact(message.author, people),
        body=message.body,
        created_at=now - timedelta(hours=message.age_hours),
        attachments=tuple(
            FileUpload(
                filename=attachment.filename,
                mime_type=attachment.mime_type,
                content=base64.b64decode(attachment.base64, validate=True),
            )
            for attachment in message.attachments
        ),
    )
