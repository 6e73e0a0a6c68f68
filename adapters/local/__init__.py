"""The embedded local helpdesk: a small real helpdesk in one SQLite file, with demo data to try."""
