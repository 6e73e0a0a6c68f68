"""UseDesk's numeric statuses and the normalized ones, in both directions.

UseDesk has ten fixed status ids; an account's own statuses get further ids, which an instance maps
with its `statuses` setting. Reading turns an id into a normalized status (plus UseDesk's own name
where it says more than the normalized one); filtering needs every id of a normalized status; writing
needs one id per normalized status.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..errors import UnsupportedError
from ..model import Status

DEFAULT_STATUSES: dict[str, Status] = {
    "1": "open",
    "2": "solved",
    "3": "closed",
    "4": "closed",
    "5": "on_hold",
    "6": "pending",
    "7": "closed",
    "8": "new",
    "9": "closed",
    "10": "closed",
}
# Names that tell more than the normalized status they map to (a deleted ticket is more than closed).
LABELS = {"4": "Deleted", "7": "Spam", "9": "Newsletter", "10": "Merged"}
# The id each normalized status is written as, unless the instance maps that id elsewhere.
CANONICAL: dict[Status, str] = {
    "new": "8",
    "open": "1",
    "pending": "6",
    "on_hold": "5",
    "solved": "2",
    "closed": "3",
}


class StatusMap:
    """The default mapping with an instance's overrides on top."""

    def __init__(self, backend: str, overrides: Mapping[str, Status]) -> None:
        self._backend = backend
        self._overrides = dict(overrides)
        self._mapping = {**DEFAULT_STATUSES, **overrides}

    def read(self, status_id: str | None) -> tuple[Status, str | None]:
        """The normalized status of `status_id`, and UseDesk's name for it where that says more."""
        if status_id is None:
            return "open", "no status"
        status = self._mapping.get(status_id)
        if status is None:
            # An account's own status nobody mapped yet: shown as open, with its id so it can be mapped.
            return "open", f"UseDesk status {status_id} (not in the status mapping)"
        return status, None if status_id in self._overrides else LABELS.get(status_id)

    def ids(self, statuses: Iterable[Status]) -> list[str]:
        """Every UseDesk status id that reads as one of `statuses`, in id order."""
        wanted = set(statuses)
        return sorted((i for i, status in self._mapping.items() if status in wanted), key=int)

    def write(self, status: Status) -> str:
        """The id to set for `status`: UseDesk's own one, or else the lowest id mapped to it."""
        canonical = CANONICAL[status]
        if self._mapping.get(canonical) == status:
            return canonical
        candidates = self.ids([status])
        if not candidates:
            raise UnsupportedError(
                f"Backend {self._backend!r} (usedesk) has no UseDesk status mapped to {status!r}; "
                "map one in the backend's `statuses` setting or choose another status."
            )
        return candidates[0]
