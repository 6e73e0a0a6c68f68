"""Plain text written as HTML for a vendor that stores or mails message bodies as HTML.

The opposite direction of `text`: what the agent wrote goes out so that it reads back as written.
"""

from __future__ import annotations

import html
import re

__all__ = ["escaped_html"]

# A space after a space or at the start of a line: HTML would collapse or drop it.
_KEPT_SPACE = re.compile(r"(?:(?<= )|(?<=^)) ", re.MULTILINE)


def escaped_html(plain: str, *, paragraph: bool = True, line_break: str = "<br>") -> str:
    """`plain` as HTML that displays as exactly that text: one `<p>` unless `paragraph` is false.

    `<`, `>` and `&` are escaped, so `a < b` or a literal `<b>` stays text; lines are separated by
    `line_break` and a newline; runs of spaces and indentation are kept as non-breaking spaces (the
    first space of a run inside a line stays an ordinary one, so lines still wrap there).
    """
    escaped = html.escape(plain.replace("\r\n", "\n").replace("\r", "\n"), quote=False)
    lines = f"{line_break}\n".join(_KEPT_SPACE.sub("&nbsp;", escaped).split("\n"))
    return f"<p>{lines}</p>" if paragraph else lines
