"""Configuration as users write it: environment, TOML with ${VAR}, and the errors they get."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpdesk_mcp.adapters.local.settings import LocalSettings
from helpdesk_mcp.server.config import ConfigError, load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES


def load(env: dict[str, str], **overrides: str | None):  # type: ignore[no-untyped-def]
    return load_settings(env, known_tools=TOOL_NAMES, overrides=overrides)


def problems(env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(env)
    return caught.value.problems


def test_nothing_configured_serves_the_local_helpdesk(tmp_path: Path) -> None:
    settings = load({"HELPDESK_DB": str(tmp_path / "x.db")})
    [backend] = settings.backends
    assert (backend.name, backend.type) == ("local", "local")
    assert isinstance(backend.settings, LocalSettings) and backend.settings.db == tmp_path / "x.db"
    assert settings.timeout == 30 and not settings.read_only and settings.tools is None


def test_default_store_lives_in_the_user_data_directory() -> None:
    [backend] = load({}).backends
    assert isinstance(backend.settings, LocalSettings)
    assert backend.settings.db.name == "helpdesk.db" and "helpdesk-mcp" in str(backend.settings.db)


def test_toml_declares_named_instances_and_reads_secrets_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "helpdesk.toml"
    config.write_text(
        '[backends.archive]\ntype = "local"\ndb = "${ARCHIVE_DB}"\n'
        '[backends.team-b]\ntype = "local"\ndb = "/tmp/b.db"\nagent_name = "Team B"\n'
    )
    settings = load({"HELPDESK_CONFIG": str(config), "ARCHIVE_DB": str(tmp_path / "archive.db")})
    names = {b.name: b for b in settings.backends}
    assert set(names) == {"archive", "team-b"}, "declared backends replace the implicit local one"
    archive = names["archive"].settings
    assert isinstance(archive, LocalSettings) and archive.db == tmp_path / "archive.db"


def test_local_stays_on_beside_declared_backends_when_asked(tmp_path: Path) -> None:
    config = tmp_path / "helpdesk.toml"
    config.write_text('[backends.archive]\ntype = "local"\ndb = "/tmp/a.db"\n')
    settings = load({"HELPDESK_CONFIG": str(config), "HELPDESK_LOCAL": "1"})
    assert {b.name for b in settings.backends} == {"archive", "local"}


def test_every_problem_is_reported_at_once_one_line_each(tmp_path: Path) -> None:
    config = tmp_path / "helpdesk.toml"
    config.write_text(
        '[backends.Bad_Name]\ntype = "local"\n'
        '[backends.zd]\ntype = "zendesk"\n'
        '[backends.x]\ntype = "local"\ndb = "${MISSING_VAR}"\ncolour = "blue"\n'
    )
    found = problems(
        {
            "HELPDESK_CONFIG": str(config),
            "HELPDESK_READ_ONLY": "maybe",
            "HELPDESK_TIMEOUT": "-3",
            "HELPDESK_LOG_LEVEL": "LOUD",
            "HELPDESK_ALLOWED_DIRS": str(tmp_path / "nope"),
        }
    )
    text = "\n".join(found)
    for expected in (
        "Bad_Name",
        "unknown type 'zendesk'",
        "MISSING_VAR",
        "colour",
        "HELPDESK_READ_ONLY",
        "HELPDESK_TIMEOUT",
        "HELPDESK_LOG_LEVEL",
        "HELPDESK_ALLOWED_DIRS",
    ):
        assert expected in text, expected
    assert all("\n" not in line for line in found)


def test_unreadable_or_broken_config_file_is_named(tmp_path: Path) -> None:
    assert "cannot read" in problems({"HELPDESK_CONFIG": str(tmp_path / "missing.toml")})[0]
    broken = tmp_path / "broken.toml"
    broken.write_text("[backends.x\n")
    assert "not valid TOML" in problems({"HELPDESK_CONFIG": str(broken)})[0]


def test_flags_override_the_environment(tmp_path: Path) -> None:
    settings = load({"HELPDESK_TIMEOUT": "5"}, HELPDESK_TIMEOUT="12", HELPDESK_READ_ONLY="1")
    assert settings.timeout == 12 and settings.read_only


def test_http_token_is_a_secret_and_never_printed() -> None:
    settings = load({"HELPDESK_HTTP_TOKEN": "s3cr3t-value"})
    assert settings.http_token is not None
    assert settings.http_token.get_secret_value() == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(settings) and "s3cr3t-value" not in str(settings)


def test_allowed_dirs_are_resolved(tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    settings = load({"HELPDESK_ALLOWED_DIRS": str(tmp_path / "files" / ".." / "files")})
    assert settings.allowed_dirs == ((tmp_path / "files").resolve(),)


def test_a_directory_is_not_a_database(tmp_path: Path) -> None:
    [problem] = problems({"HELPDESK_DB": str(tmp_path)})
    assert (
        problem
        == f"HELPDESK_DB: {tmp_path} is a directory; give the path of a file, such as {tmp_path}/helpdesk.db"
    )


@pytest.mark.parametrize(
    ("value", "mode"),
    [("", "auto"), ("auto", "auto"), ("1", "always"), ("yes", "always"), ("0", "never"), ("off", "never")],
)
def test_confirmation_of_customer_visible_messages_is_configurable(
    value: str, mode: str, tmp_path: Path
) -> None:
    env = {"HELPDESK_DB": str(tmp_path / "x.db"), "HELPDESK_CONFIRM_REPLIES": value}
    assert load(env).confirm_replies == mode
    assert load(env, HELPDESK_CONFIRM_REPLIES="0").confirm_replies == "never", "the flag wins"


def test_state_keys_are_long_secrets_named_without_their_value(tmp_path: Path) -> None:
    short = "too-short-a-key"
    [problem] = problems({"HELPDESK_DB": str(tmp_path / "x.db"), "HELPDESK_STATE_KEY": short})
    assert problem.startswith("HELPDESK_STATE_KEY:") and "32 bytes" in problem and short not in problem
    new, old = "n" * 32, "o" * 40
    settings = load({"HELPDESK_DB": str(tmp_path / "x.db"), "HELPDESK_STATE_KEY": f"{new}, {old}"})
    assert [key.get_secret_value() for key in settings.state_keys] == [new, old]
    assert {new, old} <= set(settings.secrets()), "kept out of logs and reports like every secret"
