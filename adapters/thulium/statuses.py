"""Thulium's statuses, which each account names and numbers itself, mapped onto the normalized ones.

Where each fact comes from (docs/vendors.md keeps the full list):
- A ticket carries `status_id`, `substatus_id` and `full_status_name`, "Status" or "Status - Substatus"
  (documented: `GET tickets`, `GET tickets/:id`). Third-party code reads the status by that name.
- The built-in names (Nowe, W realizacji, ...) are documented on support.thulium.com.
- A resource that lists the account's statuses is mentioned by the docs, which give no URL for it;
  `GET ticket_statuses` is a guess (another integrator's), used only when it answers (`Catalogue`).

Reading goes by the configured ids first, then by name, so it needs nothing but the ticket. Setting
a status needs its id, known from the setting (`THULIUM_STATUSES=2=open,5=solved`: ids; names too),
from the tickets this process has read (each shows its status's id beside its name), or from the
statuses resource where it exists.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

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

SUBSTATUS_SEPARATOR = " - "
"""Between status and substatus in `full_status_name`, as the documented example writes it."""


def _key(name: str) -> str:
    """Names compared as people read them: composed Unicode, case and spacing ignored."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def is_status_id(key: str) -> bool:
    """Whether a key of the `statuses` setting is a status id (digits) rather than a status name."""
    return key.strip().isascii() and key.strip().isdigit()


@dataclass(frozen=True)
class Reading:
    status: Status
    label: str | None
    """The account's own name, when it says more than the normalized status does."""


@dataclass(frozen=True)
class CatalogueEntry:
    id: str
    name: str
    """Empty for an id known only from the setting, until a ticket or the resource names it."""

    @property
    def shown(self) -> str:
        return self.name or f"status id {self.id}"


@dataclass(frozen=True)
class Catalogue:
    """The account's statuses, as its statuses resource lists them: complete, unlike what tickets show."""

    entries: tuple[CatalogueEntry, ...]


