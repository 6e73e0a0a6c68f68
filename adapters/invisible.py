"""Invisible characters: removed from what a model reads, and from what an agent writes.

They are removed for safety as much as for size: zero-width and bidi-control characters can hide or
reorder text, and Unicode tag characters can carry instructions a human never sees but a model reads.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

__all__ = ["clean_line", "clean_text", "remove_invisible", "strip_hidden"]


@cache
def _invisible() -> tuple[re.Pattern[str], dict[str, str]]:
    """A pattern for the characters to drop or replace, and what each becomes.

    Cf (format characters: zero-width, bidi controls, tags...) and control characters are dropped,
    unusual spaces become " " and line or paragraph separators "\n". Built from the running Python's
    Unicode tables, so new format characters are covered without a code change.
    """
    mapping: dict[str, str] = {}
    # Cf, Cc, Zs, Zl and Zp all live in planes 0, 1 and 14; scanning only those keeps the build cheap.
    for cp in (*range(0x20000), *range(0xE0000, 0xE1000)):
        ch = chr(cp)
        category = unicodedata.category(ch)
        if category == "Cf" and cp != 0x200D:  # ZWJ is judged in context, see _STRAY_ZWJ
            mapping[ch] = ""
        elif category == "Cc" and ch not in "\n\t":
            mapping[ch] = "\n" if ch in "\r\x0b\x0c\x85" else ""
        elif category in ("Zl", "Zp"):
            mapping[ch] = "\n"
        elif category == "Zs" and ch != " ":
            mapping[ch] = " "
    # Variation selectors 17-256 mean nothing outside rare CJK variants and can smuggle bytes unseen.
    for cp in range(0xE0100, 0xE01F0):
        mapping[chr(cp)] = ""
    ranges: list[list[int]] = []
    for cp in sorted(map(ord, mapping)):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    char_class = "".join(
        re.escape(chr(lo)) + ("-" + re.escape(chr(hi)) if hi > lo else "") for lo, hi in ranges
    )
    return re.compile(f"[{char_class}]"), mapping


_EMOJI = "\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff"
# ZWJ glues emoji into one (👩‍💻); anywhere else it is an invisible character like the rest.
_STRAY_ZWJ = re.compile(f"(?<![{_EMOJI}\ufe0f])\u200d|\u200d(?![{_EMOJI}])")
_VS_RUN = re.compile("([\ufe00-\ufe0f])[\ufe00-\ufe0f]+")


def remove_invisible(text: str) -> str:
    """`text` without invisible characters, other spaces as " " and line separators as "\\n"."""
    pattern, mapping = _invisible()
    text = pattern.sub(lambda m: mapping[m.group()], text.replace("\r\n", "\n"))
    text = _STRAY_ZWJ.sub("", text)
    return _VS_RUN.sub(r"\1", text)


def strip_hidden(text: str) -> tuple[str, int]:
    """`text` without the invisible characters `clean_text` drops, and how many it had.

    For text the agent writes rather than reads: nothing else changes (spaces, tabs, blank lines and
    markup stay as written; CRLF becomes LF), so what a person confirms is what the vendor receives.
    """
    text = text.replace("\r\n", "\n")
    stripped = remove_invisible(text)
    return stripped, len(text) - len(stripped)


def clean_line(text: str) -> str:
    """A one-line field (subject, name, tag, file name): invisible characters dropped, every run of
    whitespace, line breaks included, made one space, so a field cannot pose as several lines."""
    return " ".join(remove_invisible(text).split())


def clean_text(text: str) -> str:
    """Drop invisible and bidi-control characters, normalize line ends and spaces, squeeze blank lines."""
    text = remove_invisible(text)
    text = re.sub(r"[ \t]+(?=\n|$)", "", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()
