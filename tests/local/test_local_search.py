"""Searching the local helpdesk: full text, filters, and paging with cursors."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from helpdesk_mcp.adapters.errors import InvalidInputError
from helpdesk_mcp.adapters.local.adapter import LocalAdapter
from helpdesk_mcp.adapters.local.store import Contact, ImportedMessage, ImportedTicket, Store
from helpdesk_mcp.adapters.model import NewReply, NewTicket, SearchQuery, Status

pytestmark = pytest.mark.anyio

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ANN = Contact(name="Ann Lee", email="ann@example.com")
BORIS = Contact(name="Boris Ivanov", email="boris@example.com")
SAM = Contact(name="Sam Carter", email="sam@example.com", agent=True)
ZOE = Contact(name="Zoë Ng", email="zoe@example.com", agent=True)


def imported(
    subject: str,
    *,
    created: datetime = T0,
    updated: datetime | None = None,
    status: Status = "open",
    requester: Contact | None = ANN,
    assignee: Contact | None = None,
    tags: tuple[str, ...] = (),
    body: str = "Please help.",
) -> ImportedTicket:
    message = ImportedMessage(kind="customer", author=requester, body=body, created_at=created)
    return ImportedTicket(
        subject=subject,
        status=status,
        priority="normal",
        requester=requester,
        assignee=assignee,
        tags=tags,
        created_at=created,
        updated_at=updated or created,
        messages=(message,),
    )


def seed(path: Path, tickets: list[ImportedTicket]) -> None:
    store = Store(path)
    store.import_into_empty(tickets)
    store.close()


async def subjects(adapter: LocalAdapter, **filters: object) -> list[str]:
    page = await adapter.search(SearchQuery.model_validate(filters), limit=50)
    return [hit.ticket.subject for hit in page.hits]


async def test_text_finds_subjects_replies_and_notes_by_word_prefix(adapter: LocalAdapter) -> None:
    await adapter.create_ticket(NewTicket(subject="Refund for duplicate charge", body="Charged twice."))
    await adapter.create_ticket(NewTicket(subject="Login broken", body="Cannot sign in."))
    await adapter.create_ticket(NewTicket(subject="Question", body="Where is my parcel?"))
    await adapter.reply("2", NewReply(body="Try clearing the browser cookies.", status="solved"))
    await adapter.reply("3", NewReply(body="Courier lost it; reship via Parcelforce.", internal=True))

    assert await subjects(adapter, text="refund") == ["Refund for duplicate charge"]
    assert await subjects(adapter, text="REFUN") == ["Refund for duplicate charge"]
    assert await subjects(adapter, text="cookies") == ["Login broken"]
    assert await subjects(adapter, text="courier") == ["Question"]
    assert await subjects(adapter, text="parcel") == ["Question"]
    # Every word must occur, but anywhere in the ticket: subject and reply together.
    assert await subjects(adapter, text="login cookie") == ["Login broken"]
    assert await subjects(adapter, text="login parcel") == []
    # The recorded status change is not text anyone wrote.
    assert await subjects(adapter, text="changed solved") == []


async def test_text_ignores_accents(adapter: LocalAdapter) -> None:
    await adapter.create_ticket(NewTicket(subject="Résumé upload fails", body="Café wifi."))
    assert await subjects(adapter, text="resume cafe") == ["Résumé upload fails"]


@pytest.mark.parametrize(
    "text",
    [
        'refund "card',
        '"',
        '""',
        "ab*cd",
        "NOT",
        "NOT refund",
        "-xy",
        "(",
        ")(",
        "refund OR",
        "NEAR(ab cd)",
        "subject:refund",
        "^refund",
        "*",
        "'; DROP TABLE tickets; --",
        "\x00",
        "refund\x00card",
        "x" * 5000,
    ],
)
async def test_hostile_text_is_searched_as_plain_words(adapter: LocalAdapter, text: str) -> None:
    await adapter.create_ticket(NewTicket(subject="Refund for a card payment", body="NOT a joke: ab*cd -xy"))
    page = await adapter.search(SearchQuery(text=text), limit=5)
    assert len(page.hits) <= 1
    assert len(await subjects(adapter)) == 1


async def test_a_nul_in_the_text_separates_words(adapter: LocalAdapter) -> None:
    await adapter.create_ticket(NewTicket(subject="Refund for a card payment", body="Please."))
    assert await subjects(adapter, text="refund\x00card") == ["Refund for a card payment"]
    assert await subjects(adapter, text="refund\x00parcel") == []


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("refund a", "The search word 'a' is one character"),
        ("order 5", "The search word '5' is one character"),
        ("ab*c", "The search word 'ab*c' ends in the one-character word 'c'"),
        (" ".join(["refund"] * 33), "The search text has 33 words; use at most 32"),
        ("-".join(["ab"] * 40), "The search text has 40 words; use at most 32"),
    ],
)
async def test_costly_text_is_refused_in_one_sentence(adapter: LocalAdapter, text: str, said: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(said)) as refused:
        await adapter.search(SearchQuery(text=text), limit=5)
    assert refused.value.message.count(". ") == 0 and refused.value.message.endswith(".")


async def test_text_without_letters_or_digits_matches_nothing(adapter: LocalAdapter) -> None:
    await adapter.create_ticket(NewTicket(subject="Refund", body="Please."))
    assert await subjects(adapter, text="?! ( ) *") == []
    assert await subjects(adapter, text="refund ?!") == ["Refund"]
    assert await subjects(adapter, text="   ") == ["Refund"]


async def test_status_filter_takes_any_of_several(db_path: Path, adapter: LocalAdapter) -> None:
    seed(
        db_path,
        [
            imported("a", status="new"),
            imported("b", status="pending"),
            imported("c", status="solved"),
        ],
    )
    assert sorted(await subjects(adapter, statuses=["new", "solved"])) == ["a", "c"]


async def test_people_filters_match_email_or_part_of_a_name(db_path: Path, adapter: LocalAdapter) -> None:
    seed(
        db_path,
        [
            imported("ann-sam", requester=ANN, assignee=SAM),
            imported("boris-zoe", requester=BORIS, assignee=ZOE),
            imported("nobody", requester=None),
            imported("nameless", requester=Contact(name="", email="kim@example.org")),
        ],
    )
    assert await subjects(adapter, requester="ANN@example.COM") == ["ann-sam"]
    assert await subjects(adapter, requester="ivan") == ["boris-zoe"]
    assert await subjects(adapter, requester="example.com") == []
    # Without a name, the address is all there is to find a person by (adapters/filtering.py).
    assert await subjects(adapter, requester="Example.org") == ["nameless"]
    assert await subjects(adapter, assignee="sam carter") == ["ann-sam"]
    assert await subjects(adapter, assignee="ZOË") == ["boris-zoe"]
    assert await subjects(adapter, assignee="Sam@Example.com") == ["ann-sam"]
    sam = (await adapter.search(SearchQuery(assignee="sam carter"), limit=5)).hits[0].ticket.assignee
    assert sam is not None and sam.id is not None
    assert await subjects(adapter, assignee=sam.id) == ["ann-sam"]  # the id a result shows


async def test_tag_filter_needs_every_tag_in_any_case(db_path: Path, adapter: LocalAdapter) -> None:
    seed(
        db_path,
        [
            imported("both", tags=("billing", "vip")),
            imported("one", tags=("billing",)),
            imported("none"),
        ],
    )
    assert sorted(await subjects(adapter, tags=["Billing"])) == ["both", "one"]
    assert await subjects(adapter, tags=["BILLING", " vip "]) == ["both"]
    assert await subjects(adapter, tags=["billing", "vip", "missing"]) == []


async def test_time_filters_include_after_and_exclude_before(db_path: Path, adapter: LocalAdapter) -> None:
    hour = timedelta(hours=1)
    seed(
        db_path,
        [
            imported("early", created=T0, updated=T0 + 10 * hour),
            imported("late", created=T0 + hour, updated=T0 + 20 * hour),
        ],
    )
    assert await subjects(adapter, created_after=T0 + hour) == ["late"]
    assert await subjects(adapter, created_before=T0 + hour) == ["early"]
    assert await subjects(adapter, updated_after=T0 + 20 * hour) == ["late"]
    assert await subjects(adapter, updated_before=T0 + 20 * hour) == ["early"]
    assert await subjects(adapter, created_after=T0, created_before=T0 + 2 * hour) == ["late", "early"]
    # A bound in another time zone means the same instant: 02:00+03:00 is 23:00Z of the day before.
    moscow = datetime(2024, 5, 2, 2, 0, tzinfo=timezone(timedelta(hours=3)))
    assert await subjects(adapter, updated_after=moscow) == ["late"]


async def test_hits_carry_people_and_sorted_tags(db_path: Path, adapter: LocalAdapter) -> None:
    seed(db_path, [imported("a", requester=ANN, assignee=SAM, tags=("zeta", "alpha"))])
    [hit] = (await adapter.search(SearchQuery(), limit=5)).hits
    summary = hit.ticket
    assert summary.ref == "local:1"
    assert summary.tags == ["alpha", "zeta"]
    assert summary.requester is not None
    assert summary.assignee is not None
    assert (summary.requester.name, summary.requester.email) == ("Ann Lee", "ann@example.com")
    assert (summary.assignee.name, summary.assignee.email) == ("Sam Carter", "sam@example.com")
    assert summary.created_at == T0


async def test_paging_visits_every_ticket_once_in_order(db_path: Path, adapter: LocalAdapter) -> None:
    # Groups of three share an update time, so that the order's tie-break on id is paged over too.
    seed(db_path, [imported(f"t{i}", updated=T0 + timedelta(minutes=i // 3)) for i in range(25)])
    seen: list[str] = []
    mores: list[bool] = []
    cursor = None
    while True:
        page = await adapter.search(SearchQuery(), limit=7, cursor=cursor)
        seen += [hit.ticket.ref for hit in page.hits]
        mores.append(page.more)
        if not page.more:
            break
        cursor = page.hits[-1].cursor
    expected = [f"local:{i + 1}" for i in sorted(range(25), key=lambda i: (i // 3, i), reverse=True)]
    assert seen == expected
    assert mores == [True, True, True, False]


async def test_resuming_from_any_hit_continues_right_after_it(db_path: Path, adapter: LocalAdapter) -> None:
    seed(db_path, [imported(f"t{i}", updated=T0 + timedelta(minutes=i % 4)) for i in range(10)])
    everything = (await adapter.search(SearchQuery(), limit=50)).hits
    for index, hit in enumerate(everything):
        rest = await adapter.search(SearchQuery(), limit=50, cursor=hit.cursor)
        assert [h.ticket.ref for h in rest.hits] == [h.ticket.ref for h in everything[index + 1 :]]


async def test_last_full_page_says_there_is_no_more(db_path: Path, adapter: LocalAdapter) -> None:
    seed(db_path, [imported(f"t{i}") for i in range(4)])
    page = await adapter.search(SearchQuery(), limit=4)
    assert (len(page.hits), page.more) == (4, False)


def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "abc",
        _cursor(b"not json"),
        _cursor(b"{}"),
        _cursor(b'["2024-05-01T12:00:00.000000Z"]'),
        _cursor(b'["yesterday", 3]'),
        _cursor(b'["2024-05-01T12:00:00Z", 3]'),
        _cursor(b'["2024-05-01T12:00:00.000000Z", "3"]'),
        _cursor(b'["2024-05-01T12:00:00.000000Z", 99999999999999999999999]'),
        _cursor(b'["2024-05-01T12:00:00.000000Z", true]'),
        _cursor(b"\xff\xfe"),
        _cursor(b"[" * 100_000),
        "курсор",
    ],
)
async def test_garbled_cursor_says_start_again(adapter: LocalAdapter, cursor: str) -> None:
    with pytest.raises(InvalidInputError, match="start again without a cursor"):
        await adapter.search(SearchQuery(), limit=5, cursor=cursor)


async def test_huge_limit_is_served_in_pages(db_path: Path, adapter: LocalAdapter) -> None:
    seed(db_path, [imported(f"t{i}") for i in range(3)])
    page = await adapter.search(SearchQuery(), limit=2**70)
    assert (len(page.hits), page.more) == (3, False)
