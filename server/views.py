"""What the model reads: compact result shapes and the presentation of tickets.

Fetching is the adapters' job; this module only shapes their normalized records for a model's
context window: empty fields left out, invisible characters removed, quoted mail history trimmed
and long bodies cut with directions to read on, one-line fields capped (a vendor may hold a subject of
any length), and attachments named by the resource URI that downloads them. Ids and refs are never
cut: a shortened id would name nothing.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, Field, field_validator

from helpdesk_mcp.adapters.errors import NotFoundError
from helpdesk_mcp.adapters.invisible import clean_line, clean_text
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
from helpdesk_mcp.adapters.quotes import TRIM_MARKER, trim_quoted

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


class FileView(BaseModel):
    filename: str
    mime_type: str | None = None
    size: int | None = Field(default=None, description="Bytes.")
    uri: str | None = Field(default=None, description="Resource that downloads it.")


class MessageView(BaseModel):
    id: str = Field(description="Pass as `messages` to read this message whole.")
    kind: MessageKind
    by: str | None = Field(
        default=None,
        description="Author: `requester`, `assignee` or a key of `people`; absent on the "
        "requester's own messages and where the helpdesk names no one.",
    )
    body: str
    created_at: UtcDateTime | None = None
    attachments: list[FileView] = Field(default_factory=list)


class TicketView(TicketSummary):
    people: dict[str, Person] = Field(default_factory=dict, description="Other authors, by `by` key.")
    messages: list[MessageView] = Field(default_factory=list, description="The thread, oldest first.")
    earlier: int = Field(default=0, description="Earlier messages not shown; see `messages`.")
    custom_fields: dict[str, str] = Field(default_factory=dict)


def select_messages(ticket: Ticket, selector: str | None) -> tuple[list[Message], str | None]:
    """The messages `selector` names ("last:N" or one message id) and the id to show whole, if any.

    A selector that names nothing in this ticket is refused with what to pass instead.
    """
    if selector is None:
        return ticket.messages, None
    selector = selector.strip()
    if (found := _LAST.fullmatch(selector)) is not None:
        return ticket.messages[-int(found[1]) :], None
    chosen = [m for m in ticket.messages if m.id == selector]
    if not chosen:
        raise NotFoundError(
            f"Ticket {ticket.ref} has no message {selector[:_ID_CHARS]!r}; pass `messages` as 'last:N' "
            "(N from 1 to 9999) or the id of a message in its thread."
        )
    return chosen, selector


def present_ticket(ticket: Ticket, *, downloadable: bool, selector: str | None = None) -> TicketView:
    """A ticket for the model: the thread with bodies trimmed and cut, its last N, or one message whole.

    Trimming is for reading only (`helpdesk_mcp.adapters.quotes`); nothing shown here is written back.
    """
    shown, whole = select_messages(ticket, selector)
    summary = present_summary(ticket)
    people = _People(summary.requester, summary.assignee)
    if whole is not None:
        messages = [_view(ticket.ref, m, downloadable, clean_text(m.body), people) for m in shown]
    else:
        bodies = _thread_bodies(ticket.messages)
        messages = [_view(ticket.ref, m, downloadable, bodies[i], people) for i, m in _indexed(ticket, shown)]
    fields = {name: getattr(summary, name) for name in TicketSummary.model_fields}
    return TicketView(
        **{**fields, "requester": people.get("requester"), "assignee": people.get("assignee")},
        people=people.others,
        messages=messages,
        earlier=len(ticket.messages) - len(shown) if whole is None else 0,
        custom_fields={
            capped(k, NAME_CHARS): capped(v, FIELD_VALUE_CHARS) for k, v in ticket.custom_fields.items()
        },
    )


_LAST = re.compile(r"last:([1-9]\d{0,3})")
_ID_CHARS = 100  # of an unknown message id quoted back: it is the caller's text
FIRST_CHARS = 2000
"""Characters kept of the first message and of the customer's latest: the request and where it stands."""
THREAD_CHARS = 600
"""Characters kept of every other message in a thread; each cut says how to read the message whole."""
REPEAT_CHARS = 80
"""A repeat at least this long is shown as a reference to the earlier message; a shorter one costs
less written out than referred to."""


def _indexed(ticket: Ticket, shown: list[Message]) -> list[tuple[int, Message]]:
    start = len(ticket.messages) - len(shown)
    return list(enumerate(shown, start))


