"""Configuration from the environment, an optional TOML file, and command-line overrides.

Everything is validated at start. Every problem found becomes one line that names the setting, and
`ConfigError` carries them all, so a user fixes a broken setup in one pass instead of one per start.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AliasGenerator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from helpdesk_mcp.adapters.registry import BACKEND_TYPES
from helpdesk_mcp.adapters.settings import credentials

from .auth_config import OAuthSettings, load_oauth

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


def _flag(value: object) -> object:
    if not isinstance(value, str):
        return value
    word = value.strip().lower()
    if word in _TRUE | _FALSE:
        return word in _TRUE
    raise ValueError(f"expected 1 or 0 (true/false), got {value!r}")


def _seconds_up_to(most: float, *, zero: str = "") -> Callable[[object], object]:
    """Seconds as written in the environment, above 0 (or from 0 when `zero` says what 0 means)."""

    def parse(value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            seconds = float(value)
        except ValueError:
            seconds = -1.0
        if not ((seconds >= 0) if zero else (seconds > 0)) or not seconds <= most:
            raise ValueError(f"expected seconds between 0{zero} and {most:g}, got {value.strip()!r}")
        return seconds

    return parse


def _names(value: object) -> object:
    if isinstance(value, str):
        return frozenset(name.strip() for name in value.split(",") if name.strip())
    return value


def _directories(value: object) -> object:
    if not isinstance(value, str):
        return value
    dirs, missing = [], []
    for entry in filter(None, (part.strip() for part in value.split(os.pathsep))):
        path = Path(entry).expanduser()
        if path.is_dir():
            dirs.append(path.resolve())
        else:
            missing.append(f"{entry} is not an existing directory")
    if missing:
        raise ValueError("; ".join(missing))
    return tuple(dirs)


def _log_level(value: object) -> object:
    if not isinstance(value, str):
        return value
    level = value.strip().upper()
    if level not in LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}, got {level!r}")
    return level


def _confirm_replies(value: object) -> object:
    if not isinstance(value, str):
        return value
    word = value.strip().lower()
    if word in _TRUE | _FALSE:
        return "always" if word in _TRUE else "never"
    if word != "auto":
        raise ValueError(f"expected auto, 1 or 0, got {value!r}")
    return word


def _state_keys(value: object) -> object:
    if not isinstance(value, str):
        return value
    keys = [key.strip() for key in value.split(",") if key.strip()]
    if any(len(key.encode()) < MIN_STATE_KEY for key in keys):
        # The value itself is a secret: say how long it must be, never what it was.
        raise ValueError(
            f"each key must be at least {MIN_STATE_KEY} bytes; generate one with: openssl rand -hex 32"
        )
    if len(set(keys)) != len(keys):
        raise ValueError("a key is given twice; list the new key first, then the old one")
    return tuple(keys)


def _redis_url(value: object) -> object:
    if isinstance(value, str) and urlsplit(value.strip()).scheme not in {"redis", "rediss", "unix"}:
        # The URL may carry a password: say what it must look like, never what it was.
        raise ValueError("expected a redis://, rediss:// or unix:// URL")
    return value.strip() if isinstance(value, str) else value


def _a_file(path: Path | None) -> Path | None:
    if path is None:
        return None
    if path.expanduser().is_dir():
        raise ValueError(f"{path} is a directory; give the path of a file in it")
    return path.expanduser()


Flag = Annotated[bool, BeforeValidator(_flag)]


class Settings(BaseModel):
    """Server settings; each is fed by the environment variable `HELPDESK_<NAME>` unless it says otherwise."""

    model_config = ConfigDict(
        frozen=True,
        extra="ignore",
        alias_generator=AliasGenerator(validation_alias=lambda name: f"HELPDESK_{name.upper()}"),
        validate_by_name=True,
        validate_by_alias=True,
    )

    backends: tuple[BackendConfig, ...] = ()
    read_only: Flag = False
    tools: Annotated[frozenset[str] | None, BeforeValidator(_names)] = None
    """Tools offered, when not all of them."""
    allowed_dirs: Annotated[tuple[Path, ...], BeforeValidator(_directories)] = ()
    timeout: Annotated[float, BeforeValidator(_seconds_up_to(3600))] = 30.0
    http_token: SecretStr | None = None
    log_level: Annotated[LogLevel, BeforeValidator(_log_level)] = "WARNING"
    confirm_replies: Annotated[ConfirmReplies, BeforeValidator(_confirm_replies)] = "auto"
    state_keys: Annotated[tuple[SecretStr, ...], BeforeValidator(_state_keys)] = Field(
        default=(), validation_alias="HELPDESK_STATE_KEY"
    )
    """Keys that seal a confirmation in progress (2026-07-28), shared by replicas; first one seals."""
    http_read_timeout: Annotated[float, BeforeValidator(_seconds_up_to(3600))] = 10.0
    """Seconds an HTTP client has to send a request's headers, and then again its body."""
    duplicate_window: Annotated[float, BeforeValidator(_seconds_up_to(86400, zero=" (off)"))] = 600.0
    """Seconds in which an identical write without an idempotency key is answered, not sent again."""
    redis_url: Annotated[SecretStr | None, BeforeValidator(_redis_url)] = None
    """Redis that replicas share the write ledger and the vendors' request budgets through."""
    ledger_db: Annotated[Path | None, AfterValidator(_a_file)] = None
    """SQLite file of the write ledger without Redis; default: beside the local helpdesk's file."""
    oauth: OAuthSettings | None = None
    """HTTP sign-in, from the HELPDESK_OAUTH_* variables (see auth_config)."""

    @field_validator("tools")
    @classmethod
    def _known_tools(cls, names: frozenset[str] | None, info: ValidationInfo) -> frozenset[str] | None:
        known: Collection[str] = (info.context or {}).get("known_tools", ())
        unknown = sorted(names - set(known)) if names is not None and info.context else []
        if unknown:
            raise ValueError(f"unknown tool(s) {', '.join(unknown)}; tools: {', '.join(known)}")
        return names

    def secrets(self) -> list[str]:
        """Every secret value configured, so that logs and reports can keep them out."""
        found = [self.http_token] if self.http_token else []
        found += self.state_keys
        found += [self.redis_url] if self.redis_url else []
        found += [self.oauth.client_secret] if self.oauth and self.oauth.client_secret else []
        return [
            *(secret.get_secret_value() for secret in found),
            *(value for backend in self.backends for value in credentials(backend.settings)),
        ]


