"""Configuration from the environment, an optional TOML file, and command-line overrides.

Everything is validated at start. Every problem found becomes one line that names the setting, and
`ConfigError` carries them all, so a user fixes a broken setup in one pass instead of one per start.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr, ValidationError

from helpdesk_mcp.adapters.registry import BACKEND_TYPES
from helpdesk_mcp.adapters.settings import credentials

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
LOG_LEVELS: tuple[LogLevel, ...] = ("DEBUG", "INFO", "WARNING", "ERROR")
ConfirmReplies = Literal["auto", "always", "never"]
"""Whether a human confirms customer-visible messages: where the host can ask, always, or never."""
BACKEND_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
MIN_STATE_KEY = 32  # bytes; AES-256 keys are derived from it
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class BackendConfig:
    name: str
    type: str
    settings: BaseModel


@dataclass(frozen=True)
class Settings:
    backends: tuple[BackendConfig, ...]
    read_only: bool = False
    tools: frozenset[str] | None = None
    allowed_dirs: tuple[Path, ...] = ()
    timeout: float = 30.0
    http_token: SecretStr | None = None
    log_level: LogLevel = "WARNING"
    confirm_replies: ConfirmReplies = "auto"
    state_keys: tuple[SecretStr, ...] = ()
    """Keys that seal a confirmation in progress (2026-07-28), shared by replicas; first one seals."""
    http_read_timeout: float = 10.0
    """Seconds an HTTP client has to send a request's headers, and then again its body."""
    duplicate_window: float = 600.0
    """Seconds in which an identical write without an idempotency key is answered, not sent again."""
    redis_url: SecretStr | None = None
    """Redis that replicas share the write ledger and the vendors' request budgets through."""
    ledger_db: Path | None = None
    """SQLite file of the write ledger without Redis; default: beside the local helpdesk's file."""

    def secrets(self) -> list[str]:
        """Every secret value configured, so that logs and reports can keep them out."""
        found = [self.http_token] if self.http_token else []
        found += self.state_keys
        found += [self.redis_url] if self.redis_url else []
        return [
            *(secret.get_secret_value() for secret in found),
            *(value for backend in self.backends for value in credentials(backend.settings)),
        ]


def load_settings(
    env: Mapping[str, str],
    *,
    known_tools: Collection[str],
    overrides: Mapping[str, str | None] | None = None,
) -> Settings:
    """Build settings from `env` (`HELPDESK_*` and vendor variables) with `overrides` winning.

    `overrides` uses the environment variable names too, so a CLI flag and its variable are one
    setting with one validation and one error text.
    """
    merged = {**env, **{k: v for k, v in (overrides or {}).items() if v is not None}}
    problems: list[str] = []
    backends = _load_backends(merged, problems)
    settings = Settings(
        backends=backends,
        read_only=_flag(merged, "HELPDESK_READ_ONLY", problems),
        tools=_tool_list(merged, known_tools, problems),
        allowed_dirs=_allowed_dirs(merged, problems),
        timeout=_seconds(merged, "HELPDESK_TIMEOUT", Settings.timeout, problems),
        http_read_timeout=_seconds(
            merged, "HELPDESK_HTTP_READ_TIMEOUT", Settings.http_read_timeout, problems
        ),
        http_token=_secret(merged, "HELPDESK_HTTP_TOKEN"),
        log_level=_log_level(merged, problems),
        confirm_replies=_confirm_replies(merged, problems),
        state_keys=_state_keys(merged, problems),
        duplicate_window=_duplicate_window(merged, problems),
        redis_url=_redis_url(merged, problems),
        ledger_db=_ledger_db(merged, problems),
    )
    if problems:
        raise ConfigError(problems)
    return settings


