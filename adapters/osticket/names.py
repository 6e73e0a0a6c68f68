"""Names of attachments, which the ticket API extension does not give.

ticketInfo tells how many files a thread entry carries (`annotations.has_attachments`), not what they
are, and there is no call that serves them. The adapter does know the files it sends itself: right after
a create or a reply it finds the new entry and, where osTicket counted exactly the files sent, pairs
them in order. Those names are kept for the life of the process; every other file is shown by number.
"""

from __future__ import annotations

from collections import OrderedDict

from ..model import Attachment, FileUpload, Message, Ticket


class UploadedNames:
    """Thread entry id -> the files this process attached to it; the oldest entries are forgotten first."""

    def __init__(self, capacity: int = 4096) -> None:
        self._known: OrderedDict[str, list[Attachment]] = OrderedDict()
        self._capacity = capacity

    def remember(self, message: Message, uploads: tuple[FileUpload, ...]) -> Message:
        """`message`, just written with `uploads`, with their names where osTicket kept them all."""
        if not uploads or len(message.attachments) != len(uploads):
            return message
        named = [
            a.model_copy(update={"filename": u.filename, "mime_type": u.mime_type, "size": len(u.content)})
            for a, u in zip(message.attachments, uploads, strict=True)
        ]
        self._known[message.id] = named
        self._known.move_to_end(message.id)
        while len(self._known) > self._capacity:
            self._known.popitem(last=False)
        return message.model_copy(update={"attachments": named})

    def apply(self, ticket: Ticket) -> Ticket:
        if not any(m.id in self._known for m in ticket.messages):
            return ticket
        messages = [
            m.model_copy(update={"attachments": self._known[m.id]})
            if m.id in self._known and len(self._known[m.id]) == len(m.attachments)
            else m
            for m in ticket.messages
        ]
        return ticket.model_copy(update={"messages": messages})
