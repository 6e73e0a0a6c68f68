"""Untrusted helpdesk message bodies, turned into compact plain text for a model to read.

Two layers use it. Vendor adapters call `to_plain_text` on every message body they read, so that the
normalized model carries whole messages as plain text: HTML flattened, invisible characters removed.
The server, when it shows a thread to a model, also cuts quoted mail history and signatures
(`trim_quoted`) and says how to read a message whole; a trimmed body never becomes the record.

READ-ONLY. This filter is lossy by design: it drops markup, formatting, images, quoted history and
signatures, and it guesses where quotes start. Its output is for reading only. It must never be written
back to a helpdesk -- not as a reply body, a ticket update or a note -- because that would silently
destroy the original message. Anything that edits or re-sends content must start from the raw body.

Invisible characters are removed for safety as much as for size: zero-width and bidi-control characters
can hide or reorder text, and Unicode tag characters can carry instructions a human never sees but a
model reads. Stdlib only, and no function here raises on malformed input.
"""

from __future__ import annotations

import html as _html
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser

__all__ = [
    "HIDDEN_MARKER",
    "TRIM_MARKER",
    "clean_text",
    "html_to_text",
    "looks_like_html",
    "strip_hidden",
    "to_plain_text",
    "trim_quoted",
]

TRIM_MARKER = "[quoted text trimmed]"
HIDDEN_MARKER = "[hidden text removed]"

# ---------------------------------------------------------------------------------------------------
# HTML to text
# ---------------------------------------------------------------------------------------------------

_SKIP = frozenset({"script", "style", "head", "title", "noscript", "template", "svg"})
# Anything else opening inside <head> means the head was never closed; browsers end it there, and so
# do we, or a missing </head> would swallow the whole message.
_HEAD_CONTENT = frozenset({"title", "meta", "link", "style", "script", "base", "noscript", "template"})
_VOID = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
    "wbr",
})  # fmt: skip
_BLOCK = frozenset({
    "address", "article", "aside", "body", "caption", "center", "dd", "details", "dialog", "dir", "div", "dl",
    "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "html", "main", "menu", "nav", "p", "section", "summary", "table", "tbody", "tfoot", "thead",
})  # fmt: skip
# Collapsible HTML whitespace; U+00A0 is deliberately absent: `<p>&nbsp;</p>` is how Outlook and many
# editors write an empty line, and it must survive as one.
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
_LINK_SCHEME = re.compile(r"(?:https?|mailto):", re.IGNORECASE)
# Browsers ignore whitespace and control characters inside an href; so do we before judging the scheme.
_HREF_JUNK = re.compile(r"[\x00-\x20\x7f]+")
_MARKED_SECTION = re.compile(r"<!\[[^>]*>")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_ZERO = re.compile(r"[+-]?(?:0+(?:\.0*)?|\.0+)(?:[a-z]+|%)?")
_FAR_OFF = re.compile(r"-\d{4,}(?:\.\d*)?(?:px|pt)?")  # a thousand pixels off the page and more
_ZERO_WHEN_HIDING = ("font-size", "opacity", "width", "height", "max-width", "max-height")


def _declarations(style: str) -> dict[str, str]:
    """An inline `style` as property -> value, lower case, the last declaration of a property winning."""
    found: dict[str, str] = {}
    for declaration in _CSS_COMMENT.sub("", style).split(";"):
        name, colon, value = declaration.partition(":")
        if colon:
            value = value.lower().replace("!important", "")
            found[name.strip().lower()] = " ".join(value.split())
    return found


def _hides(attrs: list[tuple[str, str | None]]) -> bool:
    """Whether an element's own attributes keep its text from a human's eyes in a mail client.

    Only inline styles and the `hidden` attribute are read; a class hidden by a `<style>` sheet is not.
    """
    given = dict(attrs)
    if "hidden" in given:
        return True
    style = _declarations(given.get("style") or "")
    color = style.get("color")
    background = style.get("background-color", style.get("background"))
    return (
        style.get("display") == "none"
        or style.get("visibility") in {"hidden", "collapse"}
        or any(_ZERO.fullmatch(style.get(name, "x")) for name in _ZERO_WHEN_HIDING)
        or color == "transparent"
        or (color is not None and color == background)
        or (
            style.get("position") in {"absolute", "fixed"}
            and any(_FAR_OFF.fullmatch(style.get(side, "")) for side in ("left", "top", "text-indent"))
        )
        or bool(_FAR_OFF.fullmatch(style.get("text-indent", "")))
    )


@dataclass
class _List:
    ordered: bool
    counter: int = 0
    item_open: bool = False


@dataclass
class _Link:
    href: str | None
    text: list[str] = field(default_factory=list)


