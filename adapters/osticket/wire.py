"""osTicket's wire formats: the ticket API extension's JSON read into the model, and requests written
out (its error answers are read in `errors`).

The extension serializes osTicket's own ORM objects, so fields come as the PHP code left them: ids as
numbers or strings, names as plain strings or `PersonsName` objects, thread entries wrapped in
`model`/`annotations`, timestamps without offset in the database server's time zone, and a list item's
status under `status` where ticketInfo says `ticket_status`. All of that is tolerated here.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import httpx
from pydantic import AliasChoices, BeforeValidator, Field, field_validator, model_validator

from ..escaped_html import escaped_html
from ..loose import Count, Id, Object, Objects, OptionalText, Text, WireModel, optional_text
from ..model import (
    Attachment,
    FileUpload,
    Message,
    MessageKind,
    NewTicket,
    Person,
    Priority,
    Ticket,
    make_ref,
)
from ..text import to_plain_text
from .statuses import StatusMap

PRIORITY_IDS: dict[Priority, int] = {"low": 1, "normal": 2, "high": 3, "urgent": 4}
PRIORITIES: dict[str, Priority] = {"low": "low", "normal": "normal", "high": "high", "emergency": "urgent"}
KINDS: dict[str, MessageKind] = {"M": "customer", "R": "agent", "N": "internal_note"}
# osTicket writes its own notes (a rejected attachment, say) with this poster and no staff member.
SYSTEM_POSTER = "SYSTEM"
# Ticket numbers are six digits by default, but admins may configure other formats.
TICKET_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
# What `Format::strip_emoticons` removes from messages and subjects (include/class.format.php, 1.18;
# read in osTicket's source): emoji, dingbats, clock and keyboard signs, and U+00A9-U+00AE too.
STRIPPED = re.compile(
    "[\U0001f300-\U0001f5ff\U0001f600-\U0001f64f\U0001f680-\U0001f6d2\U0001f6e0-\U0001f6ff\U0001f910-\U0001f999"
    "\U0001f9c0-\U0001f9c2\U0001f9d0-\U0001f9ef\u2702-\u27b0\u00a9-\u00ae\u23e0-\u23ff"
    "\u2310-\u231f\u2322-\u232f\U001000b6]"
)
# The four entities `htmlspecialchars` writes, which a text-format body is stored with.
_SPECIAL = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"'}
_SPECIAL_ENTITY = re.compile("|".join(_SPECIAL))


# ---------------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------------


def local_time(value: Any, zone: ZoneInfo) -> datetime | None:
    """A `YYYY-MM-DD HH:MM:SS` in the helpdesk's time zone as UTC; MySQL's zero date and junk are None."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str) or not value.strip() or value.startswith("0000-00-00"):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).astimezone(UTC)


def person_name(value: Any) -> str | None:
    """A name given as a plain string or as osTicket's `PersonsName` object."""
    if isinstance(value, Mapping):
        name = optional_text(value.get("name"))
        if name:
            return name
        parts = value.get("parts")
        if isinstance(parts, Mapping):
            keys = ("salutation", "first", "middle", "last", "suffix")
            words = [optional_text(parts.get(key)) for key in keys]
            return " ".join(word for word in words if word) or None
        return None
    return optional_text(value)


def _email(value: Any) -> str | None:
    """The bare address: osTicket's `EmailAddress` has `email` (bare) and `address` (`"Name" <bare>`)
    since 1.11 (include/class.user.php); older answers and plain strings may carry the display form."""
    if isinstance(value, Mapping):
        value = value.get("email") or value.get("address")
    found = optional_text(value)
    return (parseaddr(found)[1] or found) if found else None


def _assignee(value: Any) -> Person | None:
    """The first staff member the ticket is assigned to, else its team; osTicket lists both by name."""
    entries = value if isinstance(value, list) else [value]
    names = [(isinstance(entry, Mapping), person_name(entry)) for entry in entries]
    for staff in (True, False):
        for is_person, name in names:
            if name and is_person == staff:
                return Person(name=name)
    return None


