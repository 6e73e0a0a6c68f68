"""UseDesk's JSON turned into the normalized model, and our text turned into what UseDesk stores.

UseDesk is loose about types: the same field arrives as a number in one answer and as a string in
another (`"id": "2265179"` in `/ticket`, `"id": 2992803` in `/tickets`), and `0`, `"0"` or `null`
all mean "none". Everything here tolerates both. Times are `YYYY-MM-DD HH:MM:SS` in UTC+0: UseDesk
documents that its API ignores the account's own time zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import unquote, urlsplit

from pydantic import BeforeValidator, Field, field_validator, model_validator

from ..loose import Id, Object, Objects, Text, WireModel, as_list, text
from ..loose import ident as ident
from ..loose import number as number
from ..model import Attachment, Message, MessageKind, Person, Priority, Ticket, TicketSummary, make_ref
from ..text import to_plain_text
from .statuses import StatusMap

PRIORITY_FROM_USEDESK: dict[str, Priority] = {
    "low": "low",
    "medium": "normal",
    "urgent": "high",
    "extreme": "urgent",
}
PRIORITY_TO_USEDESK: dict[Priority, str] = {ours: theirs for theirs, ours in PRIORITY_FROM_USEDESK.items()}
STATUS_NAMES = {
    "1": "Open",
    "2": "Solved",
    "3": "Closed",
    "4": "Deleted",
    "5": "On hold",
    "6": "Pending",
    "7": "Spam",
    "8": "New",
    "9": "Newsletter",
    "10": "Merged",
}
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")


# ---------------------------------------------------------------------------------------------------
# Loose values
# ---------------------------------------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    """A UseDesk timestamp (UTC+0, without a zone) as an aware UTC datetime; None if absent or invalid."""
    raw = text(value).strip()
    if not raw or raw.startswith("0000"):
        return None
    for layout in _TIME_FORMATS:
        try:
            return datetime.strptime(raw, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def vendor_minute(moment: datetime, *, up: bool = False) -> str:
    """`moment` as UseDesk's filter format `YYYY-MM-DD HH:MM` (UTC), rounded down or `up` to the minute."""
    moment = moment.astimezone(UTC)
    floor = moment.replace(second=0, microsecond=0)
    if up and floor != moment:
        floor += timedelta(minutes=1)
    return floor.strftime("%Y-%m-%d %H:%M")


