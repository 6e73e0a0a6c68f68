"""Opening tickets with stock osTicket's one call: the exact request, its encoding quirks, its plain-text
answers and errors, and a create whose answer was lost."""

from __future__ import annotations

import base64

import pytest

from helpdesk_mcp.adapters.errors import (
    AuthError,
    InvalidInputError,
    OutcomeUnknownError,
    UnsupportedError,
)
from helpdesk_mcp.adapters.model import FileUpload, NewTicket
from helpdesk_mcp.adapters.osticket.adapter import OsticketAdapter
from tests.fakes.harness import Fault
from tests.fakes.osticket import OsticketFake, make_fake
from tests.osticket.conftest import adapter_for

pytestmark = pytest.mark.anyio

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + bytes(range(256))
POLISH = "Zażółć gęślą jaźń — drukarka w pokoju 214 nie działa."
RUSSIAN = "Съешь же ещё этих мягких французских булок, да выпей чаю."


def new_ticket(**fields: object) -> NewTicket:
    values: dict[str, object] = {
        "subject": "Drukarka / принтер",
        "body": f"{POLISH}\n{RUSSIAN}\n\ndata: is only a word here, 50% & <b>not</b> HTML",
        "requester_email": "ola@example.com",
        "requester_name": "Ola Nowak",
        **fields,
    }
    return NewTicket.model_validate(values)


async def test_the_request_is_the_documented_json_with_utf8_data_uris(
    fake: OsticketFake, adapter: OsticketAdapter
) -> None:
    files = (
        FileUpload(filename="zrzut ekranu.png", mime_type="image/png", content=PNG),
        FileUpload(
            filename="log.txt", mime_type="text/plain; charset=utf-8", content="błąd: сбой\n".encode()
        ),
    )
    created = await adapter.create_ticket(new_ticket(priority="urgent", attachments=files))

    [request] = fake.received("POST", r"/tickets\.json$")
    assert request.path == "/api/http.php/tickets.json"
    assert request.header("X-API-Key") == fake.api_key
    sent = request.json()
    assert set(sent) == {"email", "name", "subject", "message", "priorityId", "attachments"}
    assert sent["email"] == "ola@example.com" and sent["name"] == "Ola Nowak" and sent["priorityId"] == 4
    # HTML with every `&` escaped twice: osTicket decodes entities once before it cleans the HTML.
    assert sent["message"] == (
        "data:text/html;charset=utf-8,Zażółć gęślą jaźń — drukarka w pokoju 214 nie działa.<br />\n"
        f"{RUSSIAN}<br />\n<br />\n"
        "data: is only a word here, 50% &amp;amp; &amp;lt;b&amp;gt;not&amp;lt;/b&amp;gt; HTML"
    )
    # Files: base64 without a charset, whatever parameters the MIME type came with.
    assert sent["attachments"] == [
        {"zrzut ekranu.png": "data:image/png;base64," + base64.b64encode(PNG).decode()},
        {"log.txt": "data:text/plain;base64," + base64.b64encode(files[1].content).decode()},
    ]
    assert fake.system_log == [], "no key osTicket does not know"

    stored = fake.tickets[-1]
    assert stored.entries[0].format == "html" and "&lt;b&gt;not&lt;/b&gt;" in stored.entries[0].body
    assert [(f.name, f.content) for f in stored.entries[0].files] == [
        ("zrzut ekranu.png", PNG),
        ("log.txt", files[1].content),
    ]
    assert created.ref == f"osticket:{stored.number}" and stored.priority_id == 4
    [first] = created.messages
    assert first.kind == "customer" and first.body == new_ticket().body, "read back as it was written"
    assert [a.filename for a in first.attachments] == ["zrzut ekranu.png", "log.txt"]
    assert created.not_stored == []


async def test_the_fake_mangles_what_the_adapter_avoids(fake: OsticketFake) -> None:
    """Why the adapter writes data URIs as it does: osTicket's parser, fed the other forms."""
    adapter = adapter_for(fake)
    payload = {
        "email": "ola@example.com",
        "name": "Ola",
        "subject": "quirks",
        "message": "data:text/plain," + RUSSIAN,
        "attachments": [
            {"a.txt": "data:text/plain;charset=utf-8;base64," + base64.b64encode(b"hello").decode()}
        ],
    }
    response = await adapter._client.write("POST", "api/http.php/tickets.json", json=payload)
    assert response.status_code == 201
    entry = fake.tickets[-1].entries[0]
    assert entry.body != RUSSIAN and entry.body == RUSSIAN.encode().decode("iso-8859-1")
    assert entry.files[0].content == base64.b64encode(b"hello"), "base64 never decoded"
    await adapter.aclose()


async def test_the_answer_is_the_ticket_number_as_plain_text(
    fake: OsticketFake, adapter: OsticketAdapter
) -> None:
    created = await adapter.create_ticket(new_ticket())
    [answer_for] = [t for t in fake.tickets if f"osticket:{t.number}" == created.ref]
    assert answer_for.number.isdigit() and len(answer_for.number) == 6
    assert created.status == "open" and created.requester is not None
    assert created.requester.email == "ola@example.com"


async def test_a_customer_address_is_required_and_asked_for(
    fake: OsticketFake, adapter: OsticketAdapter
) -> None:
    with pytest.raises(InvalidInputError, match="requester_email"):
        await adapter.create_ticket(new_ticket(requester_email=None))
    with pytest.raises(UnsupportedError, match="no tags"):
        await adapter.create_ticket(new_ticket(tags=("hardware",)))
    assert fake.received("POST") == []


