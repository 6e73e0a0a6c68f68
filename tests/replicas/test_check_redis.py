"""`helpdesk-mcp check` says whether the Redis that replicas share is reachable, in one line."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import child_env, console_script, free_port


def check(tmp_path: Path, redis_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [console_script(), "check"],
        capture_output=True,
        text=True,
        env={**child_env(tmp_path), "HELPDESK_REDIS_URL": redis_url},
        timeout=60,
        check=False,
    )


def test_check_reports_a_reachable_redis(tmp_path: Path, redis_url: str) -> None:
    checked = check(tmp_path, redis_url)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.splitlines()[-1].startswith("ok   redis (HELPDESK_REDIS_URL): reachable")


def test_check_reports_an_unreachable_redis_without_its_password(tmp_path: Path) -> None:
    checked = check(tmp_path, f"redis://:hunter2-secret@127.0.0.1:{free_port()}/0")
    assert checked.returncode == 1
    line = checked.stdout.splitlines()[-1]
    assert line.startswith("FAIL redis (HELPDESK_REDIS_URL): unreachable"), checked.stdout
    assert "hunter2-secret" not in checked.stdout + checked.stderr
