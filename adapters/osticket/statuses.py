"""osTicket's ticket statuses and the normalized ones, both ways.

A fresh install has five statuses (ticket_status.yaml); admins rename them and add more, so the
mapping is overridable per instance. osTicket names a ticket's status by name and by id; replies set it
by id (`reply_status_id`), so a status a reply should set needs a known id.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import InvalidInputError
from ..model import Status

DEFAULT_STATUSES: dict[str, Status] = {
    "Open": "open",
    "Resolved": "solved",
    "Closed": "closed",
    "Archived": "closed",
    "Deleted": "closed",
}
DEFAULT_STATUS_IDS: dict[str, int] = {"Open": 1, "Resolved": 2, "Closed": 3, "Archived": 4, "Deleted": 5}


class StatusMap:
    """Status names (matched without regard to case) to normalized statuses, and back to ids."""

    def __init__(self, backend: str, overrides: Mapping[str, Status], ids: Mapping[str, int]) -> None:
        self._backend = backend
        names = {**DEFAULT_STATUSES, **overrides}
        self._statuses = {name.casefold(): status for name, status in names.items()}
        known_ids = {name.casefold(): number for name, number in {**DEFAULT_STATUS_IDS, **ids}.items()}
        # The first name mapped to a normalized status is the one a reply sets: Closed before Archived.
        self._ids: dict[Status, tuple[str, int]] = {}
        for name, status in names.items():
            number = known_ids.get(name.casefold())
            if number is not None and status not in self._ids:
                self._ids[status] = (name, number)

    def normalize(self, name: str | None, *, closed: bool) -> tuple[Status, str | None]:
        """The normalized status of osTicket status `name`, and the label worth showing beside it.

        A status nobody mapped is judged by whether osTicket closed the ticket; its name is kept as label.
        """
        status = self._statuses.get((name or "").strip().casefold())
        if status is None:
            status = "closed" if closed else "open"
        label = (name or "").strip() or None
        return status, None if label is None or label.casefold() == status else label

    def status_id(self, status: Status) -> int:
        """The osTicket status id a reply sends to set `status`."""
        found = self._ids.get(status)
        if found is None:
            settable = ", ".join(f"{s} ({name})" for s, (name, _) in self._ids.items())
            raise InvalidInputError(
                f"Backend {self._backend!r} (osTicket) has no status mapped to {status!r}; it can set "
                f"{settable}, and an admin can map another osTicket status with the `statuses` and "
                "`status_ids` settings."
            )
        return found[1]
