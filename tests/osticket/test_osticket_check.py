"""`helpdesk-mcp check` against osTicket as a person runs it: a refused key fails, a wrong time zone warns."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import child_env, console_script
from tests.fakes.osticket import OsticketFake, Ticket, env_for, make_fake


def check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [console_script(), "check"],
        capture_output=True,
        text=True,
        env={**child_env(tmp_path), **env},
        timeout=60,
        check=False,
    )


def test_a_wrong_key_on_the_extension_is_refused_and_fails(tmp_path: Path) -> None:
    with make_fake(tickets=3).running() as fake:
        assert isinstance(fake, OsticketFake)
        env = env_for(fake)
        good = check(tmp_path, **env)
        refused = check(tmp_path, **{**env, "OSTICKET_API_KEY": "WRONG0123456789ABCDEF"})
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.startswith("ok   osticket (osticket): the ticket API extension answered")
    assert "warning" not in good.stdout
    assert refused.returncode == 1, refused.stdout
    assert refused.stdout.startswith("FAIL osticket (osticket): credentials refused: ")
    assert "refused the credentials" in refused.stdout and "check the key" in refused.stdout
    assert "WRONG0123456789ABCDEF" not in refused.stdout


def test_a_ticket_opened_in_the_future_warns_of_the_time_zone(tmp_path: Path) -> None:
    with make_fake(tickets=3, timezone="Europe/Warsaw").running() as fake:
        assert isinstance(fake, OsticketFake)
        agent = fake.staff[0]
        fake.tickets.append(Ticket(99, "424242", "Nowy", 1, fake.now(), staff_id=agent.id))
        # osTicket wrote Warsaw wall-clock time; read as Los Angeles time it lies hours ahead.
        checked = check(tmp_path, **{**env_for(fake), "OSTICKET_TIMEZONE": "America/Los_Angeles"})
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "warning: ticket osticket:424242 was opened" in checked.stdout
    assert "database host's system time zone" in checked.stdout and "@@system_time_zone" in checked.stdout