def _load_backends(env: Mapping[str, str], problems: list[str]) -> tuple[BackendConfig, ...]:
    declared: dict[str, tuple[str, dict[str, Any], str]] = {}
    config_path = env.get("HELPDESK_CONFIG")
    if config_path:
        for name, (type_name, raw, origin) in _read_config_file(Path(config_path), env, problems).items():
            declared[name] = (type_name, raw, origin)

    for backend_type in BACKEND_TYPES.values():
        enabled = backend_type.enabled_by and any(env.get(var) for var in backend_type.enabled_by)
        if enabled and backend_type.name not in declared:
            raw = {key: env[var] for key, var in backend_type.env.items() if env.get(var)}
            declared[backend_type.name] = (backend_type.name, raw, "environment")

    local_forced = _flag(env, "HELPDESK_LOCAL", problems)
    if (not declared or local_forced) and "local" not in declared:
        local = BACKEND_TYPES["local"]
        raw = {key: env[var] for key, var in local.env.items() if env.get(var)}
        declared["local"] = ("local", raw, "environment")

    backends = []
    for name, (type_name, raw, origin) in declared.items():
        backend = _validate_backend(name, type_name, raw, origin, problems)
        if backend is not None:
            backends.append(backend)
    return tuple(backends)


def _read_config_file(
    path: Path, env: Mapping[str, str], problems: list[str]
) -> dict[str, tuple[str, dict[str, Any], str]]:
    try:
        document = tomllib.loads(path.expanduser().read_text(encoding="utf-8"))
    except OSError as exc:
        problems.append(f"HELPDESK_CONFIG: cannot read {path}: {exc.strerror or exc}")
        return {}
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"HELPDESK_CONFIG: {path} is not valid TOML: {exc}")
        return {}
    tables = document.get("backends", {})
    if not isinstance(tables, dict):
        problems.append(f"HELPDESK_CONFIG: in {path}, `backends` must be a table of [backends.NAME] tables")
        return {}
    declared: dict[str, tuple[str, dict[str, Any], str]] = {}
    for name, table in tables.items():
        where = f"{path} [backends.{name}]"
        if not isinstance(table, dict):
            problems.append(f"{where}: must be a table with at least `type = ...`")
            continue
        raw = {key: _expand(value, env, f"{where} {key}", problems) for key, value in table.items()}
        type_name = raw.pop("type", None)
        if not isinstance(type_name, str):
            problems.append(f"{where}: `type` is missing; one of: {', '.join(BACKEND_TYPES)}")
            continue
        declared[name] = (type_name, raw, where)
    return declared


def _expand(value: Any, env: Mapping[str, str], where: str, problems: list[str]) -> Any:
    """Replace `${VAR}` with the variable's value, so the file itself need not hold secrets."""
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        variable = match.group(1)
        if variable not in env:
            problems.append(f"{where}: refers to ${{{variable}}}, which is not set in the environment")
            return ""
        return env[variable]

    return _ENV_REFERENCE.sub(substitute, value)


def _validate_backend(
    name: str, type_name: str, raw: dict[str, Any], origin: str, problems: list[str]
) -> BackendConfig | None:
    if not BACKEND_NAME.match(name):
        problems.append(
            f"{origin}: backend name {name!r} must be lowercase letters, digits, '-' or '_', "
            "starting with a letter (it becomes the prefix of ticket refs)"
        )
        return None
    backend_type = BACKEND_TYPES.get(type_name)
    if backend_type is None:
        problems.append(f"{origin}: unknown type {type_name!r}; available here: {', '.join(BACKEND_TYPES)}")
        return None
    try:
        settings = backend_type.settings.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            setting = ".".join(str(part) for part in error["loc"])
            variable = backend_type.env.get(setting) if origin == "environment" else None
            label = variable or f"{origin} {setting}"
            # A validator's own sentence, without pydantic's "Value error, " in front of it.
            message = error["ctx"]["error"] if error["type"] == "value_error" else error["msg"]
            problems.append(f"{label}: {message}")
        return None
    return BackendConfig(name=name, type=type_name, settings=settings)


def _flag(env: Mapping[str, str], variable: str, problems: list[str]) -> bool:
    value = env.get(variable, "").strip().lower()
    if value in _TRUE:
        return True
    if value not in _FALSE:
        problems.append(f"{variable}: expected 1 or 0 (true/false), got {env[variable]!r}")
    return False


