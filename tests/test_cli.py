"""The command line as a person or a script uses it."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from helpdesk_mcp.server.cli import main
from helpdesk_mcp.server.logs import JsonLinesFormatter
from tests.conftest import child_env, console_script, free_port

Run = Callable[..., subprocess.CompletedProcess[str]]


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The installed console script in a process of its own, as a person or a host starts it."""
    return subprocess.run(
        [console_script(), *args],
        capture_output=True,
        text=True,
        env={**child_env(tmp_path), **env},
        timeout=60,
        check=False,
    )


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    """The console script's `main` in this process, with `run`'s environment, output and exit code:
    the same command line without the ~0.6 s a new interpreter spends importing the MCP SDK. The
    logging setup each run makes is undone after the test."""
    root = logging.getLogger()
    handlers, levels = (
        root.handlers[:],
        {name: logging.getLogger(name).level for name in ("", "httpx", "httpcore")},
    )

    def run_main(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        for name in list(os.environ):
            monkeypatch.delenv(name)
        for name, value in {**child_env(tmp_path), **env}.items():
            monkeypatch.setenv(name, value)
        stdout, stderr = io.StringIO(), io.StringIO()
        code: int | str | None = 0
        with redirect_stdout(stdout), redirect_stderr(stderr):
            try:
                main(list(args))
            except SystemExit as exc:
                code = exc.code
        assert isinstance(code, int) or code is None, code
        return subprocess.CompletedProcess(args, code or 0, stdout.getvalue(), stderr.getvalue())

    yield run_main
    root.handlers[:] = handlers
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_version_and_help(tmp_path: Path) -> None:
    version = run(tmp_path, "--version")
    assert version.returncode == 0 and version.stdout.startswith("helpdesk-mcp ")
    shown = run(tmp_path, "--help")
    assert shown.returncode == 0
    for word in ("--transport", "call", "demo", "HELPDESK_DB"):
        assert word in shown.stdout


def test_demo_then_call_finds_refund_tickets(cli: Run, tmp_path: Path) -> None:
    loaded = cli(tmp_path, "demo")
    assert loaded.returncode == 0, loaded.stderr
    assert "demo" in loaded.stdout
    found = cli(tmp_path, "call", "search_tickets", '{"query": "refund"}')
    assert found.returncode == 0, found.stderr
    result = json.loads(found.stdout)
    assert result["tickets"], "the demo data has refund tickets"
    assert all("demo" in t["tags"] for t in result["tickets"])


def test_demo_refuses_a_store_that_holds_tickets(cli: Run, tmp_path: Path) -> None:
    created = cli(tmp_path, "call", "create_ticket", '{"subject": "Real work", "body": "Keep me."}')
    assert created.returncode == 0, created.stderr
    refused = cli(tmp_path, "demo")
    assert refused.returncode != 0
    assert "already holds 1" in refused.stderr


def test_call_reports_tool_errors_on_stderr(cli: Run, tmp_path: Path) -> None:
    failed = cli(tmp_path, "call", "get_ticket", '{"ticket": "local:404"}')
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert "local:404" in failed.stderr


def test_call_rejects_arguments_that_are_not_json(cli: Run, tmp_path: Path) -> None:
    failed = cli(tmp_path, "call", "search_tickets", "{query: refund}")
    assert failed.returncode == 2
    assert "not valid JSON" in failed.stderr


def test_bad_configuration_fails_with_one_line_per_problem(cli: Run, tmp_path: Path) -> None:
    failed = cli(
        tmp_path, "call", "search_tickets", HELPDESK_TIMEOUT="soon", HELPDESK_TOOLS="search_tickets,nuke"
    )
    assert failed.returncode == 2
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 2
    assert any("HELPDESK_TIMEOUT" in line for line in lines)
    assert any("HELPDESK_TOOLS" in line and "nuke" in line for line in lines)


def test_check_reports_the_local_helpdesk_in_one_line(cli: Run, tmp_path: Path) -> None:
    checked = cli(tmp_path, "check")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.splitlines() == ["ok   local (local): listed tickets (none yet)"]


def test_check_fails_an_unreachable_backend_without_printing_its_secret(cli: Run, tmp_path: Path) -> None:
    secret = "usedesk-secret-0123456789"
    nowhere = f"http://127.0.0.1:{free_port()}"
    checked = cli(
        tmp_path,
        "check",
        HELPDESK_LOCAL="1",
        USEDESK_API_TOKEN=secret,
        USEDESK_URL=nowhere,
        HELPDESK_TIMEOUT="10",
    )
    assert checked.returncode == 1
    failed, passed = checked.stdout.splitlines()
    assert failed.startswith("FAIL usedesk (usedesk): ") and "Check its URL setting" in failed
    assert passed.startswith("ok   local (local): ")
    assert secret not in checked.stdout + checked.stderr


def test_check_reaches_a_vendor_and_names_refused_credentials(cli: Run, tmp_path: Path) -> None:
    fakes = pytest.importorskip("tests.fakes.usedesk")
    with fakes.make_fake().running() as fake:
        env = fakes.env_for(fake)
        good = cli(tmp_path, "check", **env)
        wrong = "wrong-token-0123456789"
        refused = cli(tmp_path, "check", **{**env, "USEDESK_API_TOKEN": wrong})
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.startswith("ok   usedesk (usedesk): ")
    assert refused.returncode == 1
    assert refused.stdout.startswith("FAIL usedesk (usedesk): credentials refused: ")
    assert wrong not in refused.stdout + refused.stderr and env["USEDESK_API_TOKEN"] not in refused.stdout


def test_check_refuses_a_broken_configuration_naming_the_setting(cli: Run, tmp_path: Path) -> None:
    checked = cli(tmp_path, "check", HELPDESK_CONFIRM_REPLIES="maybe")
    assert checked.returncode == 2
    [line] = checked.stderr.strip().splitlines()
    assert "HELPDESK_CONFIRM_REPLIES" in line and "maybe" in line


def test_logs_are_json_lines_on_stderr_at_the_chosen_level(tmp_path: Path) -> None:
    quiet = run(tmp_path, "call", "search_tickets")
    assert quiet.returncode == 0 and quiet.stderr == "", "WARNING, the default, says nothing on success"
    chatty = run(tmp_path, "call", "search_tickets", "--log-level", "INFO")
    lines = [json.loads(line) for line in chatty.stderr.splitlines()]
    assert all({"ts", "level", "logger", "msg"} <= set(line) for line in lines)
    [request] = [line for line in lines if line.get("method") == "tools/call"]
    assert (request["target"], request["outcome"], request["level"]) == ("search_tickets", "ok", "INFO")
    assert json.loads(chatty.stdout) == {"tickets": []}, "stdout keeps only the result"


def test_secrets_never_reach_the_log() -> None:
    formatter = JsonLinesFormatter(['s3cret-tok"en'])
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "sent %s", ('s3cret-tok"en',), None)
    record.header = 'Bearer s3cret-tok"en'
    line = formatter.format(record)
    assert "s3cret" not in line
    assert json.loads(line)["msg"] == "sent ***" and json.loads(line)["header"] == "Bearer ***"
