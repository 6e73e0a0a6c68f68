"""Quoted mail history and signatures, cut from a message for reading.

READ-ONLY: the cut is a guess, made to save a model's reading; a trimmed body never becomes the record
and is never written back to a helpdesk.
"""

from __future__ import annotations

import re

from .invisible import remove_invisible

__all__ = ["TRIM_MARKER", "trim_quoted"]

TRIM_MARKER = "[quoted text trimmed]"

_EMAIL = r"[^<>\s@]+@[^<>\s]+"
_TIME_OR_DATE = re.compile(r"\d{1,2}:\d{2}|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")
_VERB = r"(?:wrote|pisze|napisał(?:\([aа]\)|a)?|пишет|написал(?:\([аa]\)|а)?)"
_ATTR_EN = re.compile(r"On\s.*\bwrote:", re.IGNORECASE)
_ATTR_PL = re.compile(rf"W dniu\s.*\b{_VERB}:", re.IGNORECASE)
_ATTR_VERB = re.compile(rf".*\b{_VERB}:", re.IGNORECASE)
_ATTR_GMAIL = re.compile(rf".*<{_EMAIL}>\s*:")  # Gmail in some locales: "<date>, Name <a@b>:"
_ORIGINAL = re.compile(
    r"-{2,}\s*(?:original message|wiadomość oryginalna|oryginalna wiadomość|исходное сообщение)\s*-{2,}",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"\*?(?:From|Od|От)\s*:\*?\s*\S")
_HEADER_FIELD = re.compile(
    r"\*?(?:Sent|Date|To|Subject|Cc|Wysłano|Data|Do|Temat|DW|Отправлено|Дата|Кому|Тема|Копия)\s*:"
)
# Forwarded mail is usually the point of the message, not history, so its header block is not a cut.
_FORWARD_MARKER = re.compile(
    r"forwarded message|wiadomość przekazana|przekazana wiadomość|пересылаемое сообщение"
    r"|пересланное сообщение",
    re.IGNORECASE,
)
_FORWARD_SUBJECT = re.compile(
    r"\*?(?:Subject|Temat|Тема)\s*:\*?\s*(?:fwd?|pd|tr|wg|пересл\w*)\s*:", re.IGNORECASE
)
_SEPARATOR = re.compile(r"(?:_{5,}|-{5,}|={5,}|\*{5,})")
_MAX_ATTRIBUTION = 300


def _is_attribution(line: str) -> bool:
    if len(line) > _MAX_ATTRIBUTION:  # also bounds the regexes' backtracking on hostile input
        return False
    if _ATTR_PL.fullmatch(line):
        return True
    detail = "@" in line or _TIME_OR_DATE.search(line) is not None
    if _ATTR_EN.fullmatch(line):
        return detail or any(c.isdigit() for c in line)
    # Without a date or an address, "Bob wrote:" is as likely to introduce a quote the reader needs.
    return detail and (_ATTR_VERB.fullmatch(line) is not None or _ATTR_GMAIL.fullmatch(line) is not None)


def _loose_attribution(line: str) -> bool:
    return len(line) <= _MAX_ATTRIBUTION and bool(_ATTR_VERB.fullmatch(line) or _ATTR_GMAIL.fullmatch(line))


def _attribution_end(norm: list[str], quoted: list[bool], i: int) -> int | None:
    """Last line of an attribution starting at line i (clients wrap long ones), or None."""
    for k in range(i, min(i + 3, len(norm))):
        if k > i and (not norm[k] or quoted[k]):
            break
        if norm[k].endswith(":") and _is_attribution(" ".join(norm[i : k + 1])):
            # If the tail alone is an attribution, it starts later and line i is the reply's own text.
            if any(_is_attribution(" ".join(norm[j : k + 1])) for j in range(i + 1, k + 1)):
                return None
            return k
    return None


def _is_interleaved(norm: list[str], quoted: list[bool], after: int) -> bool:
    """True if the quote after line `after` is answered inline: own text follows the quoted lines."""
    rest = [(n, q) for n, q in zip(norm[after + 1 :], quoted[after + 1 :], strict=True) if n]
    return bool(rest) and rest[0][1] and any(not q for _, q in rest)


def _is_forward(norm: list[str], i: int) -> bool:
    before = [n for n in norm[max(0, i - 3) : i] if n]
    if before and _FORWARD_MARKER.search(before[-1]):
        return True
    return any(_FORWARD_SUBJECT.match(n) for n in norm[i : i + 8])


def _cut_point(norm: list[str], quoted: list[bool]) -> int | None:
    for i, line in enumerate(norm):
        if not line or quoted[i]:
            continue
        if line == "--":
            return i
        if _ORIGINAL.fullmatch(line) and not _is_forward(norm, i):
            return i
        if (
            _HEADER_FROM.match(line)
            and any(_HEADER_FIELD.match(n) for n in norm[i + 1 : i + 4])
            and not _is_forward(norm, i)
        ):
            return i
        end = _attribution_end(norm, quoted, i)
        if end is not None and not _is_interleaved(norm, quoted, end):
            return i
    return None


def _trailing_quote(norm: list[str], quoted: list[bool]) -> int | None:
    start = None
    for i in range(len(norm) - 1, -1, -1):
        if quoted[i]:
            start = i
        elif norm[i]:
            break
    if start is None:
        return None
    before = [i for i in range(start) if norm[i]]
    if before and _loose_attribution(norm[before[-1]]):
        return before[-1]
    return start


def trim_quoted(text: str) -> str:
    """Cut quoted mail history and signatures, ending with TRIM_MARKER if anything was cut.

    The cut is at the first signature delimiter ("-- "), attribution line ("On ... wrote:", "W dniu ...
    pisze:", "... пишет:" and the like), "-----Original Message-----", Outlook header block ("From:"
    followed by "Sent:"/"To:"/...), or trailing run of "> " lines. Quotes answered inline are kept. If
    the cut would leave nothing, the text is returned unchanged.
    """
    lines = re.split(r"\r\n|\r|\n", text)
    norm = [remove_invisible(line).strip() for line in lines]
    quoted = [line.startswith(">") for line in norm]
    candidates = [c for c in (_cut_point(norm, quoted), _trailing_quote(norm, quoted)) if c is not None]
    if not candidates:
        return text
    cut = min(candidates)
    while cut > 0 and (not norm[cut - 1] or _SEPARATOR.fullmatch(norm[cut - 1])):
        cut -= 1
    if not any(norm[:cut]):
        return text
    return "\n".join(lines[:cut]).rstrip() + "\n\n" + TRIM_MARKER
