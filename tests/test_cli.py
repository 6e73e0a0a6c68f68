"""The command line as a person or a script uses it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import child_env, console_script


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [console_script(), *args],
        capture_output=True,
        text=True,
        env={**child_env(tmp_path), **env},
        timeout=60,
        check=False,
    )


def test_version_and_help(tmp_path: Path) -> None:
    version = run(tmp_path, "--version")
    assert version.returncode == 0 and version.stdout.startswith("helpdesk-mcp ")
    shown = run(tmp_path, "--help")
    assert shown.returncode == 0
    for word in ("--transport", "call", "demo", "HELPDESK_DB"):
        assert word in shown.stdout


def test_demo_then_call_finds_refund_tickets(tmp_path: Path) -> None:
    loaded = run(tmp_path, "demo")
    assert loaded.returncode == 0, loaded.stderr
    assert "demo" in loaded.stdout
    found = run(tmp_path, "call", "search_tickets", '{"query": "refund"}')
    assert found.returncode == 0, found.stderr
    result = json.loads(found.stdout)
    assert result["tickets"], "the demo data has refund tickets"
    assert all("demo" in t["tags"] for t in result["tickets"])


def test_demo_refuses_a_store_that_holds_tickets(tmp_path: Path) -> None:
    created = run(tmp_path, "call", "create_ticket", '{"subject": "Real work", "body": "Keep me."}')
    assert created.returncode == 0, created.stderr
    refused = run(tmp_path, "demo")
    assert refused.returncode != 0
    assert "already holds 1" in refused.stderr


def test_call_reports_tool_errors_on_stderr(tmp_path: Path) -> None:
    failed = run(tmp_path, "call", "get_ticket", '{"ticket": "local:404"}')
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert "local:404" in failed.stderr


def test_call_rejects_arguments_that_are_not_json(tmp_path: Path) -> None:
    failed = run(tmp_path, "call", "search_tickets", "{query: refund}")
    assert failed.returncode == 2
    assert "not valid JSON" in failed.stderr


def test_bad_configuration_fails_with_one_line_per_problem(tmp_path: Path) -> None:
    failed = run(
        tmp_path, "call", "search_tickets", HELPDESK_TIMEOUT="soon", HELPDESK_TOOLS="search_tickets,nuke"
    )
    assert failed.returncode == 2
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 2
    assert any("HELPDESK_TIMEOUT" in line for line in lines)
    assert any("HELPDESK_TOOLS" in line and "nuke" in line for line in lines)