def _moment(value: Any) -> str | float | None:
    """A time as the extension sends it: a string in the database's zone, or Unix seconds."""
    return value if isinstance(value, str | int | float) and not isinstance(value, bool) else None


PersonName = Annotated[str | None, BeforeValidator(person_name)]
"""A plain string or a `PersonsName` object (`name`, or `parts` first, last...)."""
Moment = Annotated[str | float | None, BeforeValidator(_moment)]


class NestedBody(WireModel):
    """An entry's `message` where the body is not a string: `{body, type}`."""

    body: str | None = None
    type: Text = ""


class ThreadEntry(WireModel):
    """One of a ticket's `thread_entries`; annotated rows come wrapped as `{model, annotations}`."""

    id: Id = None
    type: Text = ""
    """M (the customer's message), R (an agent's response), N (an internal note)."""
    poster: Text = ""
    staff_id: Id = None
    staff_name: PersonName = None
    user_id: Id = None
    user_name: PersonName = None
    body: str | None = None
    format: Text = ""
    """html or text: how osTicket stored `body`."""
    message: Object[NestedBody] = NestedBody()
    created: Moment = None
    has_attachments: Count = None
    """How many files the entry has (an annotation); the API gives no names."""

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return {}
        model, annotations = value.get("model"), value.get("annotations")
        if not isinstance(model, Mapping):
            return value
        counted = annotations.get("has_attachments") if isinstance(annotations, Mapping) else None
        return {**model, "has_attachments": counted}

    @field_validator("body", mode="before")
    @classmethod
    def _string_body(cls, value: Any) -> Any:
        return value if isinstance(value, str) else None


class OsticketTicket(WireModel):
    """One ticket object of ticketInfo, staffTickets or clientTickets."""

    ticket_number: OptionalText = None
    number: OptionalText = None
    status: PersonName = Field(None, validation_alias=AliasChoices("ticket_status", "status"))
    """`ticket_status` in ticketInfo, `status` in lists: a name or an object with `name`."""
    subject: Text = ""
    priority: PersonName = None
    user_name: PersonName = None
    user_email: Annotated[str | None, BeforeValidator(_email)] = None
    user_phone: OptionalText = None
    assigned_to: Annotated[Person | None, BeforeValidator(_assignee)] = None
    """Staff members (objects) and a team (a string), as names."""
    department: OptionalText = None
    help_topic: OptionalText = None
    source: OptionalText = None
    create_timestamp: Moment = None
    close_timestamp: Moment = None
    due_timestamp: Moment = None
    last_message_timestamp: Moment = None
    last_response_timestamp: Moment = None
    thread_entries: Objects[ThreadEntry] = Field(default_factory=list)


def _kind(entry: ThreadEntry) -> MessageKind:
    kind = KINDS.get(entry.type.strip().upper(), "system")
    if kind == "internal_note" and entry.poster == SYSTEM_POSTER and entry.staff_id is None:
        return "system"
    return kind


def _body(entry: ThreadEntry) -> str:
    body, kind = entry.body, entry.format
    if body is None:
        body, kind = entry.message.body, kind or entry.message.type
    if body is None:
        return ""
    html = {"html": True, "text": False}.get(kind.lower())
    if html is False:
        # TextThreadEntryBody::getClean stores text HTML-escaped (Format::htmlchars).
        body = _SPECIAL_ENTITY.sub(lambda entity: _SPECIAL[entity.group()], body)
    return to_plain_text(body, html=html)


def unnamed_attachments(entry_id: str, count: int) -> list[Attachment]:
    """What the extension tells of an entry's files: how many there are, not their names."""
    return [
        Attachment(
            id=f"{entry_id}.{n}", filename=f"attachment {n} of {count} (osTicket's API gives no file name)"
        )
        for n in range(1, count + 1)
    ]


