"""Thulium's statuses, which each account names itself, mapped onto the normalized ones.

A ticket carries its status as `status_id` plus `full_status_name` ("Status" or "Status - Substatus").
Ids differ per account, so reading goes by name; only writing a status and filtering by it natively
need ids, which come from the account's statuses resource (`Catalogue`).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..model import Status

log = logging.getLogger(__name__)

DEFAULT_STATUSES: dict[str, Status] = {
    "Nowe": "new",
    "W realizacji": "open",
    "Oczekuje na klienta": "pending",
    "Odłożone": "on_hold",
    "Zamknięte": "closed",
    "Połączone": "closed",
}
"""Thulium's built-in status names (support.thulium.com, "Ticket statuses")."""

UNKNOWN: Status = "open"
"""What a status nobody mapped reads as: a ticket neither new nor finished is being worked on. Its
own name always goes along as `status_label`, so nothing is hidden."""

NEVER_SET = frozenset({"połączone"})
"""Thulium sets "merged" by merging tickets; choosing it as a target would hide a ticket, not close it."""


def _key(name: str) -> str:
    """Names compared as people read them: composed Unicode, case and spacing ignored."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


@dataclass(frozen=True)
class Reading:
    status: Status
    label: str | None
    """The account's own name, when it says more than the normalized status does."""


class StatusMap:
    """Status name -> normalized status: the defaults, overridden and extended by the `statuses` setting."""

    def __init__(self, backend: str, overrides: Mapping[str, Status]) -> None:
        self._backend = backend
        merged = {_key(name): status for name, status in DEFAULT_STATUSES.items()}
        merged.update({_key(name): status for name, status in overrides.items()})
        self._map = merged
        # A name that is a prefix of another ("Zamknięte" / "Zamknięte bez odpowiedzi") must lose.
        self._longest_first = sorted(merged, key=len, reverse=True)
        self._preferred = [_key(name) for name in overrides] + [_key(name) for name in DEFAULT_STATUSES]
        self._plain = {
            _key(name) for name, status in DEFAULT_STATUSES.items() if merged[_key(name)] == status
        }
        self._warned: set[str] = set()

    def read(self, full_status_name: str) -> Reading:
        """The normalized status of a ticket whose `full_status_name` is given."""
        full = _key(full_status_name)
        for name in self._longest_first:
            if full == name or full.startswith(name + " - "):
                label = None if full in self._plain else full_status_name.strip()
                return Reading(self._map[name], label)
        if full:
            self._warn(full_status_name.strip())
        return Reading(UNKNOWN, full_status_name.strip() or None)

    def of_name(self, name: str) -> Status:
        """The normalized status of one status name (without a substatus)."""
        status = self._map.get(_key(name))
        if status is None:
            self._warn(name)
            return UNKNOWN
        return status

    def ids_for(self, wanted: Iterable[Status], catalogue: Catalogue) -> list[str]:
        """Ids of the account's statuses that read as any of `wanted`."""
        targets = set(wanted)
        return [entry.id for entry in catalogue.entries if self.of_name(entry.name) in targets]

    def target(self, status: Status, catalogue: Catalogue) -> CatalogueEntry | None:
        """The account's status to set for `status`: a configured or built-in name first."""
        candidates = [
            entry
            for entry in catalogue.entries
            if _key(entry.name) not in NEVER_SET and self.of_name(entry.name) == status
        ]
        if not candidates:
            return None
        rank = {name: index for index, name in reversed(list(enumerate(self._preferred)))}
        return min(candidates, key=lambda entry: rank.get(_key(entry.name), len(rank)))

    def _warn(self, name: str) -> None:
        if name not in self._warned:
            self._warned.add(name)
            log.warning(
                "Thulium status %r of backend %r is not in the status mapping; it reads as %r. "
                "Map it with the backend's `statuses` setting.",
                name,
                self._backend,
                UNKNOWN,
            )


@dataclass(frozen=True)
class CatalogueEntry:
    id: str
    name: str


@dataclass(frozen=True)
class Catalogue:
    """The account's statuses, as its statuses resource lists them."""

    entries: tuple[CatalogueEntry, ...]

    def describe(self, statuses: StatusMap) -> str:
        return ", ".join(f"{entry.name} ({statuses.of_name(entry.name)})" for entry in self.entries)


def parse_catalogue(payload: Any) -> Catalogue | None:
    """The statuses resource's answer (a list, or `{"result": [...]}` like the other list calls), or
    None if it is not a list of statuses with ids and names."""
    items = payload.get("result") if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        return None
    entries = []
    for item in items:
        if not isinstance(item, dict):
            return None
        status_id = item.get("status_id", item.get("id"))
        name = item.get("name")
        if not isinstance(status_id, str | int) or not isinstance(name, str) or not name.strip():
            return None
        entries.append(CatalogueEntry(id=str(status_id), name=name.strip()))
    return Catalogue(tuple(entries))
