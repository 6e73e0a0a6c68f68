"""HTML message bodies as readable plain text: the first step of `text.to_plain_text`.

READ-ONLY, like everything `text.to_plain_text` builds on: the result drops markup and hidden text and
must never be written back to a helpdesk. Stdlib only, and nothing here raises on malformed HTML.
"""

from __future__ import annotations

import html as _html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["HIDDEN_MARKER", "html_to_text", "looks_like_html"]

HIDDEN_MARKER = "[hidden text removed]"

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
