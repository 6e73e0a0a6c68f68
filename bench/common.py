"""What every benchmark shares: the vendor fakes, settings without rate limits, statistics, results.

The fakes come from tests/fakes (real HTTP servers on 127.0.0.1). Their modules are found by name,
so a vendor whose fake has not landed yet is reported as missing instead of failing the whole run.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # tests.fakes lives in the repository, not in the installed package
    sys.path.insert(0, str(ROOT))

from helpdesk_mcp.server.config import Settings, load_settings  # noqa: E402
from helpdesk_mcp.server.tools import TOOL_NAMES  # noqa: E402

VENDORS: dict[str, dict[str, Any]] = {
    "thulium": {},
    "plusofon": {},
    "usedesk": {},
    "osticket": {"extension": True},
}
"""Vendor fake module (tests/fakes/<name>.py) -> options of `make_fake` for the benchmarks."""

UNLIMITED = {"requests_per_second": 1e6, "max_concurrency": 64}
"""HTTP-layer settings that take our own throttle out of a measurement that is not about it."""


def fake_module(vendor: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"tests.fakes.{vendor}")
    except ImportError:
        return None


def available_vendors() -> list[str]:
    return [vendor for vendor in VENDORS if fake_module(vendor) is not None]


@contextmanager
def running_fake(vendor: str, **options: Any) -> Iterator[tuple[Any, ModuleType]]:
    """The vendor's fake, started on 127.0.0.1, with its module (for `env_for` and `ROUTES`)."""
    module = fake_module(vendor)
    assert module is not None, f"tests/fakes/{vendor}.py is missing"
    extra = {**VENDORS[vendor], **options}
    if vendor == "usedesk":  # the fake enforces UseDesk's 150 requests a minute unless told otherwise
        extra.setdefault("rate_limit", 10**9)
        extra.setdefault("query_limit", 10**9)
    with module.make_fake(**extra).running() as fake:
        yield fake, module


def seeded_ids(fake: Any) -> list[str]:
    """The vendor ids of every ticket the fake was seeded with (osTicket names tickets by number)."""
    tickets = fake.tickets
    if isinstance(tickets, Mapping):
        return [str(key) for key in tickets]
    return [str(ticket.number) for ticket in tickets]


def settings_for(env: Mapping[str, str], **http: float) -> Settings:
    """Settings as the server builds them from `env`, with HTTP-layer knobs of every backend replaced."""
    settings = load_settings(env, known_tools=TOOL_NAMES)
    if not http:
        return settings
    backends = tuple(
        dataclasses.replace(backend, settings=backend.settings.model_copy(update=dict(http)))
        if "requests_per_second" in type(backend.settings).model_fields
        else backend
        for backend in settings.backends
    )
    return settings.model_copy(update={"backends": backends})


def median(samples: Iterable[float]) -> float:
    return statistics.median(list(samples))


def quantile(samples: Iterable[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Row:
    """One line of the summary table: ours against the baseline, and the target it is held to."""

    measure: str
    ours: str
    baseline: str
    ratio: float | None
    target: str
    met: bool | None
    """None: reported, not a target."""

    def markdown(self) -> str:
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}"
        met = {True: "met", False: "**not met**", None: "(reported)"}[self.met]
        return f"| {self.measure} | {self.ours} | {self.baseline} | {ratio} | {self.target} | {met} |"


@dataclass
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    """Markdown paragraphs and tables below the summary."""

    def markdown(self) -> str:
        return f"### {self.title}\n\n" + "\n\n".join(self.details)


SUMMARY_HEADER = "| measure | ours | baseline | ratio | target | |\n|---|---|---|---|---|---|"


def table(header: list[str], rows: Iterable[Iterable[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    """One line about the machine and the software the numbers were taken with."""
    from importlib.metadata import version

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages / 2**30:.0f} GiB"
    except (ValueError, OSError, AttributeError):
        pass
    packages = ", ".join(
        f"{name} {version(name)}" for name in ("mcp", "httpx", "pydantic", "uvicorn", "bpe-openai")
    )
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}){memory}; "
        f"Python {platform.python_version()}; {packages}"
    )


def git_revision() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return done.stdout.strip()


def unthrottled_env(env: Mapping[str, str], directory: Path) -> dict[str, str]:
    """`env` for a server process, with our request-rate throttle lifted for its one vendor backend.

    A child process reads its own settings, so the knobs go in a TOML file: the vendor's own file
    with them added to its (single) backend table, or a file that declares the backend from the
    vendor's variables (`"${VAR}"`), which the server prefers to the same variables alone.
    """
    from helpdesk_mcp.adapters.registry import BACKEND_TYPES

    settings = settings_for(env)
    backend = settings.backends[0]
    knobs = "\n".join(f"{key} = {value:g}" for key, value in UNLIMITED.items())
    config = env.get("HELPDESK_CONFIG")
    if config:
        text = Path(config).read_text(encoding="utf-8")
    else:
        variables = BACKEND_TYPES[backend.type].env
        lines = [
            f'{setting} = "${{{variable}}}"' for setting, variable in variables.items() if variable in env
        ]
        text = "\n".join([f"[backends.{backend.name}]", f'type = "{backend.type}"', *lines])
    path = directory / f"unthrottled-{backend.name}.toml"
    path.write_text(text.rstrip() + "\n" + knobs + "\n", encoding="utf-8")
    return {**env, "HELPDESK_CONFIG": str(path)}