def _tool_list(env: Mapping[str, str], known: Collection[str], problems: list[str]) -> frozenset[str] | None:
    value = env.get("HELPDESK_TOOLS", "").strip()
    if not value:
        return None
    names = frozenset(name.strip() for name in value.split(",") if name.strip())
    unknown = sorted(names - set(known))
    if unknown:
        problems.append(f"HELPDESK_TOOLS: unknown tool(s) {', '.join(unknown)}; tools: {', '.join(known)}")
    return names


def _allowed_dirs(env: Mapping[str, str], problems: list[str]) -> tuple[Path, ...]:
    value = env.get("HELPDESK_ALLOWED_DIRS", "")
    dirs = []
    for entry in filter(None, (part.strip() for part in value.split(os.pathsep))):
        path = Path(entry).expanduser()
        if not path.is_dir():
            problems.append(f"HELPDESK_ALLOWED_DIRS: {entry} is not an existing directory")
            continue
        dirs.append(path.resolve())
    return tuple(dirs)


def _seconds(env: Mapping[str, str], variable: str, default: float, problems: list[str]) -> float:
    value = env.get(variable, "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 3600:
        problems.append(f"{variable}: expected seconds between 0 and 3600, got {value!r}")
        return default
    return seconds


def _secret(env: Mapping[str, str], variable: str) -> SecretStr | None:
    value = env.get(variable, "")
    return SecretStr(value) if value else None


def _log_level(env: Mapping[str, str], problems: list[str]) -> LogLevel:
    value = env.get("HELPDESK_LOG_LEVEL", "").strip().upper()
    if not value:
        return Settings.log_level
    for level in LOG_LEVELS:
        if level == value:
            return level
    problems.append(f"HELPDESK_LOG_LEVEL: expected one of {', '.join(LOG_LEVELS)}, got {value!r}")
    return Settings.log_level


def _confirm_replies(env: Mapping[str, str], problems: list[str]) -> ConfirmReplies:
    value = env.get("HELPDESK_CONFIRM_REPLIES", "").strip().lower()
    if value in {"", "auto"}:
        return "auto"
    if value in _TRUE:
        return "always"
    if value in _FALSE:
        return "never"
    problems.append(
        f"HELPDESK_CONFIRM_REPLIES: expected auto, 1 or 0, got {env['HELPDESK_CONFIRM_REPLIES']!r}"
    )
    return "auto"


def _state_keys(env: Mapping[str, str], problems: list[str]) -> tuple[SecretStr, ...]:
    keys = [key.strip() for key in env.get("HELPDESK_STATE_KEY", "").split(",") if key.strip()]
    if any(len(key.encode()) < MIN_STATE_KEY for key in keys):
        # The value itself is a secret: say how long it must be, never what it was.
        problems.append(
            f"HELPDESK_STATE_KEY: each key must be at least {MIN_STATE_KEY} bytes; "
            "generate one with: openssl rand -hex 32"
        )
        return ()
    if len(set(keys)) != len(keys):
        problems.append("HELPDESK_STATE_KEY: a key is given twice; list the new key first, then the old one")
        return ()
    return tuple(SecretStr(key) for key in keys)


def _duplicate_window(env: Mapping[str, str], problems: list[str]) -> float:
    value = env.get("HELPDESK_DUPLICATE_WINDOW", "").strip()
    if not value:
        return Settings.duplicate_window
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 86400:
        problems.append(
            f"HELPDESK_DUPLICATE_WINDOW: expected seconds between 0 (off) and 86400, got {value!r}"
        )
        return Settings.duplicate_window
    return seconds


def _redis_url(env: Mapping[str, str], problems: list[str]) -> SecretStr | None:
    value = env.get("HELPDESK_REDIS_URL", "").strip()
    if not value:
        return None
    if urlsplit(value).scheme not in {"redis", "rediss", "unix"}:
        # The URL may carry a password: say what it must look like, never what it was.
        problems.append("HELPDESK_REDIS_URL: expected a redis://, rediss:// or unix:// URL")
        return None
    return SecretStr(value)


def _ledger_db(env: Mapping[str, str], problems: list[str]) -> Path | None:
    value = env.get("HELPDESK_LEDGER_DB", "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if path.is_dir():
        problems.append(f"HELPDESK_LEDGER_DB: {value} is a directory; give the path of a file in it")
        return None
    return path
