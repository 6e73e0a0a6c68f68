"""Text the agent writes, made exactly what a person is asked to confirm and a vendor receives.

Invisible characters (tag characters, bidi overrides and isolates, zero-width characters) are taken
out of every outgoing field with the same module that cleans what tickets say on the way in, before
anyone is asked and before any vendor is called; the result says what was removed. One-line fields
become one line; an e-mail address and a MIME type that are not one are refused in one sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypeVar

from helpdesk_mcp.adapters.errors import InvalidInputError
from helpdesk_mcp.adapters.invisible import strip_hidden

from .views import CreatedTicket, PostedMessage

ResultT = TypeVar("ResultT", CreatedTicket, PostedMessage)

# Deliberately loose: one address, no spaces, a dot in the domain; the helpdesk judges the rest.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_MIME_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*"
_MIME_TYPE = re.compile(rf"{_MIME_NAME}/{_MIME_NAME}(?: *;[ -~]*)?")


class Outgoing:
    """Cleans the fields of one write and remembers, for its result, what was removed from each."""

    def __init__(self) -> None:
        self._removed: dict[str, int] = {}

    @property
    def notes(self) -> list[str]:
        return [
            f"removed {count} invisible character{'s' if count != 1 else ''} from {field}"
            for field, count in self._removed.items()
        ]

    def text(self, field: str, value: str) -> str:
        """A message body: invisible characters removed, lines and spacing kept."""
        cleaned, removed = strip_hidden(value)
        if removed:
            self._removed[field] = self._removed.get(field, 0) + removed
        return cleaned

    def line(self, field: str, value: str) -> str:
        """A one-line field (subject, name, tag, file name): also every run of whitespace made one space."""
        return " ".join(self.text(field, value).split())

    def optional_line(self, field: str, value: str | None) -> str | None:
        """A one-line field that may be left out; left empty, it is left out."""
        if value is None:
            return None
        return self.line(field, value) or None

    def tags(self, values: Iterable[str] | None) -> tuple[str, ...]:
        cleaned = (self.line("tags", value) for value in values or ())
        return tuple(dict.fromkeys(tag for tag in cleaned if tag))

    def email(self, value: str | None) -> str | None:
        return self._token(
            "requester_email",
            value,
            _EMAIL,
            "requester_email does not look like one e-mail address on one line; "
            "give one such as name@example.com.",
        )

    def mime_type(self, value: str | None) -> str | None:
        return self._token(
            "mime_type",
            value,
            _MIME_TYPE,
            "mime_type is not one MIME type on one line; give one such as application/pdf, "
            "or leave it out to have it guessed from the file name.",
        )

    def _token(self, field: str, value: str | None, shape: re.Pattern[str], wrong: str) -> str | None:
        """A field a line break would corrupt rather than merely reflow: kept as written, and refused
        with `wrong` unless it has the `shape` the vendor expects."""
        token = None if value is None else self.text(field, value).strip() or None
        if token is not None and not shape.fullmatch(token):
            raise InvalidInputError(wrong)
        return token

    def told(self) -> str:
        """For a confirmation question: what was removed, since hidden text in what an agent wrote
        is a sign the ticket it answers tried to steer it; empty when nothing was."""
        if not self._removed:
            return ""
        counts = "; ".join(note.removeprefix("removed ") for note in self.notes)
        return f"\n\nHidden characters the agent wrote were removed and will not be sent: {counts}."

    def noted(self, result: ResultT) -> ResultT:
        """`result` with what was removed added to its notes."""
        if not self._removed:
            return result
        return result.model_copy(update={"notes": [*result.notes, *self.notes]})
