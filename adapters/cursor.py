"""Search cursors: a position in a search's order, validated by pydantic, carried as URL-safe base64 JSON.

Every search, each backend's and the server's merge of them, writes and reads its cursors through a
`Cursor`, so a cursor that was not returned by the same kind of search (edited, cut short, from another
search) is refused the same way everywhere: with `BAD_CURSOR`, and before it costs a request.
"""

from __future__ import annotations

import base64
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter

from .errors import InvalidInputError

T = TypeVar("T")

MAX_CURSOR = 65_536
"""Characters in the longest cursor read. The longest real ones (UseDesk's, naming every ticket updated
in one second, inside the server's merged cursor) stay far below; it bounds what reading one costs."""

BAD_CURSOR = (
    "The cursor does not belong to this search; start again without a cursor, keeping the other "
    "arguments as they were when the cursor was returned."
)


class Cursor(Generic[T]):
    """Cursors holding a `shape` (a type pydantic validates, such as a tuple of constrained fields).

    Read back in strict mode, so a cursor holds exactly what `encode` wrote: no number given as text,
    no text given as a number.
    """

    def __init__(self, shape: Any) -> None:
        self._shape: TypeAdapter[T] = TypeAdapter(shape)

    def encode(self, position: T) -> str:
        return base64.urlsafe_b64encode(self._shape.dump_json(position)).decode().rstrip("=")

    def decode(self, cursor: str) -> T:
        """The position `cursor` holds; InvalidInputError with `BAD_CURSOR` for anything else."""
        if len(cursor) > MAX_CURSOR:
            raise InvalidInputError(BAD_CURSOR)
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            return self._shape.validate_json(raw, strict=True)
        except ValueError:  # bad base64 (binascii.Error) and every pydantic ValidationError
            raise InvalidInputError(BAD_CURSOR) from None