def _thread_bodies(messages: list[Message]) -> list[str]:
    """Each message's body as the thread shows it: quoted history, signatures and text repeated from
    an earlier message left out, long bodies cut, each saying how to read the message whole.

    Computed over the whole thread, so a message reads the same whichever part of it is shown."""
    latest_customer = next((m.id for m in reversed(messages) if m.kind == "customer"), None)
    earlier: list[tuple[str, list[str]]] = []  # (id, its lines of text), for repeats
    bodies = []
    for index, message in enumerate(messages):
        text = trim_quoted(clean_text(message.body))
        omitted = []
        if text.endswith(TRIM_MARKER):
            text = text.removesuffix(TRIM_MARKER).rstrip()
            omitted.append("quoted text and signature trimmed")
        lines = _lines(text)
        same = next((i for i, seen in earlier if seen == lines), None) if _long(lines) else None
        if same is not None:
            bodies.append(f"[… same text as message {same!r}; {_reads_whole(message.id)}]")
            continue
        earlier.append((message.id, lines))
        text, repeated = _without_repeats(text, earlier[:-1])
        omitted += [f"message {i!r} quoted again" for i in repeated]
        limit = FIRST_CHARS if index == 0 or message.id == latest_customer else THREAD_CHARS
        if len(text) > limit:
            omitted.insert(0, f"{len(text) - limit:,} more characters")
            text = text[:limit]
        if omitted:
            text += f"\n[… {' and '.join(omitted)}; {_reads_whole(message.id)}]"
        bodies.append(text)
    return bodies


def _reads_whole(message_id: str) -> str:
    return f"get_ticket messages={message_id!r} reads it whole"


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _long(lines: list[str]) -> bool:
    return sum(map(len, lines)) >= REPEAT_CHARS


def _without_repeats(text: str, earlier: list[tuple[str, list[str]]]) -> tuple[str, list[str]]:
    """`text` without any earlier message it repeats whole in its own lines (quoted without marks)."""
    lines = text.splitlines()
    repeated = []
    for message_id, seen in earlier:
        if not _long(seen):
            continue
        filled = [i for i, line in enumerate(lines) if line.strip()]
        for start in range(len(filled) - len(seen) + 1):
            run = filled[start : start + len(seen)]
            if [lines[i].strip() for i in run] == seen:
                lines[run[0] : run[-1] + 1] = []
                repeated.append(message_id)
                break
    return ("\n".join(lines).strip(), repeated) if repeated else (text, [])


class _People:
    """Each person named once: the requester and assignee on the ticket, everyone else who wrote in
    `people` under a short key that messages refer to. A person the ticket names by id alone takes the
    name and address a message of theirs gives."""

    def __init__(self, requester: Person | None, assignee: Person | None) -> None:
        self.known: dict[str, Person] = {
            key: person for key, person in (("requester", requester), ("assignee", assignee)) if person
        }
        self.others_count = 0

    def key(self, message: Message) -> str | None:
        author = _person(message.author)
        if author is None:
            return None
        for key, person in self.known.items():
            if _same(author, person):
                if not (person.name or person.email):
                    self.known[key] = person.model_copy(update={"name": author.name, "email": author.email})
                return None if key == "requester" and message.kind == "customer" else key
        self.others_count += 1
        key = f"p{self.others_count}"
        self.known[key] = author
        return key

    def get(self, key: str) -> Person | None:
        return _named(self.known.get(key))

    @property
    def others(self) -> dict[str, Person]:
        return {
            key: _named(person) or Person()
            for key, person in self.known.items()
            if key not in ("requester", "assignee")
        }


def _same(one: Person, other: Person) -> bool:
    if one.id and other.id:
        return one.id == other.id
    if one.email and other.email:
        return one.email.casefold() == other.email.casefold()
    return bool(one.name) and one.name == other.name


def _named(person: Person | None) -> Person | None:
    """A person as the model needs them: a backend's own id only where nothing else names them."""
    if person is None or not (person.name or person.email):
        return person
    return person.model_copy(update={"id": None})


def _view(ref: str, message: Message, downloadable: bool, body: str, people: _People) -> MessageView:
    return MessageView(
        id=message.id,
        kind=message.kind,
        by=people.key(message),
        body=body,
        created_at=message.created_at,
        attachments=[
            FileView(filename=a.filename, mime_type=a.mime_type, size=a.size, uri=a.uri)
            for a in with_uris(ref, _clean_names(message.attachments), downloadable)
        ],
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
