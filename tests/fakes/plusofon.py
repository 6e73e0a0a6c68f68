"""A fake Plusofon ticket API (restapi.plusofon.ru, `api/v1/ticket`), as its documentation describes it.

It serves one account (contract 57599, three cabinet users) and its support tickets with Plusofon:
- every call needs `Authorization: Bearer <token>` and the `Client` application code; a bad token is
  answered 401 `{"message": "Unauthenticated."}`, a wrong Client 500 "no access" (as 3P code reports);
- input is read like Laravel reads it: the query string merged with a JSON body, the body only when
  the request says `Content-Type: application/json`, also on a GET;
- `GET api/v1/ticket` lists by `state` ("true" open, "false" closed; anything else is PHP's
  "Undefined index: ..." as code 400) in the XML-derived shape of the vendor's page: `{"ticket": [...]}`,
  `{"ticket": {...}}` for a single ticket, `{}` for none, numbers as strings, `@attributes`, Unix
  times; `list_shape="array"` answers the older page's plain array instead;
- `GET api/v1/ticket/{id}` answers a ticket with its posts, dates as Moscow wall-clock text; a missing
  ticket is code 500 wrapping the upstream "HTTP/1.1 404 Not Found ... Ticket not Found";
- `POST api/v1/ticket` {subject, description}, `PUT api/v1/ticket/answer/{id}` {text} (which reopens
  a closed ticket: an assumption, the page is silent), `POST api/v1/ticket/attachment` {ticketId, filename,
  ticketPostID, contents (base64)}, with Laravel-style "The x field is required" errors (code 400);
- a write with a field its page does not list (a requester, a priority) is refused with code 400: the
  page does not say what happens to one, and refusing is the stricter guess;
- the attachment call's success has no documented body (the page shows `{ ... }`), so the fake answers
  one of its own devising (`attachment_answer`: an object describing the file, `{"success": true}`, or
  nothing); failures are `{"success": false, "message"}`: a post that is not the ticket's, or a file
  over `max_file_size` (a guess at a limit the page does not give). `keep_attachments=False` answers
  as usual but keeps nothing, as a call that fails silently would.
There are no internal notes or system events: the customer's API never shows them.
"""

from __future__ import annotations

import base64
import binascii
import random
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.fakes.harness import FakeVendor, Request, Response, json_response

ROUTES = {
    "search": ("GET", r"^/api/v1/ticket$"),
    "get": ("GET", r"^/api/v1/ticket/\d+$"),
    "create": ("POST", r"^/api/v1/ticket$"),
    "reply": ("PUT", r"^/api/v1/ticket/answer/\d+$"),
    "attach": ("POST", r"^/api/v1/ticket/attachment$"),
}

MOSCOW = ZoneInfo("Europe/Moscow")
BASE = int(datetime(2026, 11, 1, 9, 0, tzinfo=UTC).timestamp())
"""The seeded history ends here; everything written later happens at the real time."""
NOT_FOUND = (
    "HTTP/1.1 404 Not Found\r\nServer: nginx\r\nDate: Tue, 31 Aug 2021 08:31:18 GMT\r\n"
    "Content-Type: text/xml;charset=UTF-8\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n"
    "Vary: Accept-Encoding\r\nX-Frame-Options: SAMEORIGIN\r\nX-XSS-Protection: 1\r\n"
    "X-Content-Type-Options: nosniff\r\n\r\n{what} not Found"
)


@dataclass(frozen=True)
class User:
    id: str
    email: str

    @property
    def name(self) -> str:
        return self.email  # cabinet users are shown by their e-mail, as on the vendor's page


@dataclass(frozen=True)
class Staff:
    id: str
    name: str


OWNER = User("9747", "it@romashka-trade.ru")
"""The user the token belongs to: whatever the API writes is written as this user."""
USERS = (OWNER, User("9752", "buh@romashka-trade.ru"), User("9790", "biuro@romashka.pl"))
STAFF = (
    Staff("31", "Оператор"),
    Staff("57", "Анна Смирнова"),
    Staff("64", "Дмитрий Козлов"),
    Staff("12", "Техническая поддержка Plusofon"),
    Staff("70", "Katarzyna Wiśniewska"),
)