SETTING_VARIABLES = {
    str(field.validation_alias): name
    for name, field in Settings.model_fields.items()
    if name not in {"backends", "oauth"}
}
"""Environment variable -> the server setting it feeds."""


def load_settings(
    env: Mapping[str, str],
    *,
    known_tools: Collection[str],
    overrides: Mapping[str, str | None] | None = None,
) -> Settings:
    """Build settings from `env` (`HELPDESK_*` and vendor variables) with `overrides` winning.

    `overrides` uses the environment variable names too, so a CLI flag and its variable are one
    setting with one validation and one error text. An empty variable is an unset one.
    """
    merged = {**env, **{k: v for k, v in (overrides or {}).items() if v is not None}}
    problems: list[str] = []
    backends = _load_backends(merged, problems)
    oauth = load_oauth(merged, problems)
    given = {name: value for name, value in merged.items() if name in SETTING_VARIABLES and value.strip()}
    try:
        settings = Settings.model_validate(
            {**given, "backends": backends, "oauth": oauth}, context={"known_tools": tuple(known_tools)}
        )
    except ValidationError as exc:
        problems += _problem_lines(exc, lambda setting: setting)
        raise ConfigError(problems) from None
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

    local_forced = _local_forced(env, problems)
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
        env = backend_type.env if origin == "environment" else {}
        problems += _problem_lines(exc, lambda setting: env.get(setting) or f"{origin} {setting}")
        return None
    return BackendConfig(name=name, type=type_name, settings=settings)


def _local_forced(env: Mapping[str, str], problems: list[str]) -> bool:
    try:
        return bool(_flag(env.get("HELPDESK_LOCAL", "")))
    except ValueError as exc:
        problems.append(f"HELPDESK_LOCAL: {exc}")
        return False


def _problem_lines(exc: ValidationError, label: Callable[[str], str]) -> list[str]:
    """One line per problem, naming the setting as `label` words it."""
    lines = []
    for error in exc.errors():
        setting = ".".join(str(part) for part in error["loc"])
        # A validator's own sentence, without pydantic's "Value error, " in front of it.
        message = error["ctx"]["error"] if error["type"] == "value_error" else error["msg"]
        lines.append(f"{label(setting)}: {message}")
    return lines
