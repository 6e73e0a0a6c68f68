"""Limits that hold for every backend, on the way in and on the way out."""

from __future__ import annotations

MAX_FILE_BYTES = 20 * 1024 * 1024
"""The largest file accepted from an agent or downloaded from a vendor: 20 MiB."""