class _TextExtractor(HTMLParser):
    """Writes text line by line; each line remembers the blockquote depth it started at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._lines: list[str] = []
        self._cur: list[str] = []
        self._cur_depth = 0
        self._quote_depth = 0
        self._pre_depth = 0
        self._pre_fresh = False
        self._skip: list[str] = []
        self._hidden: list[str] = []
        """Elements open inside one hidden by its style, outermost first; empty when text is visible."""
        self._hidden_text = False
        self._lists: list[_List] = []
        self._marker: str | None = None
        self._links: list[_Link] = []
        self._cells = 0
        self._cell_sep = False

    # -- output ------------------------------------------------------------------------------------

    def _emit(self, text: str) -> None:
        if not self._cur:
            self._cur_depth = self._quote_depth
            if self._marker is not None:
                self._cur.append(self._marker)
                self._marker = None
            elif self._lists and self._lists[-1].item_open:
                self._cur.append("  " * len(self._lists))
        elif self._cell_sep:
            self._cur.append("| " if self._ends_with_space() else " | ")
            text = text.lstrip(" ")
        self._cell_sep = False
        self._cur.append(text)
        for link in self._links:
            link.text.append(text)

    def _ends_with_space(self) -> bool:
        return not self._cur or self._cur[-1].endswith(" ")

    def _flush(self) -> None:
        """End the current line, even if it is empty (an explicit line break)."""
        depth = self._cur_depth if self._cur else self._quote_depth
        line = ("> " * depth + "".join(self._cur).rstrip()).rstrip()
        self._cur = []
        self._cell_sep = False
        blank = not line.replace(">", "").strip()
        # Runs of empty lines say nothing a single one does not; leading ones say nothing at all.
        if blank and (not self._lines or self._lines[-1] == line):
            return
        self._lines.append(line)

    def _break(self) -> None:
        """Start a new line unless already at the start of one."""
        if self._cur:
            self._flush()

    def _mark_hidden(self) -> None:
        """Say where hidden text was, once per run of it: the reader learns the sender hid something."""
        if "".join(self._cur).rstrip().endswith(HIDDEN_MARKER):
            return
        self._emit(f"{HIDDEN_MARKER} " if self._ends_with_space() else f" {HIDDEN_MARKER} ")

    def text(self) -> str:
        if self._hidden_text:
            self._hidden = []
            self._hidden_text = False
            self._mark_hidden()
        while self._links:
            self._close_link()
        self._break()
        return "\n".join(self._lines)

    # -- links -------------------------------------------------------------------------------------

    def _close_link(self) -> None:
        link = self._links.pop()
        if link.href is None:
            return
        href = _HREF_JUNK.sub("", link.href)
        if not _LINK_SCHEME.match(href):
            return
        label = " ".join("".join(link.text).split())
        if _same_target(label, href):
            return
        self._emit(f"({href})" if self._ends_with_space() else f" ({href})")

    # -- parser callbacks --------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip and self._skip[-1] == "head" and tag not in _HEAD_CONTENT:
            self._skip.pop()
        if tag in _SKIP:
            self._skip.append(tag)
            return
        if self._skip:
            return
        if self._hidden or _hides(attrs):
            if tag not in _VOID:
                self._hidden.append(tag)
            return
        if tag == "br":
            self._flush()
        elif tag == "img":
            alt = " ".join((dict(attrs).get("alt") or "").split())
            if alt:
                self._emit(f"[image: {alt}] " if self._ends_with_space() else f" [image: {alt}] ")
        elif tag == "a":
            if self._links:  # an <a> inside an <a> closes the outer one in HTML
                self._close_link()
            self._links.append(_Link(dict(attrs).get("href")))
        elif tag in ("ul", "ol"):
            self._break()
            lst = _List(ordered=tag == "ol")
            if tag == "ol":
                start = dict(attrs).get("start") or ""
                lst.counter = int(start) - 1 if start.strip().lstrip("-").isdigit() else 0
            self._lists.append(lst)
        elif tag == "li":
            self._break()
            if self._lists:
                lst = self._lists[-1]
                lst.counter += 1
                lst.item_open = True
                bullet = f"{lst.counter}. " if lst.ordered else "- "
                self._marker = "  " * (len(self._lists) - 1) + bullet
            else:
                self._marker = "- "
        elif tag == "blockquote":
            self._break()
            self._quote_depth += 1
        elif tag == "pre":
            self._break()
            self._pre_depth += 1
            self._pre_fresh = True
        elif tag == "tr":
            self._break()
            self._cells = 0
        elif tag in ("td", "th"):
            self._cell_sep = self._cells > 0
            self._cells += 1
        elif tag in _BLOCK:
            self._break()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            if tag in self._skip:
                while self._skip.pop() != tag:
                    pass
            return
        if self._hidden:
            if tag in self._hidden:
                while self._hidden.pop() != tag:
                    pass
                if not self._hidden and self._hidden_text:
                    self._hidden_text = False
                    self._mark_hidden()
            return
        if tag == "br":  # browsers read a stray </br> as <br>
            self._flush()
        elif tag == "a":
            if self._links:
                self._close_link()
        elif tag in ("ul", "ol"):
            self._break()
            self._marker = None
            if self._lists:
                self._lists.pop()
        elif tag == "li":
            self._break()
            self._marker = None
            if self._lists:
                self._lists[-1].item_open = False
        elif tag == "blockquote":
            self._break()
            self._quote_depth = max(0, self._quote_depth - 1)
        elif tag == "pre":
            self._break()
            self._pre_depth = max(0, self._pre_depth - 1)
        elif tag == "tr" or tag in _BLOCK:
            self._break()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._hidden:
            self._hidden_text = self._hidden_text or bool(data.strip())
            return
        if self._pre_depth:
            if self._pre_fresh and data.startswith("\n"):  # HTML drops the newline right after <pre>
                data = data[1:]
            self._pre_fresh = False
            for i, segment in enumerate(data.replace("\r\n", "\n").replace("\r", "\n").split("\n")):
                if i:
                    self._flush()
                if segment:
                    self._emit(segment.replace("\xa0", " "))
            return
        text = _HTML_SPACE.sub(" ", data)
        if self._ends_with_space():
            text = text.lstrip(" ")
        if text:
            self._emit(text.replace("\xa0", " "))


def _link_target(value: str) -> str:
    value = value.strip().lower()
    for prefix in ("mailto:", "https://", "http://", "www."):
        value = value.removeprefix(prefix)
    return value.rstrip("/")


def _same_target(label: str, href: str) -> bool:
    return bool(label) and _link_target(label) == _link_target(href)


def _tidy(text: str) -> str:
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def _crude_html_to_text(html: str) -> str:
    text = re.sub(r"<[^>]*>", " ", html)
    return _html.unescape(text).replace("\xa0", " ").strip()


def html_to_text(html: str) -> str:
    """Readable plain text from an HTML body.

    Blocks become lines, list items get "- " (or "1. " in ordered lists), links keep their text plus
    " (href)" when the target differs from it (http, https and mailto only), images with alt text become
    "[image: alt]", and blockquote lines are prefixed with "> " so `trim_quoted` can recognize them.
    Scripts, styles, the head and comments are dropped. Text an inline style hides from a human
    (display:none, visibility:hidden, zero size or opacity, colour on the same colour, far off the page)
    is dropped too, and `[hidden text removed]` says where it was: a model must not read what a
    person reviewing the ticket could not see.
    """
    # A comment left open runs to the end in browsers; the stdlib parser would print it as text instead.
    opened = html.find("<!--", html.rfind("-->") + 1)
    if opened != -1:
        html = html[:opened]
    for source in (html, _MARKED_SECTION.sub("", html)):
        # The stdlib parser asserts on some malformed `<![...` sections; without them it does not.
        parser = _TextExtractor()
        try:
            parser.feed(source)
            parser.close()
            return _tidy(parser.text())
        except Exception:  # noqa: S112 -- the fallback below is the handling
            continue
    return _tidy(_crude_html_to_text(html))


_HTML_HINT = re.compile(
    r"<(?:!doctype\s+html|html|head|body|p|br|div|span|table|tbody|tr|td|th|ul|ol|li|b|i|u|strong|em|font"
    r"|blockquote|pre|h[1-6]|img|hr|center|style|meta)(?:\s[^<>]*)?/?>"
    r"|<a\s[^<>]*href"
    r"|</(?:p|div|span|a|b|i|u|strong|em|td|tr|table|li|ul|ol|font|blockquote|html|body)>",
    re.IGNORECASE,
)


def looks_like_html(text: str) -> bool:
    """True if `text` contains a common HTML tag; plain text that merely mentions "<" is not HTML."""
    return _HTML_HINT.search(text) is not None


# ---------------------------------------------------------------------------------------------------
# Invisible characters
# ---------------------------------------------------------------------------------------------------


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


def _strip_invisible(text: str) -> str:
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
    stripped = _strip_invisible(text)
    return stripped, len(text) - len(stripped)


def clean_line(text: str) -> str:
    """A one-line field (subject, name, tag, file name): invisible characters dropped, every run of
    whitespace, line breaks included, made one space, so a field cannot pose as several lines."""
    return " ".join(_strip_invisible(text).split())


def clean_text(text: str) -> str:
    """Drop invisible and bidi-control characters, normalize line ends and spaces, squeeze blank lines."""
    text = _strip_invisible(text)
    text = re.sub(r"[ \t]+(?=\n|$)", "", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


# ---------------------------------------------------------------------------------------------------
# Quoted history and signatures
# ---------------------------------------------------------------------------------------------------

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
    norm = [_strip_invisible(line).strip() for line in lines]
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


# ---------------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------------


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
