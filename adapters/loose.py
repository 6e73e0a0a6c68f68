"""Field types for vendor JSON as vendors really send it, for the pydantic models in each `wire.py`.

Helpdesk APIs are loose about types: an id is `"23962"` in one answer and `23962` in the next, a
number comes as a string, `0`, `""` or `null` mean "none", an XML-fronted API writes an empty field as
`[]` and a list of one as the object alone. Each type here accepts all of that through a
before-validator and never fails on a value of the wrong kind: a field it cannot read is empty, as if
the vendor had left it out. A wire model built from them therefore validates any JSON object, and
says which fields are read and how, which is the documentation of the vendor's format that we keep.

One meaning per name, in every vendor package: `Text` is a string, empty when absent;
`OptionalText` a stripped string or None; `Id` a string or None; `Count` a whole number or None;
`Flag` a boolean; `Objects` a list of objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict

__all__ = [
    "NONE_IDS",
    "Count",
    "Flag",
    "Id",
    "Object",
    "Objects",
    "OptionalText",
    "Text",
    "Texts",
    "WireModel",
    "as_list",
    "ident",
    "number",
    "optional_text",
    "text",
]

NONE_IDS = frozenset({"", "0", "null", "none"})
"""What vendors write for "no id", compared case-insensitively after stripping."""

_Model = TypeVar("_Model", bound=BaseModel)


class WireModel(BaseModel):
    """A vendor object: unknown fields ignored, read once, never written back."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


def text(value: Any) -> str:
    """A field that should be text: numbers written as digits, anything else not text as ""."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def optional_text(value: Any) -> str | None:
    """Text without surrounding whitespace, or None when that leaves nothing."""
    return text(value).strip() or None


def ident(value: Any) -> str | None:
    """An id as a string, from a number or a string; 0, "0", "", null and "none" mean no id."""
    found = text(value).strip()
    return None if found.lower() in NONE_IDS else found


def number(value: Any) -> int | None:
    """A whole number from a number or a string of digits (as ids and flags arrive), or None."""
    found = text(value).strip()
    return int(found) if found.isascii() and found.isdigit() else None


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes"}
    return bool(value) if isinstance(value, bool | int) else False


def as_list(value: Any) -> list[Any]:
    """A list however the vendor spells it: a list, nothing (`null`, `""`, `{}`), or one item alone."""
    if value is None or value in ("", [], {}):
        return []
    return value if isinstance(value, list) else [value]


def _objects(value: Any) -> list[Any]:
    return [item for item in as_list(value) if isinstance(item, Mapping)]


def _object(value: Any) -> Any:
    return value if isinstance(value, Mapping) else {}


def _texts(value: Any) -> list[str]:
    return [found for found in (text(item).strip() for item in as_list(value)) if found]


Text = Annotated[str, BeforeValidator(text)]
OptionalText = Annotated[str | None, BeforeValidator(optional_text)]
Id = Annotated[str | None, BeforeValidator(ident)]
Count = Annotated[int | None, BeforeValidator(number)]
Flag = Annotated[bool, BeforeValidator(_flag)]
Texts = Annotated[list[str], BeforeValidator(_texts)]
"""A list of non-empty strings (numbers as digits), stripped; one string alone is a list of one."""
Objects = Annotated[list[_Model], BeforeValidator(_objects)]
"""A list of objects; entries that are not objects are skipped, one object alone is a list of one."""
Object = Annotated[_Model, BeforeValidator(_object)]
"""A nested object; anything that is not an object reads as an empty one."""
