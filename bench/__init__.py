"""Benchmarks of helpdesk-mcp; run them with `python bench/run.py` (see bench/README.md)."""