class StatusMap:
    """The account's statuses as far as they are known, and what each means.

    Built from the `statuses` setting (ids and names -> normalized status) over the built-in names, and
    added to by every ticket the adapter reads (`learn`).
    """

    def __init__(self, backend: str, overrides: Mapping[str, Status]) -> None:
        self._backend = backend
        self._ids = {str(int(key)): status for key, status in overrides.items() if is_status_id(key)}
        names = {key: status for key, status in overrides.items() if not is_status_id(key)}
        merged = {_key(name): status for name, status in DEFAULT_STATUSES.items()}
        merged.update({_key(name): status for name, status in names.items()})
        self._map = merged
        self._shown = {_key(name): name for name in [*DEFAULT_STATUSES, *names]}
        # A name that is a prefix of another ("Zamknięte" / "Zamknięte bez odpowiedzi") must lose.
        self._longest_first = sorted(merged, key=len, reverse=True)
        self._preferred = [_key(name) for name in names] + [_key(name) for name in DEFAULT_STATUSES]
        self._plain = {
            _key(name) for name, status in DEFAULT_STATUSES.items() if merged[_key(name)] == status
        }
        self._seen: dict[str, str] = {}
        """Status id -> the status's name, as tickets (or the statuses resource) showed them."""
        self._warned: set[str] = set()

    # -- reading ----------------------------------------------------------------------------------

    def read(self, status_id: str | None, full_status_name: str) -> Reading:
        """The normalized status of a ticket with this `status_id` and `full_status_name`."""
        full = full_status_name.strip()
        if status_id is not None:
            configured = self._ids.get(status_id)
            if configured is not None:
                by_name = self._by_name(full)
                plain = by_name is not None and by_name.status == configured and by_name.label is None
                return Reading(configured, None if plain else full or None)
        reading = self._by_name(full)
        if reading is None:
            if full:
                self._warn(full)
            return Reading(UNKNOWN, full or None)
        return reading

    def learn(self, status_id: str | None, substatus_id: str | None, full_status_name: str) -> None:
        """Note the id and name of a status a ticket shows. Without a substatus the whole name is the
        status's; with one, the part before the separator is (a known name first, since a name may
        hold the separator itself)."""
        full = full_status_name.strip()
        if status_id is None or not full:
            return
        if substatus_id is None:
            self._seen[status_id] = full
        elif status_id not in self._seen:
            self._seen[status_id] = self._status_part(full)

    def learn_catalogue(self, catalogue: Catalogue) -> None:
        for entry in catalogue.entries:
            self._seen[entry.id] = entry.name

    # -- choosing ids -----------------------------------------------------------------------------

    def ids_for(self, wanted: Iterable[Status], catalogue: Catalogue) -> list[str]:
        """Ids of the account's statuses that read as any of `wanted`, by its complete catalogue."""
        targets = set(wanted)
        ids = [entry.id for entry in catalogue.entries if self._reads_as(entry) in targets]
        return ids + [i for i, status in self._ids.items() if status in targets and i not in ids]

    def target(self, status: Status, catalogue: Catalogue | None) -> CatalogueEntry | None:
        """The status to set for `status`: a configured id first, then a configured or built-in name.
        A status nobody mapped is never chosen, though it reads as `open`."""
        candidates = [
            entry
            for entry in self.known(catalogue)
            if self._meaning(entry) == status and (_key(entry.name) not in NEVER_SET or entry.id in self._ids)
        ]
        if not candidates:
            return None
        by_id = list(self._ids)
        by_name = {name: index for index, name in reversed(list(enumerate(self._preferred)))}

        def rank(entry: CatalogueEntry) -> tuple[int, int]:
            if entry.id in self._ids:
                return (0, by_id.index(entry.id))
            return (1, by_name.get(_key(entry.name), len(by_name)))

        return min(candidates, key=rank)

    def known(self, catalogue: Catalogue | None) -> list[CatalogueEntry]:
        """Every status known so far, by id: the catalogue's, the tickets', the configured ids."""
        names = dict(self._seen)
        if catalogue is not None:
            names.update({entry.id: entry.name for entry in catalogue.entries})
        for status_id in self._ids:
            names.setdefault(status_id, "")
        return [CatalogueEntry(status_id, name) for status_id, name in sorted(names.items(), key=_by_number)]

    def describe(self, catalogue: Catalogue | None) -> str:
        """The known statuses as a clause: name, id and what each reads as."""
        known = self.known(catalogue)
        return ", ".join(f"{e.shown} (id {e.id}: {self._reads_as(e)})" for e in known) or "none yet"

    # -- helpers ----------------------------------------------------------------------------------

    def _by_name(self, full: str) -> Reading | None:
        key = _key(full)
        for name in self._longest_first:
            if key == name or key.startswith(name + SUBSTATUS_SEPARATOR):
                label = None if key in self._plain else full
                return Reading(self._map[name], label)
        return None

    def _meaning(self, entry: CatalogueEntry) -> Status | None:
        """What a status means, if anyone said: its configured id, else its configured or built-in name."""
        return self._ids.get(entry.id) or self._map.get(_key(entry.name))

    def _reads_as(self, entry: CatalogueEntry) -> Status:
        return self._meaning(entry) or UNKNOWN

    def _status_part(self, full: str) -> str:
        key = _key(full)
        for name in self._longest_first:
            if key.startswith(name + SUBSTATUS_SEPARATOR):
                return self._shown[name]
        return full.rsplit(SUBSTATUS_SEPARATOR, 1)[0].strip()

    def _warn(self, name: str) -> None:
        if name not in self._warned:
            self._warned.add(name)
            log.warning(
                "Thulium status %r of backend %r is not in the status mapping; it reads as %r. "
                "Map its id or name in the backend's `statuses` setting.",
                name,
                self._backend,
                UNKNOWN,
            )


def _by_number(item: tuple[str, str]) -> tuple[int, str]:
    return (int(item[0]) if item[0].isdigit() else 0, item[0])


def parse_catalogue(payload: object) -> Catalogue | None:
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
