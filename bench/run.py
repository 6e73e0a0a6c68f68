"""Benchmarks: the model's context and the user's waiting, each against what a user would otherwise use.

Run from the repository root: `.venv/bin/python bench/run.py` (a few minutes; `--only tokens,startup`
runs some sections, `--write` also rewrites the results in bench/README.md). Every measurement is
side by side with its baseline in the same run on the same machine, reported with the ratio, since
absolute times on shared machines are noise. Sections:

1. tokens   get_ticket text vs the vendor's raw JSON, every seeded ticket of every vendor fake
2. startup  process start to the tools/list answer over stdio vs a bare MCPServer with one tool
3. overhead get_ticket through MCP vs a plain httpx request to the same fake vendor
4. bulk     paging 1,000 tickets, 100 a page, 50 ms per vendor request: vs the latency floor
5. load     streamable HTTP, 50 concurrent clients: throughput, errors, peak and drifting memory
6. local    result sizes and tool latency of the local helpdesk (the earlier benchmark)
7. catalogue tokens of tools/list vs GitHub's MCP server's published issue tools
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `bench` and `tests.fakes` by name

from bench import bulk, catalogue, load, local, overhead, startup, tokens
from bench.common import SUMMARY_HEADER, Section, git_revision, machine

SECTIONS = {
    "tokens": tokens.run,
    "startup": startup.run,
    "overhead": overhead.run,
    "bulk": bulk.run,
    "load": load.run,
    "local": local.run,
    "catalogue": catalogue.run,
}
README = Path(__file__).resolve().parent / "README.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def report(sections: list[Section], seconds: float, command: str) -> str:
    summary = "\n".join(row.markdown() for section in sections for row in section.rows)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        f"Run {when} at commit {git_revision()} (with the working tree's changes) by `{command}`, "
        f"{seconds:.0f} s in all.",
        f"Machine: {machine()}.",
        "### Summary\n\n" + SUMMARY_HEADER + "\n" + summary,
        *(section.markdown() for section in sections),
    ]
    return "\n\n".join(parts)


def write_readme(text: str) -> None:
    readme = README.read_text(encoding="utf-8")
    if BEGIN not in readme or END not in readme:
        readme = readme.rstrip() + f"\n\n{BEGIN}\n{END}\n"
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    README.write_text(pattern.sub(lambda _: f"{BEGIN}\n{text}\n{END}", readme), encoding="utf-8")


async def main(only: list[str], quick: bool, write: bool, command: str) -> None:
    started = time.perf_counter()
    sections = []
    for name in only:
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        began = time.perf_counter()
        sections.append(await SECTIONS[name](quick))
        print(f"[bench] {name} done in {time.perf_counter() - began:.1f} s", file=sys.stderr, flush=True)
    text = report(sections, time.perf_counter() - started, command)
    print(text)
    if write:
        write_readme(text)
        print(f"[bench] results written to {README}", file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, for a smoke run")
    parser.add_argument("--write", action="store_true", help="also rewrite the results in bench/README.md")
    options = parser.parse_args()
    chosen = [name.strip() for name in options.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; sections: {', '.join(SECTIONS)}")
    command = "bench/run.py " + " ".join(sys.argv[1:])
    anyio.run(main, chosen, options.quick, options.write, command.strip())
