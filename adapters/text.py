"""Untrusted helpdesk message bodies, turned into compact plain text for a model to read.

Two layers use it. Vendor adapters call `to_plain_text` on every message body they read, so that the
normalized model carries whole messages as plain text: HTML flattened (`html_text`), invisible
characters removed (`invisible`). The server, when it shows a thread to a model, also cuts quoted mail
history and signatures (`quotes.trim_quoted`) and says how to read a message whole; a trimmed body never
becomes the record.

READ-ONLY. This filter is lossy by design: it drops markup, formatting, images, quoted history and
signatures, and it guesses where quotes start. Its output is for reading only. It must never be written
back to a helpdesk -- not as a reply body, a ticket update or a note -- because that would silently
destroy the original message. Anything that edits or re-sends content must start from the raw body;
text going to a vendor as HTML is written by `escaped_html`. Stdlib only, and nothing here raises on
malformed input.
"""

from __future__ import annotations

from .html_text import html_to_text, looks_like_html
from .invisible import clean_text
from .quotes import trim_quoted

__all__ = ["to_plain_text"]


def to_plain_text(body: str, *, html: bool | None = None, trim: bool = False) -> str:
    """The text of a message body as a model should read it; see the module docstring: read-only.

    `html` says whether `body` is HTML; None means guess with `looks_like_html`. `trim=True` also cuts
    quoted history and signatures.
    """
    if html or (html is None and looks_like_html(body)):
        body = html_to_text(body)
    if trim:
        body = trim_quoted(body)
    return clean_text(body)
