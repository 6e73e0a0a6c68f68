"""The UseDesk adapter: the vendor's HTTP API mapped onto the normalized model."""