def _message(entry: ThreadEntry, zone: ZoneInfo) -> Message | None:
    if entry.id is None:
        return None
    kind = _kind(entry)
    if kind == "customer":
        author_name, author_id = entry.user_name, entry.user_id
    else:
        author_name, author_id = entry.staff_name, entry.staff_id
    author_name = author_name or (None if kind == "system" else entry.poster.strip() or None)
    return Message(
        id=entry.id,
        kind=kind,
        author=Person(id=author_id, name=author_name) if author_name or author_id else None,
        body=_body(entry),
        created_at=local_time(entry.created, zone),
        attachments=unnamed_attachments(entry.id, entry.has_attachments or 0),
    )


def _entry_order(message: Message) -> tuple[datetime, int, str]:
    number = int(message.id) if message.id.isdigit() else 0
    return (message.created_at or datetime.min.replace(tzinfo=UTC), number, message.id)


def parse_ticket(raw: Mapping[str, Any], *, backend: str, statuses: StatusMap, zone: ZoneInfo) -> Ticket:
    """One ticket object of ticketInfo, staffTickets or clientTickets."""
    wire = OsticketTicket.model_validate(raw)
    closed_at = local_time(wire.close_timestamp, zone)
    status, label = statuses.normalize(wire.status, closed=closed_at is not None)
    created = local_time(wire.create_timestamp, zone)
    activity = [
        t
        for t in (
            created,
            local_time(wire.last_message_timestamp, zone),
            local_time(wire.last_response_timestamp, zone),
        )
        if t is not None
    ]
    messages = [m for m in (_message(e, zone) for e in wire.thread_entries) if m is not None]
    due = local_time(wire.due_timestamp, zone)
    extra = {
        "help_topic": wire.help_topic,
        "source": wire.source,
        "phone": wire.user_phone,
        "due_at": due.strftime("%Y-%m-%dT%H:%M:%SZ") if due else None,
    }
    return Ticket(
        ref=make_ref(backend, wire.ticket_number or wire.number or ""),
        subject=wire.subject.strip(),
        status=status,
        status_label=label,
        priority=PRIORITIES.get((wire.priority or "").casefold()),
        requester=Person(name=wire.user_name, email=wire.user_email)
        if wire.user_name or wire.user_email
        else None,
        assignee=wire.assigned_to,
        queue=wire.department,
        created_at=created,
        updated_at=max(activity) if activity else None,
        messages=sorted(messages, key=_entry_order),
        custom_fields={key: value for key, value in extra.items() if value},
    )


def entry_format(ticket: Mapping[str, Any], entry_id: str) -> str | None:
    """The format (`html` or `text`) osTicket stored thread entry `entry_id` in."""
    for entry in OsticketTicket.model_validate(ticket).thread_entries:
        if entry.id == entry_id:
            return entry.format.strip() or None
    return None


def ticket_of(payload: Any) -> Mapping[str, Any] | None:
    """The ticket object of a ticketInfo answer."""
    ticket = payload.get("ticket") if isinstance(payload, Mapping) else None
    return ticket if isinstance(ticket, Mapping) else None


def tickets_of(payload: Any) -> list[Mapping[str, Any]]:
    """The ticket objects of a staffTickets or clientTickets answer."""
    tickets = payload.get("tickets") if isinstance(payload, Mapping) else None
    return [t for t in tickets if isinstance(t, Mapping)] if isinstance(tickets, list) else []


def created_number(response: httpx.Response) -> str | None:
    """The ticket number a create answered with (HTTP 201, plain text), or None for anything else."""
    if response.status_code != 201:
        return None
    text = response.text.strip()
    return text if TICKET_NUMBER.fullmatch(text) else None


# ---------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------


def message_data_uri(text: str) -> str:
    """A message as an RFC 2397 data URI of HTML that declares UTF-8.

    Without a charset osTicket transcodes a message from ISO-8859-1 and mangles Cyrillic and Polish; a
    plain string that happens to start with "data:" would be parsed as a URI. Raw text follows the comma:
    osTicket applies no URL-decoding. HTML rather than text: a text body goes through libxml's balancing,
    which adds a closing tag for anything that looks like an opening one (`<tag>` gains `</tag>`).
    """
    return f"data:text/html;charset=utf-8,{as_html(text)}"