def vendor_second(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


# ---------------------------------------------------------------------------------------------------
# Text going out
# ---------------------------------------------------------------------------------------------------


def same_text(stored_html: str, sent_html: str) -> bool:
    """Whether a stored message body is the one we sent, whatever markup UseDesk normalized."""
    return " ".join(to_plain_text(stored_html).split()) == " ".join(to_plain_text(sent_html).split())


# ---------------------------------------------------------------------------------------------------
# Tickets
# ---------------------------------------------------------------------------------------------------


def _tag_names(value: Any) -> list[str]:
    """Tags as `[{"name": ...}]` (the list) or plain strings (seen elsewhere), deduplicated."""
    names: list[str] = []
    for item in as_list(value):
        name = text(item.get("name") or item.get("tag") if isinstance(item, Mapping) else item).strip()
        if name and name not in names:
            names.append(name)
    return names


def _id_of_object(value: Any) -> Any:
    """An id, or an object carrying it: documented as an id, seen as an object (third-party report)."""
    return value.get("id") if isinstance(value, Mapping) else value


TagNames = Annotated[list[str], BeforeValidator(_tag_names)]
IdOrObject = Annotated[str | None, BeforeValidator(lambda value: ident(_id_of_object(value)))]


class _TicketFields(WireModel):
    id: Id = None
    """A number in `/tickets` (`2992803`), a string in `/ticket`."""
    subject: Text = ""
    priority: Text = ""
    """low, medium, urgent or extreme."""
    client_id: Id = None
    client_name: Text = ""
    assignee_id: Id = None
    group: IdOrObject = None
    tags: TagNames = Field(default_factory=list)
    created_at: Text = ""
    """`YYYY-MM-DD HH:MM:SS`, UTC+0, as every UseDesk time."""
    last_updated_at: Text = ""


class ListedTicket(_TicketFields):
    """One element of `/tickets`."""

    status: IdOrObject = None
    """The status id, rarely an object with `id`."""


class TicketHead(_TicketFields):
    """`ticket` of the `/ticket` answer."""

    status_id: Id = None
    email: Text = ""
    published_at: Text = ""
    additional_id: Text = ""
    """Free text set on create; ours marks a create to look for it if the answer is lost."""


class Address(WireModel):
    email: Text = ""


class Someone(WireModel):
    """A comment's `client` or `user`."""

    id: Id = None
    name: Text = ""
    email: Text = ""
    emails: Objects[Address] = Field(default_factory=list)


class File(WireModel):
    """One `files[]` element: `{"file": url, "name": ...}`, or a bare URL."""

    file: Text = ""
    url: Text = ""
    name: Text = ""

    @model_validator(mode="before")
    @classmethod
    def _bare_url(cls, value: Any) -> Any:
        return {"file": value} if isinstance(value, str) else value if isinstance(value, Mapping) else {}

    def location(self) -> tuple[str | None, str]:
        """The file's URL (None without one) and name, from the URL when the name is missing."""
        url = self.file.strip() or self.url.strip() or None
        name = self.name.strip() or unquote(urlsplit(url or "").path.rsplit("/", 1)[-1]) or "file"
        return url, name


class Comment(WireModel):
    """One element of `comments`: a message of the thread."""

    id: Id = None
    type: Text = ""
    """`public` or `private` (an internal note)."""
    from_: Text = Field("", alias="from")
    """`client`, `user` (an agent) or `trigger` (UseDesk's bot)."""
    message: Text = ""
    """HTML."""
    published_at: Text = ""
    created_at: Text = ""
    files: list[File] = Field(default_factory=list)
    client: Object[Someone] = Someone()
    client_id: Id = None
    client_name: Text = ""
    user: Object[Someone] = Someone()
    user_id: Id = None

    @field_validator("files", mode="before")
    @classmethod
    def _file_list(cls, value: Any) -> list[Any]:
        return [item for item in as_list(value) if isinstance(item, str | Mapping)]


class ChangeItem(WireModel):
    target: Text = ""
    value: Text = ""


class Change(WireModel):
    """One element of `changes`, the audit trail."""

    id: Id = None
    old_status: Id = None
    new_status: Id = None
    data: Objects[ChangeItem] = Field(default_factory=list)
    trigger_id: Id = None
    user_id: Id = None
    changed_at: Text = ""


class CustomField(WireModel):
    ticket_field_id: Id = None
    id: Id = None
    value: Text = ""


class TicketDocument(WireModel):
    """The answer of `/ticket`: `{ticket, comments, changes, tags, custom_fields}`."""

    ticket: Object[TicketHead] = TicketHead()
    comments: Objects[Comment] = Field(default_factory=list)
    changes: Objects[Change] = Field(default_factory=list)
    tags: TagNames = Field(default_factory=list)
    custom_fields: Objects[CustomField] = Field(default_factory=list)


def _priority(value: str) -> Priority | None:
    return PRIORITY_FROM_USEDESK.get(value.strip().lower())


def _person(person_id: str | None, name: str = "", email: str = "") -> Person | None:
    found = Person(id=person_id, name=name.strip() or None, email=email.strip() if "@" in email else None)
    return found if found.id or found.name or found.email else None


def _common(fields: _TicketFields, backend: str) -> dict[str, Any]:
    """What a listed ticket and a ticket read whole say alike."""
    return {
        "ref": make_ref(backend, fields.id or "0"),
        "subject": fields.subject.strip() or "(no subject)",
        "priority": _priority(fields.priority),
        "assignee": _person(fields.assignee_id),
        "queue": f"group {fields.group}" if fields.group else None,
    }


def summary(listed: ListedTicket, backend: str, statuses: StatusMap) -> TicketSummary:
    """One element of `/tickets`."""
    status, label = statuses.read(listed.status)
    return TicketSummary(
        **_common(listed, backend),
        status=status,
        status_label=label,
        requester=_person(listed.client_id, listed.client_name),
        tags=listed.tags,
        created_at=parse_time(listed.created_at),
        updated_at=parse_time(listed.last_updated_at) or parse_time(listed.created_at),
    )


def ticket(read: TicketDocument, backend: str, statuses: StatusMap) -> Ticket:
    """The answer of `/ticket`."""
    head = read.ticket
    status, label = statuses.read(head.status_id)
    first_client = next((c for c in read.comments if c.from_.strip() == "client"), None)
    client_name = head.client_name.strip() or (_client_name(first_client) if first_client else "")
    messages = [_comment(c) for c in read.comments] + [
        m for m in (_change(c) for c in read.changes) if m is not None
    ]
    return Ticket(
        **_common(head, backend),
        status=status,
        status_label=label,
        requester=_person(head.client_id, client_name, head.email),
        tags=read.tags or head.tags,
        created_at=parse_time(head.published_at) or parse_time(head.created_at),
        updated_at=parse_time(head.last_updated_at),
        messages=sorted(messages, key=_thread_order),
        custom_fields={
            field_id: field.value.strip()
            for field in read.custom_fields
            if (field_id := field.ticket_field_id or field.id) and field.value.strip()
        },
    )


def _thread_order(message: Message) -> tuple[datetime, int, int]:
    # Comments before the changes of the same second: a reply comes before the status change it carries.
    is_change = message.id.startswith("change-")
    serial = number(message.id.removeprefix("change-")) or 0
    return (message.created_at or datetime.min.replace(tzinfo=UTC), int(is_change), serial)


# ---------------------------------------------------------------------------------------------------
# Thread
# ---------------------------------------------------------------------------------------------------


def comment_kind(comment: Comment) -> MessageKind:
    """Private comments are internal notes whoever wrote them; public ones are the client's or an agent's.

    A trigger's public comment (UseDesk posts it as its bot) reached the customer, so it reads as agent.
    """
    if comment.type.strip().lower() == "private":
        return "internal_note"
    return "customer" if comment.from_.strip().lower() == "client" else "agent"


def _client_name(comment: Comment) -> str:
    return comment.client.name.strip() or comment.client_name.strip()


def _author(comment: Comment) -> Person | None:
    origin = comment.from_.strip().lower()
    if origin == "client":
        client = comment.client
        email = client.email or (client.emails[0].email if client.emails else "")
        return _person(comment.client_id or client.id, _client_name(comment), email)
    if origin == "trigger":
        return Person(name="UseDesk bot")
    user = comment.user
    return _person(comment.user_id or user.id, user.name, user.email)


def attachment_id(comment_id: str, index: int) -> str:
    """UseDesk files have a URL and a name but no id; ours is the comment's id and the file's place."""
    return f"{comment_id}-{index + 1}"


def find_file(document: TicketDocument, attachment: str) -> tuple[str | None, str] | None:
    """The URL and name of the file `attachment_id` named in a `/ticket` answer, or None."""
    for comment in document.comments:
        for index, entry in enumerate(comment.files if comment.id else []):
            if attachment_id(str(comment.id), index) == attachment:
                return entry.location()
    return None


def _comment(comment: Comment) -> Message:
    comment_id = comment.id or "0"
    return Message(
        id=comment_id,
        kind=comment_kind(comment),
        author=_author(comment),
        body=to_plain_text(comment.message.strip()),
        created_at=parse_time(comment.published_at) or parse_time(comment.created_at),
        attachments=[
            Attachment(id=attachment_id(comment_id, index), filename=name)
            for index, (url, name) in enumerate(entry.location() for entry in comment.files)
            if url is not None
        ],
    )


def _change(change: Change) -> Message | None:
    """An entry of the audit trail as a system event, or None when it records nothing readable."""
    said = []
    old, new = change.old_status, change.new_status
    if new is not None and new != old:
        before = f" from {_status_name(old)}" if old else ""
        said.append(f"Status changed{before} to {_status_name(new)}")
    for item in change.data:
        target, value = item.target.strip(), item.value.strip()
        if target and target not in ("status", "status_id"):
            said.append(f"{target.replace('_', ' ').capitalize()} set to {value or 'nothing'}")
    if not said:
        return None
    trigger = change.trigger_id
    author = _person(change.user_id) or (Person(name=f"Trigger {trigger}") if trigger else None)
    return Message(
        id=f"change-{change.id or '0'}",
        kind="system",
        author=author,
        body="; ".join(said) + ".",
        created_at=parse_time(change.changed_at),
    )


def _status_name(status_id: str) -> str:
    return STATUS_NAMES.get(status_id, f"status {status_id}")
