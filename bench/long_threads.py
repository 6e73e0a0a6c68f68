"""A second seeded set for the token bench: long threads as real mailboxes grow them.

The fakes' own tickets are short. Here some of them are given a thread of 20 to 30 messages, written
as mail clients write them: HTML with each sender's HTML signature after "-- ", every reply quoting
the message it answers under an attribution line ("On ... wrote:", "W dniu ... pisze:"), agents
answering with the same few templates (so some replies repeat an earlier one word for word), an
auto-reply, short internal notes. Deterministic for a seed, written into each vendor fake's own
records before the server reads them, so the vendor serves them as it serves any ticket.
"""

from __future__ import annotations

import html
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

CUSTOMERS = (
    ("Małgorzata Wiśniewska", "m.wisniewska@firma.example"),
    ("John Carter", "j.carter@acme.example"),
)
AGENTS = (("Anna Smirnova", "anna@support.example"), ("Piotr Nowak", "piotr@support.example"))
ASKS = (
    "The invoice for order {n} still shows the old company address, and our accounting cannot book it.",
    "Since Monday the export to CSV stops at about 2,000 rows; the file simply ends mid-line.",
    "Could you tell me when the replacement for the damaged parcel {n} will ship?",
    "We were charged twice for the subscription this month; both payments are visible on the statement.",
    "Login with single sign-on fails for three of our users with the message 'session expired'.",
    "The tracking number you sent does not work on the courier's page.",
    "Please also add our second warehouse in Łódź, ul. Źródlana 7/12, as a delivery address.",
    "I attached the screenshot again, the error code is E-4017 and it appears right after payment.",
)
FOLLOW = (
    "Any news on this? It has been a few days.",
    "I tried again this morning and the problem is still there.",
    "Thanks, that helped partly, but the second issue remains.",
    "Our manager asks for a written confirmation by Friday.",
    "Here are the details you asked for: order {n}, customer number {c}, bought on the 3rd.",
)
TEMPLATES = (
    "Thank you for your patience. We have passed your case to the billing team and will write back "
    "as soon as we hear from them, usually within one working day.",
    "Could you please send us the order number and a screenshot of the error? That will help us find "
    "the cause faster.",
    "We have corrected the data on our side. Please check again and let us know if anything is still wrong.",
)
AUTO_REPLY = (
    "This is an automatic confirmation: we have received your message and registered it under number "
    "{n}. Our support team answers within 24 hours on working days. Please do not reply to this message."
)
NOTES = (
    "Checked with billing: duplicate charge confirmed.",
    "Escalated to second line.",
    "Waiting for logs.",
)


@dataclass
class Written:
    role: str  # "customer", "agent", "auto" or "note"
    who: int  # index into CUSTOMERS or AGENTS
    html: str
    minutes: int  # after the ticket was opened
    text: str = ""
    """The same as plain text, as a web form or a plain-text mail client writes it."""


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n") if line)


def _signature(name: str, email: str, company: str) -> str:
    return (
        '<div class="signature"><p>-- </p><table><tr><td><b>'
        f"{html.escape(name)}</b><br>{company}<br>"
        f'<a href="mailto:{email}">{email}</a><br>tel. +48 22 555 01 23</td>'
        '<td><img src="https://cdn.example/logo.png" width="120" alt="logo"></td></tr></table>'
        '<p style="font-size:9px;color:#999">This message may contain confidential information. If you '
        "are not the intended recipient, please notify the sender and delete it.</p></div>"
    )


def _quoted(previous: Written, when: datetime, polish: bool) -> tuple[str, str]:
    """The message answered, quoted as sent (its own quotes left out), as HTML and as plain text."""
    name, email = (CUSTOMERS if previous.role == "customer" else AGENTS)[previous.who]
    stamp = when + timedelta(minutes=previous.minutes)
    if polish:
        said = f"W dniu {stamp:%d.%m.%Y o %H:%M} {name} <{email}> pisze:"
    else:
        said = f"On {stamp:%a, %d %b %Y at %H:%M}, {name} <{email}> wrote:"
    own = previous.text.split("\n\n", 1)[0]
    return (
        f'<div class="gmail_quote"><p>{html.escape(said)}</p><blockquote>{_own(previous.html)}</blockquote>'
        "</div>",
        f"\n\n{said}\n" + "\n".join(f"> {line}" for line in own.split("\n")),
    )