def file_data_uri(upload: FileUpload) -> str:
    """A file as `data:<mime>;base64,...`, never with a charset.

    osTicket's parser reads `;charset=x;base64` as charset `x;base64` and then never decodes the base64,
    so the parameters a MIME type may carry are dropped.
    """
    mime = upload.mime_type.split(";")[0].strip() or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(upload.content).decode()}"


def attachments_field(uploads: Sequence[FileUpload]) -> list[dict[str, str]]:
    """osTicket's attachment list: one single-key object per file, name to data URI."""
    return [{upload.filename: file_data_uri(upload)} for upload in uploads]


def create_payload(ticket: NewTicket, email: str) -> dict[str, Any]:
    # `name` is required; osTicket itself falls back to the address's local part, and so do we.
    payload: dict[str, Any] = {
        "email": email,
        "name": (ticket.requester_name or "").strip() or email.partition("@")[0],
        "subject": ticket.subject,
        "message": message_data_uri(ticket.body),
    }
    if ticket.priority is not None:
        payload["priorityId"] = PRIORITY_IDS[ticket.priority]
    if ticket.attachments:
        payload["attachments"] = attachments_field(ticket.attachments)
    return payload


def as_html(text: str) -> str:
    """Plain text as HTML that osTicket stores as that text.

    `Format::safe_html` decodes entities once before it cleans tags (include/class.format.php), so an
    escaped `&lt;tag&gt;` would become a tag and be removed; every `&` is escaped a second time so that
    the decoding step yields the escaped text, which is kept.
    """
    return escaped_html(text.strip(), paragraph=False, line_break="<br />").replace("&", "&amp;")


def as_escaped_text(text: str) -> str:
    """Plain text that osTicket stores as that text where it stores a reply as text (rich text off).

    `TextThreadEntryBody::getClean` balances the text as HTML with libxml, which decodes entities and
    writes `&`, `<` and `>` back escaped, then escapes it without double-encoding: sent escaped, a
    `<tag>` gains no `</tag>` and `&lt;b&gt;` stays as written.
    """
    return html.escape(text.strip(), quote=False)


def reply_payload(
    number: str, staff_user: str, response: str, status_id: int | None, uploads: Sequence[FileUpload]
) -> dict[str, Any]:
    """The body of reply.json, with the fields of the vendor's own example that matter.

    `response` is stored as HTML where rich text is on (osTicket's default) and as text otherwise;
    `emailreply` e-mails the reply to the customer, as a public reply must.
    """
    payload: dict[str, Any] = {
        "ticketNumber": number,
        "a": "reply",
        "emailreply": "1",
        "emailcollab": "1",
        "response": response,
        "signature": "none",
        "staffUserName": staff_user,
    }
    if status_id is not None:
        payload["reply_status_id"] = str(status_id)
    if uploads:
        payload["attachments"] = attachments_field(uploads)
    return payload


def as_stored(text: str) -> str:
    """Text as osTicket keeps it: without the characters `Format::strip_emoticons` removes."""
    return STRIPPED.sub("", text)


def same_text(stored: str, sent: str) -> bool:
    """Whether a thread entry's text is the text we sent, whatever HTML did to its spacing."""
    return " ".join(stored.split()) == " ".join(sent.split())


def refused_files(notes: Sequence[Message]) -> list[tuple[str, str]]:
    """(file name, osTicket's reason) of each `<name>: <reason>` system note, as api.tickets.php writes
    one for a file it refuses (`File size is too large`, `File type is not allowed`)."""
    refused = []
    for note in notes:
        name, colon, reason = note.body.strip().rpartition(": ")
        if note.kind == "system" and colon and name and reason and "\n" not in note.body.strip():
            refused.append((name, reason))
    return refused


def stored_subject(subject: str) -> str:
    """A subject as `TextboxField::parse` keeps it: entities decoded, tags stripped, emoji removed;
    close enough to recognize our ticket, not a promise of osTicket's exact result."""
    decoded = re.sub("&(amp|lt|gt|quot);", lambda entity: _SPECIAL[entity.group()], subject)
    return as_stored(re.sub(r"<[A-Za-z/!?][^>]*(?:>|$)", "", decoded)).strip()