async def test_the_name_falls_back_to_the_address_as_osticket_does(
    fake: OsticketFake, adapter: OsticketAdapter
) -> None:
    await adapter.create_ticket(new_ticket(requester_email="jan.kowalski@firma.pl", requester_name=None))
    assert fake.received("POST")[-1].json()["name"] == "jan.kowalski"


@pytest.mark.parametrize(("version", "status"), [("1.18", 500), ("1.16", 400)])
async def test_validation_failures_are_invalid_input_even_as_http_500(version: str, status: int) -> None:
    with make_fake(version=version, tickets=5).running() as fake:
        assert isinstance(fake, OsticketFake)
        adapter = adapter_for(fake)
        with pytest.raises(InvalidInputError) as refused:
            await adapter.create_ticket(new_ticket(requester_email="not-an-address"))
        assert "Valid email address required" in refused.value.message and "\n" not in refused.value.message
        assert "nothing was saved" in refused.value.message
        assert len(fake.received("POST")) == 1 and len(fake.tickets) == 5
        # What osTicket itself answered, for the record: plain text, and 500 from 1.17 on.
        [sent] = fake.received("POST")
        answer = fake.dispatch(sent)
        assert answer.status == status and answer.headers["Content-Type"].startswith("text/html")
        await adapter.aclose()


async def test_a_banned_address_and_a_key_bound_elsewhere_are_told_apart() -> None:
    with make_fake(tickets=3, banned=("spam@example.com",)).running() as fake:
        assert isinstance(fake, OsticketFake)
        adapter = adapter_for(fake)
        with pytest.raises(InvalidInputError, match=r"Ticket denied.*ban list"):
            await adapter.create_ticket(new_ticket(requester_email="spam@example.com"))
        fake.key_ip = "10.0.0.7"
        with pytest.raises(AuthError, match="IP address"):
            await adapter.create_ticket(new_ticket())
        await adapter.aclose()


async def test_a_key_that_may_not_create_says_so() -> None:
    with make_fake(tickets=3, can_create=False).running() as fake:
        assert isinstance(fake, OsticketFake)
        adapter = adapter_for(fake)
        with pytest.raises(AuthError, match="API key not authorized"):
            await adapter.create_ticket(new_ticket())
        await adapter.aclose()


async def test_a_rejected_file_leaves_the_ticket_and_osticket_s_note(fake: OsticketFake) -> None:
    fake.max_file_size = 100
    adapter = adapter_for(fake)
    big = FileUpload(filename="scan.pdf", mime_type="application/pdf", content=b"%PDF" + bytes(500))
    small = FileUpload(filename="small.txt", mime_type="text/plain", content=b"ok")
    created = await adapter.create_ticket(new_ticket(attachments=(big, small)))
    note, customer = created.messages
    assert note.kind == "system" and note.body == "scan.pdf: File size is too large"
    assert [a.filename for a in customer.attachments] == ["small.txt"], "the file kept, by its own name"
    [missing] = created.not_stored
    assert (missing.field, missing.name) == ("attachments", "scan.pdf")
    assert missing.reason == "osTicket: File size is too large"
    await adapter.aclose()


async def test_files_dropped_without_a_word_are_reported(fake: OsticketFake) -> None:
    fake.attachments_enabled = False
    adapter = adapter_for(fake)
    files = (
        FileUpload(filename="a.txt", mime_type="text/plain", content=b"a"),
        FileUpload(filename="b.txt", mime_type="text/plain", content=b"b"),
    )
    created = await adapter.create_ticket(new_ticket(attachments=files))
    [customer] = created.messages
    assert customer.attachments == []
    assert [(m.name, "turned off" in m.reason) for m in created.not_stored] == [
        ("a.txt", True),
        ("b.txt", True),
    ]
    await adapter.aclose()


@pytest.mark.parametrize(
    "fault",
    [
        Fault("status", status=500, apply=True),
        Fault("reset", apply=True),
        Fault("garbage", apply=True),
    ],
    ids=["applied-then-500", "applied-then-reset", "applied-then-garbage"],
)
async def test_a_lost_answer_is_resolved_by_the_customer_s_list(fake: OsticketFake, fault: Fault) -> None:
    adapter = adapter_for(fake)
    await adapter.start()
    fault.path = r"/tickets\.json$"
    fake.inject(fault)
    created = await adapter.create_ticket(new_ticket(subject="Zgubiona odpowiedź"))
    assert created.ref == f"osticket:{fake.tickets[-1].number}"
    assert len(fake.received("POST", r"/tickets\.json$")) == 1, "never sent twice"
    [lookup] = fake.received("GET", r"/clientTickets$")
    assert lookup.query == {"clientUserMail": ["ola@example.com"]}
    await adapter.aclose()


async def test_a_create_that_did_not_land_is_unknown_with_directions(fake: OsticketFake) -> None:
    adapter = adapter_for(fake)
    await adapter.start()
    fake.inject(Fault("status", status=503, path=r"/tickets\.json$"))
    before = len(fake.tickets)
    with pytest.raises(OutcomeUnknownError) as unknown:
        await adapter.create_ticket(new_ticket(subject="Nigdy nie dotarło"))
    assert "search for it (requester=ola@example.com) before trying again" in unknown.value.message
    assert len(fake.tickets) == before and len(fake.received("POST")) == 1
    await adapter.aclose()


async def test_stock_osticket_cannot_look_so_it_says_where_to(stock: OsticketFake) -> None:
    adapter = adapter_for(stock)
    await adapter.start()
    stock.inject(Fault("status", status=502, apply=True, path=r"/tickets\.json$"))
    with pytest.raises(OutcomeUnknownError, match="staff panel before trying again"):
        await adapter.create_ticket(new_ticket())
    assert len(stock.received("POST")) == 1
    await adapter.aclose()
