"""Plusofon's JSON, read into the normalized model.

Plusofon's ticket API fronts an XML-speaking support desk and shows it. The list documented on the
vendor's page is an object `{"ticket": ...}` whose entries keep their id under `@attributes`, write
numbers as strings and empty fields as `[]`, and whose single entry is not wrapped in a list; an older
page documents a plain array of tickets. Both are read. List times are Unix seconds; the `date` of a
ticket and of its posts is wall-clock time in the account's zone (Moscow unless configured).

The API is the customer's side of Plusofon's support: every post is either the account's (a customer
message) or Plusofon staff's (an agent reply). A post names its author only by id and name, so a post
is the customer's when its author opened the ticket, or when the name is an e-mail address, which is
how Plusofon names account users (its staff go by their names).

The account's own posts are read as the plain text the API took them as (`description`, `text`), so
that `<b>` written in one stays text; staff answers come as HTML (a guess from what support replies
look like) and are flattened when they look like it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field, ValidationError, model_validator

from ..invisible import clean_text
from ..loose import Flag, Object, Text, WireModel, as_list, number, text
from ..model import (
    Attachment,
    Message,
    MessageKind,
    Person,
    Status,
    Ticket,
    TicketSummary,
    make_ref,
)
from ..text import to_plain_text

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_OLDEST = datetime.min.replace(tzinfo=UTC)


class ShapeError(ValueError):
    """The vendor answered JSON, but not in a shape its documentation describes."""


@dataclass(frozen=True)
class Statuses:
    """The normalized statuses of Plusofon's two states, `status: true` (active) and `false` (closed)."""

    open: Status
    closed: Status

    def of(self, active: bool) -> Status:
        return self.open if active else self.closed

    def states(self, wanted: tuple[Status, ...]) -> tuple[bool, ...]:
        """The list states that hold tickets of the `wanted` statuses (all of them when none is wanted)."""
        return tuple(active for active in (True, False) if not wanted or self.of(active) in wanted)


def _xml_list(key: str) -> Callable[[Any], list[Any]]:
    """A list however XML-derived JSON spells it: a list, one entry alone, `{key: ...}`, or empty."""

    def items(value: Any) -> list[Any]:
        while isinstance(value, dict) and key in value:
            value = value[key]
        return as_list(value)

    return items


class _Attributes(WireModel):
    id: Text = ""


class ListedTicket(WireModel):
    """One entry of the ticket list (`GET api/v1/ticket?state=...`)."""

    attributes: Object[_Attributes] = Field(_Attributes(), alias="@attributes")
    """Where the documented list keeps the id."""
    id: Text = ""
    """The older array shape's id."""
    displayid: Text = ""
    subject: Text = ""
    email: Text = ""
    fullname: Text = ""
    userid: Text = ""
    creationtime: Text = ""
    """Unix seconds, as a string."""
    lastactivity: Text = ""


class _Author(WireModel):
    id: Text = ""
    name: Text = ""
    """An e-mail address for the account's users, a name for Plusofon's staff."""


def _attachments(value: Any) -> list[Any]:
    """Objects and non-empty names (a bare string); anything else is not an attachment."""
    items = _xml_list("attachment")(value)
    return [item for item in items if isinstance(item, dict) or (isinstance(item, str) and item.strip())]


class PostAttachment(WireModel):
    """A post's attachment: its shape is not documented, so the usual field names are all read."""

    id: Text = ""
    attachmentid: Text = ""
    filename: Text = ""
    name: Text = ""
    file_name: Text = ""
    filesize: Text = ""
    size: Text = ""
    filetype: Text = ""
    mime_type: Text = ""
    mime: Text = ""

    @model_validator(mode="before")
    @classmethod
    def _bare_name(cls, value: Any) -> Any:
        return {"filename": value} if isinstance(value, str) else value


class Post(WireModel):
    """One post of a ticket: a message of the account's or of Plusofon's staff."""

    id: Text = ""
    date: Text = ""
    """Wall-clock time in the account's zone, `YYYY-MM-DD HH:MM:SS`."""
    author: Object[_Author] = _Author()
    text: Text = ""
    """What the account wrote as plain text; staff answers as HTML."""
    attachments: Annotated[list[PostAttachment], BeforeValidator(_attachments)] = Field(default_factory=list)


class PlusofonTicket(WireModel):
    """One ticket as `GET api/v1/ticket/{id}`, create and answer return it."""

    id: Text = ""
    status: Flag = False
    """`true` while active, `false` once closed."""
    subject: Text = ""
    date: Text = ""
    unread_messages: Flag = False
    posts: Annotated[list[Post], BeforeValidator(_xml_list("post"))] = Field(default_factory=list)


def listed_tickets(payload: Any, *, backend: str, status: Status, zone: ZoneInfo) -> list[TicketSummary]:
    """The tickets of one list answer (`GET api/v1/ticket` with `state`), in either documented shape."""
    return [_summary(entry, backend, status, zone) for entry in _list_entries(payload)]


