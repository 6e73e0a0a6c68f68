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
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..invisible import clean_text
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


def listed_tickets(payload: Any, *, backend: str, status: Status, zone: ZoneInfo) -> list[TicketSummary]:
    """The tickets of one list answer (`GET api/v1/ticket` with `state`), in either documented shape."""
    return [_summary(entry, backend, status, zone) for entry in _list_entries(payload)]


def read_ticket(payload: Any, *, backend: str, statuses: Statuses, zone: ZoneInfo) -> Ticket:
    """One ticket as `GET api/v1/ticket/{id}`, create and answer return it: with its posts."""
    if not isinstance(payload, dict) or not _text(payload.get("id")) or "status" not in payload:
        raise ShapeError("a ticket without id or status")
    ticket_id = _text(payload["id"])
    messages = _messages(_items(payload.get("posts"), "post"), zone)
    created_at = parse_time(payload.get("date"), zone)
    latest = max((m.created_at for m in messages if m.created_at), default=None)
    unread = _flag(payload.get("unread_messages"))
    return Ticket(
        ref=make_ref(backend, ticket_id),
        subject=clean_text(_text(payload.get("subject"))),
        status=statuses.of(_flag(payload["status"])),
        requester=messages[0].author if messages and messages[0].kind == "customer" else None,
        created_at=created_at,
        updated_at=max((t for t in (latest, created_at) if t), default=None),
        messages=messages,
        custom_fields={"unread_messages": "true"} if unread else {},
    )


def parse_time(value: Any, zone: ZoneInfo) -> datetime | None:
    """A vendor time in UTC: Unix seconds as number or digits, or a local "YYYY-MM-DD HH:MM:SS"."""
    text = _text(value).strip()
    if not text or text == "0":
        return None
    if text.isdigit():
        return datetime.fromtimestamp(int(text), UTC)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).astimezone(UTC)


def comparable(text: str) -> str:
    """Plain text as words, to tell whether the vendor holds a message we sent (it may respace it)."""
    return " ".join(to_plain_text(text, html=False).split())


def _list_entries(payload: Any) -> list[dict[str, Any]]:
    if isinstance(payload, dict) and ("ticket" in payload or "tickets" in payload):
        entries = _items(payload.get("tickets", payload.get("ticket")), "ticket")
    elif isinstance(payload, list) or payload == {}:  # the older array shape; `{}` is an empty XML list
        entries = _items(payload, "ticket")
    else:
        raise ShapeError("a ticket list that is neither an array nor an object with `ticket`")
    if not all(isinstance(entry, dict) for entry in entries):
        raise ShapeError("a ticket list entry that is not an object")
    return entries


def _summary(entry: dict[str, Any], backend: str, status: Status, zone: ZoneInfo) -> TicketSummary:
    attributes = entry.get("@attributes")
    ticket_id = _text(attributes.get("id") if isinstance(attributes, dict) else None)
    ticket_id = ticket_id or _text(entry.get("id")) or _text(entry.get("displayid"))
    if not ticket_id:
        raise ShapeError("a listed ticket without id")
    created_at = parse_time(entry.get("creationtime"), zone)
    email = _text(entry.get("email")).strip()
    name = _text(entry.get("fullname")).strip()
    user_id = _text(entry.get("userid")).strip()
    requester = (
        Person(id=user_id or None, name=name if name and name != email else None, email=email or None)
        if user_id or name or email
        else None
    )
    return TicketSummary(
        ref=make_ref(backend, ticket_id),
        subject=clean_text(_text(entry.get("subject"))),
        status=status,
        requester=requester,
        created_at=created_at,
        updated_at=parse_time(entry.get("lastactivity"), zone) or created_at,
    )


@dataclass(frozen=True)
class _Post:
    id: str
    created_at: datetime | None
    author_id: str
    author_name: str
    text: str
    attachments: list[Attachment]


def _messages(posts: list[Any], zone: ZoneInfo) -> list[Message]:
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


def _post(post: Any, zone: ZoneInfo) -> _Post:
    if not isinstance(post, dict) or not _text(post.get("id")):
        raise ShapeError("a post without id")
    post_id = _text(post["id"])
    author = post.get("author")
    author = author if isinstance(author, dict) else {}
    attachments = [
        _attachment(item, f"{post_id}-{number}")
        for number, item in enumerate(_items(post.get("attachments"), "attachment"), 1)
    ]
    return _Post(
        id=post_id,
        created_at=parse_time(post.get("date"), zone),
        author_id=_text(author.get("id")).strip(),
        author_name=clean_text(_text(author.get("name"))),
        text=_text(post.get("text")),
        attachments=[a for a in attachments if a is not None],
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


def _attachment(item: Any, fallback_id: str) -> Attachment | None:
    """An attachment entry; its shape is not documented, so the usual field names are all read."""
    if isinstance(item, str):
        return Attachment(id=fallback_id, filename=item) if item.strip() else None
    if not isinstance(item, dict):
        return None
    attachment_id = _text(item.get("id") or item.get("attachmentid")) or fallback_id
    filename = _text(item.get("filename") or item.get("name") or item.get("file_name"))
    size = _text(item.get("filesize") or item.get("size")).strip()
    mime_type = _text(item.get("filetype") or item.get("mime_type") or item.get("mime")).strip()
    return Attachment(
        id=attachment_id,
        filename=filename or f"attachment-{attachment_id}",
        mime_type=mime_type or None,
        size=int(size) if size.isdigit() else None,
    )


def _items(value: Any, key: str) -> list[Any]:
    """A list however XML-derived JSON spells it: a list, one object not wrapped, `{key: ...}`, or empty."""
    if value is None or value in ("", [], {}):
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and key in value:
        return _items(value[key], key)
    return [value]


def _text(value: Any) -> str:
    """A field as text: numbers written either way, and XML's empty element (`[]`, `{}`) as empty."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value if isinstance(value, str) else ""


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes"}
    return bool(value) if isinstance(value, bool | int) else False