@dataclass
class File:
    id: int
    filename: str
    content: bytes
    mime: str


@dataclass
class Post:
    id: int
    at: int
    text: str
    author: User | Staff
    files: list[File] = field(default_factory=list)


@dataclass
class Ticket:
    id: int
    subject: str
    active: bool
    user: User
    created: int
    posts: list[Post]
    department: str = "5"
    priority: str = "2"

    @property
    def last(self) -> Post:
        return self.posts[-1]


class PlusofonFake(FakeVendor):
    vendor = "plusofon"

    def __init__(
        self,
        *,
        seed: int = 7,
        tickets: int = 300,
        list_shape: str = "object",
        token: str = "plusofon-token-5f0c9a7d2e41b8",
        client: str = "10553",
        attachment_answer: str = "object",
        keep_attachments: bool = True,
        max_file_size: int = 10 * 1024 * 1024,
    ) -> None:
        super().__init__()
        assert list_shape in {"object", "array"}
        assert attachment_answer in {"object", "success", "empty"}
        self.attachment_answer = attachment_answer
        self.keep_attachments = keep_attachments
        self.max_file_size = max_file_size
        self.token = token
        self.client = client
        self.list_shape = list_shape
        self.tickets: dict[int, Ticket] = {}
        self._next_ticket = 22001
        self._next_post = 43001
        self._next_file = 7001
        self._clock = BASE
        self.seed_once(
            (seed, tickets),
            lambda: _seed(self, random.Random(seed), tickets),
            *("tickets", "_next_ticket", "_next_post", "_next_file"),
        )
        self.route("GET", r"/api/v1/ticket", self._list)
        self.route("GET", r"/api/v1/ticket/(?P<id>[^/]+)", self._get)
        self.route("POST", r"/api/v1/ticket", self._create)
        self.route("PUT", r"/api/v1/ticket/answer/(?P<id>[^/]*)", self._answer)
        self.route("POST", r"/api/v1/ticket/attachment", self._attachment)

    # -- state ------------------------------------------------------------------------------------

    def add_ticket(self, subject: str, user: User, at: int, active: bool = True) -> Ticket:
        ticket = Ticket(self._next_ticket, subject, active, user, at, [])
        self._next_ticket += 1
        self.tickets[ticket.id] = ticket
        return ticket

    def add_post(self, ticket: Ticket, author: User | Staff, text: str, at: int) -> Post:
        post = Post(self._next_post, at, text, author)
        self._next_post += 1
        ticket.posts.append(post)
        return post

    def add_file(self, post: Post, filename: str, content: bytes, mime: str) -> File:
        attached = File(self._next_file, filename, content, mime)
        self._next_file += 1
        post.files.append(attached)
        return attached

    def now(self) -> int:
        """Unix time of a write: the real clock, never before the seeded history."""
        self._clock = max(self._clock + 1, int(time.time()))
        return self._clock

    # -- wire -------------------------------------------------------------------------------------

    def authorize(self, request: Request) -> Response | None:
        if request.header("authorization") != f"Bearer {self.token}":
            return error("Unauthenticated.", 401)
        if request.header("client") != self.client:
            return error("Нет доступа", 500)
        return None

    def not_routed(self, request: Request) -> Response:
        return error("Not Found", 404)

    def _list(self, request: Request, match: re.Match[str]) -> Response:
        state = php_string(read_input(request).get("state", _MISSING))
        if state not in {"true", "false"}:
            return error(f"Undefined index: {'state' if state is _MISSING else state}", 400)
        chosen = [t for t in self.tickets.values() if t.active == (state == "true")]
        if self.list_shape == "array":
            return json_response([self._entry(t, array=True) for t in chosen])
        if not chosen:
            return json_response({})
        entries = [self._entry(t) for t in chosen]
        return json_response({"ticket": entries[0] if len(entries) == 1 else entries})

    def _get(self, request: Request, match: re.Match[str]) -> Response:
        ticket = self._find(match["id"])
        return missing("Ticket") if ticket is None else json_response(self._ticket(ticket))

    def _create(self, request: Request, match: re.Match[str]) -> Response:
        data = read_input(request)
        if unknown := unlisted(request, {"subject", "description", "file"}):
            return unknown
        for name in ("subject", "description"):
            if not filled(data.get(name)):
                return error(f"The {name} field is required", 400)
        at = self.now()
        ticket = self.add_ticket(str(data["subject"]).strip(), OWNER, at)
        self.add_post(ticket, OWNER, str(data["description"]).strip(), at)
        return json_response(self._ticket(ticket))

    def _answer(self, request: Request, match: re.Match[str]) -> Response:
        ticket = self._find(match["id"])
        if ticket is None:
            return missing("Ticket")
        data = read_input(request)
        if unknown := unlisted(request, {"text", "file"}):
            return unknown
        if not filled(data.get("text")):
            return error("The text field is required", 400)
        self.add_post(ticket, OWNER, str(data["text"]).strip(), self.now())
        ticket.active = True
        return json_response(self._ticket(ticket))

    def _attachment(self, request: Request, match: re.Match[str]) -> Response:
        data = read_input(request)
        if unknown := unlisted(request, {"ticketId", "filename", "ticketPostID", "contents"}):
            return unknown
        for name in ("ticketId", "filename", "ticketPostID", "contents"):
            if not filled(data.get(name)):
                return error(f"The {name} field is required", 400)
        try:
            content = base64.b64decode(str(data["contents"]), validate=True)
        except (binascii.Error, ValueError):
            return error("The contents must be a valid base64 string", 400)
        ticket = self._find(str(data["ticketId"]))
        if ticket is None:
            return missing("Ticket")
        post = next((p for p in ticket.posts if str(p.id) == str(data["ticketPostID"]).strip()), None)
        if post is None:
            return json_response({"success": False, "message": "Ticket post not found"})
        if len(content) > self.max_file_size:
            return json_response({"success": False, "message": "The file is larger than the allowed size"})
        if not self.keep_attachments:
            return json_response({"attachment": {"ticketid": str(ticket.id), "filename": data["filename"]}})
        stored = self.add_file(post, str(data["filename"]), content, "application/octet-stream")
        if self.attachment_answer == "success":
            return json_response({"success": True})
        if self.attachment_answer == "empty":
            return Response(200, b"", {"Content-Type": "application/json"})
        return json_response(
            {
                "attachment": {
                    "id": str(stored.id),
                    "ticketid": str(ticket.id),
                    "ticketpostid": str(post.id),
                    "filename": stored.filename,
                    "filesize": str(len(content)),
                }
            }
        )

    def _find(self, ticket_id: str) -> Ticket | None:
        return self.tickets.get(int(ticket_id)) if ticket_id.strip().isdigit() else None

    def _entry(self, ticket: Ticket, *, array: bool = False) -> dict[str, Any]:
        staff = [p.author for p in ticket.posts if isinstance(p.author, Staff)]
        users = [p for p in ticket.posts if isinstance(p.author, User)]
        entry: dict[str, Any] = {
            "@attributes": {"id": str(ticket.id), "flagtype": "4"},
            "displayid": str(ticket.id),
            "departmentid": ticket.department,
            "statusid": "1" if ticket.active else "4",
            "priorityid": ticket.priority,
            "typeid": "32",
            "userid": ticket.user.id,
            "userorganization": "57599",
            "userorganizationid": "25",
            "ownerstaffid": staff[0].id if staff else "0",
            "ownerstaffname": staff[0].name if staff else [],
            "fullname": ticket.user.name,
            "email": ticket.user.email,
            "lastreplier": ticket.last.author.name,
            "subject": ticket.subject,
            "creationtime": str(ticket.created),
            "lastactivity": str(ticket.last.at),
            "laststaffreply": str(
                max((p.at for p in ticket.posts if isinstance(p.author, Staff)), default=0)
            ),
            "lastuserreply": str(max((p.at for p in users), default=0)),
            "slaplanid": "3",
            "nextreplydue": "0",
            "resolutiondue": "0",
            "replies": str(len(ticket.posts) - 1),
            "ipaddress": "10.10.80.124",
            "creator": "2",
            "creationmode": "4",
            "creationtype": "1",
            "isescalated": "0",
            "escalationruleid": "0",
            "templategroupid": "4",
            "tags": "неизвестно",
            "templategroupname": "Plusofon",
        }
        if array:
            # The older page's array: plain objects with their id on top, numbers as numbers.
            del entry["@attributes"]
            entry.update(
                id=ticket.id,
                status_ticket="Открыт" if ticket.active else "Закрыт",
                creationtime=ticket.created,
                lastactivity=ticket.last.at,
            )
        return entry

    def _ticket(self, ticket: Ticket) -> dict[str, Any]:
        return {
            "id": str(ticket.id),
            "subject": ticket.subject,
            "date": local(ticket.created),
            "status": ticket.active,
            "unread_messages": ticket.active and isinstance(ticket.last.author, Staff),
            "posts": [
                {
                    "id": str(post.id),
                    "date": local(post.at),
                    "text": post.text,
                    "author": {"id": post.author.id, "name": post.author.name},
                    "attachments": [
                        {
                            "id": str(f.id),
                            "filename": f.filename,
                            "filesize": str(len(f.content)),
                            "filetype": f.mime,
                        }
                        for f in post.files
                    ],
                }
                for post in ticket.posts
            ],
        }


