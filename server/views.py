"""What the model reads: compact result shapes and the presentation of tickets.

Fetching is the adapters' job; this module only shapes their normalized records for a model's
context window: empty fields left out, invisible characters removed, quoted mail history trimmed
and long bodies cut with directions to read on, one-line fields capped (a vendor may hold a subject of
any length), and attachments named by the resource URI that downloads them. Ids and refs are never
cut: a shortened id would name nothing.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, Field, field_validator

from helpdesk_mcp.adapters.model import (
    Attachment,
    Capabilities,
    Message,
    MessageKind,
    NotStored,
    Person,
    Status,
    Ticket,
    TicketSummary,
    UtcDateTime,
)
from helpdesk_mcp.adapters.text import TRIM_MARKER, clean_line, clean_text, trim_quoted

MAX_BODY_CHARS = 2000
# Longest one-line fields shown, in characters; each is well above what a person writes in one.
SUBJECT_CHARS = 300
NAME_CHARS = 120
EMAIL_CHARS = 254  # RFC 5321's longest address
TAG_CHARS = 60
LABEL_CHARS = 60
FILENAME_CHARS = 200
MIME_TYPE_CHARS = 100
FIELD_VALUE_CHARS = 500
REPLAYED = "true: this write was made by an earlier call; this is its result, nothing was sent again."
CLEANED = "What was cleaned out of the text before it was sent (invisible characters)."
TicketSummaryT = TypeVar("TicketSummaryT", bound=TicketSummary)


class SearchResult(BaseModel):
    tickets: list[TicketSummary]
    next_cursor: str | None = Field(
        default=None,
        description="Pass as `cursor`, with the same filters, for the next page; absent on the last.",
    )
    notes: list[str] = Field(default_factory=list, description="Backends left out of this search, and why.")

    @field_validator("tickets")
    @classmethod
    def _shown_clean(cls, tickets: list[TicketSummary]) -> list[TicketSummary]:
        return [present_summary(ticket) for ticket in tickets]


class CreatedTicket(BaseModel):
    ticket: str = Field(description="Ref of the new ticket.")
    status: Status
    created_at: UtcDateTime | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    replayed: bool = Field(default=False, description=REPLAYED)
    not_stored: list[NotStored] = Field(
        default_factory=list,
        description="What was sent but not kept as sent, and why: check before relying on it.",
    )
    notes: list[str] = Field(default_factory=list, description=CLEANED)


class PostedMessage(BaseModel):
    ticket: str = Field(description="Ref of the ticket.")
    message_id: str
    kind: MessageKind
    status: Status | None = Field(default=None, description="The ticket's status, when this call set it.")
    attachments: list[Attachment] = Field(default_factory=list)
    replayed: bool = Field(default=False, description=REPLAYED)
    not_stored: list[NotStored] = Field(
        default_factory=list,
        description="What was sent but not kept as sent, and why: check before relying on it.",
    )
    notes: list[str] = Field(default_factory=list, description=CLEANED)


class BackendInfo(BaseModel):
    name: str
    type: str
    capabilities: Capabilities


class BackendsDocument(BaseModel):
    backends: list[BackendInfo]


def compact_json(model: BaseModel) -> tuple[dict[str, Any], str]:
    """The structured form with empty fields left out, and the same JSON as text without spacing."""
    structured = model.model_dump(mode="json", exclude_defaults=True, by_alias=True)
    return structured, json.dumps(structured, ensure_ascii=False, separators=(",", ":"))


def attachment_uri(ref: str, attachment_id: str) -> str:
    backend, _, ticket_id = ref.partition(":")
    return f"helpdesk://{backend}/tickets/{ticket_id}/attachments/{attachment_id}"


def with_uris(ref: str, attachments: list[Attachment], downloadable: bool) -> list[Attachment]:
    if not downloadable:
        return attachments
    return [a.model_copy(update={"uri": attachment_uri(ref, a.id)}) for a in attachments]


def present_summary(ticket: TicketSummaryT) -> TicketSummaryT:
    """One-line fields written by people made one clean line each: no invisible or bidi characters,
    no line breaks that could make a subject or name look like more of our output."""
    return ticket.model_copy(
        update={
            "subject": capped(ticket.subject, SUBJECT_CHARS),
            "status_label": _line(ticket.status_label, LABEL_CHARS),
            "requester": _person(ticket.requester),
            "assignee": _person(ticket.assignee),
            "queue": _line(ticket.queue, NAME_CHARS),
            "tags": [capped(tag, TAG_CHARS) for tag in ticket.tags],
        }
    )


def present_ticket(ticket: Ticket, *, downloadable: bool, message_id: str | None = None) -> Ticket:
    """A ticket for the model: the thread with bodies trimmed and cut, or one message whole.

    Trimming is for reading only (`helpdesk_mcp.adapters.text`); nothing shown here is written back.
    """
    ticket = present_summary(ticket).model_copy(
        update={
            "custom_fields": {
                capped(k, NAME_CHARS): capped(v, FIELD_VALUE_CHARS) for k, v in ticket.custom_fields.items()
            }
        }
    )
    if message_id is None:
        messages = [_in_thread(ticket.ref, m, downloadable) for m in ticket.messages]
    else:
        messages = [
            _whole(ticket.ref, m, downloadable, clean_text(m.body))
            for m in ticket.messages
            if m.id == message_id
        ]
    return ticket.model_copy(update={"messages": _people_once(ticket, messages)})


def _people_once(ticket: Ticket, messages: list[Message]) -> list[Message]:
    """Each person written out once: the requester's own messages name no author, and an author
    already named (as requester, assignee or in an earlier message) is named by id alone."""
    named = {p.id for p in (ticket.requester, ticket.assignee) if p and p.id and (p.name or p.email)}
    shown = []
    for message in messages:
        author = message.author
        if author is not None and message.kind == "customer" and author == ticket.requester:
            message = message.model_copy(update={"author": None})
        elif author is not None and author.id is not None:
            if author.id in named:
                message = message.model_copy(update={"author": Person(id=author.id)})
            else:
                named.add(author.id)
        shown.append(message)
    return shown


def _in_thread(ref: str, message: Message, downloadable: bool) -> Message:
    """Quoted history and signatures cut and long bodies shortened, saying how to read the rest."""
    body = trim_quoted(clean_text(message.body))
    omitted = []
    if body.endswith(TRIM_MARKER):
        body = body.removesuffix(TRIM_MARKER).rstrip()
        omitted.append("quoted text and signature trimmed")
    if len(body) > MAX_BODY_CHARS:
        omitted.insert(0, f"{len(body) - MAX_BODY_CHARS:,} more characters")
        body = body[:MAX_BODY_CHARS]
    if omitted:
        body += f"\n[… {' and '.join(omitted)}; get_ticket message={message.id!r} reads it whole]"
    return _whole(ref, message, downloadable, body)


def _whole(ref: str, message: Message, downloadable: bool, body: str) -> Message:
    return message.model_copy(
        update={
            "body": body,
            "author": _person(message.author),
            "attachments": with_uris(ref, _clean_names(message.attachments), downloadable),
        }
    )


def _clean_names(attachments: list[Attachment]) -> list[Attachment]:
    return [
        a.model_copy(
            update={
                "filename": capped(a.filename, FILENAME_CHARS),
                "mime_type": _line(a.mime_type, MIME_TYPE_CHARS),
            }
        )
        for a in attachments
    ]


def _not_stored(items: list[NotStored]) -> list[NotStored]:
    """Names and stored text come from people and the helpdesk: shown as clean text like the rest."""
    return [
        item.model_copy(
            update={
                "name": _line(item.name, FILENAME_CHARS),
                "reason": capped(item.reason, FIELD_VALUE_CHARS),
                "stored": None if item.stored is None else clean_text(item.stored),
            }
        )
        for item in items
    ]


def capped(value: str, limit: int) -> str:
    """`value` as one clean line of at most `limit` characters, saying how many more there were."""
    line = clean_line(value)
    if len(line) <= limit:
        return line
    return f"{line[:limit]}…[+{len(line) - limit:,} chars]"


def _line(value: str | None, limit: int) -> str | None:
    return None if value is None else capped(value, limit)


def _person(person: Person | None) -> Person | None:
    if person is None:
        return None
    return person.model_copy(
        update={"name": _line(person.name, NAME_CHARS), "email": _line(person.email, EMAIL_CHARS)}
    )


def created(ticket: Ticket, *, downloadable: bool) -> CreatedTicket:
    attachments = [a for m in ticket.messages for a in m.attachments]
    return CreatedTicket(
        ticket=ticket.ref,
        status=ticket.status,
        created_at=ticket.created_at,
        attachments=with_uris(ticket.ref, _clean_names(attachments), downloadable),
        not_stored=_not_stored(ticket.not_stored),
    )


def posted(ref: str, message: Message, status: Status | None, *, downloadable: bool) -> PostedMessage:
    return PostedMessage(
        ticket=ref,
        message_id=message.id,
        kind=message.kind,
        status=status,
        attachments=with_uris(ref, _clean_names(message.attachments), downloadable),
        not_stored=_not_stored(message.not_stored),
    )
