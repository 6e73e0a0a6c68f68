"""Faithful fakes of the vendors' HTTP APIs, served for real on 127.0.0.1.

A fake behaves like its vendor (endpoints, auth, pagination, quirks, error shapes) and asserts
nothing about our adapters; tests read what it recorded to check the exact wire format we send.
"""
