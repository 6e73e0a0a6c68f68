"""Names of attachments, which Thulium's API does not give.

A message lists its attachments only as opaque ids (`"attachments": ["1175982115cb861c810534"]`) and
the API offers no call that names or serves them. The adapter does know the files it uploads itself:
after a create or a reply it reads the new message back and pairs its ids, in order, with the files
it sent. Those names are kept for the life of the process; every other attachment is shown unnamed.
"""

from __future__ import annotations

from collections import OrderedDict

from ..model import Attachment, FileUpload

UNNAMED = "(unnamed)"


class AttachmentNames:
    """Attachment id -> what this process uploaded under it; the oldest entries are forgotten first."""

    def __init__(self, capacity: int = 4096) -> None:
        self._known: OrderedDict[str, Attachment] = OrderedDict()
        self._capacity = capacity

    def remember(self, ids: list[str], files: tuple[FileUpload, ...]) -> None:
        for attachment_id, upload in zip(ids, files, strict=False):
            self._known[attachment_id] = Attachment(
                id=attachment_id,
                filename=upload.filename,
                mime_type=upload.mime_type,
                size=len(upload.content),
            )
            self._known.move_to_end(attachment_id)
        while len(self._known) > self._capacity:
            self._known.popitem(last=False)

    def attachment(self, attachment_id: str) -> Attachment:
        return self._known.get(attachment_id) or Attachment(id=attachment_id, filename=UNNAMED)
