"""The search semantics every vendor that filters here shares (adapters/filtering.py), and its cursors.

Thulium, osTicket, Plusofon and UseDesk apply these filters over what their vendor lists; the local
helpdesk applies the same ones in SQL. tests/conformance checks `query` through an MCP client on each.
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk_mcp.adapters.cursor import BAD_CURSOR, MAX_CURSOR
from helpdesk_mcp.adapters.errors import InvalidInputError
from helpdesk_mcp.adapters.filtering import has_words, matches, page, resume_at
from helpdesk_mcp.adapters.model import Person, SearchQuery, TicketSummary

NOON = datetime(2026, 3, 1, 12, tzinfo=UTC)


def ticket(number: int, **fields: object) -> TicketSummary:
    values: dict[str, object] = {
        "ref": f"vendor:{number}",
        "subject": "Café résumé: printer-cartridge refill",
        "status": "open",
        "created_at": NOON,
        "updated_at": NOON + timedelta(hours=number),
        **fields,
    }
    return TicketSummary.model_validate(values)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("print", True),  # a word matches the start of a word
        ("PRINTER refill", True),  # every word, case aside
        ("cafe RESUME", True),  # accents aside
        ("printer-cart", True),  # parts of a word in a row, the last as a start
        ("cartridge-printer", False),  # ... in that order
        ("rinter", False),  # not the middle of a word
        ("printer toner", False),  # every word must be there
        ("   ", False),
        ("--- !!", False),  # text without a letter or digit finds nothing
        ("quota", True),  # found in a message the vendor listed
    ],
)
def test_query_finds_word_starts_in_the_subject_and_the_texts_given(text: str, found: bool) -> None:
    query = SearchQuery(text=text)
    assert matches(ticket(1), query, ["Mailbox over quota since Monday"]) is found


@pytest.mark.parametrize(
    ("text", "written", "found"),
    [
        ("żołw", "ŻÓŁW na łące", True),  # accents go, but "ł" is a letter of its own
        ("zolw", "ŻÓŁW na łące", False),
        ("kun upel", "Příliš žluťoučký kůň úpěl", True),
        ("nguoi", "Tiếng Việt: người", True),
        ("αλφα", "ΆΛΦΑ", True),
        ("иогурт елка", "йогурт и ЁЛКА", True),  # "й" and "ё" are "и" and "е" with a mark
        ("strasse file", "Straße ﬁle", True),  # case folded, ligatures undone
        ("12", "①②", True),
    ],
)
def test_query_reads_accented_and_compatibility_letters_as_plain_ones(
    text: str, written: str, found: bool
) -> None:
    assert has_words(text, [written]) is found


# Scripts whose accents fold away (Polish, Czech, French, German, Vietnamese, Greek, Cyrillic with "й"
# and "ё"), compatibility forms (ligatures, full width, circled digits), marks after a space or at the
# start, and scripts without accents or without spaces between words.
TEXTS = [
    "Żółw zażółć gęślą jaźń, ŁÓDŹ",
    "Příliš žluťoučký kůň úpěl ďábelské ódy",
    "Café résumé naïve Noël, Straße, ﬁle ﬀ ǅ",
    "Tiếng Việt có dấu: người, được",
    "Ελληνικά: άλφα ΆΛΦΑ ΐ ς Σ",
    "Привет, йогурт и ЁЛКА; Йошкар-Ола",
    "ｆｕｌｌ ｗｉｄｔｈ ①② Ⅻ x² ½",
    "e-mail v2.1 snake_case İstanbul ı",
    "\u0301start after\u00a0nbsp a \u0308mark x\u0327\u0301y",
    "日本語のテキスト 한국어 텍스트 emoji 😀 ok",
]


def _reference_has_words(text: str, texts: Sequence[str]) -> bool:
    """`has_words` as first written, plainly: fold each character, then compare lists of words."""

    def words(one: str) -> list[str]:
        decomposed = unicodedata.normalize("NFKD", one.casefold())
        return re.findall(r"[^\W_]+", "".join(c for c in decomposed if not unicodedata.combining(c)))

    def in_row(found: list[str], phrase: list[str]) -> bool:
        *whole, start = phrase
        return any(
            found[at : at + len(whole)] == whole and found[at + len(whole)].startswith(start)
            for at in range(len(found) - len(whole))
        )

    phrases = [p for p in (words(word) for word in re.split(r"[\s\x00-\x1f\x7f]+", text)) if p]
    return bool(phrases) and all(any(in_row(words(one), p) for one in texts) for p in phrases)


def _queries() -> list[str]:
    """Every word of `TEXTS` as written and in capitals, every start of it, pairs and triples of them
    joined by "-", and their ends (not starts, so found only elsewhere if at all)."""
    queries: set[str] = set()
    for text in TEXTS:
        written = text.split()
        for at, word in enumerate(written):
            queries |= {
                word,
                word.upper(),
                word[1:],
                "-".join(written[at : at + 2]),
                "-".join(written[at : at + 3]),
            }
            queries |= {word[:end] for end in range(1, len(word))}
    return sorted(queries)


def test_words_are_found_as_the_plain_fold_of_each_character_finds_them() -> None:
    found = 0
    for query in _queries():
        for texts in ([text] for text in TEXTS):
            expected = _reference_has_words(query, texts)
            assert has_words(query, texts) is expected, (query, texts)
            found += expected
        assert has_words(query, TEXTS) is _reference_has_words(query, TEXTS), query
    assert 0 < found < len(_queries()) * len(TEXTS)  # the corpus tells found from not found


def test_people_are_named_by_whole_address_or_id_or_part_of_the_name() -> None:
    named = ticket(1, requester=Person(id="7", name="Anna Kowalska", email="anna@example.com"))
    nameless = ticket(2, requester=Person(email="bob@example.org"), assignee=Person(id="jsmith"))
    assert matches(named, SearchQuery(requester="ANNA@example.com"))
    assert matches(named, SearchQuery(requester="kowal"))
    assert matches(named, SearchQuery(requester="7"))
    assert not matches(named, SearchQuery(requester="example.com"))  # part of an address, with a name
    assert matches(nameless, SearchQuery(requester="example.org"))  # the address is all there is
    assert matches(nameless, SearchQuery(assignee="JSmith"))
    assert not matches(nameless, SearchQuery(assignee="smith"))
    assert not matches(ticket(3), SearchQuery(requester="anna"))


def test_a_ticket_without_a_time_passes_no_bound_on_it() -> None:
    undated = ticket(1, created_at=None, updated_at=None)
    for query in (
        SearchQuery(created_after=NOON - timedelta(days=1)),
        SearchQuery(created_before=NOON + timedelta(days=1)),
        SearchQuery(updated_after=NOON - timedelta(days=1)),
        SearchQuery(updated_before=NOON + timedelta(days=1)),
    ):
        assert matches(ticket(1), query)
        assert not matches(undated, query)
    assert matches(undated, SearchQuery(text="refill"))


def test_bounds_are_after_inclusive_and_before_exclusive_and_tags_all_count() -> None:
    created = ticket(0, tags=["VIP", "billing"])
    assert matches(created, SearchQuery(created_after=NOON, created_before=NOON + timedelta(seconds=1)))
    assert not matches(created, SearchQuery(created_before=NOON))
    assert matches(created, SearchQuery(tags=("vip", "Billing")))
    assert not matches(created, SearchQuery(tags=("vip", "urgent")))


def test_pages_are_newest_first_and_each_cursor_resumes_right_after_its_ticket() -> None:
    tickets = [ticket(number) for number in (3, 1, 4, 2, 5)]
    first = page(tickets, 2, None)
    assert [hit.ticket.ref for hit in first.hits] == ["vendor:5", "vendor:4"] and first.more
    second = page(tickets, 2, resume_at(first.hits[-1].cursor))
    assert [hit.ticket.ref for hit in second.hits] == ["vendor:3", "vendor:2"] and second.more
    last = page(tickets, 2, resume_at(second.hits[-1].cursor))
    assert [hit.ticket.ref for hit in last.hits] == ["vendor:1"] and not last.more


def _raw(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        "é",
        _raw({"not": "a pair"}),
        _raw(["2026-03-01T12:00:00Z"]),
        _raw(["2026-03-01T12:00:00", "1"]),  # no time zone
        _raw(["2026-03-01T12:00:00Z", 1]),  # an id as a number, not as text
        _raw(["2026-03-01T12:00:00Z", ""]),
        base64.urlsafe_b64encode(b"[" * 10_000).decode(),  # nested deeper than any position
        "A" * (MAX_CURSOR + 1),
    ],
)
def test_a_cursor_no_search_returned_is_refused_with_one_sentence(cursor: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        resume_at(cursor)
    assert refused.value.message == BAD_CURSOR
