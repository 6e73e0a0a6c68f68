"""Names of attachments, which the ticket API extension does not give, and the files osTicket refused.

ticketInfo tells how many files a thread entry carries (`annotations.has_attachments`), not what they
are, and there is no call that serves them. The adapter does know the files it sends itself: right after
a create or a reply it finds the new entry and the system notes osTicket wrote for files it refused
(`<name>: File size is too large`, read in api.tickets.php and class.thread.php). The files sent less
those refused are paired in order with what osTicket counted, but only where the counts match exactly;
a name is never guessed. Those names are kept for the life of the process; every other file is shown by
number. Files that osTicket drops without a note (attachments turned off on the message field, seen on
a real 1.18) show as a count of zero.
"""

from __future__ import annotations

from collections import OrderedDict

from ..model import Attachment, FileUpload, Message, NotStored, Ticket

DROPPED_SILENTLY = (
    "osTicket stored none of the files and gave no reason: attachments are probably turned off for the "
    "message field (Admin Panel > Manage > Forms > Ticket Details)."
)


class UploadedNames:
    """Thread entry id -> the files this process attached to it; the oldest entries are forgotten first."""

    def __init__(self, capacity: int = 4096) -> None:
        self._known: OrderedDict[str, list[Attachment]] = OrderedDict()
        self._capacity = capacity

    def remember(
        self, message: Message, uploads: tuple[FileUpload, ...], refused: list[tuple[str, str]]
    ) -> Message:
        """`message`, just written with `uploads`: the files kept named, those not kept in `not_stored`.

        `refused` is (name, reason) from osTicket's notes on the files it would not store.
        """
        if not uploads:
            return message
        refused = list(refused)
        kept: list[FileUpload] = []
        missing: list[NotStored] = []
        for upload in uploads:
            reason = next((r for r in refused if r[0] == upload.filename), None)
            if reason is None:
                kept.append(upload)
                continue
            refused.remove(reason)
            missing.append(
                NotStored(field="attachments", name=upload.filename, reason=f"osTicket: {reason[1]}")
            )
        count = len(message.attachments)
        if count == 0 and kept:
            missing += [
                NotStored(field="attachments", name=upload.filename, reason=DROPPED_SILENTLY)
                for upload in kept
            ]
        elif count != len(kept):
            sent = ", ".join(upload.filename for upload in kept)
            missing.append(
                NotStored(
                    field="attachments",
                    reason=f"osTicket stored {count} file(s) of {len(kept)} sent ({sent}) and did not say "
                    "which; look at the ticket in osTicket's staff panel.",
                )
            )
        elif kept:
            named = [
                a.model_copy(
                    update={"filename": u.filename, "mime_type": u.mime_type, "size": len(u.content)}
                )
                for a, u in zip(message.attachments, kept, strict=True)
            ]
            self._known[message.id] = named
            self._known.move_to_end(message.id)
            while len(self._known) > self._capacity:
                self._known.popitem(last=False)
            message = message.model_copy(update={"attachments": named})
        return message.model_copy(update={"not_stored": [*message.not_stored, *missing]})

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
