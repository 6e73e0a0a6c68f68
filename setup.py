"""Where the packages are: server/ and adapters/ hold `helpdesk_mcp.server` and `helpdesk_mcp.adapters`
with every package below them, found rather than listed (the rest is in pyproject.toml)."""

from setuptools import find_packages, setup

ROOTS = ("server", "adapters")

setup(
    package_dir={f"helpdesk_mcp.{root}": root for root in ROOTS},
    packages=[f"helpdesk_mcp.{name}" for name in find_packages(include=[f"{root}*" for root in ROOTS])],
)