def thread(rng: random.Random, number: int, opened: datetime) -> list[Written]:
    """20 to 30 messages, oldest first."""
    customer = rng.randrange(len(CUSTOMERS))
    polish = customer == 0
    written: list[Written] = []
    minutes = 0
    count = rng.randint(20, 30)
    while len(written) < count:
        index = len(written)
        previous = written[-1] if written else None
        if index == 0:
            text = " ".join(rng.sample(ASKS, 3)).format(n=number)
            role, who = "customer", customer
        elif index == 1:
            text, role, who = AUTO_REPLY.format(n=number), "auto", 0
        elif (previous is not None and previous.role == "customer") or rng.random() < 0.15:
            if rng.random() < 0.15:
                text, role, who = rng.choice(NOTES), "note", rng.randrange(len(AGENTS))
            else:
                text, role, who = rng.choice(TEMPLATES), "agent", rng.randrange(len(AGENTS))
        else:
            text = rng.choice(FOLLOW).format(n=number, c=4000 + number % 997)
            if rng.random() < 0.5:
                text += "\n" + rng.choice(ASKS).format(n=number)
            role, who = "customer", customer
        minutes += rng.randint(5, 600)
        text = ("Dzień dobry,\n" if polish else "Hello,\n") + text
        body, plain = _paragraphs(text), text
        if role in ("customer", "agent"):
            name, email = (CUSTOMERS if role == "customer" else AGENTS)[who]
            company = "Firma Sp. z o.o." if role == "customer" else "Support team"
            body += _signature(name, email, company)
            plain += f"\n-- \n{name}\n{company}\n{email}\ntel. +48 22 555 01 23"
            answered = next((w for w in reversed(written) if w.role in ("customer", "agent")), None)
            if answered is not None and answered.role != role:
                quote_html, quote_text = _quoted(answered, opened, polish)
                body, plain = body + quote_html, plain + quote_text
        written.append(Written(role, who, body, minutes, plain))
    return written


def _own(body: str) -> str:
    return body.split('<div class="gmail_quote">', 1)[0]


def lengthen(vendor: str, fake: Any, count: int, seed: int = 13) -> list[str]:
    """Give `count` of the fake's tickets a long thread; their ids as `seeded_ids` names them."""
    rng = random.Random(seed)
    change = {"thulium": _thulium, "plusofon": _plusofon, "usedesk": _usedesk, "osticket": _osticket}[vendor]
    return [change(fake, ticket, rng) for ticket in _chosen(fake, count)]


def _chosen(fake: Any, count: int) -> list[Any]:
    tickets = list(fake.tickets.values()) if isinstance(fake.tickets, dict) else list(fake.tickets)
    step = max(1, len(tickets) // count)
    return tickets[::step][:count]


def _thulium(fake: Any, ticket: Any, rng: random.Random) -> str:
    from tests.fakes.thulium import AGENTS as LOGINS
    from tests.fakes.thulium import FakeMessage

    messages = []
    for w in thread(rng, ticket.id, ticket.created):
        when = ticket.created + timedelta(minutes=w.minutes)
        login = LOGINS[w.who] if w.role in ("agent", "note") else ""
        kind = {"customer": "MAIL", "agent": "REPLY", "auto": "REPLY", "note": "COMMENT"}[w.role]
        text = {"comment": w.html} if w.role == "note" else {"body": w.html}
        messages.append(FakeMessage(fake.message_id(), kind, when, user_login=login, **text))
    ticket.messages, ticket.updated = messages, messages[-1].created
    return str(ticket.id)


def _plusofon(fake: Any, ticket: Any, rng: random.Random) -> str:
    from tests.fakes.plusofon import STAFF, Post

    posts = []
    for w in thread(rng, ticket.id, datetime.fromtimestamp(ticket.created, UTC)):
        # Customers write in Plusofon's web cabinet, as plain text; staff answer in HTML.
        author, text = (ticket.user, w.text) if w.role == "customer" else (STAFF[1 + w.who], w.html)
        posts.append(Post(fake._next_post, ticket.created + w.minutes * 60, text, author))
        fake._next_post += 1
    ticket.posts = posts
    return str(ticket.id)


def _usedesk(fake: Any, ticket: Any, rng: random.Random) -> str:
    from tests.fakes.usedesk import AGENTS as AGENT_IDS
    from tests.fakes.usedesk import Comment

    agents = list(AGENT_IDS)
    comments = []
    for w in thread(rng, ticket.id, ticket.created_at):
        when = ticket.created_at + timedelta(minutes=w.minutes)
        origin = {"customer": "client", "agent": "user", "auto": "trigger", "note": "user"}[w.role]
        comment = Comment(
            fake.next_id("comment"),
            w.html,
            origin,
            "private" if w.role == "note" else "public",
            when,
            user_id=agents[w.who] if origin == "user" else None,
            client_id=ticket.client_id if origin == "client" else None,
            is_first=not comments,
        )
        comments.append(comment)
    ticket.comments, ticket.changes = comments, []
    ticket.updated_at = comments[-1].published_at
    return str(ticket.id)


def _osticket(fake: Any, ticket: Any, rng: random.Random) -> str:
    from tests.fakes.osticket import Entry

    user = fake.user(ticket.user_id)
    entries = []
    for w in thread(rng, int(ticket.number), ticket.created):
        when = ticket.created + timedelta(minutes=w.minutes)
        staff = fake.staff[w.who % len(fake.staff)]
        kind = {"customer": "M", "agent": "R", "auto": "R", "note": "N"}[w.role]
        poster = user.name if w.role == "customer" and user else staff.name
        entry = Entry(fake.next_entry_id(), kind, poster, w.html, "html", when)
        entry.user_id, entry.staff_id = (user.id if user else None, None) if kind == "M" else (None, staff.id)
        entries.append(entry)
    ticket.entries = entries
    return str(ticket.number)