_MISSING: Any = object()


def read_input(request: Request) -> dict[str, Any]:
    """Laravel's `$request->all()`: query parameters, and a JSON body when it is declared as JSON."""
    data: dict[str, Any] = {name: values[-1] for name, values in request.query.items()}
    if (request.header("content-type") or "").startswith("application/json") and request.body:
        try:
            body = request.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            data.update(body)
    return data


def unlisted(request: Request, fields: set[str]) -> Response | None:
    """A refusal of JSON body fields the call's page does not list, or None."""
    try:
        body = request.json() if request.body else {}
    except ValueError:
        return None
    unknown = sorted(set(body) - fields) if isinstance(body, dict) else []
    if not unknown:
        return None
    return error(f"Unknown fields: {', '.join(unknown)}", 400)


def php_string(value: Any) -> Any:
    """A value as PHP turns it into an array key: true is "1", false and null are ""."""
    if value is _MISSING:
        return value
    if isinstance(value, bool):
        return "1" if value else ""
    return "" if value is None else str(value)


def filled(value: Any) -> bool:
    """Laravel's `required`: present and not an empty (or blank) string."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def local(at: int) -> str:
    return datetime.fromtimestamp(at, MOSCOW).strftime("%Y-%m-%d %H:%M:%S")


def error(message: str, code: int) -> Response:
    return json_response({"message": message, "code": code}, code)


def missing(what: str) -> Response:
    return error(NOT_FOUND.format(what=what), 500)


# -- seeded state -------------------------------------------------------------------------------------

RU_TOPICS = (
    (
        "Не проходят входящие звонки на номер +7 495 {n}",
        "Добрый день!\n\nС утра не проходят входящие звонки на номер +7 495 {n}. Абоненты слышат короткие "
        "гудки, исходящие работают. Проверьте, пожалуйста, маршрутизацию — у нас встала вся линия продаж.",
    ),
    (
        "Ошибка 403 Forbidden при регистрации SIP-аккаунта {n}",
        "Здравствуйте. АТС Asterisk не может зарегистрировать SIP-аккаунт {n}: сервер отвечает 403 "
        "Forbidden. Пароль меняли вчера в личном кабинете, IP-адрес тот же. Что ещё проверить?",
    ),
    (
        "Вопрос по счёту № {n} за октябрь",
        "Добрый день! В счёте № {n} за октябрь начислено 12 480,50 ₽ за «Междугородные вызовы», хотя мы "
        "звонили только по Москве. Просим пересчитать и прислать детализацию.",
    ),
    (
        "Подключение номера 8-800 к многоканальной линии",
        "Здравствуйте! Хотим подключить номер 8-800 и направить вызовы на нашу многоканальную линию "
        "(сейчас 4 SIP-линии). Какие документы нужны и сколько займёт подключение?",
    ),
    (
        "Плохое качество связи: эхо и задержка {n} мс",
        "Коллеги, уже неделю при звонках на мобильные слышно эхо, задержка доходит до {n} мс. Кодек G.711, "
        "джиттер-буфер включён. Прикладываю трассировку ниже.",
    ),
    (
        "Не приходят SMS-уведомления о пропущенных",
        "Перестали приходить SMS о пропущенных вызовах на номер руководителя. Настройки не меняли. "
        "Проверьте, пожалуйста, отправку — ёлки-палки, клиенты теряются 😞",
    ),
    (
        "Смена тарифа на «Бизнес+» с 1-го числа",
        "Просим перевести договор 57599 на тариф «Бизнес+» с первого числа следующего месяца. "
        "Пакет минут — 5 000, номера сохраняем.",
    ),
    (
        "API flash call возвращает ошибку {n}",
        "При вызове метода flash call API отвечает кодом {n} и сообщением «insufficient rights». "
        "Токен взят из личного кабинета. В чём может быть дело?",
    ),
)
PL_TOPICS = (
    (
        "Brak połączeń przychodzących na numer +48 22 {n}",
        "Dzień dobry,\n\nod rana nie dochodzą połączenia przychodzące na numer +48 22 {n}. Dzwoniący słyszą "
        "sygnał zajętości. Proszę o pilną weryfikację — źle się dzieje, tracimy zgłoszenia klientów.",
    ),
    (
        "Faktura nr {n} — błędna kwota",
        "Dzień dobry, na fakturze nr {n} naliczono opłatę za połączenia zagraniczne, których nie "
        "wykonywaliśmy. Proszę o korektę. Pozdrawiam, Łukasz Żółkiewski",
    ),
)
STAFF_ANSWERS = (
    "<p>Здравствуйте!</p><p>Спасибо за обращение. Мы проверили настройки маршрутизации и обнаружили "
    "ошибку на стороне оператора. Исправление внесено, проверьте, пожалуйста, работу.</p>"
    "<p>С уважением,<br>{staff}<br>Техническая поддержка Plusofon</p>",
    "<p>Добрый день.</p><p>Для диагностики пришлите, пожалуйста:</p><ul><li>время звонка (МСК);</li>"
    "<li>номер, с которого звонили;</li><li>SIP-трассировку.</li></ul>"
    '<p>Подробнее в <a href="https://help.plusofon.ru/">базе знаний</a>.</p><p>{staff}</p>',
    "<p>Здравствуйте!</p><p>Перерасчёт выполнен, корректировочный счёт доступен в личном кабинете "
    "в разделе «Финансы&nbsp;→ Документы».</p><p>{staff}</p>",
)
PL_STAFF_ANSWERS = (
    "<p>Dzień dobry,</p><p>dziękujemy za zgłoszenie. Problem został rozwiązany po naszej stronie — "
    "prosimy o sprawdzenie połączeń.</p><p>Pozdrawiamy,<br>{staff}</p>",
)
FOLLOW_UPS = (
    "Спасибо, всё заработало!",
    "Проблема повторилась сегодня в 10:15 МСК. Звонили с +7 916 555-12-34.",
    "Прикладываю скриншот ошибки.",
    "Dziękuję, wszystko działa.",
)
ATTACHMENTS = (
    ("скриншот_ошибки.png", b"\x89PNG\r\n\x1a\n fake screenshot", "image/png"),
    ("детализация_октябрь.xlsx", b"PK\x03\x04 fake spreadsheet", "application/vnd.ms-excel"),
    ("faktura_korekta.pdf", b"%PDF-1.4 faktura", "application/pdf"),
)


def _sip_trace(rng: random.Random) -> str:
    lines = []
    for i in range(60):
        call = rng.randrange(10**8, 10**9)
        lines.append(
            f"{i:02d}:{rng.randrange(60):02d} INVITE sip:+7495{call}@sip.plusofon.ru SIP/2.0 → "
            f"100 Trying → 183 Session Progress → 403 Forbidden (Call-ID {call:x}@10.0.0.5)"
        )
    return "Трассировка SIP:\n" + "\n".join(lines)


def _long_html(rng: random.Random, staff: str) -> str:
    rows = "".join(
        f"<tr><td>2026-10-{day:02d}</td><td>+7 495 {rng.randrange(1000000, 9999999)}</td>"
        f"<td>{rng.randrange(1, 59)} мин</td><td>{rng.randrange(100, 9999) / 100:.2f} ₽</td></tr>"
        for day in range(1, 31)
        for _ in range(2)
    )
    return (
        "<html><head><style>td{padding:2px}</style></head><body><p>Здравствуйте!</p>"
        "<p>Направляем детализацию спорных вызовов за октябрь:</p>"
        f"<table><tr><th>Дата</th><th>Номер</th><th>Длительность</th><th>Сумма</th></tr>{rows}</table>"
        f"<p>С уважением,<br>{staff}</p></body></html>"
    )


def _seed(fake: PlusofonFake, rng: random.Random, count: int) -> None:
    for _ in range(count):
        user = rng.choice(USERS)
        polish = user.email.endswith(".pl")
        subject, opening = rng.choice(PL_TOPICS if polish else RU_TOPICS)
        number = rng.randrange(1000, 99999)
        at = BASE - rng.randrange(3600, 700 * 86400)
        ticket = fake.add_ticket(subject.format(n=number), user, at, active=True)
        text = opening.format(n=number)
        if rng.random() < 0.1:
            text += "\n\n" + _sip_trace(rng)
        post = fake.add_post(ticket, user, text, at)
        if rng.random() < 0.2:
            fake.add_file(post, *rng.choice(ATTACHMENTS))
        staff = rng.choice(STAFF[4:] if polish else STAFF[:4])
        for turn in range(rng.randrange(0, 6)):
            at += rng.randrange(600, 3 * 86400)
            if at >= BASE:
                break
            if turn % 2 == 0:
                answers = PL_STAFF_ANSWERS if polish else STAFF_ANSWERS
                if rng.random() < 0.08:
                    body = _long_html(rng, staff.name)
                else:
                    body = rng.choice(answers).format(staff=staff.name)
                fake.add_post(ticket, staff, body, at)
            else:
                quoted = "\n".join("> " + line for line in to_lines(ticket.last.text))
                follow = rng.choice(FOLLOW_UPS[3:] if polish else FOLLOW_UPS[:3])
                attribution = f"{local(ticket.last.at)}, {staff.name} пишет:"
                post = fake.add_post(ticket, user, f"{follow}\n\n{attribution}\n{quoted}", at)
                if rng.random() < 0.3:
                    fake.add_file(post, *rng.choice(ATTACHMENTS))
        recent = BASE - ticket.last.at < 60 * 86400
        ticket.active = rng.random() < (0.7 if recent else 0.04)


def to_lines(html_or_text: str) -> list[str]:
    text = re.sub(r"<br\s*/?>|</p>|</li>", "\n", html_or_text)
    return [line.strip() for line in re.sub(r"<[^>]+>", "", text).splitlines() if line.strip()][:6]


def make_fake(**options: Any) -> PlusofonFake:
    return PlusofonFake(**options)


def env_for(fake: FakeVendor) -> dict[str, str]:
    assert isinstance(fake, PlusofonFake)
    return {"PLUSOFON_TOKEN": fake.token, "PLUSOFON_URL": fake.url}
