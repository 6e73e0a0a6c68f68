"""The embedded local helpdesk: a small real helpdesk in one SQLite file, with demo data to try."""

from .adapter import LocalAdapter
from .demo import load_demo

__all__ = ["LocalAdapter", "load_demo"]