def read_ticket(payload: Any, *, backend: str, statuses: Statuses, zone: ZoneInfo) -> Ticket:
    """One ticket as `GET api/v1/ticket/{id}`, create and answer return it: with its posts."""
    if not isinstance(payload, dict) or not text(payload.get("id")) or "status" not in payload:
        raise ShapeError("a ticket without id or status")
    try:
        wire = PlusofonTicket.model_validate(payload)
    except ValidationError:
        raise ShapeError("a post without id") from None
    messages = _messages(wire.posts, zone)
    created_at = parse_time(wire.date, zone)
    latest = max((m.created_at for m in messages if m.created_at), default=None)
    return Ticket(
        ref=make_ref(backend, wire.id),
        subject=clean_text(wire.subject),
        status=statuses.of(wire.status),
        requester=messages[0].author if messages and messages[0].kind == "customer" else None,
        created_at=created_at,
        updated_at=max((t for t in (latest, created_at) if t), default=None),
        messages=messages,
        custom_fields={"unread_messages": "true"} if wire.unread_messages else {},
    )


def parse_time(value: Any, zone: ZoneInfo) -> datetime | None:
    """A vendor time in UTC: Unix seconds as number or digits, or a local "YYYY-MM-DD HH:MM:SS"."""
    found = text(value).strip()
    if not found or found == "0":
        return None
    if found.isdigit():
        return datetime.fromtimestamp(int(found), UTC)
    try:
        parsed = datetime.fromisoformat(found)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).astimezone(UTC)


def comparable(text: str) -> str:
    """Plain text as words, to tell whether the vendor holds a message we sent (it may respace it)."""
    return " ".join(to_plain_text(text, html=False).split())


def _list_entries(payload: Any) -> list[ListedTicket]:
    if isinstance(payload, dict) and ("ticket" in payload or "tickets" in payload):
        entries = _xml_list("ticket")(payload.get("tickets", payload.get("ticket")))
    elif isinstance(payload, list) or payload == {}:  # the older array shape; `{}` is an empty XML list
        entries = _xml_list("ticket")(payload)
    else:
        raise ShapeError("a ticket list that is neither an array nor an object with `ticket`")
    if not all(isinstance(entry, dict) for entry in entries):
        raise ShapeError("a ticket list entry that is not an object")
    return [ListedTicket.model_validate(entry) for entry in entries]


def _summary(entry: ListedTicket, backend: str, status: Status, zone: ZoneInfo) -> TicketSummary:
    ticket_id = entry.attributes.id or entry.id or entry.displayid
    if not ticket_id:
        raise ShapeError("a listed ticket without id")
    created_at = parse_time(entry.creationtime, zone)
    email = entry.email.strip()
    name = entry.fullname.strip()
    user_id = entry.userid.strip()
    requester = (
        Person(id=user_id or None, name=name if name and name != email else None, email=email or None)
        if user_id or name or email
        else None
    )
    return TicketSummary(
        ref=make_ref(backend, ticket_id),
        subject=clean_text(entry.subject),
        status=status,
        requester=requester,
        created_at=created_at,
        updated_at=parse_time(entry.lastactivity, zone) or created_at,
    )


@dataclass(frozen=True)
class _Post:
    id: str
    created_at: datetime | None
    author_id: str
    author_name: str
    text: str
    attachments: list[Attachment]


def _messages(posts: list[Post], zone: ZoneInfo) -> list[Message]:
    parsed = sorted(
        (_post(post, zone) for post in posts),
        key=lambda p: (p.created_at or _OLDEST, int(p.id) if p.id.isdigit() else 0, p.id),
    )
    opener = parsed[0].author_id if parsed else ""
    messages = []
    for post in parsed:
        kind = _kind(post, opener)
        messages.append(
            Message(
                id=post.id,
                kind=kind,
                author=_author(post),
                body=to_plain_text(post.text, html=False if kind == "customer" else None),
                created_at=post.created_at,
                attachments=post.attachments,
            )
        )
    return messages


def _post(post: Post, zone: ZoneInfo) -> _Post:
    if not post.id:
        raise ShapeError("a post without id")
    return _Post(
        id=post.id,
        created_at=parse_time(post.date, zone),
        author_id=post.author.id.strip(),
        author_name=clean_text(post.author.name),
        text=post.text,
        attachments=[
            _attachment(item, f"{post.id}-{place}") for place, item in enumerate(post.attachments, 1)
        ],
    )


def _kind(post: _Post, opener: str) -> MessageKind:
    if (post.author_id and post.author_id == opener) or _EMAIL.fullmatch(post.author_name):
        return "customer"
    return "agent"


def _author(post: _Post) -> Person | None:
    if not (post.author_id or post.author_name):
        return None
    email = post.author_name if _EMAIL.fullmatch(post.author_name) else None
    return Person(id=post.author_id or None, name=None if email else post.author_name or None, email=email)


def _attachment(item: PostAttachment, fallback_id: str) -> Attachment:
    attachment_id = item.id or item.attachmentid or fallback_id
    mime_type = (item.filetype or item.mime_type or item.mime).strip()
    return Attachment(
        id=attachment_id,
        filename=item.filename or item.name or item.file_name or f"attachment-{attachment_id}",
        mime_type=mime_type or None,
        size=number(item.filesize or item.size),
    )
